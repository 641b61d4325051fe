"""
Site-wide pages (home, standard pages, services, the contact page), the base page every page type of
the site shares, and the practice's settings.

Structured data (schema.org JSON-LD) comes from the settings and the content: the home page describes
the practice, the page the settings name as the practitioner's "about" page describes her, and any
page with questions and answers carries them as one FAQPage. Opening hours are the booking
availability, which is kept as wall-clock times in the practice's own zone, as schema.org expects.
"""

import hashlib
import zoneinfo
from http import HTTPMethod
from urllib.parse import urlencode, urljoin, urlsplit

from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.http import Http404
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.templatetags.static import static
from django.urls import reverse
from django.utils import timezone
from django.utils.decorators import method_decorator
from django.utils.functional import SimpleLazyObject
from django.views.decorators.cache import never_cache
from django.views.decorators.debug import sensitive_post_parameters, sensitive_variables

from wagtail import blocks
from wagtail.admin.panels import FieldPanel, MultiFieldPanel, PageChooserPanel
from wagtail.contrib.settings.models import BaseSiteSetting, register_setting
from wagtail.fields import RichTextField, StreamField
from wagtail.models import Page, Site
from wagtail.search import index

from . import caching
from .blocks import PageStreamBlock, faq_page_data
from .images import social_image_url
from .visibility import ViewRestrictionsFromCache

META_DESCRIPTION_LENGTH = 160
LOGO = "img/favicon.svg"

TIME_ZONE_CHOICES = [(name, name.replace("_", " ")) for name in sorted(zoneinfo.available_timezones())]


SOCIAL_NETWORKS = {
    "instagram": "Instagram",
    "facebook": "Facebook",
    "linkedin": "LinkedIn",
    "youtube": "YouTube",
    "x": "X (Twitter)",
    "tiktok": "TikTok",
    "other": "Other",
}


class SocialLinkBlock(blocks.StructBlock):
    network = blocks.ChoiceBlock(choices=list(SOCIAL_NETWORKS.items()), help_text="Which site the link goes to.")
    url = blocks.URLBlock(help_text="The full address of your profile, starting with https://.")
    label = blocks.CharBlock(required=False, max_length=60, help_text="Only needed for 'Other': the link's words.")

    class Meta:
        icon = "link"
        template = "blocks/social_link_block.html"
        label = "Social link"
        description = "A link to one of your social media profiles."
        preview_value = {"network": "instagram", "url": "https://www.instagram.com/", "label": ""}

    def get_context(self, value, parent_context=None):
        context = super().get_context(value, parent_context)
        if value["network"] == "other":
            context["link_text"] = value["label"] or value["url"]
        else:
            context["link_text"] = SOCIAL_NETWORKS[value["network"]]
        return context


