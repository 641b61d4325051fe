"""
The application's cache of anonymous public pages (practice/caching.py) and the query budget of public
pages.

"Cold" is the first request after the page itself was published again (its kept copy is gone, the
site-wide parts are still kept), "warm" the next one. Budgets from issue 10: an article at most 15
queries cold and 8 warm, the article index 8 warm, the home page 5 warm, the same with 6 and 60 articles.
"""

import gzip
import re

from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext

import pytest

from articles.models import ArticlePage
from practice import caching
from practice.models import PracticeSettings
from tests.factories.articles import AuthorFactory, TopicFactory
from tests.images import make_image
from tests.test_article_index import _build_articles

pytestmark = pytest.mark.django_db

# The issue allows an article 15 queries cold. After a publish it makes 3 (the page, its topics, tags and
# authors' ids, the related articles; the hero's picture and link preview are kept); with every cache emptied
# 13 (the sites with their home pages, routing 2, private sections, those 3, the people, the cards' articles
# and their authors, the renditions of every picture, the settings, the feed's index, the menu; a body with a
# consultation block reads its type too, as the demo's does). Pinned there, so that one more is a decision,
# not an accident.
ARTICLE_COLD, ARTICLE_EMPTY, ARTICLE_WARM, INDEX_WARM, HOME_WARM = 3, 13, 8, 8, 5


def queries(client, path, **headers):
    with CaptureQueriesContext(connection) as captured:
        response = client.get(path, **headers)
    assert response.status_code == 200, path
    return len(captured), response


def publish(page):
    page.save_revision().publish()


@pytest.fixture
def content(article_index, about_page, practice_settings):
    images = [make_image(title=f"Image {number}") for number in range(3)]
    authors = [AuthorFactory(photo=images[0]) for _ in range(4)]
    topics = [TopicFactory() for _ in range(4)]
    _build_articles(article_index, 6, images=images, authors=authors, topics=topics)
    return {"images": images, "authors": authors, "topics": topics}


def budget(client, article):
    client.get(article.url)
    client.get("/articles/")
    client.get("/")
    publish(ArticlePage.objects.get(pk=article.pk))
    cold, _ = queries(client, article.url)
    warm, _ = queries(client, article.url)
    cache.clear()
    caching._local.clear()
    empty, _ = queries(client, article.url)
    client.get("/articles/")
    index_warm, _ = queries(client, "/articles/")
    client.get("/")
    home_warm, _ = queries(client, "/")
    return {
        "article cold": cold,
        "article empty": empty,
        "article warm": warm,
        "index warm": index_warm,
        "home warm": home_warm,
    }


def test_query_budget_holds_and_stays_the_same_from_6_to_60_articles(client, article_index, content):
    first = ArticlePage.objects.order_by("pk").first()
    small = budget(client, first)
    assert small["article cold"] <= ARTICLE_COLD, small
    assert small["article empty"] <= ARTICLE_EMPTY, small
    assert small["article warm"] <= ARTICLE_WARM, small
    assert small["index warm"] <= INDEX_WARM, small
    assert small["home warm"] <= HOME_WARM, small

    more_topics = content["topics"] + [TopicFactory() for _ in range(36)]
    more_authors = content["authors"] + [AuthorFactory() for _ in range(36)]
    _build_articles(article_index, 54, images=content["images"], authors=more_authors, topics=more_topics, start=6)
    assert ArticlePage.objects.live().count() == 60
    assert budget(client, first) == small


def test_a_kept_page_is_served_without_queries_until_what_it_shows_changes(client, content, about_page):
    article = ArticlePage.objects.order_by("pk").first()
    client.get(article.url)
    assert queries(client, article.url)[0] == 0
    client.get(about_page.url)

    author = article.authors.first()
    author.name = "Dr Renamed Author"
    author.save()

    count, response = queries(client, article.url)
    assert count > 0
    assert "Dr Renamed Author" in response.content.decode()
    # The about page does not show that author: it is still served as kept.
    assert queries(client, about_page.url)[0] == 0


