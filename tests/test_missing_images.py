"""
A page whose image has lost its original file renders without that image and logs a warning, never a 500.

The files are deleted from the local media storage here; tests/test_object_storage.py does the same with
an object deleted from an S3 bucket.
"""

import io
import logging
import re
from pathlib import Path

from django.conf import settings
from django.core.management import call_command

from wagtail.images import get_image_model
from wagtail.models import Page

import pytest

from articles.models import ArticlePage
from practice.images import SOCIAL_IMAGE_SPEC
from tests.factories.articles import ArticlePageFactory, AuthorFactory
from tests.html import jsonld, meta
from tests.images import make_image

PUBLIC_PATHS = ["/", "/articles/", "/articles/gut-and-skin/", "/articles/feed/"]


def delete_original(image):
    image.file.storage.delete(image.file.name)
    assert not image.file.storage.exists(image.file.name)


def missing_image_warnings(caplog):
    return [record for record in caplog.records if record.name == "practice.images" and record.levelname == "WARNING"]


@pytest.fixture
def pictures(home_page, article_index, practice_settings):
    """A home page, an article and its author, each with an image of its own; the article's appears twice."""
    home_page.hero_image = make_image(title="Home hero")
    home_page.hero_image_alt = "A bright kitchen"
    home_page.save_revision().publish()
    hero = make_image(title="Article hero")
    author = AuthorFactory(name="Naomi", bio="Naomi works with autoimmune conditions.", photo=make_image(title="Face"))
    ArticlePageFactory(
        parent=article_index,
        title="Gut and skin",
        slug="gut-and-skin",
        hero_image=hero,
        hero_image_alt="A bowl of vegetables",
        body=[("image", {"image": hero, "alt_text": "The same bowl", "caption": "Lunch"})],
        authors=[author],
    )
    return {"home": home_page.hero_image, "hero": hero, "photo": author.photo}


@pytest.mark.django_db
def test_pages_render_without_images_whose_original_file_is_missing(client, pictures, caplog):
    for image in pictures.values():
        delete_original(image)
    with caplog.at_level(logging.WARNING):
        pages = {path: client.get(path) for path in PUBLIC_PATHS}
    assert {path: response.status_code for path, response in pages.items()} == dict.fromkeys(PUBLIC_PATHS, 200)
    for path in ["/", "/articles/", "/articles/gut-and-skin/"]:
        html = pages[path].content.decode()
        assert "<img" not in html and "<picture" not in html and "not-found" not in html, path
        assert meta(html, "property", "og:image") is None, path
    article_html = pages["/articles/gut-and-skin/"].content.decode()
    assert "image" not in jsonld(article_html)[0]
    assert "Lunch" in article_html, "the caption stays"

    warnings = missing_image_warnings(caplog)
    messages = [record.getMessage() for record in warnings]
    for image in pictures.values():
        assert any(f"image {image.pk} " in message for message in messages), (image.title, messages)
    assert any(SOCIAL_IMAGE_SPEC in message for message in messages)
    assert any("fill-160x160" in message for message in messages), "the author's photo"
    assert any("format-webp|fill-480x270" in message for message in messages), "the article's hero"
    for message in messages:
        assert "original_images" not in message and "hero" not in message.lower(), "only the id and the spec"


@pytest.mark.django_db
def test_a_rendition_made_before_the_original_went_missing_is_still_shown(client, pictures, caplog):
    assert client.get("/articles/gut-and-skin/").status_code == 200
    delete_original(pictures["hero"])
    with caplog.at_level(logging.WARNING):
        html = client.get("/articles/gut-and-skin/").content.decode()
    hero = html.split('class="wrap article__hero"', 1)[1].split("</picture>", 1)[0]
    assert re.search(r'<img[^>]+src="/media/images/[^"]+"', hero)
    assert meta(html, "property", "og:image").startswith("http://testserver/media/images/")
    assert missing_image_warnings(caplog) == []


@pytest.mark.django_db
def test_the_demo_site_still_answers_every_page_with_all_originals_gone(client, caplog):
    call_command("load_demo_content", stdout=io.StringIO())
    images = list(get_image_model().objects.all())
    assert images
    for image in images:
        delete_original(image)
    paths = ["/", "/articles/", "/articles/feed/", "/about/"]
    paths += [article.url for article in ArticlePage.objects.live()]
    with caplog.at_level(logging.WARNING):
        statuses = {path: client.get(path).status_code for path in paths}
    assert statuses == dict.fromkeys(paths, 200)
    assert missing_image_warnings(caplog)
    assert Page.objects.live().count() > len(paths) - 1


def test_templates_take_their_image_tags_from_practice_tags():
    """Wagtail's own tags would render a broken <img src="…/not-found"> and log nothing."""
    templates = Path(settings.BASE_DIR) / "templates"
    users = []
    for path in templates.rglob("*.html"):
        text = path.read_text()
        assert "wagtailimages_tags" not in text, path
        if re.search(r"{%\s*(image|picture|srcset_image)\s", text):
            users.append(path.name)
            assert re.search(r"{%\s*load\s[^%]*\bpractice_tags\b", text), path
    assert {"article_page.html", "article_card.html", "home_page.html"} <= set(users)
