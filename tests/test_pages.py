import re

from wagtail.models import Page, Site
from wagtail.test.utils import WagtailPageTestCase
from wagtail.test.utils.form_data import nested_form_data, rich_text, streamfield

import pytest

from articles.models import ArticlePage
from practice.models import HomePage, StandardPage
from tests.conftest import SecondFactorLoginMixin
from tests.factories.practice import HomePageFactory
from tests.images import make_image


def every_block_stream(image_pk):
    """Form data for a body holding one of each shared block."""
    return streamfield(
        [
            ("heading", {"text": "Where to start", "level": "h2"}),
            ("paragraph", rich_text("<p>Plain words about <b>gut health</b>.</p>")),
            ("image", {"image": image_pk, "alt_text": "A bowl of porridge", "caption": "Breakfast"}),
            ("quote", {"quote": "Go gently.", "attribution": "Naomi"}),
            ("callout", {"style": "takeaways", "title": "Key points", "body": rich_text("<p>Rest matters.</p>")}),
            (
                "call_to_action",
                {"heading": "Talk it through", "text": "", "button_label": "Book", "page": "", "url": "/book/"},
            ),
            ("embed", {"url": "https://youtu.be/dQw4w9WgXcQ", "title": "A breathing exercise", "caption": ""}),
        ]
    )


class PageTreeTests(SecondFactorLoginMixin, WagtailPageTestCase):
    def setUp(self):
        self.root = Page.get_first_root_node()
        self.login()
        self.image = make_image()

    def test_home_page_lives_at_the_root_only(self):
        self.assertAllowedParentPageTypes(HomePage, {Page})
        self.assertCanNotCreateAt(StandardPage, HomePage)

    def test_standard_pages_live_under_home_or_each_other(self):
        self.assertAllowedParentPageTypes(StandardPage, {HomePage, StandardPage})

    def test_editor_can_create_a_home_page_with_every_block(self):
        self.assertCanCreate(
            self.root,
            HomePage,
            nested_form_data(
                {
                    "title": "Home",
                    "slug": "new-home",
                    "hero_heading": "Welcome",
                    "hero_introduction": "Hello.",
                    "hero_image": self.image.pk,
                    "hero_image_alt": "A calm room",
                    "hero_cta_label": "Book a consultation",
                    "body": every_block_stream(self.image.pk),
                    "latest_articles": 4,
                }
            ),
        )
        home = HomePage.objects.get(slug="new-home")
        self.assertEqual(home.latest_articles, 4)
        self.assertEqual(
            [block.block_type for block in home.body],
            ["heading", "paragraph", "image", "quote", "callout", "call_to_action", "embed"],
        )

    def test_editor_can_create_a_standard_page_with_every_block_and_it_renders(self):
        home = HomePageFactory(parent=self.root)
        site = Site.objects.get(is_default_site=True)
        site.root_page = home
        site.save()
        self.assertCanCreate(
            home,
            StandardPage,
            nested_form_data(
                {
                    "title": "About Naomi",
                    "slug": "about",
                    "introduction": "Who I am.",
                    "body": every_block_stream(self.image.pk),
                }
            ),
        )
        page = StandardPage.objects.get(slug="about")
        page.save_revision().publish()
        response = self.client.get("/about/")
        self.assertEqual(response.status_code, 200)
        html = response.content.decode()
        self.assertIn('<h2 id="where-to-start">Where to start</h2>', html)
        self.assertIn("<b>gut health</b>", html)
        self.assertIn('alt="A bowl of porridge"', html)
        self.assertIn("Go gently.", html)
        self.assertIn("Key points", html)
        self.assertIn("Play video: A breathing exercise", html)

    def test_editor_can_edit_a_standard_page(self):
        home = HomePageFactory(parent=self.root)
        page = StandardPage(title="Terms", slug="terms", introduction="Old words.")
        home.add_child(instance=page)
        response = self.client.post(
            f"/admin/pages/{page.pk}/edit/",
            nested_form_data(
                {"title": "Terms of use", "slug": "terms", "introduction": "New words.", "body": streamfield([])}
            ),
        )
        self.assertEqual(response.status_code, 302)
        page = StandardPage.objects.get(pk=page.pk)
        self.assertEqual(page.get_latest_revision_as_object().introduction, "New words.")

    def test_video_block_with_another_site_is_refused_in_the_editor(self):
        home = HomePageFactory(parent=self.root)
        response = self.client.post(
            f"/admin/pages/add/practice/standardpage/{home.pk}/",
            nested_form_data(
                {
                    "title": "Videos",
                    "slug": "videos",
                    "introduction": "",
                    "body": streamfield([("embed", {"url": "https://evil.example/x", "title": "X", "caption": ""})]),
                }
            ),
        )
        self.assertEqual(response.status_code, 200)
        self.assertContains(response, "Use the address of a YouTube or Vimeo video.")
        self.assertFalse(StandardPage.objects.filter(slug="videos").exists())