@register_setting(icon="cog")
class PracticeSettings(BaseSiteSetting):
    practice_name = models.CharField(
        max_length=120, default="My practice", help_text="Shown in the header, footer and emails."
    )
    practitioner_name = models.CharField(max_length=120, blank=True, help_text="Your name as clients know it.")
    practitioner_title = models.CharField(
        max_length=160, blank=True, help_text="For example 'Autoimmune Specialist, Integrative Health Expert'."
    )
    practitioner_credentials = models.CharField(
        max_length=120,
        blank=True,
        help_text="Letters after your name for your qualifications, for example 'MSc, mBANT'. Only real ones.",
    )
    about_page = models.ForeignKey(
        "wagtailcore.Page",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        help_text="Your 'about me' page. It tells search engines who you are (your name, title and "
        "qualifications above) and that you run this practice.",
    )
    email = models.EmailField(blank=True, help_text="The address clients may write to. Shown in the footer.")
    phone = models.CharField(max_length=40, blank=True, help_text="A phone number for the footer, with the area code.")
    address = models.TextField(
        blank=True, help_text="Your practice address, one part per line. Leave empty if you only work online."
    )
    social_links = StreamField(
        [("link", SocialLinkBlock())], blank=True, use_json_field=True, help_text="Links shown in the footer."
    )
    time_zone = models.CharField(
        max_length=64,
        choices=TIME_ZONE_CHOICES,
        default="Europe/London",
        help_text="The time zone you work in. Your opening hours and bookings are set in this zone.",
    )
    medical_disclaimer = RichTextField(
        features=["bold", "italic", "link"],
        blank=True,
        help_text="Shown at the foot of every page and under each article. Keep it short and plain.",
    )
    booking_policy = RichTextField(
        features=["bold", "italic", "link", "ul", "ol"],
        blank=True,
        help_text="Your cancellation and rescheduling rules, shown to clients when they book.",
    )
    cancellation_cutoff_hours = models.PositiveSmallIntegerField(
        default=24,
        help_text="Clients can cancel or move a booking themselves until this many hours before it starts.",
    )
    reminder_hours = models.PositiveSmallIntegerField(
        default=24, help_text="How many hours before a confirmed consultation the reminder email is sent."
    )
    notification_email = models.EmailField(
        blank=True, help_text="Where new booking requests are announced. Leave empty to use the email above."
    )
    jitsi_server = models.URLField(
        "Jitsi Meet server",
        default="https://meet.jit.si",
        help_text="For video consultations that get a new private room each time: the address of the Jitsi Meet "
        "server to use. The free public one is https://meet.jit.si.",
    )
    attendance_flag_hours = models.PositiveSmallIntegerField(
        default=24,
        validators=[MaxValueValidator(24 * 14)],
        help_text="The reminder email asks clients to confirm they will come. If a client has not confirmed this "
        "many hours before the start, the dashboard marks the consultation 'not confirmed'.",
    )
    send_rebook_offer = models.BooleanField(
        default=True,
        help_text="When you mark a consultation as a no-show, email the client a kind offer to choose a new time.",
    )
    health_details_retention_days = models.PositiveIntegerField(
        default=365,
        validators=[MinValueValidator(30), MaxValueValidator(365 * 10)],
        help_text="How many days after a consultation (or after an enquiry is closed) the reason, messages, "
        "replies and notes are erased. State the same period in your privacy policy.",
    )
    contact_details_retention_days = models.PositiveIntegerField(
        default=730,
        validators=[MinValueValidator(30), MaxValueValidator(365 * 10)],
        help_text="How many days after a consultation (or after an enquiry is closed) the client's name, email "
        "and phone number are erased. The date, type and status are kept, without a name, for your figures.",
    )
    privacy_page = models.ForeignKey(
        "wagtailcore.Page",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        help_text="Your privacy policy page. The footer and the booking form link to it.",
    )
    terms_page = models.ForeignKey(
        "wagtailcore.Page",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        help_text="Your terms page, linked from the footer.",
    )

    panels = [
        MultiFieldPanel(
            [
                FieldPanel("practice_name"),
                FieldPanel("practitioner_name"),
                FieldPanel("practitioner_title"),
                FieldPanel("practitioner_credentials"),
                PageChooserPanel("about_page"),
            ],
            heading="Practice",
        ),
        MultiFieldPanel(
            [FieldPanel("email"), FieldPanel("phone"), FieldPanel("address"), FieldPanel("social_links")],
            heading="Contact details",
        ),
        FieldPanel("jitsi_server"),
        FieldPanel("time_zone"),
        MultiFieldPanel(
            [
                FieldPanel("medical_disclaimer"),
                FieldPanel("booking_policy"),
                FieldPanel("cancellation_cutoff_hours"),
                FieldPanel("reminder_hours"),
                FieldPanel("attendance_flag_hours"),
                FieldPanel("send_rebook_offer"),
                FieldPanel("notification_email"),
                FieldPanel("health_details_retention_days"),
                FieldPanel("contact_details_retention_days"),
                PageChooserPanel("privacy_page"),
                PageChooserPanel("terms_page"),
            ],
            heading="Policies",
        ),
    ]

    class Meta:
        verbose_name = "practice settings"

    def __str__(self):
        return self.practice_name

    def clean(self):
        super().clean()
        if self.time_zone not in zoneinfo.available_timezones():
            raise ValidationError({"time_zone": "Choose a time zone from the list."})

    @property
    def zone(self) -> zoneinfo.ZoneInfo:
        return zoneinfo.ZoneInfo(self.time_zone)

    @classmethod
    def cache_key(cls, site) -> str:
        return f"settings:{cls._meta.label_lower}:{site.pk}"

    @classmethod
    def for_request(cls, request):
        """
        The site's settings, read from the database once and then from the cache until they (or the
        pages they link to) change. Every page shows them, in the header and the footer.
        """
        attr_name = cls.get_cache_attr_name()
        if hasattr(request, attr_name):
            return getattr(request, attr_name)
        site = Site.find_for_request(request)
        if site is None:
            return super().for_request(request)
        site_settings = caching.cached(cls.cache_key(site), lambda: cls._loaded_for(site))
        site_settings._request = request
        setattr(request, attr_name, site_settings)
        return site_settings

    @classmethod
    def _loaded_for(cls, site):
        # With the pages the footer links, in one query; kept with the settings.
        found = cls.objects.select_related("privacy_page", "terms_page").filter(site=site).first()
        return found or cls.for_site(site)  # for_site makes them the first time


