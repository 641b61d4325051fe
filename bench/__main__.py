"""
`make bench`: serve the site with gunicorn and the production settings, then measure pages.

A throwaway SQLite database (or DATABASE_URL) is migrated and loaded with the demo content. Each
page is requested by several concurrent clients over keep-alive connections; the report gives
requests per second, median and 95th-percentile latency, and the page's database query count.
Numbers from a shared machine are noisy: compare the figures of one run with each other.
"""

import argparse
import base64
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


def prepare(workdir, database_url=None):
    env = {key: value for key, value in os.environ.items() if not key.startswith("DJANGO_")}
    if database_url:
        env["DATABASE_URL"] = database_url
    env.update(
        DJANGO_SETTINGS_MODULE="practice.settings.production",
        DJANGO_SECRET_KEY=secrets.token_urlsafe(50),
        FIELD_ENCRYPTION_KEYS=base64.urlsafe_b64encode(secrets.token_bytes(32)).decode(),
        DJANGO_ALLOWED_HOSTS="127.0.0.1,localhost,testserver",
        DJANGO_SECURE_SSL_REDIRECT="false",
        DJANGO_STATIC_ROOT=str(workdir / "static"),
        DJANGO_MEDIA_ROOT=str(workdir / "media"),
        DJANGO_LOG_LEVEL="WARNING",
        BOOKING_RATE_LIMIT="1000000",  # every benchmark visitor comes from 127.0.0.1
        FAILED_SUBMISSION_RATE_LIMIT="1000000",
        BOOKING_MAX_ACTIVE_PER_ADDRESS="1000000",
        BOOKING_MAX_ACTIVE_PER_EMAIL="1000000",
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

    from bench import bookings as booking_bench

    engine = booking_bench.slot_engine()

    with tempfile.TemporaryDirectory(prefix="practice-bench-") as tmp:
        env = prepare(Path(tmp))
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
    print()
    print(
        f"Slot engine: 90-day window, {engine['bookings']} existing bookings, {engine['slots']} free slots found; "
        f"median {engine['median_ms']:.1f} ms, slowest {engine['max_ms']:.1f} ms over {engine['runs']} runs"
    )
    booking = postgres_booking_latency(options)
    results = BASE_DIR / "bench-results"
    results.mkdir(exist_ok=True)
    (results / "pages.json").write_text(json.dumps(rows, indent=2))
    (results / "bookings.json").write_text(json.dumps({"slot_engine": engine, "booking_requests": booking}, indent=2))


def postgres_booking_latency(options):
    """Booking requests from 20 concurrent visitors through gunicorn, on a throwaway PostgreSQL database."""
    from bench import bookings as booking_bench

    admin_url = os.environ.get("BENCH_POSTGRES_URL", "postgres://postgres@127.0.0.1:5432/postgres")
    name = f"practice_bench_{os.getpid()}"
    try:
        import psycopg2

        admin = psycopg2.connect(admin_url)
    except Exception as error:
        print(f"Booking requests: skipped, no PostgreSQL at BENCH_POSTGRES_URL ({type(error).__name__})")
        return None
    admin.autocommit = True
    with admin.cursor() as cursor:
        cursor.execute(f"CREATE DATABASE {name}")
    database_url = admin_url.rsplit("/", 1)[0] + "/" + name
    try:
        with tempfile.TemporaryDirectory(prefix="practice-bench-pg-") as tmp:
            env = prepare(Path(tmp), database_url)
            starts = free_starts(env, count=200)
            port = free_port()
            server = start_gunicorn(env, port, options.workers)
            try:
                result = booking_bench.booking_requests(port, starts, visitors=20)
            finally:
                server.terminate()
                server.wait(timeout=30)
    finally:
        with admin.cursor() as cursor:
            cursor.execute(f"DROP DATABASE IF EXISTS {name}")
        admin.close()
    print(
        f"Booking requests on PostgreSQL: {result['requests']} requests from {result['visitors']} concurrent "
        f"visitors ({options.workers} gunicorn workers): {result['rps']:.1f} req/s, "
        f"median {result['median_ms']:.0f} ms, p95 {result['p95_ms']:.0f} ms; outcomes {result['outcomes']}"
    )
    return result


FREE_STARTS_SCRIPT = """
import datetime as dt, json, sys
import django
django.setup()
from django.utils import timezone
from bookings import selectors
from bookings.models import ConsultationType
consultation = ConsultationType.objects.get(slug="discovery-call")
now = timezone.now()
zone = selectors.practice_zone()
starts = selectors.slots_available(consultation_type=consultation, first_day=now.date(),
                                   last_day=now.date() + dt.timedelta(days=55), now=now, zone=zone)
# Every other slot: a 15-minute call blocks 20 minutes with its buffer, so neighbours never clash.
print(json.dumps([start.isoformat() for start in starts[::2][: int(sys.argv[1])]]))
"""


def free_starts(env, count):
    import datetime as dt

    result = subprocess.run(
        [PYTHON, "-c", FREE_STARTS_SCRIPT, str(count)],
        cwd=BASE_DIR,
        env=env,
        check=True,
        capture_output=True,
        text=True,
    )
    return [dt.datetime.fromisoformat(value) for value in json.loads(result.stdout.strip().splitlines()[-1])]


if __name__ == "__main__":
    main()
