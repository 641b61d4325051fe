"""The contact page through HTTP, as a visitor's browser (with or without JavaScript) uses it."""

import datetime as dt
import re
import sys
import uuid

from django.core.signals import got_request_exception
from django.test import override_settings
from django.urls import reverse
from django.views.debug import ExceptionReporter

from wagtail.models import Page, Site
from wagtail.test.utils import WagtailPageTestCase
from wagtail.test.utils.form_data import nested_form_data, querydict_from_html

import pytest
import time_machine
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bookings import services
from bookings.forms import CONTROL_CHARACTERS, EnquiryForm, form_stamp
from bookings.models import Enquiry, EnquiryTopic, Notification, NotificationKind
from bookings.notifications import deliver_due
from practice.models import ContactPage, HomePage
from tests.conftest import SecondFactorLoginMixin
from tests.factories.articles import ArticlePageFactory
from tests.factories.practice import ContactPageFactory, HomePageFactory, StandardPageFactory

NOW = dt.datetime(2026, 6, 1, 9, 0, tzinfo=dt.UTC)
MESSAGE = "My joints ache every morning and my gut is unsettled since the new medication."
URL = "/contact/"


@pytest.fixture
def clock():
    with time_machine.travel(NOW, tick=False) as traveller:
        yield traveller


@pytest.fixture
def contact_page(home_page, practice_settings, clock):
    return ContactPageFactory(
        parent=home_page,
        introduction="Ask me anything about working together.",
        thank_you="Thank you. Naomi replies within two working days.",
    )


def form_data(**overrides):
    data = {
        "name": "Alex Visitor",
        "email": "alex@example.com",
        "phone": "",
        "topic": "general",
        "message": MESSAGE,
        "consent_privacy": "on",
        "website": "",
        "started": form_stamp(NOW - dt.timedelta(seconds=10)),
        "idempotency_key": str(uuid.uuid4()),
    }
    data.update(overrides)
    return {key: value for key, value in data.items() if value is not None}


def post(client, **overrides):
    return client.post(URL, form_data(**overrides))


@pytest.mark.django_db
def test_the_page_shows_an_accessible_form(client, contact_page):
    response = client.get(URL)
    assert response.status_code == 200
    page = response.content.decode()
    assert "Ask me anything about working together." in page
    assert 'name="csrfmiddlewaretoken"' in page
    assert '<label for="id_name">Your name</label>' in page
    assert 'autocomplete="name"' in page and 'autocomplete="email"' in page and 'autocomplete="tel"' in page
    assert 'aria-describedby="id_message-help"' in page
    assert "Only the practitioner and her assistant read it, and it is never emailed." in page
    assert "<legend>What is your message about?</legend>" in page
    for label in ("A general question", "A question about booking", "Something else"):
        assert f">{label}</label>" in page
    assert re.search(r'name="started" value="[^"]+"', page)
    assert re.search(r'name="idempotency_key" value="[0-9a-f-]{36}"', page)
    assert "<script>" not in page and "style=" not in page
    assert "Thank you. Naomi replies" not in page


@pytest.mark.django_db
def test_the_consent_links_to_the_privacy_policy_when_there_is_one(client, contact_page, practice_settings):
    assert "Read the privacy policy" not in client.get(URL).content.decode()
    practice_settings.privacy_page = StandardPageFactory(parent=contact_page.get_parent(), slug="privacy")
    practice_settings.save()
    assert '<a href="/privacy/">Read the privacy policy</a>' in client.get(URL).content.decode()


