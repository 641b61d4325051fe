"""
Her busy calendars block slots: real iCalendar files served over HTTP by a server on a loopback port,
read by calendars/sync.py, and the slots the booking pages show and accept afterwards.
"""

import datetime as dt
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import SimpleNamespace
from zoneinfo import ZoneInfo

from django.core.management import call_command
from django.db.models import TextField
from django.db.models.functions import Cast
from django.test import override_settings

import pytest
import time_machine

from bookings import selectors, services
from bookings.management.commands import send_notifications
from calendars.models import BusyCalendar, BusyInterval
from calendars.selectors import busy_calendars_failing
from calendars.sync import busy_calendars_sync, busy_intervals
from tests.factories.bookings import visitor_request
from tests.factories.calendars import BusyCalendarFactory

UTC = dt.UTC
LONDON = ZoneInfo("Europe/London")
NEW_YORK = ZoneInfo("America/New_York")
NOW = dt.datetime(2026, 10, 19, 12, 0, tzinfo=UTC)  # Monday; London changes to GMT on Sunday 25 October
FIRST_DAY, LAST_DAY = dt.date(2026, 10, 20), dt.date(2026, 10, 29)
SECRET = "k3y-0f-h3r-pr1vate-cal"

LONDON_ZONE = """BEGIN:VTIMEZONE
TZID:Europe/London
X-LIC-LOCATION:Europe/London
BEGIN:DAYLIGHT
TZOFFSETFROM:+0000
TZOFFSETTO:+0100
TZNAME:BST
DTSTART:19700329T010000
RRULE:FREQ=YEARLY;BYMONTH=3;BYDAY=-1SU
END:DAYLIGHT
BEGIN:STANDARD
TZOFFSETFROM:+0100
TZOFFSETTO:+0000
TZNAME:GMT
DTSTART:19701025T020000
RRULE:FREQ=YEARLY;BYMONTH=10;BYDAY=-1SU
END:STANDARD
END:VTIMEZONE
"""

# As Outlook publishes it: a Windows zone name, defined by its own VTIMEZONE.
EASTERN_ZONE = """BEGIN:VTIMEZONE
TZID:Eastern Standard Time
BEGIN:STANDARD
DTSTART:16010101T020000
TZOFFSETFROM:-0400
TZOFFSETTO:-0500
RRULE:FREQ=YEARLY;INTERVAL=1;BYDAY=1SU;BYMONTH=11
END:STANDARD
BEGIN:DAYLIGHT
DTSTART:16010101T020000
TZOFFSETFROM:-0500
TZOFFSETTO:-0400
RRULE:FREQ=YEARLY;INTERVAL=1;BYDAY=2SU;BYMONTH=3
END:DAYLIGHT
END:VTIMEZONE
"""


def event(uid, *lines):
    return "\n".join(["BEGIN:VEVENT", f"UID:{uid}", "DTSTAMP:20261001T090000Z", *lines, "END:VEVENT"]) + "\n"


def calendar(*parts, name="Naomi", zones=LONDON_ZONE):
    header = (
        "BEGIN:VCALENDAR\nPRODID:-//Google Inc//Google Calendar 70.9054//EN\nVERSION:2.0\nCALSCALE:GREGORIAN\n"
        f"METHOD:PUBLISH\nX-WR-CALNAME:{name}\nX-WR-TIMEZONE:Europe/London\n"
    )
    text = header + zones + "".join(parts) + "END:VCALENDAR\n"
    return text.replace("\n", "\r\n").encode()


