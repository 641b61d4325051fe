"""
Which pages anonymous visitors may see, and which site answers a request, read from the cache.

Wagtail asks the database for both on every request it serves:

- `Page.get_view_restrictions()` reads the page's ancestors and then their restrictions (two queries),
  and `PageQuerySet.public()` reads every restriction (one query, for each list of pages).
- `Site.find_for_request()` reads the sites, and routing then loads the home page.

A practice site has no private pages or a handful, and one site; they change only when an editor sets a
page's privacy or edits a site. So the restricted sections and each host's site (with its home page) are
kept with `practice.caching.cached`, under the tags of what they were read from plus "structure", which
changes whenever a restriction or a site is saved or deleted (see `practice.caching`). A restricted page
that moves changes its own tag, so its new path is read again.
"""

import functools
import hashlib

from django.conf import settings
from django.db import DatabaseError
from django.db.models import Q
from django.http.request import split_domain_port

from wagtail.models import Page, PageViewRestriction, Site
from wagtail.models.sites import SiteRootPath

from practice import caching

restrictions_key = caching.site_wide(lambda site: "view-restrictions")
root_paths_key = caching.site_wide(lambda site: "site-root-paths")


def restricted_paths() -> tuple[str, ...]:
    """The tree paths of the pages that carry a view restriction (each covers its descendants)."""
    return caching.cached(restrictions_key(None), _restricted_paths)


def _restricted_paths():
    caching.depend(caching.STRUCTURE)  # a restriction added where there were none
    return tuple(sorted({restriction.page.path for restriction in PageViewRestriction.objects.select_related("page")}))


def is_restricted(page) -> bool:
    """Whether `page` or one of its ancestors carries a view restriction."""
    return is_restricted_path(page.path)


def is_restricted_path(tree_path: str) -> bool:
    """`is_restricted` for the page at `tree_path` (Wagtail's materialised path), without loading it."""
    return tree_path.startswith(restricted_paths())


def public(pages):
    """`pages` (a page queryset) without those in private sections: Wagtail's `public()` from the cache."""
    paths = restricted_paths()
    if not paths:
        return pages
    private = Q()
    for path in paths:
        private |= Q(path__startswith=path)
    return pages.exclude(private)


def site_root_paths():
    """
    Wagtail's `Site.get_site_root_paths()` (each site's home page and address), with which every page
    link is written: kept like the sites, where Wagtail reads its own copy from the cache for each
    request and again for each page asked for its address without the request.
    """
    return caching.cached(root_paths_key(None), _site_root_paths)


def give_site_root_paths(pages) -> None:
    """
    Gives each of `pages` (None skipped) the kept site root paths, where Wagtail looks for them on the
    page itself when its address is asked without the request (`Page._get_site_root_paths`): pages
    loaded in bulk for parts kept across requests (cards, bylines) then never read Wagtail's copy from
    the cache, or from the database when the cache was emptied.
    """
    paths = site_root_paths()
    for page in pages:
        if page is not None:
            page._wagtail_cached_site_root_paths = paths


def _site_root_paths(sites=None):
    """
    As Wagtail's `Site.get_site_root_paths()` builds them, from the database (or from `sites`, all of
    them as `_all_sites` reads them): Wagtail's own copy in the cache is cleared before a change
    commits, so a request rendering meanwhile can fill it with the old rows, which must not be kept
    here as new.
    """
    caching.depend(caching.STRUCTURE)
    if getattr(settings, "WAGTAIL_I18N_ENABLED", False):
        return Site.get_site_root_paths()  # with each home page's translations: Wagtail's own
    return [
        SiteRootPath(site.id, site.root_page.url_path, site.root_url, site.root_page.locale.language_code)
        for site in (_all_sites() if sites is None else sites)
    ]


def _all_sites():
    """
    Every site with its home page, in the order of Wagtail's site root paths (the most specific first).
    The rows of the page types that can be a home page come in the same query (`_home_page_relations`).
    """
    homes = [f"root_page__{lookup}" for lookup, _ in _home_page_relations().values()]
    sites = Site.objects.select_related("root_page", "root_page__locale", *homes).order_by(
        "-root_page__url_path", "-is_default_site", "hostname"
    )
    with caching.unnoted():  # what they hold changes "structure" (sites, addresses): not each home page's publish
        return list(sites)