def test_related_cards_bylines_and_pictures_follow_their_own_changes(client, content, about_page):
    """Kept parts of an article (related cards, the people it credits, picture markup) change with their source."""
    article = ArticlePage.objects.order_by("pk").first()
    html = client.get(article.url).content.decode()
    related = html.split('<section class="wrap related"', 1)[1]
    neighbour = ArticlePage.objects.get(title=re.search(r'card__title"><a href="[^"]+">([^<]+)<', related)[1])
    author = article.authors.order_by("name").first()
    author.about_page = about_page
    author.save()
    article.reviewed_by = AuthorFactory(name="Dr Kept Reviewer")
    publish(article)
    client.get(article.url)

    # Publishing the article again leaves the cards and people kept: none of their rows is read.
    publish(ArticlePage.objects.get(pk=article.pk))
    with CaptureQueriesContext(connection) as captured:
        client.get(article.url)
    read = [query["sql"] for query in captured]
    assert len([sql for sql in read if '"articles_articlepage"."summary"' in sql]) == 1  # the article alone
    assert not [sql for sql in read if '"articles_author"."about_page_id" = "wagtailcore_page"."id"' in sql]
    assert not [sql for sql in read if 'FROM "wagtailimages_rendition"' in sql]  # its picture and link preview too

    neighbour.title = "A neighbour renamed"
    publish(neighbour)
    reviewer = article.reviewed_by
    reviewer.name = "Dr Renamed Reviewer"
    reviewer.save()
    about_page.unpublish()
    image = article.hero_image
    image.focal_point_x, image.focal_point_y, image.focal_point_width, image.focal_point_height = 10, 10, 20, 20
    image.save()

    html = client.get(article.url).content.decode()
    assert "A neighbour renamed" in html.split('<section class="wrap related"', 1)[1]
    assert "Medically reviewed by Dr Renamed Reviewer" in html
    assert f'<span class="author-name">{author.name}' in html  # no link to a page that is gone
    hero = html.split('class="wrap article__hero"', 1)[1].split("</picture>", 1)[0]
    assert image.get_rendition("format-webp|fill-800x450").url in hero, hero  # the new crop


def test_a_new_slug_above_an_article_reaches_its_kept_cards_and_links(client, content, article_index):
    article = ArticlePage.objects.order_by("pk").first()
    assert 'href="/articles/' in client.get(article.url).content.decode().split('<section class="wrap related"')[1]

    index = type(article_index).objects.get(pk=article_index.pk)
    index.slug = "advice"
    publish(index)

    article.refresh_from_db()
    related = client.get(article.url).content.decode().split('<section class="wrap related"')[1]
    assert 'href="/advice/' in related and 'href="/articles/' not in related


def test_everything_kept_is_dropped_after_writes_without_signals(client, content):
    """A restore or a migration writes rows without signals: `invalidate_everything` follows them."""
    article = ArticlePage.objects.order_by("pk").first()
    client.get(article.url)
    ArticlePage.objects.filter(pk=article.pk).update(title="Written behind the cache's back")
    assert "Written behind the cache's back" not in client.get(article.url).content.decode()

    caching.invalidate_everything()

    assert "Written behind the cache's back" in client.get(article.url).content.decode()


def test_a_published_edit_is_never_served_stale(client, content, page_editor):
    article = ArticlePage.objects.order_by("pk").first()
    other = ArticlePage.objects.order_by("pk").last()
    for path in (article.url, "/articles/", "/articles/?page=1", "/articles/feed/", other.url):
        client.get(path)

    article = ArticlePage.objects.get(pk=article.pk)
    article.title = "A title just published"
    publish(article)

    assert "A title just published" in client.get(article.url).content.decode()
    for path in ("/articles/", "/articles/?page=1", "/articles/feed/"):
        assert "A title just published" in client.get(path).content.decode(), path


