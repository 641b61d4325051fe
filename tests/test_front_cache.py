"""
The front cache, end to end: a real Varnish (deploy/varnish/default.vcl, started by bench.varnish)
in front of the live server, and the app purging it (practice/frontend_cache.py).

Without varnishd these tests skip with a message, except where REQUIRE_BROWSER_TESTS or CI is set
(.ci/run installs Debian's varnish), where a missing varnishd fails the run.
"""

import http.client
import os
import re
import socket
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlsplit

from django.contrib.auth.models import Group, Permission
from django.test import Client

from wagtail.actions.move_page import MovePageAction
from wagtail.models import GroupPagePermission, Page, PageViewRestriction, Site
from wagtail.test.utils.form_data import rich_text, streamfield

import pytest

from articles.models import ArticleIndexPage, ArticlePage
from bench.varnish import Varnish, VarnishNotInstalledError, varnish_executable
from practice.frontend_cache import HTTPBackend
from practice.models import PracticeSettings, StandardPage
from tests.factories.articles import ArticleIndexPageFactory, ArticlePageFactory, AuthorFactory, TopicFactory
from tests.factories.bookings import ConsultationTypeFactory
from tests.factories.practice import ContactPageFactory, HomePageFactory, StandardPageFactory
from tests.images import make_image
from tests.test_articles import article_form_data
from tests.wagtail_base import ensure_wagtail_base

ARTICLE = "/articles/alopecia-areata-and-leaky-gut/"


@pytest.fixture(scope="module")
def varnish(live_server, django_db_setup, django_db_blocker, tmp_path_factory):
    try:
        varnish_executable()
        varnish_executable("varnishadm")
    except VarnishNotInstalledError as error:
        if os.environ.get("REQUIRE_BROWSER_TESTS") or os.environ.get("CI"):
            pytest.fail(str(error), pytrace=False)
        pytest.skip(str(error))
    live = urlsplit(live_server.url)
    # Varnish's health checks (/healthz, every 2 s) reach the database between tests too.
    workdir = tmp_path_factory.mktemp("varnish")
    with django_db_blocker.unblock(), Varnish(backends=[(live.hostname, live.port)], workdir=workdir) as varnish:
        yield varnish


@pytest.fixture
def site(varnish, transactional_db, settings):
    """
    A small site: home, about, contact, the article index and three articles on one topic. It is
    served, and so purged, at Varnish's address: pages' full URLs, and the Host of Wagtail's PURGE
    requests, are 127.0.0.1:<Varnish's port>, as visitors' requests are. The cache starts empty.
    """
    ensure_wagtail_base()
    home = HomePageFactory(parent=Page.get_first_root_node(), title="Home")
    Site.objects.all().delete()
    site = Site.objects.create(hostname="127.0.0.1", port=varnish.port, root_page=home, is_default_site=True)
    PracticeSettings.objects.update_or_create(site=site, defaults={"practice_name": "Naomi Integrative Health"})
    StandardPageFactory(parent=home, title="About Naomi", slug="about", show_in_menus=True)
    ContactPageFactory(parent=home, show_in_menus=True)
    index = ArticleIndexPageFactory(parent=home, show_in_menus=True)
    topic = TopicFactory(name="Gut health", slug="gut-health")
    author = AuthorFactory(name="Naomi")
    image = make_image(size=(320, 200))
    ConsultationTypeFactory(name="Discovery call", slug="discovery-call")  # the article form offers it
    for slug, title in [
        ("alopecia-areata-and-leaky-gut", "Alopecia areata and a leaky gut"),
        ("probiotics-explained", "Probiotics explained"),
        ("fibre-and-you", "Fibre and you"),
    ]:
        article = ArticlePageFactory(
            parent=index,
            title=title,
            slug=slug,
            hero_image=image,
            hero_image_alt="A bowl of oats",
            topics=[topic],
            authors=[author],
        )
        article.save_revision().publish()
    settings.WAGTAILFRONTENDCACHE = {
        "varnish": {"BACKEND": "practice.frontend_cache.HTTPBackend", "LOCATION": varnish.purge_url}
    }
    varnish.clear()
    return site


