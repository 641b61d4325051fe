"""The practitioner's agenda at /admin/bookings/agenda/: local days, daylight saving, navigation and privacy."""

import datetime as dt
import html
import itertools
import re
from zoneinfo import ZoneInfo

import pytest
import time_machine

from bookings import selectors
from bookings.models import AvailabilityWindow, Booking, BookingStatus, ConsultationFormat, TimeOff
from tests.factories.bookings import ConsultationTypeFactory

LONDON = ZoneInfo("Europe/London")
NOW = dt.datetime(2026, 10, 21, 10, 0, tzinfo=dt.UTC)  # Wednesday 21 October 2026, 11:00 in London
AGENDA = "/admin/bookings/agenda/"
REASON = "Patchy hair loss and a leaky gut"


def local(*args):
    return dt.datetime(*args, tzinfo=LONDON)


def _booking(consultation, starts_at, *, name="Alex Visitor", status=BookingStatus.CONFIRMED, reason=REASON):
    booking = Booking(consultation_type=consultation, name=name, email="alex@example.com", reason=reason, status=status)
    booking.set_times(starts_at)
    booking.save()
    return booking


def _days(page: str) -> dict[str, str]:
    """Each day section of the agenda: its heading's text → the section's text."""
    days = {}
    for section in re.findall(r'<section class="agenda-day".*?</section>', page, re.S):
        heading = re.search(r"<h2[^>]*>(.*?)</h2>", section, re.S).group(1)
        days[_text(heading)] = _text(section)
    return days


def _text(fragment: str) -> str:
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", fragment)).split())


def _links(page: str) -> dict[str, str]:
    """Link text → href for the links of the agenda's navigation."""
    nav = re.search(r'<nav class="agenda-nav".*?</nav>', page, re.S).group(0)
    return {_text(text): html.unescape(href) for href, text in re.findall(r'<a[^>]*href="([^"]*)"[^>]*>(.*?)</a>', nav)}


@pytest.fixture(autouse=True)
def _clock():
    """The view reads the clock once: hold it at NOW."""
    with time_machine.travel(NOW, tick=False):
        yield


@pytest.fixture
def consultation(practice_settings):
    AvailabilityWindow.objects.bulk_create(
        AvailabilityWindow(weekday=day, start_time=dt.time(8), end_time=dt.time(18)) for day in range(7)
    )
    return ConsultationTypeFactory(name="Initial consultation", format=ConsultationFormat.VIDEO, duration_minutes=60)


@pytest.mark.django_db
def test_day_view_shows_todays_consultations_in_local_time(practice_client, consultation):
    booking = _booking(consultation, local(2026, 10, 21, 14, 0), status=BookingStatus.PENDING)
    _booking(consultation, local(2026, 10, 22, 9, 0), name="Tomorrow Client")

    response = practice_client.get(AGENDA)

    assert response.status_code == 200
    page = response.content.decode()
    assert "<title>Agenda: Wednesday 21 October 2026" in page
    days = _days(page)
    assert list(days) == ["Wednesday 21 October 2026 (today)"]
    today = days["Wednesday 21 October 2026 (today)"]
    # 14:00 in London is 13:00 UTC: the agenda shows the practice's own time.
    assert "14:00–15:00 Alex Visitor" in today
    assert "13:00" not in today
    assert f"({booking.reference}) Initial consultation Video call Pending" in today
    assert "Tomorrow Client" not in page
    assert f'href="/admin/bookings/inspect/{booking.pk}/"' in page
    assert 'aria-current="date"' in page
    assert "Times are in Europe/London" in page


@pytest.mark.django_db
def test_week_view_runs_monday_to_sunday_with_each_days_consultations_in_order(practice_client, consultation):
    _booking(consultation, local(2026, 10, 25, 16, 0), name="Sunday Late")
    _booking(consultation, local(2026, 10, 25, 10, 0), name="Sunday Early")
    _booking(consultation, local(2026, 10, 19, 8, 0), name="Monday Client")
    _booking(consultation, local(2026, 10, 18, 12, 0), name="Previous Sunday")
    _booking(consultation, local(2026, 10, 26, 12, 0), name="Next Monday")

    page = practice_client.get(AGENDA, {"view": "week", "date": "2026-10-23"}).content.decode()

    assert "<title>Agenda: week of 19 October to 25 October 2026" in page
    days = _days(page)
    assert list(days) == [
        "Monday 19 October 2026",
        "Tuesday 20 October 2026",
        "Wednesday 21 October 2026 (today)",
        "Thursday 22 October 2026",
        "Friday 23 October 2026",
        "Saturday 24 October 2026",
        "Sunday 25 October 2026",
    ]
    assert "08:00–09:00 Monday Client" in days["Monday 19 October 2026"]
    sunday = days["Sunday 25 October 2026"]
    assert sunday.index("Sunday Early") < sunday.index("Sunday Late")
    assert "No consultations." in days["Tuesday 20 October 2026"]
    assert "Previous Sunday" not in page and "Next Monday" not in page


