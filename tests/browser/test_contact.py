import time

import pytest

from bookings.models import Enquiry, Notification
from tests.browser.conftest import WIDTHS, axe_violations
from tests.browser.test_booking import tab_to

MESSAGE = "Could we talk about my energy levels before I book?"


def check_accessibility(visit, step):
    violations, report = axe_violations(visit.page)
    assert violations == [], f"{step}: {report}"


@pytest.mark.parametrize("width", WIDTHS)
def test_visitor_sends_a_message_by_keyboard_alone(demo_site, open_page, width):
    visit = open_page(width=width)
    page = visit.page

    visit.goto("/")
    assert page.get_by_role("navigation", name="Main").get_by_role("link", name="Contact").count() == 1
    visit.goto("/contact/")
    started = time.monotonic()
    assert page.locator("h1").inner_text() == "Contact"
    check_accessibility(visit, "empty form")

    tab_to(page, "el.type === 'submit' && el.textContent.includes('Send my message')")
    page.keyboard.press("Enter")
    page.wait_for_load_state()
    alert = page.get_by_role("alert")
    assert "Please check 4 answers" in alert.inner_text()
    assert page.locator("#id_name").get_attribute("aria-invalid") == "true"
    assert page.locator("#id_message").get_attribute("aria-describedby") == "id_message-help id_message-error"
    check_accessibility(visit, "form with errors")
    assert not Enquiry.objects.exists()

    tab_to(page, "el.id === 'id_name'")
    page.keyboard.type("Keyboard Visitor")
    tab_to(page, "el.id === 'id_email'")
    page.keyboard.type("keyboard@example.com")
    tab_to(page, "el.id === 'id_topic_0'")  # Tab reaches the chosen radio; arrow keys choose another
    page.keyboard.press("ArrowDown")
    assert page.locator("#id_topic_1").is_checked()
    tab_to(page, "el.id === 'id_message'")
    page.keyboard.type(MESSAGE)
    tab_to(page, "el.id === 'id_consent_privacy'")
    page.keyboard.press("Space")
    tab_to(page, "el.type === 'submit' && el.textContent.includes('Send my message')")
    time.sleep(max(0, 3.2 - (time.monotonic() - started)))  # people take longer than the bot threshold
    page.keyboard.press("Enter")
    page.wait_for_url("**/contact/?sent=1")

    assert "Naomi will reply to the email address you gave" in page.locator("main").inner_text()
    assert page.locator("textarea").count() == 0
    check_accessibility(visit, "thank-you")
    enquiry = Enquiry.objects.get()
    assert (enquiry.name, enquiry.email, enquiry.topic, enquiry.message) == (
        "Keyboard Visitor",
        "keyboard@example.com",
        "booking",
        MESSAGE,
    )
    assert Notification.objects.filter(enquiry=enquiry).count() == 2
    assert visit.foreign_requests() == []
    assert visit.console_errors == []
