"""What the pages tell search engines about the practice, the practitioner and an article's sources."""

import datetime as dt
import io
import json
import re

from django.core.management import call_command

from wagtail.models import Site

import pytest

from articles.models import ArticlePage
from bookings.models import AvailabilityWindow
from tests.factories.articles import ArticlePageFactory
from tests.factories.practice import StandardPageFactory
from tests.html import jsonld
from tests.images import make_image

pytestmark = pytest.mark.django_db

SCRIPT = re.compile(r'<script type="application/ld\+json">(.*?)</script>', re.S)


def of_type(html, schema_type):
    return [item for item in jsonld(html) if item["@type"] == schema_type]


@pytest.fixture
def hours():
    """Mornings Monday to Thursday, afternoons Monday to Thursday, and Friday morning."""
    AvailabilityWindow.objects.bulk_create(
        [
            *(AvailabilityWindow(weekday=day, start_time=dt.time(9), end_time=dt.time(12, 30)) for day in range(4)),
            *(AvailabilityWindow(weekday=day, start_time=dt.time(13, 30), end_time=dt.time(17)) for day in range(4)),
            AvailabilityWindow(weekday=4, start_time=dt.time(9), end_time=dt.time(13)),
        ]
    )


@pytest.fixture
def practice(practice_settings, hours):
    practice_settings.address = "Studio 2, 10 Garden Row\n\nBristol BS1 4AA"
    practice_settings.social_links = [
        ("link", {"network": "instagram", "url": "https://www.instagram.com/naomi.health/", "label": ""}),
        ("link", {"network": "other", "url": "https://mastodon.example/@naomi", "label": "Mastodon"}),
    ]
    practice_settings.save()
    return practice_settings


def test_every_structured_data_script_of_the_home_page_parses(client, practice):
    html = client.get("/").content.decode()
    scripts = SCRIPT.findall(html)
    assert scripts
    for script in scripts:
        json.loads(script)


def test_the_home_page_describes_the_practice(client, practice, home_page):
    html = client.get("/").content.decode()
    [business] = of_type(html, "MedicalBusiness")
    assert business["@context"] == "https://schema.org"
    assert business["name"] == "Test Practice"
    assert business["url"] == "http://localhost/"
    assert business["@id"] == "http://localhost/#practice"
    assert business["logo"].startswith("http://localhost/") and business["logo"].endswith(".svg")
    assert business["email"] == "hello@example.com"
    assert business["telephone"] == "020 7946 0123"
    assert business["address"] == {
        "@type": "PostalAddress",
        "streetAddress": "Studio 2, 10 Garden Row, Bristol BS1 4AA",
    }
    assert business["sameAs"] == ["https://www.instagram.com/naomi.health/", "https://mastodon.example/@naomi"]
    assert business["description"] == home_page.get_meta_description()
    assert "image" not in business  # the home page has no picture


def test_opening_hours_come_from_the_booking_availability_grouped_by_times(client, practice):
    html = client.get("/").content.decode()
    [business] = of_type(html, "MedicalBusiness")
    assert business["openingHoursSpecification"] == [
        {
            "@type": "OpeningHoursSpecification",
            "dayOfWeek": ["Monday", "Tuesday", "Wednesday", "Thursday"],
            "opens": "09:00",
            "closes": "12:30",
        },
        {
            "@type": "OpeningHoursSpecification",
            "dayOfWeek": ["Monday", "Tuesday", "Wednesday", "Thursday"],
            "opens": "13:30",
            "closes": "17:00",
        },
        {"@type": "OpeningHoursSpecification", "dayOfWeek": ["Friday"], "opens": "09:00", "closes": "13:00"},
    ]


def test_the_opening_hours_stay_the_practices_wall_clock_times_whatever_its_zone(client, practice):
    practice.time_zone = "America/New_York"
    practice.save()
    [business] = of_type(client.get("/").content.decode(), "MedicalBusiness")
    assert business["openingHoursSpecification"][0]["opens"] == "09:00"


def test_an_online_practice_without_address_hours_or_links_leaves_them_out(client, practice_settings):
    [business] = of_type(client.get("/").content.decode(), "MedicalBusiness")
    assert {"address", "openingHoursSpecification", "sameAs"}.isdisjoint(business)
    assert business["name"] == "Test Practice"


def test_the_home_page_picture_is_the_practices_image_not_its_logo(client, practice, home_page):
    home_page.hero_image = make_image(title="Welcome", size=(1600, 1000))
    home_page.hero_image_alt = "A bright consulting room"
    home_page.save_revision().publish()
    [business] = of_type(client.get("/").content.decode(), "MedicalBusiness")
    assert business["image"].endswith(".jpg")
    assert business["logo"].endswith(".svg")


