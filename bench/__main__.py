"""
`make bench`: serve the site with gunicorn and the production settings, then measure pages.

A throwaway SQLite database (or DATABASE_URL) is migrated and loaded with the demo content. Each
page is requested by several concurrent clients over keep-alive connections; the report gives
requests per second, median and 95th-percentile latency, and the page's database query count.
Numbers from a shared machine are noisy: compare the figures of one run with each other.
"""

import argparse
import http.client
import json
import os
import secrets
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent
PYTHON = sys.executable
DEFAULT_PATHS = ["/", "/articles/", "/articles/alopecia-areata-and-leaky-gut/", "/about/", "/search/?q=gut"]

QUERY_COUNT_SCRIPT = """
import json, sys
import django
django.setup()
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
client = Client()
counts = {}
for path in sys.argv[1:]:
    client.get(path)  # warm caches that a running server would already have
    with CaptureQueriesContext(connection) as queries:
        status = client.get(path).status_code
    counts[path] = {"status": status, "queries": len(queries)}
print(json.dumps(counts))
"""


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def run(args, env):
    subprocess.run(args, cwd=BASE_DIR, env=env, check=True, stdout=subprocess.DEVNULL)


def prepare(workdir, extra_paths_command):
    env = {key: value for key, value in os.environ.items() if not key.startswith("DJANGO_")}
    env.update(
        DJANGO_SETTINGS_MODULE="practice.settings.production",
        DJANGO_SECRET_KEY=secrets.token_urlsafe(50),
        DJANGO_ALLOWED_HOSTS="127.0.0.1,localhost,testserver",
        DJANGO_SECURE_SSL_REDIRECT="false",
        DJANGO_STATIC_ROOT=str(workdir / "static"),
        DJANGO_MEDIA_ROOT=str(workdir / "media"),
        DJANGO_LOG_LEVEL="WARNING",
    )
    env.setdefault("DATABASE_URL", f"sqlite:///{workdir / 'bench.sqlite3'}")
    print(f"Preparing: migrate, demo content, collectstatic on {env['DATABASE_URL'].split('@')[-1]}", flush=True)
    run([PYTHON, "manage.py", "migrate", "--noinput"], env)
    run([PYTHON, "manage.py", "load_demo_content"], env)
    run([PYTHON, "manage.py", "collectstatic", "--noinput"], env)
    return env


def query_counts(env, paths):
    result = subprocess.run(
        [PYTHON, "-c", QUERY_COUNT_SCRIPT, *paths], cwd=BASE_DIR, env=env, check=True, capture_output=True, text=True
    )
    return json.loads(result.stdout.strip().splitlines()[-1])


def start_gunicorn(env, port, workers):
    process = subprocess.Popen(
        [
            PYTHON,
            "-m",
            "gunicorn",
            "practice.wsgi:application",
            "--bind",
            f"127.0.0.1:{port}",
            "--workers",
            str(workers),
            "--log-level",
            "warning",
        ],
        cwd=BASE_DIR,
        env=env,
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
            connection.request("GET", "/healthz")
            if connection.getresponse().status == 200:
                return process
        except OSError:
            time.sleep(0.2)
    process.terminate()
    raise SystemExit("gunicorn did not start")


def load(port, path, *, requests, concurrency):
    """Send `requests` GETs of `path` from `concurrency` keep-alive clients; return latencies and wall time."""
    latencies = []
    errors = []
    lock = threading.Lock()
    per_client = [requests // concurrency + (1 if i < requests % concurrency else 0) for i in range(concurrency)]

    def client(count):
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        mine = []
        for _ in range(count):
            started = time.perf_counter()
            connection.request("GET", path)
            response = connection.getresponse()
            response.read()
            mine.append(time.perf_counter() - started)
            if response.status != 200:
                errors.append(response.status)
        connection.close()
        with lock:
            latencies.extend(mine)

    threads = [threading.Thread(target=client, args=(count,)) for count in per_client]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return latencies, time.perf_counter() - started, errors


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--requests", type=int, default=400, help="requests per page (default 400)")
    parser.add_argument("--concurrency", type=int, default=8, help="concurrent clients (default 8)")
    parser.add_argument("--workers", type=int, default=2, help="gunicorn worker processes (default 2)")
    parser.add_argument("paths", nargs="*", default=DEFAULT_PATHS, help="pages to measure")
    options = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="practice-bench-") as tmp:
        env = prepare(Path(tmp), None)
        counts = query_counts(env, options.paths)
        port = free_port()
        server = start_gunicorn(env, port, options.workers)
        try:
            rows = []
            for path in options.paths:
                load(port, path, requests=max(20, options.requests // 10), concurrency=options.concurrency)
                latencies, elapsed, errors = load(
                    port, path, requests=options.requests, concurrency=options.concurrency
                )
                latencies.sort()
                rows.append(
                    {
                        "path": path,
                        "status": counts[path]["status"],
                        "queries": counts[path]["queries"],
                        "rps": len(latencies) / elapsed,
                        "median_ms": statistics.median(latencies) * 1000,
                        "p95_ms": latencies[int(len(latencies) * 0.95) - 1] * 1000,
                        "errors": len(errors),
                    }
                )
        finally:
            server.terminate()
            server.wait(timeout=30)

    print()
    print(
        f"gunicorn, production settings, {options.workers} workers; "
        f"{options.requests} requests per page from {options.concurrency} keep-alive clients"
    )
    print(f"{'page':<44} {'status':>6} {'queries':>7} {'req/s':>8} {'median ms':>10} {'p95 ms':>8} {'errors':>6}")
    for row in rows:
        print(
            f"{row['path']:<44} {row['status']:>6} {row['queries']:>7} {row['rps']:>8.1f} "
            f"{row['median_ms']:>10.1f} {row['p95_ms']:>8.1f} {row['errors']:>6}"
        )
    results = BASE_DIR / "bench-results"
    results.mkdir(exist_ok=True)
    (results / "pages.json").write_text(json.dumps(rows, indent=2))


if __name__ == "__main__":
    main()
