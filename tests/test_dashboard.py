"""The practice admin's day at a glance on the Wagtail dashboard, and the sidebar's waiting counts."""

import datetime as dt
import json
import re
import uuid

from django.db import connection
from django.test.utils import CaptureQueriesContext

import pytest
import time_machine

from bookings import services
from bookings.dashboard import waited
from bookings.models import Booking, Enquiry, EnquiryStatus
from tests.factories.bookings import book

NOW = dt.datetime(2025, 3, 4, 9, 0, tzinfo=dt.UTC)  # a Tuesday; London is on UTC until 30 March
REASON = "Joint pain in the mornings"
MESSAGE = "My hair is falling out in patches"


@pytest.fixture(autouse=True)
def _clock():
    """The dashboard reads the clock: hold it at NOW, when the requests arrive."""
    with time_machine.travel(NOW, tick=False):
        yield


def _book(consultation, *, received=NOW, **kwargs):
    kwargs.setdefault("email", f"client{Booking.objects.count()}@example.com")  # one client holds at most 3
    booking = book(consultation, now=NOW, reason=REASON, **kwargs)
    Booking.objects.filter(pk=booking.pk).update(created_at=received)
    return booking


def _enquiry(*, received=NOW, **overrides):
    values = {
        "name": "Jo Sender",
        "email": "jo@example.com",
        "message": MESSAGE,
        "topic": "booking",
        "consent_privacy": True,
        "idempotency_key": uuid.uuid4(),
    }
    values.update(overrides)
    enquiry = services.enquiry_submit(request=services.EnquiryRequest(**values), now=NOW)
    Enquiry.objects.filter(pk=enquiry.pk).update(created_at=received)
    return enquiry


def _panel(html, name):
    """The inner HTML of one of the dashboard's panels, or None when the page has no such panel."""
    match = re.search(rf'<section [^>]*id="practice-{name}-section".*?</section>', html, re.S)
    return match.group(0) if match else None


def _sidebar_strings(html):
    """Every text in the sidebar's props (the JSON that Wagtail's sidebar is drawn from)."""
    match = re.search(r'<script id="wagtail-sidebar-props" type="application/json">(.*?)</script>', html, re.S)
    assert match, "the admin page has no sidebar props"
    found = []

    def walk(value):
        if isinstance(value, dict):
            for item in value.values():
                walk(item)
        elif isinstance(value, list):
            for item in value:
                walk(item)
        elif isinstance(value, str):
            found.append(value)

    walk(json.loads(match.group(1)))
    return found


@pytest.fixture
def day(consultation):
    """Two requests waiting (the older one first), a confirmed consultation today, one later, one new enquiry."""
    older = _book(consultation, days=3, hour=11, name="Alex Visitor", received=NOW - dt.timedelta(days=2, hours=5))
    newer = _book(consultation, days=2, hour=10, name="Bea Client", received=NOW - dt.timedelta(hours=3))
    today = _book(consultation, days=0, hour=14, name="Cy Today")
    services.booking_confirm(booking=today, now=NOW)
    later = _book(consultation, days=20, name="Dee Later")
    services.booking_confirm(booking=later, now=NOW)
    enquiry = _enquiry(received=NOW - dt.timedelta(days=1, hours=2))
    answered = _enquiry(name="Ann Answered")
    Enquiry.objects.filter(pk=answered.pk).update(status=EnquiryStatus.ANSWERED)
    return {"older": older, "newer": newer, "today": today, "later": later, "enquiry": enquiry}


@pytest.mark.django_db
def test_panel_counts_and_links_what_waits_and_what_is_coming(practice_client, day):
    html = practice_client.get("/admin/").content.decode()

    waiting = _panel(html, "waiting")
    assert "Waiting for you (2)" in waiting
    older_link = f'href="/admin/bookings/inspect/{day["older"].pk}/"'
    newer_link = f'href="/admin/bookings/inspect/{day["newer"].pk}/"'
    assert waiting.index(older_link) < waiting.index(newer_link)  # the longest wait first
    assert "Alex Visitor" in waiting and "Initial consultation" in waiting
    assert "Fri 7 Mar, 11:00" in waiting  # the requested time, in the practice's zone
    assert "Cy Today" not in waiting

    week = _panel(html, "week")
    assert "Today and the next 7 days (3)" in week
    assert week.index(">Today<") < week.index("Cy Today") < week.index(">Thursday 6 March<")
    assert week.index("Bea Client") < week.index(">Friday 7 March<") < week.index("Alex Visitor")
    assert f'href="/admin/bookings/inspect/{day["today"].pk}/"' in week
    assert "14:00–15:00" in week
    assert "Dee Later" not in week
    assert 'href="/admin/bookings/agenda/"' in week
    assert 'href="/admin/bookings/"' in week

    enquiries = _panel(html, "enquiries")
    assert "Unanswered enquiries (1)" in enquiries
    assert f'href="/admin/enquiries/inspect/{day["enquiry"].pk}/"' in enquiries
    assert "Jo Sender" in enquiries and "A question about booking" in enquiries
    assert "Ann Answered" not in enquiries
    assert 'href="/admin/enquiries/"' in enquiries


