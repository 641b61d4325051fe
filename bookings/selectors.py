"""Reads for the booking domain. Nothing here writes or reads the clock: callers pass `now`."""

import datetime as dt
import hashlib
from dataclasses import dataclass, fields, replace
from zoneinfo import ZoneInfo

from django.db.models import Count, Q

from wagtail.models import Site

from calendars import selectors as calendar_selectors
from practice import caching
from practice.models import PracticeSettings

from . import slots
from .models import (
    AvailabilityWindow,
    Booking,
    BookingStatus,
    ConsultationFormat,
    ConsultationType,
    Enquiry,
    TimeOff,
)


def practice_settings() -> PracticeSettings:
    """The default site's practice settings, in one query (made, with their defaults, if they do not exist)."""
    found = PracticeSettings.objects.filter(site__is_default_site=True).first()
    if found is not None:
        return found
    site = Site.objects.filter(is_default_site=True).first()
    return PracticeSettings.for_site(site) if site else PracticeSettings()


def practice_zone() -> ZoneInfo:
    return practice_settings().zone


# The booking set-up: what every step of the booking flow reads and only the practice changes, from the
# admin: the practice's settings, the consultation types offered with their intake questions, the weekly
# opening hours, time off and one-off openings. Kept in the shared cache (practice.caching) rather than
# read on each request, where it was six of the nineteen queries of a booking request. It is read again
# when any of it changes: saving or deleting one of SETUP_MODELS gives SETUP_TAG a new token
# (connect_setup_signals, from the app's ready()), and a bulk write that sends no signal calls
# setup_changed() itself. The site and its settings are also followed through the cache's own
# "structure" tag and content tags. Bookings and the practitioner's calendars change all day long and
# are always read from the database.
SETUP_TAG = "bookings:setup"
SETUP_MODELS = (
    "bookings.ConsultationType",
    "bookings.AvailabilityWindow",
    "bookings.TimeOff",
    "calendars.ExtraOpening",
    "intake.IntakeQuestion",
    "practice.PracticeSettings",
    "wagtailcore.Site",
)
# Time off and one-off openings that were over this long before the `now` the set-up was read for are
# left out of it (they can block or offer nothing any more), so that it does not grow with the years.
SETUP_PAST = dt.timedelta(days=3)


@dataclass(frozen=True)
class BookingSetup:
    practice: PracticeSettings
    consultation_types: dict[str, ConsultationType]  # the active ones, by slug
    questions: dict[int, list]  # by consultation type id: its intake questions asked, in order
    windows: list[slots.Window]  # the weekly opening hours
    # Time off ending after `calendar_from`, and one-off openings from the day before it on: enough for any
    # range from `calendar_from` on. An earlier range is read from the database (see `_calendar_between`).
    calendar_from: dt.datetime
    time_off: list[slots.Interval]
    extra_openings: list[slots.DatedWindow]

    def questions_for(self, consultation_type: ConsultationType) -> list:
        return self.questions.get(consultation_type.pk, [])


# Named after the set-up's fields, so that a release that changes them never reads an older release's copy.
SETUP_KEY = "bookings:setup:" + hashlib.sha256(",".join(f.name for f in fields(BookingSetup)).encode()).hexdigest()[:12]


def booking_setup(*, now: dt.datetime) -> BookingSetup:
    """The booking set-up, from the cache while nothing in it has changed."""
    return caching.cached(SETUP_KEY, lambda: _read_booking_setup(now=now))


def _read_booking_setup(*, now: dt.datetime) -> BookingSetup:
    from intake.models import IntakeQuestion  # intake builds on bookings

    caching.depend(SETUP_TAG, caching.STRUCTURE)
    types = list(ConsultationType.objects.active())
    questions = {consultation.pk: [] for consultation in types}
    for question in IntakeQuestion.objects.asked().filter(consultation_type__in=types):
        questions[question.consultation_type_id].append(question)
    calendar_from = now - SETUP_PAST
    return BookingSetup(
        practice=practice_settings(),
        consultation_types={consultation.slug: consultation for consultation in types},
        questions=questions,
        windows=[
            slots.Window(weekday, start, end)
            for weekday, start, end in AvailabilityWindow.objects.values_list("weekday", "start_time", "end_time")
        ],
        calendar_from=calendar_from,
        time_off=_time_off_between(start=calendar_from),
        extra_openings=_extra_openings_between(first_day=calendar_from.date() - dt.timedelta(days=1)),
    )