@pytest.mark.django_db
def test_a_message_is_stored_acknowledged_and_announced_without_its_text(
    client, contact_page, mailoutbox, article_index
):
    ArticlePageFactory(parent=article_index, slug="leaky-gut")  # the page the visitor came from
    response = client.post(URL + "?src=/articles/leaky-gut/", form_data(phone="+44 20 7946 0123", topic="booking"))

    assert response.status_code == 302
    assert response["Location"] == "/contact/?sent=1"
    enquiry = Enquiry.objects.get()
    assert (enquiry.name, enquiry.email, enquiry.phone, enquiry.topic, enquiry.message) == (
        "Alex Visitor",
        "alex@example.com",
        "+44 20 7946 0123",
        EnquiryTopic.BOOKING,
        MESSAGE,
    )
    assert enquiry.source_page == "/articles/leaky-gut/"
    assert enquiry.consent_privacy and enquiry.consent_given_at == NOW and enquiry.consent_text_version
    assert sorted(Notification.objects.filter(enquiry=enquiry).values_list("kind", flat=True)) == sorted(
        [NotificationKind.ENQUIRY_RECEIVED, NotificationKind.PRACTICE_NEW_ENQUIRY]
    )

    thanks = client.get(response["Location"])
    page = thanks.content.decode()
    assert "Thank you. Naomi replies within two working days." in page
    assert 'name="message"' not in page
    assert '<meta name="robots" content="noindex">' in page

    assert mailoutbox == []  # nothing is sent during the request: the outbox does it
    assert deliver_due(now=NOW)["sent"] == 2
    by_recipient = {message.to[0]: message for message in mailoutbox}
    assert set(by_recipient) == {"alex@example.com", "hello@example.com"}
    assert enquiry.reference in by_recipient["alex@example.com"].subject
    assert by_recipient["hello@example.com"].subject == f"New enquiry {enquiry.reference}"
    for message in mailoutbox:
        parts = [message.subject, message.body, *(content for content, _ in message.alternatives)]
        assert not any("joints ache" in part for part in parts)


@pytest.mark.django_db
def test_the_source_page_comes_from_a_same_site_referer_carried_through_the_form(client, contact_page, article_index):
    ArticlePageFactory(parent=article_index, slug="gut")
    page = client.get(URL, HTTP_REFERER="http://testserver/articles/gut/").content.decode()
    assert '<input type="hidden" name="src" value="/articles/gut/">' in page
    client.post(URL, form_data(src="/articles/gut/"), HTTP_REFERER="http://testserver/contact/")
    assert Enquiry.objects.get().source_page == "/articles/gut/"


@pytest.mark.django_db
@pytest.mark.parametrize(
    "referer", ["http://testserver/contact/", "https://elsewhere.example/page/", "http://[", "/relative/"]
)
def test_the_page_itself_other_sites_and_malformed_referers_are_no_source(client, contact_page, referer):
    assert 'name="src"' not in client.get(URL, HTTP_REFERER=referer).content.decode()


@pytest.mark.django_db
@pytest.mark.parametrize("src", ["//evil.example/", "/\\evil.example", "https://evil.example/", "/a\x00b", "/a\nb"])
def test_a_tampered_source_is_dropped_not_stored(client, contact_page, src):
    assert post(client, src=src).status_code == 302
    assert Enquiry.objects.get().source_page == ""


@pytest.mark.django_db
def test_sending_the_form_twice_stores_one_enquiry(client, contact_page):
    data = form_data()
    assert client.post(URL, data).status_code == 302
    assert client.post(URL, data).status_code == 302
    assert Enquiry.objects.count() == 1
    assert Notification.objects.count() == 2