@pytest.fixture
def editor(site, page_editor):
    """A page editor (Wagtail's Editors group, no second factor needed) signed in to the test client."""
    editors = Group.objects.get(name="Editors")
    for codename in ("add_page", "change_page", "publish_page", "delete_page"):
        GroupPagePermission.objects.get_or_create(
            group=editors, page=site.root_page, permission=Permission.objects.get(codename=codename)
        )
    client = Client()
    client.force_login(page_editor)
    return client


class Response:
    def __init__(self, status, headers, body):
        self.status, self.headers, self.text = status, headers, body.decode()

    @property
    def cache(self):
        return self.headers.get("X-Cache")


def fetch(varnish, path, *, cookie=None, method="GET"):
    """A request to Varnish as a browser without a cache of its own makes it."""
    connection = http.client.HTTPConnection("127.0.0.1", varnish.port, timeout=30)
    try:
        connection.request(method, path, headers={"Cookie": cookie} if cookie else {})
        response = connection.getresponse()
        return Response(response.status, response.headers, response.read())
    finally:
        connection.close()


def cached(varnish, path):
    """Asks twice and checks that the second answer came from the cache; returns it."""
    fetch(varnish, path)
    response = fetch(varnish, path)
    assert response.status == 200, path
    assert response.cache == "HIT", f"{path} was not cached: {dict(response.headers)}"
    assert int(response.headers["Age"]) >= 0
    return response


def publish_edit(editor, article, **changes):
    """Edits the article in Wagtail's page editor and presses Publish, as an editor does."""
    data = article_form_data(
        article.hero_image_id,
        article.authors.first(),
        article.reviewed_by or article.authors.first(),
        article.topics.first(),
        **{
            "slug": article.slug,
            "title": article.title,
            "body": streamfield([("paragraph", rich_text("<p>Fresh advice on the gut.</p>"))]),
            **changes,
        },
    )
    response = editor.post(f"/admin/pages/{article.pk}/edit/", {**data, "action-publish": "action-publish"})
    assert response.status_code == 302, response.context["form"].errors if response.context else response
    return ArticlePage.objects.get(pk=article.pk)


def test_a_published_edit_shows_at_once_through_the_cache(site, editor, varnish):
    article = ArticlePage.objects.get(url_path__endswith="/alopecia-areata-and-leaky-gut/")
    topic = article.topics.first()
    listings = ["/articles/", "/articles/?page=1", f"/articles/?topic={topic.slug}", "/articles/feed/", "/"]
    assert "Fresh advice on the gut." not in cached(varnish, ARTICLE).text
    for path in listings:
        assert "Alopecia, the gut and you" not in cached(varnish, path).text

    publish_edit(editor, article, title="Alopecia, the gut and you")

    fresh = fetch(varnish, ARTICLE)
    assert fresh.cache == "MISS"
    assert "Fresh advice on the gut." in fresh.text
    assert "<h1>Alopecia, the gut and you</h1>" in fresh.text
    for path in listings:
        assert "Alopecia, the gut and you" in fetch(varnish, path).text, path
    assert fetch(varnish, ARTICLE).cache == "HIT"  # and the fresh page is cached again


def test_unpublishing_gives_404_through_the_cache(site, editor, varnish):
    article = ArticlePage.objects.get(url_path__endswith="/alopecia-areata-and-leaky-gut/")
    cached(varnish, ARTICLE)
    for path in ("/articles/", "/articles/feed/", "/"):
        assert article.title in cached(varnish, path).text, path

    response = editor.post(f"/admin/pages/{article.pk}/unpublish/")
    assert response.status_code == 302

    assert fetch(varnish, ARTICLE).status == 404
    for path in ("/articles/", "/articles/feed/", "/"):
        assert article.title not in fetch(varnish, path).text, path


def test_deleting_purges_the_old_url(site, editor, varnish):
    article = ArticlePage.objects.get(url_path__endswith="/alopecia-areata-and-leaky-gut/")
    cached(varnish, ARTICLE)
    cached(varnish, "/articles/feed/")

    response = editor.post(f"/admin/pages/{article.pk}/delete/")
    assert response.status_code == 302
    assert not ArticlePage.objects.filter(pk=article.pk).exists()

    assert fetch(varnish, ARTICLE).status == 404
    assert article.title not in fetch(varnish, "/articles/feed/").text


