"""
`make bench` (`python -m bench`): how fast the public pages, the front cache and the booking request are.

Parts (all by default; `--only pages,frontcache,bookings` to choose):
  pages       a throwaway SQLite database with the demo content, production settings, Redis as the
              cache (as .env.example documents; --cache locmem for the per-process memory cache).
              Per page: database queries cold and warm (definitions printed with the results); then
              through gunicorn (3 sync workers) under wrk: requests/s, p50 and p99 latency and server
              CPU ms per request; then the server CPU of the first article request after a publish.
  frontcache  Varnish (deploy/varnish/default.vcl) in front of gunicorn, purged by the app
              (FRONTEND_CACHE_URLS): the article's requests/s against the static-file limit, the time
              from publish to fresh content through Varnish, and the article's size plain and gzipped.
  bookings    the slot engine alone, then booking requests from 20 concurrent visitors through gunicorn
              on PostgreSQL (DATABASE_URL if it names one, else a throwaway database that is dropped):
              a closed loop that keeps the server saturated, then 5 bursts of 20 forms sent at once.

Results: printed as Markdown, and written to bench-results/<timestamp>.json and .md, and
bench-results/latest.md. Numbers from a shared machine are noisy: compare figures of one run with each
other, and read each with the configuration printed beside it. The issue's targets are shown next to
the figures; nothing is asserted.
"""

import argparse
import concurrent.futures
import contextlib
import datetime as dt
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench import bookings as booking_bench
from bench import frontcache, pages, report
from bench.servers import BASE_DIR, CLOCK_TICKS, PYTHON, Gunicorn, Redis, free_port, prepare, probe, wrk_available

ARTICLE = "/articles/alopecia-areata-and-leaky-gut/"
# Each measured page, and the page whose publish makes its cached response stale for the "cold" count:
# the page itself, or for the feed and the search results the article they list.
PAGES = {
    "/": "/",
    "/articles/": "/articles/",
    ARTICLE: ARTICLE,
    "/about/": "/about/",
    "/articles/feed/": ARTICLE,
    "/search/?q=gut": ARTICLE,
}
PARTS = ("pages", "frontcache", "bookings")
BURSTS = 5  # bursts of booking requests, after the closed loop
BEGAN = time.monotonic()


def say(message):
    print(f"[{time.monotonic() - BEGAN:5.0f} s] {message}", flush=True)


