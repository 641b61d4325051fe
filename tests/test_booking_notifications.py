"""Notifications through a real SMTP conversation: the mail server down, then back."""

import datetime as dt
import email
import socket

from django.core import mail
from django.test import override_settings

import icalendar
import pytest
from aiosmtpd.controller import Controller

from bookings import notifications, services
from bookings.models import BookingStatus, Notification, NotificationKind, NotificationStatus
from tests.factories.bookings import ConsultationTypeFactory, open_every_day, visitor_request

UTC = dt.UTC
NOW = dt.datetime(2026, 6, 1, 7, 0, tzinfo=UTC)
SLOT = dt.datetime(2026, 6, 3, 9, 0, tzinfo=UTC)
REASON = "Bloating after meals and tiredness"


class Inbox:
    def __init__(self):
        self.messages = []

    async def handle_DATA(self, server, session, envelope):
        self.messages.append(email.message_from_bytes(envelope.content))
        return "250 Message accepted"


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def consultation(practice_settings):
    open_every_day()
    return ConsultationTypeFactory(buffer_after_minutes=15)


def book(consultation, **overrides):
    return services.booking_request(
        consultation_type=consultation, starts_at=SLOT, request=visitor_request(reason=REASON, **overrides), now=NOW
    ).booking


def message_texts(message):
    """Every part of an email as text, attachments included."""
    parts = []
    for part in message.walk():
        payload = part.get_payload(decode=True)
        if payload:
            parts.append(payload.decode("utf-8", errors="replace"))
    return parts


def calendar_of(message):
    for part in message.walk():
        if part.get_content_type() == "text/calendar":
            return icalendar.Calendar.from_ical(part.get_payload(decode=True))
    return None


@pytest.mark.django_db
def test_request_is_saved_while_the_mail_server_is_down_and_each_email_goes_once_it_is_back(consultation):
    port = free_port()
    smtp = {
        "EMAIL_BACKEND": "django.core.mail.backends.smtp.EmailBackend",
        "EMAIL_HOST": "127.0.0.1",
        "EMAIL_PORT": port,
        "EMAIL_USE_TLS": False,
        "EMAIL_TIMEOUT": 2,
    }
    with override_settings(**smtp):
        booking = book(consultation)
        assert booking.pk and booking.status == BookingStatus.PENDING
        counts = notifications.deliver_due(now=NOW)
        assert counts == {"sent": 0, "skipped": 0, "retry": 2, "failed": 0}
        pending = Notification.objects.filter(status=NotificationStatus.PENDING)
        assert pending.count() == 2
        assert all(n.last_error and REASON not in n.last_error for n in pending)
        assert all(n.next_attempt_at > NOW for n in pending)
        assert notifications.deliver_due(now=NOW) == {"sent": 0, "skipped": 0, "retry": 0, "failed": 0}

        inbox = Inbox()
        server = Controller(inbox, hostname="127.0.0.1", port=port)
        server.start()
        try:
            later = NOW + dt.timedelta(minutes=5)
            assert notifications.deliver_due(now=later)["sent"] == 2
            assert notifications.deliver_due(now=later + dt.timedelta(hours=1))["sent"] == 0
        finally:
            server.stop()

    assert sorted(message["To"] for message in inbox.messages) == ["alex@example.com", "hello@example.com"]
    for message in inbox.messages:
        assert message.is_multipart()
        types = {part.get_content_type() for part in message.walk()}
        assert {"text/plain", "text/html"} <= types
        for text in message_texts(message):
            assert REASON not in text and "Bloating" not in text
    assert Notification.objects.filter(status=NotificationStatus.SENT).count() == 2


@pytest.mark.django_db
def test_confirmation_carries_a_calendar_file_with_the_right_utc_instants(consultation):
    booking = book(consultation)
    services.booking_confirm(booking=booking, now=NOW)
    notifications.deliver_due(now=NOW)
    confirmed = next(m for m in mail.outbox if "confirmed" in m.subject)
    ics = next(content for name, content, kind in confirmed.attachments if name.endswith(".ics"))
    calendar = icalendar.Calendar.from_ical(ics)
    event = next(iter(calendar.walk("VEVENT")))
    assert event.decoded("dtstart") == SLOT
    assert event.decoded("dtend") == SLOT + dt.timedelta(hours=1)
    assert event.decoded("dtstart").tzinfo is not None and event["dtstart"].to_ical().endswith(b"Z")
    assert str(event["summary"]) == "Consultation with Test Practice"
    assert str(event["uid"]).startswith(str(booking.uid))
    assert event["sequence"] == 0
    assert REASON not in (ics.decode() if isinstance(ics, bytes) else ics)


