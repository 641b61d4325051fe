"""
Reading the practitioner's busy calendars (iCalendar over HTTP) into busy intervals.

Each read is a conditional GET (If-None-Match / If-Modified-Since) with a timeout for the whole
read (BUSY_CALENDAR_TIMEOUT seconds) and a size limit (BUSY_CALENDAR_MAX_BYTES: a longer answer is
a failure, not a truncated calendar). Only http and https are fetched; Apple's webcal:// addresses
are read over https.

What a read leaves behind:
- 200 with a calendar that parses: the copy is kept, and the calendar's busy intervals are replaced.
- 304 Not Modified: the kept copy still holds; its intervals are recomputed for the current window.
- anything else (timeout, too large, HTTP error, not a calendar): the last good copy stays, its
  intervals are recomputed for the current window, and `last_error` says what went wrong. The error
  never contains the address, whose path is the calendar's secret.

Which events are busy: every VEVENT occurrence, recurring ones expanded by recurring-ical-events
(RRULE, RDATE, EXDATE, RECURRENCE-ID overrides, VTIMEZONE; Google's X-WR-TIMEZONE for UTC times), except those marked
TRANSP:TRANSPARENT, STATUS:CANCELLED or X-MICROSOFT-CDO-BUSYSTATUS:FREE. Times with a zone or in
UTC are taken as they are; floating times are read in the practice's zone; an all-day event (DATE
values) blocks whole local days in the practice's zone, from midnight to midnight. Intervals are
stored in UTC, covering the day before `now` to the longest booking horizon after it (plus a day).
"""

import datetime as dt
import http.client
import logging
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db import transaction
from django.db.models import Max

import icalendar
import recurring_ical_events
import x_wr_timezone

from bookings.models import ConsultationType

from .models import BusyCalendar, BusyInterval

logger = logging.getLogger(__name__)

UTC = dt.UTC
DEFAULT_HORIZON = dt.timedelta(days=90)  # when no consultation type exists yet
CHUNK = 64 * 1024
USER_AGENT = "practice-busy-calendar/1.0"
FREE_VALUES = {"TRANSP": "TRANSPARENT", "STATUS": "CANCELLED", "X-MICROSOFT-CDO-BUSYSTATUS": "FREE"}


class FetchError(Exception):
    """A calendar could not be read; the message is fit for the dashboard and holds no address."""


class CalendarParseError(Exception):
    """What was read is not an iCalendar file this module can expand."""


@dataclass(frozen=True)
class SyncPolicy:
    timeout: float  # seconds for the whole read
    max_bytes: int

    @classmethod
    def from_settings(cls) -> "SyncPolicy":
        return cls(timeout=settings.BUSY_CALENDAR_TIMEOUT, max_bytes=settings.BUSY_CALENDAR_MAX_BYTES)


def sync_interval() -> dt.timedelta:
    """How often the worker reads the calendars."""
    return dt.timedelta(minutes=settings.BUSY_CALENDAR_SYNC_MINUTES)


@dataclass(frozen=True)
class Fetched:
    not_modified: bool
    body: bytes = b""
    etag: str = ""
    last_modified: str = ""


@dataclass(frozen=True)
class SyncResult:
    calendar: BusyCalendar
    error: str  # empty when the read worked
    intervals: int  # busy intervals stored for the calendar now
    updated: bool  # a new copy was read (not a 304, not a failure)

    @property
    def ok(self) -> bool:
        return not self.error


def _opener() -> urllib.request.OpenerDirector:
    # Only HTTP(S), with redirects and the environment's proxies: no file://, ftp:// or data: URLs,
    # even through a redirect.
    opener = urllib.request.OpenerDirector()
    for handler in (
        urllib.request.ProxyHandler(),
        urllib.request.UnknownHandler(),
        urllib.request.HTTPHandler(),
        urllib.request.HTTPSHandler(),
        urllib.request.HTTPDefaultErrorHandler(),
        urllib.request.HTTPRedirectHandler(),
        urllib.request.HTTPErrorProcessor(),
    ):
        opener.add_handler(handler)
    return opener


def _read_limited(response, *, max_bytes: int, deadline: float) -> bytes:
    length = response.headers.get("Content-Length")
    if length and length.isdigit() and int(length) > max_bytes:
        raise FetchError(f"The calendar is larger than the limit of {_size(max_bytes)}.")
    chunks, total = [], 0
    while True:
        if time.monotonic() > deadline:
            raise TimeoutError
        chunk = response.read(min(CHUNK, max_bytes + 1 - total))
        if not chunk:
            return b"".join(chunks)
        chunks.append(chunk)
        total += len(chunk)
        if total > max_bytes:
            raise FetchError(f"The calendar is larger than the limit of {_size(max_bytes)}.")


