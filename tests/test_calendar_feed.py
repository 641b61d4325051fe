"""A practice admin's private calendar feed: what it holds and hides, its secret address, the page and the command."""

import datetime as dt
import hashlib
import io
import re
from urllib.parse import urlsplit

from django.core.management import CommandError, call_command
from django.test import Client

from wagtail.models import ModelLogEntry

import icalendar
import pytest
import time_machine

from accounts import services
from accounts.models import CalendarFeedToken
from bookings import services as booking_services
from bookings.calendar_feed import practice_feed
from bookings.models import BookingStatus
from bookings.notifications import calendar_file
from tests.factories.bookings import book

NOW = dt.datetime(2026, 10, 5, 8, 0, tzinfo=dt.UTC)
PHONE = "07700 900123"
EMAIL = "alex@example.com"
REASON = "Bloating after meals and tiredness"  # the factory's reason for the consultation


@pytest.fixture
def clock():
    with time_machine.travel(NOW, tick=False):
        yield


@pytest.fixture
def bookings(consultation, clock, settings):
    """One booking of each kind the feed must show or leave out, all for the same client details."""
    settings.BOOKING_MAX_ACTIVE_PER_EMAIL = 10  # more than a visitor may hold at once

    def make(name, *, now=NOW, days):
        return book(consultation, now=now, days=days, name=name, phone=PHONE, email=EMAIL)

    made = {
        "pending": make("Pat Pending", days=3),
        "confirmed": make("Cora Confirmed", days=4),
        "cancelled": make("Cass Cancelled", days=5),
        "declined": make("Dee Declined", days=6),
        "completed": make("Cam Completed", now=NOW - dt.timedelta(days=15), days=5),  # 10 days ago
        "too_old": make("Olive Old", now=NOW - dt.timedelta(days=45), days=5),  # 40 days ago
        "too_far": make("Fay Far", now=NOW + dt.timedelta(days=10), days=55),  # beyond the 60-day horizon
    }
    booking_services.booking_confirm(booking=made["confirmed"], now=NOW)
    booking_services.booking_cancel(booking=made["cancelled"], by_client=True, now=NOW)
    booking_services.booking_decline(booking=made["declined"], now=NOW)
    booking_services.booking_confirm(booking=made["completed"], now=NOW - dt.timedelta(days=12))
    booking_services.booking_complete(booking=made["completed"], now=NOW)
    booking_services.booking_confirm(booking=made["too_old"], now=NOW - dt.timedelta(days=42))
    booking_services.booking_confirm(booking=made["too_far"], now=NOW + dt.timedelta(days=10))
    for booking in made.values():
        booking.refresh_from_db()
    return made


def feed_path(token):
    return f"/calendar/{token}.ics"


def events_by_uid(body: bytes) -> dict:
    calendar = icalendar.Calendar.from_ical(body)
    return {str(event["UID"]): event for event in calendar.walk("VEVENT")}


def feed_uid(booking):
    return f"practice-{booking.uid}@testserver"


@pytest.mark.django_db
def test_feed_holds_pending_and_confirmed_consultations_in_range_and_marks_cancellations(
    client, practice_admin, bookings
):
    token = services.calendar_feed_token_create(user=practice_admin, now=NOW)
    response = client.get(feed_path(token))

    assert response.status_code == 200
    assert response["Content-Type"] == "text/calendar; charset=utf-8"
    calendar = icalendar.Calendar.from_ical(response.content)
    assert str(calendar["X-WR-CALNAME"]) == "Test Practice consultations"
    assert calendar["REFRESH-INTERVAL"].dt == dt.timedelta(minutes=15)
    assert "X-PUBLISHED-TTL:PT15M" in response.content.decode()
    events = events_by_uid(response.content)
    expected = {
        "pending": "TENTATIVE",
        "confirmed": "CONFIRMED",
        "completed": "CONFIRMED",
        "cancelled": "CANCELLED",
        "declined": "CANCELLED",
    }
    assert set(events) == {feed_uid(bookings[kind]) for kind in expected}
    for kind, status in expected.items():
        booking, event = bookings[kind], events[feed_uid(bookings[kind])]
        assert str(event["STATUS"]) == status, kind
        assert int(event["SEQUENCE"]) == booking.sequence
        assert event["DTSTAMP"].dt == booking.updated_at
        assert event["DTSTART"].dt == booking.starts_at and event["DTSTART"].dt.utcoffset() == dt.timedelta(0)
        assert event["DTEND"].dt == booking.ends_at
        assert booking.name in str(event["SUMMARY"]) and "Initial consultation (Video call)" in str(event["SUMMARY"])
        inspect = f"http://testserver/admin/bookings/inspect/{booking.pk}/"
        assert str(event["URL"]) == inspect and inspect in str(event["DESCRIPTION"])
    assert int(events[feed_uid(bookings["cancelled"])]["SEQUENCE"]) == 1  # raised by the cancellation
    assert str(events[feed_uid(bookings["pending"])]["SUMMARY"]).startswith("Request: ")


