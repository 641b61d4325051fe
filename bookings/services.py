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

What the practice can do from the admin is declared once, in BOOKING_ACTIONS and ENQUIRY_ACTIONS
at the end of this module: each action names its service, the states it is allowed from, its
button label, its audit-log action and its success message. The admin views, buttons and log
registrations are generated from those tables. Visitors' own changes (a request, a move or a
cancellation through the manage link) are recorded in the audit log here, with no user.

Caps on what one person can hold: a request is refused (ActiveLimitError, nothing stored) when its
email address already has BOOKING_MAX_ACTIVE_PER_EMAIL pending or confirmed future bookings, or the
address it came from (a keyed hash, BookingRequest.client_address_hash) has
BOOKING_MAX_ACTIVE_PER_ADDRESS. They are counted inside the request's transaction, which SQLite
runs one at a time (IMMEDIATE) and PostgreSQL serialises per email and per address with
transaction-level advisory locks, so requests sent at once cannot all slip under a cap. The locks
are taken last, after the request's own rows are written, so that each is held only for the count
and the commit: requests from one address (a family, an office) do not queue behind each other's writes.

Enquiries: new -> answered (a reply was sent) -> closed; closed -> reopened as new or answered.
"""

import datetime as dt
import functools
import hashlib
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field

from django import forms as django_forms
from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.db import IntegrityError, OperationalError, connection, models, transaction
from django.db.models import Max
from django.db.models.constants import OnConflict
from django.views.decorators.debug import sensitive_variables

from wagtail.log_actions import get_active_log_context
from wagtail.log_actions import registry as log_action_registry
from wagtail.models import ModelLogEntry, ReferenceIndex
from wagtail.signal_handlers import disable_reference_index_auto_update

from . import forms, meetings, selectors
from .models import (
    ACTIVE_STATUSES,
    Booking,
    BookingStatus,
    ConsultationType,
    Enquiry,
    EnquiryStatus,
    Note,
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


class StaleError(BookingError):
    """The record changed after the admin opened it; nothing was done."""


class ActiveLimitError(BookingError):
    """The person already holds as many upcoming bookings as one person may."""


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
    # (intake.models.IntakeQuestion, answer text) in the order asked: health details, like the reason.
    intake_answers: list[tuple] = field(default_factory=list, repr=False)
    client_address_hash: str = ""  # bookings.ratelimit.address_hash of where the request came from


@dataclass
class RequestResult:
    booking: Booking
    created: bool  # False when the same form was sent twice: the first request's booking


def _deliver_on_commit() -> None:
    if getattr(settings, "BOOKINGS_DELIVER_ON_COMMIT", False):
        from .notifications import deliver_due

        transaction.on_commit(lambda: deliver_due(now=None))


def _insert_new(objects: list[models.Model], *, ignore_conflicts: bool = False) -> None:
    """
    Insert new rows of one model (their related objects saved) in one statement, with the values
    `bulk_create` would write, each prepared by its field (defaults, dates, encryption, JSON), and like
    it without signals. What `bulk_create` does besides, and these rows never need (ids read back,
    checks and batches for any number of rows), cost more CPU than the rows themselves on every
    booking request. The objects' ids stay unset.
    """
    fields = _insert_fields(type(objects[0]))
    with connection.cursor() as cursor:
        cursor.execute(
            _insert_sql(type(objects[0]), len(objects), ignore_conflicts=ignore_conflicts, vendor=connection.vendor),
            [field.get_db_prep_save(field.pre_save(row, True), connection) for row in objects for field in fields],
        )


@functools.cache
def _insert_fields(model: type[models.Model]) -> list[models.Field]:
    """The columns `bulk_create` writes for a row without an id: all but the id and generated columns."""
    opts = model._meta
    return [field for field in opts.concrete_fields if field is not opts.auto_field and not field.generated]


@functools.cache
def _insert_sql(model: type[models.Model], rows: int, *, ignore_conflicts: bool, vendor: str) -> str:
    fields = _insert_fields(model)
    on_conflict = OnConflict.IGNORE if ignore_conflicts else None
    row = "(" + ", ".join(["%s"] * len(fields)) + ")"
    return " ".join(
        [
            connection.ops.insert_statement(on_conflict=on_conflict),
            connection.ops.quote_name(model._meta.db_table),
            "(" + ", ".join(connection.ops.quote_name(field.column) for field in fields) + ")",
            "VALUES " + ", ".join([row] * rows),
            connection.ops.on_conflict_suffix_sql(fields, on_conflict, None, None),
        ]
    ).strip()


def _queue(booking: Booking, kind: str, *, now: dt.datetime, message: str = "", author=None) -> None:
    Notification.objects.get_or_create(
        booking=booking,
        kind=kind,
        sequence=booking.sequence,
        copy=0,
        defaults={"next_attempt_at": now, "message": message, "author": author},
    )
    _deliver_on_commit()


def _queue_new(booking: Booking, *kinds: str, now: dt.datetime) -> None:
    """
    The first emails of a booking just created, in one statement: there can be none of these kinds
    for it yet, so `_queue`'s look-up first is not needed (the unique constraint still holds).
    """
    _insert_new(
        [
            Notification(booking=booking, kind=kind, sequence=booking.sequence, copy=0, next_attempt_at=now)
            for kind in kinds
        ]
    )
    _deliver_on_commit()


def _queue_enquiry(enquiry: Enquiry, kind: str, *, now: dt.datetime, sequence: int = 0, message="", author=None):
    Notification.objects.get_or_create(
        enquiry=enquiry,
        kind=kind,
        sequence=sequence,
        defaults={"next_attempt_at": now, "message": message, "author": author},
    )
    _deliver_on_commit()


def record(instance: models.Model, action: str, *, user=None, now: dt.datetime, **data) -> None:
    """
    An audit-log entry for a booking or enquiry. `data` holds facts only, never health details.

    The entry is the one `wagtail.log_actions.log` makes (Wagtail's log model for the instance, its
    label, the user and the shared id of the admin's log context), and, as Wagtail's `save()` does, it
    is refused for an action nobody registered. Wagtail's `save()` also runs the log model's
    `full_clean()`, which reads the content type back to check that it exists: a query on every booking
    request that can never fail (the type comes from the content-type cache and the database checks
    the foreign key), so the entry is inserted directly.
    """
    if instance.pk is None:
        raise ValueError(f"An unsaved {type(instance).__name__} cannot be logged.")
    log_model = log_action_registry.get_log_model_for_instance(instance)
    if log_model is None:  # as Wagtail: a model without a log model is not logged
        return
    context = get_active_log_context()
    entry = log_model(
        content_type=ContentType.objects.get_for_model(instance, for_concrete_model=False),
        object_id=str(instance.pk),
        label=log_model.objects.get_instance_title(instance)[:255],
        action=action,
        user=user or context.user,
        uuid=context.uuid,
        timestamp=now,
        data=data,
    )
    entry.clean()
    _insert_new([entry])


def record_access(instances, *, action: str, user, now: dt.datetime, **data) -> int:
    """
    Who looked: one audit-log entry per booking or enquiry that `user` saw the details of (opened, or
    exported), written in one statement however many there are.
    """
    instances = list(instances)
    if not instances:
        return 0
    content_type = ContentType.objects.get_for_model(instances[0], for_concrete_model=False)
    ModelLogEntry.objects.bulk_create(
        ModelLogEntry(
            content_type=content_type,
            object_id=str(instance.pk),
            label=str(instance)[:255],
            action=action,
            user=user,
            timestamp=now,
            data=data,
        )
        for instance in instances
    )
    return len(instances)


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
    # No state change needs the reason; leaving it unloaded also spares the lock a decryption.
    return Booking.objects.select_for_update().select_related("consultation_type").defer("reason").get(pk=booking.pk)


def _check_transition(booking: Booking, new_status: str) -> None:
    if new_status not in ALLOWED_TRANSITIONS.get(booking.status, set()):
        raise TransitionError(f"A {booking.get_status_display().lower()} booking cannot become {new_status}.")


def _advisory_lock(*keys: str) -> None:
    """
    On PostgreSQL, wait for and hold (until the transaction ends) a lock named by each of `keys`, taken
    one after the other in the order given, in one statement.
    """
    if connection.vendor == "postgresql" and keys:
        numbers = [int.from_bytes(hashlib.sha256(key.encode()).digest()[:8], "big", signed=True) for key in keys]
        with connection.cursor() as cursor:
            cursor.execute("SELECT " + ", ".join(["pg_advisory_xact_lock(%s)"] * len(numbers)), numbers)


# Both counts of _active_counts in one statement. Written out rather than built with the ORM, whose
# conditional aggregate costs ten times the CPU of the statement itself on every booking request. It is
# what Booking.objects.upcoming(now=now).exclude(pk=...) with Count("pk", filter=Q(email__iexact=...))
# and Count("pk", filter=Q(client_address_hash=...)) would send, in SQL that SQLite and PostgreSQL share.
ACTIVE_COUNTS_SQL = """
SELECT COUNT(CASE WHEN UPPER(email) = UPPER(%s) THEN 1 END),
       COUNT(CASE WHEN client_address_hash = %s THEN 1 END)
FROM bookings_booking
WHERE status IN (STATUSES)
  AND starts_at >= %s
  AND id <> %s
  AND (UPPER(email) = UPPER(%s) OR client_address_hash = %s)
""".replace("STATUSES", ", ".join(["%s"] * len(ACTIVE_STATUSES)))  # placeholders only: values are parameters


# Whether an active booking's blocked range overlaps [start, end): the guard's rule, asked before inserting.
# Written out for the same reason as ACTIVE_COUNTS_SQL; it is what
# Booking.objects.active().overlapping(start, end).exists() would send, and uses the same index.
OVERLAP_SQL = """
SELECT 1
FROM bookings_booking
WHERE status IN (STATUSES)
  AND blocked_from < %s
  AND blocked_until > %s
LIMIT 1
""".replace("STATUSES", ", ".join(["%s"] * len(ACTIVE_STATUSES)))


def _overlaps_active(*, start: dt.datetime, end: dt.datetime) -> bool:
    adapt = connection.ops.adapt_datetimefield_value
    with connection.cursor() as cursor:
        cursor.execute(OVERLAP_SQL, [*ACTIVE_STATUSES, adapt(end), adapt(start)])
        return cursor.fetchone() is not None


def _active_counts(*, email: str, address: str, excluding: Booking, now: dt.datetime) -> tuple[int, int]:
    """
    How many upcoming active bookings, `excluding` one, have `email` (in any case) and how many came
    from `address` (none when it is "": a request whose address is unknown is not counted with others).
    """
    address_or_none = address or None  # NULL matches nothing
    with connection.cursor() as cursor:
        cursor.execute(
            ACTIVE_COUNTS_SQL,
            [
                email,
                address_or_none,
                *ACTIVE_STATUSES,
                connection.ops.adapt_datetimefield_value(now),
                excluding.pk,
                email,
                address_or_none,
            ],
        )
        by_email, by_address = cursor.fetchone()
    return by_email, by_address


def _check_active_caps(request: BookingRequest, *, booking: Booking, now: dt.datetime) -> None:
    """
    Refuse a request past the caps on upcoming bookings per email address and per client address.
    Called last in the request's transaction, once `booking` (its own, not counted) is written: the
    locks are then held only for the count and the commit, and a transaction that holds one never
    waits for anything else, so requests never wait on each other in a circle.
    """
    email = request.email.strip().lower()
    address = request.client_address_hash
    _advisory_lock(f"bookings.active.email:{email}", *([f"bookings.active.address:{address}"] if address else []))
    # A statement of its own, after the locks: it sees every booking committed by whoever held them before.
    by_email, by_address = _active_counts(email=email, address=address, excluding=booking, now=now)
    most = settings.BOOKING_MAX_ACTIVE_PER_EMAIL
    if by_email >= most:
        raise ActiveLimitError(
            f"You already have {most} consultation{'s' if most != 1 else ''} booked or waiting for an answer "
            "with this email address. To ask for another, please cancel one with the link in its email, "
            "or contact the practice directly."
        )
    if address and by_address >= settings.BOOKING_MAX_ACTIVE_PER_ADDRESS:
        raise ActiveLimitError(
            "Several consultations have already been requested from your connection. To ask for another, "
            "please contact the practice directly."
        )


def _unavailable(consultation_type, starts_at, *, now, zone, ignore_booking=None) -> SlotUnavailableError:
    return SlotUnavailableError(
        next_free=selectors.next_free_slots(
            consultation_type=consultation_type, after=starts_at, now=now, zone=zone, ignore_booking=ignore_booking
        )
    )


def _index_references_of_new(booking: Booking) -> None:
    """
    Wagtail's reference index rows of a booking just inserted (which bookings use a consultation type,
    so that a type in use is never deleted), in the caller's transaction. Wagtail's post_save handler
    (turned off around the insert) would read the new booking back first, decrypting its reason, and
    `ReferenceIndex.create_or_update_for_object` would look for the rows it already has: a new booking
    has none, so its rows are only inserted. The rows are those Wagtail extracts itself; conflicts are
    ignored where the database can, as Wagtail does.
    """
    if not ReferenceIndex.is_indexed(Booking):
        return
    content_type = ContentType.objects.get_for_model(booking, for_concrete_model=False)
    rows = [
        ReferenceIndex(
            content_type=content_type,
            base_content_type=content_type,  # a booking has no parent model
            object_id=booking.pk,
            to_content_type_id=to_content_type_id,
            to_object_id=to_object_id,
            model_path=model_path,
            content_path=content_path,
            content_path_hash=ReferenceIndex._get_content_path_hash(content_path),
        )
        for to_content_type_id, to_object_id, model_path, content_path in set(
            ReferenceIndex._extract_references_from_object(booking)
        )
    ]
    if rows:
        _insert_new(rows, ignore_conflicts=connection.features.supports_ignore_conflicts)


def _booking_with_key(key: uuid.UUID | None) -> Booking | None:
    """The booking an earlier sending of the same form made, if any. Usually none: looked for by its key alone."""
    if key is None:
        return None
    found = Booking.objects.filter(idempotency_key=key).order_by().values_list("pk", flat=True)[:1]
    return Booking.objects.get(pk=found[0]) if found else None


@sensitive_variables("request", "booking")
def booking_request(
    *,
    consultation_type: ConsultationType,
    starts_at: dt.datetime,
    request: BookingRequest,
    now: dt.datetime,
    setup: selectors.BookingSetup | None = None,
) -> RequestResult:
    """
    Save a visitor's request for `starts_at`. The slot is checked again with the same rules that
    showed it: the slot engine's, and for other bookings the database's overlap guard as the booking
    is inserted, which also settles two requests sent at once. `setup` is the booking set-up (the
    practice's settings, opening hours) when the caller has it already (read here otherwise).
    """
    if starts_at.tzinfo is None:
        raise BookingError("The start time must carry its time zone.")
    # The same form sent again is answered with its first booking. That booking is looked for only
    # when this request cannot go ahead (the type withdrawn, the time taken, the key already stored),
    # which a form sent twice always meets: most requests are sent once and need no look-up.
    if not consultation_type.is_active:
        if existing := _booking_with_key(request.idempotency_key):
            return RequestResult(existing, created=False)
        raise BookingError("This consultation is not offered at the moment.")
    if setup is None:
        setup = selectors.booking_setup(now=now)
    practice = setup.practice
    zone = practice.zone
    # Other bookings are checked below, with the booking's blocked times in hand (see slot_is_free).
    if not selectors.slot_is_free(
        consultation_type=consultation_type,
        starts_at=starts_at,
        now=now,
        zone=zone,
        include_bookings=False,
        setup=setup,
    ):
        if existing := _booking_with_key(request.idempotency_key):
            return RequestResult(existing, created=False)
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
        policy_version=meetings.policy_version(practice.booking_policy),
        idempotency_key=request.idempotency_key,
        client_address_hash=request.client_address_hash,
        confirmed_at=None if consultation_type.requires_approval else now,
        meeting_url=""
        if consultation_type.requires_approval
        else meetings.meeting_url_for(consultation_type, jitsi_server=practice.jitsi_server),
    )
    booking.set_times(starts_at)
    # One indexed look for an overlapping active booking (the same rule as the database's guard) before
    # inserting: a time just taken, or the same form sent again, is answered without a failed insert,
    # whose values (the visitor's name and contact details) PostgreSQL would write to its error log.
    # The guard still settles two requests sent at the same moment.
    if _overlaps_active(start=booking.blocked_from, end=booking.blocked_until):
        if existing := _booking_with_key(request.idempotency_key):
            return RequestResult(existing, created=False)
        raise _unavailable(consultation_type, starts_at, now=now, zone=zone)
    for attempt in range(1, RETRIES + 1):
        try:
            with transaction.atomic():
                with disable_reference_index_auto_update():
                    booking.save()
                _index_references_of_new(booking)
                if request.intake_answers:
                    from intake.models import IntakeAnswer  # intake builds on bookings, so imported here

                    IntakeAnswer.objects.record(booking=booking, answers=request.intake_answers)
                _queue_new(
                    booking,
                    NotificationKind.REQUEST_RECEIVED
                    if booking.status == BookingStatus.PENDING
                    else NotificationKind.CONFIRMED,
                    NotificationKind.PRACTICE_NEW_REQUEST,
                    now=now,
                )
                record(booking, CLIENT_EVENTS["request"][0], now=now, actor="client")
                _check_active_caps(request, booking=booking, now=now)
        except IntegrityError as error:
            existing = _booking_with_key(request.idempotency_key)
            if existing is not None:
                return RequestResult(existing, created=False)
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


def _decide(
    booking: Booking, new_status: str, *, stamp: str, kind: str, now: dt.datetime, message: str = "", user=None
) -> Booking:
    """The practice's answer to a request: lock, check the transition, record when, queue the email."""
    with transaction.atomic():
        booking = _lock(booking)
        _check_transition(booking, new_status)
        booking.status = new_status
        setattr(booking, stamp, now)
        booking.save(update_fields=["status", stamp, "updated_at"])
        _queue(booking, kind, now=now, message=message, author=user)
    return booking


def booking_confirm(*, booking: Booking, now: dt.datetime, user=None, meeting_url: str = "") -> Booking:
    """
    Confirm a request. A video consultation gets its link now (`meeting_url` as pasted by the practice,
    else the type's fixed room or a new Jitsi room), stored so that every email gives the same one.
    """
    jitsi_server = selectors.practice_settings().jitsi_server
    with transaction.atomic():
        booking = _lock(booking)
        _check_transition(booking, BookingStatus.CONFIRMED)
        booking.status = BookingStatus.CONFIRMED
        booking.confirmed_at = now
        booking.meeting_url = meetings.meeting_url_for(
            booking.consultation_type, jitsi_server=jitsi_server, pasted=meeting_url
        )
        booking.save(update_fields=["status", "confirmed_at", "meeting_url", "updated_at"])
        _queue(booking, NotificationKind.CONFIRMED, now=now, author=user)
    return booking


def booking_decline(*, booking: Booking, now: dt.datetime, message: str = "", user=None) -> Booking:
    return _decide(
        booking,
        BookingStatus.DECLINED,
        stamp="cancelled_at",
        kind=NotificationKind.DECLINED,
        now=now,
        message=message,
        user=user,
    )


def client_can_change(booking: Booking, *, now: dt.datetime) -> bool:
    cutoff = dt.timedelta(hours=selectors.practice_settings().cancellation_cutoff_hours)
    return booking.is_active and booking.starts_at - cutoff > now


def booking_cancel(*, booking: Booking, by_client: bool, now: dt.datetime, message: str = "", user=None) -> Booking:
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
        _queue(booking, NotificationKind.CANCELLED, now=now, message=message, author=user)
        if by_client:
            _queue(booking, NotificationKind.PRACTICE_CHANGED, now=now)
            record(booking, CLIENT_EVENTS["cancel"][0], now=now, actor="client")
    return booking


def booking_move(*, booking: Booking, new_start: dt.datetime, by_client: bool, now: dt.datetime, user=None) -> Booking:
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
            booking.attendance_confirmed_at = None  # the client said they would come at the old time
            booking.save(
                update_fields=[
                    "starts_at",
                    "ends_at",
                    "blocked_from",
                    "blocked_until",
                    "sequence",
                    "attendance_confirmed_at",
                    "updated_at",
                ]
            )
            _queue(booking, NotificationKind.MOVED, now=now, author=user)
            if by_client:
                _queue(booking, NotificationKind.PRACTICE_CHANGED, now=now)
                record(booking, CLIENT_EVENTS["move"][0], now=now, actor="client", to=new_start.isoformat())
    except (IntegrityError, SlotUnavailableError):
        # The next free times are looked up after the transaction, so no lock is held meanwhile.
        raise _unavailable(consultation_type, new_start, now=now, zone=zone, ignore_booking=booking) from None
    except OperationalError as error:
        if not _retryable(error):
            raise
        raise _unavailable(consultation_type, new_start, now=now, zone=zone, ignore_booking=booking) from None
    return booking


def booking_close(*, booking: Booking, outcome: str, now: dt.datetime, user=None) -> Booking:
    """
    Record after the appointment whether it took place (completed) or not (no-show). After a no-show
    the client is offered a new time by email, if the practice settings say so.
    """
    if outcome not in (BookingStatus.COMPLETED, BookingStatus.NO_SHOW):
        raise TransitionError("A booking closes as completed or no-show.")
    send_rebook_offer = selectors.practice_settings().send_rebook_offer
    with transaction.atomic():
        booking = _lock(booking)
        _check_transition(booking, outcome)
        if booking.starts_at > now:
            raise PolicyError("A booking can only be closed once it has started.")
        booking.status = outcome
        booking.save(update_fields=["status", "updated_at"])
        if outcome == BookingStatus.NO_SHOW and send_rebook_offer:
            _queue(booking, NotificationKind.REBOOK_OFFER, now=now, author=user)
    return booking


def booking_attendance_confirm(*, booking: Booking, now: dt.datetime) -> Booking:
    """
    The client says, from the reminder's link, that they will be there. Recorded once: a second click
    changes nothing. Only for a confirmed booking that has not started yet.
    """
    with transaction.atomic():
        booking = _lock(booking)
        if booking.status != BookingStatus.CONFIRMED or booking.starts_at <= now:
            raise TransitionError("Only a confirmed consultation that has not started can be confirmed.")
        if booking.attendance_confirmed_at is None:
            booking.attendance_confirmed_at = now
            # `updated_at` is left alone: this answer must not make an admin's open page "changed meanwhile".
            booking.save(update_fields=["attendance_confirmed_at"])
            record(booking, CLIENT_EVENTS["attendance"][0], now=now, actor="client")
    return booking


def has_started(booking: Booking, now: dt.datetime) -> bool:
    return booking.starts_at <= now


def booking_complete(*, booking: Booking, now: dt.datetime, user=None) -> Booking:
    return booking_close(booking=booking, outcome=BookingStatus.COMPLETED, now=now, user=user)


def booking_no_show(*, booking: Booking, now: dt.datetime, user=None) -> Booking:
    return booking_close(booking=booking, outcome=BookingStatus.NO_SHOW, now=now, user=user)


def booking_cancel_by_practice(*, booking: Booking, now: dt.datetime, message: str = "", user=None) -> Booking:
    return booking_cancel(booking=booking, by_client=False, now=now, message=message, user=user)


def booking_move_by_practice(*, booking: Booking, new_start: dt.datetime, now: dt.datetime, user=None) -> Booking:
    return booking_move(booking=booking, new_start=new_start, by_client=False, now=now, user=user)


def booking_resend_confirmation(*, booking: Booking, now: dt.datetime, user=None) -> Booking:
    """Queue the confirmation (with its calendar file) again, as a new copy of the same email."""
    with transaction.atomic():
        booking = _lock(booking)
        if booking.status != BookingStatus.CONFIRMED:
            raise TransitionError("Only a confirmed booking has a confirmation to resend.")
        sent = Notification.objects.filter(
            booking=booking, kind=NotificationKind.CONFIRMED, sequence=booking.sequence
        ).aggregate(last=Max("copy"))["last"]
        Notification.objects.create(
            booking=booking,
            kind=NotificationKind.CONFIRMED,
            sequence=booking.sequence,
            copy=0 if sent is None else sent + 1,
            next_attempt_at=now,
            author=user,
        )
        _deliver_on_commit()
    return booking


def booking_note_add(*, booking: Booking, text: str, now: dt.datetime, user=None) -> Booking:
    """A private note: stored for practice admins, never emailed and never in a calendar file."""
    Note.objects.create(booking=booking, text=text, author=user, created_at=now)
    return booking


# Enquiries from the contact page.


@dataclass
class EnquiryRequest:
    """What the visitor sent through the contact page, already validated by the form."""

    name: str
    email: str
    message: str
    topic: str
    phone: str = ""
    source_page: str = ""
    consent_privacy: bool = False
    idempotency_key: uuid.UUID | None = None


@sensitive_variables("request", "enquiry")
def enquiry_submit(*, request: EnquiryRequest, now: dt.datetime) -> Enquiry:
    """Save an enquiry, acknowledge it to the sender and tell the practice (never quoting the message)."""
    if request.idempotency_key:
        existing = Enquiry.objects.filter(idempotency_key=request.idempotency_key).first()
        if existing is not None:
            return existing
    with transaction.atomic():
        enquiry = Enquiry.objects.create(
            name=request.name,
            email=request.email,
            phone=request.phone,
            topic=request.topic,
            message=request.message,
            source_page=request.source_page,
            consent_privacy=request.consent_privacy,
            consent_text_version=CONSENT_TEXT_VERSION,
            consent_given_at=now,
            idempotency_key=request.idempotency_key,
        )
        _queue_enquiry(enquiry, NotificationKind.ENQUIRY_RECEIVED, now=now)
        _queue_enquiry(enquiry, NotificationKind.PRACTICE_NEW_ENQUIRY, now=now)
        record(enquiry, CLIENT_EVENTS["enquiry"][0], now=now, actor="client")
    return enquiry


ENQUIRY_TRANSITIONS = {
    EnquiryStatus.NEW: {EnquiryStatus.ANSWERED, EnquiryStatus.CLOSED},
    EnquiryStatus.ANSWERED: {EnquiryStatus.ANSWERED, EnquiryStatus.CLOSED},
    EnquiryStatus.CLOSED: {EnquiryStatus.NEW, EnquiryStatus.ANSWERED},
}


def _lock_enquiry(enquiry: Enquiry) -> Enquiry:
    return Enquiry.objects.select_for_update().get(pk=enquiry.pk)


def _move_enquiry(enquiry: Enquiry, new_status: str) -> None:
    if new_status not in ENQUIRY_TRANSITIONS.get(enquiry.status, set()):
        raise TransitionError(f"A {enquiry.get_status_display().lower()} enquiry cannot become {new_status}.")
    enquiry.status = new_status


def enquiry_reply(*, enquiry: Enquiry, text: str, now: dt.datetime, user=None) -> Enquiry:
    """Email `text` to the sender through the outbox; the reply is kept with the enquiry."""
    with transaction.atomic():
        enquiry = _lock_enquiry(enquiry)
        _move_enquiry(enquiry, EnquiryStatus.ANSWERED)
        enquiry.answered_at = now
        enquiry.save(update_fields=["status", "answered_at", "updated_at"])
        replies = Notification.objects.filter(enquiry=enquiry, kind=NotificationKind.ENQUIRY_REPLY).count()
        _queue_enquiry(
            enquiry, NotificationKind.ENQUIRY_REPLY, now=now, sequence=replies + 1, message=text, author=user
        )
    return enquiry


def enquiry_close(*, enquiry: Enquiry, now: dt.datetime, user=None) -> Enquiry:
    with transaction.atomic():
        enquiry = _lock_enquiry(enquiry)
        _move_enquiry(enquiry, EnquiryStatus.CLOSED)
        enquiry.closed_at = now
        enquiry.save(update_fields=["status", "closed_at", "updated_at"])
    return enquiry


def enquiry_reopen(*, enquiry: Enquiry, now: dt.datetime, user=None) -> Enquiry:
    with transaction.atomic():
        enquiry = _lock_enquiry(enquiry)
        _move_enquiry(enquiry, EnquiryStatus.ANSWERED if enquiry.answered_at else EnquiryStatus.NEW)
        enquiry.closed_at = None
        enquiry.save(update_fields=["status", "closed_at", "updated_at"])
    return enquiry


def enquiry_note_add(*, enquiry: Enquiry, text: str, now: dt.datetime, user=None) -> Enquiry:
    Note.objects.create(enquiry=enquiry, text=text, author=user, created_at=now)
    return enquiry


# What the practice can do from the admin: one entry per action. The admin's buttons, views and
# audit-log registrations are generated from these tables (bookings/viewsets.py, wagtail_hooks.py).


@dataclass(frozen=True)
class Action:
    name: str  # in the action's address: /admin/bookings/<pk>/<name>/
    label: str  # the button
    service: Callable  # called with the record, now, user and the form's cleaned data
    allowed_from: frozenset  # the states in which the button shows and the action is accepted
    log_action: str
    log_label: str  # how the entry reads in the history
    message: str  # shown after success; {reference} is filled in
    form_class: type[django_forms.Form] | None = None
    when: Callable | None = None  # a further condition on (record, now), e.g. "the start time has passed"
    when_hint: str = ""
    style: str = "secondary"  # primary, secondary or warning
    icon: str = "arrow-right"  # a Wagtail admin icon, for the listing's row menu
    confirm: bool = False  # ask "are you sure?" on a page of its own even without a form
    checks_freshness: bool = True  # refuse if the record changed since the admin opened it

    @property
    def has_page(self) -> bool:
        """Whether the action asks something (a form, or "are you sure?") on a page of its own first."""
        return self.form_class is not None or self.confirm

    def allowed(self, instance, *, now: dt.datetime) -> bool:
        if instance.anonymised_at is not None:
            return False  # an erased record is kept for the figures only
        return instance.status in self.allowed_from and (self.when is None or self.when(instance, now))

    @sensitive_variables("data")
    def run(self, instance, *, now: dt.datetime, user, data: dict, seen: str | None = None):
        """
        Run the action's service and record it, in one transaction. With `seen` (the record's
        `updated_at` when the admin opened it) the record is locked first and the action refused if
        it changed meanwhile, for instance because the client moved it through the manage link.
        """
        argument = instance._meta.model_name  # "booking" or "enquiry"
        with transaction.atomic():
            if self.checks_freshness:
                current = type(instance).objects.select_for_update().only("updated_at").get(pk=instance.pk)
                if seen != current.updated_at.isoformat():
                    raise StaleError(
                        f"{instance.reference} changed since you opened it. Please check it and try again."
                    )
            result = self.service(**{argument: instance}, now=now, user=user, **data)
            record(result, self.log_action, user=user, now=now, actor="practice", **_log_facts(data))
        return result


def _log_facts(data: dict) -> dict:
    """What of a form's data may go into the audit log: facts, never free text."""
    facts = {}
    if data.get("new_start"):
        facts["to"] = data["new_start"].isoformat()
    if data.get("message"):
        facts["personal_message"] = True
    if data.get("meeting_url"):
        facts["meeting_link_given"] = True
    return facts


ALL_BOOKING_STATES = frozenset(BookingStatus.values)
ALL_ENQUIRY_STATES = frozenset(EnquiryStatus.values)

BOOKING_ACTIONS = {
    action.name: action
    for action in [
        Action(
            name="confirm",
            icon="check",
            label="Confirm",
            service=booking_confirm,
            allowed_from=frozenset({BookingStatus.PENDING}),
            log_action="bookings.confirm",
            log_label="Booking confirmed",
            message="Booking {reference} confirmed; the client will be emailed.",
            form_class=forms.ConfirmForm,
            style="primary",
        ),
        Action(
            name="decline",
            icon="cross",
            label="Decline",
            service=booking_decline,
            allowed_from=frozenset({BookingStatus.PENDING}),
            log_action="bookings.decline",
            log_label="Booking declined",
            message="Booking {reference} declined; the client will be emailed.",
            form_class=forms.PersonalMessageForm,
            style="warning",
        ),
        Action(
            name="move",
            icon="calendar-alt",
            label="Move to another time",
            service=booking_move_by_practice,
            allowed_from=frozenset(ACTIVE_STATUSES),
            log_action="bookings.move",
            log_label="Booking moved by the practice",
            message="Booking {reference} moved; the client will be emailed the new time.",
            form_class=forms.MoveForm,
        ),
        Action(
            name="cancel",
            icon="cross",
            label="Cancel booking",
            service=booking_cancel_by_practice,
            allowed_from=frozenset(ACTIVE_STATUSES),
            log_action="bookings.cancel",
            log_label="Booking cancelled by the practice",
            message="Booking {reference} cancelled; the client will be emailed.",
            form_class=forms.PersonalMessageForm,
            style="warning",
        ),
        Action(
            name="completed",
            icon="tick-inverse",
            label="Mark as completed",
            service=booking_complete,
            allowed_from=frozenset({BookingStatus.CONFIRMED}),
            log_action="bookings.completed",
            log_label="Booking marked as completed",
            message="Booking {reference} marked as completed.",
            when=has_started,
            when_hint="once the consultation has started",
        ),
        Action(
            name="no_show",
            icon="warning",
            label="Mark as no-show",
            service=booking_no_show,
            allowed_from=frozenset({BookingStatus.CONFIRMED}),
            log_action="bookings.no_show",
            log_label="Booking marked as a no-show",
            message="Booking {reference} marked as a no-show.",
            when=has_started,
            when_hint="once the consultation has started",
        ),
        Action(
            name="resend",
            icon="mail",
            label="Resend confirmation",
            service=booking_resend_confirmation,
            allowed_from=frozenset({BookingStatus.CONFIRMED}),
            log_action="bookings.resend_confirmation",
            log_label="Confirmation sent again",
            message="The confirmation for {reference} will be sent again.",
            confirm=True,
        ),
        Action(
            name="note",
            icon="edit",
            label="Add a note",
            service=booking_note_add,
            allowed_from=ALL_BOOKING_STATES,
            log_action="bookings.note",
            log_label="Private note added",
            message="Note added to {reference}.",
            form_class=forms.NoteForm,
            checks_freshness=False,
        ),
    ]
}

ENQUIRY_ACTIONS = {
    action.name: action
    for action in [
        Action(
            name="reply",
            icon="mail",
            label="Reply",
            service=enquiry_reply,
            allowed_from=frozenset({EnquiryStatus.NEW, EnquiryStatus.ANSWERED}),
            log_action="bookings.enquiry_reply",
            log_label="Reply sent",
            message="Your reply to {reference} will be emailed to the sender.",
            form_class=forms.ReplyForm,
            style="primary",
        ),
        Action(
            name="note",
            icon="edit",
            label="Add a note",
            service=enquiry_note_add,
            allowed_from=ALL_ENQUIRY_STATES,
            log_action="bookings.enquiry_note",
            log_label="Private note added",
            message="Note added to {reference}.",
            form_class=forms.NoteForm,
            checks_freshness=False,
        ),
        Action(
            name="close",
            icon="lock",
            label="Close",
            service=enquiry_close,
            allowed_from=frozenset({EnquiryStatus.NEW, EnquiryStatus.ANSWERED}),
            log_action="bookings.enquiry_close",
            log_label="Enquiry closed",
            message="Enquiry {reference} closed.",
        ),
        Action(
            name="reopen",
            icon="lock-open",
            label="Reopen",
            service=enquiry_reopen,
            allowed_from=frozenset({EnquiryStatus.CLOSED}),
            log_action="bookings.enquiry_reopen",
            log_label="Enquiry reopened",
            message="Enquiry {reference} reopened.",
        ),
    ]
}

# Changes that visitors make themselves and what the worker does: (log action, how it reads).
CLIENT_EVENTS = {
    "request": ("bookings.request", "Requested by the client"),
    "move": ("bookings.client_move", "Moved by the client"),
    "cancel": ("bookings.client_cancel", "Cancelled by the client"),
    "attendance": ("bookings.attendance", "Attendance confirmed by the client"),
    "enquiry": ("bookings.enquiry", "Enquiry sent by the visitor"),
    "email_sent": ("bookings.email_sent", "Email sent"),
    "email_failed": ("bookings.email_failed", "Email given up after repeated failures"),
}

# Who looked at health details (practice admins opening a record or exporting a list).
ACCESS_EVENTS = {
    "viewed": ("bookings.viewed", "Opened, health details shown"),
    "exported": ("bookings.exported", "Included in an export"),
}


def log_actions_to_register():
    """Every audit-log action of the booking domain, with its label: for the register_log_actions hook."""
    actions = {action.log_action: action.log_label for action in BOOKING_ACTIONS.values()}
    actions.update({action.log_action: action.log_label for action in ENQUIRY_ACTIONS.values()})
    actions.update(dict(CLIENT_EVENTS.values()))
    actions.update(dict(ACCESS_EVENTS.values()))
    return actions
