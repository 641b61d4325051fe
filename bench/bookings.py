"""
Booking benchmarks for `make bench`:

- the slot engine alone (pure, in this process): a 90-day window with 2,000 existing bookings;
- the booking request under 20 concurrent visitors, through gunicorn on PostgreSQL: DATABASE_URL when it
  names a PostgreSQL database, else a throwaway database created and dropped through BENCH_POSTGRES_URL
  (postgres://postgres@127.0.0.1:5432/postgres). Each visitor first loads the details form of a free
  time and fills it in (the intake questions too); then 20 clients send the forms, each the next one as
  soon as the last is answered; then bursts of 20 forms sent at the same moment, once each, to an idle
  server. Latency percentiles are nearest-rank over every request sent.
"""

import concurrent.futures
import contextlib
import datetime as dt
import html.parser
import http.client
import http.cookiejar
import math
import os
import re
import statistics
import threading
import time
import urllib.parse
from zoneinfo import ZoneInfo

from bookings.slots import Interval, SlotRules, Window, free_slots


def slot_engine(runs=15):
    zone = ZoneInfo("Europe/London")
    windows = [Window(day, dt.time(9), dt.time(17)) for day in range(5)]
    now = dt.datetime(2026, 1, 5, 8, tzinfo=dt.UTC)
    busy = []
    start = now
    while len(busy) < 2000:  # 2,000 half-hour bookings spread through the 90 days
        start += dt.timedelta(minutes=67)
        if start.astimezone(zone).weekday() < 5 and 9 <= start.astimezone(zone).hour < 16:
            busy.append(Interval(start, start + dt.timedelta(minutes=40)))
    rules = SlotRules(
        duration=dt.timedelta(minutes=60),
        step=dt.timedelta(minutes=15),
        buffer_after=dt.timedelta(minutes=10),
        minimum_notice=dt.timedelta(hours=24),
        horizon=dt.timedelta(days=90),
    )
    timings = []
    for _ in range(runs):
        began = time.perf_counter()
        found = free_slots(
            windows=windows,
            time_off=[],
            busy=busy,
            rules=rules,
            first_day=now.date(),
            last_day=now.date() + dt.timedelta(days=90),
            now=now,
            zone=zone,
        )
        timings.append(time.perf_counter() - began)
    return {
        "runs": runs,
        "bookings": len(busy),
        "slots": len(found),
        "median_ms": statistics.median(timings) * 1000,
        "max_ms": max(timings) * 1000,
    }


class Visitor:
    """One visitor's browser: cookies, a form fetched, then sent."""

    def __init__(self, port):
        self.port = port
        self.cookies = {}

    def request(self, method, path, body=None):
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=60)
        headers = {"Cookie": "; ".join(f"{k}={v}" for k, v in self.cookies.items())}
        if body is not None:
            headers["Content-Type"] = "application/x-www-form-urlencoded"
            headers["Referer"] = f"http://127.0.0.1:{self.port}{path}"
        connection.request(method, path, body=body, headers=headers)
        response = connection.getresponse()
        content = response.read().decode()
        for header, value in response.getheaders():
            if header.lower() == "set-cookie":
                name, _, rest = value.partition("=")
                self.cookies[name] = rest.split(";", 1)[0]
        connection.close()
        return response.status, response.getheader("Location", ""), content


def _filled_form(port, slug, index, start):
    """A visitor who has loaded the details form for `start` and filled it in; None if the form is not shown."""
    visitor = Visitor(port)
    path = f"/book/{slug}/details/?" + urllib.parse.urlencode({"start": start.isoformat(), "tz": "Europe/London"})
    status, _, page = visitor.request("GET", path)
    if status != 200 or "csrfmiddlewaretoken" not in page:
        return None
    fields = dict(re.findall(r'name="(csrfmiddlewaretoken|started|idempotency_key)" value="([^"]*)"', page))
    fields.update(intake_answers(page))
    fields.update(
        name=f"Bench Visitor {index}",
        email=f"bench{index}@example.com",
        phone="+44 20 7946 0000",  # the demo's discovery call is a phone call
        contact_method="email",
        reason="Benchmark request",
        consent_privacy="on",
        consent_health_data="on",
        acknowledged_not_emergency="on",
        start=start.isoformat(),
        tz="Europe/London",
    )
    return visitor, path, urllib.parse.urlencode(fields)