@pytest.mark.django_db
def test_feed_never_holds_the_reason_or_contact_details(client, practice_admin, bookings):
    token = services.calendar_feed_token_create(user=practice_admin, now=NOW)
    body = client.get(feed_path(token)).content.decode()
    unfolded = body.replace("\r\n ", "")  # iCalendar folds long lines; a split word must not slip through

    assert "Pat Pending" in unfolded
    for secret in (REASON, "Bloating", EMAIL, "mailto:", PHONE, PHONE.replace(" ", "")):
        assert secret not in unfolded


@pytest.mark.django_db
def test_feed_uids_differ_from_the_clients_calendar_file(practice_settings, bookings):
    booking = bookings["confirmed"]
    client_uid = str(icalendar.Calendar.from_ical(calendar_file(booking, now=NOW)).walk("VEVENT")[0]["UID"])
    feed = events_by_uid(practice_feed(now=NOW, calendar_name="Consultations"))

    assert feed_uid(booking) in feed and client_uid not in feed


@pytest.mark.django_db
def test_feed_is_never_kept_by_a_cache(client, practice_admin, bookings):
    token = services.calendar_feed_token_create(user=practice_admin, now=NOW)
    response = client.get(feed_path(token))

    assert response["Cache-Control"] == "private, no-store"
    assert "public" not in response["Cache-Control"] and "max-age" not in response["Cache-Control"]


@pytest.mark.django_db
def test_token_is_stored_only_as_a_hash_and_records_its_last_use(client, practice_admin, practice_settings, clock):
    token = services.calendar_feed_token_create(user=practice_admin, now=NOW)
    feed = CalendarFeedToken.objects.get(user=practice_admin)

    assert len(token) >= 43
    assert feed.token_hash == hashlib.sha256(token.encode()).hexdigest() and token not in feed.token_hash
    assert feed.last_used_at is None
    assert client.get(feed_path(token)).status_code == 200
    feed.refresh_from_db()
    assert feed.last_used_at == NOW


@pytest.mark.django_db
def test_a_replaced_address_gives_404_and_the_new_one_works(client, practice_admin, practice_settings, clock):
    old = services.calendar_feed_token_create(user=practice_admin, now=NOW)
    new = services.calendar_feed_token_create(user=practice_admin, now=NOW)

    assert client.get(feed_path(old)).status_code == 404
    assert client.get(feed_path(new)).status_code == 200
    assert CalendarFeedToken.objects.filter(user=practice_admin).count() == 1
    assert client.get(feed_path("not-a-token")).status_code == 404


@pytest.mark.django_db
def test_the_address_gives_404_without_the_permission_to_see_bookings(
    client, practice_admin, page_editor, practice_settings, clock
):
    editor_token = services.calendar_feed_token_create(user=page_editor, now=NOW)
    assert client.get(feed_path(editor_token)).status_code == 404

    token = services.calendar_feed_token_create(user=practice_admin, now=NOW)
    assert client.get(feed_path(token)).status_code == 200
    practice_admin.is_active = False
    practice_admin.save()
    assert client.get(feed_path(token)).status_code == 404

    practice_admin.is_active = True
    practice_admin.save()
    practice_admin.groups.clear()
    assert client.get(feed_path(token)).status_code == 404


