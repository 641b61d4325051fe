from django import template

from wagtail.models import Site

from articles import cards
from articles.models import ArticleIndexPage
from practice import caching

register = template.Library()


feed_url_key = caching.site_wide(lambda site: f"feed-url:{site.pk}")


@register.simple_tag(takes_context=True)
def articles_feed_url(context):
    """The address of the articles feed on this site, or None when the site has no article index."""
    request = context.get("request")
    if request is None:
        return None
    cache = getattr(request, "_articles_feed_url", False)
    if cache is not False:
        return cache
    site = Site.find_for_request(request)
    if site is None:
        request._articles_feed_url = None
    else:
        request._articles_feed_url = caching.cached(feed_url_key(site), lambda: _feed_url(site, request))
    return request._articles_feed_url


def _feed_url(site, request):
    caching.depend(caching.MENU)  # the article index is a page of the menu's level: added, moved or removed with it
    index = ArticleIndexPage.for_site(site)
    return index.get_url(request) + "feed/" if index else None


@register.inclusion_tag("articles/includes/latest_articles.html", takes_context=True)
def latest_articles(context, count):
    """
    The newest `count` live, public articles of the request's site as cards (as the article index
    lists them), with the address of the index. Which they are is kept until a page is published,
    unpublished, moved or deleted; each card is kept on its own (`articles.cards`).
    """
    request = context.get("request")
    site = Site.find_for_request(request) if request else None
    if site is None or not count:
        return {"cards": []}
    index_url, pks = caching.cached(f"latest-articles:{site.pk}:{count}", lambda: _latest(site, count, request))
    return {"cards": cards.cards(pks, heading_level=3), "index_url": index_url}


def _latest(site, count, request):
    caching.depend(caching.PAGES)
    index = ArticleIndexPage.for_site(site)
    return (index.get_url(request), index.latest_article_ids(count)) if index else (None, [])
