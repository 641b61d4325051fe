"""
Booking benchmarks for `make bench`:

- the slot engine alone (pure, in this process): a 90-day window with 2,000 existing bookings;
- the booking request under 20 concurrent visitors, through gunicorn on a fresh PostgreSQL database.
"""

import datetime as dt
import http.client
import http.cookiejar
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


def booking_requests(port, starts, *, slug="discovery-call", visitors=20):
    """Each visitor loads the details form for its times, then all send their forms at once."""
    forms = []
    for index, start in enumerate(starts):
        visitor = Visitor(port)
        path = f"/book/{slug}/details/?" + urllib.parse.urlencode({"start": start.isoformat(), "tz": "Europe/London"})
        status, _, page = visitor.request("GET", path)
        if status != 200 or "csrfmiddlewaretoken" not in page:
            continue
        fields = dict(re.findall(r'name="(csrfmiddlewaretoken|started|idempotency_key)" value="([^"]*)"', page))
        fields.update(
            name=f"Bench Visitor {index}",
            email=f"bench{index}@example.com",
            contact_method="email",
            reason="Benchmark request",
            consent_privacy="on",
            consent_health_data="on",
            acknowledged_not_emergency="on",
            start=start.isoformat(),
            tz="Europe/London",
        )
        forms.append((visitor, path, urllib.parse.urlencode(fields)))
    time.sleep(3.2)  # the form's minimum fill time
    latencies, outcomes, lock = [], {}, threading.Lock()
    queue = list(forms)

    def worker():
        while True:
            with lock:
                if not queue:
                    return
                visitor, path, body = queue.pop()
            began = time.perf_counter()
            status, location, _ = visitor.request("POST", path, body)
            elapsed = time.perf_counter() - began
            outcome = "booked" if status == 302 and "/book/manage/" in location else f"status {status}"
            with lock:
                latencies.append(elapsed)
                outcomes[outcome] = outcomes.get(outcome, 0) + 1

    threads = [threading.Thread(target=worker) for _ in range(visitors)]
    began = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    wall = time.perf_counter() - began
    latencies.sort()
    return {
        "requests": len(latencies),
        "visitors": visitors,
        "outcomes": outcomes,
        "rps": len(latencies) / wall if wall else 0,
        "median_ms": statistics.median(latencies) * 1000 if latencies else 0,
        "p95_ms": latencies[max(0, int(len(latencies) * 0.95) - 1)] * 1000 if latencies else 0,
    }
