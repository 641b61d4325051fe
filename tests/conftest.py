from base64 import b32decode

from django.contrib.auth import load_backend
from django.test import Client

from wagtail.models import Page, Site

import pytest
from django_otp import DEVICE_ID_SESSION_KEY
from django_otp.oath import TOTP, totp
from django_otp.plugins.otp_totp.models import TOTPDevice

from practice.models import PracticeSettings
from tests.factories.practice import HomePageFactory, StandardPageFactory
from tests.wagtail_base import ensure_wagtail_base


def app_device(user):
    """The user's confirmed authenticator app (a TOTP device), made if missing."""
    device = TOTPDevice.objects.filter(user=user, confirmed=True).first()
    return device or TOTPDevice.objects.create(user=user, name="Authenticator app", confirmed=True)


def sign_in_verified(client, user):
    """
    Sign the test client in as `user` with the session the verification page leaves: django-otp's
    `login(request, device)` keeps the device's persistent id in the session. Returns the device.
    """
    client.force_login(user)
    return pass_second_factor(client, user)


def pass_second_factor(client, user):
    """Mark the signed-in client's session as verified with the user's authenticator app; returns the device."""
    device = app_device(user)
    session = client.session
    session[DEVICE_ID_SESSION_KEY] = device.persistent_id
    session.save()
    return device


def totp_code(device) -> str:
    """
    The code the person's app shows now for `device`. Each time step's code is accepted once, so when
    this step's code was used already it is the next step's, which the server accepts as clock drift.
    """
    device.refresh_from_db()
    now = TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift)
    ahead = max(0, device.last_t + 1 - now.t())
    code = TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift + ahead).token()
    return str(code).zfill(device.digits)


def code_from_secret(secret: str) -> str:
    """The code an authenticator app shows now for the key as the enrolment page prints it (base32, grouped)."""
    key = "".join(secret.split())
    return f"{totp(b32decode(key + '=' * (-len(key) % 8))):06d}"


class SecondFactorClient(Client):
    """
    A test client whose every sign-in has passed the second factor, with the user's authenticator app.
    For Wagtail's test helpers, which sign in users of their own with `force_login(user, backend)`.
    """

    def force_login(self, user, backend=None):
        if backend and not hasattr(load_backend(backend), "get_user"):
            # Wagtail's helpers pass the first backend, django-axes' guard, which signs no one in.
            backend = None
        super().force_login(user, backend)
        pass_second_factor(self, user)


class SecondFactorLoginMixin:
    """
    For Wagtail's test cases: `self.login()` and Wagtail's own assertions sign in past the second factor.
    (Wagtail's `login()` calls `client.login()`, which gives django-axes no request to count it against.)
    """

    client_class = SecondFactorClient

    def login(self, user=None, **credentials):
        user = user or self.create_test_user()
        self.client.force_login(user)
        return user


@pytest.fixture(autouse=True)
def _empty_cache():
    """Each test starts with an empty cache, as a fresh server would."""
    from django.core.cache import cache

    from practice import caching

    cache.clear()
    caching._local.clear()  # this process's copies of kept pages and parts
    yield
    cache.clear()
    caching._local.clear()


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
    """The test client, signed in as a practice admin who has passed the second factor."""
    sign_in_verified(client, practice_admin)
    return client


@pytest.fixture
def admin_client(admin_user):
    """pytest-django's superuser client (a client of its own), past the second factor every superuser needs."""
    client = Client()
    sign_in_verified(client, admin_user)
    return client


@pytest.fixture
def verified_login(client):
    """Signs the test client in as the given user, past the second factor: `verified_login(user)`."""
    return lambda user: sign_in_verified(client, user)


@pytest.fixture
def consultation(practice_settings):
    """An hour-long consultation type that needs confirming, with the practice open 09:00–17:00 every day."""
    from tests.factories.bookings import ConsultationTypeFactory, open_every_day

    open_every_day()
    return ConsultationTypeFactory(name="Initial consultation")