def _size(count: int) -> str:
    return f"{count / 1024 / 1024:g} MB" if count >= 1024 * 1024 else f"{count / 1024:g} KB"


def fetch(url: str, *, etag: str = "", last_modified: str = "", policy: SyncPolicy) -> Fetched:
    """Read `url` (http or https), conditionally when `etag` or `last_modified` is given."""
    if urlsplit(url).scheme.lower() not in ("http", "https"):
        raise FetchError("The address must start with https://, http:// or webcal://.")
    headers = {"User-Agent": USER_AGENT, "Accept": "text/calendar, */*;q=0.5"}
    if etag:
        headers["If-None-Match"] = etag
    if last_modified:
        headers["If-Modified-Since"] = last_modified
    request = urllib.request.Request(url, headers=headers)  # noqa: S310 (the scheme is checked above)
    deadline = time.monotonic() + policy.timeout
    timed_out = f"The calendar server did not answer within {policy.timeout:g} seconds."
    try:
        with _opener().open(request, timeout=policy.timeout) as response:
            body = _read_limited(response, max_bytes=policy.max_bytes, deadline=deadline)
            return Fetched(
                not_modified=False,
                body=body,
                etag=response.headers.get("ETag", ""),
                last_modified=response.headers.get("Last-Modified", ""),
            )
    except urllib.error.HTTPError as error:
        if error.code == 304:
            return Fetched(
                not_modified=True,
                etag=error.headers.get("ETag", etag),
                last_modified=error.headers.get("Last-Modified", last_modified),
            )
        hint = " Check the address: it may have been reset." if error.code in (401, 403, 404, 410) else ""
        raise FetchError(f"The calendar server answered {error.code} ({error.reason}).{hint}") from None
    except TimeoutError:
        raise FetchError(timed_out) from None
    except urllib.error.URLError as error:
        if isinstance(error.reason, TimeoutError):
            raise FetchError(timed_out) from None
        raise FetchError(f"The calendar server could not be reached ({_reason(error.reason)}).") from None
    except (http.client.HTTPException, OSError) as error:
        raise FetchError(f"The calendar could not be read ({_reason(error)}).") from None


def _reason(error) -> str:
    return error.strerror if isinstance(error, OSError) and error.strerror else type(error).__name__


class _UTCToCalendarZone(x_wr_timezone.UTCChangingWalker):
    """
    Google's X-WR-TIMEZONE: UTC times are moved into the calendar's zone before recurring events are
    expanded, so that a weekly 09:00 stays 09:00 after the clocks change. Unlike x-wr-timezone's own
    walker, it leaves every other time alone: a zone without a name (Outlook's VTIMEZONEs have no
    TZNAME) is not floating, and floating times stay floating, to be read in the practice's zone.
    """

    def walk_value_datetime(self, value):
        return value.astimezone(self.new_timezone) if self.is_UTC(value) else value


def _calendar_zone(calendar) -> ZoneInfo | None:
    try:
        return ZoneInfo(str(calendar["X-WR-TIMEZONE"]).strip()) if "X-WR-TIMEZONE" in calendar else None
    except (ValueError, KeyError):
        return None  # a zone name this machine does not know: expand in UTC


def _instant(value: dt.date | dt.datetime, zone: ZoneInfo) -> dt.datetime:
    if isinstance(value, dt.datetime):
        return (value if value.tzinfo else value.replace(tzinfo=zone)).astimezone(UTC)
    return dt.datetime.combine(value, dt.time.min, tzinfo=zone).astimezone(UTC)


def _is_free(event) -> bool:
    return any(str(event.get(name, "")).strip().upper() == value for name, value in FREE_VALUES.items())