# Every page shows the settings (header, footer): read with the other site-wide parts.
caching.site_wide(PracticeSettings.cache_key)

HERO_PANEL = MultiFieldPanel([FieldPanel("hero_image"), FieldPanel("hero_image_alt")], heading="Image")


class BasePage(ViewRestrictionsFromCache, Page):
    """
    What every page type of the site shares: a picture at the top with its description, a description
    for search engines taken from the page's own words when the editor wrote none, structured data, and
    copies that shared caches may keep for anonymous visitors. Whether a visitor may see it is answered
    from the cache (`practice.visibility`).
    """

    hero_image = models.ForeignKey(
        "wagtailimages.Image",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        help_text="The picture at the top of the page, also shown in lists and when the page is shared on "
        "social media. At least 1600 pixels wide.",
    )
    hero_image_alt = models.CharField(
        max_length=250,
        blank=True,
        help_text="Required with an image: describe what it shows for people who cannot see it.",
    )

    # The field whose words describe the page to search engines when its own description is empty.
    meta_description_source = "introduction"
    # Whether shared caches may keep the page for anonymous visitors. A page that carries a form with a
    # CSRF token, or anything typed by a visitor, must say False.
    cache_publicly = True
    # Loaded with the page when a visitor's address is routed to it (HomePage.route).
    route_related = ("hero_image",)

    class Meta:
        abstract = True

    def clean(self):
        super().clean()
        if self.hero_image_id and not self.hero_image_alt.strip():
            raise ValidationError({"hero_image_alt": "Describe the image for people who cannot see it."})

    def get_meta_description(self):
        if self.search_description:
            return self.search_description
        text = " ".join((getattr(self, self.meta_description_source, "") or "").split())
        if len(text) <= META_DESCRIPTION_LENGTH:
            return text
        return text[: META_DESCRIPTION_LENGTH - 1].rsplit(" ", 1)[0].rstrip(",;:") + "…"  # cut at a word

    def get_context(self, request, *args, **kwargs):
        context = super().get_context(request, *args, **kwargs)
        # Built when the template writes it: a page type whose view has what it needs loaded already
        # (an article) puts its own in the context instead, and nothing is read twice.
        context["structured_data"] = SimpleLazyObject(lambda: self.get_structured_data(request))
        return context

    def get_structured_data(self, request) -> list[dict]:
        """The page's schema.org JSON-LD objects, which base.html writes through the `jsonld` filter."""
        practice_settings = PracticeSettings.for_request(request)
        data = []
        if practice_settings.about_page_id == self.pk and practice_settings.practitioner_name:
            data.append(self.practitioner_data(request, practice_settings))
        if faq := faq_page_data(getattr(self, "body", None)):
            data.append(faq)
        return data

    def practitioner_data(self, request, practice_settings) -> dict:
        """The practitioner, on the page the settings name as her "about" page, as a schema.org Person."""
        return _without_empty(
            {
                "@context": "https://schema.org",
                "@type": "Person",
                "name": practice_settings.practitioner_name,
                "jobTitle": practice_settings.practitioner_title,
                "honorificSuffix": practice_settings.practitioner_credentials,
                "url": self.get_full_url(request),
                "worksFor": practice_reference(request, practice_settings),
            }
        )

    def serve(self, request, *args, **kwargs):
        return self.cacheable(super().serve(request, *args, **kwargs))

    def cacheable(self, response):
        """`response`, marked for shared caches when this page type allows it."""
        return caching.mark_public(response) if self.cache_publicly else response


