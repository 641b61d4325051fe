"""Site services: search, robots.txt, the health check and the error pages."""

import logging
import re

from django.db import DatabaseError, connection
from django.http import HttpResponse, HttpResponseServerError
from django.shortcuts import render
from django.template import loader
from django.urls import reverse
from django.views.decorators.cache import cache_control, never_cache
from django.views.decorators.http import require_GET

from wagtail.contrib.sitemaps.views import sitemap as wagtail_sitemap
from wagtail.models import Page, Site

from . import caching, visibility
from .pagination import page_of

logger = logging.getLogger(__name__)

SEARCH_RESULTS_PER_PAGE = 10
SEARCH_QUERY_MAX_LENGTH = 200
SEARCH_WORD = re.compile(r"\w+")


def search_words(query: str) -> str:
    """
    The words of what a person typed (letters, digits), for the search backend. Wagtail's database
    backends hand punctuation on to SQLite's FTS5 or PostgreSQL's tsquery, where a quote, a bracket or
    an operator is syntax: a lone double quote was a server error on SQLite. Both index words only, so
    nothing that could match is lost. A database error is not caught here: that is an outage, not
    "no results".
    """
    return " ".join(SEARCH_WORD.findall(query))


@require_GET
def search(request):
    query = request.GET.get("q", "").strip()[:SEARCH_QUERY_MAX_LENGTH]
    results = Page.objects.none()
    if words := search_words(query):
        site = Site.find_for_request(request)
        pages = visibility.public(Page.objects.live())
        if site is not None:
            pages = pages.descendant_of(site.root_page, inclusive=True)
        results = pages.specific().search(words)

    paginator, page = page_of(results, per_page=SEARCH_RESULTS_PER_PAGE, number=request.GET.get("page", 1))

    return render(
        request,
        "practice/search.html",
        {"query": query, "results": page, "paginator": paginator, "result_count": paginator.count},
    )


@require_GET
@cache_control(max_age=3600, public=True)
def robots_txt(request):
    lines = [
        "User-agent: *",
        "Disallow: /admin/",
        "Disallow: /search/",
        "Disallow: /book/manage/",
        "Disallow: /book/attend/",
        "Disallow: /calendar/",
        "",
        f"Sitemap: {request.build_absolute_uri(reverse('sitemap'))}",
        "",
    ]
    return HttpResponse("\n".join(lines), content_type="text/plain; charset=utf-8")


@never_cache
def healthz(request):
    """200 when the database answers a query, 503 when it does not."""
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except DatabaseError:
        logger.exception("Health check: the database did not answer")
        return HttpResponse("database unavailable\n", status=503, content_type="text/plain")
    return HttpResponse("ok\n", content_type="text/plain")


def server_error(request):
    """The 500 page, rendered without context so that it works even when the database does not."""
    return HttpResponseServerError(loader.get_template("500.html").render())


@require_GET
def sitemap(request):
    """Wagtail's sitemap of every live page, kept like a public page until a page is published or removed."""
    caching.depend(caching.PAGES)
    return caching.mark_public(wagtail_sitemap(request))
