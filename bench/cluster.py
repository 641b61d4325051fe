"""
`make cluster`: the two-app-server layout of deploy/two-servers.md, on this machine.

    Varnish :8080 (CLUSTER_PORT) ── round robin ──> gunicorn app1 :8081 ─┐
                                                └─> gunicorn app2 :8082 ─┼─> PostgreSQL (DATABASE_URL)
    notification worker (send_notifications --loop) ─────────────────────┼─> Redis (CACHE_URL)
                                                                         └─> S3-compatible store (moto)

Every Django process gets the same environment: production settings, one database, one Redis cache
(its own database number, never the one the tests use), uploads on the object store, and the Varnish
address to purge. Sessions live in the database and rate limits, page caches and renditions in Redis,
so a visitor may land on either app server for each request. Each app server names itself in an
`X-App-Server` response header (a Varnish hit repeats the one that made the page).

The database is PostgreSQL `practice_cluster` on 127.0.0.1 unless DATABASE_URL names another; it is
created when missing, migrated and loaded with the demo content. The secrets of the run (secret key,
encryption key) and the admin password are kept in .local/cluster/, so that a second run can still read
what the first one stored. Ports: CLUSTER_PORT (Varnish, 8080) and CLUSTER_APP_PORTS ("8081,8082").
Ctrl+C (or SIGTERM) stops Varnish, the app servers, the worker and the object store, in that order.

In a test:

    with Cluster(workdir=tmp_path, database_url="postgres://postgres@127.0.0.1:5432/x", drop_database=True) as c:
        urllib.request.urlopen(c.url + "/")            # through Varnish
        urllib.request.urlopen(c.app_urls[1] + "/")    # straight to app2
"""

import base64
import contextlib
import http.client
import json
import os
import re
import secrets
import signal
import socket
import subprocess
import sys
import time
import urllib.parse
from pathlib import Path

from bench.servers import BASE_DIR, PYTHON, gunicorn_command

DEFAULT_DATABASE_URL = "postgres://postgres@127.0.0.1:5432/practice_cluster"
# Redis database 13: .env.example uses 1 and the tests 15, so that the cluster never reads their entries.
DEFAULT_CACHE_URL = "redis://127.0.0.1:6379/13"
DEFAULT_PORT = 8080
DEFAULT_APP_PORTS = (8081, 8082)
START_TIMEOUT = 60  # seconds for an app server to answer /healthz
STOP_TIMEOUT = 15  # seconds for a process to end after SIGTERM, before SIGKILL
SERVER_HEADER = "X-App-Server"


def application(environ, start_response):
    """The site as gunicorn serves it in the cluster: practice.wsgi, plus a header naming this app server."""
    from practice.wsgi import application as site

    name = os.environ.get("CLUSTER_APP_SERVER", "")

    def start(status, headers, exc_info=None):
        return start_response(status, [*headers, (SERVER_HEADER, name)], exc_info)

    return site(environ, start)


class ClusterError(RuntimeError):
    pass


def port_is_free(port, host="127.0.0.1"):
    with socket.socket() as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, port))
        except OSError:
            return False
        return True


def free_port(host="127.0.0.1"):
    with socket.socket() as sock:
        sock.bind((host, 0))
        return sock.getsockname()[1]


def _postgres(database_url):
    """The database's name, and a URL of the `postgres` maintenance database on the same server."""
    parts = urllib.parse.urlsplit(database_url)
    if parts.scheme not in ("postgres", "postgresql", "pgsql"):
        raise ClusterError(f"The cluster needs PostgreSQL; DATABASE_URL is {parts.scheme}://…")
    name = parts.path.lstrip("/")
    if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", name):
        raise ClusterError(f"Unexpected database name {name!r}.")
    return name, urllib.parse.urlunsplit(parts._replace(path="/postgres"))