@pytest.mark.django_db
def test_panel_says_how_long_each_has_waited(practice_client, day):
    html = practice_client.get("/admin/").content.decode()
    assert "waiting 2 days" in _panel(html, "waiting")
    assert "waiting 3 hours" in _panel(html, "waiting")
    assert "waiting 1 day<" in _panel(html, "enquiries")


def test_waited_counts_whole_hours_then_whole_days():
    assert waited(NOW - dt.timedelta(minutes=59), NOW) == "less than an hour"
    assert waited(NOW - dt.timedelta(hours=1), NOW) == "1 hour"
    assert waited(NOW - dt.timedelta(hours=23, minutes=59), NOW) == "23 hours"
    assert waited(NOW - dt.timedelta(hours=24), NOW) == "1 day"
    assert waited(NOW - dt.timedelta(days=9, hours=23), NOW) == "9 days"


@pytest.mark.django_db
def test_panel_never_shows_a_reason_or_a_message(practice_client, day):
    html = practice_client.get("/admin/").content.decode()
    assert _panel(html, "waiting") is not None
    assert REASON not in html
    assert MESSAGE not in html


@pytest.mark.django_db
def test_panel_cuts_long_lists_and_links_to_the_filtered_listing(practice_client, consultation):
    for days in range(1, 13):
        _book(consultation, days=days)
    html = practice_client.get("/admin/").content.decode()
    waiting = _panel(html, "waiting")
    assert "Waiting for you (12)" in waiting
    assert waiting.count('href="/admin/bookings/inspect/') == 10
    assert '<a href="/admin/bookings/?status=pending">and 2 more</a>' in waiting
    listing = practice_client.get("/admin/bookings/?status=pending")
    assert listing.status_code == 200


@pytest.mark.django_db
def test_panel_shows_an_empty_day_plainly(practice_client, practice_settings):
    html = practice_client.get("/admin/").content.decode()
    assert "Waiting for you (0)" in html
    assert "No requests are waiting for an answer." in html
    assert "Nothing booked." in _panel(html, "week")
    assert "Unanswered enquiries (0)" in html


@pytest.mark.django_db
def test_sidebar_labels_carry_the_waiting_counts(practice_client, consultation):
    _book(consultation, days=1)
    _book(consultation, days=2)
    _enquiry()
    strings = _sidebar_strings(practice_client.get("/admin/").content.decode())
    assert "Bookings (2 waiting)" in strings
    assert "Enquiries (1 waiting)" in strings


@pytest.mark.django_db
def test_page_editor_sees_neither_the_bookings_menu_nor_the_panel(client, page_editor, day):
    client.force_login(page_editor)
    response = client.get("/admin/")
    assert response.status_code == 200
    html = response.content.decode()
    strings = _sidebar_strings(html)
    assert not [label for label in strings if label.startswith(("Bookings", "Enquiries"))]
    assert _panel(html, "waiting") is None
    assert "Waiting for you" not in html
    assert "Alex Visitor" not in html


@pytest.mark.django_db
def test_panel_costs_the_same_queries_for_3_or_30_bookings(practice_client, consultation):
    def add(count, start):
        for index in range(start, start + count):
            _book(consultation, days=1 + index // 8, hour=9 + index % 8)
            _enquiry(name=f"Sender {index}")

    practice_client.get("/admin/")  # the first visit sets up the user's profile and caches
    add(3, 0)
    with CaptureQueriesContext(connection) as few:
        assert "Waiting for you (3)" in practice_client.get("/admin/").content.decode()
    add(27, 3)
    with CaptureQueriesContext(connection) as many:
        assert "Waiting for you (30)" in practice_client.get("/admin/").content.decode()
    assert len(many) == len(few)
