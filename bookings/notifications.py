"""
Emails and calendar files for bookings, and the worker that sends them from the outbox.

Privacy: no email body and no calendar file ever contains the reason for the consultation, an
enquiry's message, a note or any other health detail; they carry the reference, the kind of
consultation and the time, and, once the booking is confirmed, how to attend (bookings/meetings.py:
the video link, the address or that the practitioner will phone). The only free text in a client's
email is what the practice wrote for it: a personal message with a decline or cancellation, or a
reply to an enquiry. Calendar files use a neutral summary, a stable UID per booking, the booking's
SEQUENCE (raised on every move or cancellation) and times in UTC, which Google, Apple and Outlook
all read correctly.

Each email sent, and each one given up after MAX_ATTEMPTS, is recorded in the audit log of its
booking or enquiry, so that the admin's history shows it.

Delivery: `deliver_due` claims each due notification with a conditional UPDATE (so two workers
never send the same one), sends it, and records the result. A failure leaves it pending with a
later `next_attempt_at` (backoff: 1, 2, 4 … minutes, at most 6 hours) until MAX_ATTEMPTS.

After a crash: delivery is at least once. A worker killed after the mail server accepted an email
but before the row was marked sent leaves it "sending"; once that claim is older than
`stale_after()` another round takes it back and sends it again. The re-send carries the same
Message-ID (`message_id`: derived from the row, never from the clock), so mail programs show the
two copies as one message.

The reclaim window: a claim is stamped when it is made, just before its email is built and sent
over a fresh SMTP connection to its one recipient. Each step of that conversation (TCP connect,
greeting, EHLO, STARTTLS, TLS handshake, EHLO again, AUTH, MAIL, RCPT, DATA, the message, QUIT:
SMTP_STEPS = 12) waits at most EMAIL_TIMEOUT seconds, so a live worker is done with a claim within
SMTP_STEPS × EMAIL_TIMEOUT, plus STALE_MARGIN (1 minute) for building the email and writing the
result. A claim older than that belongs to a dead worker. At the default EMAIL_TIMEOUT of 10
seconds: 12 × 10 s + 60 s = 180 seconds, 3 minutes. Without EMAIL_TIMEOUT a hung server could hold
a live worker indefinitely, so the window is then STALE_SENDING_WITHOUT_TIMEOUT (15 minutes).
"""

import datetime as dt
import hashlib
import logging
from zoneinfo import ZoneInfo

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.db.models import F
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone

import icalendar

from . import meetings, selectors
from .models import Booking, BookingStatus, Notification, NotificationKind, NotificationStatus
from .services import CLIENT_EVENTS, record

logger = logging.getLogger(__name__)

MAX_ATTEMPTS = 12
SMTP_STEPS = 12  # the SMTP conversation's steps that each wait up to EMAIL_TIMEOUT (module docstring)
STALE_MARGIN = dt.timedelta(minutes=1)
STALE_SENDING_WITHOUT_TIMEOUT = dt.timedelta(minutes=15)
CONFIRMED_ONLY = {NotificationKind.CONFIRMED, NotificationKind.REMINDER}
PRACTICE_KINDS = {
    NotificationKind.PRACTICE_NEW_REQUEST,
    NotificationKind.PRACTICE_CHANGED,
    NotificationKind.PRACTICE_NEW_ENQUIRY,
}
ENQUIRY_KINDS = {
    NotificationKind.ENQUIRY_RECEIVED,
    NotificationKind.ENQUIRY_REPLY,
    NotificationKind.PRACTICE_NEW_ENQUIRY,
}


def backoff(attempts: int) -> dt.timedelta:
    return min(dt.timedelta(minutes=2 ** max(attempts - 1, 0)), dt.timedelta(hours=6))


def stale_after() -> dt.timedelta:
    """How long a notification may stay "sending" before it is taken to belong to a dead worker."""
    timeout = getattr(settings, "EMAIL_TIMEOUT", None)
    if not timeout:
        return STALE_SENDING_WITHOUT_TIMEOUT
    return SMTP_STEPS * dt.timedelta(seconds=timeout) + STALE_MARGIN


def site_host() -> str:
    """The site's host name (from WAGTAILADMIN_BASE_URL), for calendar UIDs and Message-IDs."""
    return settings.WAGTAILADMIN_BASE_URL.split("//", 1)[-1].split("/", 1)[0].split(":", 1)[0] or "localhost"


def message_id(notification: Notification) -> str:
    """
    The Message-ID of the notification's email: the same every time this row is sent, different for
    every other row. The hash covers what identifies the row beyond its pk (its booking's UID or its
    enquiry's reference, kind, sequence, copy and creation time), so a database started afresh,
    whose pks start again at 1, never reuses the Message-ID of an email already sent.
    """
    subject = notification.booking.uid if notification.booking_id else notification.enquiry.reference
    facts = "|".join(
        str(fact)
        for fact in (
            subject,
            notification.kind,
            notification.sequence,
            notification.copy,
            notification.created_at.isoformat(),
        )
    )
    digest = hashlib.sha256(facts.encode()).hexdigest()[:20]
    return f"<notification-{notification.pk}.{digest}@{site_host()}>"


