"""An article's call to action goes straight to the chosen consultation's times, saying which article it came from."""

import json
from urllib.parse import urlencode

from django.test import RequestFactory

import pytest

from articles.blocks import BookConsultationBlock
from articles.models import ArticlePage
from tests.factories.articles import ArticlePageFactory
from tests.factories.bookings import ConsultationTypeFactory

SRC = urlencode({"src": "/articles/gut-feelings/"})


def invitation(consultation_type):
    return {
        "heading": "Would you like support with this?",
        "text": "We can talk it through.",
        "consultation_type": consultation_type,
        "button_label": "Book a consultation",
    }


def stored(*values):
    """A body as the database holds it: JSON, with the call to action's consultation type as given."""
    return json.dumps(
        [{"type": "paragraph", "value": "<p>Words.</p>"}]
        + [{"type": "book_consultation", "value": invitation(value)} for value in values]
    )


@pytest.fixture
def article(article_index, practice_settings):
    return ArticlePageFactory(parent=article_index, title="Gut feelings", slug="gut-feelings")


def publish_with_body(article, body_json):
    """Publish `article` with a body stored exactly as given (as older versions of the block saved it)."""
    ArticlePage.objects.filter(pk=article.pk).update(body=body_json)
    page = ArticlePage.objects.get(pk=article.pk)
    page.save_revision().publish()
    return ArticlePage.objects.get(pk=article.pk)


def cta_links(client, article):
    """The links of the body's calls to action (the closing invitation under every article excluded)."""
    response = client.get(article.url)
    assert response.status_code == 200
    links = [part.split('"', 1)[0] for part in response.content.decode().split('class="button" href="')[1:]]
    assert links[-1] == "/book/"  # the closing invitation
    return links[:-1]


@pytest.mark.django_db
def test_block_links_to_the_chosen_types_time_picker_with_the_article_as_source(client, article, consultation):
    page = publish_with_body(article, stored(consultation.pk))

    assert cta_links(client, page) == [f"/book/{consultation.slug}/?{SRC}"]
    assert client.get(f"/book/{consultation.slug}/?{SRC}").status_code == 200


@pytest.mark.django_db
def test_block_without_a_type_goes_to_the_start_of_booking_with_the_source(client, article, consultation):
    page = publish_with_body(article, stored(None))

    assert cta_links(client, page) == [f"/book/?{SRC}"]


@pytest.mark.django_db
def test_legacy_slug_values_still_render(client, article, consultation):
    retired = ConsultationTypeFactory(slug="retired", is_active=False)
    page = publish_with_body(article, stored(consultation.slug, "", "no-such-type", retired.slug))

    assert cta_links(client, page) == [
        f"/book/{consultation.slug}/?{SRC}",  # the slug earlier versions stored still finds the type
        f"/book/?{SRC}",  # empty: the reader chooses
        f"/book/?{SRC}",  # a type that is gone
        f"/book/?{SRC}",  # a type no longer offered: its time picker would be a 404
    ]


@pytest.mark.django_db
def test_saving_a_legacy_value_stores_the_types_id(article, consultation):
    page = publish_with_body(article, stored(consultation.slug))
    assert page.body.raw_data[1]["value"]["consultation_type"] == consultation.slug

    assert page.body[1].value["consultation_type"] == consultation  # read it, as the editor does
    page.save_revision().publish()
    saved = ArticlePage.objects.get(pk=page.pk)
    assert saved.body.raw_data[1]["value"]["consultation_type"] == consultation.pk


@pytest.mark.django_db
def test_editor_opens_an_article_whose_revision_holds_a_legacy_slug(client, article, consultation, page_editor):
    page = publish_with_body(article, stored(consultation.slug))
    revision = page.latest_revision
    revision.content["body"] = stored(consultation.slug)
    revision.save()
    client.force_login(page_editor)

    response = client.get(f"/admin/pages/{page.pk}/edit/")
    assert response.status_code == 200
    assert consultation.name in response.content.decode()  # the chooser shows the type


@pytest.mark.django_db
def test_block_rendered_on_its_own_links_without_a_source(consultation):
    block = BookConsultationBlock()
    html = block.render(block.to_python(invitation(consultation.pk)))
    assert f'href="/book/{consultation.slug}/"' in html

    request = RequestFactory().get("/some/page/")
    html = block.render(block.to_python(invitation(None)), context={"request": request})
    assert 'href="/book/?src=%2Fsome%2Fpage%2F"' in html


@pytest.mark.django_db
def test_book_with_type_in_the_query_redirects_to_its_time_picker(client, consultation, article):
    response = client.get(f"/book/?type={consultation.slug}&src=/articles/gut-feelings/")
    assert response.status_code == 302
    assert response["Location"] == f"/book/{consultation.slug}/?{SRC}"

    response = client.get(f"/book/?type={consultation.slug}")
    assert response.status_code == 302 and response["Location"] == f"/book/{consultation.slug}/"


@pytest.mark.django_db
def test_book_with_an_unknown_or_retired_type_shows_the_types(client, consultation):
    retired = ConsultationTypeFactory(slug="retired", is_active=False)
    for slug in ("no-such-type", retired.slug, ""):
        response = client.get(f"/book/?type={slug}")
        assert response.status_code == 200, slug
        assert f'href="/book/{consultation.slug}/' in response.content.decode()


@pytest.mark.django_db
def test_a_page_editor_can_choose_a_consultation_type(client, consultation, page_editor):
    client.force_login(page_editor)
    response = client.get("/admin/snippets/choose/bookings/consultationtype/")
    assert response.status_code == 200
    assert consultation.name in response.content.decode()