def test_a_new_slug_or_a_move_purges_the_old_urls(site, editor, varnish):
    article = ArticlePage.objects.get(url_path__endswith="/alopecia-areata-and-leaky-gut/")
    cached(varnish, ARTICLE)
    publish_edit(editor, article, slug="alopecia-and-the-gut")
    # Wagtail leaves a redirect from the old URL (the cached 200 is gone).
    assert fetch(varnish, ARTICLE).headers["Location"].endswith("/articles/alopecia-and-the-gut/")
    assert fetch(varnish, "/articles/alopecia-and-the-gut/").status == 200

    # The whole article section moves under another page: its articles' old URLs go with it.
    other = next(page for page in ArticlePage.objects.live() if page.pk != article.pk)
    cached(varnish, other.url)
    cached(varnish, "/articles/feed/")
    about = StandardPage.objects.get(url_path__endswith="/about/")
    MovePageAction(ArticleIndexPage.objects.get(), about, pos="last-child").execute(skip_permission_checks=True)

    for old in (other.url, "/articles/feed/"):
        assert fetch(varnish, old).status in (301, 302, 404), old
    assert fetch(varnish, "/about" + other.url).status == 200


def test_an_article_publish_sends_a_few_purges_however_many_articles_there_are(site, editor, varnish, monkeypatch):
    index = ArticleIndexPage.objects.get()
    topic = ArticlePage.objects.first().topics.first()
    for number in range(12):
        ArticlePageFactory(parent=index, title=f"Sibling {number}", slug=f"sibling-{number}", topics=[topic])
    sibling = ArticlePage.objects.get(slug="sibling-3")
    listings = ["/articles/?page=2", f"/articles/?topic={topic.slug}", "/articles/feed/", sibling.url]
    for path in [*listings, "/about/"]:
        cached(varnish, path)
    from wagtail.contrib.frontend_cache import utils

    recorded = []
    original = utils.purge_urls_from_cache

    def recording(urls, **kwargs):
        recorded.append(list(urls))
        return original(urls, **kwargs)

    monkeypatch.setattr(utils, "purge_urls_from_cache", recording)
    article = ArticlePage.objects.get(url_path__endswith="/alopecia-areata-and-leaky-gut/")
    publish_edit(editor, article, title="Alopecia, the gut and you")

    (urls,) = recorded
    assert len(urls) <= 6, urls  # the article, the index with everything below it, home, sitemap
    assert any(url.endswith("/articles/*") for url in urls)
    for path in listings:  # a sibling, which may list it as related, and the index's variants: purged
        assert fetch(varnish, path).cache == "MISS", path
    assert fetch(varnish, "/about/").cache == "HIT"  # outside the article section: kept


def test_a_new_practice_name_shows_on_every_page_through_the_cache(site, varnish):
    pages = [ARTICLE, "/articles/", "/articles/?page=1", "/articles/feed/"]
    for path in pages:
        assert "Gentle Gut Clinic" not in cached(varnish, path).text

    practice = PracticeSettings.for_site(site)
    practice.practice_name = "Gentle Gut Clinic"
    practice.save()

    for path in [*pages, "/"]:
        assert "Gentle Gut Clinic" in fetch(varnish, path).text, path


def test_a_page_made_private_leaves_the_cache_at_once(site, editor, varnish):
    article = ArticlePage.objects.get(url_path__endswith="/alopecia-areata-and-leaky-gut/")
    assert 'name="password"' not in cached(varnish, ARTICLE).text
    assert "Alopecia areata and a leaky gut" in cached(varnish, "/articles/").text

    # The editor sets a password in the page's privacy dialog.
    response = editor.post(
        f"/admin/pages/{article.pk}/privacy/", {"restriction_type": "password", "password": "a-long-secret-2026"}
    )
    assert response.status_code == 200
    assert PageViewRestriction.objects.filter(page=article).exists()

    private = fetch(varnish, ARTICLE)
    assert private.cache != "HIT"
    assert 'name="password"' in private.text
    assert "Alopecia areata and a leaky gut" not in fetch(varnish, "/articles/").text


