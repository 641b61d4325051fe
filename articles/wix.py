"""
Reading pages of the practice's old Wix site, so that they can become draft articles.

Pure functions: bytes in, a `WixPage` (title, body blocks, metadata and what the editor should check)
out; no database. `articles.imports` turns a `WixPage` into a draft.

Why no library: no maintained importer reads Wix into Wagtail. wagtail-wordpress-import reads only
WordPress's XML export; wagtail-content-import reads Google Docs, OneDrive and .docx; the Wix
scrapers on GitHub fetch live sites through Wix's API or a headless browser and write Markdown or
WordPress XML, which is neither what an editor has (a page saved from the browser, or its text
copied) nor Wagtail's StreamField. Wix has no export for blog posts. So this module reads the two
things an editor can produce herself, with BeautifulSoup (a Wagtail dependency) and the standard
library's HTML parser.

Inputs:
- a page saved from the browser ("Save page as"): one .html file, or a .zip holding it and its
  `_files` folder of pictures. Wix blog posts put the article in `data-hook="post-description"`
  (the "rich content" viewer, Ricos); other Wix pages in the page container. Everything else is
  site chrome: header and menu, footer, share buttons, "Recent Posts", comments, cookie banner,
  "top of page" markers.
- the text of a page copied from the browser and saved as .txt: chrome shows up as lines ("top of
  page", "Skip to Main Content", menu entries, "Recent Posts", "12 views"); headings are short lines
  without a full stop; list items start with "•" or "·", may be indented.

Limits: a file, or a zip's content once unpacked, is at most `MAX_BYTES`. Zips are read in memory,
never unpacked to disk; a name that climbs out of the zip (`..`, an absolute path) refuses the zip.
"""

import datetime
import io
import json
import posixpath
import re
import zipfile
from dataclasses import dataclass, field
from html import escape
from urllib.parse import unquote, urljoin, urlsplit

from django.utils.text import slugify

from bs4 import BeautifulSoup, Comment, NavigableString, Tag

MAX_BYTES = 5 * 1024 * 1024
MAX_ZIP_MEMBERS = 500
SUMMARY_MAX_LENGTH = 300  # ArticlePage.summary
TITLE_MAX_LENGTH = 255  # Page.title
HEADING_MAX_LENGTH = 120  # HeadingBlock.text
CTA_TEXT_MAX_LENGTH = 600
ACCEPTED_EXTENSIONS = (".html", ".htm", ".txt", ".zip")
IMAGE_EXTENSIONS = (".jpg", ".jpeg", ".png", ".gif", ".webp", ".avif", ".heic")

DEFAULT_CTA_HEADING = "Would you like support with this?"
DEFAULT_CTA_BUTTON = "Book a consultation"
# A closing paragraph that invites readers to work with the practitioner.
CTA_WORDS = re.compile(
    r"\b(book(ing|ed)?|work with me|work together|working together|schedule|consultation|get in touch|"
    r"contact me|reach out|discovery call|appointment|let['’]s talk)\b",
    re.IGNORECASE,
)


class WixImportError(Exception):
    """The file cannot be imported; the message says why, in words for the editor."""


@dataclass
class WixImage:
    src: str
    alt: str
    caption: str = ""
    filename: str = ""
    data: bytes | None = None  # the picture's bytes when the upload held them
    candidates: list[str] = field(default_factory=list, repr=False)  # addresses the saved page may use for it

    @property
    def alt_missing(self) -> bool:
        return not self.alt


@dataclass
class WixPage:
    file_name: str
    source: str  # what identifies the page on the old site, so that a second import finds its draft
    title: str
    slug: str
    summary: str
    # ("heading", {"text", "level"}) | ("paragraph", html) | ("quote", {"quote", "attribution"})
    # | ("image", WixImage) | ("book_consultation", {...}), in reading order
    blocks: list
    authors: list[str] = field(default_factory=list)
    display_date: datetime.date | None = None
    old_site_links: list[tuple[str, str]] = field(default_factory=list)  # (address, link text)
    unplaced: list[str] = field(default_factory=list)  # text and embeds no block could hold
    missing_images: list[WixImage] = field(default_factory=list)  # in the page, not in the upload
    removed: list[str] = field(default_factory=list)  # the site chrome left out
    notes: list[str] = field(default_factory=list)  # what the import did that the editor may want to check
    warnings: list[str] = field(default_factory=list)  # what the editor must put right

    @property
    def images(self) -> list[WixImage]:
        return [value for kind, value in self.blocks if kind == "image"]

    @property
    def text(self) -> str:
        """All the words of the article's body, for guessing its topics."""
        parts = []
        for kind, value in self.blocks:
            if kind == "heading":
                parts.append(value["text"])
            elif kind == "paragraph":
                parts.append(_plain(value))
            elif kind == "quote":
                parts.append(value["quote"])
            elif kind == "book_consultation":
                parts.append(value["text"])
        return " ".join(parts)