@pytest.mark.django_db
def test_a_likely_email_typo_gets_a_hint_and_can_be_kept(client, contact_page):
    data = form_data(email="alex@gmial.com")
    response = client.post(URL, data)
    page = response.content.decode()
    assert response.status_code == 200
    assert "Did you mean alex@gmail.com?" in page
    assert not Enquiry.objects.exists()
    checked = re.search(r'name="email_checked" value="([^"]*)"', page).group(1)
    assert checked == "alex@gmial.com"
    assert client.post(URL, {**data, "email_checked": checked}).status_code == 302
    assert Enquiry.objects.get().email == "alex@gmial.com"


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"consent_privacy": None}, "Please agree to the privacy policy"),
        ({"message": "x" * 5000}, "Ensure this value has at most 3000 characters"),
        ({"message": ""}, "This field is required"),
        ({"message": "Hello\x1b[31m"}, "cannot be used"),
        ({"name": ""}, "This field is required"),
        ({"name": "Alex Visitor\r\nBcc: victim@example.net"}, "Your name cannot contain line breaks"),
        ({"name": "Alex\nVisitor"}, "Your name cannot contain line breaks"),
        ({"name": "Alex\tVisitor"}, "Your name cannot contain line breaks"),
        ({"name": "Alex\x07Visitor"}, "Your name cannot contain line breaks"),
        ({"name": "Alex\u2028Visitor"}, "Your name cannot contain line breaks"),
        ({"name": "Alex\x00Visitor"}, "Null characters are not allowed"),
        ({"phone": "020 7946\r\n0123"}, "The phone number cannot contain line breaks"),
        ({"phone": "call me maybe"}, "Enter a phone number"),
        ({"email": "a@example.com\r\nBcc: x@example.net"}, "Enter a valid email address"),
        ({"email": '"alex\x07"@example.com'}, "The email address cannot contain line breaks"),
        ({"email": "not-an-email"}, "Enter a valid email address"),
        ({"topic": "medical-records"}, "Choose one of the topics."),
        ({"topic": None}, "This field is required"),
        ({"idempotency_key": "not-a-key"}, "Enter a valid UUID"),
    ],
)
def test_bad_or_tampered_input_gets_a_clear_message_and_stores_nothing(client, contact_page, overrides, message):
    response = post(client, **overrides)
    assert response.status_code == 200
    page = response.content.decode()
    assert message in page
    assert 'role="alert"' in page
    assert not Enquiry.objects.exists()
    assert not Notification.objects.exists()


@pytest.mark.django_db
def test_errors_are_summarised_with_links_and_tied_to_their_fields(client, contact_page):
    page = post(client, name="", topic="nonsense", consent_privacy=None).content.decode()
    assert "Please check 3 answers" in page
    assert '<a href="#id_name">This field is required.</a>' in page
    assert '<a href="#id_topic_0">Choose one of the topics.</a>' in page
    assert '<a href="#id_consent_privacy">' in page
    assert 'aria-describedby="id_name-error"' in page
    assert 'aria-describedby="id_topic-error"' in page
    assert MESSAGE in page  # what was written is kept


@pytest.mark.django_db
@pytest.mark.parametrize(
    "overrides",
    [
        {"website": "http://spam.example"},
        {"started": form_stamp(NOW - dt.timedelta(seconds=1))},
        {"started": "forged"},
        {"started": form_stamp(NOW - dt.timedelta(minutes=1))[:-2] + "xx"},
        {"started": None},
    ],
    ids=["honeypot", "too-fast", "forged", "tampered", "missing"],
)
def test_bots_get_the_ordinary_answer_and_nothing_is_stored_or_sent(client, contact_page, overrides, mailoutbox):
    response = post(client, **overrides)
    assert response.status_code == 302
    assert response["Location"] == "/contact/?sent=1"
    assert not Enquiry.objects.exists()
    assert not Notification.objects.exists()
    deliver_due(now=NOW)
    assert mailoutbox == []


@pytest.mark.django_db
def test_a_form_left_open_overnight_is_still_accepted(client, contact_page):
    assert post(client, started=form_stamp(NOW - dt.timedelta(days=2))).status_code == 302
    assert Enquiry.objects.count() == 1


@pytest.mark.django_db
@override_settings(ENQUIRY_RATE_LIMIT=2)
def test_too_many_messages_from_one_address_are_refused(client, contact_page):
    statuses = [post(client).status_code for _ in range(4)]
    assert statuses == [302, 302, 429, 429]
    assert Enquiry.objects.count() == 2
    refused = post(client)
    assert "several messages from your connection" in refused.content.decode()
    assert client.post(URL, form_data(), REMOTE_ADDR="10.9.9.9").status_code == 302
    assert Enquiry.objects.count() == 3


