"""
Private sections and the request's site, answered from the cache (practice/visibility.py): a page made
private is private at once everywhere it was shown, and public again at once; a site edited in the admin
routes the next request.
"""

from django.db import connection
from django.test import RequestFactory
from django.test.utils import CaptureQueriesContext

from wagtail.models import PageViewRestriction, Site

import pytest

from practice import visibility
from tests.factories.articles import ArticlePageFactory, TopicFactory
from tests.factories.practice import StandardPageFactory

pytestmark = pytest.mark.django_db


def served(client, path):
    response = client.get(path)
    return response.status_code, response.content.decode()


@pytest.fixture
def articles(article_index, practice_settings):
    topic = TopicFactory(name="Gut health", slug="gut-health")
    shown = ArticlePageFactory(parent=article_index, title="Shown article", slug="shown", topics=[topic])
    secret = ArticlePageFactory(parent=article_index, title="Members article", slug="members", topics=[topic])
    return shown, secret


def test_a_page_made_private_leaves_every_list_and_asks_for_the_password_at_once(client, articles, article_index):
    shown, secret = articles
    # Everything rendered once, so that each place would come from the cache if it could.
    for path in (secret.url, shown.url, "/articles/", "/sitemap.xml"):
        client.get(path)
    assert "Members article" in served(client, shown.url)[1]  # a related article
    assert "/articles/members/" in served(client, "/search/?q=members")[1]

    restriction = PageViewRestriction.objects.create(
        page=secret, restriction_type=PageViewRestriction.PASSWORD, password="s3cret"
    )

    status, html = served(client, secret.url)
    assert status == 200 and 'name="password"' in html and "Members article" not in html.split("</title>", 1)[1]
    assert "Members article" not in served(client, shown.url)[1]
    assert "Members article" not in served(client, "/articles/")[1]
    assert "/articles/members/" not in served(client, "/search/?q=members")[1]
    assert "/articles/members/" not in served(client, "/sitemap.xml")[1]

    restriction.delete()
    assert 'name="password"' not in served(client, secret.url)[1]
    assert "Members article" in served(client, shown.url)[1]
    assert "Members article" in served(client, "/articles/")[1]


def test_a_private_section_covers_the_pages_below_it_and_the_menu(client, home_page, practice_settings):
    section = StandardPageFactory(parent=home_page, title="Members area", slug="members", show_in_menus=True)
    below = StandardPageFactory(parent=section, title="Inside page", slug="inside")
    client.get("/")
    client.get(below.url)
    assert "Members area" in served(client, "/")[1]

    PageViewRestriction.objects.create(page=section, restriction_type=PageViewRestriction.LOGIN)

    assert client.get(below.url).status_code == 302  # to the sign-in page
    assert "Members area" not in served(client, "/")[1].split("<main", 1)[0]  # the menu


def test_pages_outside_private_sections_ask_nothing_about_restrictions(client, articles):
    shown, _ = articles
    client.get(shown.url)
    with CaptureQueriesContext(connection) as captured:
        shown.save_revision().publish()
        client.get(shown.url)
    assert not [query for query in captured if "pageviewrestriction" in query["sql"]]


def test_restricted_paths_are_read_once_and_again_after_a_change(articles):
    _, secret = articles
    assert visibility.restricted_paths() == ()
    with CaptureQueriesContext(connection) as captured:
        assert visibility.restricted_paths() == ()
    assert len(captured) == 0

    PageViewRestriction.objects.create(page=secret, restriction_type=PageViewRestriction.LOGIN)
    assert visibility.restricted_paths() == (secret.path,)
    assert visibility.is_restricted(secret) and not visibility.is_restricted(secret.get_parent())


def test_a_site_edited_in_the_admin_routes_the_next_request(client, home_page, practice_settings):
    other_home = StandardPageFactory(parent=home_page, title="Another front page", slug="front")
    assert "Another front page" not in served(client, "/")[1]

    site = Site.objects.get(is_default_site=True)
    site.root_page = other_home
    site.save()

    assert "Another front page" in served(client, "/")[1]


def test_links_follow_a_site_edit_even_if_a_render_meanwhile_refilled_wagtails_own_copy(
    client, home_page, practice_settings, about_page
):
    from django.core.cache import cache

    from wagtail.models.sites import SITE_ROOT_PATHS_CACHE_KEY, SITE_ROOT_PATHS_CACHE_VERSION

    assert 'href="http://testserver/about/"' not in served(client, "/about/")[1]  # the site's own address
    stale = Site.get_site_root_paths()
    site = Site.objects.get(is_default_site=True)
    site.hostname, site.port = "naomi.example", 443
    site.save()
    # A request that rendered while the edit was being saved put the old addresses back in Wagtail's cache.
    cache.set(SITE_ROOT_PATHS_CACHE_KEY, [tuple(path) for path in stale], 3600, version=SITE_ROOT_PATHS_CACHE_VERSION)

    html = client.get("/about/", HTTP_HOST="naomi.example").content.decode()
    assert '<link rel="canonical" href="https://naomi.example/about/">' in html


