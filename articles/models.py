"""
Educational articles: one index page at /articles/ with article pages beneath it, plus the authors
and topics that editors manage as snippets.

Dates: `display_date` is the publication date readers see; `last_reviewed` is when the content was
last checked for accuracy, separate from Wagtail's `last_published_at` ("last updated").
"""

import datetime
import hashlib
import json
import math
import re
from collections import Counter

from django import forms
from django.core.serializers.json import DjangoJSONEncoder
from django.db import connection, models
from django.db.models import F, Prefetch, Value
from django.template.loader import render_to_string
from django.utils.functional import cached_property
from django.utils.safestring import mark_safe
from django.utils.text import slugify

from modelcluster.contrib.taggit import ClusterTaggableManager
from modelcluster.fields import ParentalKey, ParentalManyToManyField
from taggit.models import Tag, TaggedItemBase
from wagtail.admin.panels import FieldPanel, InlinePanel, MultiFieldPanel, PageChooserPanel
from wagtail.contrib.routable_page.models import RoutablePageMixin, path
from wagtail.fields import RichTextField, StreamField
from wagtail.images import get_image_model
from wagtail.models import Orderable, Page
from wagtail.search import index

from practice import caching, visibility
from practice.caching import mark_public
from practice.images import prefetch_renditions, social_image_url
from practice.models import HERO_PANEL, BasePage, PracticeSettings
from practice.pagination import page_of

from . import cards, people
from .blocks import ArticleStreamBlock, ReferenceBlock

WORDS_PER_MINUTE = 200
ARTICLES_PER_PAGE = 10
RELATED_LIMIT = 3


class Author(index.Indexed, models.Model):
    name = models.CharField(max_length=120, help_text="The person's name as readers should see it.")
    credentials = models.CharField(
        max_length=120, blank=True, help_text="Letters after the name, for example 'MSc, RD'. Only real qualifications."
    )
    job_title = models.CharField(
        max_length=160, blank=True, help_text="What they do, for example 'Registered Dietitian'."
    )
    bio = models.TextField(blank=True, max_length=600, help_text="Two or three sentences about them, in plain words.")
    photo = models.ForeignKey(
        "wagtailimages.Image",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        help_text="A square photo works best.",
    )
    about_page = models.ForeignKey(
        "wagtailcore.Page",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        help_text="Optional: a page of this site about this person.",
    )

    panels = [
        FieldPanel("name"),
        FieldPanel("credentials"),
        FieldPanel("job_title"),
        FieldPanel("bio"),
        FieldPanel("photo"),
        PageChooserPanel("about_page"),
    ]
    search_fields = [
        index.SearchField("name"),
        index.AutocompleteField("name"),
        index.SearchField("job_title"),
        index.FilterField("job_title"),
    ]

    class Meta:
        ordering = ["name"]

    def __str__(self):
        return f"{self.name}, {self.credentials}" if self.credentials else self.name


class Topic(index.Indexed, models.Model):
    name = models.CharField(max_length=80, unique=True, help_text="A broad subject, like 'Gut health'.")
    slug = models.SlugField(
        max_length=80, unique=True, help_text="The short name used in links, like 'gut-health'. Lower case, no spaces."
    )
    description = models.TextField(blank=True, help_text="One sentence shown on the topic's listing.")

    panels = [FieldPanel("name"), FieldPanel("slug"), FieldPanel("description")]
    search_fields = [index.SearchField("name"), index.AutocompleteField("name"), index.SearchField("description")]

    class Meta:
        ordering = ["name"]

    def __str__(self):
        return self.name


class ArticlePageTag(TaggedItemBase):
    content_object = ParentalKey("articles.ArticlePage", on_delete=models.CASCADE, related_name="tagged_items")


