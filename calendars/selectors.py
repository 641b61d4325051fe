"""Reads for the calendars app. Nothing here reads the clock: callers pass `now`."""

import datetime as dt

from django.db.models import Q

from .models import BusyCalendar, BusyInterval, ExtraOpening

FAILING_AFTER = dt.timedelta(hours=1)  # without a successful read, a calendar is shown as failing


def busy_between(*, start: dt.datetime, end: dt.datetime) -> list[tuple[dt.datetime, dt.datetime]]:
    """The (start, end) pairs of the active calendars' busy intervals that overlap [start, end), in one query."""
    return list(
        BusyInterval.objects.filter(calendar__is_active=True, starts_at__lt=end, ends_at__gt=start).values_list(
            "starts_at", "ends_at"
        )
    )


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
