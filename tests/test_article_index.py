import datetime
import re

from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from wagtail.models import Page

import pytest
import time_machine

from articles.models import ArticlePage, RelatedArticle
from tests.factories.articles import ArticlePageFactory, AuthorFactory, TopicFactory
from tests.images import make_image


def titles(html):
    return re.findall(r'<h[23] class="card__title"><a href="[^"]+">([^<]+)</a>', html)


@pytest.mark.django_db
def test_index_lists_newest_first_with_what_a_reader_needs(client, article_index, practice_settings):
    author = AuthorFactory(name="Naomi")
    image = make_image()
    ArticlePageFactory(parent=article_index, title="Older", display_date=datetime.date(2026, 1, 5), authors=[author])
    ArticlePageFactory(
        parent=article_index,
        title="Newer",
        summary="The newest one.",
        display_date=datetime.date(2026, 5, 1),
        hero_image=image,
        hero_image_alt="x",
        authors=[author],
    )
    html = client.get("/articles/").content.decode()
    assert titles(html) == ["Newer", "Older"]
    newer = html.split('<article class="card">', 2)[1]
    assert "<picture>" in newer and 'loading="lazy"' in newer
    assert "The newest one." in newer
    assert '<time datetime="2026-05-01">1 May 2026</time>' in newer
    assert "3 min read" in newer
    assert "By Naomi" in newer


@pytest.mark.django_db
def test_index_leaves_out_drafts_and_private_pages(client, article_index, practice_settings):
    ArticlePageFactory(parent=article_index, title="Published")
    draft = ArticlePageFactory(parent=article_index, title="Draft")
    draft.unpublish()
    html = client.get("/articles/").content.decode()
    assert titles(html) == ["Published"]


@pytest.mark.django_db
def test_index_is_paginated_with_links_that_keep_the_filter(client, article_index, practice_settings):
    topic = TopicFactory(slug="gut-health")
    for number in range(13):
        ArticlePageFactory(parent=article_index, title=f"Gut {number:02d}", topics=[topic])
    ArticlePageFactory(parent=article_index, title="Other")

    first = client.get("/articles/", {"topic": "gut-health"}).content.decode()
    assert len(titles(first)) == 10
    assert 'href="?topic=gut-health&amp;page=2"' in first
    second = client.get("/articles/", {"topic": "gut-health", "page": 2}).content.decode()
    assert titles(second) == ["Gut 02", "Gut 01", "Gut 00"]
    assert "Other" not in second
    assert client.get("/articles/", {"page": "nonsense"}).status_code == 200


@pytest.mark.django_db
def test_index_filters_by_topic_and_by_tag(client, article_index, practice_settings):
    gut = TopicFactory(name="Gut health", slug="gut-health")
    skin = TopicFactory(name="Skin", slug="skin")
    ArticlePageFactory(parent=article_index, title="About the gut", topics=[gut], tag_names=["fibre"])
    ArticlePageFactory(parent=article_index, title="About the skin", topics=[skin], tag_names=["probiotics"])
    ArticlePageFactory(parent=article_index, title="Both", topics=[gut, skin], tag_names=["fibre", "probiotics"])

    by_topic = client.get("/articles/?topic=gut-health").content.decode()
    assert sorted(titles(by_topic)) == ["About the gut", "Both"]
    assert '<a href="/articles/?topic=gut-health" aria-current="page">Gut health</a>' in by_topic
    assert "<h1>Articles: Gut health</h1>" in by_topic

    by_tag = client.get("/articles/?tag=probiotics").content.decode()
    assert sorted(titles(by_tag)) == ["About the skin", "Both"]

    unknown = client.get("/articles/?topic=nope").content.decode()
    assert titles(unknown) == []
    assert "We couldn’t find that topic or tag." in unknown


@pytest.mark.django_db
def test_article_links_its_topics_and_tags_to_the_filtered_index(client, article_index, practice_settings):
    topic = TopicFactory(name="Gut health", slug="gut-health")
    ArticlePageFactory(parent=article_index, slug="one", topics=[topic], tag_names=["fibre"])
    html = client.get("/articles/one/").content.decode()
    assert 'href="/articles/?topic=gut-health">Gut health</a>' in html
    assert 'href="/articles/?tag=fibre">#fibre</a>' in html


@pytest.mark.django_db
def test_related_articles_put_picked_ones_first_then_the_most_shared_topics_and_tags(
    client, article_index, practice_settings
):
    gut, skin = TopicFactory(slug="gut"), TopicFactory(slug="skin")
    main = ArticlePageFactory(parent=article_index, title="Main", topics=[gut, skin], tag_names=["fibre"])
    ArticlePageFactory(
        parent=article_index, title="Shares one topic", topics=[gut], display_date=datetime.date(2027, 1, 1)
    )
    ArticlePageFactory(parent=article_index, title="Shares topics and tag", topics=[gut, skin], tag_names=["fibre"])
    ArticlePageFactory(parent=article_index, title="Shares two topics", topics=[gut, skin])
    ArticlePageFactory(parent=article_index, title="Unrelated")
    picked = ArticlePageFactory(parent=article_index, title="Picked by the editor")
    draft = ArticlePageFactory(parent=article_index, title="Picked draft", topics=[gut, skin], tag_names=["fibre"])
    draft.unpublish()
    main.related_links.add(RelatedArticle(article=draft))
    main.related_links.add(RelatedArticle(article=picked))
    main.save_revision().publish()

    main = ArticlePage.objects.get(pk=main.pk)
    titles_by_id = dict(ArticlePage.objects.values_list("pk", "title"))
    assert [titles_by_id[pk] for pk in main.related_article_ids()] == [
        "Picked by the editor",
        "Shares topics and tag",
        "Shares two topics",
    ]
    html = client.get(main.url).content.decode()
    related = html.split('<section class="wrap related"', 1)[1]
    assert titles(related) == ["Picked by the editor", "Shares topics and tag", "Shares two topics"]


