"""
Rate limits and caps on the public forms: accepted and failed submissions are counted apart, and one
person (one email address, one client address) can hold only a few upcoming bookings.
"""

import datetime as dt
import functools

from django.test import RequestFactory, override_settings

import pytest
import time_machine

from bookings import ratelimit, services
from bookings.models import Booking, Enquiry
from tests.concurrency import at_once
from tests.factories.bookings import ConsultationTypeFactory, open_every_day, visitor_request
from tests.factories.practice import ContactPageFactory
from tests.test_booking_flow import NOW, SLOT
from tests.test_booking_flow import form_data as booking_form
from tests.test_contact import NOW as CONTACT_NOW
from tests.test_contact import form_data as contact_form

EMAIL_CAP_MESSAGE = "You already have 3 consultations booked or waiting for an answer"
ADDRESS_CAP_MESSAGE = "Several consultations have already been requested from your connection"
DETAILS = "/book/initial/details/"


@pytest.fixture
def clock():
    with time_machine.travel(NOW, tick=False) as traveller:
        yield traveller


@pytest.fixture
def consultation(practice_settings, clock):
    open_every_day()
    return ConsultationTypeFactory(name="Initial consultation", slug="initial", buffer_after_minutes=15)


def slot(index):
    """The index-th free time: three a day, two hours apart, from SLOT on, within opening hours."""
    day, hour = divmod(index, 3)
    return SLOT + dt.timedelta(days=day, hours=2 * hour)


def request_booking(client, index, **overrides):
    return client.post(DETAILS, booking_form(start=slot(index).isoformat(), **overrides))


def visitor_at(ip="127.0.0.1"):
    """A request from `ip` (the test client's requests come from 127.0.0.1)."""
    return RequestFactory().post("/", REMOTE_ADDR=ip)


def address_of(ip):
    """The client address hash the booking form stores for a visitor at `ip`."""
    return ratelimit.address_hash(visitor_at(ip))


def book(consultation, index, *, now=NOW, email="alex@example.com", ip="127.0.0.1"):
    """A request through the service, as the booking form makes it from `ip`."""
    return services.booking_request(
        consultation_type=consultation,
        starts_at=slot(index),
        request=visitor_request(email=email, client_address_hash=address_of(ip)),
        now=now,
    ).booking


# Accepted and failed submissions, counted apart


@pytest.mark.django_db
def test_five_booking_forms_with_errors_then_a_valid_one_succeeds(client, consultation):
    for _ in range(5):
        response = request_booking(client, 0, email="not an address")
        assert response.status_code == 200
        assert "several requests from your connection" not in response.content.decode()
    assert request_booking(client, 0).status_code == 302
    assert Booking.objects.count() == 1


@pytest.mark.django_db
def test_accepted_booking_requests_over_the_limit_get_the_429_page(client, consultation):
    statuses = [request_booking(client, index, email=f"client{index}@example.com").status_code for index in range(6)]
    assert statuses == [302] * 5 + [429]
    refused = request_booking(client, 6, email="late@example.com")
    assert refused.status_code == 429
    assert "several requests from your connection" in refused.content.decode()
    assert Booking.objects.count() == 5


@pytest.mark.django_db
@override_settings(FAILED_SUBMISSION_RATE_LIMIT=3)
def test_failed_booking_submissions_have_a_limit_of_their_own(client, consultation):
    assert [request_booking(client, 0, email="").status_code for _ in range(3)] == [200] * 3
    assert request_booking(client, 0).status_code == 429
    assert not Booking.objects.exists()
    assert client.post(DETAILS, booking_form(start=slot(0).isoformat()), REMOTE_ADDR="10.9.9.9").status_code == 302


@pytest.mark.django_db
def test_the_same_form_sent_twice_counts_once(client, consultation):
    data = booking_form(start=slot(0).isoformat())
    assert [client.post(DETAILS, data).status_code for _ in range(2)] == [302, 302]
    assert Booking.objects.count() == 1
    assert ratelimit.count(visitor_at(), scope="booking", window_seconds=ratelimit.HOUR) == 1


@pytest.mark.django_db
def test_five_contact_forms_with_errors_then_a_valid_one_is_sent(client, home_page, practice_settings):
    with time_machine.travel(CONTACT_NOW, tick=False):
        ContactPageFactory(parent=home_page)
        for _ in range(5):
            assert client.post("/contact/", contact_form(consent_privacy=None)).status_code == 200
        assert client.post("/contact/", contact_form()).status_code == 302
        assert Enquiry.objects.count() == 1
        for _ in range(4):
            assert client.post("/contact/", contact_form()).status_code == 302
        assert client.post("/contact/", contact_form()).status_code == 429
        assert Enquiry.objects.count() == 5


