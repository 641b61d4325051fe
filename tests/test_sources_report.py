"""The report of where visitors came from: requests, enquiries and confirmations per page of the site."""

import datetime as dt
import html as html_lib
import re
import uuid

import pytest
import time_machine

from bookings import services
from bookings.models import Booking, Enquiry
from bookings.selectors import SourceCount, sources_since
from tests.factories.bookings import book

NOW = dt.datetime(2025, 6, 10, 9, 0, tzinfo=dt.UTC)
LEAKY_GUT = "/articles/leaky-gut/"
SERVICES = "/services/"
URL = "/admin/bookings/sources/"


@pytest.fixture(autouse=True)
def _clock():
    """The report counts back from the clock: hold it at NOW."""
    with time_machine.travel(NOW, tick=False):
        yield


def _received(model, obj, days_ago):
    model.objects.filter(pk=obj.pk).update(created_at=NOW - dt.timedelta(days=days_ago))


@pytest.fixture
def visits(consultation):
    """
    Within 30 days: leaky gut 2 requests (1 confirmed) and 1 enquiry; no source 1 request (confirmed);
    services 1 enquiry. Between 30 and 90 days: leaky gut 1 request; services 1 request. Older: 1 enquiry.
    """
    slot = iter(range(1, 50))

    def request(source, days_ago, confirm=False):
        day = next(slot)
        booking = book(consultation, now=NOW, days=day, source_page=source, email=f"client{day}@example.com")
        if confirm:
            services.booking_confirm(booking=booking, now=NOW)
        _received(Booking, booking, days_ago)

    def enquiry(source, days_ago):
        sent = services.enquiry_submit(
            request=services.EnquiryRequest(
                name="Jo Sender",
                email="jo@example.com",
                message="A question",
                topic="general",
                consent_privacy=True,
                source_page=source,
                idempotency_key=uuid.uuid4(),
            ),
            now=NOW,
        )
        _received(Enquiry, sent, days_ago)

    request(LEAKY_GUT, 5, confirm=True)
    request(LEAKY_GUT, 29)
    enquiry(LEAKY_GUT, 10)
    request("", 1, confirm=True)
    enquiry(SERVICES, 2)
    request(LEAKY_GUT, 60)
    request(SERVICES, 45)
    enquiry(LEAKY_GUT, 100)


def _text(cell):
    return " ".join(html_lib.unescape(re.sub(r"<[^>]+>", " ", cell)).split())


def _rows(page):
    """The report's table, one tuple of cell texts per row."""
    body = re.search(r"<tbody>(.*?)</tbody>", page, re.S).group(1)
    return [
        tuple(_text(cell) for cell in re.findall(r"<td[^>]*>(.*?)</td>", row, re.S))
        for row in re.findall(r"<tr[^>]*>(.*?)</tr>", body, re.S)
    ]


@pytest.mark.django_db
def test_last_30_days_per_source_busiest_first(practice_client, visits):
    response = practice_client.get(URL)
    assert response.status_code == 200
    page = response.content.decode()
    assert _rows(page) == [
        (LEAKY_GUT, "2", "1", "1"),
        ("Unknown or direct", "1", "0", "1"),
        (SERVICES, "0", "1", "0"),
    ]
    assert f'<a href="{LEAKY_GUT}">' in page
    assert f'<a href="{SERVICES}">' in page
    assert "Last 30 days" in page
    assert f'href="{URL}?days=90"' in page


@pytest.mark.django_db
def test_last_90_days_counts_the_older_visits_too(practice_client, visits):
    page = practice_client.get(URL, {"days": "90"}).content.decode()
    assert _rows(page) == [
        (LEAKY_GUT, "3", "1", "1"),
        (SERVICES, "1", "1", "0"),
        ("Unknown or direct", "1", "0", "1"),
    ]
    assert f'href="{URL}?days=30"' in page


@pytest.mark.django_db
@pytest.mark.parametrize("days", ["7", "365", "ninety", ""])
def test_any_other_period_means_30_days(practice_client, visits, days):
    page = practice_client.get(URL, {"days": days}).content.decode()
    assert _rows(page)[0] == (LEAKY_GUT, "2", "1", "1")


@pytest.mark.django_db
def test_no_visits_says_so(practice_client, practice_settings):
    page = practice_client.get(URL).content.decode()
    assert "No booking requests or enquiries in the last 30 days." in page


@pytest.mark.django_db
def test_counts_are_made_in_the_database_in_two_queries(visits, django_assert_num_queries):
    with django_assert_num_queries(2):
        found = sources_since(since=NOW - dt.timedelta(days=30))
    assert found[0] == SourceCount(LEAKY_GUT, requests=2, enquiries=1, confirmed=1)


@pytest.mark.django_db
def test_report_is_under_reports_for_practice_admins_only(
    client, verified_login, practice_admin, page_editor, practice_settings
):
    verified_login(practice_admin)
    assert "Where visitors came from" in client.get("/admin/").content.decode()
    client.force_login(page_editor)
    assert "Where visitors came from" not in client.get("/admin/").content.decode()
    response = client.get(URL)
    assert response.status_code in (302, 403)
    if response.status_code == 302:
        assert not response["Location"].startswith(URL)
