"""Retention and data-subject requests: export, erasure (and its re-application), purging what expired."""

import datetime as dt
import io
import json
import uuid

from django.core import mail
from django.core.management import call_command
from django.core.management.base import CommandError

from wagtail.models import ModelLogEntry

import pytest
import time_machine

from bookings import privacy, services
from bookings.models import Booking, BookingStatus, Enquiry, ErasureRecord, Note, Notification, NotificationStatus
from bookings.notifications import deliver_due
from tests.dumps import full_dump
from tests.factories.bookings import book

NOW = dt.datetime(2026, 3, 2, 9, 0, tzinfo=dt.UTC)
CLIENT = {"name": "Petra Private", "email": "petra@example.com", "phone": "07700 900123"}
REASON = "Petra-reason: migraines with aura"
MESSAGE = "Petra-message: is my thyroid the cause?"
NOTE = "Petra-note: ask about medication"
OTHER = {"name": "Oscar Other", "email": "oscar@example.com", "reason": "Oscar-reason: reflux"}


def _enquiry(*, email, name, message, now=NOW):
    return services.enquiry_submit(
        request=services.EnquiryRequest(
            name=name, email=email, phone="", message=message, topic="general", idempotency_key=uuid.uuid4()
        ),
        now=now,
    )


@pytest.fixture
def petra(consultation, practice_admin):
    """One client with bookings in several states, an enquiry, sent and queued emails, notes and history."""
    pending = book(consultation, now=NOW, days=3, hour=9, reason=REASON, **CLIENT)
    confirmed = book(consultation, now=NOW, days=4, hour=9, reason=REASON, **CLIENT)
    services.booking_confirm(booking=confirmed, now=NOW, user=practice_admin)
    cancelled = book(consultation, now=NOW, days=5, hour=9, reason=REASON, **CLIENT)
    services.booking_cancel(booking=cancelled, by_client=True, now=NOW)
    services.booking_note_add(booking=confirmed, text=NOTE, now=NOW, user=practice_admin)
    enquiry = _enquiry(email=CLIENT["email"], name=CLIENT["name"], message=MESSAGE)
    services.enquiry_reply(enquiry=enquiry, text="Petra-reply: yes, I can help", now=NOW, user=practice_admin)
    deliver_due(now=NOW)  # some emails sent …
    services.booking_decline(booking=pending, now=NOW, message="Petra-decline: full that week", user=practice_admin)
    # … and one still queued
    return {"bookings": [pending, confirmed, cancelled], "enquiry": enquiry}


@pytest.fixture
def oscar(consultation):
    booking = book(consultation, now=NOW, days=6, hour=9, **OTHER)
    enquiry = _enquiry(email=OTHER["email"], name=OTHER["name"], message="Oscar-message: hello")
    return booking, enquiry


PETRA_TRACES = [
    CLIENT["name"],
    CLIENT["email"],
    CLIENT["phone"],
    "Petra-reason",
    "Petra-message",
    "Petra-note",
    "Petra-reply",
    "Petra-decline",
]


def test_export_holds_everything_about_the_person(db, petra, oscar):
    data = privacy.person_export(email="PETRA@example.com", now=NOW)
    text = json.dumps(data)
    for trace in PETRA_TRACES:
        assert trace in text, trace
    assert "Oscar" not in text
    assert len(data["bookings"]) == 3 and len(data["enquiries"]) == 1
    assert data["bookings"][0]["consents"]["text_version"] == services.CONSENT_TEXT_VERSION
    assert any(email["state"] == "Sent" for email in data["bookings"][1]["emails"])


@pytest.mark.django_db(transaction=True)
def test_erasure_leaves_nothing_of_the_person_in_a_full_dump_and_others_untouched(petra, oscar, practice_admin):
    before = json.dumps(privacy.person_export(email=CLIENT["email"], now=NOW))
    assert all(trace in before for trace in PETRA_TRACES)
    queued = Notification.objects.filter(booking=petra["bookings"][0], status=NotificationStatus.PENDING)
    assert queued.exists()

    result = privacy.person_erase(email=CLIENT["email"], now=NOW, user=practice_admin)
    assert (result.bookings, result.enquiries) == (3, 1)

    dump = full_dump()
    for trace in PETRA_TRACES:
        assert trace not in dump, trace
    assert "Oscar Other" in dump and "oscar@example.com" in dump
    assert Booking.objects.get(email=OTHER["email"]).reason == OTHER["reason"]
    assert Enquiry.objects.get(email=OTHER["email"]).message == "Oscar-message: hello"
    # Anonymous facts stay; future emails are cancelled; the erasure is recorded without personal data.
    assert Booking.objects.filter(anonymised_at=NOW).count() == 3
    assert sorted(Booking.objects.filter(anonymised_at=NOW).values_list("status", flat=True)) == sorted(
        # the confirmed one was still to come: it frees its time
        [BookingStatus.DECLINED, BookingStatus.CANCELLED_BY_PRACTICE, BookingStatus.CANCELLED_BY_CLIENT]
    )
    assert not queued.filter(status=NotificationStatus.PENDING).exists()
    assert not Note.objects.filter(booking__anonymised_at=NOW).exists()
    record = ErasureRecord.objects.get()
    assert record.email_hash == privacy.email_hash(CLIENT["email"]) and record.erased_by == practice_admin
    assert CLIENT["email"] not in str(record.__dict__)
    assert ModelLogEntry.objects.filter(label__contains="Petra").count() == 0


