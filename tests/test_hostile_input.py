"""
Hostile input through HTTP (issue 12): whatever arrives in a public parameter or a public form, the
answer is a page, a redirect or a 4xx, never a server error, on SQLite and on PostgreSQL alike.
"""

import datetime as dt
import uuid
from urllib.parse import quote_from_bytes

from django.test import Client, override_settings

import pytest
import time_machine
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bookings import services
from bookings.forms import form_stamp
from bookings.models import Booking, BookingStatus, Enquiry
from bookings.reports import public_url
from tests.factories.articles import ArticleIndexPageFactory, ArticlePageFactory, TopicFactory
from tests.factories.bookings import ConsultationTypeFactory, book, details_form_data, open_every_day
from tests.factories.practice import ContactPageFactory, StandardPageFactory

NOW = dt.datetime(2026, 6, 1, 7, 0, tzinfo=dt.UTC)  # Monday 08:00 London
SLOT = dt.datetime(2026, 6, 3, 9, 0, tzinfo=dt.UTC)
ARTICLE = "/articles/gut/"
OFF_SITE = [
    "/\\evil.example/phish",
    "//evil.example/",
    "/\r\n/evil.example",
    "/\t/evil.example",
    "https://evil.example/",
]

# What a search box or a tampered link can carry: FTS5 and tsquery syntax, markup, control characters.
SYNTAX = ["AND", "OR", "NOT", "NEAR", "NEAR(", "*", '"', "'", "(", ")", "^", ":", "-", "+", "&", "|", "!", "%", "\\"]
TRICKY = ["\x00", "\r\n", "\x1b[31m", "\u2028", "\ud800", "\udfff", "<script>alert(1)</script>", '"><img src=x>', "gut"]


def as_bytes(text: str) -> bytes:
    """UTF-8, except that a lone surrogate becomes its raw bytes (ED A0 80), as a hostile client sends it."""
    return text.encode("utf-8", "surrogatepass")


hostile_values = st.one_of(
    st.text(st.characters(exclude_categories=()), max_size=40).map(as_bytes),
    st.lists(st.sampled_from(SYNTAX + TRICKY), max_size=8).map(lambda words: as_bytes(" ".join(words))),
    st.text(st.characters(exclude_categories=()), min_size=1, max_size=3).map(lambda unit: as_bytes(unit * 10_000)),
    st.binary(max_size=20),  # not UTF-8 at all
    st.sampled_from([b"", b"-1", b"0", b"9" * 30, b"9" * 5000, b"1e9", b"2026-06-03T09:00:00+00:00", b"2026-06-03"]),
    st.sampled_from([as_bytes(source) for source in [ARTICLE, "/", *OFF_SITE]]),
)


def encoded(params: dict[str, bytes]) -> str:
    """A query string or form body that carries the bytes as they are, percent-encoded."""
    pairs = (
        (quote_from_bytes(as_bytes(key), safe=""), quote_from_bytes(value, safe="")) for key, value in params.items()
    )
    return "&".join(f"{key}={value}" for key, value in pairs)


@pytest.fixture
def clock():
    with time_machine.travel(NOW, tick=False) as traveller:
        yield traveller


@pytest.fixture
def consultation(home_page, practice_settings, clock):
    """The public site: an article with a topic and a tag, the contact page, and a type open every day to book."""
    index = ArticleIndexPageFactory(parent=home_page)
    ArticlePageFactory(
        parent=index, title="Sourdough and the gut", slug="gut", topics=[TopicFactory(slug="gut")], tag_names=["fibre"]
    )
    ContactPageFactory(parent=home_page)
    open_every_day()
    return ConsultationTypeFactory(name="Initial consultation", slug="initial")


@pytest.fixture
def manage_token(consultation):
    return book(consultation, now=NOW, days=10).manage_token


@pytest.fixture
def hostile():
    """A client that shows a server error as a 500 response instead of raising it."""
    return Client(raise_request_exception=False)


