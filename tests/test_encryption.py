"""Health details are stored encrypted: not in a database dump, readable again after a key rotation."""

import io
import uuid

from django.core.exceptions import FieldError
from django.core.management import call_command
from django.db import connection

import pytest

from bookings import services
from bookings.models import Booking, Enquiry, Note, Notification
from practice import crypto
from tests.dumps import full_dump
from tests.factories.bookings import book

REASON_MARKER = "Marker-reason-7f3a: hair loss in patches since spring"
MESSAGE_MARKER = "Marker-message-c91e: my coeliac tests came back"
NOTE_MARKER = "Marker-note-55d0: ferritin low"
REPLY_MARKER = "Marker-reply-20b4: yes, I can help"
OLD_KEY = crypto.generate_key()
NEW_KEY = crypto.generate_key()


@pytest.fixture
def health_details(consultation, practice_admin):
    from django.utils import timezone

    now = timezone.now()
    booking = book(consultation, now=now, reason=REASON_MARKER, name="Dana Dumped", email="dana@example.com")
    services.booking_note_add(booking=booking, text=NOTE_MARKER, now=now, user=practice_admin)
    enquiry = services.enquiry_submit(
        request=services.EnquiryRequest(
            name="Eli Enquirer",
            email="eli@example.com",
            message=MESSAGE_MARKER,
            topic="general",
            idempotency_key=uuid.uuid4(),
        ),
        now=now,
    )
    services.enquiry_reply(enquiry=enquiry, text=REPLY_MARKER, now=now, user=practice_admin)
    return booking, enquiry


def test_values_are_stored_encrypted_and_read_in_the_clear(db, health_details):
    booking, _ = health_details
    with connection.cursor() as cursor:
        cursor.execute("SELECT reason FROM bookings_booking WHERE id = %s", [booking.pk])
        stored = cursor.fetchone()[0]
    assert stored.startswith(crypto.PREFIX) and "Marker" not in stored
    assert Booking.objects.get(pk=booking.pk).reason == REASON_MARKER


@pytest.mark.django_db(transaction=True)
def test_a_full_dump_holds_no_health_detail_in_the_clear(health_details):
    dump = full_dump()
    assert "Dana Dumped" in dump and "eli@example.com" in dump  # the dump is complete
    for marker in (REASON_MARKER, MESSAGE_MARKER, NOTE_MARKER, REPLY_MARKER):
        assert marker.split(":")[0] not in dump


def test_after_a_key_rotation_the_admin_shows_the_details_again(db, settings, health_details, practice_client):
    booking, enquiry = health_details
    settings.FIELD_ENCRYPTION_KEYS = [OLD_KEY, *settings.FIELD_ENCRYPTION_KEYS]
    call_command("rotate_encryption_keys", stdout=io.StringIO())  # everything under OLD_KEY
    settings.FIELD_ENCRYPTION_KEYS = [NEW_KEY, OLD_KEY]
    call_command("rotate_encryption_keys", stdout=io.StringIO())
    settings.FIELD_ENCRYPTION_KEYS = [NEW_KEY]  # the old key is gone
    page = practice_client.get(f"/admin/bookings/inspect/{booking.pk}/").content.decode()
    assert REASON_MARKER in page and NOTE_MARKER in page
    page = practice_client.get(f"/admin/enquiries/inspect/{enquiry.pk}/").content.decode()
    assert MESSAGE_MARKER in page and REPLY_MARKER in page
    settings.FIELD_ENCRYPTION_KEYS = [OLD_KEY]
    with pytest.raises(crypto.DecryptionError):
        Booking.objects.get(pk=booking.pk)


def test_text_stored_before_encryption_is_read_and_then_encrypted(db, health_details):
    booking, _ = health_details
    with connection.cursor() as cursor:
        cursor.execute("UPDATE bookings_booking SET reason = %s WHERE id = %s", ["Plain old text", booking.pk])
    assert Booking.objects.get(pk=booking.pk).reason == "Plain old text"
    call_command("rotate_encryption_keys", stdout=io.StringIO())
    with connection.cursor() as cursor:
        cursor.execute("SELECT reason FROM bookings_booking WHERE id = %s", [booking.pk])
        assert cursor.fetchone()[0].startswith(crypto.PREFIX)
    assert Booking.objects.get(pk=booking.pk).reason == "Plain old text"


def test_content_lookups_are_refused_rather_than_silently_empty(db):
    for model, field in [(Booking, "reason"), (Enquiry, "message"), (Note, "text"), (Notification, "message")]:
        with pytest.raises(FieldError):
            list(model.objects.filter(**{f"{field}__icontains": "x"}))
