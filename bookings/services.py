"""
Every write to the booking domain. Views, forms and the admin call these; nothing else changes a
booking's state.

Allowed status changes (anything else raises TransitionError):

    pending    -> confirmed, declined, cancelled_client, cancelled_practice
    confirmed  -> cancelled_client, cancelled_practice, completed, no_show

Each service takes keyword-only arguments and `now`, runs in a transaction, locks the booking it
changes, and writes the notifications to send into the outbox in the same transaction. The
database refuses overlapping active bookings (migration 0002), so two requests racing for one
time can never both succeed: the loser gets SlotUnavailableError with the next free times.
"""

import datetime as dt
import uuid
from dataclasses import dataclass, field

from django.conf import settings
from django.db import IntegrityError, OperationalError, transaction
from django.views.decorators.debug import sensitive_variables

from . import selectors
from .models import (
    ACTIVE_STATUSES,
    Booking,
    BookingStatus,
    ConsultationType,
    Notification,
    NotificationKind,
)

CONSENT_TEXT_VERSION = "2026-11"

ALLOWED_TRANSITIONS = {
    BookingStatus.PENDING: {
        BookingStatus.CONFIRMED,
        BookingStatus.DECLINED,
        BookingStatus.CANCELLED_BY_CLIENT,
        BookingStatus.CANCELLED_BY_PRACTICE,
    },
    BookingStatus.CONFIRMED: {
        BookingStatus.CANCELLED_BY_CLIENT,
        BookingStatus.CANCELLED_BY_PRACTICE,
        BookingStatus.COMPLETED,
        BookingStatus.NO_SHOW,
    },
}


class BookingError(Exception):
    """A booking change that cannot be made, with a message fit for the person who asked."""


class SlotUnavailableError(BookingError):
    def __init__(self, message="Sorry, that time was just taken.", *, next_free=()):
        super().__init__(message)
        self.next_free = list(next_free)


class TransitionError(BookingError):
    pass


class PolicyError(BookingError):
    pass


@dataclass
class BookingRequest:
    """What the visitor asked for, already validated by the form."""

    name: str
    email: str
    reason: str
    phone: str = ""
    contact_method: str = "email"
    heard_about: str = ""
    source_page: str = ""
    visitor_time_zone: str = ""
    consent_privacy: bool = False
    consent_health_data: bool = False
    acknowledged_not_emergency: bool = False
    idempotency_key: uuid.UUID | None = None
    extra: dict = field(default_factory=dict)


@dataclass
class RequestResult:
    booking: Booking
    created: bool  # False when the same form was sent twice: the first request's booking


def _queue(booking: Booking, kind: str, *, now: dt.datetime) -> None:
    Notification.objects.get_or_create(
        booking=booking, kind=kind, sequence=booking.sequence, defaults={"next_attempt_at": now}
    )
    if getattr(settings, "BOOKINGS_DELIVER_ON_COMMIT", False):
        from .notifications import deliver_due

        transaction.on_commit(lambda: deliver_due(now=None))


RETRIES = 3
RETRYABLE_CODES = {"40P01", "40001"}  # PostgreSQL: deadlock detected, serialization failure


def _retryable(error: OperationalError) -> bool:
    """
    Two requests for overlapping times can wait on each other's exclusion check; PostgreSQL then
    aborts one of them. Trying again is safe: the retry sees the other booking and answers plainly.
    """
    code = getattr(error.__cause__, "pgcode", None)
    return code in RETRYABLE_CODES or "database is locked" in str(error)


def _lock(booking: Booking) -> Booking:
    return Booking.objects.select_for_update().select_related("consultation_type").get(pk=booking.pk)


def _check_transition(booking: Booking, new_status: str) -> None:
    if new_status not in ALLOWED_TRANSITIONS.get(booking.status, set()):
        raise TransitionError(f"A {booking.get_status_display().lower()} booking cannot become {new_status}.")


def _unavailable(consultation_type, starts_at, *, now, zone, ignore_booking=None) -> SlotUnavailableError:
    return SlotUnavailableError(
        next_free=selectors.next_free_slots(
            consultation_type=consultation_type, after=starts_at, now=now, zone=zone, ignore_booking=ignore_booking
        )
    )


@sensitive_variables("request", "booking")
def booking_request(
    *, consultation_type: ConsultationType, starts_at: dt.datetime, request: BookingRequest, now: dt.datetime
) -> RequestResult:
    """
    Save a visitor's request for `starts_at`. The slot is checked again with the same rules that
    showed it; the database has the last word if another request got there first.
    """
    if starts_at.tzinfo is None:
        raise BookingError("The start time must carry its time zone.")
    if request.idempotency_key:
        existing = Booking.objects.filter(idempotency_key=request.idempotency_key).first()
        if existing is not None:
            return RequestResult(existing, created=False)
    if not consultation_type.is_active:
        raise BookingError("This consultation is not offered at the moment.")
    zone = selectors.practice_zone()
    if not selectors.slot_is_free(consultation_type=consultation_type, starts_at=starts_at, now=now, zone=zone):
        raise _unavailable(consultation_type, starts_at, now=now, zone=zone)

    booking = Booking(
        consultation_type=consultation_type,
        status=BookingStatus.PENDING if consultation_type.requires_approval else BookingStatus.CONFIRMED,
        name=request.name,
        email=request.email,
        phone=request.phone,
        contact_method=request.contact_method,
        reason=request.reason,
        heard_about=request.heard_about,
        source_page=request.source_page,
        visitor_time_zone=request.visitor_time_zone,
        consent_privacy=request.consent_privacy,
        consent_health_data=request.consent_health_data,
        acknowledged_not_emergency=request.acknowledged_not_emergency,
        consent_text_version=CONSENT_TEXT_VERSION,
        consent_given_at=now,
        idempotency_key=request.idempotency_key,
        confirmed_at=None if consultation_type.requires_approval else now,
    )
    booking.set_times(starts_at)
    for attempt in range(1, RETRIES + 1):
        try:
            with transaction.atomic():
                booking.save()
                if booking.status == BookingStatus.PENDING:
                    _queue(booking, NotificationKind.REQUEST_RECEIVED, now=now)
                else:
                    _queue(booking, NotificationKind.CONFIRMED, now=now)
                _queue(booking, NotificationKind.PRACTICE_NEW_REQUEST, now=now)
        except IntegrityError as error:
            if request.idempotency_key and Booking.objects.filter(idempotency_key=request.idempotency_key).exists():
                return RequestResult(Booking.objects.get(idempotency_key=request.idempotency_key), created=False)
            if "booking_no_overlap" in str(error):
                raise _unavailable(consultation_type, starts_at, now=now, zone=zone) from None
            raise
        except OperationalError as error:
            booking.pk = None  # the aborted insert left nothing behind
            if not _retryable(error):
                raise
            if attempt == RETRIES or not selectors.slot_is_free(
                consultation_type=consultation_type, starts_at=starts_at, now=now, zone=zone
            ):
                raise _unavailable(consultation_type, starts_at, now=now, zone=zone) from None
        else:
            return RequestResult(booking, created=True)
    raise _unavailable(consultation_type, starts_at, now=now, zone=zone)


