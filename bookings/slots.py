"""
The slot engine: pure arithmetic, no queries and no clock reads.

Units and zones:
- Opening windows are wall-clock times in the practice's zone (`zone`): weekly ones on a weekday
  (`Window`), one-off ones on a date (`DatedWindow`, for example a Saturday clinic). Both kinds are
  read the same way; a start is offered when it fits inside one window, so two windows that touch do
  not make one longer window.
- Everything else (time off, busy intervals, `now`, the slots returned) is an aware datetime; the
  slots come back in UTC.
- A consultation lasts exactly `duration` of real time, even across a daylight-saving change.

Daylight saving, deliberately:
- Candidate starts step through the window in wall-clock time from the window's opening.
- A wall-clock time that does not exist (the hour skipped in spring) is never offered.
- A wall-clock time that happens twice (the hour repeated in autumn) is offered once, at its
  first occurrence (fold=0).

Time off and busy intervals win over every window, weekly or one-off.

Buffers: a booking blocks [start - buffer_before, end + buffer_after]. A candidate is free when its
own blocked interval overlaps no busy interval (an existing booking's interval already includes its
own buffers; a busy time read from the practitioner's calendar is the event itself).
This is the same rule the database guard enforces, so what is shown is what is accepted.
"""

import bisect
import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from zoneinfo import ZoneInfo

UTC = dt.UTC


@dataclass(frozen=True)
class Window:
    weekday: int  # Monday is 0, as in date.weekday()
    start: dt.time
    end: dt.time


@dataclass(frozen=True)
class DatedWindow:
    """Opening hours on one date only, outside the weekly pattern."""

    day: dt.date
    start: dt.time
    end: dt.time


@dataclass(frozen=True)
class Interval:
    start: dt.datetime
    end: dt.datetime

    def overlaps(self, other: "Interval") -> bool:
        return self.start < other.end and other.start < self.end


@dataclass(frozen=True)
class SlotRules:
    duration: dt.timedelta
    step: dt.timedelta
    buffer_before: dt.timedelta = dt.timedelta(0)
    buffer_after: dt.timedelta = dt.timedelta(0)
    minimum_notice: dt.timedelta = dt.timedelta(0)
    horizon: dt.timedelta = dt.timedelta(days=90)

    def blocked(self, start: dt.datetime) -> Interval:
        return Interval(start - self.buffer_before, start + self.duration + self.buffer_after)


def local_instant(day: dt.date, wall: dt.time, zone: ZoneInfo) -> dt.datetime | None:
    """The UTC instant of a wall-clock time on `day` in `zone`; None when that time does not exist."""
    naive = dt.datetime.combine(day, wall)
    aware = naive.replace(tzinfo=zone, fold=0)
    instant = aware.astimezone(UTC)
    if instant.astimezone(zone).replace(tzinfo=None) != naive:
        return None  # skipped by a spring-forward change
    return instant


def free_slots(
    *,
    windows: list[Window],
    time_off: list[Interval],
    busy: list[Interval],
    rules: SlotRules,
    first_day: dt.date,
    last_day: dt.date,
    now: dt.datetime,
    zone: ZoneInfo,
    dated_windows: Sequence[DatedWindow] = (),
) -> list[dt.datetime]:
    """
    Every start time from `first_day` to `last_day` (local dates, inclusive) that can be booked, inside
    the weekly `windows` or the one-off `dated_windows`.
    """
    if now.tzinfo is None:
        raise ValueError("now must be an aware datetime")
    earliest = now + rules.minimum_notice
    latest = now + rules.horizon
    busy_sorted = sorted(busy, key=lambda interval: interval.start)
    busy_starts = [interval.start for interval in busy_sorted]
    longest_busy = max((interval.end - interval.start for interval in busy_sorted), default=dt.timedelta(0))
    by_weekday: dict[int, list[Window]] = {}
    for window in windows:
        by_weekday.setdefault(window.weekday, []).append(window)
    by_day: dict[dt.date, list[DatedWindow]] = {}
    for window in dated_windows:
        by_day.setdefault(window.day, []).append(window)

    slots = set()
    day = first_day
    while day <= last_day:
        for window in by_weekday.get(day.weekday(), []) + by_day.get(day, []):
            slots.update(
                _window_slots(
                    day, window, rules, zone, earliest, latest, time_off, busy_sorted, busy_starts, longest_busy
                )
            )
        day += dt.timedelta(days=1)
    return sorted(slots)


def _window_slots(day, window, rules, zone, earliest, latest, time_off, busy_sorted, busy_starts, longest_busy):
    opens = local_instant(day, window.start, zone)
    closes = local_instant(day, window.end, zone)
    if opens is None or closes is None or closes <= opens:
        return []
    found = []
    wall = dt.datetime.combine(day, window.start)
    wall_end = dt.datetime.combine(day, window.end)
    while wall < wall_end:
        start = local_instant(day, wall.time(), zone) if wall.date() == day else None
        wall += rules.step
        if start is None:
            continue
        end = start + rules.duration
        if start < opens or end > closes or start < earliest or start > latest:
            continue
        slot = Interval(start, end)
        if any(slot.overlaps(off) for off in time_off):
            continue
        if _clashes(rules.blocked(start), busy_sorted, busy_starts, longest_busy):
            continue
        found.append(start)
    return found


def _clashes(blocked: Interval, busy_sorted, busy_starts, longest_busy) -> bool:
    """Whether `blocked` overlaps a busy interval; busy intervals are sorted by start."""
    # Only intervals starting after blocked.start - longest_busy can reach into it.
    first = bisect.bisect_left(busy_starts, blocked.start - longest_busy)
    last = bisect.bisect_left(busy_starts, blocked.end)
    return any(blocked.overlaps(busy_sorted[index]) for index in range(first, last))