def test_unpublished_and_deleted_pages_are_gone_at_once(client, content):
    article, second = ArticlePage.objects.order_by("pk")[:2]
    for path in (article.url, second.url, "/articles/"):
        client.get(path)
        client.get(path)

    article.unpublish()
    assert client.get(article.url).status_code == 404
    assert article.title not in client.get("/articles/").content.decode()

    url = second.url
    second.delete()
    assert client.get(url).status_code == 404


def test_settings_shown_on_every_page_are_fresh_after_a_change(client, content, about_page, practice_settings):
    article = ArticlePage.objects.order_by("pk").first()
    paths = ["/", "/articles/", article.url, about_page.url]
    for path in paths:
        client.get(path)
        assert queries(client, path)[0] == 0

    site_settings = PracticeSettings.objects.get(pk=practice_settings.pk)
    site_settings.practice_name = "Renamed Practice"
    site_settings.save()

    for path in paths:
        assert "Renamed Practice" in client.get(path).content.decode(), path


def test_a_new_menu_page_shows_on_every_page(client, content, home_page, about_page):
    from tests.factories.practice import StandardPageFactory

    client.get(about_page.url)
    StandardPageFactory(parent=home_page, title="Fees", slug="fees", show_in_menus=True)
    assert ">Fees</a>" in client.get(about_page.url).content.decode()


def test_an_image_change_renders_the_pages_that_show_it_again(client, content, about_page):
    article = ArticlePage.objects.order_by("pk").first()
    client.get(article.url)
    client.get(about_page.url)
    image = article.hero_image
    image.title = "Retitled"
    image.save()
    assert queries(client, article.url)[0] > 0
    assert queries(client, about_page.url)[0] == 0


def test_a_change_during_a_render_is_not_stored(client, content, monkeypatch):
    """A publish that lands while a page renders: that render must not be kept as current."""
    article = ArticlePage.objects.order_by("pk").first()
    original = ArticlePage.get_context
    calls = []

    def racing_get_context(self, request, *args, **kwargs):
        context = original(self, request, *args, **kwargs)
        if not calls:
            calls.append(True)
            caching.invalidate(f"page:{self.pk}")  # what a publish in another process does
        return context

    monkeypatch.setattr(ArticlePage, "get_context", racing_get_context)
    client.get(article.url)
    assert queries(client, article.url)[0] > 0  # rendered again, not served from the first render
    assert queries(client, article.url)[0] == 0


def test_a_lost_token_means_a_fresh_render_never_a_stale_page(client, content):
    from django.core.cache import cache

    article = ArticlePage.objects.order_by("pk").first()
    client.get(article.url)
    cache.delete(f"rc:t:page:{article.pk}")  # evicted by a full cache
    assert queries(client, article.url)[0] > 0


class _CountingCache:
    """The shared cache, with the keys of every read noted."""

    def __init__(self, cache):
        self.cache, self.read = cache, []

    def get(self, key, *args, **kwargs):
        self.read.append([key])
        return self.cache.get(key, *args, **kwargs)

    def get_many(self, keys, *args, **kwargs):
        self.read.append(list(keys))
        return self.cache.get_many(keys, *args, **kwargs)

    def __getattr__(self, name):
        return getattr(self.cache, name)


def test_a_process_serves_its_own_copy_of_a_kept_page_after_reading_only_the_tokens(client, content, monkeypatch):
    article = ArticlePage.objects.order_by("pk").first()
    first = client.get(article.url).content
    shared = _CountingCache(caching.cache)
    monkeypatch.setattr(caching, "cache", shared)

    count, response = queries(client, article.url)

    assert count == 0
    assert response.content == first
    assert len(shared.read) == 1  # one round trip: the tokens of what the page shows, and the epoch
    assert all(key.startswith("rc:t:") or key == "rc:epoch" for key in shared.read[0])


