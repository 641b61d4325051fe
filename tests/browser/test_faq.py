"""The services page's questions and answers in a real browser: accessible, and opened by keyboard without script."""

import json
import re

import pytest

from tests.browser.conftest import WIDTHS, axe_violations


@pytest.mark.parametrize("width", WIDTHS)
def test_the_services_page_with_questions_has_no_accessibility_violations(demo_site, open_page, width):
    visit = open_page(width=width)
    response = visit.goto("/services/")
    assert response.status == 200
    assert visit.page.locator("details.faq__item").count() >= 3
    violations, report = axe_violations(visit.page)
    assert violations == [], report
    # With every answer open too: what a visitor reads must pass as well.
    visit.page.evaluate("document.querySelectorAll('details').forEach((d) => { d.open = true; })")
    violations, report = axe_violations(visit.page)
    assert violations == [], report
    assert visit.foreign_requests() == []
    assert visit.console_errors == []


def test_a_keyboard_user_opens_and_closes_an_answer_without_any_script(demo_site, open_page):
    visit = open_page(width=390, site_scripts=False)
    visit.goto("/services/")
    page = visit.page
    question = page.get_by_text("Do I need a referral from my doctor?")
    answer = page.get_by_text("No, you can book yourself.")
    assert not answer.is_visible()

    question.focus()  # as after tabbing to it
    assert page.evaluate("document.activeElement.tagName") == "SUMMARY"
    page.keyboard.press("Enter")
    answer.wait_for(state="visible")
    page.keyboard.press("Space")
    answer.wait_for(state="hidden")


def test_tabbing_reaches_every_question_in_order(demo_site, open_page):
    visit = open_page(width=1280)
    visit.goto("/services/")
    page = visit.page
    expected = page.locator("summary.faq__question").all_inner_texts()
    reached = []
    for _ in range(60):
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement.tagName") == "SUMMARY":
            reached.append(page.evaluate("document.activeElement.innerText"))
        if len(reached) == len(expected):
            break
    assert reached == expected


def test_the_questions_structured_data_parses_in_the_page(demo_site, open_page):
    visit = open_page()
    visit.goto("/services/")
    scripts = visit.page.locator('script[type="application/ld+json"]').all_inner_texts()
    [faq] = [data for data in map(json.loads, scripts) if data["@type"] == "FAQPage"]
    questions = [entry["name"] for entry in faq["mainEntity"]]
    assert questions == visit.page.locator("summary.faq__question").all_inner_texts()
    assert all(re.search(r"\S", entry["acceptedAnswer"]["text"]) for entry in faq["mainEntity"])