@pytest.mark.django_db
@override_settings(ENQUIRY_RATE_LIMIT=1, FAILED_SUBMISSION_RATE_LIMIT=2)
def test_failed_attempts_have_a_rate_limit_of_their_own(client, contact_page):
    assert post(client, consent_privacy=None).status_code == 200
    assert post(client, consent_privacy=None).status_code == 200
    assert post(client).status_code == 429
    assert not Enquiry.objects.exists()


@pytest.mark.django_db
def test_the_page_is_never_kept_in_a_shared_cache(client, contact_page):
    for response in (client.get(URL), post(client, consent_privacy=None), client.get(URL + "?sent=1")):
        cache_control = response["Cache-Control"]
        assert "private" in cache_control and "no-cache" in cache_control and "no-store" in cache_control
        assert "public" not in cache_control and "s-maxage" not in cache_control


@pytest.mark.django_db
def test_other_methods_are_not_allowed(client, contact_page):
    assert client.put(URL, data="x").status_code == 405
    assert client.delete(URL).status_code == 405
    assert not Enquiry.objects.exists()


@pytest.mark.django_db
def test_an_error_report_never_shows_what_the_visitor_wrote(client, contact_page, monkeypatch):
    reports = []

    def report(sender, request, **kwargs):
        reports.append(ExceptionReporter(request, *sys.exc_info()).get_traceback_text())

    def broken(*args, **kwargs):
        raise RuntimeError("the audit log is down")

    monkeypatch.setattr(services, "record", broken)
    got_request_exception.connect(report)
    client.raise_request_exception = False
    try:
        response = post(client, email="private.person@example.com", phone="020 7946 0999")
    finally:
        got_request_exception.disconnect(report)
    assert response.status_code == 500
    assert len(reports) == 1
    text = reports[0]
    assert "the audit log is down" in text
    assert re.search(r"message = '\*+'", text), "the posted message is shown masked"
    for secret in ("joints ache", "private.person@example.com", "7946 0999"):
        assert secret not in text
    assert not Enquiry.objects.exists()


# Property test: each field is drawn from values known to be valid or known to be invalid, and the
# message is any text at all, so whether the form should be accepted is known without asking the form.
VALID = {
    "name": ["Alex Visitor", "Zoë O'Brien-Łukasiewicz", "  Sam  ", "李小龙"],
    "email": ["alex@example.com", "sam.o+notes@example.org", "  pat@example.co.uk "],
    "phone": ["", "+44 20 7946 0123", "020 7946 0123", "(020) 7946-0123"],
    "topic": [choice.value for choice in EnquiryTopic],
    "consent_privacy": ["on"],
}
INVALID = {
    "name": ["", "   ", "x" * 121, "Alex\r\nBcc: victim@example.net", "Alex\tVisitor", "A\x00B", "A\x85B", "A\u2029B"],
    "email": [
        "",
        "not-an-email",
        "a@example.com\r\nBcc: x@example.net",
        '"a\x07b"@example.com',
        "alex@gmial.com",  # a likely typo, not yet confirmed
        "a@" + "b" * 260 + ".com",
    ],
    "phone": ["call me", "123", "0207\n9460123", "+44 20 7946 0123 ext. 5", "9" * 30],
    "topic": ["", "medical", "GENERAL", "general\n"],
    "consent_privacy": [None],
}


def message_is_valid(text: str) -> bool:
    stripped = text.strip()
    return bool(stripped) and len(stripped) <= 3000 and not CONTROL_CHARACTERS.search(stripped)


