"""The practitioner's agenda in a real browser: accessible, keyboard-operable, clean on paper."""

import datetime as dt
import importlib
from zoneinfo import ZoneInfo

from django.contrib.auth.models import Group, Permission

import pytest
from playwright.sync_api import expect

from bookings.models import Booking, BookingStatus
from tests.browser.conftest import axe_violations, log_in
from tests.conftest import app_device
from tests.factories.bookings import ConsultationTypeFactory

PASSWORD = "a-long-practice-admin-passphrase"
TAB_LIMIT = 120
practice_admins = importlib.import_module("bookings.migrations.0005_practice_admins_group")


@pytest.fixture
def practice_admin_login(demo_site, django_user_model):
    """A practice admin with a password; the group is made again, as a transactional test may have emptied it."""
    group, _ = Group.objects.get_or_create(name=practice_admins.GROUP)
    for app_label, codenames in practice_admins.PERMISSIONS.items():
        group.permissions.add(*Permission.objects.filter(content_type__app_label=app_label, codename__in=codenames))
    user = django_user_model.objects.create_user("agenda-admin", password=PASSWORD, first_name="Sam")
    user.groups.add(group)
    app_device(user)  # health details: she signs in with a code from her authenticator app
    return user.username, PASSWORD


@pytest.fixture
def autumn_booking(demo_site):
    consultation = ConsultationTypeFactory(name="Gut health review", duration_minutes=60)
    booking = Booking(
        consultation_type=consultation,
        name="Autumn Client",
        email="autumn@example.com",
        reason="Private health details",
        status=BookingStatus.CONFIRMED,
    )
    # 09:00 in London on the day the clocks go back.
    booking.set_times(dt.datetime(2026, 10, 25, 9, 0, tzinfo=ZoneInfo("Europe/London")))
    booking.save()
    return booking


def tab_to_link(page, name):
    """Press Tab until the link called `name` has the focus, and check that the focus shows."""
    for _ in range(TAB_LIMIT):
        page.keyboard.press("Tab")
        focused = page.evaluate(
            "(() => { const el = document.activeElement;"
            " return {tag: el.tagName, text: el.textContent.trim(), outline: getComputedStyle(el).outlineStyle}; })()"
        )
        if focused["tag"] == "A" and focused["text"] == name:
            assert focused["outline"] != "none", f"the focus on “{name}” is not visible"
            return
    raise AssertionError(f"Tab never reached the link “{name}”")


def check_accessibility(page, step):
    violations, report = axe_violations(page)
    assert violations == [], f"{step}: {report}"


def test_practice_admin_reads_the_agenda_by_keyboard_and_prints_it(open_page, practice_admin_login, autumn_booking):
    visit = open_page(width=1280)
    page = visit.page
    log_in(visit, *practice_admin_login)

    visit.goto("/admin/bookings/agenda/?date=2026-10-25")
    page.wait_for_load_state("networkidle")
    expect(page.get_by_role("heading", level=2, name="Sunday 25 October 2026")).to_be_visible()
    expect(page.get_by_role("row", name="09:00–10:00 Autumn Client")).to_be_visible()
    assert "Private health details" not in page.content()
    check_accessibility(page, "day view")

    visit.goto("/admin/bookings/agenda/?view=week&date=2026-10-25")
    page.wait_for_load_state("networkidle")
    expect(page.get_by_role("heading", level=2)).to_have_count(7)
    check_accessibility(page, "week view")

    # Day by day with the keyboard alone.
    visit.goto("/admin/bookings/agenda/?date=2026-10-25")
    page.wait_for_load_state("networkidle")
    tab_to_link(page, "Next day")
    page.keyboard.press("Enter")
    page.wait_for_url("**/admin/bookings/agenda/?view=day&date=2026-10-26")
    expect(page.get_by_role("heading", level=2, name="Monday 26 October 2026")).to_be_visible()
    tab_to_link(page, "Previous day")
    page.keyboard.press("Enter")
    page.wait_for_url("**/admin/bookings/agenda/?view=day&date=2026-10-25")
    expect(page.get_by_role("row", name="09:00–10:00 Autumn Client")).to_be_visible()

    # On paper: the day and its consultations, without the admin's furniture.
    sidebar_menu = page.get_by_role("navigation", name="Main menu")
    expect(sidebar_menu).to_be_visible()
    expect(page.locator(".agenda-nav")).to_be_visible()
    page.emulate_media(media="print")
    expect(sidebar_menu).to_be_hidden()
    expect(page.get_by_role("link", name="Dashboard")).to_be_hidden()
    expect(page.locator(".agenda-nav")).to_be_hidden()
    expect(page.get_by_role("link", name="Next day")).to_be_hidden()
    expect(page.get_by_label("Go to date")).to_be_hidden()
    expect(page.get_by_role("heading", level=2, name="Sunday 25 October 2026")).to_be_visible()
    expect(page.get_by_role("row", name="09:00–10:00 Autumn Client")).to_be_visible()

    assert visit.foreign_requests() == []