@pytest.mark.django_db
def test_home_page_renders_in_the_site_layout(client, practice_settings, about_page):
    response = client.get("/")
    assert response.status_code == 200
    html = response.content.decode()
    assert '<a class="skip-link" href="#main">Skip to main content</a>' in html
    assert '<main id="main"' in html
    assert '<nav class="main-menu" aria-label="Main">' in html
    assert 'href="/about/"' in html
    assert '<a class="button button--large" href="/book/">Book a consultation</a>' in html
    assert "General education only, not medical advice." in html
    assert "hello@example.com" in html
    assert "<title>" in html and "| Test Practice</title>" in html


@pytest.mark.django_db
def test_menu_marks_the_current_page(client, practice_settings, about_page):
    html = client.get("/about/").content.decode()
    assert '<a href="/about/" aria-current="page">About Naomi</a>' in html
    assert "<h1>About Naomi</h1>" in html


@pytest.mark.django_db
def test_menu_leaves_out_pages_hidden_from_menus_and_drafts(client, practice_settings, about_page, home_page):
    from tests.factories.practice import StandardPageFactory

    StandardPageFactory(parent=home_page, title="Hidden", slug="hidden", show_in_menus=False)
    draft = StandardPageFactory(parent=home_page, title="Draft", slug="draft", show_in_menus=True)
    draft.unpublish()
    html = client.get("/").content.decode()
    assert 'href="/hidden/"' not in html
    assert 'href="/draft/"' not in html


@pytest.mark.django_db
def test_footer_links_the_privacy_policy(client, practice_settings, home_page):
    from tests.factories.practice import StandardPageFactory

    privacy = StandardPageFactory(parent=home_page, title="Privacy policy", slug="privacy-policy")
    practice_settings.privacy_page = privacy
    practice_settings.save()
    html = client.get("/").content.decode()
    assert '<a href="/privacy-policy/">Privacy policy</a>' in html


@pytest.mark.django_db
def test_not_found_page_uses_the_site_layout(client, practice_settings):
    response = client.get("/no-such-page/")
    assert response.status_code == 404
    html = response.content.decode()
    assert "We couldn’t find that page" in html
    assert 'class="skip-link"' in html
    assert "General education only, not medical advice." in html


def test_server_error_page_renders_without_the_database(rf):
    from practice.views import server_error

    response = server_error(rf.get("/"))
    assert response.status_code == 500
    assert "Sorry, something went wrong" in response.content.decode()


@pytest.mark.django_db
def test_editor_can_change_the_practice_settings(admin_client, practice_settings):
    url = f"/admin/settings/practice/practicesettings/{practice_settings.site_id}/"
    data = nested_form_data(
        {
            "practice_name": "Naomi Integrative Health",
            "practitioner_name": "Naomi",
            "practitioner_title": "Autoimmune Specialist",
            "email": "hello@example.com",
            "phone": "",
            "address": "",
            "social_links": streamfield([("link", {"network": "instagram", "url": "https://instagram.com/x"})]),
            "time_zone": "Europe/Berlin",
            "medical_disclaimer": rich_text("<p>Not medical advice.</p>"),
            "booking_policy": rich_text("<p>Cancel a day ahead.</p>"),
            "cancellation_cutoff_hours": "48",
            "reminder_hours": "24",
            "jitsi_server": "https://meet.jit.si",
            "attendance_flag_hours": "24",
            "send_rebook_offer": "on",
            "health_details_retention_days": "180",
            "contact_details_retention_days": "400",
            "notification_email": "",
            "privacy_page": "",
            "terms_page": "",
        }
    )
    response = admin_client.post(url, data)
    assert response.status_code == 302
    practice_settings.refresh_from_db()
    assert practice_settings.time_zone == "Europe/Berlin"
    assert practice_settings.zone.key == "Europe/Berlin"
    assert practice_settings.cancellation_cutoff_hours == 48
    assert (practice_settings.health_details_retention_days, practice_settings.contact_details_retention_days) == (
        180,
        400,
    )

    data["time_zone"] = "Mars/Olympus_Mons"
    response = admin_client.post(url, data)
    assert response.status_code == 200
    practice_settings.refresh_from_db()
    assert practice_settings.time_zone == "Europe/Berlin"


BASE_PAGE_TYPES = ["home", "standard", "services", "contact", "article_index", "article"]


@pytest.fixture
def page_of_each_type(home_page, practice_settings, article_index):
    from practice.models import ContactPage, ServicesPage
    from tests.factories.articles import ArticlePageFactory
    from tests.factories.practice import ContactPageFactory, StandardPageFactory

    services = ServicesPage(title="Services", slug="services", introduction="What I offer, plainly.")
    home_page.add_child(instance=services)
    pages = {
        "home": home_page,
        "standard": StandardPageFactory(parent=home_page, slug="about", introduction="Who Naomi is."),
        "services": services,
        "contact": ContactPageFactory(parent=home_page, introduction="Write to Naomi."),
        "article_index": article_index,
        "article": ArticlePageFactory(parent=article_index, slug="gut", summary="What the gut does."),
    }
    for page in pages.values():
        page.save_revision().publish()
    assert isinstance(pages["contact"], ContactPage)
    return {name: type(page).objects.get(pk=page.pk) for name, page in pages.items()}