def busy_intervals(content: str, *, start: dt.datetime, end: dt.datetime, zone: ZoneInfo) -> list[tuple]:
    """
    The busy (start, end) pairs in UTC of the iCalendar text `content` that overlap [start, end),
    sorted and without duplicates. Raises CalendarParseError for anything that is not a calendar.
    """
    try:
        calendar = icalendar.Calendar.from_ical(content)
        if calendar.name != "VCALENDAR":
            raise CalendarParseError("What the address sent is not a calendar (no VCALENDAR).")
        calendar_zone = _calendar_zone(calendar)
        if calendar_zone is not None:
            calendar = _UTCToCalendarZone(calendar_zone).walk(calendar)
        # One bad series (a broken rule) is skipped rather than losing the whole calendar.
        query = recurring_ical_events.CalendarQuery(calendar, skip_bad_series=True)
        events = query.between(start - dt.timedelta(days=1), end + dt.timedelta(days=1))
        found = set()
        for event in events:
            if "DTSTART" not in event or _is_free(event):
                continue
            begins = _instant(event["DTSTART"].dt, zone)
            ends = _instant(event["DTEND"].dt, zone) if "DTEND" in event else begins
            if ends > begins and begins < end and ends > start:
                found.add((begins, ends))
    except CalendarParseError:
        raise
    except Exception as error:  # the parsers raise many kinds for malformed input
        raise CalendarParseError(
            f"What the address sent is not a calendar that can be read ({_parse_reason(error)})."
        ) from None
    return sorted(found)


def _parse_reason(error: Exception) -> str:
    # Parser messages quote the offending line, which may be anything the server sent; keep it short.
    text = str(error).splitlines()[0] if str(error) else type(error).__name__
    return text[:80]


def longest_horizon() -> dt.timedelta:
    days = ConsultationType.objects.aggregate(days=Max("horizon_days"))["days"]
    return dt.timedelta(days=days) if days else DEFAULT_HORIZON


def busy_calendar_sync(
    *, calendar: BusyCalendar, now: dt.datetime, zone: ZoneInfo, until: dt.datetime, policy: SyncPolicy
) -> SyncResult:
    """Read one calendar and store its busy intervals from a day before `now` to `until`."""
    start = now - dt.timedelta(days=1)
    error, updated, intervals = "", False, None
    content, etag, last_modified = calendar.content, calendar.etag, calendar.last_modified
    try:
        # Without a kept copy a 304 would leave nothing to use: ask unconditionally.
        fetched = fetch(
            calendar.fetch_url,
            etag=etag if content else "",
            last_modified=last_modified if content else "",
            policy=policy,
        )
        if fetched.not_modified:
            etag, last_modified = fetched.etag, fetched.last_modified
        else:
            text = fetched.body.decode("utf-8-sig", errors="replace")
            intervals = busy_intervals(text, start=start, end=until, zone=zone)
            content, etag, last_modified, updated = text, fetched.etag, fetched.last_modified, True
    except (FetchError, CalendarParseError) as failure:
        error = str(failure)
    if intervals is None and content:
        try:
            intervals = busy_intervals(content, start=start, end=until, zone=zone)
        except CalendarParseError:
            intervals = None  # a copy that no longer parses (a library change): keep the stored rows

    with transaction.atomic():
        locked = BusyCalendar.objects.select_for_update().filter(pk=calendar.pk).first()
        if locked is None:  # deleted meanwhile
            return SyncResult(calendar=calendar, error=error, intervals=0, updated=False)
        if intervals is not None:
            locked.busy_intervals.all().delete()
            BusyInterval.objects.bulk_create(
                BusyInterval(calendar=locked, starts_at=begins, ends_at=ends) for begins, ends in intervals
            )
        locked.content, locked.etag, locked.last_modified = content, etag[:255], last_modified[:64]
        locked.fetched_at = now
        locked.last_error = error[:255]
        if not error:
            locked.last_success_at = now
        locked.save(update_fields=["content", "etag", "last_modified", "fetched_at", "last_error", "last_success_at"])
        stored = locked.busy_intervals.count() if intervals is None else len(intervals)
    if error:
        logger.warning("Busy calendar %s (id %s) could not be read: %s", locked.name, locked.pk, error)
    return SyncResult(calendar=locked, error=error, intervals=stored, updated=updated)


def busy_calendars_sync(*, now: dt.datetime, zone: ZoneInfo, policy: SyncPolicy | None = None) -> list[SyncResult]:
    """Read every active calendar; one failing never stops the others."""
    policy = policy or SyncPolicy.from_settings()
    until = now + longest_horizon() + dt.timedelta(days=1)
    results = []
    for calendar in BusyCalendar.objects.filter(is_active=True).order_by("pk"):
        try:
            results.append(busy_calendar_sync(calendar=calendar, now=now, zone=zone, until=until, policy=policy))
        except Exception:
            # An unexpected fault with one calendar must not stop the worker or the other calendars.
            logger.exception("Busy calendar %s (id %s) could not be synced", calendar.name, calendar.pk)
            BusyCalendar.objects.filter(pk=calendar.pk).update(
                fetched_at=now, last_error="An unexpected error stopped the sync; see the server log."
            )
            results.append(SyncResult(calendar=calendar, error="unexpected error", intervals=0, updated=False))
    return results