def _decide(booking: Booking, new_status: str, *, stamp: str, kind: str, now: dt.datetime) -> Booking:
    """The practice's answer to a request: lock, check the transition, record when, queue the email."""
    with transaction.atomic():
        booking = _lock(booking)
        _check_transition(booking, new_status)
        booking.status = new_status
        setattr(booking, stamp, now)
        booking.save(update_fields=["status", stamp, "updated_at"])
        _queue(booking, kind, now=now)
    return booking


def booking_confirm(*, booking: Booking, now: dt.datetime) -> Booking:
    return _decide(booking, BookingStatus.CONFIRMED, stamp="confirmed_at", kind=NotificationKind.CONFIRMED, now=now)


def booking_decline(*, booking: Booking, now: dt.datetime) -> Booking:
    return _decide(booking, BookingStatus.DECLINED, stamp="cancelled_at", kind=NotificationKind.DECLINED, now=now)


def client_can_change(booking: Booking, *, now: dt.datetime) -> bool:
    cutoff = dt.timedelta(hours=selectors.practice_settings().cancellation_cutoff_hours)
    return booking.is_active and booking.starts_at - cutoff > now


def booking_cancel(*, booking: Booking, by_client: bool, now: dt.datetime) -> Booking:
    """Cancel; a client may do so only until the cut-off in the practice settings."""
    new_status = BookingStatus.CANCELLED_BY_CLIENT if by_client else BookingStatus.CANCELLED_BY_PRACTICE
    with transaction.atomic():
        booking = _lock(booking)
        _check_transition(booking, new_status)
        if by_client and not client_can_change(booking, now=now):
            raise PolicyError("It is too late to cancel online. Please contact the practice.")
        booking.status = new_status
        booking.cancelled_at = now
        booking.sequence += 1
        booking.save(update_fields=["status", "cancelled_at", "sequence", "updated_at"])
        _queue(booking, NotificationKind.CANCELLED, now=now)
        if by_client:
            _queue(booking, NotificationKind.PRACTICE_CHANGED, now=now)
    return booking


def booking_move(*, booking: Booking, new_start: dt.datetime, by_client: bool, now: dt.datetime) -> Booking:
    """
    Move to `new_start`. One UPDATE changes the times: if the database refuses the new time the
    booking keeps its old one, so the old time is freed only when the new one is taken.
    """
    zone = selectors.practice_zone()
    consultation_type = booking.consultation_type
    try:
        with transaction.atomic():
            booking = _lock(booking)
            if booking.status not in ACTIVE_STATUSES:
                raise TransitionError("Only a pending or confirmed booking can be moved.")
            if by_client and not client_can_change(booking, now=now):
                raise PolicyError("It is too late to move this booking online. Please contact the practice.")
            if not selectors.slot_is_free(
                consultation_type=consultation_type, starts_at=new_start, now=now, zone=zone, ignore_booking=booking
            ):
                raise SlotUnavailableError()
            booking.set_times(new_start)
            booking.sequence += 1
            booking.save(
                update_fields=["starts_at", "ends_at", "blocked_from", "blocked_until", "sequence", "updated_at"]
            )
            _queue(booking, NotificationKind.MOVED, now=now)
            if by_client:
                _queue(booking, NotificationKind.PRACTICE_CHANGED, now=now)
    except (IntegrityError, SlotUnavailableError):
        # The next free times are looked up after the transaction, so no lock is held meanwhile.
        raise _unavailable(consultation_type, new_start, now=now, zone=zone, ignore_booking=booking) from None
    except OperationalError as error:
        if not _retryable(error):
            raise
        raise _unavailable(consultation_type, new_start, now=now, zone=zone, ignore_booking=booking) from None
    return booking


def booking_close(*, booking: Booking, outcome: str, now: dt.datetime) -> Booking:
    """Record after the appointment whether it took place (completed) or not (no-show)."""
    if outcome not in (BookingStatus.COMPLETED, BookingStatus.NO_SHOW):
        raise TransitionError("A booking closes as completed or no-show.")
    with transaction.atomic():
        booking = _lock(booking)
        _check_transition(booking, outcome)
        if booking.starts_at > now:
            raise PolicyError("A booking can only be closed once it has started.")
        booking.status = outcome
        booking.save(update_fields=["status", "updated_at"])
    return booking
