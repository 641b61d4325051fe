"""
Purging the front cache (Varnish: deploy/varnish/default.vcl) when what a public URL shows changes.

Wagtail's frontend cache app, left to itself, purges a page's own URL from inside the
`page_published`/`page_unpublished` signal. When the change runs in a transaction (deleting a page
always does), that purge reaches Varnish before the commit: the next visitor makes Varnish fetch the
page again, gets the OLD text from an app server that cannot see the change yet, and Varnish keeps it
for s-maxage (300 s). So `FrontendCacheConfig` below takes the place of Wagtail's app config: it
connects these handlers instead of Wagtail's. They work out which URLs show a change while the data
is still as it was (a deleted or moved page's old URL must be known before it goes), and purge them
in `transaction.on_commit` (at once outside a transaction), through Wagtail's `purge_urls_from_cache`
and the backends in WAGTAILFRONTENDCACHE (one per Varnish, from FRONTEND_CACHE_URLS).

Which URLs show what:
- a page published, unpublished, moved or deleted: its URL and its routes (old and new on a move,
  with everything below the old URL), and everything below its parent: the parent itself and its
  routes (the article index and its feed) and its siblings (an article lists related articles); then
  the home page of its site (it lists the latest articles) and /sitemap.xml. Listing variants
  (`/articles/?page=2`, `?topic=gut-health`) need no URL of their own: Varnish drops every query
  variant of a purged path.
- a site root or a page in the main menu (a child of a site root): the menu is on every page, so
  everything on the site.
- a site setting (PracticeSettings, any BaseSiteSetting or BaseGenericSetting), a snippet shown on
  public pages (authors, topics, consultation types …) or an image: everything on the site.

"Everything below" a URL is one purge of the URL followed by "*" (`/articles/*`, `/*`), which the
Varnish configuration turns into a ban of every stored path with that beginning (Wagtail's CloudFront
backend reads "*" the same way; another front cache must be told to). So a publish sends a handful of
purges however large the site is.
Each purge waits at most FRONTEND_CACHE_TIMEOUT seconds (`HTTPBackend` below), and the purges of one
change are sent together: a front cache that hangs costs the editor one timeout (for each host name
the change touches), not a publish that never returns, nor a timeout for each URL.

Several changes in one transaction (loading the demo content) give one purge at commit.
"""

import logging
import threading
from concurrent.futures import ThreadPoolExecutor
from urllib.error import HTTPError, URLError
from urllib.parse import urlsplit, urlunsplit
from urllib.request import urlopen

from django.conf import settings
from django.db import transaction
from django.db.models.signals import post_delete, post_save
from django.urls import reverse

from wagtail.contrib.frontend_cache.apps import WagtailFrontendCacheAppConfig
from wagtail.contrib.frontend_cache.backends.http import HTTPBackend as WagtailHTTPBackend
from wagtail.contrib.frontend_cache.backends.http import PurgeRequest

from practice import caching

logger = logging.getLogger(__name__)

# Snippets shown only on the booking steps and in the admin, which Varnish never stores: saving them
# (the worker saves busy calendars every few minutes) purges nothing. Any other snippet purges the site
# (opening hours too: the home page's structured data lists them).
BOOKING_ONLY_SNIPPETS = {
    "bookings.timeoff",
    "calendars.busycalendar",
    "calendars.extraopening",
    "intake.intakequestion",
}

_pending = threading.local()
# Purges of one change sent at the same time to one front cache (a publish sends a handful).
PARALLEL_PURGES = 8


class HTTPBackend(WagtailHTTPBackend):
    """
    Wagtail's HTTP purge backend (a PURGE request to the cache, with the page's host name) with a
    timeout: Wagtail's waits for an answer for ever. A purge that times out or cannot connect is
    logged as an error, as Wagtail logs the other failures, and the publish goes on.
    """

    def __init__(self, params):
        self.timeout = float(params.pop("TIMEOUT", getattr(settings, "FRONTEND_CACHE_TIMEOUT", 3)))
        super().__init__(params)

    def purge_batch(self, urls):
        """Sends the purges of one change together, so that a cache that hangs costs one timeout, not one per URL."""
        urls = list(urls)
        if len(urls) < 2:
            return super().purge_batch(urls)
        with ThreadPoolExecutor(max_workers=min(PARALLEL_PURGES, len(urls))) as pool:
            list(pool.map(self.purge, urls))

    def purge(self, url):
        parts = urlsplit(url)
        host = parts.hostname + (f":{parts.port}" if parts.port else "")
        address = urlunsplit([self.cache_scheme, self.cache_netloc, parts.path, parts.query, ""])
        request = PurgeRequest(url=address, headers={"Host": host, "User-Agent": "practice-frontend-cache"})
        try:
            with urlopen(request, timeout=self.timeout):  # noqa: S310 (an http(s) address from settings)
                pass
        except HTTPError as error:
            logger.error("Could not purge %s from the front cache: HTTP %s %s", url, error.code, error.reason)
        except (URLError, OSError) as error:  # refused, unreachable, timed out
            logger.error("Could not purge %s from the front cache: %s", url, getattr(error, "reason", error))