def booking_form(**overrides):
    return details_form_data(now=NOW, **{"start": SLOT.isoformat(), "src": ARTICLE, **overrides})


def contact_form(**overrides):
    data = {
        "name": "Alex Visitor",
        "email": "alex@example.com",
        "phone": "",
        "topic": "general",
        "message": "A question about working together.",
        "consent_privacy": "on",
        "website": "",
        "started": form_stamp(NOW - dt.timedelta(seconds=10)),
        "idempotency_key": str(uuid.uuid4()),
    }
    data.update(overrides)
    return data


# 1. A NUL character: PostgreSQL cannot compare it, so it is refused before any view reads it.


@pytest.mark.django_db
@pytest.mark.parametrize(
    "url",
    [
        "/articles/?topic=%00",
        "/articles/?tag=%00",
        "/articles/?page=%00",
        "/search/?q=%00",
        "/search/?q=gut%00fibre",
        "/book/initial/?src=%00&tz=%00",
        "/book/initial/details/?start=%00",
        "/articles/%00/",
        "/articles/?%00=1",
    ],
)
def test_a_nul_in_the_address_is_a_bad_request(hostile, consultation, url):
    response = hostile.get(url)
    assert response.status_code == 400
    assert response.content == b"Bad request\n"


@pytest.mark.django_db
@pytest.mark.parametrize("url", ["/admin/bookings/?q=%00", "/admin/enquiries/?q=%00", "/admin/pages/search/?q=%00"])
def test_a_nul_in_an_admin_search_is_a_bad_request(practice_client, consultation, url):
    practice_client.raise_request_exception = False
    assert practice_client.get(url).status_code == 400


@pytest.mark.django_db
def test_a_nul_in_a_form_field_gets_the_forms_message_and_a_nul_source_is_dropped(hostile, consultation):
    refused = hostile.post("/book/initial/details/", booking_form(name="Alex\x00Visitor"))
    assert refused.status_code == 200
    assert "Null characters are not allowed" in refused.content.decode()

    response = hostile.post("/book/initial/details/", booking_form(src="/articles/gut/\x00"))
    assert response.status_code == 302
    assert Booking.objects.get().source_page == ""


# 2. Anything a person can type into the search box gives results or "nothing found".


@pytest.mark.django_db
@pytest.mark.parametrize(
    "query", ['"', '"><img src=x onerror=alert(1)>', "gut AND", "NEAR(gut", "*", "^gut", "-gut", "gut:*", "(", "'"]
)
def test_search_syntax_in_the_query_is_not_an_error(hostile, consultation, query):
    response = hostile.get("/search/", {"q": query})
    assert response.status_code == 200
    page = response.content.decode()
    assert "<img src=x" not in page
    assert " result for “" in page or " results for “" in page or "No results for “" in page


@pytest.mark.django_db
def test_quotes_and_operators_around_words_still_find_them(hostile, consultation):
    page = hostile.get("/search/", {"q": '"sourdough" AND (gut*'}).content.decode()
    assert "1 result for" in page and 'href="/articles/gut/"' in page


@pytest.mark.django_db
@pytest.mark.parametrize("page", ["-1", "0", "x", "1e3", "9" * 30, pytest.param("9" * 5000, id="5000-digits"), "١"])
def test_any_page_number_shows_a_page_of_the_listing(hostile, consultation, page):
    assert hostile.get("/articles/", {"page": page}).status_code == 200
    assert hostile.get("/search/", {"q": "gut", "page": page}).status_code == 200


# 3. A form body in another charset than UTF-8 is a bad request, and changes nothing.


def fetch_form(client, url):
    response = client.get(url)
    assert response.status_code == 200
    return client.cookies["csrftoken"].value


def post_in(client, url, data, charset):
    body = "&".join(f"{key}={value}" for key, value in data.items())
    return client.post(url, body, content_type=f"application/x-www-form-urlencoded; charset={charset}")