@functools.cache
def _home_page_relations() -> dict:
    """
    The page types that may be a site's home page (Wagtail allows them at the top of the tree) and
    extend Page's own table, each with its relation from Page (the name to read it with in a query,
    and its attribute). Read with the sites, a site's home page is then in its own page type without
    a query of its own (`_in_own_type`). A type whose relation is hidden is read as Wagtail does.
    """
    from wagtail.models import get_page_models

    relations = {}
    for model in get_page_models():
        link = model._meta.parents.get(Page)
        if model is Page or link is None or link.remote_field.hidden:
            continue
        if Page in model.allowed_parent_page_models():
            relations[model] = (link.related_query_name(), link.remote_field.get_accessor_name())
    return relations


def _in_own_type(page):
    """`page.specific`, from the row read with it where `_all_sites` read one."""
    relation = _home_page_relations().get(page.specific_class)
    return getattr(page, relation[1]) if relation else page.specific


class ViewRestrictionsFromCache:
    """
    Mixin for page models: Wagtail's restriction check before serving the page (and the admin's
    privacy indicator) asks the database only when the page lies in a restricted section, or is an
    alias, whose restrictions are those of its original.
    """

    def get_view_restrictions(self):
        if self.alias_of_id is None and not is_restricted(self):
            return PageViewRestriction.objects.none()
        return super().get_view_restrictions()


class SiteMiddleware:
    """
    Finds the request's site (with its home page, in its own page type) in the cache, where Wagtail's
    `Site.find_for_request` would read it from the database; Wagtail keeps the answer on the request
    (`_wagtail_site`) and routing, settings and menus all read it from there. Then reads the parts that
    every page of the site shows (`caching.site_wide`) in one go. `get_host()` refuses hosts outside
    ALLOWED_HOSTS (a 400), so the cache holds one entry per allowed host name at most; ALLOWED_HOSTS
    should list names, not a wildcard such as ".example.com".
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        try:
            # This process's copy of the site (unchecked) names the parts every page of it shows: they
            # are read and checked together with the site, in one round trip when all are copies here.
            key = site_key(request)
            guess = caching.peek(key)
            caching.kept([key, *(caching.site_wide_keys(guess) if guess is not None else [])])
            request._wagtail_site = site = site_for(request)
        except DatabaseError:
            return self.get_response(request)  # left to Wagtail and the view: the health check answers 503
        if site is not None:
            caching.read_site_wide(site)
            # Where Wagtail looks for them when the request is passed (`Page._get_site_root_paths`).
            request._wagtail_cached_site_root_paths = site_root_paths()
        return self.get_response(request)


def site_key(request) -> str:
    hostname = split_domain_port(request.get_host())[0]
    return f"site:{hashlib.sha256(f'{hostname}:{request.get_port()}'.encode()).hexdigest()[:32]}"


def site_for(request) -> Site | None:
    hostname = split_domain_port(request.get_host())[0]
    return caching.cached(site_key(request), lambda: _site_for(hostname, request.get_port()))


def _site_for(hostname, port):
    """
    The site answering `hostname` and `port`, with its home page in its own page type. Read with every
    other site (sites are few): the same rows give the site root paths, kept too when they are not, as
    after the cache was emptied.
    """
    caching.depend(caching.STRUCTURE)
    sites = _all_sites()
    site = _matching(sites, hostname, int(port) if str(port).isdigit() else None)
    if not caching.kept([root_paths_key(None)]):
        caching.keep(root_paths_key(None), lambda: _site_root_paths(sites))
    if site is None:
        return None
    caching.note(site, site.root_page)
    site.root_page = _in_own_type(site.root_page)  # routing starts from it: read with the site
    return site


def _matching(sites, hostname, port: int | None) -> Site | None:
    """
    The site Wagtail chooses for a request (`wagtail.models.sites.get_site_for_hostname`), from all of
    them: the one with this host name and port (a number: the request gives it as text); else the
    default site if it has this host name; else the only site with this host name; else the default
    site; else none.
    """
    exact = next((site for site in sites if site.hostname == hostname and site.port == port), None)
    if exact is not None:
        return exact
    default = next((site for site in sites if site.is_default_site), None)
    if default is not None and default.hostname == hostname:
        return default
    named = [site for site in sites if site.hostname == hostname]
    if len(named) == 1:
        return named[0]
    return default