@pytest.mark.django_db
def test_article_without_anything_in_common_shows_no_related_section(client, article_index, practice_settings):
    ArticlePageFactory(parent=article_index, slug="alone")
    ArticlePageFactory(parent=article_index, slug="other")
    assert 'class="wrap related"' not in client.get("/articles/alone/").content.decode()


@pytest.mark.django_db
def test_scheduled_article_is_invisible_everywhere_until_it_goes_live(client, article_index, practice_settings):
    now = timezone.now()
    article = ArticlePageFactory(
        parent=article_index, title="Coming soon on zinc", slug="coming-soon", summary="Zinc and hair."
    )
    article.unpublish()
    article.go_live_at = now + datetime.timedelta(hours=2)
    article.save_revision().publish()
    article.refresh_from_db()
    assert not article.live

    def visible():
        places = {
            "index": "Coming soon on zinc" in client.get("/articles/").content.decode(),
            "feed": "coming-soon" in client.get("/articles/feed/").content.decode(),
            "sitemap": "coming-soon" in client.get("/sitemap.xml").content.decode(),
            "search": "coming-soon" in client.get("/search/", {"q": "zinc"}).content.decode(),
            "page": client.get("/articles/coming-soon/").status_code == 200,
        }
        return places

    assert not any(visible().values()), visible()
    call_command("publish_scheduled")
    assert not any(visible().values()), "publish_scheduled must wait for the time"

    with time_machine.travel(now + datetime.timedelta(hours=2, minutes=1), tick=False):
        call_command("publish_scheduled")
    assert all(visible().values()), visible()


@pytest.mark.django_db
def test_unpublished_article_leaves_the_index_and_feed(client, article_index, practice_settings):
    article = ArticlePageFactory(parent=article_index, title="Withdrawn", slug="withdrawn")
    assert "withdrawn" in client.get("/articles/feed/").content.decode()
    article.unpublish()
    assert "withdrawn" not in client.get("/articles/feed/").content.decode()
    assert "Withdrawn" not in client.get("/articles/").content.decode()
    assert client.get("/articles/withdrawn/").status_code == 404


def _build_articles(index, count, *, images, authors, topics, start=0):
    for number in range(start, start + count):
        ArticlePageFactory(
            parent=index,
            title=f"Article {number}",
            hero_image=images[number % len(images)],
            hero_image_alt="x",
            authors=[authors[number % len(authors)], authors[(number + 1) % len(authors)]],
            topics=[topics[number % len(topics)], topics[(number + 2) % len(topics)]],
            tag_names=[f"tag-{number % 7}", f"tag-{number % 5}", "common"],
            body=[
                ("heading", {"text": "One", "level": "h2"}),
                ("paragraph", "<p>Some words.</p>"),
                ("heading", {"text": "Two", "level": "h2"}),
                ("heading", {"text": "Three", "level": "h3"}),
            ],
        )


def _queries(client, path):
    client.get(path)  # the first view creates renditions, as a warm server already has
    with CaptureQueriesContext(connection) as queries:
        response = client.get(path)
    assert response.status_code == 200
    return len(queries)


@pytest.mark.django_db
def test_query_counts_stay_fixed_between_6_and_60_articles(client, article_index, practice_settings):
    images = [make_image(title=f"Image {number}") for number in range(3)]
    authors = [AuthorFactory(photo=images[0]) for _ in range(4)]
    topics = [TopicFactory() for _ in range(4)]
    _build_articles(article_index, 6, images=images, authors=authors, topics=topics)
    first = ArticlePage.objects.order_by("pk").first()
    small = {
        "index": _queries(client, "/articles/"),
        "article": _queries(client, first.url),
        "topic": _queries(client, f"/articles/?topic={topics[0].slug}"),
        "feed": _queries(client, "/articles/feed/"),
    }

    more_authors = authors + [AuthorFactory() for _ in range(16)]
    more_topics = topics + [TopicFactory() for _ in range(8)]
    _build_articles(article_index, 54, images=images, authors=more_authors, topics=more_topics, start=6)
    large = {
        "index": _queries(client, "/articles/"),
        "article": _queries(client, first.url),
        "topic": _queries(client, f"/articles/?topic={topics[0].slug}"),
        "feed": _queries(client, "/articles/feed/"),
    }
    assert ArticlePage.objects.live().count() == 60
    assert large == small
    assert Page.objects.live().count() > 60
