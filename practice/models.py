"""Site-wide pages (home, standard pages) and the practice's settings."""

import zoneinfo

from django.core.exceptions import ValidationError
from django.db import models

from wagtail import blocks
from wagtail.admin.panels import FieldPanel, MultiFieldPanel, PageChooserPanel
from wagtail.contrib.settings.models import BaseSiteSetting, register_setting
from wagtail.fields import RichTextField, StreamField
from wagtail.models import Page
from wagtail.search import index

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
        FieldPanel("time_zone"),
        MultiFieldPanel(
            [
                FieldPanel("medical_disclaimer"),
                FieldPanel("booking_policy"),
                FieldPanel("cancellation_cutoff_hours"),
                FieldPanel("reminder_hours"),
                FieldPanel("notification_email"),
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