class ArticleIndexPage(RoutablePageMixin, BasePage):
    introduction = models.TextField(blank=True, help_text="A sentence or two at the top of the articles list.")

    content_panels = Page.content_panels + [FieldPanel("introduction"), HERO_PANEL]
    search_fields = Page.search_fields + [index.SearchField("introduction")]

    parent_page_types = ["practice.HomePage"]
    subpage_types = ["articles.ArticlePage"]
    max_count = 1

    class Meta:
        verbose_name = "article index page"

    @classmethod
    def for_site(cls, site):
        """The site's live article index (a site has one at most), or None."""
        return cls.objects.live().descendant_of(site.root_page).first()

    def latest_article_ids(self, count) -> list[int]:
        """The ids of the newest `count` articles, in the order `articles()` lists them."""
        return list(self.articles().prefetch_related(None).values_list("pk", flat=True)[:count])

    def articles(self):
        """Live, public articles under this index, newest first, with what listings show."""
        caching.depend(caching.PAGES)  # an article may be published, unpublished or moved
        Image = get_image_model()
        return (
            visibility.public(ArticlePage.objects.child_of(self).live())
            .prefetch_related(
                Prefetch("hero_image", queryset=Image.objects.prefetch_renditions()),
                Prefetch("authors", queryset=Author.objects.order_by("name")),
                "topics",
            )
            .order_by("-display_date", "-first_published_at", "-pk")
        )

    def get_context(self, request, *args, **kwargs):
        context = super().get_context(request, *args, **kwargs)
        articles = self.articles()
        topic = tag = None
        if topic_slug := request.GET.get("topic"):
            topic = Topic.objects.filter(slug=topic_slug).first()
            articles = articles.filter(topics=topic) if topic else articles.none()
        if tag_slug := request.GET.get("tag"):
            tag = Tag.objects.filter(slug=tag_slug).first()
            articles = articles.filter(tagged_items__tag=tag) if tag else articles.none()

        paginator, page_of_articles = page_of(articles, per_page=ARTICLES_PER_PAGE, number=request.GET.get("page", 1))
        unknown_filter = (request.GET.get("topic") and not topic) or (request.GET.get("tag") and not tag)

        context.update(
            articles=page_of_articles,
            paginator=paginator,
            topic=topic,
            tag=tag,
            unknown_filter=unknown_filter,
            # Any other address (an unknown topic, a page number out of range or not a number) shows a
            # list too, but is not kept: anyone could make up as many such addresses as they like.
            keep_whole=not unknown_filter and request.GET.get("page", "1") == str(page_of_articles.number),
            topics=Topic.objects.filter(articlepage__in=self.articles().values("pk")).distinct(),
        )
        return context

    @path("feed/", name="feed")
    def feed(self, request):
        from .feeds import ArticleFeed

        return mark_public(ArticleFeed(self)(request))

    def serve(self, request, *args, **kwargs):
        # RoutablePageMixin calls a route's view (the list itself included) without BasePage.serve.
        response = self.cacheable(super().serve(request, *args, **kwargs))
        if not (getattr(response, "context_data", None) or {}).get("keep_whole", True):
            response.app_cacheable = False  # still public for shared caches, which bound what they keep
        return response


class RelatedArticle(Orderable):
    page = ParentalKey("articles.ArticlePage", on_delete=models.CASCADE, related_name="related_links")
    article = models.ForeignKey(
        "articles.ArticlePage",
        on_delete=models.CASCADE,
        related_name="+",
        help_text="An article readers of this one may want next.",
    )

    panels = [PageChooserPanel("article", "articles.ArticlePage")]