@pytest.mark.django_db
@pytest.mark.parametrize("charset", ["utf-16", "iso-8859-1"])
def test_a_booking_or_a_message_in_another_charset_is_refused(consultation, charset):
    visitor = Client(enforce_csrf_checks=True, raise_request_exception=False)
    details = "/book/initial/details/"
    token = fetch_form(visitor, f"{details}?start={SLOT.isoformat().replace('+', '%2B')}")
    assert post_in(visitor, details, booking_form(csrfmiddlewaretoken=token), charset).status_code == 400
    token = fetch_form(visitor, "/contact/")
    assert post_in(visitor, "/contact/", contact_form(csrfmiddlewaretoken=token), charset).status_code == 400
    assert not Booking.objects.exists() and not Enquiry.objects.exists()


@pytest.mark.django_db
def test_a_cancellation_in_another_charset_is_refused(consultation):
    booking = book(consultation, now=NOW)
    visitor = Client(enforce_csrf_checks=True, raise_request_exception=False)
    link = f"/book/manage/{booking.manage_token}/"
    token = fetch_form(visitor, link)
    assert post_in(visitor, link, {"csrfmiddlewaretoken": token, "action": "cancel"}, "utf-16").status_code == 400
    booking.refresh_from_db()
    assert booking.status == BookingStatus.PENDING


@pytest.mark.django_db
def test_a_sign_in_or_a_password_reset_in_another_charset_is_refused(consultation, practice_admin, mailoutbox):
    practice_admin.email = "assistant@example.com"
    practice_admin.save()
    person = Client(enforce_csrf_checks=True, raise_request_exception=False)
    token = fetch_form(person, "/admin/login/")
    credentials = {"csrfmiddlewaretoken": token, "username": "assistant", "password": "a-long-assistant-passphrase"}
    assert post_in(person, "/admin/login/", credentials, "utf-16").status_code == 400
    assert "_auth_user_id" not in person.session
    token = fetch_form(person, "/admin/password_reset/")
    reset = {"csrfmiddlewaretoken": token, "email": "assistant@example.com"}
    assert post_in(person, "/admin/password_reset/", reset, "utf-16").status_code == 400
    assert mailoutbox == []


# 7. Where a visitor came from: only a page of this site is kept, and the admin never links off-site.


@pytest.mark.django_db
@pytest.mark.parametrize("source", [*OFF_SITE, "/articles/made-up/", "/articles/gut/../../admin/", "/%5Cevil.example/"])
def test_a_source_that_is_not_a_page_of_the_site_is_not_stored(hostile, consultation, source):
    assert hostile.post("/book/initial/details/", booking_form(src=source)).status_code == 302
    assert hostile.post("/contact/", contact_form(src=source)).status_code == 302
    assert Booking.objects.get().source_page == ""
    assert Enquiry.objects.get().source_page == ""


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("source", "stored"),
    [
        ("/articles/gut/", "/articles/gut/"),
        ("/articles/gut", "/articles/gut/"),
        ("/articles/gut/?a=1#b", "/articles/gut/"),
        ("/", "/"),
    ],
)
def test_a_page_of_the_site_is_stored_as_its_path(hostile, consultation, source, stored):
    hostile.post("/book/initial/details/", booking_form(src=source))
    assert Booking.objects.get().source_page == stored


@pytest.mark.django_db
def test_a_draft_page_is_no_source(hostile, consultation, home_page):
    StandardPageFactory(parent=home_page, slug="draft").unpublish()
    hostile.post("/book/initial/details/", booking_form(src="/draft/"))
    assert Booking.objects.get().source_page == ""