@pytest.mark.django_db
def test_consultations_stay_on_their_local_day_when_the_clocks_go_back(practice_client, consultation):
    # British Summer Time ends at 02:00 on Sunday 25 October 2026: that day lasts 25 hours.
    _booking(consultation, local(2026, 10, 24, 23, 30), name="Saturday Night")
    _booking(consultation, local(2026, 10, 25, 9, 0), name="Autumn Morning")
    _booking(consultation, local(2026, 10, 25, 23, 15), name="Sunday Night")

    saturday = practice_client.get(AGENDA, {"date": "2026-10-24"}).content.decode()
    sunday = practice_client.get(AGENDA, {"date": "2026-10-25"}).content.decode()
    monday = practice_client.get(AGENDA, {"date": "2026-10-26"}).content.decode()
    week = _days(practice_client.get(AGENDA, {"view": "week", "date": "2026-10-25"}).content.decode())

    assert "23:30–00:30 Saturday Night" in _days(saturday)["Saturday 24 October 2026"]
    assert "Autumn Morning" not in saturday and "Sunday Night" not in saturday
    sunday_text = _days(sunday)["Sunday 25 October 2026"]
    assert "09:00–10:00 Autumn Morning" in sunday_text
    # 23:15 GMT is 24 hours and 15 minutes after the day began: still Sunday.
    assert "23:15–00:15 Sunday Night" in sunday_text
    assert "Saturday Night" not in sunday
    assert "No consultations." in _days(monday)["Monday 26 October 2026"]
    assert "Sunday Night" in week["Sunday 25 October 2026"]
    assert "Saturday Night" in week["Saturday 24 October 2026"]


@pytest.mark.django_db
def test_day_bounds_follow_the_clock_changes(practice_settings):
    bounds = selectors.local_day_bounds(first_day=dt.date(2026, 3, 28), last_day=dt.date(2026, 3, 29), zone=LONDON)
    assert [b - a for a, b in itertools.pairwise(bounds)] == [dt.timedelta(hours=24), dt.timedelta(hours=23)]
    bounds = selectors.local_day_bounds(first_day=dt.date(2026, 10, 25), last_day=dt.date(2026, 10, 25), zone=LONDON)
    assert bounds == [dt.datetime(2026, 10, 24, 23, tzinfo=dt.UTC), dt.datetime(2026, 10, 26, 0, tzinfo=dt.UTC)]


@pytest.mark.django_db
def test_opening_hours_and_time_off_clipped_to_each_day(practice_client, practice_settings):
    AvailabilityWindow.objects.create(weekday=0, start_time=dt.time(9), end_time=dt.time(12))
    AvailabilityWindow.objects.create(weekday=0, start_time=dt.time(14), end_time=dt.time(17, 30))
    AvailabilityWindow.objects.create(weekday=3, start_time=dt.time(10), end_time=dt.time(16))
    TimeOff.objects.create(title="Conference", starts_at=local(2026, 10, 20, 13, 0), ends_at=local(2026, 10, 22, 10, 0))
    TimeOff.objects.create(title="Dentist", starts_at=local(2026, 10, 23, 15, 0), ends_at=local(2026, 10, 23, 16, 30))

    days = _days(practice_client.get(AGENDA, {"view": "week", "date": "2026-10-19"}).content.decode())

    assert "Opening hours 09:00–12:00, 14:00–17:30" in days["Monday 19 October 2026"]
    assert "Opening hours Closed" in days["Tuesday 20 October 2026"]
    assert "Opening hours 10:00–16:00" in days["Thursday 22 October 2026"]
    assert "Time off" not in days["Monday 19 October 2026"]
    assert "Conference: 13:00–end of day" in days["Tuesday 20 October 2026"]
    assert "Conference: all day" in days["Wednesday 21 October 2026 (today)"]
    assert "Conference: 00:00–10:00" in days["Thursday 22 October 2026"]
    assert "Dentist: 15:00–16:30" in days["Friday 23 October 2026"]
    assert "Time off" not in days["Saturday 24 October 2026"]


