"""The questions-and-answers block: a disclosure list that needs no script, and one FAQPage for search engines."""

import re

import pytest

from articles.models import ArticlePage
from practice.blocks import FAQBlock
from practice.models import HomePage, ServicesPage, StandardPage
from tests.factories.practice import StandardPageFactory
from tests.html import jsonld

pytestmark = pytest.mark.django_db


def faq(heading, *questions):
    return (
        "faq",
        {"heading": heading, "questions": [{"question": question, "answer": answer} for question, answer in questions]},
    )


@pytest.fixture
def faq_page(home_page, practice_settings):
    page = StandardPageFactory(
        parent=home_page,
        title="Working together",
        slug="working-together",
        body=[
            faq(
                "Before you book",
                ("Do I need a referral?", "<p>No, you can <b>book yourself</b>.</p>"),
                ("Can we meet by video?", "<ul><li>Yes, by video</li><li>or by phone</li></ul>"),
            ),
            ("paragraph", "<p>Something in between.</p>"),
            faq(
                "",
                ("Is this an emergency service?", f'<p>No. See <a linktype="page" id="{home_page.pk}">home</a>.</p>'),
            ),
        ],
    )
    page.save_revision().publish()
    return page


def disclosures(html):
    """(question, answer HTML) of each <details> element, in order."""
    return re.findall(
        r'<details class="faq__item">\s*<summary class="faq__question">([^<]*)</summary>\s*'
        r'<div class="faq__answer">(.*?)</div>\s*</details>',
        html,
        re.S,
    )


def test_questions_and_answers_are_in_the_page_as_native_disclosures(client, faq_page):
    html = client.get("/working-together/").content.decode()
    found = disclosures(html)
    assert [question for question, _ in found] == [
        "Do I need a referral?",
        "Can we meet by video?",
        "Is this an emergency service?",
    ]
    # The answers are in the HTML itself, so they open without any script.
    assert "<b>book yourself</b>" in found[0][1]
    assert "<li>Yes, by video</li>" in found[1][1]
    assert 'href="/"' in found[2][1]  # the page link is resolved
    assert "open" not in re.findall(r"<details[^>]*>", html)[0]  # closed until the visitor opens it


def test_the_block_heading_structures_the_page_and_an_empty_one_is_left_out(client, faq_page):
    html = client.get("/working-together/").content.decode()
    assert html.count('<h2 class="faq__heading">') == 1
    assert '<h2 class="faq__heading">Before you book</h2>' in html
    assert "<summary" in html and not re.search(r"<summary[^>]*>\s*<h\d", html)


def test_every_faq_block_of_the_page_makes_one_faq_page_in_its_structured_data(client, faq_page):
    html = client.get("/working-together/").content.decode()
    [data] = [item for item in jsonld(html) if item["@type"] == "FAQPage"]
    assert data["@context"] == "https://schema.org"
    assert [entry["name"] for entry in data["mainEntity"]] == [
        "Do I need a referral?",
        "Can we meet by video?",
        "Is this an emergency service?",
    ]
    assert all(entry["@type"] == "Question" for entry in data["mainEntity"])
    answers = [entry["acceptedAnswer"] for entry in data["mainEntity"]]
    assert answers[0] == {"@type": "Answer", "text": "<p>No, you can <b>book yourself</b>.</p>"}
    assert 'href="/"' in answers[2]["text"] and "linktype" not in answers[2]["text"]


def test_a_page_without_questions_has_no_faq_page(client, about_page, practice_settings):
    html = client.get("/about/").content.decode()
    assert all(item["@type"] != "FAQPage" for item in jsonld(html))


def test_a_question_cannot_break_out_of_the_structured_data(client, home_page, practice_settings):
    page = StandardPageFactory(
        parent=home_page, slug="tricky", body=[faq("", ("</script><script>alert(1)</script>", "<p>&lt;b&gt;</p>"))]
    )
    page.save_revision().publish()
    html = client.get("/tricky/").content.decode()
    assert "<script>alert(1)" not in html
    [data] = [item for item in jsonld(html) if item["@type"] == "FAQPage"]
    assert data["mainEntity"][0]["name"] == "</script><script>alert(1)</script>"


def test_the_block_is_offered_on_home_services_and_standard_pages_only():
    for model in (HomePage, ServicesPage, StandardPage):
        assert isinstance(model.body.field.stream_block.child_blocks["faq"], FAQBlock), model
    assert "faq" not in ArticlePage.body.field.stream_block.child_blocks


def test_the_block_describes_itself_to_editors_and_previews():
    block = FAQBlock()
    assert block.meta.icon == "help"
    assert block.meta.template == "blocks/faq_block.html"
    assert block.meta.description
    html = block.render(block.get_preview_value())
    assert len(disclosures(html)) == 2
    for name, child in [*block.child_blocks.items(), *block.child_blocks["questions"].child_block.child_blocks.items()]:
        help_text = child.field.help_text if hasattr(child, "field") else child.meta.help_text
        assert help_text, name


def test_a_block_needs_at_least_one_question():
    from django.core.exceptions import ValidationError

    block = FAQBlock()
    with pytest.raises(ValidationError):
        block.clean(block.to_python({"heading": "Questions", "questions": []}))
