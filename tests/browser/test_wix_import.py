import re
from pathlib import Path

from django.contrib.auth.models import Group

from articles.models import ArticleIndexPage, ArticlePage
from tests.browser.conftest import log_in

SAVED_POST = Path(__file__).parent.parent / "fixtures" / "wix" / "alopecia-and-leaky-gut.html"
TITLE = "Alopecia areata and leaky gut: is there a link?"


def test_editor_imports_a_wix_page_reads_the_report_and_previews_the_draft(demo_site, open_page, django_user_model):
    editor = django_user_model.objects.create_user("importer", password="a-long-importer-passphrase")
    editor.groups.add(Group.objects.get(name="Editors"))  # a page editor: no second factor
    index = ArticleIndexPage.objects.get()

    visit = open_page(width=1280, height=1000)
    log_in(visit, "importer", "a-long-importer-passphrase")
    page = visit.page
    visit.goto(f"/admin/pages/{index.pk}/")
    page.get_by_role("button", name="Actions").click()
    page.get_by_role("link", name="Import from Wix").click()
    page.get_by_role("heading", name="Import from the old Wix site", level=2).wait_for()

    page.get_by_label("Pages from the old site").set_input_files(str(SAVED_POST))
    page.get_by_role("button", name="Import as drafts").click()

    page.get_by_role("heading", name=TITLE).wait_for()
    report = page.locator("main").inner_text()
    assert "New draft created" in report
    assert "Link to the old site: “my post on the gut lining”" in report
    assert "Picture not in the upload" in report
    assert "the cookie banner" in report
    article = ArticlePage.objects.get(title=TITLE)
    assert not article.live

    page.get_by_role("link", name=f"Edit the draft “{TITLE}”").click()
    page.wait_for_url(re.compile(rf".*/admin/pages/{article.pk}/edit/"))
    assert page.locator("#id_title").input_value() == TITLE
    page.get_by_role("button", name="Toggle preview").click()
    page.wait_for_function(
        "document.querySelectorAll('iframe.w-preview__iframe').length === 1"
        " && document.getElementById('w-preview-iframe').contentDocument?.querySelector('h1')"
    )
    preview = page.frame_locator("#w-preview-iframe")
    assert preview.locator("h1").inner_text() == TITLE
    assert preview.get_by_role("navigation", name="On this page").get_by_role("link").all_inner_texts() == [
        "What is alopecia areata?",
        "What do people mean by a “leaky gut”?",
        "Inflammation throughout the body",
        "The balance of gut microbes",
        "Signs worth noticing",
        "Looking after both",
    ]
    assert preview.get_by_role("link", name="Book a discovery call").is_visible()
    assert preview.locator("strong, b").filter(has_text="alopecia areata").count() >= 1
    words = preview.locator("main").inner_text()
    for chrome in ["Recent Posts", "Write a comment", "top of page", "This website uses cookies"]:
        assert chrome not in words
    assert visit.foreign_requests() == []
    ArticlePage.objects.get(pk=article.pk)  # still there, still a draft
    assert not ArticlePage.objects.get(pk=article.pk).live