def booking_requests(port, starts, *, slug="discovery-call", visitors=20, server_cpu_ms=None):
    """
    Each visitor loads the details form for its time, then `visitors` clients send the forms, each
    sending its next one as soon as the previous is answered (no pause between them), until all are
    sent. `server_cpu_ms`, if given, returns the server's CPU time so far: the CPU per booking request.
    """
    with concurrent.futures.ThreadPoolExecutor(max_workers=4) as pool:
        forms = [form for form in pool.map(lambda pair: _filled_form(port, slug, *pair), enumerate(starts)) if form]
    time.sleep(3.2)  # the form's minimum fill time
    latencies, outcomes, lock, first_error = [], {}, threading.Lock(), []
    queue = list(forms)

    def worker():
        while True:
            with lock:
                if not queue:
                    return
                visitor, path, body = queue.pop()
            began = time.perf_counter()
            status, location, page = visitor.request("POST", path, body)
            elapsed = time.perf_counter() - began
            outcome = "booked" if status == 302 and "/book/manage/" in location else f"status {status}"
            if outcome != "booked" and not first_error:
                first_error.append(form_errors(page) or f"{status} {location}")
            with lock:
                latencies.append(elapsed)
                outcomes[outcome] = outcomes.get(outcome, 0) + 1

    threads = [threading.Thread(target=worker) for _ in range(visitors)]
    cpu_before = server_cpu_ms() if server_cpu_ms else None
    began = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    wall = time.perf_counter() - began
    cpu = (server_cpu_ms() - cpu_before) if server_cpu_ms else None
    return {
        "requests": len(latencies),
        "visitors": visitors,
        "outcomes": outcomes,
        "first_error": first_error[0] if first_error else "",
        "forms_shown": len(forms),
        "rps": len(latencies) / wall if wall else 0,
        "server_cpu_ms_per_request": cpu / len(latencies) if cpu is not None and latencies else None,
        "p50_ms": percentile(latencies, 50) * 1000,
        "p95_ms": percentile(latencies, 95) * 1000,
        "p99_ms": percentile(latencies, 99) * 1000,
        "max_ms": max(latencies, default=0) * 1000,
        "latencies": latencies,
    }


def booking_bursts(port, starts, *, visitors, bursts):
    """
    `bursts` times, `visitors` visitors who have each filled in a form send it at the same moment, once
    (the server idle before each burst): the latency of a moment when that many people book at once,
    where `booking_requests` keeps the server saturated. Percentiles over every request of every burst.
    """
    latencies, outcomes = [], {}
    for number in range(bursts):
        chunk = starts[number * visitors : (number + 1) * visitors]
        if not chunk:
            break
        row = booking_requests(port, chunk, visitors=visitors)
        latencies += row.pop("latencies")
        for outcome, count in row["outcomes"].items():
            outcomes[outcome] = outcomes.get(outcome, 0) + count
    return {
        "bursts": bursts,
        "visitors": visitors,
        "requests": len(latencies),
        "outcomes": outcomes,
        "p50_ms": percentile(latencies, 50) * 1000,
        "p99_ms": percentile(latencies, 99) * 1000,
        "max_ms": max(latencies, default=0) * 1000,
    }


def percentile(values, rank):
    """The nearest-rank percentile: the smallest value with at least `rank` % of the values at or below it."""
    if not values:
        return 0.0
    ordered = sorted(values)
    return ordered[max(0, math.ceil(len(ordered) * rank / 100) - 1)]


class _IntakeFields(html.parser.HTMLParser):
    """The consultation type's intake questions on the details page ("intake-q<id>"), each given an answer."""

    def __init__(self):
        super().__init__()
        self.answers = {}
        self.select = None

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        name = attrs.get("name") or ""
        if tag == "option" and self.select and attrs.get("value") and self.select not in self.answers:
            self.answers[self.select] = attrs["value"]
        if not name.startswith("intake-"):
            return
        if tag == "select":
            self.select = name
        elif tag == "textarea" or (tag == "input" and attrs.get("type", "text") in ("text", "email", "tel", "number")):
            self.answers[name] = "3" if attrs.get("type") == "number" else "Benchmark answer"
        elif tag == "input" and attrs.get("type") in ("radio", "checkbox") and attrs.get("value"):
            self.answers.setdefault(name, attrs["value"])

    def handle_endtag(self, tag):
        if tag == "select":
            self.select = None


def intake_answers(page):
    parser = _IntakeFields()
    parser.feed(page)
    return parser.answers


def form_errors(page):
    """The error messages of a form shown again, as text."""
    found = re.findall(r'class="[^"]*(?:field__error|errorlist)[^"]*"[^>]*>(.*?)</', page, re.S)
    return " | ".join(re.sub(r"<[^>]+>|\s+", " ", text).strip() for text in found)[:300]


@contextlib.contextmanager
def postgres_database(admin_url):
    """
    DATABASE_URL when it names a PostgreSQL database (left as it is afterwards); otherwise a throwaway
    database practice_bench_<pid> created through `admin_url` and dropped afterwards. Yields
    (url, description), or (None, reason) when there is no PostgreSQL to use.
    """
    existing = os.environ.get("DATABASE_URL", "")
    if existing.startswith(("postgres://", "postgresql://", "pgsql://")):
        yield existing, "DATABASE_URL"
        return
    name = f"practice_bench_{os.getpid()}"
    try:
        import psycopg2

        admin = psycopg2.connect(admin_url)
    except Exception as error:
        yield None, f"no PostgreSQL at {admin_url} ({type(error).__name__}); set DATABASE_URL or BENCH_POSTGRES_URL"
        return
    admin.autocommit = True
    with admin.cursor() as cursor:
        cursor.execute(f"DROP DATABASE IF EXISTS {name}")
        cursor.execute(f"CREATE DATABASE {name}")
    try:
        yield admin_url.rsplit("/", 1)[0] + "/" + name, f"throwaway database {name}, dropped afterwards"
    finally:
        with admin.cursor() as cursor:
            cursor.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
        admin.close()