def parse_file(name: str, data: bytes) -> list[WixPage]:
    """The pages in one uploaded file: .html/.htm, .txt, or a .zip of a saved page and its pictures."""
    base = posixpath.basename(name.replace("\\", "/")) or "the file"
    extension = posixpath.splitext(base)[1].lower()
    if extension not in ACCEPTED_EXTENSIONS:
        raise WixImportError(
            f"“{base}” is not a page from the old site: upload .html or .htm files saved from the browser, "
            "a .zip of a saved page with its pictures, or .txt files of copied text."
        )
    if len(data) > MAX_BYTES:
        raise WixImportError(f"“{base}” is larger than 5 MB. Save the page on its own and try again.")
    if not data.strip():
        raise WixImportError(f"“{base}” is empty.")
    if extension == ".zip":
        return _parse_zip(base, data)
    text = _decode(base, data)
    if extension == ".txt":
        return [parse_text(base, text)]
    return [parse_html(base, text)]


# Zips ------------------------------------------------------------------------------------------


def _parse_zip(name: str, data: bytes) -> list[WixPage]:
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
        members = [info for info in archive.infolist() if not info.is_dir()]
    except (zipfile.BadZipFile, zipfile.LargeZipFile, ValueError, EOFError) as error:
        raise WixImportError(f"“{name}” is not a zip file that can be opened.") from error
    if len(members) > MAX_ZIP_MEMBERS:
        raise WixImportError(f"“{name}” holds more than {MAX_ZIP_MEMBERS} files. Zip one saved page at a time.")
    for info in members:
        if _unsafe_zip_path(info.filename):
            raise WixImportError(f"“{name}” contains a file outside its own folder ({info.filename}); it was refused.")
        if info.flag_bits & 0x1:
            raise WixImportError(f"“{name}” is password-protected. Zip the page again without a password.")
    if sum(info.file_size for info in members) > MAX_BYTES:
        raise WixImportError(f"“{name}” is larger than 5 MB once unpacked. Zip one saved page at a time.")

    files, total = {}, 0
    for info in members:
        path = posixpath.normpath(info.filename.replace("\\", "/"))
        if path.startswith("__MACOSX/") or posixpath.basename(path).startswith("."):
            continue
        try:
            with archive.open(info) as member:
                content = member.read(info.file_size + 1)
        except (zipfile.BadZipFile, NotImplementedError, OSError, EOFError) as error:
            raise WixImportError(f"“{name}” is damaged: {info.filename} cannot be read.") from error
        total += len(content)
        if len(content) > info.file_size or total > MAX_BYTES:
            raise WixImportError(f"“{name}” is larger than 5 MB once unpacked. Zip one saved page at a time.")
        files[path] = content

    def in_files_folder(path):
        return any(part.endswith("_files") for part in path.split("/")[:-1])

    documents = sorted(
        path for path in files if path.lower().endswith((".html", ".htm", ".txt")) and not in_files_folder(path)
    )
    if not documents:
        raise WixImportError(f"“{name}” holds no saved page: put the .html file and its _files folder in the zip.")
    pages = []
    for path in documents:
        label = f"{name}: {path}"
        if not files[path].strip():
            raise WixImportError(f"“{label}” is empty.")
        text = _decode(label, files[path])
        if path.lower().endswith(".txt"):
            pages.append(parse_text(label, text))
        else:
            pages.append(parse_html(label, text, files=files, document_path=path))
    return pages


def _unsafe_zip_path(path: str) -> bool:
    path = path.replace("\\", "/")
    return path.startswith("/") or bool(re.match(r"^[A-Za-z]:", path)) or ".." in path.split("/")


def _decode(name: str, data: bytes) -> str:
    if b"\x00" in data[:4096]:
        raise WixImportError(f"“{name}” is not a text or web page file.")
    for encoding in ("utf-8-sig", "cp1252"):
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise WixImportError(f"“{name}” is not a text or web page file.")  # pragma: no cover - cp1252 decodes most bytes


# Saved web pages -------------------------------------------------------------------------------

# Parts of a Wix page that are not the article, with the words the report uses for them.
CHROME = [
    ("header, #SITE_HEADER, [data-testid='siteHeader']", "the site header and menu"),
    ("nav, [role='navigation']", "a menu"),
    ("footer, #SITE_FOOTER, [data-testid='siteFooter']", "the site footer"),
    ("#SCROLL_TO_TOP, #SCROLL_TO_BOTTOM, #BACK_TO_TOP_ANCHOR", "“top of page” and “bottom of page”"),
    ("#SKIP_TO_CONTENT_BTN, [data-testid='skipToContentButton']", "“Skip to Main Content”"),
    (
        "#consent-banner-root, [data-hook='consent-banner-root'], [id*='cookie' i], [class*='cookie' i], "
        "[class*='consent' i], [aria-label*='cookie' i]",
        "the cookie banner",
    ),
    ("[data-hook*='share' i], [aria-label^='Share' i], [class*='share-button' i]", "the share buttons"),
    (
        "[data-hook='recent-posts'], [data-hook*='related-posts'], [data-hook='recent-posts-title']",
        "“Recent Posts” and “See All”",
    ),
    ("[data-hook*='comment' i], [id*='comments' i], [class*='comments' i]", "the comments"),
    ("[data-hook='post-footer'], [data-hook*='views' i], [data-hook*='like' i]", "the views and likes counters"),
    ("[data-hook*='login' i], [data-testid*='login' i], [aria-label='Log In']", "“Log In”"),
    (
        "[data-hook='post-metadata'], [data-hook*='user-name'], [data-hook='time-ago'], [data-hook*='time-to-read']",
        "the author and date line (read as the article's author and date)",
    ),
    ("[data-hook='post-tags'], [data-hook*='categor']", "the post's tags and categories"),
]
CHROME_TEXT = {
    "top of page": "“top of page” and “bottom of page”",
    "bottom of page": "“top of page” and “bottom of page”",
    "skip to main content": "“Skip to Main Content”",
    "recent posts": "“Recent Posts” and “See All”",
    "see all": "“Recent Posts” and “See All”",
    "log in": "“Log In”",
    "log in / sign up": "“Log In”",
}
NOT_CONTENT = ["script", "style", "noscript", "template", "svg", "link", "meta", "head"]
NOT_CONTENT_AFTER_CHROME = ["button", "input", "select", "textarea"]
ARTICLE_ROOTS = [
    "[data-hook='post-description']",
    "[data-id='rich-content-viewer']",
    "[data-hook='rich-content-viewer']",
    ".rich-content-viewer",
    "article",
    "main",
    "#PAGES_CONTAINER",
    "#SITE_PAGES",
]
BLOCK_TAGS = {"p", "h1", "h2", "h3", "h4", "h5", "h6", "ul", "ol", "blockquote", "figure", "table", "pre", "hr"}
EMBEDS = {"img", "iframe", "video", "audio", "object", "embed", "form"}
CONTAINERS = {"div", "section", "article", "main", "aside", "wow-image", "li", "dd", "dt"}