def test_a_page_never_kept_checks_its_site_and_the_parts_every_page_shows_in_one_round_trip(
    client, content, practice_settings, monkeypatch
):
    client.get("/search/?q=gut")  # search results are never kept whole
    shared = _CountingCache(caching.cache)
    monkeypatch.setattr(caching, "cache", shared)

    assert client.get("/search/?q=gut").status_code == 200

    first = shared.read[0]
    assert any(key.startswith("rc:t:wagtailcore.site:") for key in first), first  # the site
    assert any(key.startswith("rc:t:practice.practicesettings:") for key in first), first  # its settings


def test_a_copy_held_by_a_process_is_not_used_once_what_it_shows_changed_elsewhere(client, content):
    article = ArticlePage.objects.order_by("pk").first()
    client.get(article.url)
    published = article.get_latest_revision_as_object()
    published.summary = "A summary published by another app server"
    published.save_revision().publish()
    # Every process sees the new tokens in the shared cache; this process's copies are left as they were.
    assert caching._local.get(caching.ResponseCacheMiddleware.key_for(_request_for(article.url))) is not None

    assert "A summary published by another app server" in client.get(article.url).content.decode()


def _request_for(path):
    from django.test import RequestFactory

    return RequestFactory().get(path)


def test_each_reader_of_a_kept_part_gets_its_own_copy():
    def compute():
        caching.depend("page:1")
        return ["kept"]

    with caching.one_request():
        caching.cached("a-list", compute)
    with caching.one_request():
        caching.cached("a-list", lambda: pytest.fail("read again")).append("changed by a reader")
    with caching.one_request():
        assert caching.cached("a-list", lambda: pytest.fail("read again")) == ["kept"]


def test_copies_held_by_a_process_are_bounded_in_size_and_time(settings, monkeypatch):
    tokens = {"page:1": "t"}
    entry = caching._size_of("key10", b"x" * 100, tokens)  # the longest key below
    settings.RESPONSE_CACHE_LOCAL_BYTES = 10 * entry
    copies = caching._LocalCopies()
    now = 1_000_000.0
    monkeypatch.setattr(caching.time, "time", lambda: now)
    for number in range(10):
        copies.put(f"key{number}", b"x" * 100, tokens, now + 60)
    copies.get("key0")  # used lately: kept
    copies.put("key10", b"x" * 100, tokens, now + 60)
    assert copies.get("key0") is not None
    assert copies.get("key1") is None  # the least recently used went first
    assert copies.get("key2") is not None
    copies.put("large", b"x" * (2 * entry), tokens, now + 60)
    assert copies.get("large") is None  # an eighth of the whole at most
    # Keys and tokens count too: many small parts with many tags cannot hold more than the limit.
    copies.clear()
    settings.RESPONSE_CACHE_LOCAL_BYTES = 100_000
    many_tags = {f"page:{number}": "0123456789abcdef" for number in range(20)}
    for number in range(100):
        copies.put(f"small{number}", b"x", many_tags, now + 60)
    assert copies._size <= settings.RESPONSE_CACHE_LOCAL_BYTES
    assert copies.get("small0") is None and copies.get("small99") is not None
    # Never past this process's own timeout, whatever the storing server's clock said.
    copies.put("ahead", b"x", tokens, now + 10 * settings.RESPONSE_CACHE_SECONDS)
    now += settings.RESPONSE_CACHE_SECONDS + 1
    assert copies.get("key0") is None  # past the shared entry's expiry
    assert copies.get("ahead") is None


def test_only_the_article_list_s_own_addresses_are_kept_whole(client, content):
    topic = content["topics"][0].slug
    for path in ["/articles/", "/articles/?page=1", f"/articles/?topic={topic}&page=1"]:
        client.get(path)
        assert queries(client, path)[0] == 0, path
    # Made-up addresses show a list too, but each would be one more copy kept for an hour.
    for path in [
        "/articles/?page=abc",
        "/articles/?page=99",
        "/articles/?topic=no-such-topic",
        "/articles/?page=1&page=1",
    ]:
        client.get(path)
        assert queries(client, path)[0] > 0, path