class FrontendCacheConfig(WagtailFrontendCacheAppConfig):
    """`wagtail.contrib.frontend_cache`, with this module's handlers in place of Wagtail's own."""

    def ready(self):
        from wagtail.signals import page_published, page_unpublished, post_page_move

        page_published.connect(page_changed, dispatch_uid="practice.frontend_cache.published")
        page_unpublished.connect(page_changed, dispatch_uid="practice.frontend_cache.unpublished")
        caching.address_changing.connect(page_moving, dispatch_uid="practice.frontend_cache.moving")
        post_page_move.connect(page_moved, dispatch_uid="practice.frontend_cache.moved")
        post_save.connect(model_saved, dispatch_uid="practice.frontend_cache.saved")
        post_delete.connect(model_saved, dispatch_uid="practice.frontend_cache.deleted")


def enabled():
    return bool(getattr(settings, "WAGTAILFRONTENDCACHE", None))


# Signal handlers


def page_changed(instance, **kwargs):
    """page_published and page_unpublished (a live page's deletion unpublishes it first)."""
    if enabled():
        schedule_purge(page_urls(instance), site_wide=shown_in_menu(instance))


def page_moving(sender, before, **kwargs):
    """
    `caching.address_changing`: a live page whose URL changes (a move, or a new slug published) is
    still at its old URL in the database, and so are its descendants. Their old URLs are purged.
    """
    if enabled() and before.live:
        schedule_purge(urls_of_tree(before))


def page_moved(instance, parent_page_before, parent_page_after, **kwargs):
    """post_page_move: the new URLs (the old ones went in page_moving) and both parents."""
    if enabled() and instance.live:
        parents = (parent_page_before, parent_page_after)
        site_wide = shown_in_menu(instance) or any(parent.is_site_root() for parent in parents)
        schedule_purge(page_urls(instance, extra_parents=[parent_page_before]), site_wide=site_wide)


def model_saved(sender, **kwargs):
    """post_save and post_delete of every model: only the ones shown on every page purge anything."""
    if enabled() and shown_site_wide(sender):
        schedule_purge(site_wide=True)


# What shows what


def shown_site_wide(model):
    from wagtail.contrib.settings.models import BaseGenericSetting, BaseSiteSetting
    from wagtail.images import get_image_model
    from wagtail.snippets.models import get_snippet_models

    if issubclass(model, (BaseSiteSetting, BaseGenericSetting)) or model is get_image_model():
        return True
    if model._meta.label_lower in caching.STRUCTURE_MODELS:
        return True  # a page made private (or public again), a site edited: rare, and shown everywhere
    return model in get_snippet_models() and model._meta.label_lower not in BOOKING_ONLY_SNIPPETS


def shown_in_menu(page):
    """A site root, or a child of one: the main menu lists the site root's live children."""
    return page.is_site_root() or (page.depth > 1 and page.get_parent().is_site_root())


def route_paths(page):
    """The page's own routes that take no arguments ("feed/" on the article index), relative to its URL."""
    page = page.specific_deferred
    if not hasattr(page, "get_subpage_urls"):
        return []
    paths = []
    for pattern in page.get_subpage_urls():
        if pattern.name and not pattern.pattern.regex.groups:
            paths.append(page.reverse_subpage(pattern.name).lstrip("/"))
    return paths


def urls_at(page, base_url):
    """Every URL the page answers at when its URL is `base_url`: get_cached_paths (Wagtail's) and routes."""
    paths = [path.lstrip("/") for path in page.specific_deferred.get_cached_paths()] + route_paths(page)
    return {base_url + path for path in paths}


def page_urls(page, *, extra_parents=()):
    """The URLs that show `page` as it is now: see the module's docstring."""
    from wagtail.contrib.frontend_cache.utils import PurgeBatch

    batch = PurgeBatch()
    parent = page.get_parent() if page.depth > 1 else None
    for each in [page, *extra_parents]:
        url = each.get_full_url(batch)
        if url:
            batch.add_urls(urls_at(each, url))
    if parent is not None:
        # The parent and everything below it (its routes, the page's siblings and their query
        # variants) in one PURGE, however many siblings there are.
        url = parent.get_full_url(batch)
        if url:
            batch.add_url(url + "*")
    site = page.get_site()
    if site is not None:
        batch.add_urls(site_urls(site))
    return batch.urls


def site_urls(site):
    """The site's home page and /sitemap.xml."""
    return {site.root_url + "/", site.root_url + reverse("sitemap")}


def urls_of_tree(page):
    """The URL of a live page and, below it, its live descendants' (one prefix), as they are now."""
    url = page.get_full_url()
    return {url, url + "*"} if url else set()


def site_wide_urls():
    """Everything each site shows: one prefix purge of its root (every page, route and other URL)."""
    from wagtail.models import Site

    return {f"{site.root_url}/*" for site in Site.objects.all()}


# Purging after commit


def schedule_purge(urls=(), *, site_wide=False):
    """
    Purge `urls` (and everything, when `site_wide`) once the current transaction commits. Changes
    within one transaction share one purge: each registers a callback, the first one to run takes all
    that is pending and the rest find nothing. What a rolled-back transaction left pending is purged
    with the next commit: a purge too many, never one too few.
    """
    pending = _pending.__dict__
    pending.setdefault("urls", set()).update(urls)
    pending["site_wide"] = pending.get("site_wide", False) or site_wide
    transaction.on_commit(flush, robust=True)


def flush():
    urls, site_wide = _pending.__dict__.pop("urls", set()), _pending.__dict__.pop("site_wide", False)
    if not urls and not site_wide:
        return
    from wagtail.contrib.frontend_cache.utils import purge_urls_from_cache

    if site_wide:
        urls |= site_wide_urls()
    purge_urls_from_cache(sorted(urls))
