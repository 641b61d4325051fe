"""Importing pages of the old Wix site as draft articles: the admin upload, the command and the parser."""

import datetime
import io
import json
import zipfile
from pathlib import Path

from django.contrib.auth.models import Group, Permission
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import CommandError, call_command
from django.urls import reverse

from wagtail.images import get_image_model
from wagtail.models import PageLogEntry

import pytest
from PIL import Image as PillowImage

from articles import wix
from articles.models import ArticlePage
from tests.factories.articles import AuthorFactory, TopicFactory

FIXTURES = Path(__file__).parent / "fixtures" / "wix"
SAVED_POST = FIXTURES / "alopecia-and-leaky-gut.html"
COPIED_TEXT = FIXTURES / "hashimotos-and-gluten.txt"
FILES_FOLDER = "Alopecia areata and leaky gut_files"
CHROME_WORDS = [
    "top of page",
    "bottom of page",
    "Skip to Main Content",
    "Log In",
    "Book Online",
    "Recent Posts",
    "See All",
    "Facebook",
    "LinkedIn",
    "128 views",
    "Write a comment",
    "This was so helpful",
    "cookies",
    "Proudly created",
    "Naomi Carter",
    "4 min read",
    "Hashimoto's and gluten",
]


@pytest.fixture
def index(article_index):
    return article_index


@pytest.fixture
def topics(db):
    return {
        "gut": TopicFactory(name="Gut health", slug="gut-health"),
        "autoimmune": TopicFactory(name="Autoimmune conditions", slug="autoimmune"),
        "sleep": TopicFactory(name="Sleep and rest", slug="sleep"),
    }


@pytest.fixture
def naomi(db):
    return AuthorFactory(name="Naomi Carter")


@pytest.fixture
def editor_client(client, page_editor):
    client.force_login(page_editor)  # page editors see no health details: no second factor
    return client


def picture(colour, size=(40, 30)):
    buffer = io.BytesIO()
    PillowImage.new("RGB", size, colour).save(buffer, format="JPEG")
    return buffer.getvalue()


def saved_page_zip(html=None):
    """The saved post as the browser leaves it, zipped: the .html beside its _files folder of pictures."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("Alopecia areata and leaky gut.html", html or SAVED_POST.read_text())
        archive.writestr(f"{FILES_FOLDER}/scalp-patch~mv2.jpg", picture((200, 160, 140)))
        archive.writestr(f"{FILES_FOLDER}/IMG_4821~mv2.jpg", picture((90, 140, 100)))
        archive.writestr(f"{FILES_FOLDER}/naomi-avatar~mv2.jpg", picture((10, 10, 10)))
        archive.writestr(f"{FILES_FOLDER}/main.css", "body{margin:0}")
    return buffer.getvalue()


def upload(client, index, *files):
    """Posts the import form with `files`, each a (name, bytes) pair, as the browser sends them."""
    uploads = [SimpleUploadedFile(name, content) for name, content in files]
    return client.post(reverse("articles_import:wix", args=[index.pk]), {"files": uploads})


def body_of(article):
    """The latest draft's body, as the editor opens it."""
    return article.get_latest_revision_as_object().body


def blocks(article, block_type):
    return [block.value for block in body_of(article) if block.block_type == block_type]


def rich_text(article):
    return "".join(str(value.source) for value in blocks(article, "paragraph"))


def all_words(article):
    return json.dumps(article.get_latest_revision().content, ensure_ascii=False)


# The admin upload ------------------------------------------------------------------------------


