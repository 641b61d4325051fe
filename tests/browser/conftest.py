"""
Browser tests: Playwright for Python driving the system Chromium, never a downloaded browser.

Without Chromium these tests skip with a message, except where REQUIRE_BROWSER_TESTS is set
(CI sets it), where a missing browser fails the run.
"""

import io
import os
import re
import shutil
from urllib.parse import urlsplit

from django.core.management import call_command

import pytest
from django_otp.plugins.otp_totp.models import TOTPDevice

from tests.conftest import code_from_secret, totp_code
from tests.wagtail_base import ensure_wagtail_base

# Playwright's synchronous API runs an event loop in this thread; Django's ORM calls from the test
# body are still plain synchronous calls.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

CHROMIUM_ARGS = [
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
]
WIDTHS = (390, 1280)


def chromium_executable():
    return os.environ.get("CHROMIUM_EXECUTABLE") or shutil.which("chromium") or shutil.which("chromium-browser")


def pytest_collection_modifyitems(items):
    for item in items:
        if "tests/browser/" in str(item.fspath).replace(os.sep, "/"):
            item.add_marker(pytest.mark.browser)


@pytest.fixture(scope="session")
def browser():
    executable = chromium_executable()
    if not executable:
        message = "Browser tests need the system Chromium (apt-get install chromium); it was not found."
        if os.environ.get("REQUIRE_BROWSER_TESTS"):
            pytest.fail(message, pytrace=False)
        pytest.skip(message)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


class Visit:
    """A browser tab plus a record of every request it made and every console error it saw."""

    def __init__(self, page, base_url, *, site_scripts=True):
        self.page = page
        self.base_url = base_url
        self.site_scripts = site_scripts
        self.requests = []
        self.console_errors = []
        self.foreign = []
        self.server_errors = []
        page.on("request", lambda request: self.requests.append(request.url))
        page.on("response", self._check_response)
        page.on("console", lambda message: message.type == "error" and self.console_errors.append(message.text))
        # Nothing may leave this machine: a request to another origin is recorded and never sent.
        page.route("**/*", self._keep_local)

    def _check_response(self, response):
        if response.status >= 500:
            self.server_errors.append(f"{response.request.method} {response.url}")

    def _keep_local(self, route):
        if self._is_foreign(route.request.url):
            self.foreign.append(route.request.url)
            route.abort()
        elif not self.site_scripts and route.request.resource_type == "script":
            route.abort()  # the visitor's browser runs no JavaScript from the site
        else:
            route.continue_()

    def _is_foreign(self, url):
        parts = urlsplit(url)
        return parts.scheme in ("http", "https", "ws", "wss") and parts.netloc != urlsplit(self.base_url).netloc

    def goto(self, path):
        return self.page.goto(self.base_url + path)

    def foreign_requests(self):
        return [url for url in self.requests if self._is_foreign(url)]


@pytest.fixture
def open_page(browser, live_server):
    contexts = []
    visits = []

    def open_page(width=1280, height=900, site_scripts=True, timezone_id=None):
        """A tab; with site_scripts=False no script from the site runs, as for a visitor without JavaScript.
        (Playwright's own switch would also stop the page checks that the tests run.)"""
        context = browser.new_context(viewport={"width": width, "height": height}, timezone_id=timezone_id)
        context.set_default_timeout(15_000)
        contexts.append(context)
        visits.append(Visit(context.new_page(), live_server.url, site_scripts=site_scripts))
        return visits[-1]

    yield open_page
    for context in contexts:
        context.close()
    errors = [url for visit in visits for url in visit.server_errors]
    assert errors == [], f"the server answered 500 to: {errors}"


@pytest.fixture
def demo_site(transactional_db):
    ensure_wagtail_base()
    call_command("load_demo_content", stdout=io.StringIO())


def axe_violations(page):
    """axe-core's WCAG 2.0, 2.1 and 2.2 A/AA violations on the page as it stands."""
    from axe_playwright_python.sync_playwright import Axe

    results = Axe().run(
        page,
        options={
            "runOnly": {"type": "tag", "values": ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"]},
            "resultTypes": ["violations"],
        },
    )
    return results.response["violations"], results.generate_report()


def log_in(visit, username, password):
    """
    Sign in through the admin's login form, as a person does. When the page asks for the second
    factor, type the code the user's authenticator app shows now (the test made the device and knows
    its key: see tests.conftest.app_device).
    """
    page = visit.page
    visit.goto("/admin/login/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(re.compile(r".*/admin/(two-factor/verify/\?.*)?$"))
    if "/two-factor/verify/" in page.url:
        device = TOTPDevice.objects.get(user__username=username, confirmed=True)
        page.get_by_label("Code").fill(totp_code(device))
        page.get_by_role("button", name="Verify").click()
    page.wait_for_url("**/admin/")


def enrol_second_factor(visit):
    """
    On the enrolment page: read the key shown beside the QR code, type the code an app would show for
    it, and return the backup codes the next page shows once.
    """
    page = visit.page
    secret = page.locator("#two-factor-secret").inner_text()
    page.get_by_label("Code from the app").fill(code_from_secret(secret))
    page.get_by_role("button", name="Turn on two-step verification").click()
    page.get_by_role("heading", name="Your backup codes").wait_for()
    return [code.inner_text() for code in page.locator(".backup-codes code").all()]