def practice_reference(request, practice_settings) -> dict:
    """
    The practice as other structured data names it. Its "@id" is the same on every page, so search
    engines know that the business on the home page is the one a person on the about page works for.
    """
    site = Site.find_for_request(request)
    url = f"{site.root_url}/" if site else request.build_absolute_uri("/")
    return {"@type": "MedicalBusiness", "@id": f"{url}#practice", "name": practice_settings.practice_name, "url": url}


def opening_hours_data() -> list[dict]:
    """
    The weekly booking availability as schema.org opening hours: one entry per opening and closing time,
    with the days that share it. The windows are wall-clock times in the practice's zone already.
    """
    from bookings.models import AvailabilityWindow, Weekday

    # Which windows exist. The page cache acts on it once it counts availability as content
    # (practice/caching.py lists the booking models it watches).
    caching.depend(caching.list_tag(AvailabilityWindow))
    days_by_hours = {}
    for weekday, opens, closes in AvailabilityWindow.objects.order_by("weekday", "start_time").values_list(
        "weekday", "start_time", "end_time"
    ):
        days = days_by_hours.setdefault((opens, closes), [])
        if weekday not in days:
            days.append(weekday)
    return [
        {
            "@type": "OpeningHoursSpecification",
            "dayOfWeek": [Weekday(day).label for day in days],
            "opens": f"{opens:%H:%M}",
            "closes": f"{closes:%H:%M}",
        }
        for (opens, closes), days in sorted(days_by_hours.items(), key=lambda item: (item[1][0], item[0]))
    ]


def _without_empty(data: dict) -> dict:
    return {key: value for key, value in data.items() if value not in (None, "", [], {})}


