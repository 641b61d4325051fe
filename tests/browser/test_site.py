from urllib.parse import parse_qs, urlsplit

import pytest

from tests.browser.conftest import WIDTHS, axe_violations


def test_visitor_follows_the_menu_to_the_about_page(demo_site, open_page):
    visit = open_page(width=1280)
    visit.goto("/")
    page = visit.page
    assert page.locator("h1").inner_text() == "Calm, practical support for autoimmune and gut health"

    page.get_by_role("navigation", name="Main").get_by_role("link", name="About Naomi").click()
    page.wait_for_url("**/about/")
    assert page.locator("h1").inner_text() == "About Naomi"
    current = page.get_by_role("navigation", name="Main").locator("[aria-current=page]")
    assert current.inner_text() == "About Naomi"
    assert visit.foreign_requests() == []
    assert visit.console_errors == []


def test_keyboard_user_skips_straight_to_the_content(demo_site, open_page):
    visit = open_page(width=390)
    visit.goto("/about/")
    page = visit.page
    page.keyboard.press("Tab")
    skip = page.locator(".skip-link")
    assert page.evaluate("document.activeElement.className") == "skip-link"
    box = skip.bounding_box()
    assert box is not None and box["y"] >= 0, "the focused skip link must be on screen"
    page.keyboard.press("Enter")
    assert page.evaluate("document.activeElement.id") == "main"
    page.keyboard.press("Tab")
    focused_inside_main = page.evaluate("document.getElementById('main').contains(document.activeElement)")
    assert focused_inside_main


def test_book_call_to_action_leads_to_the_booking_page(demo_site, open_page):
    visit = open_page(width=390)
    visit.goto("/")
    link = visit.page.locator(".hero").get_by_role("link", name="Book a consultation")
    href = urlsplit(link.get_attribute("href"))
    assert href.path == "/book/"
    # The visitor's own zone rides along, so that the time picker is built in it the first time.
    zone = visit.page.evaluate("Intl.DateTimeFormat().resolvedOptions().timeZone")
    assert parse_qs(href.query) == {"tz": [zone]}


@pytest.mark.parametrize("width", WIDTHS)
@pytest.mark.parametrize("path", ["/", "/about/", "/search/?q=naomi", "/no-such-page/"])
def test_public_pages_have_no_accessibility_violations(demo_site, open_page, path, width):
    visit = open_page(width=width)
    response = visit.goto(path)
    assert response.status == (404 if path == "/no-such-page/" else 200)
    violations, report = axe_violations(visit.page)
    assert violations == [], report
    assert visit.foreign_requests() == []


def test_search_results_page_lists_matches(demo_site, open_page):
    visit = open_page()
    visit.goto("/")
    visit.goto("/search/")
    page = visit.page
    page.get_by_label("Search articles and pages").fill("privacy")
    page.get_by_role("button", name="Search").click()
    page.wait_for_url("**/search/?q=privacy")
    assert page.get_by_role("link", name="Privacy policy").first.is_visible()


def test_accessibility_check_reports_a_planted_violation(demo_site, open_page):
    """The axe harness itself: a button with no name must be caught."""
    visit = open_page()
    visit.goto("/")
    visit.page.evaluate("document.querySelector('main').insertAdjacentHTML('beforeend', '<button></button>')")
    violations, _ = axe_violations(visit.page)
    assert "button-name" in [violation["id"] for violation in violations]


def test_video_loads_from_the_video_site_only_after_the_visitor_asks(demo_site, open_page):
    import json

    from wagtail.models import Page

    about = Page.objects.get(slug="about").specific
    body = about.body.raw_data
    body.append(
        {"type": "embed", "value": {"url": "https://youtu.be/dQw4w9WgXcQ", "title": "Breathing", "caption": ""}}
    )
    about.body = json.dumps(list(body))
    about.save_revision().publish()

    visit = open_page()
    visit.goto("/about/")
    page = visit.page
    page.wait_for_load_state("networkidle")
    assert visit.foreign_requests() == []

    page.get_by_role("link", name="Play video: Breathing").click()
    frame = page.locator("iframe[title='Breathing']")
    frame.wait_for(state="attached")
    assert frame.get_attribute("src").startswith("https://www.youtube-nocookie.com/embed/dQw4w9WgXcQ")
    page.wait_for_timeout(200)
    assert visit.foreign == [] or all("youtube-nocookie.com" in url for url in visit.foreign)