@dataclass
class _Item:
    """A piece of the article before consecutive text is joined into paragraph blocks."""

    kind: str  # heading | text | list | image | quote
    value: object
    plain: str = ""
    links: list = field(default_factory=list)  # (href, text) of the links inside


def parse_html(name: str, html: str, *, files: dict | None = None, document_path: str = "") -> WixPage:
    soup = BeautifulSoup(html, "html.parser")
    if soup.find() is None:
        raise WixImportError(f"“{name}” does not look like a web page saved from the browser.")
    for comment in soup.find_all(string=lambda text: isinstance(text, Comment)):
        comment.extract()

    meta = _html_metadata(soup)
    base_url = meta["url"]
    old_hosts = _old_site_hosts(base_url)
    removed: list[str] = []

    # The author and date first: they are read from the chrome before it goes.
    authors = meta["authors"] or _texts(soup, "[data-hook*='user-name'], [data-hook='author-name']")[:1]
    display_date = meta["date"]
    warnings: list[str] = []
    if display_date is None:
        for element in soup.select("[data-hook='time-ago'], time"):
            found, note = parse_date(element.get("title") or element.get("datetime") or element.get_text(" "))
            if found or note:
                display_date = found
                if note:
                    warnings.append(note)
                break
    title = meta["title"] or _first_text(soup, "[data-hook='post-title'], h1")

    for element in soup.find_all(NOT_CONTENT):
        element.decompose()
    root = next((found for selector in ARTICLE_ROOTS if (found := soup.select_one(selector))), None)
    root = root or soup.body or soup

    unplaced: list[str] = []
    # Everything outside the article is chrome; say what, and list any other words left out.
    for selector, label in CHROME:
        for element in soup.select(selector):
            if element.decomposed or _contains(element, root):
                continue
            if label not in removed and element.get_text(strip=True):
                removed.append(label)
            element.decompose()
    for element in soup.find_all(NOT_CONTENT_AFTER_CHROME):
        element.decompose()
    for element in root.find_all(string=True):
        label = CHROME_TEXT.get(_squash(element).lower())
        if label:
            if label not in removed:
                removed.append(label)
            element.extract()
    if root is not soup and root is not soup.body:
        title_element = soup.select_one("[data-hook='post-title']")
        if title_element and not _contains(title_element, root):
            title_element.decompose()
        outside = _text_outside(soup, root)
        leftover = [text for text in outside if text.lower() not in CHROME_TEXT and text != title]
        if leftover:
            removed.append("other words around the article: " + " · ".join(_clip(text, 60) for text in leftover[:12]))

    items: list[_Item] = []
    _walk(root, items, unplaced, base_url=base_url, title=title)
    if not any(item.kind in ("text", "list", "quote") for item in items):
        raise WixImportError(f"We found no article text in “{name}”.")
    if not title:
        heading = next((item for item in items if item.kind == "heading"), None)
        if heading is None:
            raise WixImportError(f"“{name}” has no title and no headings: it does not look like a Wix page.")
        title = heading.value["text"]

    missing = _attach_images(items, files, document_path)
    page = _build(
        name,
        title=title,
        items=items,
        source=_source_for(base_url, title),
        slug=_slug_for(base_url, title),
        authors=authors,
        display_date=display_date,
        old_hosts=old_hosts,
        unplaced=unplaced,
        removed=removed,
        notes=[],
        warnings=warnings,
    )
    page.missing_images = missing
    return page