def database_create(database_url, template=None):
    """Create the database when it is missing (a copy of the database `template`, if named); True when created."""
    import psycopg2

    name, admin_url = _postgres(database_url)
    connection = psycopg2.connect(admin_url)
    connection.autocommit = True
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name])
            if cursor.fetchone():
                return False
            if template:
                _postgres(database_url.rsplit("/", 1)[0] + "/" + template)  # a plain name, like the database's
                cursor.execute(f'CREATE DATABASE "{name}" TEMPLATE "{template}"')
            else:
                cursor.execute(f'CREATE DATABASE "{name}"')
            return True
    finally:
        connection.close()


def database_drop(database_url):
    import psycopg2

    name, admin_url = _postgres(database_url)
    connection = psycopg2.connect(admin_url)
    connection.autocommit = True
    try:
        with connection.cursor() as cursor:
            cursor.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        connection.close()


def cache_clear(cache_url):
    """Empty the cluster's Redis database (only ever a throwaway one: see DEFAULT_CACHE_URL)."""
    import redis

    redis.Redis.from_url(cache_url).flushdb()


def run_secrets(path):
    """The secret key and encryption key of the cluster, made once and kept in `path` (mode 600)."""
    path = Path(path)
    if path.exists():
        return json.loads(path.read_text())
    values = {
        "DJANGO_SECRET_KEY": secrets.token_urlsafe(50),
        "FIELD_ENCRYPTION_KEYS": base64.urlsafe_b64encode(secrets.token_bytes(32)).decode(),
    }
    path.parent.mkdir(parents=True, exist_ok=True)
    path.touch(mode=0o600)
    path.write_text(json.dumps(values))
    return values


def wait_healthy(port, process, timeout=START_TIMEOUT):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            return False
        try:
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
            connection.request("GET", "/healthz", headers={"Host": "localhost"})
            status = connection.getresponse().status
            connection.close()
            if status == 200:
                return True
        except OSError:
            pass
        time.sleep(0.2)
    return False


def stop_process(process, timeout=STOP_TIMEOUT):
    """SIGTERM to the process's group (it was started in a session of its own), SIGKILL if it lingers."""
    if process is None or process.poll() is not None:
        return
    try:
        os.killpg(process.pid, signal.SIGTERM)
    except ProcessLookupError:
        return
    try:
        process.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=5)
    # Whatever the leader left behind in its group (a gunicorn worker still exiting) goes too.
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGKILL)


