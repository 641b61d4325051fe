"""
Educational articles: one index page at /articles/ with article pages beneath it, plus the authors
and topics that editors manage as snippets.

Dates: `display_date` is the publication date readers see; `last_reviewed` is when the content was
last checked for accuracy, separate from Wagtail's `last_published_at` ("last updated").
"""

import math
from collections import Counter

from django import forms
from django.db import models
from django.db.models import Prefetch
from django.utils.functional import cached_property
from django.utils.html import strip_tags
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

from practice import caching
from practice.caching import mark_public
from practice.images import social_image_url
from practice.models import HERO_PANEL, BasePage, PracticeSettings
from practice.pagination import page_of

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

    def articles(self):
        """Live, public articles under this index, newest first, with what listings show."""
        caching.depend(caching.PAGES)  # an article may be published, unpublished or moved
        Image = get_image_model()
        return (
            ArticlePage.objects.child_of(self)
            .live()
            .public()
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

        context.update(
            articles=page_of_articles,
            paginator=paginator,
            topic=topic,
            tag=tag,
            unknown_filter=(request.GET.get("topic") and not topic) or (request.GET.get("tag") and not tag),
            topics=Topic.objects.filter(articlepage__in=self.articles().values("pk")).distinct(),
        )
        return context

    @path("feed/", name="feed")
    def feed(self, request):
        from .feeds import ArticleFeed

        return mark_public(ArticleFeed(self)(request))

    def serve(self, request, *args, **kwargs):
        # RoutablePageMixin calls a route's view (the list itself included) without BasePage.serve.
        return self.cacheable(super().serve(request, *args, **kwargs))


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
    route_related = ("hero_image", "reviewed_by__about_page")

    meta_description_source = "summary"

    class Meta:
        verbose_name = "article"

    def get_context(self, request, *args, **kwargs):
        context = super().get_context(request, *args, **kwargs)
        authors = list(self.authors.select_related("about_page", "photo"))
        topics = list(self.topics.all())
        tags = list(self.tags.all())
        related = self.related_articles(topics=topics, tags=tags)
        # Every picture on the page, with its renditions, from one query.
        _prefetch_renditions([self.hero_image, *(author.photo for author in authors), *(r.hero_image for r in related)])
        share_image = social_image_url(self.hero_image, request) if self.hero_image else None
        ancestors = list(self.get_ancestors().filter(depth__gt=1))  # the home page and the article index
        context.update(
            authors=authors,
            topics=topics,
            tags=tags,
            index_page=ancestors[-1],
            toc=self.table_of_contents,
            anchors=self.heading_anchors,
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
                authors=authors,
                topics=topics,
                ancestors=ancestors,
            ),
        )
        return context

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
        for block in self.body:
            if block.block_type != "heading":
                continue
            base = slugify(block.value["text"]) or "section"
            seen[base] += 1
            anchor = base if seen[base] == 1 else f"{base}-{seen[base]}"
            headings.append(
                {"id": block.id, "text": block.value["text"], "level": block.value["level"], "anchor": anchor}
            )
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

    def related_articles(self, limit=RELATED_LIMIT, *, topics=None, tags=None):
        """
        Up to `limit` live articles: the hand-picked ones first, in the editor's order, then those
        sharing the most topics and tags with this one, newest first. One query whatever the sizes.
        """
        caching.depend(caching.PAGES)  # any article may become related by a change to its topics or tags
        topic_ids = [topic.pk for topic in (self.topics.all() if topics is None else topics)]
        tag_ids = [tag.pk for tag in (self.tags.all() if tags is None else tags)]
        # The editor's picks in their order (links added in code have no sort order: then in the order added).
        picks = RelatedArticle.objects.filter(page_id=self.pk, article_id=models.OuterRef("pk"))
        pick = picks.order_by(models.F("sort_order").asc(nulls_last=True), "pk")
        candidates = (
            ArticlePage.objects.live()
            .public()
            .exclude(pk=self.pk)
            .filter(
                models.Q(pk__in=RelatedArticle.objects.filter(page_id=self.pk).values("article_id"))
                | models.Q(topics__in=topic_ids)
                | models.Q(tagged_items__tag_id__in=tag_ids)
            )
            .annotate(
                is_picked=models.Exists(picks),
                pick_order=models.Subquery(pick.values("sort_order")[:1]),
                pick_id=models.Subquery(pick.values("pk")[:1]),
                shared_topics=models.Count("topics", filter=models.Q(topics__in=topic_ids), distinct=True),
                shared_tags=models.Count(
                    "tagged_items", filter=models.Q(tagged_items__tag_id__in=tag_ids), distinct=True
                ),
            )
            .annotate(shared=models.F("shared_topics") + models.F("shared_tags"))
            .order_by(
                "-is_picked",
                models.F("pick_order").asc(nulls_last=True),
                "pick_id",
                "-shared",
                "-display_date",
                "-pk",
            )
            .select_related("hero_image")
            .prefetch_related(Prefetch("authors", queryset=Author.objects.order_by("name")))
        )
        return list(candidates[:limit])

    def structured_data(self, request, practice_settings, image_url=None, authors=None, topics=None, ancestors=None):
        """
        JSON-LD for search engines: the article as a MedicalWebPage citing its references, and its
        breadcrumb trail. The page's view passes what it has loaded already (authors, topics, ancestors)
        so that nothing is read twice.
        """
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
            "author": [_person(author, request) for author in (authors if authors is not None else self.authors.all())],
            "reviewedBy": _person(self.reviewed_by, request) if self.reviewed_by else None,
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


def _prefetch_renditions(images):
    """Loads the renditions of all `images` in one query, where Wagtail's image tags look for them."""
    images = [image for image in images if image is not None]
    if not images:
        return
    found = {image.pk: [] for image in images}
    Rendition = get_image_model().get_rendition_model()
    for rendition in Rendition.objects.filter(image_id__in=found):
        found[rendition.image_id].append(rendition)
    for image in images:
        image.prefetched_renditions = list(found[image.pk])
        for rendition in image.prefetched_renditions:
            rendition.image = image  # its alt text comes from the image: no query back


def _person(author, request):
    person = {"@type": "Person", "name": author.name}
    if author.job_title:
        person["jobTitle"] = author.job_title
    if author.credentials:
        person["honorificSuffix"] = author.credentials
    if author.about_page_id:
        person["url"] = author.about_page.get_full_url(request)
    return person


_NOT_WORDS = {"id", "type", "url", "image", "style", "level", "page", "doi", "accessed", "consultation_type"}


def _count_words(value):
    if isinstance(value, str):
        return len(strip_tags(value).split())
    if isinstance(value, dict):
        return sum(_count_words(item) for key, item in value.items() if key not in _NOT_WORDS)
    if isinstance(value, list):
        return sum(_count_words(item) for item in value)
    return 0