def test_an_erasure_is_applied_again_to_a_restored_older_backup(db, petra, consultation, settings, tmp_path):
    settings.ERASURE_LOG = tmp_path / "erasures.jsonl"
    with django_capture_on_commit():
        privacy.person_erase(email=CLIENT["email"], now=NOW)
    assert settings.ERASURE_LOG.read_text().count("email_hash") == 1
    # A backup from before the erasure: her details are back and the erasure record is not there.
    ErasureRecord.objects.all().delete()
    restored = book(consultation, now=NOW, days=9, hour=9, reason=REASON, **CLIENT)
    Booking.objects.filter(pk=restored.pk).update(created_at=NOW - dt.timedelta(days=1))
    assert privacy.reapply_erasures(now=NOW) == 1
    restored.refresh_from_db()
    assert restored.name == privacy.ERASED_NAME and restored.reason == "" and restored.email == ""
    assert ErasureRecord.objects.count() == 1
    assert privacy.reapply_erasures(now=NOW) == 0


def django_capture_on_commit():
    """Run on_commit callbacks of the test's transaction when the block ends (the log is written then)."""
    from django.test import TestCase

    return TestCase.captureOnCommitCallbacks(execute=True)


def test_purge_expired_with_a_moved_clock_erases_exactly_what_expired(db, consultation, practice_settings):
    practice_settings.health_details_retention_days = 30
    practice_settings.contact_details_retention_days = 90
    practice_settings.save()
    old = book(consultation, now=NOW, days=1, reason="old reason", email="old@example.com")
    recent = book(consultation, now=NOW, days=50, reason="recent reason", email="recent@example.com")
    closed = _enquiry(email="closed@example.com", name="Cleo", message="closed message")
    services.enquiry_close(enquiry=closed, now=NOW + dt.timedelta(days=2))
    still_open = _enquiry(email="open@example.com", name="Opal", message="open message")

    later = NOW + dt.timedelta(days=40)  # old's consultation ended 39 days ago, the enquiry closed 38 days ago
    with time_machine.travel(later, tick=False):
        dry = io.StringIO()
        call_command("purge_expired", "--dry-run", stdout=dry)
        assert f"Would erase health details of booking {old.reference}" in dry.getvalue()
        assert f"Would erase health details of enquiry {closed.reference}" in dry.getvalue()
        assert recent.reference not in dry.getvalue() and still_open.reference not in dry.getvalue()
        assert Booking.objects.get(pk=old.pk).reason == "old reason"  # the dry run changed nothing
        call_command("purge_expired", stdout=io.StringIO())
    old.refresh_from_db(), recent.refresh_from_db(), closed.refresh_from_db(), still_open.refresh_from_db()
    assert old.reason == "" and old.email == "old@example.com" and old.health_details_erased_at == later
    assert recent.reason == "recent reason"
    assert closed.message == "" and closed.name == "Cleo"
    assert still_open.message == "open message"

    much_later = NOW + dt.timedelta(days=100)
    plan = privacy.purge_expired(now=much_later)
    assert [b.pk for b in plan.contact_bookings] == [old.pk]
    old.refresh_from_db()
    assert old.email == "" and old.name == privacy.ERASED_NAME
    assert old.status == BookingStatus.PENDING and old.consultation_type == consultation  # the anonymous facts


def test_commands_export_and_erase_with_confirmation(db, petra, monkeypatch):
    out = io.StringIO()
    call_command("export_person", CLIENT["email"], stdout=out)
    assert json.loads(out.getvalue())["bookings"][0]["reason"] == REASON
    monkeypatch.setattr("builtins.input", lambda prompt: "no")
    with pytest.raises(CommandError, match="Nothing was erased"):
        call_command("erase_person", CLIENT["email"], stdout=io.StringIO())
    assert Booking.objects.filter(email=CLIENT["email"]).count() == 3
    call_command("erase_person", CLIENT["email"], "--yes", stdout=io.StringIO())
    assert not Booking.objects.filter(email=CLIENT["email"]).exists()
    with pytest.raises(CommandError, match="Nothing is held"):
        call_command("export_person", CLIENT["email"], stdout=io.StringIO())


