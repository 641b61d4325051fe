"""
Retention and data-subject requests: what is held about a person, its export, its erasure, and the
erasure of what has been kept long enough.

Two levels of erasure, each recorded on the booking or enquiry:
- health details (`health_details_erased_at`): the reason and the intake answers, an enquiry's
  message, the practice's replies and personal messages, and private notes;
- contact details (`anonymised_at`): all of the above plus name, email, phone and the like.
What stays is anonymous: the reference, dates, consultation type, status and source page, which the
practice needs for its own figures (how many consultations, from which articles).

Retention (PracticeSettings): health details go `health_details_retention_days` after the end of a
consultation (or after an enquiry was closed), contact details `contact_details_retention_days` after.

An erasure on request also cancels emails still waiting to be sent, strips the person's name from
audit-log entries, and leaves an ErasureRecord holding only a keyed hash of the email address, the
time and who did it. The same line is appended to the erasure log (settings.ERASURE_LOG, a file kept
outside the database and copied off the machine with the backups), because a backup made before an
erasure does not hold its record. `reapply_erasures()` erases again, in a restored database, everyone
named by the records in that database or in the log.

Every function here writes through the ORM in one transaction; none reads the clock: callers pass `now`.
"""

import datetime as dt
import json
from dataclasses import dataclass, field
from pathlib import Path

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.db.models.functions import Coalesce
from django.utils.crypto import salted_hmac

from wagtail.models import ModelLogEntry

from . import selectors
from .models import (
    ACTIVE_STATUSES,
    Booking,
    BookingStatus,
    Enquiry,
    EnquiryStatus,
    ErasureRecord,
    Note,
    Notification,
    NotificationStatus,
)

HASH_SALT = "bookings.erasure-record"
ERASED_NAME = "(erased)"


def email_hash(email: str) -> str:
    """
    A keyed hash of an email address: it matches, but cannot be reversed. The key is ERASURE_HASH_KEY
    (SECRET_KEY when unset); it must stay the same for erasures to be re-applied after a restore.
    """
    key = settings.ERASURE_HASH_KEY or settings.SECRET_KEY
    return salted_hmac(HASH_SALT, email.strip().lower(), secret=key, algorithm="sha256").hexdigest()


def _for_email(model, email: str):
    return model.objects.filter(email__iexact=email.strip())


@dataclass
class PersonData:
    """Everything held about the person with one email address."""

    email: str
    bookings: list = field(default_factory=list)
    enquiries: list = field(default_factory=list)

    @property
    def found(self) -> bool:
        return bool(self.bookings or self.enquiries)


def person_find(*, email: str) -> PersonData:
    return PersonData(
        email=email.strip(),
        bookings=list(
            _for_email(Booking, email)
            .select_related("consultation_type")
            .prefetch_related("notes", "notifications", "intake_answers")
        ),
        enquiries=list(_for_email(Enquiry, email).prefetch_related("notes", "notifications")),
    )


def _iso(value):
    return value.isoformat() if value else None


def _emails(record) -> list[dict]:
    return [
        {
            "email": notification.get_kind_display(),
            "state": notification.get_status_display(),
            "queued_at": _iso(notification.created_at),
            "sent_at": _iso(notification.sent_at),
            "practice_wrote": notification.message,
        }
        for notification in record.notifications.all()
    ]


def _notes(record) -> list[dict]:
    return [{"written_at": _iso(note.created_at), "text": note.text} for note in record.notes.all()]


def _history(record) -> list[dict]:
    return [
        {"at": _iso(entry.timestamp), "what": entry.message}
        for entry in ModelLogEntry.objects.for_instance(record).order_by("timestamp", "pk")
    ]