def test_saved_blog_post_becomes_a_draft_with_its_structure_and_without_the_site_chrome(
    editor_client, index, topics, naomi
):
    response = upload(editor_client, index, ("alopecia-and-leaky-gut.html", SAVED_POST.read_bytes()))

    assert response.status_code == 200
    article = ArticlePage.objects.get()
    assert article.get_parent().pk == index.pk
    assert article.title == "Alopecia areata and leaky gut: is there a link?"
    assert article.slug == "alopecia-areata-and-leaky-gut-is-there-a-link"
    assert article.import_source == "naomi-wellness.com/post/alopecia-areata-and-leaky-gut-is-there-a-link"
    assert [(heading["text"], heading["level"]) for heading in blocks(article, "heading")] == [
        ("What is alopecia areata?", "h2"),
        ("What do people mean by a “leaky gut”?", "h2"),
        ("Inflammation throughout the body", "h3"),
        ("The balance of gut microbes", "h3"),
        ("Signs worth noticing", "h2"),
        ("Looking after both", "h2"),
    ]
    draft = article.get_latest_revision_as_object()
    assert [section["text"] for section in draft.table_of_contents][:2] == [
        "What is alopecia areata?",
        "What do people mean by a “leaky gut”?",
    ]
    text = rich_text(article)
    assert (
        "<p>Losing hair in patches can be upsetting, and many people who live with "
        "<b>alopecia areata</b>, an autoimmune condition" in text
    )
    assert "an <i>autoimmune</i> condition" in text
    assert '<a href="https://www.nhs.uk/conditions/alopecia/"><b>NHS page on alopecia</b></a>' in text
    assert "<i>Leaky gut</i> is an informal name" in text
    assert (
        "<ul><li>Round or oval patches of hair loss.</li><li>Ongoing <b>bloating</b> or tummy discomfort.</li>"
        "<li>Tiredness that does not improve with rest.</li></ul>"
    ) in text
    assert "<ol><li><b>Varied, whole foods.</b> Vegetables, fruit, pulses and whole grains.</li>" in text
    [invitation] = blocks(article, "book_consultation")
    assert body_of(article)[-1].block_type == "book_consultation"
    assert invitation["heading"] == "Work with me"
    assert invitation["text"].startswith("If you recognise yourself in this post, book a free discovery call")
    assert invitation["button_label"] == "Book a discovery call"
    assert "Work with me" not in [heading["text"] for heading in blocks(article, "heading")]
    words = all_words(article)
    for chrome in CHROME_WORDS:
        assert chrome not in words, chrome

    assert draft.summary.startswith("Losing hair in patches can be upsetting")
    assert draft.display_date == datetime.date(2023, 5, 12)
    assert list(draft.authors.all()) == [naomi]
    assert set(draft.topics.all()) == {topics["gut"], topics["autoimmune"]}
    assert draft.reviewed_by is None
    assert draft.last_reviewed is None

    report = response.content.decode()
    assert "New draft created" in report
    assert reverse("wagtailadmin_pages:edit", args=[article.pk]) in report
    assert "https://www.naomi-wellness.com/post/gut-lining-basics" in report  # a link to the old site
    assert "www.nhs.uk" not in report  # external links are kept, not listed
    assert "Picture not in the upload" in report  # the .html alone holds no pictures
    assert "the share buttons" in report
    assert "the cookie banner" in report


def test_import_saves_a_draft_and_never_publishes(editor_client, index):
    upload(editor_client, index, ("post.html", SAVED_POST.read_bytes()), ("post.txt", COPIED_TEXT.read_bytes()))

    assert ArticlePage.objects.count() == 2
    for article in ArticlePage.objects.all():
        assert not article.live
        assert article.has_unpublished_changes
        assert article.first_published_at is None
        assert article.latest_revision is not None
    assert not PageLogEntry.objects.filter(action="wagtail.publish").exists()
    created = PageLogEntry.objects.filter(action="wagtail.create", page__in=ArticlePage.objects.all())
    assert created.count() == 2


def test_zip_of_the_saved_page_brings_its_pictures_and_flags_the_missing_description(editor_client, index):
    response = upload(editor_client, index, ("alopecia.zip", saved_page_zip()))

    assert response.status_code == 200
    article = ArticlePage.objects.get()
    images = blocks(article, "image")
    assert [(image["alt_text"], image["caption"]) for image in images] == [
        ("A small round patch of hair loss on the scalp", "Patches are often small and round."),
        ("", ""),  # Wix's alt was the file name: no description
    ]
    assert [image["image"].title for image in images] == ["A small round patch of hair loss on the scalp", "IMG_4821"]
    assert [image["image"].width for image in images] == [40, 40]
    assert get_image_model().objects.count() == 2  # the writer's avatar was chrome, not the article
    report = response.content.decode()
    assert "Picture IMG_4821~mv2.jpg has no description (alt text)" in report
    assert "Picture not in the upload" not in report

    upload(editor_client, index, ("alopecia.zip", saved_page_zip()))
    assert ArticlePage.objects.count() == 1
    assert get_image_model().objects.count() == 2  # the same pictures, not copies