def _time_off_between(*, start: dt.datetime, end: dt.datetime | None = None) -> list[slots.Interval]:
    """The time off overlapping [start, end); with no `end`, all that ends after `start`."""
    time_off = TimeOff.objects.filter(ends_at__gt=start).order_by()
    if end is not None:
        time_off = time_off.filter(starts_at__lt=end)
    return [slots.Interval(starts_at, ends_at) for starts_at, ends_at in time_off.values_list("starts_at", "ends_at")]


def _extra_openings_between(*, first_day: dt.date, last_day: dt.date | None = None) -> list[slots.DatedWindow]:
    return [
        slots.DatedWindow(opening.date, opening.start_time, opening.end_time)
        for opening in calendar_selectors.extra_openings_between(first_day=first_day, last_day=last_day)
    ]


def _calendar_between(setup: BookingSetup, *, range_start, range_end, first_day, last_day):
    """Time off overlapping [range_start, range_end) and one-off openings on `first_day` to `last_day`."""
    if range_start < setup.calendar_from:  # earlier than the set-up keeps (a `now` older than its own)
        return (
            _time_off_between(start=range_start, end=range_end),
            _extra_openings_between(first_day=first_day, last_day=last_day),
        )
    return (
        [off for off in setup.time_off if off.start < range_end and off.end > range_start],
        [opening for opening in setup.extra_openings if first_day <= opening.day <= last_day],
    )


def setup_changed(**kwargs) -> None:
    """Makes the next request read the booking set-up again (a signal receiver, or called after a bulk write)."""
    caching.invalidate(SETUP_TAG)


def connect_setup_signals() -> None:
    from django.apps import apps
    from django.db.models.signals import post_delete, post_save

    for label in SETUP_MODELS:
        model = apps.get_model(label)
        post_save.connect(setup_changed, sender=model, dispatch_uid=f"bookings.setup.saved.{label}")
        post_delete.connect(setup_changed, sender=model, dispatch_uid=f"bookings.setup.deleted.{label}")


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
    include_bookings: bool = True,
    setup: BookingSetup | None = None,
) -> list[dt.datetime]:
    """
    Free start times (UTC) for `consultation_type` on local days `first_day` to `last_day`.
    `include_bookings=False` leaves other bookings out (see `slot_is_free`); `setup` is the booking
    set-up when the caller has it already (read here otherwise).
    """
    range_start = dt.datetime.combine(first_day, dt.time.min, tzinfo=zone) - dt.timedelta(days=1)
    range_end = dt.datetime.combine(last_day, dt.time.max, tzinfo=zone) + dt.timedelta(days=1)
    setup = setup or booking_setup(now=now)
    time_off, dated_windows = _calendar_between(
        setup, range_start=range_start, range_end=range_end, first_day=first_day, last_day=last_day
    )
    busy = []
    if include_bookings:
        taken = Booking.objects.active().overlapping(range_start, range_end)
        if ignore_booking is not None:
            taken = taken.exclude(pk=ignore_booking.pk)
        busy += [slots.Interval(start, end) for start, end in taken.values_list("blocked_from", "blocked_until")]
    # The practitioner's own calendars (read by the worker) block like bookings; one-off openings add hours.
    busy += [
        slots.Interval(start, end) for start, end in calendar_selectors.busy_between(start=range_start, end=range_end)
    ]
    return slots.free_slots(
        windows=setup.windows,
        dated_windows=dated_windows,
        time_off=time_off,
        busy=busy,
        rules=slot_rules(consultation_type),
        first_day=first_day,
        last_day=last_day,
        now=now,
        zone=zone,
    )


