"""Reads for the calendars app. Nothing here reads the clock: callers pass `now`."""

import datetime as dt

from django.db import connection
from django.db.models import Q
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from .models import BusyCalendar, ExtraOpening

FAILING_AFTER = dt.timedelta(hours=1)  # without a successful read, a calendar is shown as failing


# What `BusyInterval.objects.filter(calendar__is_active=True, starts_at__lt=end, ends_at__gt=start)` sends,
# written out: every booking request and time picker asks it, and building it through the ORM cost about
# 0.7 ms of CPU, more than the rest of the slot check (the statement costs 0.05 ms). It uses the same index.
BUSY_SQL = """
SELECT busy.starts_at, busy.ends_at
FROM calendars_busyinterval busy
INNER JOIN calendars_busycalendar source ON source.id = busy.calendar_id
WHERE source.is_active AND busy.starts_at < %s AND busy.ends_at > %s
ORDER BY busy.starts_at
"""


def busy_between(*, start: dt.datetime, end: dt.datetime) -> list[tuple[dt.datetime, dt.datetime]]:
    """The (start, end) pairs of the active calendars' busy intervals that overlap [start, end), in one query."""
    adapt = connection.ops.adapt_datetimefield_value
    with connection.cursor() as cursor:
        cursor.execute(BUSY_SQL, [adapt(end), adapt(start)])
        return [(_aware(starts_at), _aware(ends_at)) for starts_at, ends_at in cursor.fetchall()]


def _aware(value) -> dt.datetime:
    """A datetime column's value as the ORM gives it: SQLite's come without their zone (UTC, as stored)."""
    if isinstance(value, str):
        value = parse_datetime(value)
    return value if timezone.is_aware(value) else timezone.make_aware(value, connection.timezone)


def extra_openings_between(*, first_day: dt.date, last_day: dt.date | None = None):
    """One-off openings on the local dates `first_day` to `last_day`, inclusive (no `last_day`: all from then on)."""
    openings = ExtraOpening.objects.filter(date__gte=first_day)
    return openings if last_day is None else openings.filter(date__lte=last_day)


def busy_calendars_failing(*, now: dt.datetime):
    """
    Active calendars whose last read failed, or that have not been read successfully for over an hour
    (counted from when they were added, for one never read).
    """
    stale = now - FAILING_AFTER
    return (
        BusyCalendar.objects.filter(is_active=True)
        .filter(
            ~Q(last_error="") | Q(last_success_at__lt=stale) | Q(last_success_at__isnull=True, created_at__lt=stale)
        )
        .defer("content")
        .order_by("name", "pk")
    )