def absolute_url(path: str) -> str:
    return settings.WAGTAILADMIN_BASE_URL.rstrip("/") + path


def manage_url(booking: Booking) -> str:
    return absolute_url(reverse("bookings:manage", kwargs={"token": booking.manage_token}))


def attend_url(booking: Booking) -> str:
    return absolute_url(reverse("bookings:attend", kwargs={"token": booking.attendance_token}))


def rebook_url(booking: Booking) -> str:
    consultation = booking.consultation_type
    if consultation.is_active:
        return absolute_url(reverse("bookings:choose_time", args=[consultation.slug]))
    return absolute_url(reverse("bookings:choose_type"))


def calendar_file(booking: Booking, *, now: dt.datetime) -> bytes:
    """An iCalendar invitation for the booking, or its cancellation once it is no longer active."""
    practice = selectors.practice_settings()
    cancelled = not booking.is_active
    calendar = icalendar.Calendar()
    calendar.add("prodid", "-//Practice website//Bookings//EN")
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    calendar.add("method", "CANCEL" if cancelled else "PUBLISH")
    event = icalendar.Event()
    event.add("uid", f"{booking.uid}@{site_host()}")
    event.add("sequence", booking.sequence)
    event.add("dtstamp", now.astimezone(dt.UTC))
    event.add("dtstart", booking.starts_at.astimezone(dt.UTC))
    event.add("dtend", booking.ends_at.astimezone(dt.UTC))
    event.add("summary", f"Consultation with {practice.practice_name}")
    # No manage link here: calendars get shared, and the link lets whoever has it cancel.
    description = f"Reference {booking.reference}. To change it, use the link in your email."
    meeting = meetings.meeting_details(booking, practice)
    if meeting is None:
        event.add("location", booking.consultation_type.get_format_display())
    else:
        event.add("location", meeting.location)
        if meeting.url:
            event.add("url", meeting.url)
            description += f"\nJoin the video call: {meeting.url}"
        if meeting.arrival_notes:
            description += f"\nArriving: {meeting.arrival_notes}"
    event.add("description", description)
    event.add("status", "CANCELLED" if cancelled else "CONFIRMED")
    if practice.email:
        event.add("organizer", f"mailto:{practice.email}", parameters={"CN": practice.practice_name})
    calendar.add_component(event)
    return calendar.to_ical()


def _times(booking: Booking, zone: ZoneInfo) -> dict:
    visitor_zone = selectors.zone_or_default(booking.visitor_time_zone, zone)
    return {
        "practice_start": booking.starts_at.astimezone(zone),
        "practice_zone": zone.key,
        "visitor_start": booking.starts_at.astimezone(visitor_zone),
        "visitor_zone": visitor_zone.key,
        "same_zone": visitor_zone.key == zone.key,
    }


def _render(template: str, context: dict, recipient: str) -> EmailMultiAlternatives:
    """
    Subject, plain text and HTML parts of an email from `email/<template>…`. The subject and the text
    part are rendered without HTML escaping (the "text" template engine); the HTML part with it.
    """
    subject = " ".join(render_to_string(f"email/{template}_subject.txt", context, using="text").split())
    text = render_to_string(f"email/{template}.txt", context, using="text")
    html = render_to_string(f"email/{template}.html", context)
    message = EmailMultiAlternatives(subject=subject, body=text, to=[recipient])
    message.attach_alternative(html, "text/html")
    return message


def build_enquiry_message(notification: Notification) -> EmailMultiAlternatives | None:
    """The acknowledgement, a reply, or the practice's alert (which never quotes the message)."""
    enquiry = notification.enquiry
    practice = selectors.practice_settings()
    context = {
        "enquiry": enquiry,
        "practice": practice,
        "reply": notification.message if notification.kind == NotificationKind.ENQUIRY_REPLY else "",
        "admin_url": absolute_url(reverse("enquiries:inspect", args=[enquiry.pk])),
    }
    if notification.kind in PRACTICE_KINDS:
        recipient = practice.notification_email or practice.email
        if not recipient:
            return None
    else:
        recipient = enquiry.email
    if not recipient:
        return None  # erased: there is nobody to write to
    return _render(notification.kind, context, recipient)