def slot_is_free(
    *, consultation_type, starts_at, now, zone, ignore_booking=None, include_bookings=True, setup=None
) -> bool:
    """
    Whether `starts_at` is one of the free times: the check behind both showing and accepting a time.

    `include_bookings=False` checks everything but the other bookings (opening hours, time off, the
    practitioner's calendars, notice and horizon): for a caller about to insert the booking, whose
    insert the database refuses when it overlaps another active booking. That guard (migration 0002)
    is the rule the slot engine applies to bookings, blocked range against blocked range, and it
    holds under concurrency, which a read before the insert cannot: reading the bookings first as
    well would only repeat it.
    """
    day = starts_at.astimezone(zone).date()
    return starts_at in slots_available(
        consultation_type=consultation_type,
        first_day=day,
        last_day=day,
        now=now,
        zone=zone,
        ignore_booking=ignore_booking,
        include_bookings=include_bookings,
        setup=setup,
    )


def next_free_slots(*, consultation_type, after: dt.datetime, now, zone, count=3, ignore_booking=None):
    """The first `count` free start times at or after `after`, looking up to the booking horizon."""
    after = max(after, now)  # never search the past, however old the time someone sent
    first_day = after.astimezone(zone).date()
    last_day = (now + dt.timedelta(days=consultation_type.horizon_days)).astimezone(zone).date()
    setup = booking_setup(now=now)  # once for every chunk
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
                setup=setup,
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


# The practice admin's dashboard and reports.


def bookings_waiting():
    """Requests waiting for the practice's answer, oldest request first; without the health details."""
    return (
        Booking.objects.filter(status=BookingStatus.PENDING)
        .select_related("consultation_type")
        .defer("reason")
        .order_by("created_at", "pk")
    )


def consultations_between(*, start: dt.datetime, end: dt.datetime):
    """Confirmed and pending consultations starting in [start, end), in time order; without the health details."""
    return (
        Booking.objects.active()
        .filter(starts_at__gte=start, starts_at__lt=end)
        .select_related("consultation_type")
        .defer("reason")
        .order_by("starts_at", "pk")
    )


def enquiries_unanswered():
    """Enquiries nobody has answered yet, oldest first; without their messages."""
    return Enquiry.objects.unanswered().defer("message").order_by("created_at", "pk")


@dataclass(frozen=True)
class SourceCount:
    """What came from one page of the site: booking requests, enquiries, and requests that were confirmed."""

    source_page: str
    requests: int = 0
    enquiries: int = 0
    confirmed: int = 0

    @property
    def total(self) -> int:
        return self.requests + self.enquiries


def sources_since(*, since: dt.datetime) -> list[SourceCount]:
    """Per recorded source page, booking requests and enquiries received since `since`, busiest first."""
    bookings = (
        Booking.objects.filter(created_at__gte=since)
        .values("source_page")
        .annotate(requests=Count("pk"), confirmed=Count("pk", filter=Q(confirmed_at__isnull=False)))
        .order_by()
    )
    enquiries = (
        Enquiry.objects.filter(created_at__gte=since).values("source_page").annotate(enquiries=Count("pk")).order_by()
    )
    counts = {row["source_page"]: SourceCount(**row) for row in bookings}
    for row in enquiries:
        counts[row["source_page"]] = replace(
            counts.get(row["source_page"], SourceCount(row["source_page"])), enquiries=row["enquiries"]
        )
    return sorted(counts.values(), key=lambda source: (-source.total, -source.requests, source.source_page))


# The practitioner's agenda: what each local day holds. Plain data only, and never a health detail:
# the reason for a consultation is not even read from the database.

AGENDA_STATUSES = (BookingStatus.PENDING, BookingStatus.CONFIRMED, BookingStatus.COMPLETED, BookingStatus.NO_SHOW)


@dataclass(frozen=True)
class AgendaConsultation:
    pk: int
    reference: str
    starts_at: dt.datetime  # in the practice's zone
    ends_at: dt.datetime
    client_name: str
    consultation_type: str
    format_label: str
    status: str
    status_label: str


