import io
from urllib.parse import urlsplit

from django.core.management import call_command

from wagtail.images import get_image_model
from wagtail.models import Page, Revision, Site

import pytest

from articles.models import ArticlePage, Author, Topic
from bookings.models import AvailabilityWindow, ConsultationType, TimeOff
from practice.models import ContactPage, HomePage, PracticeSettings

# Demo references may only point at public health information services.
PUBLIC_HEALTH_HOSTS = ("www.nhs.uk", ".nih.gov", "medlineplus.gov")


def snapshot():
    pages = list(Page.objects.order_by("path").values_list("path", "title", "slug", "live", "show_in_menus"))
    return {
        "pages": pages,
        "revisions": Revision.objects.count(),
        "images": list(get_image_model().objects.order_by("pk").values_list("title", "file")),
        "sites": list(Site.objects.values_list("hostname", "root_page_id", "is_default_site")),
        "settings": list(PracticeSettings.objects.values()),
        "authors": list(Author.objects.order_by("pk").values()),
        "topics": list(Topic.objects.order_by("pk").values()),
        "consultation_types": list(ConsultationType.objects.order_by("pk").values()),
        "availability": list(AvailabilityWindow.objects.order_by("pk").values()),
        "time_off": list(TimeOff.objects.order_by("pk").values()),
        "tags": sorted((article.slug, tag.name) for article in ArticlePage.objects.all() for tag in article.tags.all()),
    }


@pytest.mark.django_db
def test_load_demo_content_builds_the_site(client):
    call_command("load_demo_content", stdout=io.StringIO())

    home = HomePage.objects.get()
    assert Site.objects.get(is_default_site=True).root_page_id == home.pk
    assert [child.slug for child in home.get_children()] == [
        "about",
        "services",
        "privacy-policy",
        "terms",
        "articles",
        "contact",
    ]
    assert not Page.objects.filter(title__startswith="Welcome to your new Wagtail site").exists()

    settings = PracticeSettings.for_site(home.get_site())
    assert settings.practitioner_name == "Naomi"
    assert settings.practitioner_title == "Autoimmune Specialist, Integrative Health Expert"
    assert settings.privacy_page.slug == "privacy-policy"

    articles = ArticlePage.objects.live()
    assert articles.count() >= 6
    assert Topic.objects.filter(articlepage__in=articles).distinct().count() >= 3
    for article in articles:
        assert article.reviewed_by and article.last_reviewed and article.authors.exists()
        assert article.hero_image and article.hero_image_alt
        hosts = [urlsplit(reference.value["url"]).hostname for reference in article.references]
        assert hosts and all(host.endswith(PUBLIC_HEALTH_HOSTS) for host in hosts), hosts

    assert list(ConsultationType.objects.active().values_list("slug", flat=True)) == [
        "discovery-call",
        "initial-consultation",
        "follow-up",
    ]
    assert AvailabilityWindow.objects.exists() and TimeOff.objects.exists()
    assert client.get("/book/").status_code == 200
    assert client.get("/book/initial-consultation/").status_code == 200

    html = client.get("/").content.decode()
    assert "Calm, practical support for autoimmune and gut health" in html
    assert 'href="/about/"' in html
    about = client.get("/about/")
    assert about.status_code == 200
    assert "Naomi" in about.content.decode()

    contact = ContactPage.objects.get()
    assert contact.live and contact.show_in_menus and contact.url == "/contact/"
    assert contact.introduction and contact.thank_you
    assert '<a href="/contact/"' in html
    page = client.get("/contact/")
    assert page.status_code == 200
    assert contact.introduction in page.content.decode() and 'name="message"' in page.content.decode()


@pytest.mark.django_db
def test_load_demo_content_twice_changes_nothing():
    call_command("load_demo_content", stdout=io.StringIO())
    first = snapshot()
    call_command("load_demo_content", stdout=io.StringIO())
    assert snapshot() == first


@pytest.mark.django_db
def test_load_demo_content_keeps_an_editors_changes():
    call_command("load_demo_content", stdout=io.StringIO())
    about = Page.objects.get(slug="about").specific
    about.title = "About me"
    about.save_revision().publish()
    call_command("load_demo_content", stdout=io.StringIO())
    assert Page.objects.get(slug="about").title == "About me"


@pytest.mark.django_db
def test_load_demo_content_keeps_a_moved_or_edited_contact_page():
    call_command("load_demo_content", stdout=io.StringIO())
    contact = ContactPage.objects.get()
    contact.slug = "get-in-touch"
    contact.thank_you = "Thanks, I will write back soon."
    contact.save_revision().publish()
    call_command("load_demo_content", stdout=io.StringIO())
    contact = ContactPage.objects.get()
    assert (contact.slug, contact.thank_you) == ("get-in-touch", "Thanks, I will write back soon.")


@pytest.mark.django_db
def test_the_privacy_policy_states_the_retention_periods_the_settings_use(client):
    call_command("load_demo_content", stdout=io.StringIO())
    page = client.get("/privacy-policy/").content.decode()
    settings = PracticeSettings.for_site(Site.objects.get(is_default_site=True))
    assert f"erased {settings.health_details_retention_days} days after" in page
    assert f"erased {settings.contact_details_retention_days} days" in page
