"""Enquiries in the workspace: listing, detail, reply through the outbox, notes, close and reopen, export."""

import csv
import datetime as dt
import io
import uuid

from django.core import mail

from wagtail.models import ModelLogEntry

import openpyxl
import pytest
import time_machine

from bookings import services
from bookings.models import Enquiry, EnquiryStatus, Note, Notification, NotificationKind
from bookings.notifications import deliver_due
from tests.workspace import act

NOW = dt.datetime(2026, 11, 20, 9, 30, tzinfo=dt.UTC)


def _enquiry(**overrides):
    values = {
        "name": "Jo Sender",
        "email": "jo@example.com",
        "message": "I have coeliac disease and wonder whether you can help.",
        "topic": "general",
        "consent_privacy": True,
        "source_page": "/articles/leaky-gut/",
        "idempotency_key": uuid.uuid4(),
    }
    values.update(overrides)
    return services.enquiry_submit(request=services.EnquiryRequest(**values), now=NOW)


@pytest.fixture(autouse=True)
def _clock():
    """The admin's views read the clock: hold it at NOW, when the enquiries arrive."""
    with time_machine.travel(NOW, tick=False):
        yield


@pytest.fixture
def enquiry(practice_settings):
    return _enquiry()


@pytest.mark.django_db
def test_listing_and_detail(practice_client, enquiry):
    listing = practice_client.get("/admin/enquiries/").content.decode()
    assert enquiry.reference in listing and "Jo Sender" in listing
    assert "coeliac" not in listing
    assert practice_client.get("/admin/enquiries/", {"status": "closed"}).content.decode().count(enquiry.reference) == 0
    detail = practice_client.get(f"/admin/enquiries/inspect/{enquiry.pk}/").content.decode()
    assert "I have coeliac disease" in detail
    assert "/articles/leaky-gut/" in detail
    assert "Enquiry sent by the visitor" in detail


@pytest.mark.django_db
def test_reply_is_emailed_through_the_outbox_and_kept(practice_client, practice_admin, enquiry):
    response = act(practice_client, enquiry, "reply", text="Yes, I often work with coeliac clients.\nBest, Naomi")
    assert "will be emailed" in response.content.decode()
    enquiry.refresh_from_db()
    assert enquiry.status == EnquiryStatus.ANSWERED
    reply = Notification.objects.get(enquiry=enquiry, kind=NotificationKind.ENQUIRY_REPLY)
    assert reply.author == practice_admin
    deliver_due(now=NOW)
    to_sender = [message for message in mail.outbox if message.to == ["jo@example.com"]]
    assert any("I often work with coeliac clients." in message.body for message in to_sender)
    # The sender's own words and health details never leave in an email.
    assert all("I have coeliac disease" not in message.body for message in mail.outbox)
    detail = practice_client.get(f"/admin/enquiries/inspect/{enquiry.pk}/").content.decode()
    assert "I often work with coeliac clients." in detail
    assert "Reply sent" in detail and "Sam Assistant" in detail
    assert ModelLogEntry.objects.filter(action="bookings.enquiry_reply", user=practice_admin).exists()


@pytest.mark.django_db
def test_empty_reply_is_refused_with_a_message(practice_client, enquiry):
    response = act(practice_client, enquiry, "reply", text="   ")
    assert response.status_code == 400
    assert "This field is required" in response.content.decode()
    assert not Notification.objects.filter(enquiry=enquiry, kind=NotificationKind.ENQUIRY_REPLY).exists()


@pytest.mark.django_db
def test_close_reopen_and_notes(practice_client, enquiry):
    act(practice_client, enquiry, "note", text="Called back; left a voicemail.")
    assert Note.objects.get(enquiry=enquiry).text == "Called back; left a voicemail."
    act(practice_client, enquiry, "close")
    enquiry.refresh_from_db()
    assert enquiry.status == EnquiryStatus.CLOSED
    closed_page = practice_client.get(f"/admin/enquiries/inspect/{enquiry.pk}/").content.decode()
    assert ">Reopen</button>" in closed_page and ">Reply</a>" not in closed_page
    refused = act(practice_client, enquiry, "reply", text="Hello")
    assert "not possible for a closed enquiry" in refused.content.decode()
    act(practice_client, enquiry, "reopen")
    enquiry.refresh_from_db()
    assert enquiry.status == EnquiryStatus.NEW


@pytest.mark.django_db
def test_a_formula_in_a_name_exports_as_text(practice_client, practice_settings):
    _enquiry(name='=HYPERLINK("http://x","y")', email="formula@example.com")
    _enquiry(name="@SUM(A1:A2)", email="at@example.com")
    response = practice_client.get("/admin/enquiries/", {"export": "csv"})
    rows = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode())))
    sender = rows[0].index("Sender")
    names = sorted(row[sender] for row in rows[1:])
    assert names == ['\'=HYPERLINK("http://x","y")', "'@SUM(A1:A2)"]

    response = practice_client.get("/admin/enquiries/", {"export": "xlsx"})
    sheet = openpyxl.load_workbook(io.BytesIO(b"".join(response.streaming_content))).active
    header = [cell.value for cell in sheet[1]]
    cells = [row[header.index("Sender")] for row in sheet.iter_rows(min_row=2)]
    assert sorted(cell.value for cell in cells) == ['\'=HYPERLINK("http://x","y")', "'@SUM(A1:A2)"]
    assert all(cell.data_type == "s" for cell in cells)
    assert "coeliac" not in str([[cell.value for cell in row] for row in sheet.iter_rows()])


@pytest.mark.django_db
def test_enquiry_status_and_topic_filters(practice_client, practice_settings):
    first = _enquiry(topic="booking", email="one@example.com")
    second = _enquiry(topic="other", email="two@example.com")
    page = practice_client.get("/admin/enquiries/", {"topic": "booking"}).content.decode()
    assert first.reference in page and second.reference not in page
    assert Enquiry.objects.count() == 2


@pytest.mark.django_db
def test_text_emails_read_as_written_and_html_emails_stay_escaped(practice_client, practice_settings):
    enquiry = _enquiry(name="Tom O'Brien & Sons")
    act(practice_client, enquiry, "reply", text="I'm glad you asked: <b>yes</b> & welcome.")
    deliver_due(now=NOW)
    reply = next(message for message in mail.outbox if message.subject.startswith("Re:"))
    assert "Dear Tom O'Brien & Sons," in reply.body
    assert "I'm glad you asked: <b>yes</b> & welcome." in reply.body
    html = reply.alternatives[0][0]
    assert "&lt;b&gt;yes&lt;/b&gt; &amp; welcome" in html and "<b>yes</b>" not in html
