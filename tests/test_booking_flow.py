"""The visitor's booking flow and manage link through HTTP, as a browser without JavaScript uses them."""

import datetime as dt
import re
import uuid

from django.test import override_settings

import pytest
import time_machine
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bookings.forms import form_stamp
from bookings.models import Booking, BookingStatus
from tests.factories.articles import ArticlePageFactory
from tests.factories.bookings import ConsultationTypeFactory, details_form_data, open_every_day

UTC = dt.UTC
NOW = dt.datetime(2026, 6, 1, 7, 0, tzinfo=UTC)  # Monday 08:00 London
SLOT = dt.datetime(2026, 6, 3, 9, 0, tzinfo=UTC)  # Wednesday 10:00 London


@pytest.fixture
def clock():
    with time_machine.travel(NOW, tick=False) as traveller:
        yield traveller


@pytest.fixture
def consultation(practice_settings, clock):
    open_every_day()
    return ConsultationTypeFactory(name="Initial consultation", slug="initial", buffer_after_minutes=15)


def details_url(consultation, start=SLOT, tz="Europe/London"):
    return f"/book/{consultation.slug}/details/?start={start.isoformat().replace('+', '%2B')}&tz={tz}"


def form_data(**overrides):
    return details_form_data(now=NOW, **{"start": SLOT.isoformat(), "src": "/articles/leaky-gut/", **overrides})


def post(client, consultation, **overrides):
    return client.post(f"/book/{consultation.slug}/details/", form_data(**overrides))


@pytest.mark.django_db
def test_visitor_chooses_a_type_then_a_time_labelled_in_full(client, consultation):
    ConsultationTypeFactory(name="Hidden", slug="hidden", is_active=False)
    types = client.get("/book/").content.decode()
    assert "Initial consultation" in types and "Hidden" not in types
    assert 'href="/book/initial/"' in types

    page = client.get("/book/initial/").content.decode()
    assert 'aria-label="Wednesday 3 June 2026, 10:00 Europe/London time"' in page
    berlin = client.get("/book/initial/?tz=Europe/Berlin").content.decode()
    assert 'aria-label="Wednesday 3 June 2026, 11:00 Europe/Berlin time"' in berlin
    assert "The practice works in Europe/London time." in berlin
    nonsense = client.get("/book/initial/?tz=Not/AZone&from=bad").content.decode()
    assert "Europe/London time" in nonsense
    assert client.get("/book/unknown-type/").status_code == 404


@pytest.mark.django_db
def test_visitor_books_and_lands_on_a_confirmation_with_both_zones(client, consultation, article_index):
    ArticlePageFactory(parent=article_index, slug="leaky-gut")  # the page the visitor came from
    response = post(client, consultation)
    assert response.status_code == 302
    booking = Booking.objects.get()
    assert response["Location"] == f"/book/manage/{booking.manage_token}/?new=1"
    assert booking.source_page == "/articles/leaky-gut/"
    assert booking.visitor_time_zone == "Europe/Berlin"
    page = client.get(response["Location"]).content.decode()
    assert booking.reference in page
    assert "Wednesday 3 June 2026, 11:00 (Europe/Berlin time)" in page
    assert "Wednesday 3 June 2026, 10:00 in the practice’s time (Europe/London)" in page
    assert "What happens next" in page
    assert "Tiredness" not in page


@pytest.mark.django_db
def test_sending_the_form_twice_gives_one_booking(client, consultation):
    data = form_data()
    first = client.post("/book/initial/details/", data)
    second = client.post("/book/initial/details/", data)
    assert first["Location"] == second["Location"]
    assert Booking.objects.count() == 1


@pytest.mark.django_db
def test_losing_a_race_shows_a_plain_message_and_the_next_times(client, consultation):
    post(client, consultation, email="first@example.com")
    response = post(client, consultation, email="second@example.com")
    assert response.status_code == 200
    page = response.content.decode()
    assert "Sorry, that time was just taken." in page
    assert "The next free times are:" in page
    assert Booking.objects.count() == 1


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"consent_privacy": None}, "Please agree to the privacy policy"),
        ({"consent_health_data": None}, "Please agree so that we can keep"),
        ({"acknowledged_not_emergency": None}, "not an emergency service"),
        ({"name": "x" * 2000}, "Ensure this value has at most 120 characters"),
        ({"name": "Alex\x00Visitor"}, "Null characters are not allowed"),
        ({"name": "Alex\x07Visitor"}, "cannot be used"),
        ({"reason": "Hello\x1b[31m"}, "cannot be used"),
        ({"email": "alex@example.com\nBcc: victim@example.com"}, "Enter a valid email address"),
        ({"email": "not-an-email"}, "Enter a valid email address"),
        ({"phone": "call me maybe"}, "Enter a phone number"),
        ({"contact_method": "phone", "phone": ""}, "Please give a phone number"),
        ({"reason": ""}, "This field is required"),
    ],
)
def test_bad_input_gets_a_clear_message_and_stores_nothing(client, consultation, overrides, message):
    response = post(client, consultation, **overrides)
    assert response.status_code == 200
    page = response.content.decode()
    assert message in page
    assert 'role="alert"' in page
    assert not Booking.objects.exists()


