"""
What the benchmarks run against: a prepared environment (production settings, a throwaway database
with the demo content), Redis, gunicorn, and the load generator (wrk). Also the CPU accounting of
server processes read from /proc.

CPU units: /proc/<pid>/stat counts utime, stime, cutime and cstime in clock ticks (usually 100 a
second, so 10 ms resolution per process): good over a load run of thousands of requests.
/proc/<pid>/task/<tid>/schedstat counts the nanoseconds each thread spent on a CPU (user and
kernel time together): used where one request is measured on its own.
"""

import base64
import http.client
import json
import os
import secrets
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent
PYTHON = sys.executable
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")
WRK_SCRIPT = Path(__file__).resolve().parent / "wrk_report.lua"


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def public_url(url):
    """A database or cache URL without its password."""
    scheme, sep, rest = url.partition("://")
    if "@" in rest:
        credentials, _, host = rest.rpartition("@")
        user = credentials.split(":", 1)[0]
        rest = f"{user}@{host}" if user else host
    return f"{scheme}{sep}{rest}"


def prepare(workdir, *, database_url, cache_url, conn_max_age, quiet=False):
    """The environment of every server and script of a run: production settings, migrated, demo content loaded."""
    env = {key: value for key, value in os.environ.items() if not key.startswith(("DJANGO_", "FRONTEND_CACHE"))}
    env.update(
        DATABASE_URL=database_url,
        DATABASE_CONN_MAX_AGE=str(conn_max_age),
        DJANGO_SETTINGS_MODULE="practice.settings.production",
        DJANGO_SECRET_KEY=secrets.token_urlsafe(50),
        FIELD_ENCRYPTION_KEYS=base64.urlsafe_b64encode(secrets.token_bytes(32)).decode(),
        DJANGO_ALLOWED_HOSTS="127.0.0.1,localhost,testserver",
        DJANGO_SECURE_SSL_REDIRECT="false",
        DJANGO_STATIC_ROOT=str(workdir / "static"),
        DJANGO_MEDIA_ROOT=str(workdir / "media"),
        DJANGO_LOG_LEVEL="WARNING",
        ERASURE_LOG=str(workdir / "erasures.jsonl"),
        BACKUP_DIR=str(workdir / "backups"),
        BOOKING_RATE_LIMIT="1000000",  # every benchmark visitor comes from 127.0.0.1
        ENQUIRY_RATE_LIMIT="1000000",
        FAILED_SUBMISSION_RATE_LIMIT="1000000",
        BOOKING_MAX_ACTIVE_PER_ADDRESS="1000000",
        BOOKING_MAX_ACTIVE_PER_EMAIL="1000000",
    )
    if cache_url:
        env["CACHE_URL"] = cache_url
    else:
        env.pop("CACHE_URL", None)
    workdir.mkdir(parents=True, exist_ok=True)
    if not quiet:
        print(f"Preparing: migrate, demo content, collectstatic on {public_url(database_url)}", flush=True)
    for command in (["migrate", "--noinput"], ["load_demo_content"], ["collectstatic", "--noinput"]):
        subprocess.run([PYTHON, "manage.py", *command], cwd=BASE_DIR, env=env, check=True, stdout=subprocess.DEVNULL)
    return env


def probe(env, *args):
    """Run `python -m bench.probe ARGS` with the run's environment; its last line of output is JSON."""
    result = subprocess.run([PYTHON, "-m", "bench.probe", *args], cwd=BASE_DIR, env=env, capture_output=True, text=True)
    if result.returncode != 0:
        raise RuntimeError(f"bench.probe {' '.join(args)} failed:\n{result.stderr[-4000:]}")
    return json.loads(result.stdout.strip().splitlines()[-1])


class Redis:
    """A throwaway redis-server on a free port, nothing saved to disk."""

    def __init__(self, workdir):
        self.workdir = Path(workdir)
        self.port = free_port()
        self.process = None

    @property
    def url(self):
        return f"redis://127.0.0.1:{self.port}/0"

    @staticmethod
    def available():
        return shutil.which("redis-server") is not None

    def __enter__(self):
        self.workdir.mkdir(parents=True, exist_ok=True)
        self.process = subprocess.Popen(
            [
                shutil.which("redis-server"),
                "--port", str(self.port),
                "--bind", "127.0.0.1",
                "--save", "",
                "--appendonly", "no",
                "--dir", str(self.workdir),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )  # fmt: skip
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=1) as sock:
                    sock.sendall(b"PING\r\n")
                    if sock.recv(16).startswith(b"+PONG"):
                        return self
            except OSError:
                time.sleep(0.05)
        self.__exit__()
        raise RuntimeError("redis-server did not start")

    def __exit__(self, *exc_info):
        if self.process and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=10)


