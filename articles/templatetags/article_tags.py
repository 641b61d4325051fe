from django import template

from wagtail.models import Site

from articles.models import ArticleIndexPage

register = template.Library()


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
    index = ArticleIndexPage.objects.live().descendant_of(site.root_page).first() if site else None
    request._articles_feed_url = index.get_url(request) + "feed/" if index else None
    return request._articles_feed_url
