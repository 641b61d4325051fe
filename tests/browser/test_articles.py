import re

import pytest

from articles.models import ArticlePage
from tests.browser.conftest import WIDTHS, axe_violations, log_in
from tests.conftest import app_device


def add_body_block(page, label):
    page.locator("#panel-child-content-body-section .c-sf-add-button").last.click()
    page.get_by_role("option", name=label, exact=True).click()


def test_editor_writes_previews_and_publishes_an_article_that_a_visitor_finds(demo_site, open_page, django_user_model):
    superuser = django_user_model.objects.create_superuser("editor", "editor@example.com", "a-long-editor-passphrase")
    app_device(superuser)  # a superuser sees health details too, so signs in with a second factor
    index = ArticlePage.objects.first().get_parent()

    editor = open_page(width=1280, height=1000)
    log_in(editor, "editor", "a-long-editor-passphrase")
    page = editor.page
    editor.goto(f"/admin/pages/{index.pk}/add_subpage/")
    page.wait_for_url(re.compile(r".*/admin/pages/add/articles/articlepage/\d+/"))

    page.locator("#id_title").fill("Zinc and hair: a gentle guide")
    page.locator("#id_summary").fill("What zinc does and where it is found in food.")

    add_body_block(page, "Heading")
    page.locator("#body-0-value-text").fill("What zinc does")
    add_body_block(page, "Paragraph")
    paragraph = page.locator("[data-contentpath='body'] [contenteditable='true']").last
    paragraph.click()
    paragraph.type("Zinc is a mineral the body needs in small amounts.")
    add_body_block(page, "Heading")
    page.locator("#body-2-value-text").fill("Where it is found")
    add_body_block(page, "Image")
    page.locator("#body-3-value-image-chooser").get_by_role("button", name="Choose an image").click()
    page.get_by_role("link", name=re.compile("^Demo: soft green shapes")).first.click()
    page.locator("#body-3-value-alt_text").fill("Soft green shapes")
    add_body_block(page, "Heading")
    page.locator("#body-4-value-text").fill("Talking to your doctor")

    page.locator("#panel-child-content-references-section .c-sf-add-button").click()
    page.locator("#references-0-value-text").fill("NHS. Vitamins and minerals.")
    page.locator("#references-0-value-url").fill("https://www.nhs.uk/conditions/vitamins-and-minerals/")

    page.get_by_role("tab", name="Promote").click()
    page.get_by_label("Gut health").check()
    page.get_by_label("Naomi", exact=True).check()
    page.get_by_role("tab", name="Content").click()

    page.get_by_role("button", name="Toggle preview").click()
    # The preview panel swaps in a fresh iframe when the content changes; read it once it has settled.
    page.wait_for_function(
        "document.querySelectorAll('iframe.w-preview__iframe').length === 1"
        " && document.getElementById('w-preview-iframe').contentDocument?.querySelector('h1')"
    )
    preview = page.frame_locator("#w-preview-iframe")
    assert preview.locator("h1").inner_text() == "Zinc and hair: a gentle guide"
    assert preview.get_by_role("navigation", name="On this page").get_by_role("link").count() == 3
    page.get_by_role("button", name="Toggle preview").click()

    # Wagtail autosaves a new page as a draft and turns the form into the page's edit form; an editor
    # publishing while that first save is still on its way would post a second "create" of the same page.
    page.wait_for_url(re.compile(r".*/admin/pages/\d+/edit/"))
    page.wait_for_load_state("networkidle")
    page.get_by_role("button", name="More actions").click()
    page.get_by_role("button", name="Publish").click()
    page.get_by_text("has been published").first.wait_for()
    article = ArticlePage.objects.get(title="Zinc and hair: a gentle guide")
    assert article.live
    assert editor.foreign_requests() == []

    visitor = open_page(width=390)
    reader = visitor.page
    visitor.goto("/articles/")
    assert reader.get_by_role("link", name="Zinc and hair: a gentle guide").is_visible()
    reader.get_by_role("navigation", name="Topics").get_by_role("link", name="Gut health").click()
    reader.wait_for_url("**/articles/?topic=gut-health")
    reader.get_by_role("link", name="Zinc and hair: a gentle guide").click()
    reader.wait_for_url(f"**{article.url}")
    contents = reader.get_by_role("navigation", name="On this page")
    assert contents.get_by_role("link").all_inner_texts() == [
        "What zinc does",
        "Where it is found",
        "Talking to your doctor",
    ]
    contents.get_by_role("link", name="Talking to your doctor").click()
    assert reader.evaluate("location.hash") == "#talking-to-your-doctor"
    assert reader.locator("#talking-to-your-doctor").is_visible()
    assert reader.get_by_text("NHS. Vitamins and minerals.").is_visible()
    assert visitor.foreign_requests() == []
    assert visitor.console_errors == []


@pytest.mark.parametrize("width", WIDTHS)
@pytest.mark.parametrize(
    "path", ["/articles/", "/articles/alopecia-areata-and-leaky-gut/", "/articles/?topic=gut-health"]
)
def test_article_pages_have_no_accessibility_violations(demo_site, open_page, path, width):
    visit = open_page(width=width)
    assert visit.goto(path).status == 200
    violations, report = axe_violations(visit.page)
    assert violations == [], report
    assert visit.foreign_requests() == []
    assert visit.console_errors == []