GOOGLE = calendar(
    # Supervision every Tuesday and Thursday at 10:00 London time; the 20th moved to 14:00, the 27th cancelled.
    event(
        "supervision@google.com",
        "DTSTART;TZID=Europe/London:20261006T100000",
        "DTEND;TZID=Europe/London:20261006T110000",
        "RRULE:FREQ=WEEKLY;BYDAY=TU,TH",
        "EXDATE;TZID=Europe/London:20261027T100000",
        "SUMMARY:Supervision",
    ),
    event(
        "supervision@google.com",
        "RECURRENCE-ID;TZID=Europe/London:20261020T100000",
        "DTSTART;TZID=Europe/London:20261020T140000",
        "DTEND;TZID=Europe/London:20261020T150000",
        "SEQUENCE:1",
        "SUMMARY:Supervision (moved)",
    ),
    event("conference@google.com", "DTSTART;VALUE=DATE:20261023", "DTEND;VALUE=DATE:20261024", "SUMMARY:Conference"),
    event(
        "reminder@google.com",
        "DTSTART;TZID=Europe/London:20261021T120000",
        "DTEND;TZID=Europe/London:20261021T130000",
        "TRANSP:TRANSPARENT",
        "SUMMARY:Order supplements",
    ),
    event(
        "dentist@google.com",
        "DTSTART;TZID=Europe/London:20261021T150000",
        "DTEND;TZID=Europe/London:20261021T160000",
        "STATUS:CANCELLED",
        "SUMMARY:Dentist",
    ),
    event("yoga@google.com", "DTSTART:20261024T130000", "DTEND:20261024T140000", "SUMMARY:Yoga (floating time)"),
    event(
        "walk@google.com",
        "DTSTART;TZID=Europe/London:20261025T090000",
        "DTEND;TZID=Europe/London:20261025T100000",
        "SUMMARY:Walk, the first morning on GMT",
    ),
    event("webinar@google.com", "DTSTART:20261025T150000Z", "DTEND:20261025T160000Z", "SUMMARY:Webinar (UTC)"),
)

OUTLOOK = calendar(
    event(
        "lab-1@outlook",
        "DTSTART;TZID=America/New_York:20261021T053000",
        "DTEND;TZID=America/New_York:20261021T063000",
        "SUMMARY:Call with the US lab",
    ),
    event(
        "lab-2@outlook",
        'DTSTART;TZID="Eastern Standard Time":20261026T080000',
        'DTEND;TZID="Eastern Standard Time":20261026T090000',
        "X-MICROSOFT-CDO-BUSYSTATUS:BUSY",
        "SUMMARY:Second call with the US lab",
    ),
    event(
        "focus@outlook",
        "DTSTART;TZID=Europe/London:20261026T140000",
        "DTEND;TZID=Europe/London:20261026T150000",
        "X-MICROSOFT-CDO-BUSYSTATUS:FREE",
        "SUMMARY:Focus time (shown as free)",
    ),
    name="Clinic",
    zones=LONDON_ZONE
    + EASTERN_ZONE
    + EASTERN_ZONE.replace("Eastern Standard Time", "America/New_York"),  # as Google writes New York's
)


def local(zone, *parts):
    return dt.datetime(*parts, tzinfo=zone).astimezone(UTC)


# What the two calendars hold as busy, written out by hand from the events above.
EXPECTED_BUSY = [
    (local(LONDON, 2026, 10, 20, 14), local(LONDON, 2026, 10, 20, 15)),  # the moved Tuesday
    (local(LONDON, 2026, 10, 22, 10), local(LONDON, 2026, 10, 22, 11)),  # Thursday, BST
    (local(LONDON, 2026, 10, 29, 10), local(LONDON, 2026, 10, 29, 11)),  # Thursday, GMT
    (local(LONDON, 2026, 10, 23), local(LONDON, 2026, 10, 24)),  # the all-day conference
    (local(NEW_YORK, 2026, 10, 21, 5, 30), local(NEW_YORK, 2026, 10, 21, 6, 30)),  # 10:30–11:30 BST
    (local(NEW_YORK, 2026, 10, 26, 8), local(NEW_YORK, 2026, 10, 26, 9)),  # 12:00–13:00 GMT (New York still EDT)
    (local(LONDON, 2026, 10, 24, 13), local(LONDON, 2026, 10, 24, 14)),  # floating time, read in London
    (local(LONDON, 2026, 10, 25, 9), local(LONDON, 2026, 10, 25, 10)),
    (local(UTC, 2026, 10, 25, 15), local(UTC, 2026, 10, 25, 16)),
]


def expected_free(busy):
    """Every start 09:00–16:00 London time, each half hour, from FIRST_DAY to LAST_DAY, minus those that clash."""
    starts = []
    day = FIRST_DAY
    while day <= LAST_DAY:
        for minutes in range(9 * 60, 16 * 60 + 1, 30):
            start = dt.datetime.combine(day, dt.time(*divmod(minutes, 60)), tzinfo=LONDON).astimezone(UTC)
            if not any(start < end and begin < start + dt.timedelta(hours=1) for begin, end in busy):
                starts.append(start)
        day += dt.timedelta(days=1)
    return starts


