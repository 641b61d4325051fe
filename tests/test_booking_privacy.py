"""Health details stay out of error reports, and rate limits hold across server processes."""

import os
import socket
import subprocess
import sys

from django.conf import settings
from django.views.debug import ExceptionReporter

import pytest

from bookings import services


@pytest.mark.django_db
def test_error_reports_never_contain_what_the_visitor_wrote(client, practice_settings, monkeypatch, caplog):
    """If saving a booking crashes, the report the admins get (and the log) holds no health details."""
    import datetime as dt
    import logging
    import uuid

    from bookings.forms import form_stamp
    from tests.factories.bookings import ConsultationTypeFactory, open_every_day

    open_every_day()
    ConsultationTypeFactory(slug="initial", minimum_notice_hours=0)
    start = (dt.datetime.now(dt.UTC) + dt.timedelta(days=2)).replace(hour=10, minute=0, second=0, microsecond=0)

    def crash(*args, **kwargs):
        raise RuntimeError("database fell over")

    # Fail deep inside the real service, after it has built the booking from the visitor's details.
    monkeypatch.setattr(services, "_queue_new", crash)
    client.raise_request_exception = False
    # Built at run time: the report quotes source lines, and those must not be what the test finds.
    secret = " ".join(["My", "thyroid", "results", "worry", "me"])
    with caplog.at_level(logging.ERROR, logger="django.request"):
        response = client.post(
            "/book/initial/details/",
            {
                "name": "Alex Private",
                "email": "alex.private@example.com",
                "reason": secret,
                "contact_method": "email",
                "consent_privacy": "on",
                "consent_health_data": "on",
                "acknowledged_not_emergency": "on",
                "started": form_stamp(dt.datetime.now(dt.UTC) - dt.timedelta(minutes=1)),
                "idempotency_key": str(uuid.uuid4()),
                "start": start.isoformat(),
                "tz": "Europe/London",
            },
        )
    assert response.status_code == 500
    record = next(record for record in caplog.records if record.exc_info)
    report = ExceptionReporter(record.request, *record.exc_info).get_traceback_html()
    assert "database fell over" in report
    for private in (secret, "-".join(["Alex", "Private"]), "@".join(["alex.private", "example.com"])):
        assert private not in report
        assert private not in caplog.text


def test_the_booking_service_hides_its_variables_from_error_reports():
    import sys

    # Built at run time: the report quotes source lines, and those must not be what the test finds.
    reason = "-".join(["my", "thyroid"])
    name = "-".join(["Alex", "Private"])
    try:
        services.booking_request(
            consultation_type=None,
            starts_at=None,
            request=services.BookingRequest(name=name, email="a@example.com", reason=reason),
            now=None,
        )
    except AttributeError:
        exc_info = sys.exc_info()
    frames = ExceptionReporter(None, *exc_info).get_traceback_frames()
    service_frame = next(frame for frame in frames if frame["function"] == "booking_request")
    shown = repr(service_frame["vars"])
    assert "request" in shown  # the variable is listed, its value hidden
    assert reason not in shown and name not in shown


def _redis_available():
    try:
        with socket.create_connection(("127.0.0.1", 6379), timeout=1):
            return True
    except OSError:
        return False


@pytest.mark.skipif(not _redis_available() and not os.environ.get("CI"), reason="no Redis on 127.0.0.1:6379")
def test_the_rate_limit_is_shared_by_separate_server_processes():
    code = """
import django, sys
django.setup()
from django.core.cache import cache
from django.test import RequestFactory
from bookings import ratelimit
request = RequestFactory().post("/", REMOTE_ADDR="192.0.2.10")
print(",".join(str(ratelimit.hit(request, scope=sys.argv[1], limit=5, window_seconds=3600)) for _ in range(3)))
"""
    scope = f"test-{os.getpid()}"
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "practice.settings.dev", "CACHE_URL": "redis://127.0.0.1:6379/15"}
    env.pop("DATABASE_URL", None)
    outputs = [
        subprocess.run(
            [sys.executable, "-c", code, scope],
            cwd=settings.BASE_DIR,
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
            check=True,
        ).stdout.strip()
        for _ in range(2)
    ]
    assert outputs == ["False,False,False", "False,False,True"]
