"""A practice admin sets up two-step verification and signs in with it, in a real browser."""

from django.conf import settings
from django.contrib.auth.models import Group, User

from django_otp.plugins.otp_totp.models import TOTPDevice

from tests.browser.conftest import axe_violations, enrol_second_factor
from tests.conftest import totp_code

PASSWORD = "a-long-practice-admin-passphrase"


def check_accessibility(page, step):
    violations, report = axe_violations(page)
    assert violations == [], f"{step}: {report}"


def sign_in(page, username, password):
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()


def test_a_practice_admin_enrols_an_authenticator_app_and_signs_in_with_it(demo_site, open_page):
    user = User.objects.create_user("pat", password=PASSWORD, first_name="Pat", last_name="Admin")
    user.groups.add(Group.objects.get(name="Practice admins"))

    visit = open_page(width=1280)
    page = visit.page
    visit.goto("/admin/login/")
    sign_in(page, "pat", PASSWORD)

    # Until she has set up the app, the admin is only the enrolment page.
    page.wait_for_url("**/admin/two-factor/?next=*")
    page.get_by_role("heading", name="Two-step verification").first.wait_for()
    assert page.locator(".two-factor-qr svg[role='img']").is_visible()
    check_accessibility(page, "enrolment page")
    visit.goto("/admin/bookings/")
    page.wait_for_url("**/admin/two-factor/?next=*")

    codes = enrol_second_factor(visit)
    assert len(codes) == 10
    assert TOTPDevice.objects.get(user=user).confirmed
    check_accessibility(page, "backup codes")
    page.get_by_role("link", name="Continue", exact=True).click()
    page.wait_for_url("**/admin/bookings/")

    # Sign out from the account menu, then sign in again: password, then a fresh code.
    page.locator(".sidebar-footer__account").click()
    page.get_by_text("Log out", exact=True).click()
    page.wait_for_url("**/admin/login/")

    visit.goto("/admin/bookings/")
    page.wait_for_url("**/admin/login/?next=**")
    sign_in(page, "pat", PASSWORD)
    page.wait_for_url("**/admin/two-factor/verify/?next=*")
    check_accessibility(page, "verification page")
    page.get_by_label("Code").fill(totp_code(TOTPDevice.objects.get(user=user)))
    page.get_by_role("button", name="Verify").click()
    page.wait_for_url("**/admin/bookings/")
    page.get_by_role("heading", name="Bookings").first.wait_for()

    assert visit.foreign_requests() == []
    csp_errors = [text for text in visit.console_errors if "Content Security Policy" in text]
    assert csp_errors == []


def test_too_many_wrong_passwords_show_a_plain_page_that_says_what_to_do(demo_site, open_page):
    User.objects.create_user("sam", password=PASSWORD)
    visit = open_page(width=390)
    page = visit.page
    for _ in range(settings.AXES_FAILURE_LIMIT):
        visit.goto("/admin/login/")
        sign_in(page, "sam", "not-the-password")
    page.get_by_role("heading", name="Account locked for a while").wait_for()
    page.get_by_text("ask the practice’s administrator").wait_for()
    check_accessibility(page, "lockout page")

    visit.goto("/admin/login/")
    sign_in(page, "sam", PASSWORD)
    page.get_by_role("heading", name="Account locked for a while").wait_for()
    assert visit.foreign_requests() == []