def test_workspace_finds_downloads_and_erases_a_person(db, petra, oscar, practice_client, page_editor, client):
    page = practice_client.get("/admin/bookings/people/", {"email": "Petra@Example.com"}).content.decode()
    assert all(booking.reference in page for booking in petra["bookings"])
    assert petra["enquiry"].reference in page and "Oscar" not in page
    assert "Version " + services.CONSENT_TEXT_VERSION in page
    assert ModelLogEntry.objects.filter(action="bookings.viewed", object_id=str(petra["enquiry"].pk)).exists()

    download = practice_client.get("/admin/bookings/people/", {"email": CLIENT["email"], "download": "json"})
    assert download["Content-Disposition"].startswith("attachment") and "no-store" in download["Cache-Control"]
    assert json.loads(download.content)["enquiries"][0]["message"] == MESSAGE
    summary = practice_client.get("/admin/bookings/people/", {"email": CLIENT["email"], "download": "html"})
    assert REASON in summary.content.decode() and NOTE in summary.content.decode()

    confirm = practice_client.get("/admin/bookings/people/erase/", {"email": CLIENT["email"]}).content.decode()
    assert "Erase for good" in confirm
    wrong = practice_client.post(
        "/admin/bookings/people/erase/", {"email": CLIENT["email"], "confirm_email": "someone@else.com"}
    )
    assert wrong.status_code == 400 and "nothing was erased" in wrong.content.decode()
    assert Booking.objects.filter(email=CLIENT["email"]).count() == 3
    done = practice_client.post(
        "/admin/bookings/people/erase/",
        {"email": CLIENT["email"], "confirm_email": CLIENT["email"].upper()},
        follow=True,
    ).content.decode()
    assert "Erased: 3 booking(s) and 1 enquiry(ies)" in done
    assert not Booking.objects.filter(email=CLIENT["email"]).exists()
    assert Booking.objects.filter(email=OTHER["email"]).exists()

    client.force_login(page_editor)
    assert client.get("/admin/bookings/people/", {"email": OTHER["email"]}).status_code in (302, 403)
    assert client.post(
        "/admin/bookings/people/erase/", {"email": OTHER["email"], "confirm_email": OTHER["email"]}
    ).status_code in (302, 403)
    assert Booking.objects.filter(email=OTHER["email"]).exists()


def test_reapplying_erasures_keeps_what_the_person_booked_after_their_erasure(db, petra, consultation):
    privacy.person_erase(email=CLIENT["email"], now=NOW)
    later = book(consultation, now=NOW + dt.timedelta(days=30), days=3, hour=9, reason=REASON, **CLIENT)
    Booking.objects.filter(pk=later.pk).update(created_at=NOW + dt.timedelta(days=30))
    assert privacy.reapply_erasures(now=NOW + dt.timedelta(days=40)) == 0
    later.refresh_from_db()
    assert later.email == CLIENT["email"] and later.reason == REASON


def test_an_erased_booking_frees_its_time_offers_no_actions_and_gets_no_email(db, petra, practice_client):
    confirmed = petra["bookings"][1]
    privacy.person_erase(email=CLIENT["email"], now=NOW)
    confirmed.refresh_from_db()
    assert confirmed.status == BookingStatus.CANCELLED_BY_PRACTICE
    assert Enquiry.objects.get(pk=petra["enquiry"].pk).status == "closed"
    page = practice_client.get(f"/admin/bookings/inspect/{confirmed.pk}/").content.decode()
    assert ">Resend confirmation</" not in page and ">Add note</button>" not in page
    assert "Other bookings and enquiries from" in page and petra["bookings"][0].reference not in page
    Notification.objects.filter(booking=confirmed).update(status=NotificationStatus.PENDING, next_attempt_at=NOW)
    mail.outbox.clear()
    counts = deliver_due(now=NOW + dt.timedelta(minutes=1))
    assert counts["skipped"] >= 2  # the client's emails: there is nobody to write to
    assert all(message.to == ["hello@example.com"] for message in mail.outbox)  # only the practice's own


def test_enquiries_never_closed_are_purged_from_their_last_answer(db, practice_settings):
    practice_settings.health_details_retention_days = 30
    practice_settings.save()
    unanswered = _enquiry(email="u@example.com", name="Una", message="never answered")
    answered = _enquiry(email="a@example.com", name="Ann", message="answered once")
    services.enquiry_reply(enquiry=answered, text="Thanks", now=NOW + dt.timedelta(days=20))
    Enquiry.objects.update(created_at=NOW)  # they arrived at NOW
    plan = privacy.purge_plan(now=NOW + dt.timedelta(days=40))
    assert [e.pk for e in plan.health_enquiries] == [unanswered.pk]


def test_one_unreadable_value_does_not_stop_the_listing_or_the_worker(db, petra, practice_client):
    from django.db import connection

    booking = petra["bookings"][1]
    with connection.cursor() as cursor:
        cursor.execute("UPDATE bookings_booking SET reason = %s WHERE id = %s", ["fernet:damaged", booking.pk])
    assert practice_client.get("/admin/bookings/").status_code == 200
    services.booking_resend_confirmation(booking=booking, now=NOW)
    counts = deliver_due(now=NOW + dt.timedelta(minutes=1))
    assert counts["sent"] >= 1
