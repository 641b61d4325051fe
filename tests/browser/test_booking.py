import datetime as dt
import time

import pytest

from bookings.models import AvailabilityWindow, Booking, TimeOff
from tests.browser.conftest import WIDTHS, axe_violations

TAB_LIMIT = 80


def open_every_day():
    """Times every day, whatever the date the tests run on."""
    TimeOff.objects.all().delete()
    AvailabilityWindow.objects.all().delete()
    AvailabilityWindow.objects.bulk_create(
        AvailabilityWindow(weekday=day, start_time=dt.time(7), end_time=dt.time(21)) for day in range(7)
    )


def tab_to(page, condition, *, shift=False):
    """Press Tab until `condition` (JavaScript about document.activeElement) holds; return its description."""
    for _ in range(TAB_LIMIT):
        page.keyboard.press("Shift+Tab" if shift else "Tab")
        if page.evaluate(f"(() => {{ const el = document.activeElement; return !!({condition}); }})()"):
            return page.evaluate("document.activeElement.outerHTML.slice(0, 200)")
    raise AssertionError(f"Tab never reached an element where {condition}")


def check_accessibility(visit, step):
    violations, report = axe_violations(visit.page)
    assert violations == [], f"{step}: {report}"


@pytest.mark.parametrize("width", WIDTHS)
@pytest.mark.parametrize("javascript", [True, False], ids=["with-js", "without-js"])
def test_visitor_books_by_keyboard_alone(demo_site, open_page, width, javascript):
    open_every_day()
    visit = open_page(width=width, site_scripts=javascript, timezone_id="Europe/Berlin")
    page = visit.page

    visit.goto("/book/")
    check_accessibility(visit, "consultation types")
    tab_to(page, "el.textContent.includes('Choose a time for Free discovery call')")
    page.keyboard.press("Enter")
    page.wait_for_url("**/book/discovery-call/**")
    page.wait_for_load_state("networkidle")
    zone = page.get_by_label("Show times in").input_value()
    assert zone == ("Europe/Berlin" if javascript else "Europe/London"), "the visitor's zone; the practice's without JS"
    check_accessibility(visit, "times")

    label = tab_to(page, "el.classList.contains('slot')")
    assert "aria-label=" in label and "time" in label
    page.keyboard.press("Enter")
    page.wait_for_url("**/details/**")
    started = time.monotonic()
    check_accessibility(visit, "details")

    tab_to(page, "el.id === 'id_name'")
    page.keyboard.type("Keyboard Visitor")
    tab_to(page, "el.id === 'id_email'")
    page.keyboard.type("keyboard@example.com")
    tab_to(page, "el.id === 'id_phone'")  # a phone consultation: the practice calls this number
    page.keyboard.type("020 7946 0000")
    tab_to(page, "el.id === 'id_reason'")
    page.keyboard.type("I would like help with my digestion.")
    for field in ("id_consent_privacy", "id_consent_health_data", "id_acknowledged_not_emergency"):
        tab_to(page, f"el.id === '{field}'")
        page.keyboard.press("Space")
    tab_to(page, "el.type === 'submit' && el.textContent.includes('Book this time')")
    time.sleep(max(0, 3.2 - (time.monotonic() - started)))  # people take longer than the bot threshold
    page.keyboard.press("Enter")
    page.wait_for_url("**/book/manage/**")

    assert page.get_by_role("heading", name="Booking confirmed").is_visible()
    booking = Booking.objects.get(email="keyboard@example.com")
    assert booking.reference in page.locator(".reference").inner_text()
    check_accessibility(visit, "confirmation")
    assert visit.foreign_requests() == []
    blocked_scripts = "net::ERR_FAILED"  # the scripts refused above, when running without JavaScript
    assert [error for error in visit.console_errors if javascript or blocked_scripts not in error] == []


def test_the_visitors_own_time_zone_is_detected(demo_site, browser, live_server):
    open_every_day()
    context = browser.new_context(timezone_id="America/New_York")
    page = context.new_page()
    try:
        page.goto(live_server.url + "/book/discovery-call/")
        page.wait_for_url("**tz=America%2FNew_York**")
        assert page.get_by_label("Show times in").input_value() == "America/New_York"
        first = page.locator(".slot").first.get_attribute("aria-label")
        assert first.endswith("America/New_York time")
    finally:
        context.close()


def test_a_visitor_abroad_gets_the_time_picker_built_once_in_their_zone(demo_site, browser, live_server):
    """From an article's call to action to the times: the picker is asked for once, already in their zone."""
    open_every_day()
    context = browser.new_context(timezone_id="Asia/Tokyo")
    page = context.new_page()
    pickers = []
    page.on(
        "request",
        lambda request: "/book/" in request.url and request.resource_type == "document" and pickers.append(request.url),
    )
    try:
        page.goto(live_server.url + "/articles/alopecia-areata-and-leaky-gut/")
        page.locator(".cta--book a.button").first.click()
        page.wait_for_load_state("load")
        if "/book/discovery-call/" not in page.url and page.locator("a[href*='/book/discovery-call/']").count():
            page.locator("a[href*='/book/discovery-call/']").first.click()
            page.wait_for_load_state("load")
        page.locator(".slot").first.wait_for()
        assert page.get_by_label("Show times in").input_value() == "Asia/Tokyo"
        picker_loads = [url for url in pickers if "/book/discovery-call/" in url]
        assert len(picker_loads) == 1, pickers
        assert "tz=Asia%2FTokyo" in picker_loads[0]
    finally:
        context.close()


@pytest.mark.parametrize("width", WIDTHS)
def test_form_errors_are_announced_and_accessible(demo_site, open_page, width):
    open_every_day()
    visit = open_page(width=width)
    page = visit.page
    visit.goto("/book/discovery-call/")
    page.locator(".slot").first.click()
    page.wait_for_url("**/details/**")
    page.get_by_role("button", name="Book this time").click()
    page.wait_for_load_state()
    alert = page.get_by_role("alert")
    assert "Please check" in alert.inner_text()
    assert page.locator("#id_name").get_attribute("aria-invalid") == "true"
    check_accessibility(visit, "details with errors")
    assert not Booking.objects.exists()
