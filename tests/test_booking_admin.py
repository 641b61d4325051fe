"""The practice admins' workspace: bookings listing, inspect view and the actions table, as an admin uses them."""

import csv
import datetime as dt
import io

from django.core.mail.backends.base import BaseEmailBackend

from wagtail.log_actions import registry as log_registry
from wagtail.models import ModelLogEntry

import pytest

from bookings import services
from bookings.models import Booking, BookingStatus, Note, Notification, NotificationKind
from bookings.notifications import MAX_ATTEMPTS, deliver_due
from tests.factories.bookings import book
from tests.workspace import act

NOW = dt.datetime.now(dt.UTC).replace(microsecond=0)


def _book(consultation, **kwargs):
    return book(consultation, now=NOW, **kwargs)


@pytest.fixture
def pending(consultation):
    return _book(consultation, reason="Joint pain in the mornings")


@pytest.mark.django_db
def test_listing_shows_bookings_without_health_details_and_finds_them(practice_client, pending):
    listing = practice_client.get("/admin/bookings/").content.decode()
    assert pending.reference in listing
    assert "Alex Visitor" in listing
    assert "Joint pain" not in listing
    found = practice_client.get("/admin/bookings/", {"q": pending.reference.lower()}).content.decode()
    assert pending.reference in found
    missing = practice_client.get("/admin/bookings/", {"q": "nobody-by-this-name"}).content.decode()
    assert pending.reference not in missing


@pytest.mark.django_db
def test_inspect_view_shows_everything_about_the_booking(practice_client, pending, consultation):
    other = _book(consultation, days=5, reason="Something else")
    page = practice_client.get(f"/admin/bookings/inspect/{pending.pk}/").content.decode()
    assert "Joint pain in the mornings" in page
    assert "Europe/Berlin" in page and "Europe/London" in page
    assert "alex@example.com" in page
    assert services.CONSENT_TEXT_VERSION in page
    assert "Request received (to the client)" in page
    assert "Requested by the client" in page
    assert other.reference in page
    assert ">Confirm</a>" in page  # confirming asks for the video link on a page of its own


@pytest.mark.django_db
def test_admin_confirms_with_an_audit_entry_a_message_and_an_email(practice_client, practice_admin, pending):
    response = act(practice_client, pending, "confirm")
    pending.refresh_from_db()
    assert pending.status == BookingStatus.CONFIRMED
    assert f"Booking {pending.reference} confirmed" in response.content.decode()
    assert Notification.objects.filter(booking=pending, kind=NotificationKind.CONFIRMED).exists()
    entry = ModelLogEntry.objects.get(action="bookings.confirm")
    assert entry.user_id == practice_admin.pk and entry.object_id == str(pending.pk)
    again = act(practice_client, pending, "confirm").content.decode()
    assert "is not possible for a confirmed booking" in again
    assert ModelLogEntry.objects.filter(action="bookings.confirm").count() == 1


@pytest.mark.django_db
def test_decline_with_a_personal_message_goes_into_the_email_only(practice_client, pending):
    response = act(practice_client, pending, "decline", message="I am away that week; please try May.")
    assert response.status_code == 200
    pending.refresh_from_db()
    assert pending.status == BookingStatus.DECLINED
    notification = Notification.objects.get(booking=pending, kind=NotificationKind.DECLINED)
    assert notification.message == "I am away that week; please try May."
    entry = ModelLogEntry.objects.get(action="bookings.decline")
    assert "May" not in str(entry.data)


@pytest.mark.django_db
def test_an_action_on_a_booking_changed_in_another_tab_changes_nothing(practice_client, pending):
    stale = pending.updated_at.isoformat()
    services.booking_move(booking=pending, new_start=pending.starts_at + dt.timedelta(hours=2), by_client=True, now=NOW)
    response = practice_client.post(f"/admin/bookings/{pending.pk}/confirm/", {"seen": stale}, follow=True)
    assert "changed since you opened it" in response.content.decode()
    assert Booking.objects.get(pk=pending.pk).status == BookingStatus.PENDING


@pytest.mark.django_db
def test_move_offers_free_times_and_refuses_one_taken_meanwhile(practice_client, pending, consultation):
    day = (pending.starts_at + dt.timedelta(days=1)).date()
    form = practice_client.get(f"/admin/bookings/{pending.pk}/move/", {"day": day.isoformat()}).content.decode()
    target = pending.starts_at + dt.timedelta(days=1)
    assert target.isoformat() in form
    _book(consultation, days=4, hour=10, email="someone@example.com")  # takes the target meanwhile
    refused = act(practice_client, pending, "move", new_start=target.isoformat())
    assert refused.status_code in (400, 409)
    pending.refresh_from_db()
    assert pending.starts_at != target
    free = target + dt.timedelta(hours=2)
    moved = act(practice_client, pending, "move", new_start=free.isoformat())
    assert "moved" in moved.content.decode()
    pending.refresh_from_db()
    assert pending.starts_at == free
    assert Notification.objects.filter(booking=pending, kind=NotificationKind.MOVED).exists()


@pytest.mark.django_db
def test_notes_are_kept_and_never_queued_as_email(practice_client, pending):
    act(practice_client, pending, "note", text="Prefers afternoons; check ferritin results.")
    assert Note.objects.get(booking=pending).text.startswith("Prefers afternoons")
    page = practice_client.get(f"/admin/bookings/inspect/{pending.pk}/").content.decode()
    assert "check ferritin results" in page
    assert all("ferritin" not in notification.message for notification in Notification.objects.all())


@pytest.mark.django_db
def test_closing_waits_for_the_appointment(practice_client, pending):
    act(practice_client, pending, "confirm")
    response = act(practice_client, pending, "completed")
    assert "available once the consultation has started" in response.content.decode()
    pending.refresh_from_db()
    assert pending.status == BookingStatus.CONFIRMED