def person_export(*, email: str, now: dt.datetime) -> dict:
    """All that is held about the person, as plain data (for JSON and for the readable summary)."""
    person = person_find(email=email)
    zone = selectors.practice_zone()
    return {
        "email": person.email,
        "exported_at": _iso(now),
        "time_zone": zone.key,
        "bookings": [
            {
                "reference": booking.reference,
                "consultation": booking.consultation_type.name,
                "starts_at": _iso(booking.starts_at),
                "ends_at": _iso(booking.ends_at),
                "status": booking.get_status_display(),
                "name": booking.name,
                "email": booking.email,
                "phone": booking.phone,
                "contact_method": booking.get_contact_method_display(),
                "reason": booking.reason,
                "intake_answers": [
                    {"question": answer.question_text, "answer": answer.answer}
                    for answer in booking.intake_answers.all()
                ],
                "heard_about": booking.heard_about,
                "source_page": booking.source_page,
                "time_zone": booking.visitor_time_zone,
                "consents": {
                    "privacy_policy": booking.consent_privacy,
                    "health_details": booking.consent_health_data,
                    "not_an_emergency": booking.acknowledged_not_emergency,
                    "text_version": booking.consent_text_version,
                    "given_at": _iso(booking.consent_given_at),
                },
                "requested_at": _iso(booking.created_at),
                "confirmed_at": _iso(booking.confirmed_at),
                "cancelled_at": _iso(booking.cancelled_at),
                "emails": _emails(booking),
                "notes": _notes(booking),
                "history": _history(booking),
            }
            for booking in person.bookings
        ],
        "enquiries": [
            {
                "reference": enquiry.reference,
                "received_at": _iso(enquiry.created_at),
                "status": enquiry.get_status_display(),
                "name": enquiry.name,
                "email": enquiry.email,
                "phone": enquiry.phone,
                "topic": enquiry.get_topic_display(),
                "message": enquiry.message,
                "source_page": enquiry.source_page,
                "consents": {
                    "privacy_policy": enquiry.consent_privacy,
                    "text_version": enquiry.consent_text_version,
                    "given_at": _iso(enquiry.consent_given_at),
                },
                "emails": _emails(enquiry),
                "notes": _notes(enquiry),
                "history": _history(enquiry),
            }
            for enquiry in person.enquiries
        ],
    }


def _erase_health_details(records, *, now: dt.datetime) -> None:
    for record in records:
        Note.objects.filter(**{record._meta.model_name: record}).delete()
        # The practice's own words in emails can repeat what the person said.
        Notification.objects.filter(**{record._meta.model_name: record}).update(message="")
        if isinstance(record, Booking):
            record.intake_answers.all().delete()
            Booking.objects.filter(pk=record.pk).update(reason="", health_details_erased_at=now)
        else:
            Enquiry.objects.filter(pk=record.pk).update(message="", health_details_erased_at=now)


def _anonymise(records, *, now: dt.datetime) -> None:
    _erase_health_details(records, now=now)
    for record in records:
        subject = {record._meta.model_name: record}
        # Emails not sent yet would go to an address that is no longer held.
        Notification.objects.filter(
            **subject, status__in=[NotificationStatus.PENDING, NotificationStatus.SENDING]
        ).update(status=NotificationStatus.SKIPPED, last_error="Erased")
        common = {"name": ERASED_NAME, "email": "", "phone": "", "idempotency_key": None, "anonymised_at": now}
        if isinstance(record, Booking):
            Booking.objects.filter(pk=record.pk).update(
                **common, heard_about="", visitor_time_zone="", contact_method="email", client_address_hash=""
            )
            # Nobody can be told about a booking any more: one still to come frees its time, silently.
            # Past ones keep their status, which is one of the anonymous facts.
            Booking.objects.filter(pk=record.pk, status__in=ACTIVE_STATUSES, ends_at__gt=now).update(
                status=BookingStatus.CANCELLED_BY_PRACTICE, cancelled_at=now
            )
        else:
            Enquiry.objects.filter(pk=record.pk).update(**common)
            Enquiry.objects.filter(pk=record.pk).exclude(status=EnquiryStatus.CLOSED).update(
                status=EnquiryStatus.CLOSED, closed_at=now
            )
        # Audit-log and access-log entries keep what happened and when, but no name or address.
        ModelLogEntry.objects.for_instance(record).update(label=record.reference, data={})


@dataclass
class ErasureResult:
    bookings: int
    enquiries: int
    record: ErasureRecord | None


@transaction.atomic
def person_erase(*, email: str, now: dt.datetime, user=None) -> ErasureResult:
    """Remove every personal and health detail of the person with `email`, and record that it was done."""
    # Erasing needs no health detail: not loading them means one unreadable value cannot stop it.
    bookings = list(_for_email(Booking, email).select_for_update().only("pk", "reference"))
    enquiries = list(_for_email(Enquiry, email).select_for_update().only("pk", "reference"))
    _anonymise(bookings + enquiries, now=now)
    record = ErasureRecord.objects.create(
        email_hash=email_hash(email), erased_at=now, erased_by=user, bookings=len(bookings), enquiries=len(enquiries)
    )
    line = json.dumps({"email_hash": record.email_hash, "erased_at": now.isoformat()})
    transaction.on_commit(lambda: _append_to_log(line))
    return ErasureResult(bookings=len(bookings), enquiries=len(enquiries), record=record)


