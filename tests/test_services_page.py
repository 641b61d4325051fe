"""The services page: the consultation types on offer, each with a button to its booking times."""

import io
import re
from decimal import Decimal

from django.core.management import call_command
from django.urls import reverse

from wagtail.models import Page
from wagtail.test.utils import WagtailPageTestCase
from wagtail.test.utils.form_data import nested_form_data, rich_text, streamfield

import pytest

from bookings.models import ConsultationFormat, ConsultationType
from practice.models import HomePage, ServicesPage, StandardPage
from tests.conftest import SecondFactorLoginMixin
from tests.factories.bookings import ConsultationTypeFactory, open_every_day
from tests.factories.practice import HomePageFactory

pytestmark = pytest.mark.django_db


def add_services_page(home, **fields):
    page = ServicesPage(
        title="Services",
        slug="services",
        introduction="Choose the consultation that suits you.",
        **fields,
    )
    home.add_child(instance=page)
    page.save_revision().publish()
    return page


@pytest.fixture
def services_page(home_page, practice_settings):
    open_every_day()
    return add_services_page(home_page)


@pytest.fixture
def offered():
    """Two types on offer, in the practice's order, and one withdrawn."""
    return {
        "initial": ConsultationTypeFactory(
            name="Initial consultation",
            slug="initial",
            description="A full hour to go through your history.",
            what_to_expect="We go through your health history\n\n  We agree on first steps  \n",
            duration_minutes=60,
            price=Decimal("120.00"),
            format=ConsultationFormat.VIDEO,
            sort_order=1,
        ),
        "discovery": ConsultationTypeFactory(
            name="Discovery call",
            slug="discovery",
            duration_minutes=15,
            price=Decimal("0"),
            format=ConsultationFormat.PHONE,
            sort_order=0,
        ),
        "withdrawn": ConsultationTypeFactory(name="Group workshop", slug="workshop", is_active=False),
    }


def entry(html, name):
    """The HTML of the listed consultation called `name`."""
    [found] = [part for part in html.split('<li class="consultation">')[1:] if f">{name}</h2>" in part]
    return found.split('<a class="button"', 1)[0]


def listed(html):
    """(name, booking link) of each consultation the page lists, in order."""
    return re.findall(
        r'<h2 class="consultation__name">([^<]*)</h2>.*?<a class="button" href="([^"]*)">Choose a time', html, re.S
    )


def test_services_page_lists_exactly_the_active_types_with_working_links_to_their_time_pickers(
    client, services_page, offered
):
    html = client.get("/services/").content.decode()

    entries = listed(html)
    assert [name for name, _ in entries] == ["Discovery call", "Initial consultation"]
    assert "Group workshop" not in html
    for (name, link), slug in zip(entries, ["discovery", "initial"], strict=True):
        link = link.replace("&amp;", "&")
        assert link == reverse("bookings:choose_time", args=[slug]) + "?src=%2Fservices%2F"
        picker = client.get(link)
        assert picker.status_code == 200
        assert picker.context["consultation"].slug == slug
        assert "<h1>Choose a time</h1>" in picker.content.decode()
        assert f"{name}:" in picker.content.decode()


def test_each_type_shows_its_description_duration_format_price_and_what_to_expect(client, services_page, offered):
    html = client.get("/services/").content.decode()
    initial = entry(html, "Initial consultation")
    assert "60 minutes · Video call" in initial and "£120" in initial and "£120.00" not in initial
    assert "A full hour to go through your history." in initial
    assert '<h3 class="consultation__subheading">What to expect</h3>' in initial
    assert re.findall(r"<li>([^<]*)</li>", initial) == ["We go through your health history", "We agree on first steps"]
    discovery = entry(html, "Discovery call")
    assert "15 minutes · Phone call" in discovery and "Free" in discovery
    assert "What to expect" not in discovery  # none written: no empty heading


