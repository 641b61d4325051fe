"""
Draft articles from pages of the old Wix site (parsed by `articles.wix`), and the report the editor reads.

Drafts only: the import never publishes. A page is known by its `import_source` (the old address, or
its title for copied text): importing it again saves a new revision of the same page instead of
making a second one. When that page is live, only a draft revision is saved, so visitors keep seeing
the published version until an editor publishes the new one. The reviewer and review date stay empty
(and are cleared on a re-import) so that imported text never passes as reviewed.
"""

import hashlib
import io
import posixpath
from dataclasses import dataclass, field

from django.conf import settings
from django.core.files.images import ImageFile
from django.db import transaction
from django.urls import reverse
from django.utils.text import slugify

from wagtail.images import get_image_model
from wagtail.images.permissions import permission_policy as image_permission_policy

from PIL import Image as PillowImage

from .models import ArticleIndexPage, ArticlePage, Author, Topic
from .wix import WixPage, guess_topics

IMAGE_FORMATS = {"JPEG", "PNG", "GIF", "WEBP", "AVIF", "HEIF"}


@dataclass
class ImportReport:
    """What one imported page became, and what the editor should look at."""

    file_name: str
    title: str
    page: ArticlePage
    created: bool
    was_live: bool
    attention: list[str] = field(default_factory=list)
    done: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)

    @property
    def edit_url(self) -> str:
        return reverse("wagtailadmin_pages:edit", args=[self.page.pk])

    @property
    def outcome(self) -> str:
        if self.created:
            return "New draft created"
        if self.was_live:
            return "New draft of a published article saved: visitors still see the published version"
        return "Existing draft updated with a new revision"

    def as_text(self) -> str:
        base = getattr(settings, "WAGTAILADMIN_BASE_URL", "").rstrip("/")
        lines = [f"{self.file_name}: {self.outcome}", f"  “{self.title}”  {base}{self.edit_url}"]
        for heading, entries in (("Needs attention", self.attention), ("Done", self.done), ("Left out", self.removed)):
            if entries:
                lines.append(f"  {heading}:")
                lines.extend(f"    - {entry}" for entry in entries)
        return "\n".join(lines)


def wix_pages_import(*, pages: list[WixPage], index: ArticleIndexPage, user=None) -> list[ImportReport]:
    """Imports every page in one transaction: all of them become drafts, or none does."""
    with transaction.atomic():
        return [wix_page_import(page=page, index=index, user=user) for page in pages]


@transaction.atomic
def wix_page_import(*, page: WixPage, index: ArticleIndexPage, user=None) -> ImportReport:
    attention, done = [], []
    existing = ArticlePage.objects.filter(import_source=page.source).order_by("pk").first()
    can_add_images = user is None or image_permission_policy.user_has_permission(user, "add")
    body = _body(page, attention, can_add_images=can_add_images)

    authors = []
    for name in page.authors:
        author = Author.objects.filter(name__iexact=name.strip()).first()
        if author:
            authors.append(author)
            done.append(f"Author: {author.name}.")
        else:
            attention.append(f"No author called “{name}” exists: add them under Snippets › Authors, then choose them.")
    topics = list(
        Topic.objects.filter(
            pk__in=guess_topics(dict(Topic.objects.values_list("pk", "name")), title=page.title, text=page.text)
        )
    )
    if topics:
        done.append(
            "Topics guessed from the words of the article: " + ", ".join(t.name for t in topics) + ". Check them."
        )
    else:
        attention.append("No topic matched the article's words: choose its topics on the Promote tab.")
    if page.display_date:
        done.append(f"Publication date from the old page: {page.display_date.day} {page.display_date:%B %Y}.")
    done.append("Summary taken from the first paragraph: check it reads well on its own.")

    for href, text in page.old_site_links:
        attention.append(f"Link to the old site: “{text}” → {href}. Point it to the page on this site, or remove it.")
    for image in page.missing_images:
        described = f" (“{image.alt}”)" if image.alt else ""
        attention.append(
            f"Picture not in the upload: {image.src}{described}. Upload the page as a zip with its _files folder, "
            "or add the picture in the editor."
        )
    for text in page.unplaced:
        attention.append(f"Not placed: {text}")
    attention.extend(page.warnings)
    done.extend(page.notes)
    done.append("Reviewer and review date left empty: the article has not been reviewed on this site.")

    if existing is None:
        article = ArticlePage(
            title=page.title,
            slug=_free_slug(index, page.slug),
            summary=page.summary,
            body=body,
            display_date=page.display_date,
            import_source=page.source,
            live=False,
            has_unpublished_changes=True,
            owner=user,
        )
        article.authors.set(authors)
        article.topics.set(topics)
        index.add_child(instance=article)
        article.save_revision(user=user, log_action=False)  # add_child logged the creation, by its owner
        created, was_live = True, False
    else:
        was_live = existing.live
        article = existing.get_latest_revision_as_object() if existing.latest_revision_id else existing.specific
        article.title = page.title
        article.draft_title = page.title
        article.summary = page.summary
        article.body = body
        if page.display_date:
            article.display_date = page.display_date
        if authors:
            article.authors.set(authors)
        article.topics.set({*article.topics.all(), *topics})
        if article.reviewed_by_id or article.last_reviewed:
            attention.append("The reviewer and review date were cleared: the text changed since it was reviewed.")
        article.reviewed_by = None
        article.last_reviewed = None
        # Only a revision: the row visitors are served stays as it was (Page.save_revision saves no content).
        article.save_revision(user=user, log_action=True)
        created = False

    return ImportReport(
        file_name=page.file_name,
        title=page.title,
        page=article,
        created=created,
        was_live=was_live,
        attention=attention,
        done=done,
        removed=page.removed,
    )


