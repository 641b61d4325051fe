import datetime as dt
import functools
import itertools
import uuid

from django.db import connection

import pytest

from bookings import services
from bookings.models import Booking, BookingStatus, Notification, NotificationKind
from tests.concurrency import at_once
from tests.factories.bookings import ConsultationTypeFactory, open_every_day, visitor_request

UTC = dt.UTC
NOW = dt.datetime(2026, 6, 1, 7, 0, tzinfo=UTC)  # Monday 08:00 in London
SLOT = dt.datetime(2026, 6, 3, 9, 0, tzinfo=UTC)  # Wednesday 10:00 in London


@pytest.fixture
def consultation(practice_settings):
    open_every_day()
    return ConsultationTypeFactory(buffer_after_minutes=15)


def book(consultation, start=SLOT, **overrides):
    return services.booking_request(
        consultation_type=consultation, starts_at=start, request=visitor_request(**overrides), now=NOW
    ).booking


@pytest.mark.django_db
def test_request_saves_a_pending_booking_with_consent_and_queues_emails(consultation):
    booking = book(consultation, source_page="/articles/leaky-gut/")
    assert booking.status == BookingStatus.PENDING
    assert (booking.starts_at, booking.ends_at) == (SLOT, SLOT + dt.timedelta(hours=1))
    assert booking.blocked_until == SLOT + dt.timedelta(minutes=75)
    assert booking.consent_privacy and booking.consent_health_data and booking.acknowledged_not_emergency
    assert booking.consent_text_version == services.CONSENT_TEXT_VERSION and booking.consent_given_at == NOW
    assert booking.source_page == "/articles/leaky-gut/"
    assert len(booking.reference) == 8 and booking.reference.isalnum()
    kinds = set(Notification.objects.filter(booking=booking).values_list("kind", flat=True))
    assert kinds == {NotificationKind.REQUEST_RECEIVED, NotificationKind.PRACTICE_NEW_REQUEST}


@pytest.mark.django_db
def test_instant_types_are_confirmed_at_once(consultation):
    consultation.requires_approval = False
    consultation.save()
    booking = book(consultation)
    assert booking.status == BookingStatus.CONFIRMED
    assert Notification.objects.filter(booking=booking, kind=NotificationKind.CONFIRMED).exists()


@pytest.mark.django_db
def test_a_second_request_for_a_taken_time_is_refused_with_the_next_free_times(consultation):
    book(consultation)
    with pytest.raises(services.SlotUnavailableError) as error:
        book(consultation)
    assert error.value.next_free and all(start >= SLOT for start in error.value.next_free)
    assert Booking.objects.count() == 1


