"""
The practice admin's day at a glance: a panel on the Wagtail dashboard.

It shows requests waiting for an answer, the consultations of today and the next seven days, and
unanswered enquiries, in the practice's zone. Each confirmed consultation of the week says whether
the client confirmed they will come (the reminder's "I'll be there"), or is flagged "not confirmed"
once it starts within PracticeSettings.attendance_flag_hours without that answer. Only users who may
view bookings see it. It shows names, times and topics, never a reason for a consultation or an
enquiry's message. Each list is cut at a fixed length so the panel costs the same few queries
however many records there are.
"""

import datetime as dt
from urllib.parse import urlencode

from django.urls import NoReverseMatch, reverse

from wagtail.admin.ui.components import Component

from calendars.selectors import busy_calendars_failing

from . import selectors
from .models import BookingStatus, EnquiryStatus
from .viewsets import booking_viewset

LIST_LIMIT = 10
WEEK_LIMIT = 30  # a full week of a solo practice fits
DAYS_AHEAD = 7


def waited(since: dt.datetime, now: dt.datetime) -> str:
    """How long something has waited, in the largest whole unit: "2 days", "3 hours", "less than an hour"."""
    hours = int((now - since).total_seconds() // 3600)
    if hours < 1:
        return "less than an hour"
    if hours < 24:
        return f"{hours} hour{'s' if hours != 1 else ''}"
    days = hours // 24
    return f"{days} day{'s' if days != 1 else ''}"


def _url_or_none(name: str) -> str | None:
    try:
        return reverse(name)
    except NoReverseMatch:
        return None


def _listing(name: str, query: list[tuple[str, str]]) -> str:
    return f"{reverse(name)}?{urlencode(query)}"


def attendance(booking, *, now: dt.datetime, flag_within: dt.timedelta) -> str:
    """ "confirmed" (the client said they will come), "flagged" (no answer this close to the start) or ""."""
    if booking.status != BookingStatus.CONFIRMED:
        return ""
    if booking.attendance_confirmed_at is not None:
        return "confirmed"
    return "flagged" if booking.starts_at - flag_within <= now else ""


def _day_label(day: dt.date, today: dt.date) -> str:
    if day == today:
        return "Today"
    if day == today + dt.timedelta(days=1):
        return "Tomorrow"
    return f"{day:%A} {day.day} {day:%B}"


class PracticeDayPanel(Component):
    name = "practice_day"
    template_name = "bookings/admin/dashboard_panel.html"
    order = 50  # above Wagtail's own panels (workflows, edits, locks)

    def __init__(self, *, now: dt.datetime):
        self.now = now

    @staticmethod
    def is_shown_to(user) -> bool:
        return booking_viewset.permission_policy.user_has_permission(user, "view")

    def get_context_data(self, parent_context=None):
        now = self.now
        practice = selectors.practice_settings()
        zone = practice.zone
        flag_within = dt.timedelta(hours=practice.attendance_flag_hours)
        today = now.astimezone(zone).date()
        week_start = dt.datetime.combine(today, dt.time.min, tzinfo=zone)
        week_end = dt.datetime.combine(today + dt.timedelta(days=DAYS_AHEAD + 1), dt.time.min, tzinfo=zone)

        waiting = selectors.bookings_waiting()
        week = selectors.consultations_between(start=week_start, end=week_end)
        enquiries = selectors.enquiries_unanswered()
        waiting_count, week_count, enquiries_count = waiting.count(), week.count(), enquiries.count()

        days = {today: []}
        for booking in week[:WEEK_LIMIT]:
            days.setdefault(booking.starts_at.astimezone(zone).date(), []).append(
                {"booking": booking, "attendance": attendance(booking, now=now, flag_within=flag_within)}
            )

        return {
            "zone": zone,
            "waiting": [
                {"booking": booking, "waited": waited(booking.created_at, now)} for booking in waiting[:LIST_LIMIT]
            ],
            "waiting_count": waiting_count,
            "waiting_more": max(waiting_count - LIST_LIMIT, 0),
            "waiting_url": _listing("bookings_admin:index", [("status", BookingStatus.PENDING)]),
            "days": [{"label": _day_label(day, today), "rows": rows} for day, rows in days.items()],
            "week_count": week_count,
            "week_more": max(week_count - WEEK_LIMIT, 0),
            "week_url": _listing(
                "bookings_admin:index",
                [
                    ("status", BookingStatus.PENDING),
                    ("status", BookingStatus.CONFIRMED),
                    ("starts_at_from", today.isoformat()),
                    ("starts_at_to", (today + dt.timedelta(days=DAYS_AHEAD)).isoformat()),
                ],
            ),
            "enquiries": [
                {"enquiry": enquiry, "waited": waited(enquiry.created_at, now)} for enquiry in enquiries[:LIST_LIMIT]
            ],
            "enquiries_count": enquiries_count,
            "enquiries_more": max(enquiries_count - LIST_LIMIT, 0),
            "enquiries_url": _listing("enquiries:index", [("status", EnquiryStatus.NEW)]),
            "bookings_url": reverse("bookings_admin:index"),
            "all_enquiries_url": reverse("enquiries:index"),
            "agenda_url": _url_or_none("bookings_admin:agenda"),
            # Busy calendars that stopped working: their busy times may be out of date.
            "failing_calendars": list(busy_calendars_failing(now=now)[:LIST_LIMIT]),
        }