@dataclass(frozen=True)
class AgendaTimeOff:
    title: str
    starts_at: dt.datetime  # in the practice's zone, clipped to the day
    ends_at: dt.datetime
    whole_day: bool
    until_end_of_day: bool  # `ends_at` is then midnight of the next day


@dataclass(frozen=True)
class AgendaDay:
    day: dt.date
    opening_hours: list[tuple[dt.time, dt.time]]  # wall-clock times
    time_off: list[AgendaTimeOff]
    consultations: list[AgendaConsultation]


def local_day_bounds(*, first_day: dt.date, last_day: dt.date, zone: ZoneInfo) -> list[dt.datetime]:
    """
    Midnight in `zone` of each day from `first_day` to the day after `last_day`, in UTC. Day i runs
    from bounds[i] to bounds[i + 1]: 23 or 25 hours on the days the clocks change, never "+ 24 hours".
    """
    count = (last_day - first_day).days + 2
    return [
        dt.datetime.combine(first_day + dt.timedelta(days=i), dt.time.min, tzinfo=zone).astimezone(dt.UTC)
        for i in range(count)
    ]


def agenda_days(*, first_day: dt.date, last_day: dt.date, zone: ZoneInfo) -> list[AgendaDay]:
    """
    For each local day from `first_day` to `last_day` in `zone`: its opening hours, the time off
    overlapping it (clipped to the day) and the consultations that start in it (pending, confirmed,
    completed or no-show), in order.
    """
    bounds = local_day_bounds(first_day=first_day, last_day=last_day, zone=zone)
    range_start, range_end = bounds[0], bounds[-1]

    hours_by_weekday: dict[int, list[tuple[dt.time, dt.time]]] = {}
    for window in AvailabilityWindow.objects.order_by("weekday", "start_time"):
        hours_by_weekday.setdefault(window.weekday, []).append((window.start_time, window.end_time))

    time_off = list(
        TimeOff.objects.filter(starts_at__lt=range_end, ends_at__gt=range_start)
        .order_by("starts_at", "pk")
        .values_list("title", "starts_at", "ends_at")
    )

    rows = (
        Booking.objects.filter(status__in=AGENDA_STATUSES, starts_at__gte=range_start, starts_at__lt=range_end)
        .order_by("starts_at", "pk")
        .values_list(
            "pk",
            "reference",
            "starts_at",
            "ends_at",
            "name",
            "consultation_type__name",
            "consultation_type__format",
            "status",
        )
    )
    consultations_by_day: dict[dt.date, list[AgendaConsultation]] = {}
    for pk, reference, starts_at, ends_at, name, type_name, type_format, status in rows:
        local_start = starts_at.astimezone(zone)
        consultations_by_day.setdefault(local_start.date(), []).append(
            AgendaConsultation(
                pk=pk,
                reference=reference,
                starts_at=local_start,
                ends_at=ends_at.astimezone(zone),
                client_name=name,
                consultation_type=type_name,
                format_label=ConsultationFormat(type_format).label,
                status=status,
                status_label=BookingStatus(status).label,
            )
        )

    days = []
    for index in range(len(bounds) - 1):
        day = first_day + dt.timedelta(days=index)
        day_start, day_end = bounds[index], bounds[index + 1]
        offs = []
        for title, starts_at, ends_at in time_off:
            if starts_at < day_end and ends_at > day_start:
                start, end = max(starts_at, day_start), min(ends_at, day_end)
                offs.append(
                    AgendaTimeOff(
                        title=title,
                        starts_at=start.astimezone(zone),
                        ends_at=end.astimezone(zone),
                        whole_day=start == day_start and end == day_end,
                        until_end_of_day=end == day_end,
                    )
                )
        days.append(
            AgendaDay(
                day=day,
                opening_hours=hours_by_weekday.get(day.weekday(), []),
                time_off=offs,
                consultations=consultations_by_day.get(day, []),
            )
        )
    return days