def gunicorn_command(app, *, port, workers, options=()):
    """The command line of gunicorn serving `app` (module:callable) on 127.0.0.1:`port` with sync workers."""
    return [
        PYTHON, "-m", "gunicorn", app,
        "--bind", f"127.0.0.1:{port}",
        "--workers", str(workers),
        "--log-level", "warning",
        *options,
    ]  # fmt: skip


class Gunicorn:
    """gunicorn with `workers` sync workers on a free port, started with the run's environment."""

    def __init__(self, env, *, workers, port=None, extra_env=None):
        self.env = {**env, **(extra_env or {})}
        self.workers = workers
        self.port = port or free_port()
        self.process = None

    def __enter__(self):
        self.process = subprocess.Popen(
            gunicorn_command("practice.wsgi:application", port=self.port, workers=self.workers),
            cwd=BASE_DIR,
            env=self.env,
        )
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError("gunicorn stopped while starting")
            try:
                status, _, _ = get(self.port, "/healthz", timeout=2)
                if status == 200 and len(self.worker_pids()) == self.workers:
                    return self
            except OSError:
                pass
            time.sleep(0.2)
        self.__exit__()
        raise RuntimeError("gunicorn did not start")

    def __exit__(self, *exc_info):
        if self.process and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()

    @property
    def pid(self):
        return self.process.pid

    def worker_pids(self):
        return child_pids(self.pid)

    def cpu_ticks(self):
        """utime+stime+cutime+cstime of the master and every worker, in clock ticks."""
        return sum(stat_ticks(pid) for pid in [self.pid, *self.worker_pids()])


def _stat_fields(pid):
    text = Path(f"/proc/{pid}/stat").read_text()
    return text[text.rindex(")") + 2 :].split()  # fields from the 3rd (state) on; the name may hold spaces


def stat_ticks(pid):
    """utime + stime + cutime + cstime (fields 14 to 17 of /proc/<pid>/stat), in clock ticks; 0 once gone."""
    try:
        fields = _stat_fields(pid)
    except (FileNotFoundError, ProcessLookupError):
        return 0
    return sum(int(value) for value in fields[11:15])


def child_pids(parent):
    children = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                if int(_stat_fields(entry)[1]) == parent:
                    children.append(int(entry))
            except (FileNotFoundError, ProcessLookupError, ValueError, IndexError):
                continue
    return sorted(children)


def runtime_ns(pid):
    """Nanoseconds on a CPU of every thread of `pid` (/proc/<pid>/task/*/schedstat, first field)."""
    total = 0
    for tid in os.listdir(f"/proc/{pid}/task"):
        try:
            total += int(Path(f"/proc/{pid}/task/{tid}/schedstat").read_text().split()[0])
        except FileNotFoundError:
            continue
    return total


def get(port, path, *, headers=None, timeout=30, host="127.0.0.1"):
    """One GET on its own connection: (status, headers as a lower-cased dict, body bytes)."""
    connection = http.client.HTTPConnection(host, port, timeout=timeout)
    try:
        connection.request("GET", path, headers=headers or {})
        response = connection.getresponse()
        body = response.read()
        return response.status, {key.lower(): value for key, value in response.getheaders()}, body
    finally:
        connection.close()


def wrk_available():
    return shutil.which("wrk") is not None


def wrk(url, *, threads, connections, duration, headers=None):
    """
    Run wrk against `url`; the Lua `done` hook of bench/wrk_report.lua prints the summary and latency
    percentiles as JSON. Returns that dict with requests per second and latencies in milliseconds.
    """
    command = ["wrk", f"-t{threads}", f"-c{connections}", f"-d{duration}s", "--timeout", "10s", "-s", str(WRK_SCRIPT)]
    for name, value in (headers or {}).items():
        command += ["-H", f"{name}: {value}"]
    result = subprocess.run([*command, url], capture_output=True, text=True, check=True)
    line = next(line for line in result.stdout.splitlines() if line.startswith("WRKJSON "))
    data = json.loads(line.removeprefix("WRKJSON "))
    seconds = data["duration_us"] / 1e6
    errors = sum(data[key] for key in ("connect_errors", "read_errors", "write_errors", "timeouts"))
    return {
        "requests": data["requests"],
        "seconds": seconds,
        "rps": data["requests"] / seconds if seconds else 0.0,
        "p50_ms": data["p50_us"] / 1000,
        "p90_ms": data["p90_us"] / 1000,
        "p99_ms": data["p99_us"] / 1000,
        "max_ms": data["max_us"] / 1000,
        "non_2xx": data["status_errors"],
        "socket_errors": errors,
        "bytes_per_request": data["bytes"] / data["requests"] if data["requests"] else 0,
    }