def _body(page: WixPage, attention: list[str], *, can_add_images: bool) -> list[dict]:
    blocks = []
    for kind, value in page.blocks:
        if kind != "image":
            blocks.append({"type": kind, "value": value})
            continue
        image = _image(value, attention) if can_add_images else None
        if image is None:
            if not can_add_images:
                attention.append(f"Picture {value.filename} left out: you may not add images. Ask an administrator.")
            continue
        if value.alt_missing:
            attention.append(
                f"Picture {value.filename} has no description (alt text): describe it in the editor before publishing."
            )
        blocks.append({"type": "image", "value": {"image": image.pk, "alt_text": value.alt, "caption": value.caption}})
    return blocks


def _image(wix_image, attention):
    """The Wagtail image for a picture from the zip: the same file imported before, or a new one."""
    Image = get_image_model()
    digest = hashlib.sha1(wix_image.data, usedforsecurity=False).hexdigest()
    if found := Image.objects.filter(file_hash=digest).first():
        return found
    try:
        with PillowImage.open(io.BytesIO(wix_image.data)) as picture:
            picture_format = picture.format
            width, height = picture.size
            picture.verify()
    except Exception:  # Pillow raises many kinds of errors for files that are not pictures
        attention.append(f"Picture {wix_image.filename} left out: the file is not a picture that can be read.")
        return None
    max_pixels = getattr(settings, "WAGTAILIMAGES_MAX_IMAGE_PIXELS", 128_000_000)
    if picture_format not in IMAGE_FORMATS or width * height > max_pixels:
        attention.append(f"Picture {wix_image.filename} left out: use a JPEG, PNG, GIF or WebP picture.")
        return None
    stem = posixpath.splitext(wix_image.filename)[0]
    image = Image(title=(wix_image.alt or stem.replace("~mv2", "") or "Imported picture")[:255])
    image.file = ImageFile(io.BytesIO(wix_image.data), name=wix_image.filename)
    # What Wagtail's upload form records (its SHA-1 of the file): the next import finds the picture by it.
    image.file_hash, image.file_size = digest, len(wix_image.data)
    image.save()
    return image


def _free_slug(index, slug: str) -> str:
    base = slugify(slug)[:80].strip("-") or "imported-article"
    taken = set(index.get_children().filter(slug__startswith=base).values_list("slug", flat=True))
    candidate, number = base, 2
    while candidate in taken:
        candidate, number = f"{base}-{number}", number + 1
    return candidate