def test_copied_text_becomes_a_draft_with_headings_lists_links_and_the_booking_block(editor_client, index, naomi):
    response = upload(editor_client, index, ("hashimotos-and-gluten.txt", COPIED_TEXT.read_bytes()))

    assert response.status_code == 200
    article = ArticlePage.objects.get()
    assert article.title == "Hashimoto's and gluten: what we know"
    assert article.import_source == "title:hashimotos-and-gluten-what-we-know"
    assert [heading["text"] for heading in blocks(article, "heading")] == [
        "What is Hashimoto's?",
        "Why gluten comes up",
        "Steps worth taking",
    ]
    text = rich_text(article)
    assert text.startswith("<p>Many people with Hashimoto&#x27;s thyroiditis") or text.startswith(
        "<p>Many people with Hashimoto's thyroiditis"
    )
    assert (
        "<ul><li>Bloating or tummy pain after meals</li><li>Diarrhoea or constipation that keeps coming back</li>"
        "<li>Tiredness that does not lift</li></ul>"
    ) in text
    assert "<ol><li>Keep a food and symptom diary for two weeks.</li><li>Bring it to your GP appointment.</li>" in text
    assert "<li>Fermented foods may help some people.</li>" in text  # indented, with "·"
    assert '<a href="https://www.nhs.uk/conditions/coeliac-disease/">' in text
    [invitation] = blocks(article, "book_consultation")
    assert invitation["heading"] == "Let's talk"
    assert invitation["text"] == "If you would like support with this, get in touch and book a free discovery call."
    draft = article.get_latest_revision_as_object()
    assert draft.display_date == datetime.date(2024, 9, 14)
    assert list(draft.authors.all()) == [naomi]
    words = all_words(article)
    for chrome in ["top of page", "Log In", "Book Online", "Recent Posts", "86 views", "Write a comment", "#gluten"]:
        assert chrome not in words, chrome
    report = response.content.decode()
    assert "https://naomiwellness.wixsite.com/site/post/coeliac-basics" in report
    assert "Link to the old site" in report


def test_importing_the_same_page_again_updates_its_draft(editor_client, index):
    upload(editor_client, index, ("post.html", SAVED_POST.read_bytes()))
    article = ArticlePage.objects.get()
    changed = SAVED_POST.read_text().replace("busier than usual", "busier than it would otherwise be")

    response = upload(editor_client, index, ("post-again.html", changed.encode()))

    assert ArticlePage.objects.count() == 1
    assert ArticlePage.objects.get().pk == article.pk
    assert article.revisions.count() == 2
    assert "busier than it would otherwise be" in rich_text(ArticlePage.objects.get())
    assert "Existing draft updated with a new revision" in response.content.decode()


def test_importing_a_published_article_again_saves_a_draft_and_leaves_the_live_page_alone(editor_client, index, naomi):
    upload(editor_client, index, ("post.html", SAVED_POST.read_bytes()))
    article = ArticlePage.objects.get()
    article.get_latest_revision().publish()
    article.refresh_from_db()
    article.reviewed_by, article.last_reviewed = naomi, datetime.date(2024, 1, 10)
    article.save_revision().publish()
    changed = SAVED_POST.read_text().replace("busier than usual", "busier than it would otherwise be")

    response = upload(editor_client, index, ("post.html", changed.encode()))

    live = ArticlePage.objects.get()
    assert live.pk == article.pk and live.live
    assert live.has_unpublished_changes
    served = "".join(str(block.value.source) for block in live.body if block.block_type == "paragraph")
    assert "busier than usual" in served  # what visitors see
    assert live.reviewed_by == naomi
    draft = live.get_latest_revision_as_object()
    assert "busier than it would otherwise be" in rich_text(live)
    assert draft.reviewed_by is None and draft.last_reviewed is None
    report = response.content.decode()
    assert "visitors still see the published version" in report
    assert "The reviewer and review date were cleared" in report