def test_signed_in_editors_get_the_live_page_and_never_leave_it_for_visitors(client, content, page_editor):
    article = ArticlePage.objects.order_by("pk").first()
    editor = type(client)()
    editor.force_login(page_editor)

    response = editor.get(article.url)
    assert "private" in response["Cache-Control"]
    assert queries(editor, article.url)[0] > 0  # never served from the kept copies
    anonymous_count, anonymous = queries(client, article.url)
    assert anonymous_count > 0  # the editor's page was not kept for visitors
    assert "wagtail-userbar" not in anonymous.content.decode()


def test_pages_with_a_csrf_token_or_a_cookie_are_never_kept(client, content, home_page):
    from tests.factories.practice import ContactPageFactory

    contact = ContactPageFactory(parent=home_page)
    first = client.get(contact.url)
    assert "csrfmiddlewaretoken" in first.content.decode()
    assert queries(client, contact.url)[0] > 0

    stranger = type(client)()
    assert first.cookies["csrftoken"].value not in stranger.get(contact.url).content.decode()


def test_a_public_page_that_used_a_csrf_token_without_setting_a_cookie_is_kept_by_no_one(rf):
    """A visitor who already holds the CSRF cookie gets a token in the page and no new cookie."""
    from django.contrib.auth.models import AnonymousUser
    from django.http import HttpResponse

    request = rf.get("/articles/", HTTP_COOKIE="csrftoken=abc")
    request.user = AnonymousUser()
    response = caching.mark_public(HttpResponse("<form>token</form>"))
    assert caching.private_reason(request, response) is None

    request.META["CSRF_COOKIE_USED"] = True
    assert caching.private_reason(request, response) == "holds a CSRF token"
    headers = caching.PublicCacheMiddleware(lambda request: response)(request)
    assert "private" in headers["Cache-Control"] and "public" not in headers["Cache-Control"]
    assert not caching.ResponseCacheMiddleware.storable(request, response)


def test_a_visitor_with_a_session_or_a_message_is_not_served_a_kept_page(client, content):
    article = ArticlePage.objects.order_by("pk").first()
    client.get(article.url)
    client.cookies["messages"] = "something"
    count, response = queries(client, article.url)
    assert count > 0
    assert "private" in response["Cache-Control"]


def test_only_known_query_parameters_are_kept(client, content):
    client.get("/articles/?page=1")
    assert queries(client, "/articles/?page=1")[0] == 0
    client.get("/articles/?utm_source=x")
    assert queries(client, "/articles/?utm_source=x")[0] > 0


def test_html_is_compressed_for_browsers_that_accept_it(client, content):
    article = ArticlePage.objects.order_by("pk").first()
    plain = client.get(article.url)
    packed = client.get(article.url, HTTP_ACCEPT_ENCODING="gzip")
    assert packed["Content-Encoding"] == "gzip"
    assert "Accept-Encoding" in packed["Vary"]
    assert gzip.decompress(packed.content) == plain.content
    assert len(packed.content) < len(plain.content) / 2


def test_a_picture_shown_twice_on_a_page_is_made_once_per_size(client, content, monkeypatch):
    """The article's own picture and a related card's are the same image: each rendition is made once."""
    from wagtail.images.models import AbstractImage

    made = []
    generate = AbstractImage.generate_rendition_file

    def counted(image, filter, **kwargs):
        made.append((image.pk, filter.spec))
        return generate(image, filter, **kwargs)

    monkeypatch.setattr(AbstractImage, "generate_rendition_file", counted)
    article = ArticlePage.objects.order_by("pk").first()
    ArticlePage.objects.update(hero_image=article.hero_image)  # nothing rendered yet: no signal needed
    html = client.get(article.url).content.decode()
    assert html.count(article.hero_image.get_rendition("format-webp|fill-800x450").url) >= 2  # the hero and a card
    assert made and len(made) == len(set(made)), made