@pytest.mark.django_db
@override_settings(BOOKING_RATE_LIMIT=1)
def test_the_details_form_links_back_to_the_times_in_the_visitors_zone(client, consultation, article_index):
    ArticlePageFactory(parent=article_index, slug="leaky-gut")
    back = 'href="/book/initial/?tz=Europe%2FBerlin&amp;src=%2Farticles%2Fleaky-gut%2F"'
    shown = client.get(details_url(consultation, tz="Europe/Berlin") + "&src=/articles/leaky-gut/")
    assert back in shown.content.decode()
    assert back in post(client, consultation, reason="").content.decode()  # shown again with its messages
    assert post(client, consultation).status_code == 302
    refused = post(client, consultation, start=(SLOT + dt.timedelta(hours=2)).isoformat())
    assert refused.status_code == 429 and back in refused.content.decode()


@pytest.mark.django_db
@pytest.mark.parametrize(
    "start",
    [
        (NOW - dt.timedelta(days=1)).isoformat(),  # in the past
        dt.datetime(2026, 6, 3, 3, 0, tzinfo=UTC).isoformat(),  # 04:00 London, outside opening hours
        "2026-06-03T09:00:00",  # no time zone
        "tomorrow at nine",
        "",
    ],
)
def test_tampered_times_are_refused_and_store_nothing(client, consultation, start):
    response = post(client, consultation, start=start)
    assert response.status_code == 200
    assert "That time cannot be booked" in response.content.decode() or "that time was just taken" in (
        response.content.decode()
    )
    assert not Booking.objects.exists()


@pytest.mark.django_db
def test_unknown_or_inactive_type_is_not_found(client, consultation):
    ConsultationTypeFactory(slug="retired", is_active=False)
    assert client.post("/book/retired/details/", form_data()).status_code == 404
    assert client.post("/book/nothing/details/", form_data()).status_code == 404
    assert not Booking.objects.exists()


@pytest.mark.django_db
def test_a_likely_email_typo_gets_a_hint_and_can_be_kept(client, consultation):
    data = form_data(email="alex@gmial.com")
    response = client.post("/book/initial/details/", data)
    assert "Did you mean alex@gmail.com?" in response.content.decode()
    assert not Booking.objects.exists()
    checked = re.search(r'name="email_checked" value="([^"]*)"', response.content.decode()).group(1)
    assert checked == "alex@gmial.com"
    response = client.post("/book/initial/details/", {**data, "email_checked": checked})
    assert response.status_code == 302
    assert Booking.objects.get().email == "alex@gmial.com"


@pytest.mark.django_db
@pytest.mark.parametrize(
    "overrides",
    [
        {"website": "http://spam.example"},
        {"started": form_stamp(NOW - dt.timedelta(seconds=1))},
        {"started": "forged"},
        {"started": None},
    ],
)
def test_bots_get_an_ordinary_answer_and_nothing_is_stored_or_sent(client, consultation, overrides, mailoutbox):
    response = post(client, consultation, **overrides)
    assert response.status_code == 200
    assert "Your request has been received" in response.content.decode()
    assert not Booking.objects.exists()
    assert mailoutbox == []


@pytest.mark.django_db
@override_settings(BOOKING_RATE_LIMIT=3)
def test_too_many_requests_from_one_address_are_refused(client, consultation):
    starts = [SLOT + dt.timedelta(hours=2 * hours) for hours in range(5)]
    statuses = [post(client, consultation, start=start.isoformat()).status_code for start in starts]
    assert statuses == [302, 302, 302, 429, 429]
    assert Booking.objects.count() == 3
    other = client.post(
        "/book/initial/details/",
        form_data(start=starts[3].isoformat(), email="sam@example.com"),
        REMOTE_ADDR="10.9.9.9",
    )
    assert other.status_code == 302


