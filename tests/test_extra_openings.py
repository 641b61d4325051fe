"""One-off openings: a date with hours outside the weekly pattern, offered and booked like any other."""

import datetime as dt
import re
from zoneinfo import ZoneInfo

from django.urls import reverse

import pytest
import time_machine

from bookings import selectors, services
from bookings.models import AvailabilityWindow, Booking, BookingStatus, TimeOff
from calendars.models import BusyInterval, ExtraOpening
from tests.factories.bookings import ConsultationTypeFactory, visitor_request
from tests.factories.calendars import BusyCalendarFactory, ExtraOpeningFactory

UTC = dt.UTC
LONDON = ZoneInfo("Europe/London")
NOW = dt.datetime(2026, 11, 2, 9, 0, tzinfo=UTC)  # a Monday
SATURDAY = dt.date(2026, 11, 7)


def at(hour, minute=0, day=SATURDAY):
    return dt.datetime.combine(day, dt.time(hour, minute), tzinfo=LONDON).astimezone(UTC)


@pytest.fixture
def weekday_consultation(practice_settings):
    """An hour-long consultation, every half hour; the practice is open 09:00–17:00 Monday to Friday only."""
    AvailabilityWindow.objects.bulk_create(
        AvailabilityWindow(weekday=day, start_time=dt.time(9), end_time=dt.time(17)) for day in range(5)
    )
    return ConsultationTypeFactory(name="Initial consultation")


def saturday(consultation, *, now=NOW):
    return selectors.slots_available(
        consultation_type=consultation, first_day=SATURDAY, last_day=SATURDAY, now=now, zone=LONDON
    )


@pytest.mark.django_db
def test_a_saturday_clinic_offers_its_times(weekday_consultation):
    assert saturday(weekday_consultation) == []
    ExtraOpeningFactory(date=SATURDAY, start_time=dt.time(10), end_time=dt.time(13))
    assert saturday(weekday_consultation) == [at(10), at(10, 30), at(11), at(11, 30), at(12)]
    # The days around it keep their weekly hours only.
    friday = selectors.slots_available(
        consultation_type=weekday_consultation,
        first_day=SATURDAY - dt.timedelta(days=1),
        last_day=SATURDAY + dt.timedelta(days=1),
        now=NOW,
        zone=LONDON,
    )
    assert {start.astimezone(LONDON).date() for start in friday} == {SATURDAY - dt.timedelta(days=1), SATURDAY}


@pytest.mark.django_db
def test_time_off_and_busy_times_win_over_an_extra_opening(weekday_consultation):
    ExtraOpeningFactory(date=SATURDAY, start_time=dt.time(10), end_time=dt.time(13))
    TimeOff.objects.create(title="Away", starts_at=at(11), ends_at=at(11, 30))
    assert saturday(weekday_consultation) == [at(10), at(11, 30), at(12)]

    BusyInterval.objects.create(calendar=BusyCalendarFactory(), starts_at=at(12, 15), ends_at=at(12, 45))
    assert saturday(weekday_consultation) == [at(10)]

    TimeOff.objects.create(title="Whole day off", starts_at=at(0), ends_at=at(23, 59))
    assert saturday(weekday_consultation) == []


@pytest.mark.django_db
def test_the_visitor_can_book_a_time_in_an_extra_opening(weekday_consultation):
    ExtraOpeningFactory(date=SATURDAY, start_time=dt.time(10), end_time=dt.time(13))
    result = services.booking_request(
        consultation_type=weekday_consultation, starts_at=at(11), request=visitor_request(), now=NOW
    )
    assert result.created
    booking = Booking.objects.get(pk=result.booking.pk)
    assert booking.starts_at == at(11) and booking.status == BookingStatus.PENDING
    assert saturday(weekday_consultation) == [at(10), at(12)]

    with pytest.raises(services.SlotUnavailableError):
        services.booking_request(
            consultation_type=weekday_consultation, starts_at=at(11, 30), request=visitor_request(), now=NOW
        )


@pytest.mark.django_db
def test_a_time_outside_the_extra_opening_is_refused(weekday_consultation):
    ExtraOpeningFactory(date=SATURDAY, start_time=dt.time(10), end_time=dt.time(13))
    with pytest.raises(services.SlotUnavailableError) as refused:
        services.booking_request(
            consultation_type=weekday_consultation, starts_at=at(12, 30), request=visitor_request(), now=NOW
        )
    assert refused.value.next_free[0] > at(12, 30)


@pytest.mark.django_db
def test_the_booking_page_offers_the_extra_opening_as_the_visitor_sees_it(client, weekday_consultation):
    ExtraOpeningFactory(date=SATURDAY, start_time=dt.time(14), end_time=dt.time(15, 30))
    with time_machine.travel(NOW):
        html = client.get(
            f"/book/{weekday_consultation.slug}/", {"from": SATURDAY.isoformat(), "tz": "Europe/London"}
        ).content.decode()
    labels = re.findall(r'aria-label="Saturday 7 November 2026, (\d\d:\d\d) Europe/London time"', html)
    assert labels == ["14:00", "14:30"]


@pytest.mark.django_db
def test_a_practice_admin_adds_an_extra_opening_under_booking_set_up(practice_client):
    index = reverse("wagtailsnippets_calendars_extraopening:list")
    assert practice_client.get(index).status_code == 200
    response = practice_client.post(
        reverse("wagtailsnippets_calendars_extraopening:add"),
        {"date": "2026-11-07", "start_time": "10:00", "end_time": "13:00", "note": "Saturday clinic"},
    )
    assert response.status_code == 302
    opening = ExtraOpening.objects.get()
    assert (opening.date, opening.start_time, opening.end_time) == (SATURDAY, dt.time(10), dt.time(13))

    refused = practice_client.post(
        reverse("wagtailsnippets_calendars_extraopening:add"),
        {"date": "2026-11-08", "start_time": "13:00", "end_time": "10:00"},
    )
    assert refused.status_code == 200 and "The end must be later than the start." in refused.content.decode()
    assert ExtraOpening.objects.count() == 1


@pytest.mark.django_db
def test_a_practice_admin_adds_a_busy_calendar_with_help_to_find_its_address(practice_client):
    add = reverse("wagtailsnippets_calendars_busycalendar:add")
    html = practice_client.get(add).content.decode()
    assert "Secret address in iCal format" in html and "Public Calendar" in html and "ICS link" in html
    response = practice_client.post(
        add, {"name": "Personal", "url": "webcal://p01-caldav.icloud.com/published/2/secret", "is_active": "on"}
    )
    assert response.status_code == 302
    listing = practice_client.get(reverse("wagtailsnippets_calendars_busycalendar:list")).content.decode()
    assert "Personal" in listing and "secret" not in listing.split("<main", 1)[-1]
    refused = practice_client.post(add, {"name": "Files", "url": "file:///etc/passwd", "is_active": "on"})
    assert refused.status_code == 200
