"""
The booking set-up kept in the cache (bookings.selectors.booking_setup): whatever the practice changes
in the admin counts from the next request on, and nothing in it is read from the database twice.
"""

import datetime as dt
import uuid
from zoneinfo import ZoneInfo

from django.core.exceptions import ValidationError

from wagtail.log_actions import LogContext
from wagtail.models import ModelLogEntry

import pytest

from bookings import selectors, services
from bookings.models import AvailabilityWindow, Booking, TimeOff
from calendars.models import ExtraOpening
from intake.models import IntakeQuestion, QuestionKind
from tests.factories.bookings import book, visitor_request

UTC = dt.UTC
LONDON = ZoneInfo("Europe/London")
NOW = dt.datetime(2026, 6, 1, 7, 0, tzinfo=UTC)  # Monday 08:00 in London
DAY = dt.date(2026, 6, 3)  # a Wednesday
SLOT = dt.datetime(2026, 6, 3, 9, 0, tzinfo=UTC)  # 10:00 in London


def free_on(consultation, day=DAY, *, now=NOW):
    return selectors.slots_available(consultation_type=consultation, first_day=day, last_day=day, now=now, zone=LONDON)


@pytest.mark.django_db
def test_the_setup_is_read_once_then_kept(consultation, django_assert_num_queries):
    selectors.booking_setup(now=NOW)
    with django_assert_num_queries(0):
        setup = selectors.booking_setup(now=NOW)
    assert setup.consultation_types[consultation.slug].pk == consultation.pk
    assert len(setup.windows) == 7


@pytest.mark.django_db
def test_time_off_added_once_the_times_were_shown_blocks_them(consultation):
    assert SLOT in free_on(consultation)
    TimeOff.objects.create(title="Dentist", starts_at=SLOT, ends_at=SLOT + dt.timedelta(hours=2))
    assert SLOT not in free_on(consultation)
    with pytest.raises(services.SlotUnavailableError):
        services.booking_request(consultation_type=consultation, starts_at=SLOT, request=visitor_request(), now=NOW)


@pytest.mark.django_db
def test_time_off_removed_frees_its_times_at_once(consultation):
    off = TimeOff.objects.create(title="Dentist", starts_at=SLOT, ends_at=SLOT + dt.timedelta(hours=2))
    assert SLOT not in free_on(consultation)
    off.delete()
    assert SLOT in free_on(consultation)


@pytest.mark.django_db
def test_opening_hours_and_one_off_openings_count_at_once(consultation):
    saturday = dt.date(2026, 6, 6)
    AvailabilityWindow.objects.filter(weekday=saturday.weekday()).delete()
    assert free_on(consultation, saturday) == []
    ExtraOpening.objects.create(date=saturday, start_time=dt.time(10), end_time=dt.time(12))
    assert [start.astimezone(LONDON).time() for start in free_on(consultation, saturday)] == [
        dt.time(10),
        dt.time(10, 30),
        dt.time(11),
    ]
    window = AvailabilityWindow.objects.get(weekday=DAY.weekday())
    window.start_time = dt.time(15)
    window.save()
    assert min(free_on(consultation)).astimezone(LONDON).time() == dt.time(15)


@pytest.mark.django_db
def test_questions_added_and_types_withdrawn_count_at_once(consultation):
    assert selectors.booking_setup(now=NOW).questions_for(consultation) == []
    question = IntakeQuestion.objects.create(
        consultation_type=consultation, kind=QuestionKind.SHORT_ANSWER, text="Which medicines do you take?"
    )
    assert selectors.booking_setup(now=NOW).questions_for(consultation) == [question]
    consultation.is_active = False
    consultation.save()
    assert consultation.slug not in selectors.booking_setup(now=NOW).consultation_types


@pytest.mark.django_db
def test_the_practices_time_zone_counts_at_once(consultation, practice_settings):
    assert selectors.booking_setup(now=NOW).practice.zone == LONDON
    practice_settings.time_zone = "Europe/Berlin"
    practice_settings.save()
    assert selectors.booking_setup(now=NOW).practice.zone == ZoneInfo("Europe/Berlin")


@pytest.mark.django_db
def test_times_before_what_the_setup_keeps_read_time_off_from_the_database(consultation):
    TimeOff.objects.create(title="Dentist", starts_at=SLOT, ends_at=SLOT + dt.timedelta(hours=2))
    later = NOW + dt.timedelta(days=30)
    setup = selectors.booking_setup(now=later)  # read by a request a month on: that time off is long over
    assert setup.time_off == []
    assert SLOT not in free_on(consultation)  # asked for with an earlier `now`, the database answers


@pytest.mark.django_db
def test_the_same_form_sent_after_its_booking_was_cancelled_gives_that_booking(consultation):
    key = uuid.uuid4()
    first = services.booking_request(
        consultation_type=consultation, starts_at=SLOT, request=visitor_request(idempotency_key=key), now=NOW
    ).booking
    services.booking_cancel(booking=first, by_client=True, now=NOW)
    again = services.booking_request(
        consultation_type=consultation, starts_at=SLOT, request=visitor_request(idempotency_key=key), now=NOW
    )
    assert not again.created and again.booking.pk == first.pk
    assert Booking.objects.count() == 1


@pytest.mark.django_db
def test_the_same_form_sent_after_the_type_was_withdrawn_gives_the_booking(consultation):
    key = uuid.uuid4()
    first = services.booking_request(
        consultation_type=consultation, starts_at=SLOT, request=visitor_request(idempotency_key=key), now=NOW
    ).booking
    consultation.is_active = False
    consultation.save()
    again = services.booking_request(
        consultation_type=consultation, starts_at=SLOT, request=visitor_request(idempotency_key=key), now=NOW
    )
    assert not again.created and again.booking.pk == first.pk
    with pytest.raises(services.BookingError, match="not offered"):
        services.booking_request(consultation_type=consultation, starts_at=SLOT, request=visitor_request(), now=NOW)


@pytest.mark.django_db
def test_audit_entries_carry_the_admins_log_context(consultation, practice_admin):
    booking = book(consultation, now=NOW)
    with LogContext(user=practice_admin) as context:
        services.record(booking, "bookings.note", now=NOW, actor="practice")
    entry = ModelLogEntry.objects.get(object_id=str(booking.pk), action="bookings.note")
    assert entry.user == practice_admin
    assert entry.uuid == context.uuid
    assert entry.label == str(booking)
    assert entry.data == {"actor": "practice"}


@pytest.mark.django_db
def test_an_audit_action_nobody_registered_is_refused(consultation):
    booking = book(consultation, now=NOW)
    with pytest.raises(ValidationError):
        services.record(booking, "bookings.made_up", now=NOW)
    assert not ModelLogEntry.objects.filter(action="bookings.made_up").exists()