def build_message(notification: Notification, *, now: dt.datetime) -> EmailMultiAlternatives | None:
    """The email for `notification`, or None when the booking's state means it is no longer needed."""
    if notification.enquiry_id:
        return build_enquiry_message(notification)
    booking = notification.booking
    kind = notification.kind
    if kind in CONFIRMED_ONLY and booking.status != BookingStatus.CONFIRMED:
        return None
    if kind == NotificationKind.MOVED and not booking.is_active:
        return None
    if kind == NotificationKind.REQUEST_RECEIVED and booking.status != BookingStatus.PENDING:
        return None
    if kind == NotificationKind.REBOOK_OFFER and booking.status != BookingStatus.NO_SHOW:
        return None
    if kind in (NotificationKind.MOVED, NotificationKind.REMINDER) and notification.sequence != booking.sequence:
        return None  # a later change has its own message
    if kind == NotificationKind.REMINDER and booking.starts_at <= now:
        return None
    practice = selectors.practice_settings()
    zone = practice.zone
    context = {
        "booking": booking,
        "practice": practice,
        "consultation": booking.consultation_type,
        "manage_url": manage_url(booking),
        "admin_url": absolute_url(reverse("bookings_admin:inspect", args=[booking.pk])),
        "personal_message": notification.message,
        # How to attend: given only once the booking is confirmed (None otherwise).
        "meeting": meetings.meeting_details(booking, practice),
        **_times(booking, zone),
    }
    if kind == NotificationKind.CONFIRMED:
        context["policy_html"] = meetings.policy_html(practice.booking_policy)
        context["policy_text"] = meetings.policy_text(practice.booking_policy)
    if kind == NotificationKind.REMINDER:
        context["attend_url"] = attend_url(booking)
    if kind == NotificationKind.REBOOK_OFFER:
        context["rebook_url"] = rebook_url(booking)
    if kind in PRACTICE_KINDS:
        recipient = practice.notification_email or practice.email
        if not recipient:
            return None
    else:
        recipient = booking.email
    if not recipient:
        return None  # erased: there is nobody to write to
    message = _render(f"booking_{kind}", context, recipient)
    if kind == NotificationKind.CANCELLED or (
        kind in (NotificationKind.CONFIRMED, NotificationKind.MOVED) and booking.status == BookingStatus.CONFIRMED
    ):
        method = "CANCEL" if kind == NotificationKind.CANCELLED else "PUBLISH"
        message.attach("consultation.ics", calendar_file(booking, now=now), f"text/calendar; method={method}")
    return message


def deliver_due(*, now: dt.datetime | None = None, limit: int = 50) -> dict:
    """Send the notifications that are due. Returns how many were sent, skipped, retried, failed."""
    now = now or timezone.now()
    # Claims are stamped with the real time they were made, so a slow round is never taken for a dead one.
    Notification.objects.filter(
        status=NotificationStatus.SENDING, next_attempt_at__lte=timezone.now() - stale_after()
    ).update(status=NotificationStatus.PENDING)
    counts = {"sent": 0, "skipped": 0, "retry": 0, "failed": 0}
    for pk in list(Notification.objects.due(now=now).values_list("pk", flat=True)[:limit]):
        claimed = Notification.objects.filter(pk=pk, status=NotificationStatus.PENDING).update(
            status=NotificationStatus.SENDING, attempts=F("attempts") + 1, next_attempt_at=timezone.now()
        )
        if not claimed:
            continue  # another worker has it
        # No email needs the reason or the enquiry's message, so they are not loaded; the practice's
        # own words are loaded when the email is built, where a failure to read them is retried.
        notification = (
            Notification.objects.select_related("booking__consultation_type", "enquiry")
            .defer("message", "booking__reason", "enquiry__message")
            .get(pk=pk)
        )
        try:
            message = build_message(notification, now=now)
            if message is None:
                notification.status = NotificationStatus.SKIPPED
                counts["skipped"] += 1
            else:
                message.extra_headers["Message-ID"] = message_id(notification)
                message.send(fail_silently=False)
                notification.status = NotificationStatus.SENT
                notification.sent_at = now
                counts["sent"] += 1
                _record(notification, "email_sent", now=now)
            notification.last_error = ""
        except Exception as error:
            # Only the kind of error is kept: exception texts can quote addresses or message parts.
            notification.last_error = type(error).__name__
            if notification.attempts >= MAX_ATTEMPTS:
                notification.status = NotificationStatus.FAILED
                counts["failed"] += 1
                _record(notification, "email_failed", now=now)
            else:
                notification.status = NotificationStatus.PENDING
                notification.next_attempt_at = now + backoff(notification.attempts)
                counts["retry"] += 1
            logger.warning(
                "Notification %s for %s not delivered (%s); attempt %s",
                notification.pk,
                notification.subject.reference,
                notification.last_error,
                notification.attempts,
            )
        notification.save(update_fields=["status", "sent_at", "last_error", "next_attempt_at"])
    return counts


def _record(notification: Notification, event: str, *, now: dt.datetime) -> None:
    record(
        notification.subject,
        CLIENT_EVENTS[event][0],
        now=now,
        actor="system",
        email=notification.get_kind_display(),
    )


def queue_reminders(*, now: dt.datetime) -> int:
    """Queue a reminder for each confirmed booking starting within the practice's reminder period."""
    hours = selectors.practice_settings().reminder_hours
    due = Booking.objects.filter(
        status=BookingStatus.CONFIRMED, starts_at__gt=now, starts_at__lte=now + dt.timedelta(hours=hours)
    ).only("pk", "sequence")
    queued = 0
    for booking in due:
        _, created = Notification.objects.get_or_create(
            booking=booking,
            kind=NotificationKind.REMINDER,
            sequence=booking.sequence,
            defaults={"next_attempt_at": now},
        )
        queued += created
    return queued