class Cluster:
    """
    Two gunicorn app servers, the notification worker, an S3-compatible store and Varnish, on one
    PostgreSQL database and one Redis database. A context manager; `stop()` ends every process it
    started, whatever happened during `start()`.
    """

    def __init__(
        self,
        *,
        workdir,
        database_url=None,
        cache_url=DEFAULT_CACHE_URL,
        port=None,
        app_ports=None,
        workers=2,
        worker_interval=5,
        drop_database=False,
        template_database=None,
        extra_env=None,
        log=print,
    ):
        self.workdir = Path(workdir).resolve()
        self.database_url = database_url or DEFAULT_DATABASE_URL
        self.cache_url = cache_url
        self.port = port or free_port()
        self.app_ports = list(app_ports or (free_port(), free_port()))
        self.workers = workers
        self.worker_interval = worker_interval
        self.drop_database = drop_database
        self.template_database = template_database
        self.extra_env = dict(extra_env or {})
        self.log = log
        self.env = None
        self.admin_login = ""
        self.s3 = None
        self.varnish = None
        self.app_servers = []
        self.worker = None
        self._log_files = []
        self._database_created = False

    @property
    def url(self):
        return f"http://127.0.0.1:{self.port}"

    @property
    def app_urls(self):
        return [f"http://127.0.0.1:{port}" for port in self.app_ports]

    # Starting

    def start(self):
        try:
            self._start()
        except BaseException:
            self.stop()
            raise
        return self

    def _start(self):
        from bench.s3 import S3Server
        from bench.varnish import Varnish

        busy = [port for port in [self.port, *self.app_ports] if not port_is_free(port)]
        if busy:
            ports = ", ".join(map(str, busy))
            raise ClusterError(f"Port(s) {ports} already in use: set CLUSTER_PORT or CLUSTER_APP_PORTS.")
        self.workdir.mkdir(parents=True, exist_ok=True)
        self._database_created = database_create(self.database_url, template=self.template_database)
        self.s3 = S3Server()
        # Made first, started last: the app servers need its purge address, and it needs theirs.
        self.varnish = Varnish(
            backends=[("127.0.0.1", port) for port in self.app_ports], workdir=self.workdir / "varnish", port=self.port
        )
        self.env = self._environment()
        self._prepare()
        for number, port in enumerate(self.app_ports, start=1):
            self.app_servers.append(self._start_gunicorn(f"app{number}", port))
        for name, port, process in zip(self.names, self.app_ports, self.app_servers, strict=True):
            if not wait_healthy(port, process):
                raise ClusterError(f"{name} did not answer on port {port}:\n{self.log_tail(name)}")
        self.worker = self._spawn(
            "worker", [PYTHON, "manage.py", "send_notifications", "--loop", "--interval", str(self.worker_interval)]
        )
        self.varnish.start()

    @property
    def names(self):
        return [f"app{number}" for number in range(1, len(self.app_ports) + 1)]

    def _environment(self):
        env = {key: value for key, value in os.environ.items() if not key.startswith("DJANGO_")}
        env.update(run_secrets(self.workdir / "secrets.json"))
        env.update(
            self.s3.env(),
            DJANGO_SETTINGS_MODULE="practice.settings.production",
            DJANGO_ALLOWED_HOSTS="127.0.0.1,localhost",
            # Plain HTTP on loopback: no redirect to https, and no HSTS that a browser would keep for localhost.
            DJANGO_SECURE_SSL_REDIRECT="false",
            DJANGO_SECURE_HSTS_SECONDS="0",
            DJANGO_STATIC_ROOT=str(self.workdir / "static"),
            DJANGO_MEDIA_ROOT=str(self.workdir / "media"),
            DJANGO_LOG_LEVEL="WARNING",
            # Varnish appends the address it saw to X-Forwarded-For; the rate limits read the last one.
            DJANGO_CLIENT_IP_HEADER="HTTP_X_FORWARDED_FOR",
            DATABASE_URL=self.database_url,
            DATABASE_CONN_MAX_AGE="60",
            CACHE_URL=self.cache_url,
            FRONTEND_CACHE_URLS=self.varnish.purge_url,
            WAGTAILADMIN_BASE_URL=self.url,
            EMAIL_URL=os.environ.get("EMAIL_URL", "consolemail://"),
            ADMIN_PASSWORD_FILE=str(self.workdir / "admin-password"),
            PYTHONUNBUFFERED="1",
        )
        env.update(self.extra_env)
        return env

    def manage(self, *args, capture=False):
        """A manage.py command with the cluster's environment; its output when `capture`."""
        result = subprocess.run(
            [PYTHON, "manage.py", *args],
            cwd=BASE_DIR,
            env=self.env,
            check=False,
            capture_output=True,
            text=True,
        )
        if result.returncode != 0:
            raise ClusterError(f"manage.py {' '.join(args)} failed:\n{result.stdout[-2000:]}{result.stderr[-4000:]}")
        return result.stdout if capture else None

    def _prepare(self):
        self.log(f"==> Preparing {self.database_url.rsplit('/', 1)[-1]}: migrate, demo content, static files, admin")
        # Static files do not need the database: collected while it is migrated.
        collectstatic = subprocess.Popen(
            [PYTHON, "manage.py", "collectstatic", "--noinput"],
            cwd=BASE_DIR,
            env=self.env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
        try:
            self.manage("migrate", "--noinput")
            self.manage("load_demo_content")
            found = re.search(r"Admin login: .*", self.manage("ensure_admin", capture=True))
            self.admin_login = found.group(0) if found else "the admin account exists; its password was changed since"
        finally:
            _, errors = collectstatic.communicate()
        if collectstatic.returncode != 0:
            raise ClusterError(f"manage.py collectstatic failed:\n{errors.decode(errors='replace')[-4000:]}")

    def _spawn(self, name, command, extra_env=None):
        log_file = open(self.workdir / f"{name}.log", "ab")  # noqa: SIM115 (closed in stop())
        self._log_files.append(log_file)
        # A session of its own: Ctrl+C in the terminal reaches only this process, which stops the others in order.
        return subprocess.Popen(
            command,
            cwd=BASE_DIR,
            env={**self.env, **(extra_env or {})},
            stdout=log_file,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )

    def _start_gunicorn(self, name, port):
        options = ("--graceful-timeout", "10", "--access-logfile", "-")
        command = gunicorn_command("bench.cluster:application", port=port, workers=self.workers, options=options)
        return self._spawn(name, command, {"CLUSTER_APP_SERVER": name})

    def log_tail(self, name, size=4000):
        path = self.workdir / f"{name}.log"
        return path.read_text(errors="replace")[-size:] if path.exists() else ""

    # Stopping

    def stop_app_server(self, number):
        """Stop one app server (1 or 2), as a machine going down would."""
        stop_process(self.app_servers[number - 1])

    def stop(self):
        if self.varnish is not None:
            self.varnish.stop()
        for process in [*self.app_servers, self.worker]:
            stop_process(process)
        if self.s3 is not None:
            self.s3.stop()
        for log_file in self._log_files:
            log_file.close()
        self._log_files = []
        if self.drop_database and self.env is not None:
            database_drop(self.database_url)
            cache_clear(self.cache_url)

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc_info):
        self.stop()