def _html_metadata(soup) -> dict:
    def meta(*names):
        for meta_name in names:
            tag = soup.find("meta", attrs={"property": meta_name}) or soup.find("meta", attrs={"name": meta_name})
            if tag and tag.get("content", "").strip():
                return tag["content"].strip()
        return ""

    canonical = soup.find("link", rel="canonical")
    url = (canonical.get("href", "").strip() if canonical else "") or meta("og:url")
    if not urlsplit(url).scheme.startswith("http"):
        url = ""
    authors, published = [], ""
    for script in soup.find_all("script", type="application/ld+json"):
        try:
            data = json.loads(script.string or "")
        except ValueError:
            continue
        for entry in data if isinstance(data, list) else [data]:
            if not isinstance(entry, dict) or entry.get("@type") not in ("BlogPosting", "Article", "NewsArticle"):
                continue
            published = published or str(entry.get("datePublished") or "")
            people = entry.get("author") or []
            for person in people if isinstance(people, list) else [people]:
                person_name = person.get("name") if isinstance(person, dict) else person
                if isinstance(person_name, str) and person_name.strip() and person_name.strip() not in authors:
                    authors.append(_squash(person_name))
    if not authors and (author := meta("article:author", "author")) and not author.startswith("http"):
        authors = [author]
    published = meta("article:published_time") or published
    date = None
    if published:
        try:
            date = datetime.date.fromisoformat(published[:10])
        except ValueError:
            date = None
    title = meta("og:title")
    if not title and soup.title:
        title = soup.title.get_text()
    if soup.select_one("[data-hook='post-title']"):
        title = ""  # a blog post: its title element holds the title without the site's name
    title = _squash(re.split(r"\s+[|–—-]\s+", title)[0]) if title else ""
    return {"url": url, "authors": authors, "date": date, "title": title or ""}


def _walk(node, items, unplaced, *, base_url, title):
    loose = []  # inline content directly inside a container, like a Wix text box without <p>

    def flush_loose():
        html, plain, links = _inline_many(loose, base_url)
        loose.clear()
        if plain:
            items.append(_Item("text", f"<p>{html}</p>", plain, links))

    for child in list(node.children):
        if isinstance(child, NavigableString):
            if _squash(child):
                loose.append(child)
            continue
        if not isinstance(child, Tag):
            continue
        name = child.name
        holds_blocks = child.find(list(BLOCK_TAGS | EMBEDS | {"div", "section"})) is not None
        if name not in BLOCK_TAGS | EMBEDS and not holds_blocks:
            if name in CONTAINERS:
                flush_loose()  # a box holding only text, as Wix's text boxes are: a paragraph of its own
                loose.append(child)
                flush_loose()
            else:
                loose.append(child)  # inline: a <span>, <b> or <a> between blocks
            continue
        flush_loose()
        if name in ("h1", "h2", "h3", "h4", "h5", "h6"):
            text = _squash(child)
            if not text or (name == "h1" and text == title):
                continue
            level = "h3" if name in ("h3", "h4", "h5", "h6") else "h2"
            if len(text) > HEADING_MAX_LENGTH:
                html, plain, links = _inline_many([child], base_url)
                items.append(_Item("text", f"<p><b>{html}</b></p>", plain, links))
                unplaced.append(
                    f"A heading longer than {HEADING_MAX_LENGTH} characters was kept as bold text: “{_clip(text, 80)}”"
                )
            else:
                items.append(_Item("heading", {"text": text, "level": level}, text))
            _images_inside(child, items)
        elif name == "p" or name == "pre":
            html, plain, links = _inline_many(list(child.children), base_url)
            if plain:
                items.append(_Item("text", f"<p>{html}</p>", plain, links))
            _images_inside(child, items)
        elif name in ("ul", "ol"):
            entries, plains, links = [], [], []
            for li in child.find_all("li", recursive=False) or [child]:
                html, plain, li_links = _inline_many(list(li.children), base_url)
                if plain:
                    entries.append(f"<li>{html}</li>")
                    plains.append(plain)
                    links.extend(li_links)
                _images_inside(li, items)
            if entries:
                items.append(_Item("list", f"<{name}>{''.join(entries)}</{name}>", " ".join(plains), links))
        elif name == "blockquote":
            text = _squash(child)
            if text:
                items.append(_Item("quote", {"quote": text, "attribution": ""}, text))
        elif name == "figure":
            caption_element = child.find("figcaption")
            caption = _squash(caption_element) if caption_element else ""
            for index, img in enumerate(child.find_all("img")):
                items.append(_image_item(img, caption if index == 0 else ""))
            if not child.find("img") and caption:
                unplaced.append(f"A caption without its picture: “{_clip(caption, 80)}”")
        elif name == "img":
            items.append(_image_item(child, ""))
        elif name in ("iframe", "video", "audio", "object", "embed"):
            source = child.get("src") or child.get("data-src") or child.get("data") or ""
            unplaced.append(f"An embedded {name} ({source or 'no address'}): add it again in the editor if it matters.")
        elif name == "table":
            unplaced.append(f"A table: “{_clip(_squash(child), 120)}”. Tables cannot be imported; retype it as a list.")
        elif name == "form":
            if _squash(child):
                unplaced.append(f"A form: “{_clip(_squash(child), 80)}”.")
        elif name == "hr":
            continue
        else:
            _walk(child, items, unplaced, base_url=base_url, title=title)
    flush_loose()


def _images_inside(element, items):
    for img in element.find_all("img"):
        items.append(_image_item(img, ""))


def _image_item(img, caption):
    src = img.get("src") or img.get("data-src") or ""
    candidates = [src, img.get("data-src") or "", img.get("data-pin-media") or ""]
    for srcset in (img.get("srcset") or "").split(","):
        if srcset.strip():
            candidates.append(srcset.strip().split()[0])
    alt = _squash(img.get("alt") or "")
    if re.fullmatch(r"[\w\-~.() ]+\.(jpe?g|png|gif|webp|avif|heic|svg)", alt, re.IGNORECASE) or alt.lower() in (
        "image",
        "photo",
        "picture",
        "img",
        "untitled",
    ):
        alt = ""  # Wix puts the file's name where no description was written
    image = WixImage(src=src, alt=alt, caption=caption[:250], candidates=[c for c in candidates if c])
    return _Item("image", image, "")