def offered(consultation, *, now=NOW):
    return selectors.slots_available(
        consultation_type=consultation, first_day=FIRST_DAY, last_day=LAST_DAY, now=now, zone=LONDON
    )


class CalendarServer:
    """What the loopback server answers for each path, and the requests it saw."""

    def __init__(self):
        self.files = {}  # path -> body
        self.etags = {}  # path -> ETag; a matching If-None-Match gets 304
        self.last_modified = "Mon, 19 Oct 2026 09:00:00 GMT"
        self.delays = {}  # path -> seconds to wait before answering
        self.send_length = True
        self.requests = []

    def url(self, path):
        return f"http://127.0.0.1:{self.port}{path}"


class Handler(BaseHTTPRequestHandler):
    def do_GET(self):
        state = self.server.state
        state.requests.append((self.path, dict(self.headers)))
        time.sleep(state.delays.get(self.path, 0))
        body = state.files.get(self.path)
        if body is None:
            self.send_error(404)
            return
        etag = state.etags.get(self.path)
        if etag and self.headers.get("If-None-Match") == etag:
            self.send_response(304)
            self.send_header("ETag", etag)
            self.end_headers()
            return
        self.send_response(200)
        self.send_header("Content-Type", "text/calendar; charset=UTF-8")
        if etag:
            self.send_header("ETag", etag)
        self.send_header("Last-Modified", state.last_modified)
        if state.send_length:
            self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