def test_an_unknown_host_gets_the_default_site_and_a_host_outside_allowed_hosts_a_400(client, home_page, settings):
    assert client.get("/", HTTP_HOST="another.example").status_code == 200  # the default site answers
    settings.ALLOWED_HOSTS = ["testserver"]
    assert client.get("/", HTTP_HOST="evil.example").status_code == 400


def test_addresses_follow_renamed_moved_and_replaced_pages_at_once(client, home_page, practice_settings):
    """Routing keeps which page an address names (practice.models.HomePage.route): never a stale answer."""
    section = StandardPageFactory(parent=home_page, title="Section", slug="section")
    other = StandardPageFactory(parent=home_page, title="Other section", slug="other")
    page = StandardPageFactory(parent=section, title="First page", slug="first")
    assert "First page" in served(client, "/section/first/")[1]
    page.save_revision().publish()
    with CaptureQueriesContext(connection) as captured:
        served(client, "/section/first/")
    # The page itself only: which page the address names, and the section above it, were kept.
    assert len([query for query in captured if '"wagtailcore_page"' in query["sql"]]) == 1

    page.slug = "renamed"
    page.save_revision().publish()
    assert served(client, "/section/first/")[0] in (301, 302, 404)
    assert "First page" in served(client, "/section/renamed/")[1]

    page.move(other, pos="last-child")
    assert served(client, "/section/renamed/")[0] in (301, 302, 404)
    assert "First page" in served(client, "/other/renamed/")[1]

    page.refresh_from_db()
    page.delete()
    assert served(client, "/other/renamed/")[0] == 404
    StandardPageFactory(parent=other, title="A new page there", slug="renamed")
    assert "A new page there" in served(client, "/other/renamed/")[1]

    section.title = "Section renamed"
    section.save_revision().publish()
    assert "Section renamed" in served(client, "/section/")[1]


def test_a_reorder_or_a_move_keeps_private_sections_private(client, home_page, practice_settings):
    """Moving a page renumbers its siblings' tree paths without saving them: the private sections are read again."""
    StandardPageFactory(parent=home_page, title="About", slug="about")
    members = StandardPageFactory(parent=home_page, title="Members area", slug="members")
    last = StandardPageFactory(parent=home_page, title="Last page", slug="last")
    PageViewRestriction.objects.create(page=members, restriction_type=PageViewRestriction.PASSWORD, password="x")
    assert 'name="password"' in served(client, "/members/")[1]
    assert visibility.restricted_paths() == (members.path,)

    last.move(home_page, pos="first-child")  # the editor drags it to the top of the menu

    members.refresh_from_db()
    assert visibility.restricted_paths() == (members.path,)
    assert 'name="password"' in served(client, "/members/")[1]
    assert "Last page" in served(client, "/last/")[1]


@pytest.mark.parametrize(
    "layout",
    [
        # (host name, port, default?) of each site besides the default one's root
        [("example.org", 80, True)],
        [("example.org", 80, True), ("other.example", 80, False)],
        [("example.org", 80, True), ("other.example", 80, False), ("other.example", 8080, False)],
        [("example.org", 80, False), ("other.example", 8080, False)],
        [("example.org", 80, False), ("example.org", 8080, True)],
        [("other.example", 80, False), ("other.example", 8443, False)],
    ],
)
def test_the_site_found_is_the_one_wagtail_chooses(home_page, layout):
    """`_matching` chooses among all sites read at once as Wagtail's `get_site_for_hostname` does with its query."""
    from wagtail.models.sites import get_site_for_hostname

    Site.objects.all().delete()
    for hostname, port, default in layout:
        Site.objects.create(hostname=hostname, port=port, is_default_site=default, root_page=home_page)
    sites = visibility._all_sites()
    for hostname in ("example.org", "other.example", "unknown.example"):
        for port in (80, 8080, 8443):
            try:
                expected = get_site_for_hostname(hostname, port).pk
            except Site.DoesNotExist:
                expected = None
            found = visibility._matching(sites, hostname, port)
            assert (found.pk if found else None) == expected, (hostname, port)
            # As a request asks: its port as text.
            request = RequestFactory().get("/", HTTP_HOST=f"{hostname}:{port}", SERVER_PORT=str(port))
            found = visibility._site_for(hostname, request.get_port())
            assert (found.pk if found else None) == expected, (hostname, port, "request")