@pytest.mark.django_db
def test_moving_and_cancelling_update_the_same_calendar_event(consultation):
    booking = book(consultation)
    services.booking_confirm(booking=booking, now=NOW)
    new_start = SLOT + dt.timedelta(days=1)
    services.booking_move(booking=booking, new_start=new_start, by_client=True, now=NOW)
    services.booking_cancel(booking=booking, by_client=True, now=NOW)
    notifications.deliver_due(now=NOW)
    calendars = {}
    for message in mail.outbox:
        for name, content, _kind in message.attachments:
            if name.endswith(".ics"):
                calendars[message.subject.split(" (")[0]] = icalendar.Calendar.from_ical(content)
    # Confirmed and moved are skipped once the booking is cancelled: the client gets the cancellation.
    assert set(calendars) == {"Your consultation is cancelled"}
    cancelled = calendars["Your consultation is cancelled"]
    event = next(iter(cancelled.walk("VEVENT")))
    assert str(cancelled["method"]) == "CANCEL"
    assert str(event["status"]) == "CANCELLED"
    assert event["sequence"] == 2
    assert str(event["uid"]).startswith(str(booking.uid))


@pytest.mark.django_db
def test_a_moved_booking_sends_an_update_with_a_higher_sequence(consultation):
    booking = book(consultation)
    services.booking_confirm(booking=booking, now=NOW)
    notifications.deliver_due(now=NOW)
    first = icalendar.Calendar.from_ical(
        next(c for m in mail.outbox for n, c, k in m.attachments if n.endswith(".ics"))
    )
    mail.outbox.clear()
    new_start = SLOT + dt.timedelta(days=1)
    services.booking_move(booking=booking, new_start=new_start, by_client=True, now=NOW)
    notifications.deliver_due(now=NOW)
    moved = icalendar.Calendar.from_ical(
        next(c for m in mail.outbox for n, c, k in m.attachments if n.endswith(".ics"))
    )
    before, after = next(iter(first.walk("VEVENT"))), next(iter(moved.walk("VEVENT")))
    assert before["uid"] == after["uid"]
    assert after["sequence"] == before["sequence"] + 1
    assert after.decoded("dtstart") == new_start


@pytest.mark.django_db
def test_reminders_go_to_confirmed_bookings_and_recheck_the_state_when_sent(consultation, practice_settings):
    kept = book(consultation)
    services.booking_confirm(booking=kept, now=NOW)
    dropped = services.booking_request(
        consultation_type=consultation,
        starts_at=SLOT + dt.timedelta(hours=3),
        request=visitor_request(email="dropped@example.com"),
        now=NOW,
    ).booking
    services.booking_confirm(booking=dropped, now=NOW)
    notifications.deliver_due(now=NOW)
    mail.outbox.clear()

    day_before = SLOT - dt.timedelta(hours=20)
    assert notifications.queue_reminders(now=day_before) == 2
    assert notifications.queue_reminders(now=day_before) == 0
    services.booking_cancel(booking=dropped, by_client=False, now=day_before)
    notifications.deliver_due(now=day_before)
    reminders = [message for message in mail.outbox if message.subject.startswith("Reminder")]
    assert [message.to for message in reminders] == [["alex@example.com"]]
    assert (
        Notification.objects.get(booking=dropped, kind=NotificationKind.REMINDER).status == NotificationStatus.SKIPPED
    )


@pytest.mark.django_db
def test_no_email_in_the_outbox_mentions_the_reason(consultation):
    booking = book(consultation)
    services.booking_confirm(booking=booking, now=NOW)
    services.booking_move(booking=booking, new_start=SLOT + dt.timedelta(days=2), by_client=True, now=NOW)
    notifications.deliver_due(now=NOW)
    other = services.booking_request(
        consultation_type=consultation,
        starts_at=SLOT,
        request=visitor_request(reason=REASON, email="b@example.com"),
        now=NOW,
    ).booking
    services.booking_decline(booking=other, now=NOW)
    notifications.deliver_due(now=NOW)
    assert len(mail.outbox) >= 5
    for message in mail.outbox:
        texts = [message.subject, message.body, *[alt for alt, _ in message.alternatives]]
        texts += [content.decode() if isinstance(content, bytes) else content for _, content, _ in message.attachments]
        assert not any(REASON in text or "Bloating" in text for text in texts), message.subject


@pytest.mark.django_db
def test_moving_a_pending_request_tells_the_client_and_the_practice_without_a_calendar_file(consultation):
    booking = book(consultation)
    notifications.deliver_due(now=NOW)
    mail.outbox.clear()
    services.booking_move(booking=booking, new_start=SLOT + dt.timedelta(days=1), by_client=True, now=NOW)
    notifications.deliver_due(now=NOW)
    subjects = sorted(message.subject for message in mail.outbox)
    assert subjects == [
        f"Booking {booking.reference} moved by the client",
        f"Your consultation has a new time ({booking.reference})",
    ]
    moved = next(message for message in mail.outbox if message.subject.startswith("Your consultation"))
    assert "still waits for confirmation" in moved.body
    assert moved.attachments == []