def options_from(argv):
    parser = argparse.ArgumentParser(
        prog="python -m bench", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--only", default=",".join(PARTS), help="comma-separated parts: pages,frontcache,bookings")
    parser.add_argument("--workers", type=int, default=3, help="gunicorn sync workers (default 3)")
    parser.add_argument("--threads", type=int, default=2, help="wrk threads (default 2)")
    parser.add_argument("--connections", type=int, default=16, help="wrk connections (default 16)")
    parser.add_argument("--duration", type=int, default=10, help="seconds of each wrk run (default 10)")
    parser.add_argument("--warmup", type=int, default=2, help="seconds of wrk before each measured run (default 2)")
    parser.add_argument("--repeats", type=int, default=20, help="publishes for the after-publish CPU (default 20)")
    parser.add_argument("--rounds", type=int, default=2, help="alternations article/static through Varnish")
    parser.add_argument("--fresh-trials", type=int, default=5, help="publish-to-fresh trials (default 5)")
    parser.add_argument("--fresh-timeout", type=float, default=5.0, help="give up a trial after this many seconds")
    parser.add_argument("--visitors", type=int, default=20, help="concurrent booking visitors (default 20)")
    parser.add_argument("--bookings", type=int, default=200, help="booking requests sent (default 200)")
    parser.add_argument(
        "--cache",
        choices=("redis", "locmem", "env"),
        default="redis",
        help="Django's cache: a throwaway Redis (default, as in production), the per-process memory cache, "
        "or CACHE_URL from the environment",
    )
    parser.add_argument("--conn-max-age", type=int, default=60, help="DATABASE_CONN_MAX_AGE (60 as in .env.example)")
    options = parser.parse_args(argv)
    options.parts = [part.strip() for part in options.only.split(",") if part.strip()]
    unknown = set(options.parts) - set(PARTS)
    if unknown:
        parser.error(f"unknown part(s) {', '.join(sorted(unknown))}; choose from {', '.join(PARTS)}")
    return options


def _first_line(command):
    try:
        result = subprocess.run(command, capture_output=True, text=True, timeout=10)
    except (OSError, subprocess.TimeoutExpired):
        return "not installed"
    return (result.stdout or result.stderr).strip().splitlines()[0] if (result.stdout or result.stderr) else ""


def machine():
    model = ""
    with contextlib.suppress(OSError, StopIteration):
        model = next(
            line.split(":", 1)[1].strip()
            for line in Path("/proc/cpuinfo").read_text().splitlines()
            if line.startswith("model name")
        )
    memory_kb = 0
    with contextlib.suppress(OSError, ValueError, IndexError):
        memory_kb = int(Path("/proc/meminfo").read_text().split()[1])
    return {
        "cores": os.cpu_count(),
        "cpu": model,
        "memory_gb": round(memory_kb / 1024 / 1024, 1),
        "kernel": platform.release(),
        "load_average_at_start": [round(value, 2) for value in os.getloadavg()],
    }


def tools():
    return {
        "gunicorn": _first_line([PYTHON, "-m", "gunicorn", "--version"]),
        "wrk": _first_line(["wrk", "-v"]).split(" [")[0],
        "varnish": _first_line(["/usr/sbin/varnishd", "-V"]),
    }


def cache_url(options, workdir, stack):
    if options.cache == "env":
        return os.environ.get("CACHE_URL", "")
    if options.cache == "locmem":
        return "locmemcache://"
    if not Redis.available():
        print("redis-server is not installed: using the per-process memory cache (--cache locmem)", flush=True)
        options.cache = "locmem"
        return "locmemcache://"
    return stack.enter_context(Redis(workdir / "redis")).url


def run_pages(options, env, results):
    say("Pages: database queries cold and warm")
    counts = probe(env, "queries", *(f"{path}={page}" for path, page in PAGES.items()))
    titles = probe(env, "titles", ARTICLE)
    load = []
    with Gunicorn(env, workers=options.workers) as server:
        for path in PAGES:
            say(f"Pages: wrk on {path}")
            row = pages.load(
                server,
                path,
                threads=options.threads,
                connections=options.connections,
                duration=options.duration,
                warmup=options.warmup,
            )
            load.append({"path": path, **row})
    say("Pages: server CPU of the first article request after a publish (1 worker)")
    with Gunicorn(env, workers=1) as server, pages.Publisher(env) as publisher:
        after_publish = pages.cpu_after_publish(server, publisher, ARTICLE, titles[ARTICLE], repeats=options.repeats)
    results["pages"] = {
        "config": {
            "gunicorn_workers": options.workers,
            "tool": f"wrk -t{options.threads} -c{options.connections} -d{options.duration}s "
            f"(after {options.warmup} s of warm-up)",
        },
        "queries": counts,
        "load": load,
        "after_publish": {**after_publish, "gunicorn_workers": 1},
    }


def run_frontcache(options, env, workdir, results):
    from bench.varnish import Varnish

    say("Front cache: Varnish in front of gunicorn")
    titles = probe(env, "titles", ARTICLE)
    app_port = free_port()
    app_varnish = Varnish(backends=[("127.0.0.1", app_port)], workdir=workdir / "varnish-app")
    purge = {"FRONTEND_CACHE_URLS": app_varnish.purge_url}
    with Gunicorn(env, workers=options.workers, port=app_port, extra_env=purge) as server:
        status, body, headers = frontcache.capture_for_static(server.port, ARTICLE)
        with (
            app_varnish,
            frontcache.StaticServer(body, headers) as static,
            Varnish(backends=[("127.0.0.1", static.port)], workdir=workdir / "varnish-static") as static_varnish,
        ):
            sizes = frontcache.sizes(server.port, app_varnish.port, ARTICLE)
            say("Front cache: wrk through Varnish, article and static limit")
            throughput = frontcache.throughput(
                app_varnish,
                static_varnish,
                ARTICLE,
                threads=options.threads,
                connections=options.connections,
                duration=options.duration,
                rounds=options.rounds,
            )
            throughput["static"]["backend_requests"] = static.requests
            say("Front cache: publish to fresh")
            with pages.Publisher({**env, **purge}) as publisher:
                fresh = frontcache.publish_to_fresh(
                    app_varnish,
                    server.port,
                    publisher,
                    ARTICLE,
                    titles[ARTICLE],
                    trials=options.fresh_trials,
                    interval=0.01,
                    timeout=options.fresh_timeout,
                    also=("/articles/", "/", "/articles/feed/"),
                )
    results["frontcache"] = {
        "config": {
            "gunicorn_workers": options.workers,
            "front_cache": "Varnish, deploy/varnish/default.vcl rendered by bench/varnish.py; malloc 64 MB",
            "purge": "FRONTEND_CACHE_URLS = the Varnish's purge URL, on gunicorn and on the publishing process",
            "tool": f"wrk -t{options.threads} -c{options.connections} -d{options.duration}s "
            f"-H 'Accept-Encoding: gzip', {options.rounds} alternating rounds",
        },
        "static_capture_status": status,
        "sizes": sizes,
        "throughput": throughput,
        "publish_to_fresh": fresh,
    }


def run_bookings(options, env, description, results):
    say("Bookings: slot engine")
    section = {"slot_engine": booking_bench.slot_engine(), "booking_requests": None}
    if env is None:
        say(f"Bookings on PostgreSQL: skipped, {description}")
        section["skipped"] = description
        results["bookings"] = section
        return
    section["config"] = {
        **probe(env, "info"),
        "database_source": description,
        "gunicorn_workers": options.workers,
        "tool": f"Python client (bench/bookings.py): each visitor loads the details form of its own free time; "
        f"then {options.visitors} concurrent clients send the filled forms, each the next one as soon as the "
        "last is answered; one connection per request",
    }
    bursts = BURSTS * options.visitors
    wanted = str(options.bookings + bursts)
    starts = [dt.datetime.fromisoformat(value) for value in probe(env, "free-starts", wanted)]
    loop_starts, burst_starts = starts[: options.bookings], starts[options.bookings :]
    with Gunicorn(env, workers=options.workers) as server:
        say(f"Bookings: {len(loop_starts)} booking requests from {options.visitors} visitors")
        section["booking_requests"] = booking_bench.booking_requests(
            server.port,
            loop_starts,
            visitors=options.visitors,
            server_cpu_ms=lambda: server.cpu_ticks() * 1000 / CLOCK_TICKS,
        )
        section["booking_requests"].pop("latencies")
        say(f"Bookings: {BURSTS} bursts of {options.visitors} visitors sending at the same moment")
        section["booking_bursts"] = booking_bench.booking_bursts(
            server.port, burst_starts, visitors=options.visitors, bursts=BURSTS
        )
    results["bookings"] = section


def prepare_all(options, workdir, cache, stack):
    """
    The environments of the parts to run, prepared side by side (migrating is slow and is not
    measured): the site on a throwaway SQLite database, the bookings on PostgreSQL.
    """
    jobs, description = {}, ""
    with concurrent.futures.ThreadPoolExecutor(max_workers=2) as pool:
        if {"pages", "frontcache"} & set(options.parts):
            jobs["site"] = pool.submit(
                prepare,
                workdir / "site",
                database_url=f"sqlite:///{workdir / 'site' / 'bench.sqlite3'}",
                cache_url=cache,
                conn_max_age=options.conn_max_age,
            )
        if "bookings" in options.parts:
            admin_url = os.environ.get("BENCH_POSTGRES_URL", "postgres://postgres@127.0.0.1:5432/postgres")
            database_url, description = stack.enter_context(booking_bench.postgres_database(admin_url))
            if database_url:
                # Redis: a database number of its own, so that nothing cached for the pages is seen.
                booking_cache = cache.rsplit("/", 1)[0] + "/1" if cache.startswith("redis") else cache
                jobs["bookings"] = pool.submit(
                    prepare,
                    workdir / "pg",
                    database_url=database_url,
                    cache_url=booking_cache,
                    conn_max_age=options.conn_max_age,
                )
    return {name: job.result() for name, job in jobs.items()}, description


def main(argv=None):
    options = options_from(argv)
    if not wrk_available() and ({"pages", "frontcache"} & set(options.parts)):
        raise SystemExit("wrk is needed for the pages and front cache parts: sudo apt-get install wrk")
    started = dt.datetime.now().astimezone()
    began = time.monotonic()
    results = {
        "started": started.isoformat(timespec="seconds"),
        "parts": options.parts,
        "config": {"machine": machine(), "tools": tools()},
    }
    with tempfile.TemporaryDirectory(prefix="practice-bench-") as tmp, contextlib.ExitStack() as stack:
        workdir = Path(tmp)
        cache = cache_url(options, workdir, stack)
        envs, booking_database = prepare_all(options, workdir, cache, stack)
        say("Prepared")
        if "site" in envs:
            env = envs["site"]
            results["config"]["site"] = probe(env, "info")
            results["config"]["site"]["cache_choice"] = options.cache
            if "pages" in options.parts:
                run_pages(options, env, results)
            if "frontcache" in options.parts:
                run_frontcache(options, env, workdir, results)
        if "bookings" in options.parts:
            run_bookings(options, envs.get("bookings"), booking_database, results)
    results["duration_s"] = round(time.monotonic() - began, 1)
    markdown = report.markdown(results)
    print()
    print(markdown)
    out = BASE_DIR / "bench-results"
    out.mkdir(exist_ok=True)
    stamp = started.strftime("%Y%m%d-%H%M%S")
    (out / f"{stamp}.json").write_text(json.dumps(results, indent=2, default=str) + "\n")
    (out / f"{stamp}.md").write_text(markdown)
    (out / "latest.md").write_text(markdown)
    (out / "latest.json").write_text(json.dumps(results, indent=2, default=str) + "\n")
    print(f"Written: bench-results/{stamp}.json, bench-results/{stamp}.md, bench-results/latest.md")


if __name__ == "__main__":
    sys.exit(main())