@pytest.mark.django_db
@pytest.mark.parametrize("source", OFF_SITE)
def test_the_admin_shows_an_off_site_source_as_text_never_as_a_link(practice_client, consultation, source):
    """Rows stored before the source was checked may hold anything: the admin must not link to them."""
    booking = book(consultation, now=NOW, source_page=source)
    enquiry = services.enquiry_submit(
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
    pages = [
        practice_client.get(f"/admin/bookings/inspect/{booking.pk}/").content.decode(),
        practice_client.get(f"/admin/enquiries/inspect/{enquiry.pk}/").content.decode(),
        practice_client.get("/admin/bookings/sources/").content.decode(),
    ]
    for page in pages:
        assert "evil.example" in page  # shown, as text
        assert not any(f'href="{start}' in page for start in ["/\\", "//", "/\r", "/\t", "https://evil"])
    assert public_url(source) is None or public_url(source).startswith(("/%5C", "/%0D", "/%09"))


@pytest.mark.django_db
def test_the_admin_links_to_a_page_of_the_site(practice_client, consultation):
    booking = book(consultation, now=NOW, source_page=ARTICLE)
    page = practice_client.get(f"/admin/bookings/inspect/{booking.pk}/").content.decode()
    assert f'<a href="{ARTICLE}">{ARTICLE}</a>' in page
    assert public_url(ARTICLE) == ARTICLE and public_url("/") == "/" and public_url("") is None


# The property: generated text in every public parameter and form never gives a server error.

GET_PARAMETERS = {
    "/search/": ["q", "page"],
    "/articles/": ["topic", "tag", "page"],
    "/book/": ["type", "src"],
    "/book/initial/": ["tz", "from", "src"],
    "/book/initial/details/": ["tz", "start", "src"],
}


@pytest.mark.django_db
@pytest.mark.parametrize("path", sorted(GET_PARAMETERS))
@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_any_text_in_a_public_parameter_gives_no_server_error(hostile, consultation, path, data):
    params = data.draw(st.dictionaries(st.sampled_from(GET_PARAMETERS[path]), hostile_values, min_size=1))
    response = hostile.get(f"{path}?{encoded(params)}")
    assert response.status_code in (200, 302, 400, 404), params


FORM_FIELDS = {
    "booking": (
        "/book/initial/details/",
        booking_form,
        ["name", "email", "phone", "contact_method", "reason", "heard_about", "consent_privacy", "start", "tz", "src"],
    ),
    "contact": ("/contact/", contact_form, ["name", "email", "phone", "topic", "message", "consent_privacy", "src"]),
    "cancel": ("manage", lambda: {"action": "cancel"}, ["action", "csrfmiddlewaretoken"]),
    "sign-in": (
        "/admin/login/",
        lambda: {"username": "assistant", "password": "wrong"},
        ["username", "password", "next"],
    ),
    "password reset": ("/admin/password_reset/", lambda: {"email": "assistant@example.com"}, ["email"]),
}


@pytest.mark.django_db
@pytest.mark.parametrize("form", sorted(FORM_FIELDS))
@override_settings(
    BOOKING_RATE_LIMIT=100_000,
    ENQUIRY_RATE_LIMIT=100_000,
    FAILED_SUBMISSION_RATE_LIMIT=100_000,
    BOOKING_MAX_ACTIVE_PER_EMAIL=100_000,
    BOOKING_MAX_ACTIVE_PER_ADDRESS=100_000,
)
@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_any_text_in_a_public_form_gives_no_server_error(
    hostile, consultation, practice_admin, manage_token, form, data
):
    url, defaults, fields = FORM_FIELDS[form]
    url = f"/book/manage/{manage_token}/" if url == "manage" else url
    sent = {key: as_bytes(value) for key, value in defaults().items()}
    sent.update(data.draw(st.dictionaries(st.sampled_from(fields), hostile_values, min_size=1, max_size=4)))
    response = hostile.post(url, encoded(sent), content_type="application/x-www-form-urlencoded")
    assert response.status_code in (200, 302, 400, 403, 429), sent