def _attach_images(items, files, document_path):
    """Gives each image the bytes of its file from the zip; takes out and returns those the upload lacks."""
    missing = []
    by_name = {}
    for path in files or {}:
        by_name.setdefault(posixpath.basename(path).lower(), path)
    folder = posixpath.dirname(document_path)
    for item in list(items):
        if item.kind != "image":
            continue
        image = item.value
        path = None
        for candidate in image.candidates:
            relative = unquote(urlsplit(candidate).path) if not candidate.startswith("data:") else ""
            if not relative:
                continue
            joined = posixpath.normpath(posixpath.join(folder, relative)) if not relative.startswith("/") else ""
            if files and joined in files:
                path = joined
                break
            basename = posixpath.basename(relative).lower()
            if basename and basename in by_name:
                path = by_name[basename]
                break
        if path and path.lower().endswith(IMAGE_EXTENSIONS):
            image.data = files[path]
            image.filename = posixpath.basename(path)
        else:
            items.remove(item)
            missing.append(image)
    return missing


def _text_outside(soup, root) -> list[str]:
    """The words of the page outside the article, in order, without repeats."""
    texts = []
    for string in soup.find_all(string=True):
        if type(string) is not NavigableString or _contains(root, string):
            continue
        text = _squash(string)
        if text and text not in texts:
            texts.append(text)
    return texts


def _contains(outer, inner) -> bool:
    return inner is outer or any(parent is outer for parent in inner.parents)


# Inline formatting -----------------------------------------------------------------------------

BOLD_STYLE = re.compile(r"font-weight\s*:\s*(bold|[6-9]00)", re.IGNORECASE)
ITALIC_STYLE = re.compile(r"font-style\s*:\s*italic", re.IGNORECASE)


def _inline_many(nodes, base_url):
    """Rich text in Wagtail's stored format (b, i, a, br, sup, sub) from inline nodes: (html, plain, links)."""
    links = []
    html = "".join(_inline(node, base_url, links, bold=False, italic=False) for node in nodes)
    html = re.sub(r"\s+", " ", html)
    html = re.sub(r"<(b|i)>(\s*)</\1>", r"\2", html)
    html = re.sub(r"(<br/>\s*)+$", "", html.strip()).strip()
    html = re.sub(r"^(\s*<br/>)+", "", html).strip()
    plain = _squash(_plain(html))
    return html, plain, links


def _inline(node, base_url, links, *, bold, italic) -> str:
    if isinstance(node, NavigableString):
        if isinstance(node, Comment):
            return ""
        return escape(str(node).replace("\u200b", "").replace("\xa0", " "), quote=False)
    if not isinstance(node, Tag):
        return ""
    name = node.name
    style = node.get("style") or ""
    if name == "br":
        return "<br/>"
    if name in ("img", "figure", "iframe"):
        return ""
    make_bold = not bold and (name in ("b", "strong") or bool(BOLD_STYLE.search(style)))
    make_italic = not italic and (name in ("i", "em") or bool(ITALIC_STYLE.search(style)))
    inner_bold, inner_italic = bold or make_bold, italic or make_italic
    # A block inside a list item or a paragraph: a line break, not a new block.
    prefix = "<br/>" if name in ("p", "div", "li") and node.previous_sibling is not None and _squash(node) else ""
    inner = "".join(_inline(child, base_url, links, bold=inner_bold, italic=inner_italic) for child in node.children)
    if name == "a":
        href = _link_target(node.get("href") or "", base_url)
        text = _squash(node)
        if href and text:
            links.append((href, text))
            inner = f'<a href="{escape(href)}">{inner}</a>'
    elif name in ("sup", "sub"):
        inner = f"<{name}>{inner}</{name}>"
    if make_italic:
        inner = f"<i>{inner}</i>"
    if make_bold:
        inner = f"<b>{inner}</b>"
    return prefix + inner


def _link_target(href: str, base_url: str) -> str:
    """The address a link should keep: absolute, or empty for links that lead nowhere once imported."""
    href = href.strip()
    if not href or href.startswith(("#", "javascript:", "data:")):
        return ""
    if href.startswith(("mailto:", "tel:")):
        return href
    absolute = urljoin(base_url, href) if base_url else href
    return absolute if urlsplit(absolute).scheme in ("http", "https") else ""


def _plain(html: str) -> str:
    return BeautifulSoup(html, "html.parser").get_text(" ") if "<" in html or "&" in html else html


# Copied text -----------------------------------------------------------------------------------