@pytest.mark.django_db
def test_the_command_prints_a_working_address_and_refuses_to_replace_it_without_rotate(
    client, practice_admin, practice_settings, clock
):
    out = io.StringIO()
    call_command("calendar_feed_url", "assistant", stdout=out)
    first = out.getvalue().strip()
    assert re.fullmatch(r"http://testserver/calendar/[A-Za-z0-9_-]{43}\.ics", first)
    assert client.get(urlsplit(first).path).status_code == 200

    with pytest.raises(CommandError, match="--rotate"):
        call_command("calendar_feed_url", "assistant", stdout=io.StringIO())
    assert client.get(urlsplit(first).path).status_code == 200  # refused: the address still works

    out = io.StringIO()
    call_command("calendar_feed_url", "assistant", "--rotate", stdout=out)
    second = out.getvalue().strip()
    assert second != first
    assert client.get(urlsplit(first).path).status_code == 404
    assert client.get(urlsplit(second).path).status_code == 200


@pytest.mark.django_db
def test_the_command_refuses_someone_who_cannot_see_bookings(page_editor, practice_settings):
    with pytest.raises(CommandError, match="cannot see bookings"):
        call_command("calendar_feed_url", "editor", stdout=io.StringIO())
    with pytest.raises(CommandError, match="no user called"):
        call_command("calendar_feed_url", "nobody", stdout=io.StringIO())
    assert not CalendarFeedToken.objects.exists()


def shown_address(html: str) -> str:
    match = re.search(r'value="(http://testserver/calendar/[A-Za-z0-9_-]+\.ics)"', html)
    assert match, "the new address is shown"
    return urlsplit(match.group(1)).path


@pytest.mark.django_db
def test_the_admin_page_makes_and_replaces_the_address(practice_client, practice_admin, practice_settings, clock):
    page = practice_client.get("/admin/calendar-feed/")
    assert page.status_code == 200
    html = page.content.decode()
    assert "You do not have a calendar address yet." in html
    assert "csrfmiddlewaretoken" in html and 'method="post"' in html

    made = practice_client.post("/admin/calendar-feed/")
    assert made.status_code == 200 and made["Cache-Control"].startswith("max-age=0")
    html = made.content.decode()
    first = shown_address(html)
    for app_step in ("From URL", "New Calendar Subscription", "Subscribe from web"):
        assert app_step in html
    assert Client().get(first).status_code == 200

    again = practice_client.get("/admin/calendar-feed/").content.decode()
    assert "You have a calendar address" in again and "/calendar/" not in again  # shown once only

    replaced = practice_client.post("/admin/calendar-feed/").content.decode()
    second = shown_address(replaced)
    assert "The old address has stopped working." in replaced
    assert Client().get(first).status_code == 404
    assert Client().get(second).status_code == 200
    assert ModelLogEntry.objects.filter(action="accounts.calendar_feed_create", user=practice_admin).count() == 1
    assert ModelLogEntry.objects.filter(action="accounts.calendar_feed_replace", user=practice_admin).count() == 1


@pytest.mark.django_db
def test_the_account_menu_links_to_the_page_for_practice_admins_only(
    practice_client, client, page_editor, practice_settings
):
    assert 'href="/admin/calendar-feed/"' in practice_client.get("/admin/account/").content.decode()

    editor = Client()
    editor.force_login(page_editor)
    assert 'href="/admin/calendar-feed/"' not in editor.get("/admin/account/").content.decode()
    assert editor.get("/admin/calendar-feed/").status_code in (302, 403)
    assert editor.post("/admin/calendar-feed/").status_code in (302, 403)
    assert not CalendarFeedToken.objects.exists()


@pytest.mark.django_db
def test_the_admin_page_needs_the_second_factor(client, practice_admin, practice_settings):
    client.force_login(practice_admin)  # password only
    response = client.post("/admin/calendar-feed/")
    assert response.status_code == 302 and response["Location"].startswith("/admin/two-factor/")
    assert not CalendarFeedToken.objects.exists()


def test_bookings_status_table_covers_every_status():
    from bookings.calendar_feed import EVENT_STATUS

    assert set(EVENT_STATUS) == set(BookingStatus)