class HomePage(BasePage):
    hero_heading = models.CharField(max_length=160, help_text="The large welcome line at the top of the home page.")
    hero_introduction = models.TextField(
        blank=True, help_text="Two or three sentences under the heading: who you help and how."
    )
    hero_cta_label = models.CharField(
        max_length=60,
        default="Book a consultation",
        help_text="The words on the main button, which opens the booking page.",
    )
    body = StreamField(PageStreamBlock(), blank=True, use_json_field=True, help_text="The rest of the home page.")
    latest_articles = models.PositiveSmallIntegerField(
        "latest articles shown",
        default=3,
        validators=[MaxValueValidator(6)],
        help_text="How many of your newest articles the home page shows under its content (up to 6), with a link "
        "to all of them. 0 shows none.",
    )

    content_panels = Page.content_panels + [
        MultiFieldPanel(
            [
                FieldPanel("hero_heading"),
                FieldPanel("hero_introduction"),
                FieldPanel("hero_image"),
                FieldPanel("hero_image_alt"),
                FieldPanel("hero_cta_label"),
            ],
            heading="Welcome section",
        ),
        FieldPanel("body"),
        FieldPanel("latest_articles"),
    ]
    search_fields = Page.search_fields + [
        index.SearchField("hero_heading"),
        index.SearchField("hero_introduction"),
        index.SearchField("body"),
    ]

    parent_page_types = ["wagtailcore.Page"]
    max_count = 1
    meta_description_source = "hero_introduction"

    class Meta:
        verbose_name = "home page"

    def get_structured_data(self, request) -> list[dict]:
        return [
            self.practice_data(request, PracticeSettings.for_request(request)),
            *super().get_structured_data(request),
        ]

    def practice_data(self, request, practice_settings) -> dict:
        """
        The practice as a schema.org MedicalBusiness (a LocalBusiness, and so an Organization). Its logo
        is the site's own mark (the favicon), not the home page's photo, which is its image instead.
        """
        practice = practice_reference(request, practice_settings)
        address_lines = [line.strip() for line in practice_settings.address.splitlines() if line.strip()]
        data = {
            "@context": "https://schema.org",
            **practice,
            "logo": urljoin(practice["url"], static(LOGO)),
            "image": social_image_url(self.hero_image, request) if self.hero_image else None,
            "description": self.get_meta_description(),
            "email": practice_settings.email,
            "telephone": practice_settings.phone,
            "address": {"@type": "PostalAddress", "streetAddress": ", ".join(address_lines)} if address_lines else None,
            "openingHoursSpecification": opening_hours_data(),
            "sameAs": [link.value["url"] for link in practice_settings.social_links],
        }
        return _without_empty(data)

    def route(self, request, path_components):
        """
        Finds the page a visitor's address names with one query for the page itself (with what its type
        lists in `route_related`), where Wagtail asks two per level. Which page an address names, and
        the pages above it, are kept in the cache (`route_entry`) when the address names a page exactly;
        the page read is checked to be still at that address, else the entry is made again. Whatever an
        address holds past a page (a feed, a sub-route, an unknown slug) is routed by that page as
        usual, so the answer is always the one Wagtail's own routing gives.
        """
        if not path_components:
            return super().route(request, path_components)
        key = route_key(self.pk, path_components)
        address = self.url_path + "/".join(path_components) + "/"

        def entry_made():
            keep_if = lambda entry: entry and entry["exact"]  # noqa: E731
            return caching.keep(key, lambda: self.route_entry(path_components), keep_if=keep_if)

        entry = caching.kept([key]).get(key)
        page = self._routed_page(entry)
        if page is None or page.url_path != address:
            # Not kept, or kept and since deleted, moved or given a new slug (another page may be there now).
            entry = entry_made()
            page = self._routed_page(entry)
        if page is None:
            raise Http404
        # The pages between this one and the page found: its ancestors below the root, which a page's
        # breadcrumbs and structured data show (ArticlePage.get_context).
        page.routed_ancestors = [self, *entry["ancestors"]]
        return page.route(request, path_components[entry["depth"] - self.depth :])

    @staticmethod
    def _routed_page(entry):
        if entry is None:
            return None
        model = ContentType.objects.get_for_id(entry["content_type_id"]).model_class()
        if model is None:
            return None
        return model.objects.select_related(*getattr(model, "route_related", ())).filter(pk=entry["pk"]).first()

    def route_entry(self, path_components):
        """
        The deepest page whose address starts the visitor's (its id, type and depth), the pages above
        it, and whether it is the whole address. Kept (exact ones only: unknown addresses must not fill
        the cache) until one of the pages above it or the sites change, but not when the page found is
        published again, which is when its first visitor would otherwise pay for it.
        """
        caching.depend(caching.STRUCTURE)
        prefixes = [
            self.url_path + "/".join(path_components[:depth]) + "/" for depth in range(1, len(path_components) + 1)
        ]
        on_path = Page.objects.filter(url_path__in=prefixes, path__startswith=self.path, depth__gt=self.depth)
        with caching.unnoted():  # the page found is not noted: its own publish leaves the entry kept
            pages = list(on_path.order_by("depth"))
        if not pages:
            return None
        *ancestors, found = pages
        caching.note(*ancestors)
        return {
            "pk": found.pk,
            "content_type_id": found.content_type_id,
            "depth": found.depth,
            "ancestors": ancestors,
            "exact": found.depth - self.depth == len(path_components),
        }


def route_key(root_pk, path_components) -> str:
    address = "/".join(path_components)
    return f"route:{root_pk}:{hashlib.sha256(address.encode()).hexdigest()[:32]}"


class StandardPage(BasePage):
    introduction = models.TextField(blank=True, help_text="A short opening paragraph, shown larger than the body.")
    body = StreamField(PageStreamBlock(), blank=True, use_json_field=True, help_text="The content of the page.")

    content_panels = Page.content_panels + [FieldPanel("introduction"), HERO_PANEL, FieldPanel("body")]
    search_fields = Page.search_fields + [index.SearchField("introduction"), index.SearchField("body")]

    parent_page_types = ["practice.HomePage", "practice.StandardPage"]

    class Meta:
        verbose_name = "standard page"
        verbose_name_plural = "standard pages"