TEXT_MARKERS_START = {"top of page", "skip to main content"}
TEXT_END = re.compile(
    r"^(bottom of page|recent posts|see all|write a comment\.*|comments|log in to (comment|like)|"
    r"post not marked as liked|\d+ views?|\d+ comments?|\d+ likes?|share|share this post|©.*|copyright.*)$",
    re.IGNORECASE,
)
MENU_WORDS = {
    "home", "about", "about me", "about us", "blog", "contact", "contact me", "services", "book online", "book now",
    "shop", "more", "menu", "search", "log in", "login", "sign up", "all posts", "my account", "faq", "faqs",
    "resources", "testimonials", "work with me", "events", "programs", "podcast", "free guide", "top of page",
}  # fmt: skip
SHARE_WORDS = {"facebook", "twitter", "x", "linkedin", "link", "copy link", "pinterest", "whatsapp", "email"}
READ_TIME = re.compile(r"^\d+\s*min(ute)?s?\s*read$", re.IGNORECASE)
UPDATED = re.compile(r"^updated\s*:?", re.IGNORECASE)
BULLET = re.compile(r"^\s*[•·▪◦‣●○■–*-]\s*(?P<text>\S.*)$")
NUMBERED = re.compile(r"^\s*(?P<number>\d{1,2})[.)]\s+(?P<text>\S.*)$")
URL = re.compile(r"https?://[^\s<>\"']+[^\s<>\"'.,;:!?)]")
HASHTAGS = re.compile(r"^(#[\w-]+\s*)+$")


def parse_text(name: str, text: str) -> WixPage:
    lines = [
        line.replace("\u200b", "").replace("\ufeff", "").replace("\xa0", " ").rstrip() for line in text.splitlines()
    ]
    if not any(line.strip() for line in lines):
        raise WixImportError(f"“{name}” is empty.")
    if re.search(r"<(html|body|div|p)\b", text, re.IGNORECASE):
        raise WixImportError(f"“{name}” holds web page code, not copied text: save the page as .html instead.")
    dropped: list[str] = []  # chrome lines, listed in the report
    notes: list[str] = []
    warnings: list[str] = []

    start = 0
    for index, line in enumerate(lines[:60]):
        if line.strip().lower() in TEXT_MARKERS_START:
            start = index + 1
    dropped.extend(line.strip() for line in lines[:start] if line.strip())

    # A Wix blog post starts "Author", "Date", "3 min read", then the title; other pages start with
    # the menu, then the title.
    head = [
        (index, lines[index].strip()) for index in range(start, min(len(lines), start + 60)) if lines[index].strip()
    ]
    authors, display_date, title_at = [], None, None
    for position, (_index, line) in enumerate(head):
        if not _metadata_line(line) or UPDATED.match(line):
            continue
        date_position = position
        if READ_TIME.match(line) and position > 0 and any(parse_date(head[position - 1][1])):
            date_position = position - 1
        found, note = parse_date(head[date_position][1])
        display_date = found
        if note:
            warnings.append(note)
        if date_position > 0 and _looks_like_name(head[date_position - 1][1]):
            authors = [head[date_position - 1][1]]
        title_at = next((index for index, later in head[position + 1 :] if not _metadata_line(later)), None)
        break
    if title_at is None:
        title_at = next((index for index, line in head if line.lower() not in MENU_WORDS), None)
    if title_at is None:
        raise WixImportError(f"We found no article text in “{name}”.")
    title = _squash(lines[title_at])
    dropped.extend(
        line for index, line in head if index < title_at and line not in authors and not _metadata_line(line)
    )

    body, end = [], len(lines)
    for index in range(title_at + 1, len(lines)):
        line = lines[index].strip()
        if TEXT_END.match(line) or _share_run(lines, index):
            end = index
            break
        body.append(lines[index])
    dropped.extend(line.strip() for line in lines[end:] if line.strip())

    items: list[_Item] = []
    list_kind = None
    for position, raw in enumerate(body):
        line = _squash(raw)
        if not line:
            list_kind = None
            continue
        if position < 4 and _metadata_line(line):
            continue  # "Updated: …", "3 min read" under the title
        if line.lower() in TEXT_MARKERS_START or HASHTAGS.match(line):
            dropped.append(line)
            continue
        marker = BULLET.match(raw) or NUMBERED.match(raw)
        if marker:
            kind = "ul" if marker.re is BULLET else "ol"
            entry = _squash(marker.group("text"))
            html, links = _text_html(entry)
            if list_kind == kind and items and items[-1].kind == "list":
                _extend_list(items[-1], kind, f"<li>{html}</li>", entry, links)
            else:
                items.append(_Item("list", f"<{kind}><li>{html}</li></{kind}>", entry, links))
            list_kind = kind
            continue
        if list_kind and raw[:1].isspace() and items and items[-1].kind == "list":
            html, links = _text_html(line)  # an indented line under a list item continues it
            _extend_list(items[-1], list_kind, "", line, links, continuation=html)
            continue
        list_kind = None
        following = next((later for later in body[position + 1 :] if later.strip()), "")
        if _looks_like_heading(line) and following:
            items.append(_Item("heading", {"text": line, "level": "h2"}, line))
        else:
            html, links = _text_html(line)
            items.append(_Item("text", f"<p>{html}</p>", line, links))

    if not any(item.kind in ("text", "list") for item in items):
        raise WixImportError(f"We found no article text in “{name}”.")
    if any(item.kind == "heading" for item in items):
        notes.append(
            "Copied text does not say which headings are sub-headings, so all became section headings: "
            "make sub-headings in the editor where needed."
        )
    removed = []
    if dropped:
        shown = " · ".join(_clip(line, 40) for line in dropped[:40])
        more = f" and {len(dropped) - 40} more" if len(dropped) > 40 else ""
        removed.append(f"{len(dropped)} lines of site chrome: {shown}{more}")
    return _build(
        name,
        title=title,
        items=items,
        source=_source_for("", title),
        slug=_slug_for("", title),
        authors=authors,
        display_date=display_date,
        old_hosts=set(),
        unplaced=[],
        removed=removed,
        notes=notes,
        warnings=warnings,
    )