def zip_of(members):
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, content in members.items():
            archive.writestr(name, content)
    return buffer.getvalue()


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("empty.html", b"", "“empty.html” is empty."),
        ("blank.txt", b"  \n\n ", "“blank.txt” is empty."),
        ("broken.html", b"<html><body><div class='x'><span", "“broken.html” has no title and no headings"),
        (
            "chrome.html",
            b"<html><body><header id='SITE_HEADER'><a href='/'>Home</a></header><footer>\xc2\xa9 2024</footer>",
            "We found no article text in “chrome.html”.",
        ),
        ("plain.html", b"Just some words, no markup at all.", "does not look like a web page"),
        ("photo.html", b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + b"\x00" * 40, "is not a text or web page file"),
        ("leaflet.pdf", b"%PDF-1.7 ...", "is not a page from the old site"),
        ("huge.html", b"<p>" + b"a" * (5 * 1024 * 1024) + b"</p>", "is larger than 5 MB"),
        ("not-a-zip.zip", b"PK\x03\x04 this is not really a zip", "is not a zip file that can be opened"),
        ("bomb.zip", zip_of({"page.html": b"<p>" + b"0" * (6 * 1024 * 1024)}), "larger than 5 MB once unpacked"),
        ("escape.zip", zip_of({"../../evil.html": SAVED_POST.read_bytes()}), "contains a file outside its own folder"),
        ("pictures.zip", zip_of({"a_files/photo.jpg": picture((1, 2, 3))}), "holds no saved page"),
    ],
)
def test_unusable_uploads_are_refused_with_a_clear_message_and_create_nothing(
    editor_client, index, name, content, message
):
    response = upload(editor_client, index, (name, content))

    assert response.status_code == 200
    assert message in response.content.decode()
    assert "Nothing was imported." in response.content.decode()
    assert not ArticlePage.objects.exists()
    assert not get_image_model().objects.exists()


def test_one_unusable_file_stops_the_whole_upload(editor_client, index):
    response = upload(editor_client, index, ("post.html", SAVED_POST.read_bytes()), ("empty.txt", b""))

    assert "“empty.txt” is empty." in response.content.decode()
    assert not ArticlePage.objects.exists()


def test_the_article_index_offers_the_import_to_editors(editor_client, index):
    response = editor_client.get(reverse("wagtailadmin_explore", args=[index.pk]))

    assert reverse("articles_import:wix", args=[index.pk]) in response.content.decode()
    form = editor_client.get(reverse("articles_import:wix", args=[index.pk]))
    assert form.status_code == 200
    assert 'type="file"' in form.content.decode()
    assert "multiple" in form.content.decode()


def test_people_who_may_not_add_articles_get_403_and_visitors_the_login_page(client, index, django_user_model):
    url = reverse("articles_import:wix", args=[index.pk])
    post = {"files": [SimpleUploadedFile("post.html", SAVED_POST.read_bytes())]}

    visitor = client.post(url, post)
    assert visitor.status_code == 302
    assert reverse("wagtailadmin_login") in visitor["Location"]

    reader = django_user_model.objects.create_user("reader", password="a-long-reader-passphrase")
    group = Group.objects.create(name="Admin readers")
    group.permissions.add(Permission.objects.get(codename="access_admin"))
    reader.groups.add(group)
    client.force_login(reader)
    assert client.get(url).status_code == 403
    assert client.post(url, {"files": [SimpleUploadedFile("post.html", SAVED_POST.read_bytes())]}).status_code == 403
    assert url not in client.get(reverse("wagtailadmin_explore", args=[index.pk])).content.decode()
    assert not ArticlePage.objects.exists()


# The command -----------------------------------------------------------------------------------