@pytest.mark.django_db
def test_a_taken_time_or_a_resent_form_is_answered_without_trying_to_insert(consultation):
    """A failed insert would carry the visitor's name and contact details into the database's error log."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    key = uuid.uuid4()
    first = services.booking_request(
        consultation_type=consultation, starts_at=SLOT, request=visitor_request(idempotency_key=key), now=NOW
    )
    with CaptureQueriesContext(connection) as captured:
        again = services.booking_request(
            consultation_type=consultation, starts_at=SLOT, request=visitor_request(idempotency_key=key), now=NOW
        )
        with pytest.raises(services.SlotUnavailableError):
            services.booking_request(consultation_type=consultation, starts_at=SLOT, request=visitor_request(), now=NOW)
    assert again.booking.pk == first.booking.pk and not again.created
    assert not [query for query in captured if query["sql"].lstrip().upper().startswith("INSERT")]


@pytest.mark.django_db
def test_overlapping_requests_of_different_lengths_are_refused_and_adjacent_ones_allowed(consultation):
    book(consultation)  # 10:00–11:00 London, blocked until 11:15
    short = ConsultationTypeFactory(duration_minutes=30)
    with pytest.raises(services.SlotUnavailableError):
        book(short, SLOT + dt.timedelta(minutes=30))
    with pytest.raises(services.SlotUnavailableError):
        book(short, SLOT + dt.timedelta(hours=1))  # inside the 15-minute buffer
    assert book(short, SLOT - dt.timedelta(minutes=30)).status == BookingStatus.PENDING  # ends as the other starts
    assert book(short, SLOT + dt.timedelta(minutes=90)).status == BookingStatus.PENDING


@pytest.mark.django_db
def test_the_look_before_inserting_applies_the_guards_rule(consultation):
    """The service's look for an overlapping booking finds exactly what the database's guard would refuse."""
    booking = book(consultation)  # blocked 10:00–11:15 London
    start, end, minute, hour = (
        booking.blocked_from,
        booking.blocked_until,
        dt.timedelta(minutes=1),
        dt.timedelta(hours=1),
    )
    ranges = {
        (start, end): True,
        (end - minute, end + hour): True,
        (start - hour, start + minute): True,
        (start + minute, end - minute): True,
        (end, end + hour): False,  # touching is allowed
        (start - hour, start): False,
    }
    for (begins, ends), overlaps in ranges.items():
        assert services._overlaps_active(start=begins, end=ends) is overlaps
        assert Booking.objects.active().overlapping(begins, ends).exists() is overlaps
    services.booking_cancel(booking=booking, by_client=True, now=NOW)
    assert not services._overlaps_active(start=start, end=end)  # a cancelled booking blocks nothing


@pytest.mark.django_db
def test_rows_inserted_directly_hold_what_bulk_create_would_write(consultation):
    """Defaults, dates, encrypted text, JSON and ignored conflicts: the same as through the ORM."""
    from django.contrib.contenttypes.models import ContentType

    from wagtail.models import ModelLogEntry, ReferenceIndex

    import time_machine

    booking = book(consultation)
    content_type = ContentType.objects.get_for_model(Booking)

    def notification(kind):
        return Notification(booking=booking, kind=kind, sequence=7, message="Personal words", next_attempt_at=NOW)

    def entry(action):
        return ModelLogEntry(
            content_type=content_type,
            object_id=str(booking.pk),
            label="x",
            action=action,
            timestamp=NOW,
            data={"to": 1},
        )

    def reference(path):
        return ReferenceIndex(
            content_type=content_type,
            base_content_type=content_type,
            object_id=booking.pk,
            to_content_type=content_type,
            to_object_id="1",
            model_path=path,
            content_path=path,
            content_path_hash=ReferenceIndex._get_content_path_hash(path),
        )

    def stored(model, leave_out=(), **where):
        rows = model.objects.filter(**where).values()
        return [{k: v for k, v in row.items() if k not in ("id", *leave_out, *where)} for row in rows]

    with time_machine.travel(NOW, tick=False):
        services._insert_new([notification(NotificationKind.MOVED), notification(NotificationKind.CANCELLED)])
        Notification.objects.bulk_create([notification(NotificationKind.DECLINED)])
        services._insert_new([entry("test.direct")])
        ModelLogEntry.objects.bulk_create([entry("test.orm")])
    assert stored(Notification, kind=NotificationKind.MOVED) == stored(Notification, kind=NotificationKind.DECLINED)
    assert stored(Notification, kind=NotificationKind.CANCELLED) == stored(Notification, kind=NotificationKind.DECLINED)
    assert Notification.objects.get(kind=NotificationKind.MOVED).message == "Personal words"
    assert stored(ModelLogEntry, action="test.direct") == stored(ModelLogEntry, action="test.orm")

    services._insert_new([reference("a")], ignore_conflicts=True)
    ReferenceIndex.objects.bulk_create([reference("b")], ignore_conflicts=True)
    paths = ("model_path", "content_path", "content_path_hash")
    assert stored(ReferenceIndex, paths, model_path="a") == stored(ReferenceIndex, paths, model_path="b")
    services._insert_new([reference("a"), reference("b")], ignore_conflicts=True)  # both there already
    assert ReferenceIndex.objects.filter(object_id=booking.pk, model_path__in=["a", "b"]).count() == 2


@pytest.mark.django_db
def test_a_cancelled_time_can_be_booked_again(consultation):
    first = book(consultation)
    services.booking_cancel(booking=first, by_client=True, now=NOW)
    assert book(consultation).status == BookingStatus.PENDING


@pytest.mark.django_db
def test_sending_the_same_form_twice_makes_one_booking(consultation):
    key = uuid.uuid4()
    first = services.booking_request(
        consultation_type=consultation, starts_at=SLOT, request=visitor_request(idempotency_key=key), now=NOW
    )
    again = services.booking_request(
        consultation_type=consultation, starts_at=SLOT, request=visitor_request(idempotency_key=key), now=NOW
    )
    assert first.created and not again.created
    assert again.booking.pk == first.booking.pk
    assert Booking.objects.count() == 1


@pytest.mark.django_db
@pytest.mark.parametrize(
    "start",
    [
        NOW - dt.timedelta(days=1),  # in the past
        dt.datetime(2026, 6, 3, 4, 0, tzinfo=UTC),  # 05:00 London, before opening
        dt.datetime(2026, 6, 3, 9, 10, tzinfo=UTC),  # not on the half-hour step
        NOW + dt.timedelta(days=200),  # past the horizon
    ],
)
def test_times_the_engine_would_not_show_are_refused(consultation, start):
    with pytest.raises(services.SlotUnavailableError):
        book(consultation, start)
    assert not Booking.objects.exists()


@pytest.mark.django_db
def test_the_database_refuses_overlaps_even_past_the_service(consultation):
    from django.db import IntegrityError, transaction

    first = book(consultation)
    clash = Booking(consultation_type=consultation, name="x", email="x@example.com", reason="x")
    clash.set_times(first.starts_at + dt.timedelta(minutes=30))
    with pytest.raises(IntegrityError), transaction.atomic():
        clash.save()


@pytest.mark.django_db
def test_allowed_transitions_and_refused_ones(consultation):
    booking = book(consultation)
    services.booking_confirm(booking=booking, now=NOW)
    booking.refresh_from_db()
    assert booking.status == BookingStatus.CONFIRMED and booking.confirmed_at == NOW
    with pytest.raises(services.TransitionError):
        services.booking_confirm(booking=booking, now=NOW)
    with pytest.raises(services.TransitionError):
        services.booking_decline(booking=booking, now=NOW)
    with pytest.raises(services.PolicyError):
        services.booking_close(booking=booking, outcome=BookingStatus.COMPLETED, now=NOW)
    services.booking_close(booking=booking, outcome=BookingStatus.COMPLETED, now=SLOT + dt.timedelta(hours=2))
    booking.refresh_from_db()
    assert booking.status == BookingStatus.COMPLETED
    with pytest.raises(services.TransitionError):
        services.booking_cancel(booking=booking, by_client=False, now=NOW)


@pytest.mark.django_db
def test_client_cancels_only_before_the_cut_off(consultation):
    booking = book(consultation)
    late = SLOT - dt.timedelta(hours=23)  # cut-off is 24 hours
    with pytest.raises(services.PolicyError):
        services.booking_cancel(booking=booking, by_client=True, now=late)
    services.booking_cancel(booking=booking, by_client=False, now=late)
    booking.refresh_from_db()
    assert booking.status == BookingStatus.CANCELLED_BY_PRACTICE and booking.sequence == 1


@pytest.mark.django_db
def test_moving_takes_the_new_time_before_freeing_the_old_one(consultation):
    booking = book(consultation)
    other = book(consultation, SLOT + dt.timedelta(hours=3), email="other@example.com")
    with pytest.raises(services.SlotUnavailableError):
        services.booking_move(booking=booking, new_start=other.starts_at, by_client=True, now=NOW)
    booking.refresh_from_db()
    assert booking.starts_at == SLOT and booking.sequence == 0

    new_start = SLOT + dt.timedelta(days=1)
    services.booking_move(booking=booking, new_start=new_start, by_client=True, now=NOW)
    booking.refresh_from_db()
    assert booking.starts_at == new_start and booking.sequence == 1
    assert book(consultation, SLOT, email="third@example.com").status == BookingStatus.PENDING  # old time freed


@pytest.mark.django_db
def test_a_cancelled_booking_cannot_be_moved(consultation):
    booking = book(consultation)
    services.booking_cancel(booking=booking, by_client=True, now=NOW)
    with pytest.raises(services.TransitionError):
        services.booking_move(booking=booking, new_start=SLOT + dt.timedelta(days=1), by_client=True, now=NOW)


def _race(consultation, starts, durations=None):
    """Each start is requested from its own thread and database connection at the same moment."""
    kinds = [consultation] * len(starts) if durations is None else durations
    return at_once(
        [
            functools.partial(book, kind, start, email=f"racer{index}@example.com")
            for index, (kind, start) in enumerate(zip(kinds, starts, strict=True))
        ]
    )


@pytest.mark.django_db(transaction=True)
def test_fifty_people_racing_for_one_time_leave_exactly_one_booking(consultation):
    outcomes = _race(consultation, [SLOT] * 50)
    winners = [outcome for outcome in outcomes if isinstance(outcome, Booking)]
    losers = [outcome for outcome in outcomes if isinstance(outcome, services.SlotUnavailableError)]
    assert len(winners) == 1, outcomes
    assert len(losers) == 49, [outcome for outcome in outcomes if not isinstance(outcome, Booking)][:3]
    assert all(str(loser) == "Sorry, that time was just taken." for loser in losers)
    assert Booking.objects.active().count() == 1
    assert connection.vendor in ("sqlite", "postgresql")


@pytest.mark.django_db(transaction=True)
def test_racing_overlapping_requests_of_different_lengths_leave_no_overlap(consultation):
    short = ConsultationTypeFactory(duration_minutes=30)
    starts = [SLOT + dt.timedelta(minutes=30 * (index % 4)) for index in range(24)]
    kinds = [consultation if index % 2 else short for index in range(24)]
    outcomes = _race(consultation, starts, durations=kinds)
    assert all(isinstance(outcome, Booking | services.SlotUnavailableError) for outcome in outcomes), outcomes
    active = list(Booking.objects.active().order_by("blocked_from"))
    assert active
    for earlier, later in itertools.pairwise(active):
        assert earlier.blocked_until <= later.blocked_from


@pytest.mark.django_db(transaction=True)
def test_racing_for_adjacent_times_lets_both_succeed(consultation):
    no_buffer = ConsultationTypeFactory(buffer_after_minutes=0)
    outcomes = _race(no_buffer, [SLOT, SLOT + dt.timedelta(hours=1)])
    assert all(isinstance(outcome, Booking) for outcome in outcomes), outcomes


@pytest.mark.django_db
def test_the_overlap_guard_survives_every_migration():
    """SQLite drops a table's triggers when a migration rebuilds it; the latest migrations must put them back."""
    from django.db import connection

    with connection.cursor() as cursor:
        if connection.vendor == "sqlite":
            cursor.execute("SELECT name FROM sqlite_master WHERE type = 'trigger' AND tbl_name = 'bookings_booking'")
            assert {row[0] for row in cursor.fetchall()} == {"booking_no_overlap_insert", "booking_no_overlap_update"}
        else:
            cursor.execute("SELECT conname FROM pg_constraint WHERE conname = 'booking_no_overlap'")
            assert cursor.fetchall() == [("booking_no_overlap",)]