def _extend_list(item, kind, entry_html, plain, links, continuation=""):
    closing = f"</{kind}>"
    if continuation:
        item.value = item.value[: -len(f"</li>{closing}")] + f" {continuation}</li>{closing}"
    else:
        item.value = item.value[: -len(closing)] + entry_html + closing
    item.plain += " " + plain
    item.links.extend(links)


def _text_html(line: str):
    """Escaped text with its web addresses made into links."""
    parts, links, position = [], [], 0
    for match in URL.finditer(line):
        parts.append(escape(line[position : match.start()], quote=False))
        href = match.group(0)
        parts.append(f'<a href="{escape(href)}">{escape(href, quote=False)}</a>')
        links.append((href, href))
        position = match.end()
    parts.append(escape(line[position:], quote=False))
    return "".join(parts), links


def _looks_like_heading(line: str) -> bool:
    words = line.split()
    return (
        0 < len(words) <= 12
        and len(line) <= HEADING_MAX_LENGTH
        and not line.endswith((".", ",", ";", ":", "…", "!"))
        and not line[0].islower()
        and not URL.search(line)
    )


def _looks_like_name(line: str) -> bool:
    words = line.split()
    return (
        1 <= len(words) <= 5
        and all(word[:1].isupper() for word in words)
        and not re.search(r"\d", line)
        and line.lower() not in MENU_WORDS
    )


def _metadata_line(line: str) -> bool:
    return bool(READ_TIME.match(line) or UPDATED.match(line) or any(parse_date(line)))


def _share_run(lines, index) -> bool:
    """True at the first of two or more share links in a row ("Facebook", "Twitter", "LinkedIn")."""
    words = [line.strip().lower() for line in lines[index : index + 3] if line.strip()]
    return len(words) >= 2 and words[0] in SHARE_WORDS and words[1] in SHARE_WORDS


# Dates -----------------------------------------------------------------------------------------

MONTHS = {
    name: number
    for number, names in enumerate(
        [
            ("jan", "january"), ("feb", "february"), ("mar", "march"), ("apr", "april"), ("may",),
            ("jun", "june"), ("jul", "july"), ("aug", "august"), ("sep", "sept", "september"),
            ("oct", "october"), ("nov", "november"), ("dec", "december"),
        ],
        start=1,
    )
    for name in names
}  # fmt: skip
MONTH = r"(?P<month>[A-Za-z]{3,9})\.?"
DATE_PATTERNS = [
    re.compile(rf"^{MONTH}\s+(?P<day>\d{{1,2}})(,?\s+(?P<year>\d{{4}}))?$"),
    re.compile(rf"^(?P<day>\d{{1,2}})\s+{MONTH}(,?\s+(?P<year>\d{{4}}))?$"),
    re.compile(r"^(?P<year>\d{4})-(?P<month>\d{2})-(?P<day>\d{2})"),
]


def parse_date(text: str) -> tuple[datetime.date | None, str]:
    """A date line as Wix shows it ("Sep 14, 2025", "14 Sept 2025", "Sep 14", ISO): (date, note for the editor)."""
    text = _squash(UPDATED.sub("", text or "")) if UPDATED.match(text or "") else _squash(text or "")
    if re.fullmatch(r"\d+\s+(minutes?|hours?|days?|weeks?)\s+ago", text, re.IGNORECASE):
        return None, f"The old page gave its date as “{text}”: set the publication date in the editor."
    for pattern in DATE_PATTERNS:
        match = pattern.match(text)
        if not match:
            continue
        month = match.group("month")
        month = int(month) if month.isdigit() else MONTHS.get(month.lower())
        if not month:
            return None, ""
        if not match.group("year"):
            return (
                None,
                f"The old page showed the date “{text}” without a year: set the publication date in the editor.",
            )
        try:
            return datetime.date(int(match.group("year")), month, int(match.group("day"))), ""
        except ValueError:
            return None, ""
    return None, ""


# Building the page -----------------------------------------------------------------------------


def _build(
    name, *, title, items, source, slug, authors, display_date, old_hosts, unplaced, removed, notes, warnings
) -> WixPage:
    if len(title) > TITLE_MAX_LENGTH:
        warnings.append(f"The title was longer than {TITLE_MAX_LENGTH} characters and was shortened.")
        title = _cut(title, TITLE_MAX_LENGTH)
    items, cta_notes = _closing_invitation(items)
    notes.extend(cta_notes)

    first = next((item for item in items if item.kind == "text"), None) or next(
        (item for item in items if item.kind == "list"), None
    )
    summary = _cut(first.plain, SUMMARY_MAX_LENGTH) if first else _cut(title, SUMMARY_MAX_LENGTH)
    if first is None:
        warnings.append("The summary is the title: write one or two sentences for lists and search results.")

    blocks, pending = [], []

    def flush():
        if pending:
            blocks.append(("paragraph", "".join(pending)))
            pending.clear()

    old_links = []
    for item in items:
        for href, text in item.links:
            if _is_old_site(href, old_hosts) and (href, text) not in old_links:
                old_links.append((href, text))
        if item.kind in ("text", "list"):
            pending.append(item.value)
            continue
        flush()
        blocks.append((item.kind, item.value))
    flush()
    return WixPage(
        file_name=name,
        source=source,
        title=title,
        slug=slug,
        summary=summary,
        blocks=blocks,
        authors=authors,
        display_date=display_date,
        old_site_links=old_links,
        unplaced=unplaced,
        removed=removed,
        notes=notes,
        warnings=warnings,
    )