@pytest.mark.django_db
def test_resend_makes_a_second_copy_of_the_confirmation(practice_client, pending):
    act(practice_client, pending, "confirm")
    act(practice_client, pending, "resend")
    copies = Notification.objects.filter(booking=pending, kind=NotificationKind.CONFIRMED).values_list(
        "copy", flat=True
    )
    assert sorted(copies) == [0, 1]


@pytest.mark.django_db
def test_unknown_actions_and_get_requests_change_nothing(practice_client, pending):
    assert practice_client.post(f"/admin/bookings/{pending.pk}/delete/").status_code == 404
    assert practice_client.get(f"/admin/bookings/{pending.pk}/confirm/").status_code == 200
    assert Booking.objects.get(pk=pending.pk).status == BookingStatus.PENDING


@pytest.mark.django_db
def test_csv_export_neutralises_formulas(practice_client, consultation):
    _book(consultation, name='=HYPERLINK("http://x","y")')
    response = practice_client.get("/admin/bookings/", {"export": "csv"})
    rows = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode())))
    assert rows[0][0] == "Reference"
    assert rows[1][rows[0].index("Client")] == '\'=HYPERLINK("http://x","y")'


@pytest.mark.django_db
def test_every_action_in_the_table_is_complete(practice_client, consultation):
    """Each action has a service, a registered log action, a message and a button only in its allowed states."""
    for table in (services.BOOKING_ACTIONS, services.ENQUIRY_ACTIONS):
        for name, action in table.items():
            assert action.name == name
            assert callable(action.service)
            assert log_registry.action_exists(action.log_action), action.log_action
            assert "{reference}" in action.message
            assert action.allowed_from, name
    for status in BookingStatus.values:
        booking = _book(consultation, days=2 + BookingStatus.values.index(status), email=f"{status}@example.com")
        Booking.objects.filter(pk=booking.pk).update(status=status)
        page = practice_client.get(f"/admin/bookings/inspect/{booking.pk}/").content.decode()
        for action in services.BOOKING_ACTIONS.values():
            if action.name == "note":
                continue
            shown = f">{action.label}</" in page
            assert shown == action.allowed(Booking.objects.get(pk=booking.pk), now=NOW), (status, action.name)


@pytest.mark.django_db
def test_history_shows_request_client_move_confirm_and_cancel_with_their_actors(practice_client, pending):
    services.booking_move(booking=pending, new_start=pending.starts_at + dt.timedelta(hours=2), by_client=True, now=NOW)
    act(practice_client, pending, "confirm")
    act(practice_client, pending, "cancel", message="")
    deliver_due()
    page = practice_client.get(f"/admin/bookings/inspect/{pending.pk}/").content.decode()
    history = page[page.index('id="history-heading"') :]
    lines = [
        "Requested by the client, by The client",
        "Moved by the client, by The client",
        "Booking confirmed, by Sam Assistant",
        "Booking cancelled by the practice, by Sam Assistant",
    ]
    positions = [history.index(line) for line in lines]
    assert positions == sorted(positions)
    assert "Email sent (Cancelled (to the client)), by The system" in history
    # Wagtail's own history view of the booking lists the same entries.
    wagtail_history = practice_client.get(f"/admin/bookings/history/{pending.pk}/").content.decode()
    assert "Moved by the client" in wagtail_history and "Booking cancelled by the practice" in wagtail_history


@pytest.mark.django_db
def test_the_worker_records_an_email_it_gives_up_on(pending, settings):
    settings.EMAIL_BACKEND = "tests.test_booking_admin.RefusingBackend"
    Notification.objects.filter(booking=pending).update(attempts=MAX_ATTEMPTS - 1)
    deliver_due(now=NOW + dt.timedelta(minutes=1))
    assert ModelLogEntry.objects.filter(action="bookings.email_failed", object_id=str(pending.pk)).count() == 2


class RefusingBackend(BaseEmailBackend):
    def send_messages(self, email_messages):
        raise ConnectionRefusedError("mail server down")


@pytest.mark.django_db
def test_opening_and_exporting_are_recorded_with_who_and_when(practice_client, practice_admin, pending):
    practice_client.get(f"/admin/bookings/inspect/{pending.pk}/")
    b"".join(practice_client.get("/admin/bookings/", {"export": "xlsx"}).streaming_content)
    entries = ModelLogEntry.objects.filter(
        object_id=str(pending.pk), action__in=["bookings.viewed", "bookings.exported"]
    )
    assert sorted(entry.action for entry in entries) == ["bookings.exported", "bookings.viewed"]
    assert {entry.user_id for entry in entries} == {practice_admin.pk}
    history = practice_client.get(f"/admin/bookings/inspect/{pending.pk}/").content.decode()
    assert "Opened, health details shown, by Sam Assistant" in history
    assert "Included in an export (XLSX), by Sam Assistant" in history


@pytest.mark.django_db
def test_a_day_far_out_of_range_shows_the_usual_day(practice_client, pending):
    for day in ("0001-01-01", "9999-12-31", "2026-02-30", "x"):
        assert practice_client.get(f"/admin/bookings/{pending.pk}/move/", {"day": day}).status_code == 200


@pytest.mark.parametrize("name", [" =1+1", "\n=HYPERLINK(1)", "\t@SUM(1)", "-2+3"])
def test_spreadsheet_safe_catches_formulas_behind_spaces_and_line_breaks(name):
    from bookings.viewsets import spreadsheet_safe

    assert spreadsheet_safe(name).startswith("'")
    assert spreadsheet_safe("Ann Smith") == "Ann Smith"