@pytest.mark.django_db
@override_settings(BOOKING_RATE_LIMIT=100000)
@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    fields=st.dictionaries(
        st.sampled_from(
            [
                "name",
                "email",
                "phone",
                "contact_method",
                "reason",
                "heard_about",
                "consent_privacy",
                "start",
                "tz",
                "src",
                "idempotency_key",
                "email_checked",
            ]
        ),
        st.text(max_size=300) | st.sampled_from(["", "on", "email", "phone", "2026-06-03T09:00:00+00:00"]),
        max_size=8,
    )
)
def test_generated_submissions_never_cause_a_server_error(client, consultation, fields):
    fields = {key: value.replace("\x00", "") for key, value in fields.items()}
    response = client.post("/book/initial/details/", form_data(**fields))
    assert response.status_code in (200, 302, 404, 429)


def manage_link(client, consultation, **overrides):
    response = post(client, consultation, **overrides)
    return response["Location"].split("?")[0]


@pytest.mark.django_db
def test_manage_link_cancels_within_the_policy(client, consultation):
    link = manage_link(client, consultation)
    response = client.post(link, {"action": "cancel"})
    assert response.status_code == 302
    assert Booking.objects.get().status == BookingStatus.CANCELLED_BY_CLIENT
    page = client.get(response["Location"]).content.decode()
    assert "Your booking is cancelled" in page
    assert "Choose another time" not in page
    assert client.get(link + "move/").status_code == 302  # a cancelled booking cannot be moved


@pytest.mark.django_db
def test_manage_link_refuses_changes_after_the_cut_off(client, consultation, clock):
    link = manage_link(client, consultation)
    clock.move_to(SLOT - dt.timedelta(hours=2))
    page = client.get(link).content.decode()
    assert "too late to change this booking online" in page
    response = client.post(link, {"action": "cancel"})
    assert "too late to cancel online" in response.content.decode()
    assert Booking.objects.get().status == BookingStatus.PENDING


@pytest.mark.django_db
def test_manage_link_moves_to_a_free_time(client, consultation):
    link = manage_link(client, consultation)
    page = client.get(link + "move/").content.decode()
    assert "Your current time stays booked" in page
    new_start = SLOT + dt.timedelta(days=1)
    response = client.post(link + "move/", {"start": new_start.isoformat()})
    assert response.status_code == 302 and "moved=1" in response["Location"]
    booking = Booking.objects.get()
    assert booking.starts_at == new_start and booking.sequence == 1


@pytest.mark.django_db
def test_after_the_appointment_the_link_only_shows_the_booking(client, consultation, clock):
    link = manage_link(client, consultation)
    clock.move_to(SLOT + dt.timedelta(days=1))
    page = client.get(link).content.decode()
    assert Booking.objects.get().reference in page
    assert "Cancel this booking" not in page and "Choose another time" not in page


@pytest.mark.django_db
def test_guessed_or_tampered_tokens_find_nothing(client, consultation):
    link = manage_link(client, consultation)
    token = link.rstrip("/").rsplit("/", 1)[1]
    uid, signature = token.split(":")
    for guess in [f"{uid}:{'A' * len(signature)}", f"{uuid.uuid4().hex}:{signature}", "x" * 200, uid, "a:b:c"]:
        assert client.get(f"/book/manage/{guess}/").status_code == 404, guess
        assert client.post(f"/book/manage/{guess}/", {"action": "cancel"}).status_code == 404
    assert Booking.objects.get().status == BookingStatus.PENDING


@pytest.mark.django_db
def test_calendar_download_once_confirmed(client, consultation):
    from bookings import services

    link = manage_link(client, consultation)
    assert client.get(link + "calendar.ics").status_code == 404
    services.booking_confirm(booking=Booking.objects.get(), now=NOW)
    response = client.get(link + "calendar.ics")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/calendar")
    assert b"DTSTART:20260603T090000Z" in response.content
    assert b"Tiredness" not in response.content


@pytest.mark.django_db
def test_booking_pages_are_never_cached_and_manage_links_stay_out_of_search_engines(client, consultation):
    link = manage_link(client, consultation)
    response = client.get(link)
    assert "no-cache" in response["Cache-Control"] or "no-store" in response["Cache-Control"]
    assert '<meta name="robots" content="noindex, nofollow">' in response.content.decode()
    assert "Disallow: /book/manage/" in client.get("/robots.txt").content.decode()