class QuietServer(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False

    def handle_error(self, request, client_address):
        pass  # the client gave up on a slow answer: expected here


@pytest.fixture
def server(monkeypatch):
    monkeypatch.setenv("no_proxy", "127.0.0.1")
    monkeypatch.setenv("NO_PROXY", "127.0.0.1")
    httpd = QuietServer(("127.0.0.1", 0), Handler)
    state = CalendarServer()
    state.port = httpd.server_address[1]
    httpd.state = state
    thread = threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    yield state
    httpd.shutdown()
    httpd.server_close()


GOOGLE_PATH = f"/calendar/ical/naomi%40example.com/private-{SECRET}/basic.ics"
OUTLOOK_PATH = f"/owa/calendar/{SECRET}/reachcalendar.ics"


@pytest.fixture
def calendars(server, consultation):
    server.files = {GOOGLE_PATH: GOOGLE, OUTLOOK_PATH: OUTLOOK}
    server.etags = {GOOGLE_PATH: '"v1"'}
    return (
        BusyCalendarFactory(name="Personal (Google)", url=server.url(GOOGLE_PATH)),
        BusyCalendarFactory(name="Clinic (Outlook)", url=server.url(OUTLOOK_PATH)),
    )


def sync(now=NOW):
    return busy_calendars_sync(now=now, zone=LONDON)


@pytest.mark.django_db
def test_after_a_sync_exactly_the_free_times_are_offered(calendars, consultation):
    everything = offered(consultation)
    assert everything == expected_free([])

    results = sync()

    assert [(result.ok, result.updated) for result in results] == [(True, True), (True, True)]
    assert offered(consultation) == expected_free(EXPECTED_BUSY)
    starts = set(offered(consultation))
    assert local(LONDON, 2026, 10, 20, 10) in starts, "the moved occurrence no longer blocks its old time"
    assert local(LONDON, 2026, 10, 27, 10) in starts, "the cancelled occurrence (EXDATE) blocks nothing"
    assert local(LONDON, 2026, 10, 21, 12) in starts, "a transparent event blocks nothing"
    assert local(LONDON, 2026, 10, 21, 15) in starts, "a cancelled event blocks nothing"
    assert local(LONDON, 2026, 10, 26, 14) in starts, "an event shown as free blocks nothing"
    assert not any(start.astimezone(LONDON).date() == dt.date(2026, 10, 23) for start in starts), "all-day event"
    assert local(LONDON, 2026, 10, 29, 9) in starts and local(LONDON, 2026, 10, 29, 9, 30) not in starts


@pytest.mark.django_db
def test_recurring_events_are_stored_up_to_the_longest_horizon(calendars, consultation):
    consultation.horizon_days = 30
    consultation.save()
    sync()
    latest = BusyInterval.objects.order_by("-starts_at").first()
    assert latest.starts_at > NOW + dt.timedelta(days=29), "Tuesdays and Thursdays a month ahead"
    assert latest.starts_at < NOW + dt.timedelta(days=33)
    assert not BusyInterval.objects.filter(ends_at__lt=NOW - dt.timedelta(days=1)).exists()


@pytest.mark.django_db
def test_a_buffer_keeps_clear_of_a_busy_time(calendars, consultation):
    consultation.buffer_after_minutes = 15
    consultation.save()
    sync()
    # Monday 26th: busy 12:00–13:00 GMT. 10:30 + 60 min + 15 min buffer reaches 11:45: fine; 11:00 is not.
    monday = selectors.slots_available(
        consultation_type=consultation,
        first_day=dt.date(2026, 10, 26),
        last_day=dt.date(2026, 10, 26),
        now=NOW,
        zone=LONDON,
    )
    assert local(LONDON, 2026, 10, 26, 10, 30) in monday
    assert local(LONDON, 2026, 10, 26, 11) not in monday
    assert local(LONDON, 2026, 10, 26, 13) in monday


@pytest.mark.django_db
def test_a_time_that_became_busy_after_the_sync_is_refused(server, calendars, consultation):
    sync()
    chosen = local(LONDON, 2026, 10, 28, 11)  # Wednesday 11:00 GMT, free
    assert chosen in offered(consultation)

    server.files[GOOGLE_PATH] = GOOGLE.replace(
        b"END:VCALENDAR",
        event(
            "new@google.com",
            "DTSTART;TZID=Europe/London:20261028T110000",
            "DTEND;TZID=Europe/London:20261028T113000",
            "SUMMARY:Booked in her own calendar",
        )
        .replace("\n", "\r\n")
        .encode()
        + b"END:VCALENDAR",
    )
    server.etags[GOOGLE_PATH] = '"v2"'
    later = NOW + dt.timedelta(minutes=15)
    assert all(result.ok for result in sync(later))

    with pytest.raises(services.SlotUnavailableError) as refused:
        services.booking_request(consultation_type=consultation, starts_at=chosen, request=visitor_request(), now=later)
    assert str(refused.value) == "Sorry, that time was just taken."
    assert chosen not in refused.value.next_free
    assert refused.value.next_free[0] == local(LONDON, 2026, 10, 28, 11, 30)


@pytest.mark.django_db
def test_not_modified_keeps_the_copy_and_counts_as_working(server, calendars, consultation):
    sync()
    google = BusyCalendar.objects.get(name="Personal (Google)")
    assert google.etag == '"v1"' and google.content.startswith("BEGIN:VCALENDAR")
    later = NOW + dt.timedelta(minutes=15)

    results = sync(later)

    _path, headers = [request for request in server.requests if request[0] == GOOGLE_PATH][-1]
    assert headers["If-None-Match"] == '"v1"'
    assert headers["If-Modified-Since"] == "Mon, 19 Oct 2026 09:00:00 GMT"
    assert [result.updated for result in results] == [False, True]
    google.refresh_from_db()
    assert google.content == GOOGLE.decode()
    raw = BusyCalendar.objects.filter(pk=google.pk).values_list(Cast("content", TextField()), flat=True).get()
    assert raw and "Supervision" not in raw, "event titles may name clients: the copy is stored encrypted"
    assert google.last_success_at == later and google.last_error == ""
    assert offered(consultation, now=later) == expected_free(EXPECTED_BUSY)


def _fail_and_keep_the_copy(server, consultation, practice_client, *, break_it, expect_error):
    """Sync, `break_it()`, sync again: the failing calendar keeps its copy, and the dashboard says so."""
    sync()
    before = offered(consultation)
    google = BusyCalendar.objects.get(name="Personal (Google)")
    kept_content, kept_intervals = google.content, google.busy_intervals.count()
    assert kept_content and kept_intervals
    break_it()
    later = NOW + dt.timedelta(minutes=15)

    results = sync(later)

    failed = [result for result in results if not result.ok]
    assert [result.calendar.name for result in failed] == ["Personal (Google)"]
    assert expect_error in failed[0].error and SECRET not in failed[0].error
    google.refresh_from_db()
    assert google.content == kept_content
    assert google.busy_intervals.count() == kept_intervals
    assert google.last_success_at == NOW and google.fetched_at == later
    assert expect_error in google.last_error
    assert offered(consultation, now=later) == before, "the last good copy still blocks"

    with time_machine.travel(later + dt.timedelta(minutes=1)):
        html = practice_client.get("/admin/").content.decode()
    assert "Busy calendars that could not be read" in html
    assert "Personal (Google)" in html and expect_error in html
    assert "Clinic (Outlook)" not in html
    assert SECRET not in html


@pytest.mark.django_db
def test_a_server_that_times_out_keeps_the_last_good_copy_and_shows_on_the_dashboard(
    server, calendars, consultation, practice_client
):
    def slow_down():
        server.delays[GOOGLE_PATH] = 2.0

    started = time.monotonic()
    with override_settings(BUSY_CALENDAR_TIMEOUT=0.3):
        _fail_and_keep_the_copy(
            server, consultation, practice_client, break_it=slow_down, expect_error="did not answer within 0.3 seconds"
        )
    assert time.monotonic() - started < 2.0, "the sync gave up instead of waiting for the answer"


@pytest.mark.django_db
@pytest.mark.parametrize("send_length", [True, False], ids=["announced", "streamed"])
def test_a_calendar_over_the_size_limit_keeps_the_last_good_copy(
    server, calendars, consultation, practice_client, send_length
):
    def grow():
        padding = "".join(
            event(f"filler-{index}@google.com", "DTSTART:20200101T090000Z", "DTEND:20200101T100000Z", "SUMMARY:Old")
            for index in range(2000)
        )
        server.files[GOOGLE_PATH] = calendar(padding)
        assert len(server.files[GOOGLE_PATH]) > 200 * 1024
        server.etags[GOOGLE_PATH] = '"huge"'
        server.send_length = send_length

    with override_settings(BUSY_CALENDAR_MAX_BYTES=64 * 1024):
        _fail_and_keep_the_copy(
            server, consultation, practice_client, break_it=grow, expect_error="larger than the limit of 64 KB"
        )


@pytest.mark.django_db
def test_something_that_is_not_a_calendar_keeps_the_last_good_copy(server, calendars, consultation, practice_client):
    def sign_in_page():
        server.files[GOOGLE_PATH] = b"<!doctype html><html><body>Sign in to continue</body></html>"
        server.etags[GOOGLE_PATH] = '"login"'

    _fail_and_keep_the_copy(server, consultation, practice_client, break_it=sign_in_page, expect_error="not a calendar")


@pytest.mark.django_db
def test_a_missing_calendar_reports_the_status_without_the_address(server, calendars, consultation):
    server.files.pop(GOOGLE_PATH)
    google = BusyCalendar.objects.get(name="Personal (Google)")
    (result, _) = sync()
    assert result.error == "The calendar server answered 404 (Not Found). Check the address: it may have been reset."
    google.refresh_from_db()
    assert google.content == "" and google.busy_intervals.count() == 0 and google.last_success_at is None


@pytest.mark.django_db
def test_an_inactive_calendar_is_neither_read_nor_blocking(server, calendars, consultation):
    sync()
    BusyCalendar.objects.update(is_active=False)
    assert offered(consultation) == expected_free([])
    count = len(server.requests)
    assert sync(NOW + dt.timedelta(minutes=15)) == []
    assert len(server.requests) == count


@pytest.mark.django_db
def test_a_calendar_without_a_success_for_over_an_hour_is_failing(consultation):
    recent = BusyCalendarFactory(name="Recent", last_success_at=NOW - dt.timedelta(minutes=50))
    stale = BusyCalendarFactory(name="Stale", last_success_at=NOW - dt.timedelta(minutes=70))
    erring = BusyCalendarFactory(name="Erring", last_success_at=NOW, last_error="The calendar server answered 500.")
    never = BusyCalendarFactory(name="Never read", created_at=NOW - dt.timedelta(hours=2))
    BusyCalendarFactory(name="Just added", created_at=NOW - dt.timedelta(minutes=5))
    BusyCalendarFactory(name="Switched off", is_active=False, last_error="The calendar server answered 500.")
    assert list(busy_calendars_failing(now=NOW)) == [erring, never, stale]
    assert recent not in busy_calendars_failing(now=NOW)


@pytest.mark.django_db
def test_dashboard_says_when_a_stale_calendar_last_worked(practice_client, consultation):
    BusyCalendarFactory(name="Personal (Google)", last_success_at=dt.datetime(2026, 1, 5, 8, 0, tzinfo=UTC))
    html = practice_client.get("/admin/").content.decode()
    assert "Personal (Google)" in html
    assert "Mon 5 Jan, 08:00" in html
    assert "Not read for over an hour" in html


@pytest.mark.django_db
def test_the_command_and_the_worker_read_the_calendars(server, calendars, consultation, monkeypatch):
    with time_machine.travel(NOW, tick=False):
        call_command("sync_busy_calendars", stdout=(out := _Text()), stderr=_Text())
    assert "Personal (Google): read, " in out.text and "Clinic (Outlook): read, " in out.text
    assert offered(consultation) == expected_free(EXPECTED_BUSY)

    BusyInterval.objects.all().delete()

    class Stop(Exception):
        pass

    def stop(seconds):
        raise Stop

    monkeypatch.setattr(send_notifications, "time", SimpleNamespace(sleep=stop))  # one round only
    with time_machine.travel(NOW + dt.timedelta(minutes=20), tick=False), pytest.raises(Stop):
        call_command("send_notifications", "--loop", stdout=_Text())
    assert offered(consultation) == expected_free(EXPECTED_BUSY)
    assert set(BusyCalendar.objects.values_list("last_success_at", flat=True)) == {NOW + dt.timedelta(minutes=20)}


class _Text:
    def __init__(self):
        self.text = ""

    def write(self, value):
        self.text += value

    def flush(self):
        pass


def test_all_day_events_follow_the_practice_zone_across_the_clock_change():
    text = calendar(
        event("holiday@google.com", "DTSTART;VALUE=DATE:20261024", "DTEND;VALUE=DATE:20261026", "SUMMARY:Away")
    ).decode()
    found = busy_intervals(
        text,
        start=dt.datetime(2026, 10, 20, tzinfo=UTC),
        end=dt.datetime(2026, 11, 1, tzinfo=UTC),
        zone=LONDON,
    )
    # Saturday midnight BST to Monday midnight GMT: 49 hours of real time.
    assert found == [(local(LONDON, 2026, 10, 24), local(LONDON, 2026, 10, 26))]
    assert found[0][1] - found[0][0] == dt.timedelta(hours=49)


def test_a_weekly_event_written_in_utc_keeps_its_local_time_after_the_clock_change():
    # Google may write a series in UTC and name the calendar's zone in X-WR-TIMEZONE: 09:00 London.
    text = calendar(
        event("gym@google.com", "DTSTART:20261013T080000Z", "DTEND:20261013T090000Z", "RRULE:FREQ=WEEKLY;COUNT=3")
    ).decode()
    found = busy_intervals(
        text, start=dt.datetime(2026, 10, 1, tzinfo=UTC), end=dt.datetime(2026, 11, 1, tzinfo=UTC), zone=LONDON
    )
    assert [start.astimezone(LONDON).strftime("%d %H:%M") for start, _ in found] == ["13 09:00", "20 09:00", "27 09:00"]


@pytest.mark.django_db
def test_busy_times_are_read_as_the_orm_would_read_them():
    """`busy_between` writes its statement out: the same rule, an active calendar's intervals only, aware UTC times."""
    from calendars.selectors import busy_between

    active, switched_off = BusyCalendarFactory(name="Active"), BusyCalendarFactory(name="Off", is_active=False)
    start, end = dt.datetime(2026, 10, 20, 9, 0, tzinfo=UTC), dt.datetime(2026, 10, 20, 17, 0, tzinfo=UTC)
    for calendar in (active, switched_off):
        for begins, ends in [(7, 9), (8, 10), (12, 13), (16, 18), (17, 19)]:  # touching the range's ends: not in it
            BusyInterval.objects.create(
                calendar=calendar, starts_at=start.replace(hour=begins), ends_at=start.replace(hour=ends)
            )
    expected = list(
        BusyInterval.objects.filter(calendar__is_active=True, starts_at__lt=end, ends_at__gt=start).values_list(
            "starts_at", "ends_at"
        )
    )

    found = busy_between(start=start, end=end)

    assert found == expected
    assert [(begins.hour, ends.hour) for begins, ends in found] == [(8, 10), (12, 13), (16, 18)]
    assert all(begins.utcoffset() == dt.timedelta(0) for begins, _ in found)