def _ports_from_env():
    port = int(os.environ.get("CLUSTER_PORT", DEFAULT_PORT))
    app_ports = os.environ.get("CLUSTER_APP_PORTS", "")
    app_ports = [int(value) for value in app_ports.split(",") if value.strip()] or list(DEFAULT_APP_PORTS)
    if len(app_ports) < 2:
        raise SystemExit("CLUSTER_APP_PORTS needs two ports, e.g. 8081,8082.")
    return port, app_ports


def _raise_keyboard_interrupt(signum, frame):
    raise KeyboardInterrupt


def main():
    port, app_ports = _ports_from_env()
    cluster = Cluster(
        workdir=BASE_DIR / ".local" / "cluster",
        database_url=os.environ.get("DATABASE_URL") or DEFAULT_DATABASE_URL,
        port=port,
        app_ports=app_ports,
    )
    # SIGTERM and SIGHUP stop the cluster as Ctrl+C does.
    signal.signal(signal.SIGTERM, _raise_keyboard_interrupt)
    signal.signal(signal.SIGHUP, _raise_keyboard_interrupt)
    try:
        cluster.start()
        print()
        print(f"The site, through Varnish: {cluster.url}/  (admin at {cluster.url}/admin/)")
        print(f"{cluster.admin_login}")
        for name, url in zip(cluster.names, cluster.app_urls, strict=True):
            print(f"  {name}: {url}/ (gunicorn, {cluster.workers} workers)")
        print(f"  notification worker: send_notifications --loop; emails are written to {cluster.workdir}/worker.log")
        print(f"  uploads: {cluster.s3.endpoint_url}/{cluster.s3.bucket}/ (moto, kept in memory for this run)")
        print(f"  database {cluster.database_url.rsplit('/', 1)[-1]}, cache {cluster.cache_url}")
        print(f"  logs: {cluster.workdir}/*.log")
        print("Press Ctrl+C to stop.", flush=True)
        while True:
            for name, process in [*zip(cluster.names, cluster.app_servers, strict=True), ("worker", cluster.worker)]:
                if process.poll() is not None:
                    raise ClusterError(f"{name} stopped (exit code {process.returncode}):\n{cluster.log_tail(name)}")
            time.sleep(1)
    except KeyboardInterrupt:
        print("\n==> Stopping Varnish, the app servers, the worker and the object store", flush=True)
    except ClusterError as error:
        print(f"\n{error}", file=sys.stderr, flush=True)
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        cluster.stop()
        raise SystemExit(1) from None
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # a second Ctrl+C must not interrupt the clean-up
    cluster.stop()
    print("Stopped.")


if __name__ == "__main__":
    main()