@pytest.mark.django_db
@pytest.mark.parametrize(
    "start",
    ["0001-01-01T00:00:00+14:00", "0001-01-01T12:00:00Z", "9999-12-31T12:00:00Z", "0002-01-01T00:00:00Z"],
)
def test_absurd_times_are_refused_quickly_not_with_a_server_error(client, consultation, start):
    page = client.get(f"/book/initial/details/?start={start.replace('+', '%2B')}")
    assert page.status_code == 200
    assert "That time cannot be booked" in page.content.decode()
    assert post(client, consultation, start=start).status_code == 200
    link = manage_link(client, consultation)
    assert client.post(link + "move/", {"start": start}).status_code == 200
    assert Booking.objects.count() == 1


@pytest.mark.django_db
def test_a_malformed_referer_is_ignored(client, consultation):
    assert client.get("/book/", HTTP_REFERER="http://[").status_code == 200
    assert client.get("/book/initial/", HTTP_REFERER="http://[").status_code == 200


@pytest.mark.django_db
def test_a_form_left_open_overnight_still_books(client, consultation):
    response = post(client, consultation, started=form_stamp(NOW - dt.timedelta(days=2)))
    assert response.status_code == 302
    assert Booking.objects.count() == 1


@pytest.mark.django_db
def test_a_failed_move_keeps_showing_the_visitors_time_zone(client, consultation):
    link = manage_link(client, consultation)  # the visitor chose Europe/Berlin
    post(client, consultation, email="other@example.com", start=(SLOT + dt.timedelta(days=1)).isoformat())
    response = client.post(link + "move/", {"start": (SLOT + dt.timedelta(days=1)).isoformat()})
    page = response.content.decode()
    assert "Sorry, that time was just taken." in page
    assert "Europe/Berlin time" in page


@pytest.mark.django_db
def test_the_practice_hears_when_a_client_cancels(client, consultation, mailoutbox):
    from bookings.notifications import deliver_due

    link = manage_link(client, consultation)
    deliver_due(now=NOW)
    mailoutbox.clear()
    client.post(link, {"action": "cancel"})
    deliver_due(now=NOW)
    subjects = sorted(message.subject for message in mailoutbox)
    reference = Booking.objects.get().reference
    assert subjects == [f"Booking {reference} cancelled by the client", f"Your consultation is cancelled ({reference})"]


# What one booking request costs the database: every read and write it needs, never one per existing
# booking or per question. The visitor has loaded the form, so the booking set-up (the practice's
# settings, the types with their questions, opening hours, time off, one-off openings) comes from the
# cache. Reads: the practitioner's busy times, and whether an active booking overlaps the time (one
# indexed look, so that a taken time never costs a failed insert). Writes: the booking with its
# reference-index row, the answers, both emails in one statement, the audit entry, and the cap's count
# (after its locks, on PostgreSQL); the transaction's savepoint and its release (the test's own
# transaction is around it). The form is checked against the slot engine once, by the service, not a
# second time by the view. Before the set-up was cached, this was 19 on PostgreSQL.
BOOKING_REQUEST_QUERIES = {"sqlite": 10, "postgresql": 11}


@pytest.mark.django_db
@pytest.mark.parametrize("existing", [1, 12])
def test_a_booking_request_makes_a_fixed_number_of_queries(client, consultation, existing, django_assert_num_queries):
    from django.db import connection

    from wagtail.models import ModelLogEntry, ReferenceIndex

    from intake.models import IntakeQuestion, QuestionKind
    from tests.factories.bookings import book

    for index in range(existing):  # as many questions as bookings already made, on the same day and others
        IntakeQuestion.objects.create(
            consultation_type=consultation, sort_order=index, kind=QuestionKind.SHORT_ANSWER, text=f"Question {index}"
        )
        book(consultation, now=NOW, days=3 + index // 3, hour=9 + 2 * (index % 3), email=f"client{index}@example.com")
    answers = {f"intake-q{question.pk}": "An answer" for question in IntakeQuestion.objects.all()}
    assert client.get(details_url(consultation)).status_code == 200  # the visitor loads the form first
    with django_assert_num_queries(BOOKING_REQUEST_QUERIES[connection.vendor]):
        response = post(client, consultation, src="", **answers)
    assert response.status_code == 302
    booking = Booking.objects.get(starts_at=SLOT)
    assert booking.intake_answers.count() == existing
    assert sorted(booking.notifications.values_list("kind", flat=True)) == ["practice_new_request", "request_received"]
    assert ModelLogEntry.objects.filter(object_id=str(booking.pk), action="bookings.request").count() == 1
    assert ReferenceIndex.get_references_to(consultation).filter(object_id=str(booking.pk)).exists()