def _closing_invitation(items):
    """
    Turns a closing invitation to work with the practitioner into the booking block: the last section
    (a heading and up to three paragraphs) or the last paragraph, when it speaks of booking, working
    together, a consultation or getting in touch.
    """
    if len(items) < 3 or items[-1].kind != "text":
        return items, []
    last_heading = max((index for index, item in enumerate(items) if item.kind == "heading"), default=None)
    tail_start = len(items) - 1
    heading = ""
    if last_heading is not None and last_heading >= len(items) - 4 and last_heading > 0:
        section = items[last_heading + 1 :]
        if section and all(item.kind == "text" for item in section):
            tail_start, heading = last_heading, items[last_heading].value["text"]
    tail = [item for item in items[tail_start:] if item.kind == "text"]
    # A paragraph that is only a link ("Book a discovery call") was the old page's button.
    buttons = [item for item in tail if len(item.links) == 1 and item.plain == item.links[0][1]]
    text = " ".join(item.plain for item in tail if item not in buttons)
    if not CTA_WORDS.search(f"{heading} {text}") or len(text) > CTA_TEXT_MAX_LENGTH:
        return items, []
    links = [link for item in tail for link in item.links]
    label = next((item.plain for item in buttons), "") or next(
        (link_text for _href, link_text in links if CTA_WORDS.search(link_text)), ""
    )
    notes = ["The closing invitation became a “Book a consultation” block: check its words."]
    for href, link_text in links:
        notes.append(f"The invitation's link “{link_text}” ({href}) was replaced by this site's booking button.")
    block = {
        "heading": heading if heading else DEFAULT_CTA_HEADING,
        "text": text,
        "consultation_type": None,
        "button_label": label if label and len(label) <= 60 else DEFAULT_CTA_BUTTON,
    }
    # The invitation's links are now the button: they are not listed as old-site links to fix.
    kept = items[:tail_start] + [_Item("book_consultation", block, text)]
    return kept, notes


def _source_for(url: str, title: str) -> str:
    if url:
        parts = urlsplit(url)
        host = parts.netloc.lower().removeprefix("www.")
        return f"{host}{parts.path.rstrip('/')}"[:500]
    return f"title:{slugify(title)}"[:500]


def _slug_for(url: str, title: str) -> str:
    segment = slugify(unquote(urlsplit(url).path.rstrip("/").rsplit("/", 1)[-1])) if url else ""
    return (segment or slugify(title) or "imported-article")[:80].strip("-")


def _old_site_hosts(url: str) -> set[str]:
    host = urlsplit(url).hostname or ""
    host = host.lower().removeprefix("www.")
    return {host} if host else set()


def _is_old_site(href: str, old_hosts: set[str]) -> bool:
    host = (urlsplit(href).hostname or "").lower().removeprefix("www.")
    return bool(host) and (host in old_hosts or host == "wixsite.com" or host.endswith(".wixsite.com"))


def guess_topics(topics: dict, *, title: str, text: str) -> list:
    """
    The keys of `topics` ({key: name}) that the article seems to be about: a distinctive word of the
    topic's name (not "health" or "conditions") in the title, or at least twice in the text. Ignores
    case and a plural "s". Only a guess: the report asks the editor to check it.
    """
    title_words = _words(title)
    counts = {}
    for word in re.findall(r"[a-z0-9]+", text.lower()):
        counts[_stem(word)] = counts.get(_stem(word), 0) + 1
    chosen = []
    for key, name in topics.items():
        distinctive = _words(name) - GENERIC_TOPIC_WORDS
        if any(word in title_words or counts.get(word, 0) >= 2 for word in distinctive):
            chosen.append(key)
    return chosen


GENERIC_TOPIC_WORDS = {
    "and", "the", "of", "for", "with", "a", "an", "to", "in", "on", "your", "our",
    "health", "healthy", "condition", "conditions", "everyday", "general", "living", "life", "care", "tip", "news",
}  # fmt: skip


def _words(text: str) -> set[str]:
    return {_stem(word) for word in re.findall(r"[a-z0-9]+", text.lower())}


def _stem(word: str) -> str:
    return word[:-1] if len(word) > 3 and word.endswith("s") and not word.endswith("ss") else word


# Small helpers ---------------------------------------------------------------------------------


def _squash(node) -> str:
    text = node.get_text(" ") if isinstance(node, Tag) else str(node)
    return re.sub(r"\s+", " ", text.replace("\u200b", "").replace("\xa0", " ")).strip()


def _texts(soup, selector) -> list[str]:
    return [text for element in soup.select(selector) if (text := _squash(element))]


def _first_text(soup, selector) -> str:
    texts = _texts(soup, selector)
    return texts[0] if texts else ""


def _cut(text: str, limit: int) -> str:
    """`text` within `limit` characters, cut at a word with an ellipsis when it is longer."""
    text = _squash(text)
    if len(text) <= limit:
        return text
    cut = text[: limit - 1].rsplit(" ", 1)[0].rstrip(" ,;:–—-")
    return f"{cut}…"


def _clip(text: str, limit: int) -> str:
    return _cut(text, limit)