def test_command_imports_files_and_prints_the_report(index, tmp_path):
    archive = tmp_path / "alopecia.zip"
    archive.write_bytes(saved_page_zip())
    out = io.StringIO()

    call_command("import_wix", str(archive), str(COPIED_TEXT), stdout=out)

    assert ArticlePage.objects.filter(live=False).count() == 2
    report = out.getvalue()
    assert report.count("New draft created") == 2
    assert "Picture IMG_4821~mv2.jpg has no description (alt text)" in report
    assert "https://naomiwellness.wixsite.com/site/post/coeliac-basics" in report
    assert "/admin/pages/" in report

    call_command("import_wix", str(COPIED_TEXT), stdout=out)
    assert ArticlePage.objects.count() == 2


def test_command_fails_with_a_non_zero_status_when_a_file_cannot_be_imported(index, tmp_path):
    empty = tmp_path / "empty.html"
    empty.write_bytes(b"")
    err = io.StringIO()

    with pytest.raises(CommandError, match="1 of 2 files could not be imported"):
        call_command("import_wix", str(empty), str(COPIED_TEXT), stdout=io.StringIO(), stderr=err)

    assert "empty.html: not imported. “empty.html” is empty." in err.getvalue()
    assert ArticlePage.objects.count() == 1  # the good file still became a draft


# The parser ------------------------------------------------------------------------------------


def test_summary_is_cut_at_a_word_within_the_field_length():
    long_paragraph = " ".join(["Gentle steps help the gut lining recover over several weeks."] * 10)
    page = wix.parse_text("long.txt", f"A title\n\n{long_paragraph}\n\nMore text follows here.\n")

    assert len(page.summary) <= ArticlePage._meta.get_field("summary").max_length
    assert page.summary.endswith("…")
    assert long_paragraph.startswith(page.summary[:-1])
    assert page.summary[:-1].endswith(("weeks", "lining", "over", "several", "steps", "help", "the", "gut", "recover"))


@pytest.mark.parametrize(
    ("text", "date", "warned"),
    [
        ("Sep 14, 2024", datetime.date(2024, 9, 14), False),
        ("14 September 2024", datetime.date(2024, 9, 14), False),
        ("2024-09-14", datetime.date(2024, 9, 14), False),
        ("Sep 14", None, True),
        ("3 days ago", None, True),
        ("What to eat", None, False),
    ],
)
def test_dates_as_wix_shows_them(text, date, warned):
    found, note = wix.parse_date(text)
    assert found == date
    assert bool(note) == warned


def test_topics_are_guessed_from_distinctive_words_in_the_title_or_repeated_in_the_text():
    topics = {1: "Gut health", 2: "Autoimmune conditions", 3: "Sleep and rest", 4: "Nutrition", 5: "Everyday health"}
    text = "Autoimmune conditions vary. An autoimmune condition is lifelong. Good health needs rest and sleep."

    assert wix.guess_topics(topics, title="Your gut and you", text=text) == [1, 2]


def test_a_page_that_is_not_a_blog_post_uses_its_heading_and_ends_without_an_invitation():
    html = """<html><head><title>Gut basics | Naomi Wellness</title></head><body>
        <header id="SITE_HEADER"><nav><a href="/">Home</a></nav></header>
        <main id="PAGES_CONTAINER"><div class="wixui-rich-text"><h1>Gut basics</h1>
        <p class="font_8"><span style="font-weight:bold">Fibre</span> feeds helpful microbes.</p>
        <div>Water matters too.</div><table><tr><td>Oats</td><td>10 g</td></tr></table>
        <iframe src="https://www.youtube.com/embed/abc"></iframe></div></main>
        <footer id="SITE_FOOTER">© 2024</footer></body></html>"""

    page = wix.parse_html("gut.html", html)

    assert page.title == "Gut basics"
    assert page.source == "title:gut-basics"
    assert page.blocks == [("paragraph", "<p><b>Fibre</b> feeds helpful microbes.</p><p>Water matters too.</p>")]
    assert any("A table" in text and "Oats" in text for text in page.unplaced)
    assert any("youtube.com/embed/abc" in text for text in page.unplaced)
    assert "the site footer" in page.removed