# Caps on upcoming bookings


@pytest.mark.django_db
def test_a_fourth_upcoming_booking_for_one_email_is_refused_kindly_and_nothing_is_stored(
    client, consultation, mailoutbox
):
    for index in range(3):
        book(consultation, index, ip=f"10.0.0.{index}")
    response = request_booking(client, 3, email="Alex@Example.com")
    assert response.status_code == 200
    assert EMAIL_CAP_MESSAGE in response.content.decode()
    assert Booking.objects.count() == 3
    assert request_booking(client, 3, email="sam@example.com").status_code == 302


@pytest.mark.django_db
def test_a_seventh_upcoming_booking_from_one_address_is_refused_and_nothing_is_stored(client, consultation):
    for index in range(6):
        book(consultation, index, email=f"client{index}@example.com")  # 127.0.0.1, the test client's address
    with override_settings(BOOKING_RATE_LIMIT=100):
        response = request_booking(client, 6, email="new@example.com")
        assert response.status_code == 200
        assert ADDRESS_CAP_MESSAGE in response.content.decode()
        assert Booking.objects.count() == 6
        elsewhere = client.post(
            DETAILS, booking_form(start=slot(6).isoformat(), email="new@example.com"), REMOTE_ADDR="10.9.9.9"
        )
        assert elsewhere.status_code == 302


@pytest.mark.django_db
def test_the_booking_form_stores_a_keyed_hash_of_the_address_never_the_address(client, consultation):
    request_booking(client, 0)
    stored = Booking.objects.get().client_address_hash
    assert stored == address_of("127.0.0.1") and len(stored) == 64 and "127.0.0.1" not in stored
    with override_settings(SECRET_KEY="another-secret-key-for-this-test-only-0123456789"):
        assert address_of("127.0.0.1") != stored


@pytest.mark.django_db
def test_cancelled_declined_and_past_bookings_do_not_count(consultation):
    cancelled = book(consultation, 0)
    services.booking_cancel(booking=cancelled, by_client=True, now=NOW)
    declined = book(consultation, 1)
    services.booking_decline(booking=declined, now=NOW)
    earlier = NOW - dt.timedelta(days=10)
    with time_machine.travel(earlier, tick=False):
        past = services.booking_request(
            consultation_type=consultation,
            starts_at=slot(0) - dt.timedelta(days=10),
            request=visitor_request(client_address_hash=address_of("127.0.0.1")),
            now=earlier,
        ).booking
    services.booking_confirm(booking=past, now=earlier)
    for index in range(2, 5):
        book(consultation, index)
    with pytest.raises(services.ActiveLimitError):
        book(consultation, 5)
    assert Booking.objects.filter(email="alex@example.com").count() == 6


@pytest.mark.django_db
@override_settings(BOOKING_MAX_ACTIVE_PER_EMAIL=1, BOOKING_MAX_ACTIVE_PER_ADDRESS=2)
def test_the_caps_are_settings_and_hold_for_any_caller_of_the_service(consultation):
    book(consultation, 0)
    with pytest.raises(services.ActiveLimitError, match="You already have 1 consultation booked"):
        book(consultation, 1)
    book(consultation, 1, email="sam@example.com")
    with pytest.raises(services.ActiveLimitError, match=ADDRESS_CAP_MESSAGE):
        book(consultation, 2, email="kim@example.com")
    book(consultation, 2, email="kim@example.com", ip="10.9.9.9")
    assert Booking.objects.count() == 3


def _race(consultation, emails, ip="192.0.2.1"):
    """Each request is made from its own thread and database connection at the same moment."""
    return at_once(
        [functools.partial(book, consultation, index, email=email, ip=ip) for index, email in enumerate(emails)]
    )


@pytest.mark.django_db(transaction=True)
def test_requests_sent_at_once_for_one_email_hold_no_more_than_the_cap(consultation):
    outcomes = _race(consultation, ["alex@example.com"] * 10)
    assert sum(isinstance(outcome, Booking) for outcome in outcomes) == 3, outcomes
    assert all(isinstance(outcome, Booking | services.ActiveLimitError) for outcome in outcomes), outcomes
    assert Booking.objects.count() == 3


@pytest.mark.django_db(transaction=True)
def test_requests_sent_at_once_from_one_address_hold_no_more_than_the_cap(consultation):
    outcomes = _race(consultation, [f"client{index}@example.com" for index in range(12)])
    assert sum(isinstance(outcome, Booking) for outcome in outcomes) == 6, outcomes
    assert all(isinstance(outcome, Booking | services.ActiveLimitError) for outcome in outcomes), outcomes
    assert Booking.objects.count() == 6
