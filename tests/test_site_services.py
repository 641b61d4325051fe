import re
from html.parser import HTMLParser

import pytest

from tests.factories.practice import StandardPageFactory


@pytest.mark.django_db
def test_search_finds_live_pages_by_their_words(client, practice_settings, about_page, home_page):
    draft = StandardPageFactory(parent=home_page, title="Secret draft about sourdough", slug="draft")
    draft.unpublish()
    StandardPageFactory(parent=home_page, title="Sourdough and the gut", slug="sourdough")

    response = client.get("/search/", {"q": "sourdough"})
    assert response.status_code == 200
    html = response.content.decode()
    assert "1 result for “sourdough”" in html
    assert 'href="/sourdough/"' in html
    assert "Secret draft" not in html


@pytest.mark.django_db
def test_search_is_paginated(client, practice_settings, home_page):
    for number in range(12):
        StandardPageFactory(parent=home_page, title=f"Probiotics note {number}", slug=f"note-{number}")

    first = client.get("/search/", {"q": "probiotics"}).content.decode()
    assert "12 results" in first
    assert first.count('class="search-results__item"') == 10
    assert 'href="?q=probiotics&amp;page=2"' in first

    second = client.get("/search/", {"q": "probiotics", "page": 2}).content.decode()
    assert second.count('class="search-results__item"') == 2
    assert '<ol class="search-results" start="11"' in second

    past_the_end = client.get("/search/", {"q": "probiotics", "page": 99})
    assert past_the_end.status_code == 200
    assert past_the_end.content.decode().count('class="search-results__item"') == 2
    assert client.get("/search/", {"q": "probiotics", "page": "x"}).status_code == 200


@pytest.mark.django_db
def test_search_without_a_query_shows_the_form(client, practice_settings):
    response = client.get("/search/")
    assert response.status_code == 200
    html = response.content.decode()
    assert '<label for="search-q">' in html
    assert "result" not in html.lower().split("<main", 1)[1].split("</main>", 1)[0]


@pytest.mark.django_db
def test_search_with_no_match_says_so(client, practice_settings):
    html = client.get("/search/", {"q": "zzzzqqqq"}).content.decode()
    assert "No results for “zzzzqqqq”" in html


@pytest.mark.django_db
def test_sitemap_lists_live_pages_only(client, practice_settings, about_page, home_page):
    draft = StandardPageFactory(parent=home_page, title="Draft", slug="draft-page")
    draft.unpublish()
    response = client.get("/sitemap.xml")
    assert response.status_code == 200
    xml = response.content.decode()
    assert "<loc>http://localhost/about/</loc>" in xml
    assert "<loc>http://localhost/</loc>" in xml
    assert "draft-page" not in xml


@pytest.mark.django_db
def test_robots_names_the_sitemap_and_keeps_crawlers_out_of_the_admin(client):
    response = client.get("/robots.txt")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/plain")
    body = response.content.decode()
    assert "Disallow: /admin/" in body
    assert "Sitemap: http://testserver/sitemap.xml" in body


@pytest.mark.django_db
def test_health_check_answers_200_when_the_database_answers(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.content == b"ok\n"
    assert "no-cache" in response["Cache-Control"]


class _AssetCollector(HTMLParser):
    """Collects every address a browser would fetch while loading the page."""

    def __init__(self):
        super().__init__()
        self.urls = []

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag in ("script", "img", "iframe", "source", "audio", "video", "embed") and attrs.get("src"):
            self.urls.append(attrs["src"])
        if tag == "link" and attrs.get("rel") in ("stylesheet", "icon", "preload", "modulepreload"):
            self.urls.append(attrs["href"])
        for candidate in (attrs.get("srcset") or "").split(","):
            if candidate.strip():
                self.urls.append(candidate.strip().split()[0])
        if attrs.get("style") and "url(" in attrs["style"]:
            self.urls.extend(re.findall(r"url\(['\"]?([^'\")]+)", attrs["style"]))


@pytest.mark.django_db
@pytest.mark.parametrize("path", ["/", "/about/", "/search/?q=naomi", "/missing/"])
def test_public_pages_reference_nothing_from_another_origin(client, practice_settings, about_page, path):
    collector = _AssetCollector()
    collector.feed(client.get(path).content.decode())
    assert collector.urls, "the page should load its own stylesheet at least"
    for url in collector.urls:
        assert url.startswith("/") and not url.startswith("//"), url