@pytest.mark.django_db
def test_declined_and_cancelled_consultations_are_left_out(practice_client, consultation):
    shown = {
        BookingStatus.PENDING: 9,
        BookingStatus.CONFIRMED: 10,
        BookingStatus.COMPLETED: 11,
        BookingStatus.NO_SHOW: 12,
    }
    hidden = {
        BookingStatus.DECLINED: 13,
        BookingStatus.CANCELLED_BY_CLIENT: 14,
        BookingStatus.CANCELLED_BY_PRACTICE: 15,
    }
    for status, hour in {**shown, **hidden}.items():
        _booking(consultation, local(2026, 10, 20, hour, 0), name=f"Client {status.label}", status=status)

    day = _days(practice_client.get(AGENDA, {"date": "2026-10-20"}).content.decode())["Tuesday 20 October 2026"]

    for status, hour in shown.items():
        assert f"{hour:02}:00–{hour + 1:02}:00 Client {status.label}" in day
    for status in hidden:
        assert f"Client {status.label}" not in day


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("query", "previous", "following"),
    [
        ({"date": "2026-10-25"}, "?view=day&date=2026-10-24", "?view=day&date=2026-10-26"),
        ({"date": "2026-12-31"}, "?view=day&date=2026-12-30", "?view=day&date=2027-01-01"),
        ({"view": "week", "date": "2026-10-21"}, "?view=week&date=2026-10-12", "?view=week&date=2026-10-26"),
        ({"view": "week", "date": "2026-03-01"}, "?view=week&date=2026-02-16", "?view=week&date=2026-03-02"),
    ],
)
def test_previous_and_next_links_step_a_day_or_a_week(practice_client, practice_settings, query, previous, following):
    links = _links(practice_client.get(AGENDA, query).content.decode())
    unit = "week" if query.get("view") == "week" else "day"
    assert links[f"Previous {unit}"] == AGENDA + previous
    assert links[f"Next {unit}"] == AGENDA + following
    assert links["Today"] == f"{AGENDA}?view={unit}"


@pytest.mark.django_db
def test_navigation_switches_views_and_marks_the_current_ones(practice_client, practice_settings):
    day_page = practice_client.get(AGENDA, {"date": "2026-10-24"}).content.decode()
    links = _links(day_page)
    assert links["Day"] == AGENDA + "?view=day&date=2026-10-24"
    assert links["Week"] == AGENDA + "?view=week&date=2026-10-24"
    assert re.search(r'<a class="button" href="[^"]*view=day[^"]*" aria-current="page">Day</a>', day_page)
    assert 'aria-current="page">Today<' not in day_page  # Saturday the 24th is not today
    assert '<label for="agenda-date">Go to date</label>' in day_page
    assert 'name="date" value="2026-10-24"' in day_page

    week_page = practice_client.get(AGENDA, {"view": "week", "date": "2026-10-24"}).content.decode()
    assert re.search(r'<a class="button" href="[^"]*view=week[^"]*" aria-current="page">Week</a>', week_page)
    assert 'aria-current="page">Today<' in week_page  # the week of the 19th holds today, the 21st
    assert '<input type="hidden" name="view" value="week">' in week_page


@pytest.mark.django_db
@pytest.mark.parametrize(
    "value",
    ["2026-02-30", "tomorrow", "", "21/10/2026", "2026-10-21T10:00", "0001-01-01", "9999-12-31", "<script>", "%00"],
)
def test_a_malformed_date_shows_today(practice_client, consultation, value):
    _booking(consultation, local(2026, 10, 21, 15, 0), name="Today Client")

    response = practice_client.get(AGENDA, {"date": value, "view": "fortnight"})

    assert response.status_code == 200
    page = response.content.decode()
    assert list(_days(page)) == ["Wednesday 21 October 2026 (today)"]
    assert "Today Client" in page


@pytest.mark.django_db
def test_the_reason_for_the_consultation_never_appears(practice_client, consultation):
    _booking(consultation, local(2026, 10, 21, 12, 0), status=BookingStatus.CONFIRMED)
    _booking(consultation, local(2026, 10, 22, 12, 0), status=BookingStatus.PENDING)

    for query in ({}, {"view": "week"}):
        page = practice_client.get(AGENDA, query).content.decode()
        assert "Alex Visitor" in page
        assert REASON not in page
        assert "leaky gut" not in page.lower()


@pytest.mark.django_db
def test_a_page_editor_cannot_see_the_agenda(client, page_editor, consultation):
    _booking(consultation, local(2026, 10, 21, 12, 0))
    client.force_login(page_editor)

    response = client.get(AGENDA)

    assert response.status_code in (302, 403)
    if response.status_code == 302:
        assert not response.url.startswith(AGENDA)
    assert "Alex Visitor" not in response.content.decode()


@pytest.mark.django_db
def test_an_anonymous_visitor_is_sent_to_log_in(client, consultation):
    _booking(consultation, local(2026, 10, 21, 12, 0))

    response = client.get(AGENDA)

    assert response.status_code == 302
    assert response.url.startswith("/admin/login/")
    assert "next=/admin/bookings/agenda/" in response.url


@pytest.mark.django_db
def test_the_bookings_listing_links_to_the_agenda(practice_client, practice_settings):
    page = practice_client.get("/admin/bookings/").content.decode()
    assert re.search(r'<a[^>]*href="/admin/bookings/agenda/"[^>]*>.*?Agenda\s*</a>', page, re.S)


@pytest.mark.django_db
def test_agenda_has_breadcrumbs_and_its_own_print_stylesheet(practice_client, practice_settings):
    page = practice_client.get(AGENDA).content.decode()
    assert 'href="/admin/bookings/"' in page
    assert "bookings/admin/agenda.css" in page
    assert "style=" not in re.search(r'<div class="nice-padding">.*', page, re.S).group(0)