@dataclass
class PurgePlan:
    """What retention erases now: health details of some records, all personal details of others."""

    health_bookings: list
    health_enquiries: list
    contact_bookings: list
    contact_enquiries: list

    @property
    def empty(self) -> bool:
        return not (self.health_bookings or self.health_enquiries or self.contact_bookings or self.contact_enquiries)


def _expired(*, health_days: int, contact_days: int, now: dt.datetime) -> PurgePlan:
    def bookings_before(cutoff):
        # A consultation is over once it has ended; a request never answered counts from its time too.
        return Booking.objects.filter(ends_at__lt=cutoff, anonymised_at__isnull=True).only("pk", "reference")

    def enquiries_before(cutoff):
        # From when it was closed; one never closed counts from its last answer, or from its arrival.
        return (
            Enquiry.objects.annotate(settled_at=Coalesce("closed_at", "answered_at", "created_at"))
            .filter(settled_at__lt=cutoff, anonymised_at__isnull=True)
            .only("pk", "reference")
        )

    health_cutoff = now - dt.timedelta(days=health_days)
    contact_cutoff = now - dt.timedelta(days=contact_days)
    contact_bookings = list(bookings_before(contact_cutoff))
    contact_enquiries = list(enquiries_before(contact_cutoff))
    return PurgePlan(
        health_bookings=list(
            bookings_before(health_cutoff)
            .filter(health_details_erased_at__isnull=True)
            .exclude(pk__in=[b.pk for b in contact_bookings])
        ),
        health_enquiries=list(
            enquiries_before(health_cutoff)
            .filter(health_details_erased_at__isnull=True)
            .exclude(pk__in=[e.pk for e in contact_enquiries])
        ),
        contact_bookings=contact_bookings,
        contact_enquiries=contact_enquiries,
    )


def purge_plan(*, now: dt.datetime) -> PurgePlan:
    practice = selectors.practice_settings()
    return _expired(
        health_days=practice.health_details_retention_days,
        contact_days=practice.contact_details_retention_days,
        now=now,
    )


@transaction.atomic
def purge_expired(*, now: dt.datetime) -> PurgePlan:
    """Erase what the practice's retention periods say has been kept long enough."""
    plan = purge_plan(now=now)
    _erase_health_details(plan.health_bookings + plan.health_enquiries, now=now)
    _anonymise(plan.contact_bookings + plan.contact_enquiries, now=now)
    return plan


def _append_to_log(line: str) -> None:
    path = Path(settings.ERASURE_LOG)
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("a", encoding="utf-8") as log:
        log.write(line + "\n")


def erasure_log() -> list[dict]:
    """The erasures recorded in the log file (no personal data: hashes and times)."""
    path = Path(settings.ERASURE_LOG)
    if not path.exists():
        return []
    entries = []
    for line in path.read_text(encoding="utf-8").splitlines():
        try:
            entry = json.loads(line)
        except ValueError:
            continue  # a line cut short by a crash; the rest still counts
        if isinstance(entry, dict) and isinstance(entry.get("email_hash"), str):
            entries.append(entry)
    return entries


@transaction.atomic
def reapply_erasures(*, now: dt.datetime) -> int:
    """
    Erase again the people named by an erasure record (in the database or in the erasure log) whose
    details are back, as after restoring a backup made before their erasure. Records missing from
    the database are added again from the log. Returns how many bookings and enquiries were anonymised.
    """
    known = set(ErasureRecord.objects.values_list("email_hash", "erased_at"))
    for entry in erasure_log():
        try:
            erased_at = dt.datetime.fromisoformat(entry["erased_at"])
        except (KeyError, TypeError, ValueError):
            continue
        if (entry["email_hash"], erased_at) not in known:
            ErasureRecord.objects.create(email_hash=entry["email_hash"], erased_at=erased_at)
            known.add((entry["email_hash"], erased_at))
    latest = {}
    for hashed, erased_at in known:
        latest[hashed] = max(erased_at, latest.get(hashed, erased_at))
    if not latest:
        return 0
    # Only what existed when the person was erased: they may have booked again since, as they may.
    records = [
        record
        for model in (Booking, Enquiry)
        for record in model.objects.filter(anonymised_at__isnull=True)
        .exclude(Q(email=""))
        .only("pk", "reference", "email", "created_at")
        if (hashed := email_hash(record.email)) in latest and record.created_at <= latest[hashed]
    ]
    _anonymise(records, now=now)
    return len(records)