def test_no_visitor_gets_another_visitors_cookie_or_csrf_token(site, varnish):
    first, second = cached(varnish, ARTICLE), fetch(varnish, ARTICLE)
    for response in (first, second):
        assert response.cache == "HIT"
        assert "Set-Cookie" not in response.headers
        assert "csrfmiddlewaretoken" not in response.text
    # A visitor's own cookies (analytics, say) do not keep them from the cached page, nor split it.
    assert fetch(varnish, ARTICLE, cookie="_ga=GA1.1.123; theme=dark").cache == "HIT"

    # Pages with a form carry a CSRF token and set its cookie: never stored, each visitor their own.
    tokens = set()
    for path in ["/contact/", "/contact/", "/book/", "/book/"]:
        response = fetch(varnish, path)
        assert response.status == 200, path
        assert response.cache != "HIT", path
        tokens.update(re.findall(r'name="csrfmiddlewaretoken" value="([^"]+)"', response.text))
        assert "public" not in response.headers.get("Cache-Control", ""), path
    contact = fetch(varnish, "/contact/")
    assert "csrftoken=" in contact.headers.get("Set-Cookie", "")
    assert len(tokens) >= 2  # a fresh token for each visitor, none repeated from the cache

    # A visitor with a session or a message waiting always reaches the app; their answer is not stored.
    for cookie in ("sessionid=abc", "csrftoken=abc", "messages=abc"):
        assert fetch(varnish, ARTICLE, cookie=cookie).cache == "PASS", cookie
    assert fetch(varnish, "/admin/login/").cache == "PASS"


def test_a_signed_in_editor_always_sees_the_live_page(site, editor, varnish, settings):
    article = ArticlePage.objects.get(url_path__endswith="/alopecia-areata-and-leaky-gut/")
    cached(varnish, ARTICLE)
    session = f"sessionid={editor.cookies['sessionid'].value}"

    settings.WAGTAILFRONTENDCACHE = {}  # publish without purging: Varnish still holds the old page
    publish_edit(editor, article, title="Alopecia, the gut and you")

    stale = fetch(varnish, ARTICLE)
    assert stale.cache == "HIT" and "Alopecia, the gut and you" not in stale.text
    live = fetch(varnish, ARTICLE, cookie=session)
    assert live.cache == "PASS"
    assert "<h1>Alopecia, the gut and you</h1>" in live.text
    assert "private" in live.headers["Cache-Control"]
    # The editor's answer was not stored: visitors still get the cached page (until a purge).
    after = fetch(varnish, ARTICLE)
    assert after.cache == "HIT" and "Alopecia, the gut and you" not in after.text


def test_a_front_cache_that_never_answers_costs_a_purge_its_timeout_not_the_publish(caplog):
    """A listener that accepts the connection and says nothing, like a hung Varnish."""
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        port = listener.getsockname()[1]
        backend = HTTPBackend({"LOCATION": f"http://127.0.0.1:{port}", "TIMEOUT": 0.5})
        began = time.monotonic()
        backend.purge("http://www.example.com/articles/*")
        elapsed = time.monotonic() - began
    assert elapsed < 5
    assert "Could not purge http://www.example.com/articles/* from the front cache" in caplog.text

    with socket.socket() as closed:
        closed.bind(("127.0.0.1", 0))
        port = closed.getsockname()[1]  # nothing listens there
    HTTPBackend({"LOCATION": f"http://127.0.0.1:{port}"}).purge("http://www.example.com/")
    assert caplog.text.count("Could not purge") == 2


def test_the_purges_of_one_change_are_sent_together(caplog):
    """
    A cache that answers only once all four purges of a change have arrived answers them all: they
    are sent at the same time, so a cache that hangs costs the publish one timeout, not one per URL.
    """
    arrived, seen = threading.Barrier(4, timeout=10), []

    class Cache(BaseHTTPRequestHandler):
        def do_PURGE(self):
            seen.append(self.path)
            arrived.wait()
            self.send_response(200)
            self.end_headers()

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Cache)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    paths = [f"/articles/{slug}/" for slug in ("a", "b", "c", "d")]
    try:
        backend = HTTPBackend({"LOCATION": f"http://127.0.0.1:{server.server_port}", "TIMEOUT": 5})
        backend.purge_batch([f"http://www.example.com{path}" for path in paths])
    finally:
        server.shutdown()
        server.server_close()
    assert sorted(seen) == paths
    assert "Could not purge" not in caplog.text