@st.composite
def submissions(draw):
    data, valid = {}, True
    for field in VALID:
        good = draw(st.integers(0, 5)) > 0  # mostly good values, so that whole valid forms are common
        data[field] = draw(st.sampled_from(VALID[field] if good else INVALID[field]))
        valid = valid and good
    data["message"] = draw(st.text(max_size=40) | st.text(min_size=2990, max_size=3010, alphabet="ab \n"))
    data["src"] = draw(st.text(max_size=20) | st.just("/articles/gut/"))
    return data, valid and message_is_valid(data["message"])


@pytest.mark.django_db
@override_settings(ENQUIRY_RATE_LIMIT=100000, FAILED_SUBMISSION_RATE_LIMIT=100000)
@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(submission=submissions())
def test_generated_submissions_are_stored_exactly_when_valid(client, contact_page, submission):
    fields, valid = submission
    before = Enquiry.objects.count()
    response = client.post(URL, form_data(**fields))
    stored = Enquiry.objects.count() - before
    assert response.status_code == (302 if valid else 200), fields
    assert stored == (1 if valid else 0), fields


@pytest.mark.django_db
@override_settings(ENQUIRY_RATE_LIMIT=100000, FAILED_SUBMISSION_RATE_LIMIT=100000)
@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    fields=st.dictionaries(
        st.sampled_from(
            ["name", "email", "phone", "topic", "message", "consent_privacy", "src", "idempotency_key", "email_checked"]
        ),
        st.text(max_size=300) | st.sampled_from(["", "on", "general", "booking", str(uuid.UUID(int=1))]),
        max_size=8,
    )
)
def test_any_submission_gives_no_server_error_and_stores_only_a_valid_form(client, contact_page, fields):
    data = form_data(**fields)
    valid = EnquiryForm(data, now=NOW).is_valid()
    before = Enquiry.objects.count()
    duplicate = Enquiry.objects.filter(idempotency_key=data["idempotency_key"]).exists() if valid else False
    response = client.post(URL, data)
    assert response.status_code in (200, 302)
    assert Enquiry.objects.count() - before == (1 if valid and not duplicate else 0)


class ContactPageEditorTests(SecondFactorLoginMixin, WagtailPageTestCase):
    def setUp(self):
        self.home = HomePageFactory(parent=Page.get_first_root_node())
        site = Site.objects.get(is_default_site=True)
        site.root_page = self.home
        site.save()
        self.user = self.login()

    def test_one_contact_page_under_the_home_page_with_no_subpages(self):
        self.assertAllowedParentPageTypes(ContactPage, {HomePage})
        self.assertAllowedSubpageTypes(ContactPage, set())
        self.assertCanCreate(
            self.home,
            ContactPage,
            nested_form_data(
                {"title": "Get in touch", "slug": "contact", "introduction": "Write to me.", "thank_you": "Thanks!"}
            ),
        )
        self.assertFalse(ContactPage.can_create_at(self.home), "only one contact page")
        page = ContactPage.objects.get()
        self.assertEqual(page.thank_you, "Thanks!")

    def test_the_editor_previews_the_form_and_the_thank_you_message(self):
        page = ContactPageFactory(parent=self.home, thank_you="We will be in touch soon.")
        self.assertPageIsPreviewable(page, mode="")
        self.assertPageIsPreviewable(page, mode="sent")
        self.client.force_login(self.user)
        edit = self.client.get(reverse("wagtailadmin_pages:edit", args=[page.pk])).content.decode()
        data = querydict_from_html(edit, form_id="page-edit-form")
        data["thank_you"] = "See you soon!"
        preview_url = reverse("wagtailadmin_pages:preview_on_edit", args=[page.pk])
        self.assertEqual(self.client.post(preview_url, data).status_code, 200)
        thanks = self.client.get(preview_url, {"mode": "sent"})
        self.assertContains(thanks, "See you soon!")
        self.assertNotContains(thanks, 'name="message"')
        self.assertContains(self.client.get(preview_url, {"mode": ""}), 'name="message"')
