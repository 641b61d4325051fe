"""Who may see the workspace: only practice admins. Every workspace URL is found by walking the URLconf."""

import datetime as dt
import re
import uuid

from django.urls import URLPattern, URLResolver, get_resolver, reverse

import pytest

from bookings import services
from bookings.models import Booking, BookingStatus, Enquiry, EnquiryStatus
from tests.factories.bookings import ConsultationTypeFactory, book, open_every_day

NOW = dt.datetime.now(dt.UTC).replace(microsecond=0)
REASON = "Joint pain in the mornings"
MESSAGE = "My thyroid results worry me"
WORKSPACE_NAMESPACES = {"bookings_admin", "enquiries"}


def workspace_patterns(resolver=None, namespace=None):
    """(namespace, name, converters) of every URL pattern registered under the workspace's namespaces."""
    resolver = resolver or get_resolver()
    found = []
    for pattern in resolver.url_patterns:
        if isinstance(pattern, URLResolver):
            found += workspace_patterns(pattern, pattern.namespace or namespace)
        elif isinstance(pattern, URLPattern) and namespace in WORKSPACE_NAMESPACES:
            found.append((namespace, pattern.name, set(re.findall(r"<(?:\w+:)?(\w+)>", str(pattern.pattern)))))
    return found


@pytest.fixture
def records(practice_settings):
    open_every_day()
    booking = book(ConsultationTypeFactory(), now=NOW, reason=REASON)
    enquiry = services.enquiry_submit(
        request=services.EnquiryRequest(
            name="Jo", email="jo@example.com", message=MESSAGE, topic="general", idempotency_key=uuid.uuid4()
        ),
        now=NOW,
    )
    return {"bookings_admin": booking, "enquiries": enquiry}


def workspace_urls(records):
    urls = []
    for namespace, name, arguments in workspace_patterns():
        record = records[namespace]
        if "action" in arguments:
            table = services.BOOKING_ACTIONS if namespace == "bookings_admin" else services.ENQUIRY_ACTIONS
            urls += [reverse(f"{namespace}:{name}", kwargs={"pk": record.pk, "action": action}) for action in table]
        elif "pk" in arguments:
            urls.append(reverse(f"{namespace}:{name}", kwargs={"pk": record.pk}))
        elif name.startswith("people"):
            urls.append(reverse(f"{namespace}:{name}") + f"?email={record.email}&download=json")
        else:
            urls.append(reverse(f"{namespace}:{name}"))
    urls += [reverse("bookings_admin:index") + "?export=csv", reverse("enquiries:index") + "?export=xlsx"]
    return urls


@pytest.mark.django_db
def test_the_walk_finds_every_part_of_the_workspace(records):
    names = {(namespace, name) for namespace, name, _ in workspace_patterns()}
    for expected in ["index", "inspect", "history", "action"]:
        assert ("bookings_admin", expected) in names
        assert ("enquiries", expected) in names


@pytest.mark.django_db
def test_a_page_editor_is_refused_everywhere_and_sees_no_health_detail(client, page_editor, records):
    client.force_login(page_editor)
    urls = workspace_urls(records)
    assert len(urls) > 15
    for url in urls:
        for method in (client.get, client.post):
            response = method(url)
            assert response.status_code in (302, 403), (method.__name__, url, response.status_code)
            body = b"".join(response.streaming_content) if response.streaming else response.content
            assert REASON.encode() not in body and MESSAGE.encode() not in body, url
    assert Booking.objects.get().status == BookingStatus.PENDING
    assert Enquiry.objects.get().status == EnquiryStatus.NEW
    assert not records["bookings_admin"].notes.exists()

    # Nor anywhere else in the admin they can reach: dashboard, menu, search, history reports.
    for url in ["/admin/", "/admin/search/?q=Joint", "/admin/reports/site-history/", "/admin/pages/search/?q=thyroid"]:
        response = client.get(url)
        body = response.content.decode()
        assert REASON not in body and MESSAGE not in body, url
        assert records["bookings_admin"].reference not in body, url
    dashboard = client.get("/admin/").content.decode()
    assert "/admin/bookings/" not in dashboard and "/admin/enquiries/" not in dashboard


@pytest.mark.django_db
def test_visitors_who_are_not_signed_in_are_sent_to_the_login(client, records):
    for url in workspace_urls(records):
        response = client.get(url)
        assert response.status_code == 302 and "/admin/login/" in response["Location"], url


@pytest.mark.django_db
def test_a_practice_admin_reaches_every_page_of_the_workspace(client, verified_login, practice_admin, records):
    verified_login(practice_admin)
    for namespace, name, arguments in workspace_patterns():
        if "action" in arguments or name.endswith("_results"):
            continue
        kwargs = {"pk": records[namespace].pk} if "pk" in arguments else {}
        query = {"email": records[namespace].email} if name.startswith("people") else {}
        assert client.get(reverse(f"{namespace}:{name}", kwargs=kwargs), query).status_code == 200, (namespace, name)
