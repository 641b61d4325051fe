"""Site-wide pages (home, standard pages, the contact page) and the practice's settings."""

import zoneinfo
from http import HTTPMethod

from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.http import Http404
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.utils import timezone
from django.utils.decorators import method_decorator
from django.views.decorators.cache import never_cache
from django.views.decorators.debug import sensitive_post_parameters, sensitive_variables

from wagtail import blocks
from wagtail.admin.panels import FieldPanel, MultiFieldPanel, PageChooserPanel
from wagtail.contrib.settings.models import BaseSiteSetting, register_setting
from wagtail.fields import RichTextField, StreamField
from wagtail.models import Page, Site
from wagtail.search import index

from . import caching
from .blocks import BaseStreamBlock

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
            [FieldPanel("practice_name"), FieldPanel("practitioner_name"), FieldPanel("practitioner_title")],
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
        site_settings = caching.cached(f"settings:{cls._meta.label_lower}:{site.pk}", lambda: cls._loaded_for(site))
        site_settings._request = request
        setattr(request, attr_name, site_settings)
        return site_settings

    @classmethod
    def _loaded_for(cls, site):
        site_settings = cls.for_site(site)
        site_settings.privacy_page, site_settings.terms_page  # noqa: B018 - loaded now, kept with it: the footer links them
        return site_settings


class HomePage(Page):
    hero_heading = models.CharField(max_length=160, help_text="The large welcome line at the top of the home page.")
    hero_introduction = models.TextField(
        blank=True, help_text="Two or three sentences under the heading: who you help and how."
    )
    hero_image = models.ForeignKey(
        "wagtailimages.Image",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        help_text="A welcoming photo, at least 1600 pixels wide.",
    )
    hero_image_alt = models.CharField(
        max_length=250,
        blank=True,
        help_text="Describe the photo for people who cannot see it. Leave empty only if it is decoration.",
    )
    hero_cta_label = models.CharField(
        max_length=60,
        default="Book a consultation",
        help_text="The words on the main button, which opens the booking page.",
    )
    body = StreamField(BaseStreamBlock(), blank=True, use_json_field=True, help_text="The rest of the home page.")

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
    ]
    search_fields = Page.search_fields + [
        index.SearchField("hero_heading"),
        index.SearchField("hero_introduction"),
        index.SearchField("body"),
    ]

    parent_page_types = ["wagtailcore.Page"]
    max_count = 1

    class Meta:
        verbose_name = "home page"

    def get_meta_description(self):
        return self.search_description or self.hero_introduction[:160]

    def route(self, request, path_components):
        """
        Finds the page a visitor's address names with one query for its id and type and one for the
        page itself (with what its type lists in `route_related`), where Wagtail asks two per level.
        Whatever the address holds past that page (a feed, a sub-route, an unknown slug) is routed by
        that page as usual, so the answer is the one Wagtail's own routing gives.
        """
        if not path_components:
            return super().route(request, path_components)
        prefixes = [
            self.url_path + "/".join(path_components[:depth]) + "/" for depth in range(1, len(path_components) + 1)
        ]
        found = (
            Page.objects.filter(url_path__in=prefixes, path__startswith=self.path, depth__gt=self.depth)
            .order_by("-depth")
            .values_list("pk", "content_type_id", "depth")
            .first()
        )
        if found is None:
            raise Http404
        pk, content_type_id, depth = found
        model = ContentType.objects.get_for_id(content_type_id).model_class()
        if model is None:
            raise Http404
        page = model.objects.select_related(*getattr(model, "route_related", ())).get(pk=pk)
        return page.route(request, path_components[depth - self.depth :])

    def serve(self, request, *args, **kwargs):
        return caching.mark_public(super().serve(request, *args, **kwargs))


class StandardPage(Page):
    introduction = models.TextField(blank=True, help_text="A short opening paragraph, shown larger than the body.")
    body = StreamField(BaseStreamBlock(), blank=True, use_json_field=True, help_text="The content of the page.")

    content_panels = Page.content_panels + [FieldPanel("introduction"), FieldPanel("body")]
    search_fields = Page.search_fields + [index.SearchField("introduction"), index.SearchField("body")]

    parent_page_types = ["practice.HomePage", "practice.StandardPage"]

    class Meta:
        verbose_name = "standard page"
        verbose_name_plural = "standard pages"

    def get_meta_description(self):
        return self.search_description or self.introduction[:160]

    def serve(self, request, *args, **kwargs):
        return caching.mark_public(super().serve(request, *args, **kwargs))


class ContactPage(Page):
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

    content_panels = Page.content_panels + [FieldPanel("introduction"), FieldPanel("thank_you")]
    search_fields = Page.search_fields + [index.SearchField("introduction")]

    parent_page_types = ["practice.HomePage"]
    subpage_types = []
    max_count = 1
    allowed_http_methods = [HTTPMethod.GET, HTTPMethod.HEAD, HTTPMethod.OPTIONS, HTTPMethod.POST]
    preview_modes = [("", "Form"), ("sent", "Thank-you message")]

    class Meta:
        verbose_name = "contact page"

    def get_meta_description(self):
        return self.search_description or self.introduction[:160]

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
