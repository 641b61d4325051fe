"""Booking set-up is the practice admins': page editors cannot list or choose it, except consultation types."""

import datetime as dt
from urllib.parse import quote

from django.urls import get_resolver, reverse

import pytest

from bookings.models import AvailabilityWindow, TimeOff
from intake.models import IntakeQuestion, QuestionKind
from tests.factories.calendars import BusyCalendarFactory, ExtraOpeningFactory

# Each set-up snippet that only practice admins may see, with the text that would give a row away.
PRIVATE_SETUP = {
    "bookings_timeoff": "Winter holiday",
    "bookings_availabilitywindow": "Tuesday 08:15",
    "calendars_busycalendar": "Personal (Google)",
    "calendars_extraopening": "Saturday clinic",
    "intake_intakequestion": "Which medicines do you take?",
}
# The views that list rows or hand one over: refused outright to an editor, open to a practice admin.
LISTING_VIEWS = {"list", "list_results", "choose", "choose_results", "chosen", "chosen_multiple"}
NAMESPACES = [
    f"{prefix}_{model}" for model in PRIVATE_SETUP for prefix in ("wagtailsnippets", "wagtailsnippetchoosers")
]


@pytest.fixture
def setup_rows(consultation):
    """One row of each private set-up snippet: {namespace model part: pk}."""
    return {
        "bookings_timeoff": TimeOff.objects.create(
            title="Winter holiday",
            starts_at=dt.datetime(2026, 12, 20, tzinfo=dt.UTC),
            ends_at=dt.datetime(2027, 1, 4, tzinfo=dt.UTC),
        ).pk,
        "bookings_availabilitywindow": AvailabilityWindow.objects.create(
            weekday=1, start_time=dt.time(8, 15), end_time=dt.time(8, 45)
        ).pk,
        "calendars_busycalendar": BusyCalendarFactory(name="Personal (Google)").pk,
        "calendars_extraopening": ExtraOpeningFactory(note="Saturday clinic").pk,
        "intake_intakequestion": IntakeQuestion.objects.create(
            consultation_type=consultation, kind=QuestionKind.SHORT_ANSWER, text="Which medicines do you take?"
        ).pk,
    }


def setup_urls(rows):
    """Every URL the admin registers for the private set-up snippets and their choosers: (namespace, name, url)."""
    namespaces = get_resolver().namespace_dict
    urls = []
    for namespace in NAMESPACES:
        model = namespace.split("_", 1)[1]
        _, resolver = namespaces[namespace]
        for pattern in resolver.url_patterns:
            kwargs = {name: quote(str(rows[model])) for name in pattern.pattern.converters}
            urls.append((namespace, pattern.name, reverse(f"{namespace}:{pattern.name}", kwargs=kwargs)))
    return urls


def test_every_private_setup_snippet_and_its_chooser_is_walked():
    namespaces = get_resolver().namespace_dict
    assert set(NAMESPACES) <= set(namespaces)


@pytest.mark.django_db
def test_a_page_editor_can_neither_list_nor_choose_the_practice_admins_setup(client, page_editor, setup_rows):
    client.force_login(page_editor)
    urls = setup_urls(setup_rows)
    assert {name for _, name, _ in urls} >= LISTING_VIEWS
    for namespace, name, url in urls:
        model = namespace.split("_", 1)[1]
        response = client.get(url + (f"?id={setup_rows[model]}" if name == "chosen_multiple" else ""))
        assert response.status_code in (302, 403, 404, 405) or (
            response.status_code == 200 and PRIVATE_SETUP[model] not in response.content.decode()
        ), (url, response.status_code)
        if name in LISTING_VIEWS:
            assert response.status_code in (302, 403), (url, response.status_code)


@pytest.mark.django_db
def test_the_time_off_chooser_no_longer_shows_the_holiday_to_an_editor(client, page_editor, setup_rows):
    client.force_login(page_editor)
    response = client.get("/admin/snippets/choose/bookings/timeoff/")
    assert response.status_code in (302, 403)
    assert "Winter holiday" not in response.content.decode()


@pytest.mark.django_db
def test_a_page_editor_still_chooses_consultation_types(client, page_editor, consultation):
    client.force_login(page_editor)
    for name in ("choose", "choose_results"):
        response = client.get(reverse(f"wagtailsnippetchoosers_bookings_consultationtype:{name}"))
        assert response.status_code == 200
        assert consultation.name in response.content.decode()
    chosen = client.get(reverse("wagtailsnippetchoosers_bookings_consultationtype:chosen", args=[consultation.pk]))
    assert chosen.status_code == 200 and consultation.name in chosen.content.decode()


@pytest.mark.django_db
def test_a_practice_admin_still_reaches_every_setup_listing_and_chooser(practice_client, setup_rows):
    for namespace, name, url in setup_urls(setup_rows):
        model = namespace.split("_", 1)[1]
        response = practice_client.get(url + (f"?id={setup_rows[model]}" if name == "chosen_multiple" else ""))
        assert response.status_code not in (302, 403), (url, response.status_code)
        if name in LISTING_VIEWS | {"edit"}:
            assert response.status_code == 200, (url, response.status_code)
            assert PRIVATE_SETUP[model] in response.content.decode(), url