def test_a_new_or_withdrawn_type_shows_on_the_next_request_through_the_page_cache(client, services_page, offered):
    assert [name for name, _ in listed(client.get("/services/").content.decode())] == [
        "Discovery call",
        "Initial consultation",
    ]
    # The page is kept: a change made behind the application's back (no signal) is not seen...
    ConsultationType.objects.filter(slug="initial").update(name="Renamed without a signal")
    assert "Renamed without a signal" not in client.get("/services/").content.decode()

    # ...while a type added or withdrawn through the models is seen on the next request.
    ConsultationTypeFactory(name="Follow-up", slug="follow-up", sort_order=2)
    assert [name for name, _ in listed(client.get("/services/").content.decode())] == [
        "Discovery call",
        "Renamed without a signal",
        "Follow-up",
    ]
    discovery = offered["discovery"]
    discovery.is_active = False
    discovery.save()
    assert [name for name, _ in listed(client.get("/services/").content.decode())] == [
        "Renamed without a signal",
        "Follow-up",
    ]


def test_with_nothing_on_offer_the_page_says_so(client, services_page):
    html = client.get("/services/").content.decode()
    assert listed(html) == []
    assert "Online booking is not open at the moment." in html


def test_services_page_is_publicly_cacheable_and_in_the_menu(client, services_page, offered):
    response = client.get("/services/")
    assert "public" in response["Cache-Control"]
    assert services_page.show_in_menus  # the page type's default
    assert '<a href="/services/"' in client.get("/").content.decode()


def test_the_introduction_hero_and_body_are_shown(client, services_page, offered):
    from tests.images import make_image

    services_page.hero_image = make_image(title="Consulting room")
    services_page.hero_image_alt = "A quiet consulting room"
    services_page.body = [("paragraph", "<p>Sessions can be spread out as you wish.</p>")]
    services_page.save_revision().publish()
    html = client.get("/services/").content.decode()
    assert "Choose the consultation that suits you." in html
    assert 'alt="A quiet consulting room"' in html
    assert "Sessions can be spread out as you wish." in html
    assert html.index("Initial consultation") < html.index("Sessions can be spread out")


def test_the_demo_site_has_a_services_page_with_the_demo_types_and_questions(client):
    call_command("load_demo_content", stdout=io.StringIO())
    page = ServicesPage.objects.get()
    assert page.live and page.show_in_menus and page.url == "/services/"
    html = client.get("/services/").content.decode()
    assert [name for name, _ in listed(html)] == [
        "Free discovery call",
        "Initial consultation",
        "Follow-up consultation",
    ]
    assert html.count('<h3 class="consultation__subheading">What to expect</h3>') == 3
    assert '<details class="faq__item">' in html
    call_command("load_demo_content", stdout=io.StringIO())
    assert ServicesPage.objects.count() == 1


class ServicesPageEditorTests(SecondFactorLoginMixin, WagtailPageTestCase):
    def setUp(self):
        self.home = HomePageFactory(parent=Page.get_first_root_node())
        self.login()

    def test_services_page_lives_under_the_home_page_only_and_once(self):
        self.assertAllowedParentPageTypes(ServicesPage, {HomePage})
        self.assertCanNotCreateAt(StandardPage, ServicesPage)
        self.assertCanCreateAt(HomePage, ServicesPage)
        add_services_page(self.home)
        self.assertFalse(ServicesPage.can_create_at(self.home))

    def test_editor_can_create_a_services_page_with_questions(self):
        self.assertCanCreate(
            self.home,
            ServicesPage,
            nested_form_data(
                {
                    "title": "Services",
                    "slug": "services",
                    "introduction": "What I offer.",
                    "body": streamfield(
                        [
                            (
                                "faq",
                                {
                                    "heading": "Questions",
                                    "questions": {
                                        "count": 1,
                                        "0": {
                                            "value": {
                                                "question": "Do I need a referral?",
                                                "answer": rich_text("<p>No.</p>"),
                                            },
                                            "deleted": "",
                                            "order": 0,
                                            "id": "",
                                        },
                                    },
                                },
                            )
                        ]
                    ),
                }
            ),
        )
        page = ServicesPage.objects.get(slug="services")
        [block] = page.body
        assert block.block_type == "faq"
        assert block.value["questions"][0]["question"] == "Do I need a referral?"
