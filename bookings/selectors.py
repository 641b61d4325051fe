"""Reads for the booking domain. Nothing here writes or reads the clock: callers pass `now`."""

import datetime as dt
from zoneinfo import ZoneInfo

from wagtail.models import Site

from practice.models import PracticeSettings

from . import slots
from .models import AvailabilityWindow, Booking, ConsultationType, TimeOff


def practice_settings() -> PracticeSettings:
    site = Site.objects.filter(is_default_site=True).first()
    return PracticeSettings.for_site(site) if site else PracticeSettings()


def practice_zone() -> ZoneInfo:
    return practice_settings().zone


def zone_or_default(name: str, default: ZoneInfo) -> ZoneInfo:
    """The zone called `name`, or `default` when it is empty or unknown."""
    try:
        return ZoneInfo(name) if name else default
    except (ValueError, KeyError):
        return default


def source_pages(model) -> list[str]:
    """The distinct pages that bookings or enquiries (`model`) came from, for the listing's filter."""
    return list(
        model.objects.exclude(source_page="").order_by("source_page").values_list("source_page", flat=True).distinct()
    )


def consultation_types_active():
    return ConsultationType.objects.active()


def slot_rules(consultation_type: ConsultationType) -> slots.SlotRules:
    return slots.SlotRules(
        duration=consultation_type.duration,
        step=dt.timedelta(minutes=consultation_type.slot_step_minutes),
        buffer_before=consultation_type.buffer_before,
        buffer_after=consultation_type.buffer_after,
        minimum_notice=dt.timedelta(hours=consultation_type.minimum_notice_hours),
        horizon=dt.timedelta(days=consultation_type.horizon_days),
    )


def slots_available(
    *,
    consultation_type: ConsultationType,
    first_day: dt.date,
    last_day: dt.date,
    now: dt.datetime,
    zone: ZoneInfo,
    ignore_booking: Booking | None = None,
) -> list[dt.datetime]:
    """Free start times (UTC) for `consultation_type` on local days `first_day` to `last_day`."""
    range_start = dt.datetime.combine(first_day, dt.time.min, tzinfo=zone) - dt.timedelta(days=1)
    range_end = dt.datetime.combine(last_day, dt.time.max, tzinfo=zone) + dt.timedelta(days=1)
    windows = [
        slots.Window(window.weekday, window.start_time, window.end_time) for window in AvailabilityWindow.objects.all()
    ]
    time_off = [
        slots.Interval(off.starts_at, off.ends_at)
        for off in TimeOff.objects.filter(starts_at__lt=range_end, ends_at__gt=range_start)
    ]
    taken = Booking.objects.active().overlapping(range_start, range_end)
    if ignore_booking is not None:
        taken = taken.exclude(pk=ignore_booking.pk)
    busy = [slots.Interval(start, end) for start, end in taken.values_list("blocked_from", "blocked_until")]
    return slots.free_slots(
        windows=windows,
        time_off=time_off,
        busy=busy,
        rules=slot_rules(consultation_type),
        first_day=first_day,
        last_day=last_day,
        now=now,
        zone=zone,
    )


def slot_is_free(*, consultation_type, starts_at, now, zone, ignore_booking=None) -> bool:
    """Whether `starts_at` is one of the free times: the check behind both showing and accepting a time."""
    day = starts_at.astimezone(zone).date()
    return starts_at in slots_available(
        consultation_type=consultation_type,
        first_day=day,
        last_day=day,
        now=now,
        zone=zone,
        ignore_booking=ignore_booking,
    )


def next_free_slots(*, consultation_type, after: dt.datetime, now, zone, count=3, ignore_booking=None):
    """The first `count` free start times at or after `after`, looking up to the booking horizon."""
    after = max(after, now)  # never search the past, however old the time someone sent
    first_day = after.astimezone(zone).date()
    last_day = (now + dt.timedelta(days=consultation_type.horizon_days)).astimezone(zone).date()
    found = []
    day = first_day
    while day <= last_day and len(found) < count:
        chunk_end = min(day + dt.timedelta(days=13), last_day)
        found += [
            start
            for start in slots_available(
                consultation_type=consultation_type,
                first_day=day,
                last_day=chunk_end,
                now=now,
                zone=zone,
                ignore_booking=ignore_booking,
            )
            if start >= after
        ]
        day = chunk_end + dt.timedelta(days=1)
    return found[:count]


def booking_for_token(token: str) -> Booking | None:
    """The booking a manage link points to; None for anything forged, guessed or mangled."""
    if not token or len(token) > 100:
        return None
    uid = Booking.uid_from_manage_token(token)
    if uid is None:
        return None
    return Booking.objects.select_related("consultation_type").filter(uid=uid).first()


def bookings_upcoming(*, now: dt.datetime):
    return Booking.objects.upcoming(now=now).select_related("consultation_type")