class ArticlePage(BasePage):
    summary = models.TextField(
        max_length=300,
        help_text="One or two sentences shown in lists and search results. Used for search engines too.",
    )
    body = StreamField(ArticleStreamBlock(), use_json_field=True, help_text="The article itself.")
    authors = ParentalManyToManyField(Author, blank=True, related_name="articles", help_text="Who wrote it.")
    reviewed_by = models.ForeignKey(
        Author,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="reviewed_articles",
        help_text="The qualified person who checked the article for medical accuracy.",
    )
    last_reviewed = models.DateField(
        null=True, blank=True, help_text="The day the article was last checked for accuracy."
    )
    display_date = models.DateField(
        "publication date",
        null=True,
        blank=True,
        help_text="The date shown to readers. Leave empty to use the day it is first published.",
    )
    topics = ParentalManyToManyField(Topic, blank=True, help_text="The broad subjects the article belongs to.")
    tags = ClusterTaggableManager(
        through=ArticlePageTag, blank=True, help_text="Specific words readers may look for, like 'probiotics'."
    )
    references = StreamField(
        [("reference", ReferenceBlock())],
        blank=True,
        use_json_field=True,
        help_text="The sources the article relies on, in the order you cite them.",
    )
    article_note = RichTextField(
        features=["bold", "italic", "link"],
        blank=True,
        help_text="Optional note for this article only, shown beside the site-wide medical disclaimer.",
    )
    import_source = models.CharField(
        max_length=500,
        blank=True,
        editable=False,
        db_index=True,
        help_text="The page of the old site this article was imported from, so that a second import updates it.",
    )

    content_panels = Page.content_panels + [
        FieldPanel("summary"),
        HERO_PANEL,
        FieldPanel("body"),
        FieldPanel("references"),
        FieldPanel("article_note"),
    ]
    promote_panels = Page.promote_panels + [
        MultiFieldPanel(
            [
                FieldPanel("authors", widget=forms.CheckboxSelectMultiple),
                FieldPanel("reviewed_by"),
                FieldPanel("last_reviewed"),
                FieldPanel("display_date"),
            ],
            heading="Authors and review",
        ),
        MultiFieldPanel(
            [FieldPanel("topics", widget=forms.CheckboxSelectMultiple), FieldPanel("tags")],
            heading="Topics and tags",
        ),
        InlinePanel("related_links", label="Related article", heading="Related articles", max_num=RELATED_LIMIT),
    ]
    search_fields = Page.search_fields + [
        index.SearchField("summary", boost=2),
        index.SearchField("body"),
        index.RelatedFields("topics", [index.SearchField("name")]),
        index.RelatedFields("tags", [index.SearchField("name")]),
        index.RelatedFields("authors", [index.SearchField("name")]),
        index.FilterField("display_date"),
    ]

    parent_page_types = ["articles.ArticleIndexPage"]
    subpage_types = []
    # Loaded with the page when a visitor's address is routed to it (practice.models.HomePage.route).
    route_related = ("hero_image",)

    meta_description_source = "summary"

    class Meta:
        verbose_name = "article"

    def get_context(self, request, *args, **kwargs):
        context = super().get_context(request, *args, **kwargs)
        topics, tags, author_ids = self.labels(preview=getattr(request, "is_preview", False))
        related_ids = self.related_article_ids(topics=topics, tags=tags)
        # The bylines and the related articles' cards kept, or read together: the pictures of those not
        # kept with this page's own (its picture, its link preview) in one query.
        found_people, found_cards = caching.kept_each(
            people.each([*author_ids, *self._reviewer_ids()]),
            cards.each(related_ids, heading_level=3),
            prepare=lambda pictures: prefetch_renditions([self.hero_image, *pictures]),
        )
        authors, reviewer = self._credited(author_ids, found_people)
        related = cards.in_order(related_ids, found_cards)
        share_image = social_image_url(self.hero_image, request) if self.hero_image else None
        # The home page and the article index: routing read them already (HomePage.route).
        ancestors = getattr(self, "routed_ancestors", None)
        if ancestors is None:
            ancestors = list(self.get_ancestors().filter(depth__gt=1))
        context.update(
            authors=authors,
            reviewer=reviewer,
            topics=topics,
            tags=tags,
            index_page=ancestors[-1],
            toc=self.table_of_contents,
            body=self.body_html(request),
            related=related,
            closing_invitation={
                "heading": "Would you like support with this?",
                "text": "A first conversation is a chance to talk through what you are noticing, at your own pace.",
                "consultation_type": "",
                "button_label": "Book a consultation",
            },
            structured_data=self.structured_data(
                request,
                PracticeSettings.for_request(request),
                image_url=share_image,
                credited=(authors, reviewer),
                topics=topics,
                ancestors=ancestors,
            ),
        )
        return context

    def body_html(self, request):
        """
        The body as HTML. Kept in the cache under a digest of the body's content and the page's address,
        so a publish that leaves the body as it was (a new title, a summary, a review date) renders it
        from the cache; what the blocks show (pictures, linked pages, a consultation type) invalidates it.
        """
        context = {"page": self, "anchors": self.heading_anchors}

        def render():
            caching.depend(caching.STRUCTURE)  # the addresses of the pages it links to
            return render_to_string("articles/includes/article_body.html", context, request=request)

        if getattr(request, "is_preview", False):
            return render()  # a draft: never kept
        # The host too: links are written relative to the site the request came to.
        where = [request.get_host() if request else "", self.url_path]
        content = json.dumps([*where, list(self.body.raw_data)], sort_keys=True, cls=DjangoJSONEncoder)
        digest = hashlib.sha256(content.encode()).hexdigest()[:32]
        # Rendered here, escaped by the template; kept as the template wrote it.
        return mark_safe(caching.cached(f"article-body:{self.pk}:{digest}", render))  # noqa: S308

    def credited(self):
        """
        The authors (by name) and the medical reviewer, as pages show them (`articles.people`), from the
        authors the page holds (in a preview, those chosen in the editor). A page being served reads them
        with its topics and tags instead (`labels`, in `get_context`).
        """
        author_ids = [author.pk for author in self.authors.all()]
        return self._credited(author_ids, people.people([*author_ids, *self._reviewer_ids()]))

    def _reviewer_ids(self):
        return [self.reviewed_by_id] if self.reviewed_by_id else []

    def _credited(self, author_ids, found):
        authors = sorted((found[pk] for pk in author_ids if pk in found), key=lambda person: (person.name, person.pk))
        return authors, found.get(self.reviewed_by_id)

    def labels(self, *, preview=False):
        """
        The article's topics (by name) and tags (in the order they were added), and its authors' ids.
        For a preview, those chosen in the editor, held by the page; otherwise read in one query, where
        the three relations would take one each.
        """
        if preview:
            return list(self.topics.all()), list(self.tags.all()), [author.pk for author in self.authors.all()]
        text = models.TextField()
        blank = Value("", output_field=text)
        columns = ("kind", "target", "name", "slug", "description", "sort", "pk")
        topics = ArticlePage.topics.through.objects.filter(articlepage_id=self.pk).annotate(
            kind=Value("topic", output_field=text),
            target=F("topic_id"),
            name=F("topic__name"),
            slug=F("topic__slug"),
            description=F("topic__description"),
            sort=F("topic__name"),
        )
        tags = ArticlePageTag.objects.filter(content_object_id=self.pk).annotate(
            kind=Value("tag", output_field=text),
            target=F("tag_id"),
            name=F("tag__name"),
            slug=F("tag__slug"),
            description=blank,
            sort=blank,  # in the order they were added: the rows' own
        )
        authors = ArticlePage.authors.through.objects.filter(articlepage_id=self.pk).annotate(
            kind=Value("author", output_field=text),
            target=F("author_id"),
            name=blank,
            slug=blank,
            description=blank,
            sort=blank,
        )
        labels = (
            topics.values_list(*columns)
            .union(tags.values_list(*columns), authors.values_list(*columns), all=True)
            .order_by("kind", "sort", "pk")
        )
        found = {"topic": [], "tag": [], "author": []}
        for kind, pk, name, slug, description, _, _ in labels:
            if kind == "topic":
                found[kind].append(
                    Topic.from_db(labels.db, ["id", "name", "slug", "description"], [pk, name, slug, description])
                )
            elif kind == "tag":
                found[kind].append(Tag.from_db(labels.db, ["id", "name", "slug"], [pk, name, slug]))
            else:
                found[kind].append(pk)
        return found["topic"], found["tag"], found["author"]

    def get_structured_data(self, request) -> list[dict]:
        image_url = social_image_url(self.hero_image, request) if self.hero_image else None
        return self.structured_data(request, PracticeSettings.for_request(request), image_url=image_url)

    @property
    def publication_date(self):
        if self.display_date:
            return self.display_date
        return self.first_published_at.date() if self.first_published_at else None

    @cached_property
    def word_count(self):
        words = 0
        for block in self.body.raw_data:
            words += _count_words(block["value"])
        return words

    @property
    def reading_minutes(self):
        return max(1, math.ceil(self.word_count / WORDS_PER_MINUTE))

    @cached_property
    def headings(self):
        """The heading blocks, each with an anchor that is unique on the page."""
        seen = Counter()
        headings = []
        # From the stored data: reading the blocks themselves would load what other blocks refer to.
        for block in self.body.raw_data:
            if block["type"] != "heading":
                continue
            value = block["value"] if isinstance(block["value"], dict) else {}
            text, level = value.get("text") or "", value.get("level") or "h2"
            base = slugify(text) or "section"
            seen[base] += 1
            anchor = base if seen[base] == 1 else f"{base}-{seen[base]}"
            headings.append({"id": block.get("id"), "text": text, "level": level, "anchor": anchor})
        return headings

    @property
    def heading_anchors(self):
        return {heading["id"]: heading["anchor"] for heading in self.headings}

    @property
    def table_of_contents(self):
        """Section headings with their sub-headings nested, when there are three headings or more."""
        if len(self.headings) < 3:
            return []
        sections = []
        for heading in self.headings:
            if heading["level"] == "h3" and sections:
                sections[-1]["children"].append(heading)
            else:
                sections.append({**heading, "children": []})
        return sections

    def related_article_ids(self, limit=RELATED_LIMIT, *, topics=None, tags=None) -> list[int]:
        """
        Up to `limit` live, public articles: the hand-picked ones first, in the editor's order, then
        those sharing the most topics and tags with this one, newest first. One query whatever the
        sizes (`_related_candidates`); the ranking is done here, where it is cheap to write and read.
        """
        caching.depend(caching.PAGES)  # any article may become related by a change to its topics or tags
        topic_ids = [topic.pk for topic in (self.topics.all() if topics is None else topics)]
        tag_ids = [tag.pk for tag in (self.tags.all() if tags is None else tags)]
        shared, picks, dates = Counter(), {}, {}
        for kind, pk, value, pick_id, tree_path, display_date, first_published_at in self._related_candidates(
            topic_ids, tag_ids
        ):
            if pk == self.pk or visibility.is_restricted_path(tree_path):
                continue
            if kind == "pick":
                # The editor's order; links added in code have no order and come after, oldest first.
                picks[pk] = min(picks.get(pk, (True, 0, 0)), (value is None, value or 0, pick_id))
            else:
                shared[pk, kind, value] = 1  # a topic or tag counts once, however often it is attached
            dates[pk] = display_date or first_published_at or datetime.date.min
        counts = Counter(pk for pk, _, _ in shared)

        def rank(pk):
            return (picks.get(pk, (True, math.inf, 0)), -counts[pk], -dates[pk].toordinal(), -pk)

        return sorted(dates, key=rank)[:limit]

    def _related_candidates(self, topic_ids, tag_ids):
        """
        Rows (kind, article id, topic/tag id or pick order, pick id, tree path, display date, first
        published) of the live articles sharing a topic or tag with this one, or picked by its editor.
        Raw SQL: the ORM needs a query for each kind and another for the pages, four compiled queries
        that cost more than the page's own rendering.
        """
        # Only table and column names of the models are written into the statement (hence the noqa: S608);
        # every value is a parameter.
        quote = connection.ops.quote_name
        related, page, article = (quote(model._meta.db_table) for model in (RelatedArticle, Page, ArticlePage))
        picks = f"SELECT 'pick' AS kind, article_id AS article, sort_order AS value, id AS pick FROM {related}"  # noqa: S608
        parts = [f"{picks} WHERE page_id = %s"]
        params = [self.pk]
        for kind, table, article_id, value, ids in (
            ("topic", ArticlePage.topics.through._meta.db_table, "articlepage_id", "topic_id", topic_ids),
            ("tag", ArticlePageTag._meta.db_table, "content_object_id", "tag_id", tag_ids),
        ):
            if ids:
                marks = ", ".join(["%s"] * len(ids))
                where = f"WHERE {value} IN ({marks})"
                parts.append(f"SELECT '{kind}', {article_id}, {value}, NULL FROM {quote(table)} {where}")  # noqa: S608
                params += ids
        sql = (
            "SELECT found.kind, found.article, found.value, found.pick, page.path, article.display_date, "  # noqa: S608
            f"page.first_published_at FROM ({' UNION ALL '.join(parts)}) found "
            f"INNER JOIN {page} page ON page.id = found.article "
            f"INNER JOIN {article} article ON article.page_ptr_id = page.id WHERE page.live"
        )
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
            rows = cursor.fetchall()
        # SQLite gives the dates as text when they come through a subquery's join.
        return [(*row[:5], _as_date(row[5]), _as_date(row[6])) for row in rows]

    def structured_data(self, request, practice_settings, image_url=None, credited=None, topics=None, ancestors=None):
        """
        JSON-LD for search engines: the article as a MedicalWebPage citing its references, and its
        breadcrumb trail. The page's view passes what it has read already (`credited()`, topics, ancestors)
        so that nothing is read twice.
        """
        authors, reviewer = credited if credited is not None else self.credited()
        publisher = {
            "@type": "Organization",
            "name": practice_settings.practice_name,
            "url": request.build_absolute_uri("/"),
        }
        article = {
            "@context": "https://schema.org",
            "@type": "MedicalWebPage",
            "headline": self.title,
            "name": self.title,
            "description": self.get_meta_description(),
            "url": self.get_full_url(request),
            "datePublished": self.publication_date.isoformat() if self.publication_date else None,
            "dateModified": (self.last_published_at or self.latest_revision_created_at).isoformat()
            if (self.last_published_at or self.latest_revision_created_at)
            else None,
            "lastReviewed": self.last_reviewed.isoformat() if self.last_reviewed else None,
            "author": [person.structured_data() for person in authors],
            "reviewedBy": reviewer.structured_data() if reviewer else None,
            "publisher": publisher,
            "inLanguage": "en-GB",
            "about": [
                {"@type": "Thing", "name": topic.name} for topic in (self.topics.all() if topics is None else topics)
            ],
            "citation": self.citations() or None,
        }
        if image_url:
            article["image"] = image_url
        if ancestors is None:
            ancestors = list(self.get_ancestors().filter(depth__gt=1))
        trail = [*ancestors, self]
        breadcrumbs = {
            "@context": "https://schema.org",
            "@type": "BreadcrumbList",
            "itemListElement": [
                {
                    "@type": "ListItem",
                    "position": position,
                    "name": "Home" if page.depth == 2 else page.title,
                    "item": page.get_full_url(request),
                }
                for position, page in enumerate(trail, start=1)
            ],
        }
        return [{key: value for key, value in article.items() if value is not None}, breadcrumbs]

    def citations(self) -> list[dict]:
        """The article's references as schema.org CreativeWorks, in the order the article lists them."""
        citations = []
        for reference in self.references:
            value = reference.value
            doi = f"https://doi.org/{value['doi']}" if value.get("doi") else None
            work = {"@type": "CreativeWork", "name": value["text"], "url": value.get("url") or doi}
            if doi and work["url"] != doi:
                work["sameAs"] = doi
            citations.append({key: item for key, item in work.items() if item})
        return citations


_NOT_WORDS = {"id", "type", "url", "image", "style", "level", "page", "doi", "accessed", "consultation_type"}


# Tags only separate words here: a regular expression is enough, and far cheaper than an HTML parser.
_TAG = re.compile(r"<[^>]*>")


def _as_date(value) -> datetime.date | None:
    """A date or datetime column's value as a date (a datetime's own, in UTC as stored)."""
    if isinstance(value, str):
        return datetime.date.fromisoformat(value[:10])
    return value.date() if isinstance(value, datetime.datetime) else value


def _count_words(value):
    if isinstance(value, str):
        return len(_TAG.sub(" ", value).split())
    if isinstance(value, dict):
        return sum(_count_words(item) for key, item in value.items() if key not in _NOT_WORDS)
    if isinstance(value, list):
        return sum(_count_words(item) for item in value)
    return 0