@pytest.mark.django_db
@pytest.mark.parametrize("page_type", BASE_PAGE_TYPES)
def test_every_page_type_needs_a_description_of_its_picture(page_of_each_type, page_type):
    from django.core.exceptions import ValidationError

    page = page_of_each_type[page_type]
    page.hero_image = make_image()
    page.hero_image_alt = "  "
    with pytest.raises(ValidationError) as raised:
        page.full_clean()
    assert "hero_image_alt" in raised.value.message_dict
    page.hero_image_alt = "A bowl of porridge"
    page.full_clean()


@pytest.mark.django_db
@pytest.mark.parametrize("page_type", BASE_PAGE_TYPES)
def test_every_page_type_shows_its_picture_and_describes_itself(client, page_of_each_type, page_type):
    page = page_of_each_type[page_type]
    page.hero_image = make_image(title=f"Picture of the {page_type} page")
    page.hero_image_alt = f"The {page_type} picture"
    page.save_revision().publish()
    html = client.get(page.url).content.decode()
    assert f'<meta property="og:image:alt" content="The {page_type} picture">' in html
    if page_type != "article_index":  # its template (articles/) does not show the picture yet
        assert f'alt="The {page_type} picture"' in html
    source = " ".join(getattr(page, page.meta_description_source).split())
    description = page.get_meta_description()
    assert description and len(description) <= 160 and source.startswith(description.removesuffix("…"))
    assert f'<meta name="description" content="{page.get_meta_description()}">' in html


@pytest.mark.django_db
@pytest.mark.parametrize("page_type", BASE_PAGE_TYPES)
def test_every_page_type_but_the_contact_form_may_be_kept_by_shared_caches(client, page_of_each_type, page_type):
    response = client.get(page_of_each_type[page_type].url)
    assert response.status_code == 200
    if page_type == "contact":  # a CSRF token: never shared
        assert "public" not in response["Cache-Control"] and "no-store" in response["Cache-Control"]
    else:
        assert "public" in response["Cache-Control"] and "s-maxage" in response["Cache-Control"]


@pytest.mark.django_db
def test_a_long_introduction_is_cut_at_a_word_for_search_engines(home_page):
    from practice.models import StandardPage

    page = StandardPage(title="Long", introduction=" ".join(["autoimmunity"] * 30))
    description = page.get_meta_description()
    assert len(description) <= 160 and description.endswith("autoimmunity…")
    page.search_description = "The editor's own words."
    assert page.get_meta_description() == "The editor's own words."


def _latest_titles(client):
    html = client.get("/").content.decode()
    if 'id="latest-heading"' not in html:
        return None
    section = html.split('id="latest-heading"', 1)[1].split("</section>", 1)[0]
    return re.findall(r'card__title"><a href="[^"]+">([^<]+)<', section)


@pytest.mark.django_db
def test_home_page_shows_the_newest_public_articles_and_follows_each_publish(client, article_index, practice_settings):
    from wagtail.models import PageViewRestriction

    from tests.factories.articles import ArticlePageFactory

    for day in range(1, 6):
        ArticlePageFactory(parent=article_index, title=f"Article of day {day}", display_date=f"2026-03-0{day}")
    assert _latest_titles(client) == ["Article of day 5", "Article of day 4", "Article of day 3"]
    html = client.get("/").content.decode()
    assert f'<a href="{article_index.url}">All articles</a>' in html

    # A new article is on the home page at once; one made private leaves it at once.
    ArticlePageFactory(parent=article_index, title="Article of day 6", display_date="2026-03-06")
    assert _latest_titles(client) == ["Article of day 6", "Article of day 5", "Article of day 4"]
    private = ArticlePageFactory(parent=article_index, title="Members only", display_date="2026-03-07")
    assert _latest_titles(client)[0] == "Members only"
    PageViewRestriction.objects.create(page=private, restriction_type="password", password="secret")
    assert _latest_titles(client) == ["Article of day 6", "Article of day 5", "Article of day 4"]

    # A title published again, and an article unpublished, show at once.
    newest = ArticlePage.objects.get(title="Article of day 6")
    newest.title = "Article of day 6, revised"
    newest.save_revision().publish()
    assert _latest_titles(client)[0] == "Article of day 6, revised"
    newest.unpublish()
    assert _latest_titles(client) == ["Article of day 5", "Article of day 4", "Article of day 3"]

    # The editor chooses how many, or none.
    home = HomePage.objects.get(pk=article_index.get_parent().pk)
    home.latest_articles = 0
    home.save_revision().publish()
    assert _latest_titles(client) is None
