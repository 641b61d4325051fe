from wagtail.models import Page, Site

import pytest

from practice.models import PracticeSettings
from tests.factories.practice import HomePageFactory, StandardPageFactory
from tests.wagtail_base import ensure_wagtail_base


@pytest.fixture(autouse=True)
def _empty_cache():
    """Each test starts with an empty cache, as a fresh server would."""
    from django.core.cache import cache

    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def home_page(db):
    """A published home page that the default site serves at /."""
    ensure_wagtail_base()
    home = HomePageFactory(parent=Page.get_first_root_node())
    site = Site.objects.filter(is_default_site=True).first() or Site(hostname="localhost", is_default_site=True)
    site.root_page = home
    site.save()
    return home


@pytest.fixture
def practice_settings(home_page):
    settings = PracticeSettings.for_site(home_page.get_site())
    settings.practice_name = "Test Practice"
    settings.practitioner_name = "Naomi"
    settings.practitioner_title = "Autoimmune Specialist"
    settings.email = "hello@example.com"
    settings.phone = "020 7946 0123"
    settings.medical_disclaimer = "<p>General education only, not medical advice.</p>"
    settings.save()
    return settings


@pytest.fixture
def about_page(home_page):
    return StandardPageFactory(
        parent=home_page, title="About Naomi", slug="about", show_in_menus=True, introduction="Who Naomi is."
    )


@pytest.fixture
def article_index(home_page):
    from tests.factories.articles import ArticleIndexPageFactory

    return ArticleIndexPageFactory(parent=home_page)


@pytest.fixture
def practice_admin(django_user_model):
    """A member of the "Practice admins" group that the bookings migration creates."""
    from django.contrib.auth.models import Group

    user = django_user_model.objects.create_user(
        "assistant", password="a-long-assistant-passphrase", first_name="Sam", last_name="Assistant"
    )
    user.groups.add(Group.objects.get(name="Practice admins"))
    return user


@pytest.fixture
def page_editor(django_user_model):
    """A member of Wagtail's default Editors group: edits pages, never sees clients' details."""
    from django.contrib.auth.models import Group

    user = django_user_model.objects.create_user("editor", password="a-long-editor-passphrase")
    user.groups.add(Group.objects.get(name="Editors"))
    return user


@pytest.fixture
def practice_client(client, practice_admin):
    """The test client, signed in as a practice admin."""
    client.force_login(practice_admin)
    return client


@pytest.fixture
def consultation(practice_settings):
    """An hour-long consultation type that needs confirming, with the practice open 09:00–17:00 every day."""
    from tests.factories.bookings import ConsultationTypeFactory, open_every_day

    open_every_day()
    return ConsultationTypeFactory(name="Initial consultation")