class ServicesPage(BasePage):
    """
    What the practice offers: the consultation types that can be booked now, each with a button to its
    booking times, between the editor's introduction and body. The list comes from the booking app, so
    a type added, changed or withdrawn there shows here at once.
    """

    introduction = models.TextField(
        blank=True,
        help_text="A few sentences above the list of consultations, for example who they are for and how to choose.",
    )
    body = StreamField(
        PageStreamBlock(),
        blank=True,
        use_json_field=True,
        help_text="Shown below the consultations, for example questions and answers about working together. "
        "The consultations themselves are edited under Booking set-up → Consultation types.",
    )

    content_panels = Page.content_panels + [FieldPanel("introduction"), HERO_PANEL, FieldPanel("body")]
    search_fields = Page.search_fields + [index.SearchField("introduction"), index.SearchField("body")]

    parent_page_types = ["practice.HomePage"]
    subpage_types = []
    max_count = 1
    show_in_menus_default = True

    class Meta:
        verbose_name = "services page"

    def services(self, request) -> list[dict]:
        """The active consultation types, in the practice's order, with what the page shows of each."""
        from bookings import selectors
        from bookings.models import ConsultationType

        caching.depend(caching.list_tag(ConsultationType))  # a type may be added; changes to shown ones are tracked
        source = urlsplit(self.get_url(request) or "").path
        query = f"?{urlencode({'src': source})}" if source.startswith("/") else ""
        return [
            {
                "consultation": consultation,
                "what_to_expect": [line.strip() for line in consultation.what_to_expect.splitlines() if line.strip()],
                "book_url": reverse("bookings:choose_time", args=[consultation.slug]) + query,
            }
            for consultation in selectors.consultation_types_active()
        ]

    def get_context(self, request, *args, **kwargs):
        context = super().get_context(request, *args, **kwargs)
        context["services"] = self.services(request)
        return context


class ContactPage(BasePage):
    """
    The contact form. A message is saved as an enquiry that only practice admins can read; the emails
    it sends never quote it. The page carries a CSRF token and what the visitor typed, so it is never
    stored in a shared cache.
    """

    introduction = models.TextField(
        blank=True,
        help_text="A few friendly sentences shown above the form, for example when you usually reply.",
    )
    thank_you = models.TextField(
        default="Thank you for your message. You will hear from us by email, usually within two working days.",
        help_text="Shown in place of the form once a message has been sent. Say what happens next and when.",
    )

    content_panels = Page.content_panels + [FieldPanel("introduction"), HERO_PANEL, FieldPanel("thank_you")]
    search_fields = Page.search_fields + [index.SearchField("introduction")]

    parent_page_types = ["practice.HomePage"]
    subpage_types = []
    max_count = 1
    allowed_http_methods = [HTTPMethod.GET, HTTPMethod.HEAD, HTTPMethod.OPTIONS, HTTPMethod.POST]
    preview_modes = [("", "Form"), ("sent", "Thank-you message")]
    cache_publicly = False

    class Meta:
        verbose_name = "contact page"

    @method_decorator(sensitive_post_parameters("name", "email", "phone", "message", "email_checked"))
    @method_decorator(never_cache)
    @sensitive_variables("form", "context")
    def serve(self, request, *args, **kwargs):
        # bookings imports this module (for the practice's settings): import it here, not at the top.
        from bookings import ratelimit, services
        from bookings.forms import EnquiryForm
        from bookings.views import source_page_of

        request.is_preview = False
        now = timezone.now()
        posted = request.method == "POST"
        form = EnquiryForm(request.POST if posted else None, now=now)
        context = self.get_context(request, *args, **kwargs)
        context.update(form=form, src=source_page_of(request, within=request.path), sent=False)
        if posted:
            if form.looks_automated():
                # The answer a person gets, so that nothing tells a bot it was spotted; nothing is stored.
                return redirect(self._sent_url(request))
            # Accepted messages and failed ones are counted apart: correcting a form never locks a person out.
            limit = ratelimit.FormLimit(request, scope="enquiry", accepted=settings.ENQUIRY_RATE_LIMIT)
            if limit.reached():
                context["rate_limited"] = True
                return TemplateResponse(request, self.get_template(request), context, status=429)
            if form.is_valid():
                services.enquiry_submit(request=form.enquiry_request(source_page=context["src"]), now=now)
                limit.accept()
                return redirect(self._sent_url(request))
            limit.fail()
        else:
            context["sent"] = request.GET.get("sent") == "1"
        return TemplateResponse(request, self.get_template(request), context)

    def _sent_url(self, request) -> str:
        return self.get_url(request) + "?sent=1"

    def get_preview_context(self, request, mode_name):
        from bookings.forms import EnquiryForm

        context = super().get_preview_context(request, mode_name)
        context.update(form=EnquiryForm(), src="", sent=mode_name == "sent")
        return context
