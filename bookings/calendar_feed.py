"""
A practice admin's calendar feed: the consultations, for a calendar app to subscribe to.

What it holds: every booking that starts from FEED_PAST before `now` up to the booking horizon (the
largest `horizon_days` of the active consultation types) after it. Pending requests are TENTATIVE,
confirmed ones (and ones already completed or missed) CONFIRMED, and declined or cancelled ones
CANCELLED, so that a subscribed calendar drops them rather than keeping a stale copy.

Privacy: an event names the client and the consultation type, its format and a link to the
booking in the admin; never the reason, a note, an email address or a phone number. Those columns
are not even read. Times are in UTC; each event has a stable UID (distinct from the one in the
client's own calendar file), the booking's SEQUENCE and its last change as DTSTAMP.
"""

import datetime as dt

from django.conf import settings
from django.db.models import Max
from django.urls import reverse

import icalendar

from .models import Booking, BookingStatus, ConsultationType

FEED_PAST = dt.timedelta(days=30)
REFRESH = dt.timedelta(minutes=15)
DEFAULT_HORIZON_DAYS = ConsultationType._meta.get_field("horizon_days").default

EVENT_STATUS = {
    BookingStatus.PENDING: "TENTATIVE",
    BookingStatus.CONFIRMED: "CONFIRMED",
    BookingStatus.COMPLETED: "CONFIRMED",
    BookingStatus.NO_SHOW: "CONFIRMED",
    BookingStatus.DECLINED: "CANCELLED",
    BookingStatus.CANCELLED_BY_CLIENT: "CANCELLED",
    BookingStatus.CANCELLED_BY_PRACTICE: "CANCELLED",
}
# Only these columns are loaded: nothing with health or contact details.
FEED_FIELDS = (
    "pk",
    "uid",
    "reference",
    "status",
    "sequence",
    "starts_at",
    "ends_at",
    "updated_at",
    "name",
    "anonymised_at",
    "consultation_type__name",
    "consultation_type__format",
)


def feed_horizon_days() -> int:
    """How far ahead clients can book: the largest horizon of the active consultation types."""
    horizon = ConsultationType.objects.active().aggregate(days=Max("horizon_days"))["days"]
    return horizon if horizon is not None else DEFAULT_HORIZON_DAYS


def bookings_for_feed(*, now: dt.datetime):
    """The bookings in the feed's range, oldest first, with only the columns the feed shows."""
    horizon = dt.timedelta(days=feed_horizon_days())
    return (
        Booking.objects.filter(status__in=EVENT_STATUS, starts_at__gte=now - FEED_PAST, starts_at__lt=now + horizon)
        .select_related("consultation_type")
        .only(*FEED_FIELDS)
        .order_by("starts_at", "pk")
    )


def _host() -> str:
    return settings.WAGTAILADMIN_BASE_URL.split("//", 1)[-1].split("/", 1)[0].split(":", 1)[0] or "localhost"


def feed_event(booking: Booking, *, host: str) -> icalendar.Event:
    consultation = booking.consultation_type
    admin_url = settings.WAGTAILADMIN_BASE_URL.rstrip("/") + reverse("bookings_admin:inspect", args=[booking.pk])
    client = "Client (details erased)" if booking.anonymised_at else booking.name
    status = EVENT_STATUS[booking.status]
    prefix = "Request: " if status == "TENTATIVE" else ""  # Google Calendar shows no difference otherwise
    event = icalendar.Event()
    # The client's own calendar file uses `<uid>@host`; this prefix keeps the two apart.
    event.add("uid", f"practice-{booking.uid}@{host}")
    event.add("sequence", booking.sequence)
    event.add("dtstamp", booking.updated_at.astimezone(dt.UTC))
    event.add("dtstart", booking.starts_at.astimezone(dt.UTC))
    event.add("dtend", booking.ends_at.astimezone(dt.UTC))
    event.add("summary", f"{prefix}{client} – {consultation.name} ({consultation.get_format_display()})")
    event.add("location", consultation.get_format_display())
    event.add(
        "description",
        f"{booking.get_status_display()}. Reference {booking.reference}.\nOpen it in the admin: {admin_url}",
    )
    event.add("url", admin_url)
    event.add("status", status)
    event.add("transp", "TRANSPARENT" if status == "CANCELLED" else "OPAQUE")
    return event


def practice_feed(*, now: dt.datetime, calendar_name: str) -> bytes:
    """The feed as iCalendar bytes, for the bookings around `now`."""
    calendar = icalendar.Calendar()
    calendar.add("prodid", "-//Practice website//Consultations feed//EN")
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    calendar.add("method", "PUBLISH")
    calendar.add("name", calendar_name)
    calendar.add("x-wr-calname", calendar_name)
    # How often a calendar should fetch it again: RFC 7986, and the older hint Outlook reads.
    calendar.add("refresh-interval", REFRESH, parameters={"VALUE": "DURATION"})
    calendar.add("x-published-ttl", icalendar.vDuration(REFRESH))
    host = _host()
    for booking in bookings_for_feed(now=now):
        calendar.add_component(feed_event(booking, host=host))
    return calendar.to_ical()
