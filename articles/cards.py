"""
Article cards (picture, title, date, reading time, authors), each kept in the cache as HTML.

A card shows only its own article, so it stays right until that article, its picture or one of its
authors changes, whatever happens to the page that lists it. The related articles under an article
are chosen afresh whenever any article is published, but their cards come from the cache: the page
reads which articles to show, not the articles themselves (their bodies, pictures and authors).
"""

from django.db.models import Prefetch
from django.template.loader import render_to_string
from django.utils.safestring import mark_safe

from practice import caching, visibility
from practice.images import prefetch_renditions

CARD_TEMPLATE = "articles/includes/article_card.html"


def cards(pks, *, heading_level) -> list[str]:
    """The HTML of the cards of the articles `pks`, in that order; those not kept are rendered from one read."""
    [parts] = caching.kept_each(each(pks, heading_level=heading_level), prepare=prefetch_renditions)
    return in_order(pks, parts)


def each(pks, *, heading_level) -> caching.Each:
    """The cards of the articles `pks` as parts kept one per article (`caching.kept_each`); each shows its picture."""
    return caching.Each(
        {pk: f"card:{pk}:h{heading_level}" for pk in pks},
        load,
        lambda article: _render(article, heading_level),
        shows=lambda article: [article.hero_image],
    )


def in_order(pks, parts) -> list[str]:
    """The cards `parts` (by id) of the articles `pks`, in that order."""
    # The template's output, kept as it was rendered (escaped there).
    return [mark_safe(parts[pk]) for pk in pks if pk in parts]  # noqa: S308


def load(pks) -> dict:
    """The articles `pks` with what their cards show (picture, authors), by id (the pictures' renditions: `prepare`)."""
    from .models import ArticlePage, Author

    articles = list(
        ArticlePage.objects.filter(pk__in=pks)
        .select_related("hero_image")
        .prefetch_related(Prefetch("authors", queryset=Author.objects.order_by("name")))
    )
    visibility.give_site_root_paths(articles)
    return {article.pk: article for article in articles}


def _render(article, heading_level):
    # Loaded outside this card's block (in bulk, for every card): noted here, so that the card is
    # rendered again when the article, its picture or one of its authors changes.
    caching.depend(caching.STRUCTURE)  # its address depends on the sites
    caching.note(article, article.hero_image, *article.authors.all())
    # Without the request: no context processors, and the article's address is relative on a one-site
    # install (absolute where there are several sites, which is right on every one of them).
    return render_to_string(CARD_TEMPLATE, {"article": article, "heading_level": heading_level})