def test_a_practice_name_with_a_closing_script_tag_cannot_break_out(client, practice):
    practice.practice_name = "</script><script>alert(1)</script> & Co"
    practice.save()
    html = client.get("/").content.decode()
    assert "<script>alert(1)" not in html
    assert all("</script" not in script.lower() for script in SCRIPT.findall(html))
    [business] = of_type(html, "MedicalBusiness")
    assert business["name"] == "</script><script>alert(1)</script> & Co"


@pytest.fixture
def about_naomi(home_page, practice):
    about = StandardPageFactory(parent=home_page, title="About Naomi", slug="about")
    about.save_revision().publish()
    practice.practitioner_credentials = "MSc, RD"
    practice.about_page = about
    practice.save()
    return about


def test_the_about_page_describes_the_practitioner_who_works_for_the_practice(client, about_naomi):
    html = client.get("/about/").content.decode()
    [person] = of_type(html, "Person")
    assert person == {
        "@context": "https://schema.org",
        "@type": "Person",
        "name": "Naomi",
        "jobTitle": "Autoimmune Specialist",
        "honorificSuffix": "MSc, RD",
        "url": "http://localhost/about/",
        "worksFor": {
            "@type": "MedicalBusiness",
            "@id": "http://localhost/#practice",
            "name": "Test Practice",
            "url": "http://localhost/",
        },
    }
    [business] = of_type(client.get("/").content.decode(), "MedicalBusiness")
    assert person["worksFor"]["@id"] == business["@id"]


def test_only_the_page_the_settings_name_is_about_the_practitioner(client, about_naomi, home_page, practice):
    other = StandardPageFactory(parent=home_page, slug="terms")
    other.save_revision().publish()
    assert of_type(client.get("/terms/").content.decode(), "Person") == []
    assert of_type(client.get("/").content.decode(), "Person") == []
    # Naming another page is seen at once, though both pages are kept in the cache.
    practice.about_page = other
    practice.practitioner_credentials = ""
    practice.save()
    assert of_type(client.get("/about/").content.decode(), "Person") == []
    [person] = of_type(client.get("/terms/").content.decode(), "Person")
    assert person["url"] == "http://localhost/terms/" and "honorificSuffix" not in person


def test_an_article_cites_its_references(client, article_index, practice_settings):
    article = ArticlePageFactory(
        parent=article_index,
        slug="sources",
        references=[
            ("reference", {"text": "NHS. Probiotics.", "url": "https://www.nhs.uk/conditions/probiotics/"}),
            ("reference", {"text": "A journal article.", "url": "", "doi": "10.1000/xyz123"}),
            ("reference", {"text": "Both.", "url": "https://example.org/paper", "doi": "10.1000/abc"}),
        ],
    )
    article.save_revision().publish()
    html = client.get(ArticlePage.objects.get(pk=article.pk).url).content.decode()
    [data] = of_type(html, "MedicalWebPage")
    assert data["citation"] == [
        {"@type": "CreativeWork", "name": "NHS. Probiotics.", "url": "https://www.nhs.uk/conditions/probiotics/"},
        {"@type": "CreativeWork", "name": "A journal article.", "url": "https://doi.org/10.1000/xyz123"},
        {
            "@type": "CreativeWork",
            "name": "Both.",
            "url": "https://example.org/paper",
            "sameAs": "https://doi.org/10.1000/abc",
        },
    ]
    assert len(SCRIPT.findall(html)) == 2  # the article and its breadcrumbs, each once


def test_an_article_without_references_cites_nothing(client, article_index, practice_settings):
    article = ArticlePageFactory(parent=article_index, slug="no-sources")
    article.save_revision().publish()
    [data] = of_type(client.get("/articles/no-sources/").content.decode(), "MedicalWebPage")
    assert "citation" not in data


def test_the_site_address_of_another_host_names_the_same_practice(client, practice):
    site = Site.objects.get(is_default_site=True)
    site.hostname, site.port = "naomi.example", 443
    site.save()
    [business] = of_type(client.get("/", HTTP_HOST="naomi.example").content.decode(), "MedicalBusiness")
    assert business["@id"] == "https://naomi.example/#practice"


def test_the_demo_site_describes_its_practice_practitioner_and_questions(client):
    call_command("load_demo_content", stdout=io.StringIO())
    [business] = of_type(client.get("/").content.decode(), "MedicalBusiness")
    assert business["name"] == "Naomi Integrative Health"
    assert [spec["dayOfWeek"] for spec in business["openingHoursSpecification"]] == [
        ["Monday", "Tuesday", "Wednesday", "Thursday"],
        ["Monday", "Tuesday", "Wednesday", "Thursday"],
        ["Friday"],
    ]
    assert "address" not in business  # consultations by video and phone only
    [person] = of_type(client.get("/about/").content.decode(), "Person")
    assert (person["name"], person["jobTitle"]) == ("Naomi", "Autoimmune Specialist, Integrative Health Expert")
    [faq] = of_type(client.get("/services/").content.decode(), "FAQPage")
    assert len(faq["mainEntity"]) == 5
