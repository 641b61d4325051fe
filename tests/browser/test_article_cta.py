"""A reader follows an article's call to action straight to the suggested consultation, and books it."""

import re
import time
from urllib.parse import quote

from bookings.models import Booking
from tests.browser.test_booking import open_every_day

ARTICLE = "/articles/alopecia-areata-and-leaky-gut/"  # its call to action suggests the free discovery call


def test_reader_books_the_consultation_an_article_suggests(demo_site, open_page):
    open_every_day()
    visit = open_page(width=390, timezone_id="Europe/London")
    page = visit.page

    visit.goto(ARTICLE)
    invitation = page.locator(".article__body .cta--book")
    assert invitation.count() == 1
    invitation.get_by_role("link", name="Book a consultation").click()
    page.wait_for_url(re.compile(r".*/book/discovery-call/\?.*src=" + re.escape(quote(ARTICLE, safe=""))))
    page.wait_for_load_state("networkidle")
    assert "Free discovery call" in page.locator("main").inner_text()

    page.locator(".slot").first.click()
    page.wait_for_url("**/book/discovery-call/details/**")
    started = time.monotonic()
    page.locator("#id_name").fill("Article Reader")
    page.locator("#id_email").fill("reader@example.com")
    page.locator("#id_phone").fill("020 7946 0999")  # the discovery call is a phone call
    page.locator("#id_reason").fill("I read the article about alopecia and would like to talk.")
    for consent in ("id_consent_privacy", "id_consent_health_data", "id_acknowledged_not_emergency"):
        page.locator(f"#{consent}").check()
    time.sleep(max(0, 3.2 - (time.monotonic() - started)))  # people take longer than the bot threshold
    page.get_by_role("button", name="Book this time").click()
    page.wait_for_url("**/book/manage/**")

    booking = Booking.objects.get(email="reader@example.com")
    assert booking.consultation_type.slug == "discovery-call"
    assert booking.source_page == ARTICLE
    assert booking.reference in page.locator(".reference").inner_text()
    assert visit.foreign_requests() == []
