"""
The demo site's pages and settings, written in plain language with no medical claims.

Each `ensure_*` function creates what is missing and leaves what exists alone, so running the
loader again changes nothing (and never overwrites an editor's changes).
"""

import io
import json

from django.core.files.images import ImageFile

from wagtail.images import get_image_model
from wagtail.models import Page, Site

from practice.models import ContactPage, HomePage, PracticeSettings, ServicesPage, StandardPage

from .images import abstract_image

DISCLAIMER = (
    "<p>The information on this website is for general education only. It is not medical advice and "
    "does not replace care from your doctor. If you are unwell or worried about a symptom, please speak "
    "to your GP. In an emergency, call 999 (or your local emergency number).</p>"
)

BOOKING_POLICY = (
    "<ul><li>You can cancel or move a consultation yourself, using the link in your email, up to 24 hours "
    "before it starts.</li><li>If something comes up later than that, please email and we will do our best "
    "to help.</li><li>Consultations are not an emergency service. If you need urgent help, call 999 or "
    "NHS 111.</li></ul>"
)


def ensure_image(*, title: str, seed: int, palette: str):
    Image = get_image_model()
    image = Image.objects.filter(title=title).first()
    if image is None:
        content = abstract_image(seed=seed, palette=palette)
        image = Image(title=title)
        image.file = ImageFile(io.BytesIO(content), name=f"demo-{seed}.jpg")
        image.save()
    return image


def ensure_child(parent: Page, page: Page) -> Page:
    """Publish `page` under `parent` unless a page with its slug is already there."""
    existing = parent.get_children().filter(slug=page.slug).first()
    if existing is not None:
        return existing.specific
    parent.add_child(instance=page)
    page.save_revision().publish()
    return page


def ensure_home_page() -> HomePage:
    home = HomePage.objects.first()
    if home is not None:
        return home
    root = Page.get_first_root_node()
    hero = ensure_image(title="Demo: soft green shapes", seed=1, palette="sage")
    # Wagtail's own "Welcome" page sits at the slug the home page needs; it is replaced.
    placeholder = Page.objects.filter(depth=2, content_type__model="page", content_type__app_label="wagtailcore")
    placeholder.filter(slug="home").update(slug="wagtail-welcome")
    home = HomePage(
        title="Home",
        slug="home",
        seo_title="Naomi Integrative Health: support for autoimmune and gut health",
        hero_heading="Calm, practical support for autoimmune and gut health",
        hero_introduction=(
            "I help adults who live with an autoimmune condition or ongoing gut trouble make sense of "
            "what they are going through and build habits that fit their lives, alongside the care of "
            "their own doctor."
        ),
        hero_image=hero,
        hero_image_alt="Soft green shapes overlapping like leaves",
        hero_cta_label="Book a consultation",
        body=json.dumps(
            [
                {"type": "heading", "value": {"text": "How I work", "level": "h2"}},
                {
                    "type": "paragraph",
                    "value": (
                        "<p>Every consultation starts with listening. We look at your history, your "
                        "daily routine, what you eat, how you sleep and what stress you carry, and agree "
                        "on a few realistic steps. I work alongside your GP or specialist, never instead "
                        "of them.</p>"
                    ),
                },
                {
                    "type": "callout",
                    "value": {
                        "style": "takeaways",
                        "title": "What to expect",
                        "body": (
                            "<ul><li>A free 15-minute discovery call to see if we are a good fit.</li>"
                            "<li>An initial consultation of about an hour, by video or phone.</li>"
                            "<li>Follow-up sessions at a pace that suits you.</li></ul>"
                        ),
                    },
                },
                {
                    "type": "call_to_action",
                    "value": {
                        "heading": "Would you like to talk it through?",
                        "text": "Choose a time that suits you. You do not need an account.",
                        "button_label": "Book a consultation",
                        "page": None,
                        "url": "/book/",
                    },
                },
            ]
        ),
    )
    root.add_child(instance=home)
    home.save_revision().publish()
    site = Site.objects.filter(is_default_site=True).first()
    if site is None:
        Site.objects.create(
            hostname="localhost", port=80, root_page=home, is_default_site=True, site_name="Naomi Integrative Health"
        )
    else:
        site.root_page = home
        site.site_name = "Naomi Integrative Health"
        site.save()
    for page in placeholder:
        page.delete()
    return home


def about_page() -> StandardPage:
    illustration = ensure_image(title="Demo: warm abstract shapes", seed=2, palette="dawn")
    return StandardPage(
        title="About Naomi",
        slug="about",
        show_in_menus=True,
        introduction=(
            "Naomi is an integrative health practitioner who specialises in autoimmune conditions and gut health."
        ),
        body=json.dumps(
            [
                {
                    "type": "paragraph",
                    "value": (
                        "<p>Naomi founded this practice after years of working with people who felt "
                        "lost between appointments: told that their tests were normal, yet still "
                        "tired, sore or uncomfortable. Her work focuses on the everyday things that "
                        "people can change, such as food, sleep, movement and stress, and on helping "
                        "them ask good questions of their medical team.</p>"
                    ),
                },
                {"type": "heading", "value": {"text": "Her approach", "level": "h2"}},
                {
                    "type": "paragraph",
                    "value": (
                        "<ul><li>She listens first and takes your whole life into account.</li>"
                        "<li>She explains things in plain words and shares where the evidence is "
                        "still uncertain.</li><li>She works alongside your doctor and never asks you "
                        "to stop a treatment.</li></ul>"
                    ),
                },
                {
                    "type": "image",
                    "value": {
                        "image": illustration.pk,
                        "alt_text": "Abstract illustration of soft overlapping circles in warm colours",
                        "caption": "",
                    },
                },
                {
                    "type": "quote",
                    "value": {
                        "quote": "Small, steady changes that fit your life last longer than a perfect plan.",
                        "attribution": "Naomi",
                    },
                },
                {
                    "type": "call_to_action",
                    "value": {
                        "heading": "Start with a free discovery call",
                        "text": "Fifteen minutes, by phone or video, to see whether working together is right for you.",
                        "button_label": "Book a discovery call",
                        "page": None,
                        "url": "/book/",
                    },
                },
            ]
        ),
    )


def retention(kind: str) -> int:
    """The default retention period, in days, that the practice settings start with."""
    return PracticeSettings._meta.get_field(f"{kind}_details_retention_days").default


def privacy_page() -> StandardPage:
    return StandardPage(
        title="Privacy policy",
        slug="privacy-policy",
        introduction="This page explains what information the practice keeps about you, why, and for how long.",
        body=json.dumps(
            [
                {"type": "heading", "value": {"text": "What we collect", "level": "h2"}},
                {
                    "type": "paragraph",
                    "value": (
                        "<p>When you ask for a consultation we keep your name, email address, phone "
                        "number if you give it, the time you chose, and what you tell us about the "
                        "reason for your visit. The reason is health information, so we treat it with "
                        "extra care: only the practitioner and her assistant can see it, and it is never "
                        "put in emails or calendar invitations.</p>"
                    ),
                },
                {"type": "heading", "value": {"text": "Cookies and tracking", "level": "h2"}},
                {
                    "type": "paragraph",
                    "value": (
                        "<p>This website uses no advertising or tracking cookies and loads nothing from "
                        "other companies' servers. Videos only load from the video site if you press play.</p>"
                    ),
                },
                {"type": "heading", "value": {"text": "How long we keep it", "level": "h2"}},
                {
                    "type": "paragraph",
                    "value": (
                        f"<p>What you tell us about your health (the reason for a consultation, your "
                        f"messages, and our replies and notes) is erased {retention('health')} days after "
                        f"your consultation, or after your message has been answered and closed. Your "
                        f"name, email address and phone number are erased {retention('contact')} days "
                        "after. We then keep only anonymous facts (the date, the kind of consultation and "
                        "whether it took place) for our own figures. Information is kept encrypted, and "
                        "backups follow the same rules.</p>"
                    ),
                },
                {"type": "heading", "value": {"text": "Your rights", "level": "h2"}},
                {
                    "type": "paragraph",
                    "value": (
                        "<p>You can ask for a copy of the information we hold about you, ask us to correct "
                        "it, or ask us to delete it. Write to the email address at the foot of this page.</p>"
                    ),
                },
            ]
        ),
    )


def terms_page() -> StandardPage:
    return StandardPage(
        title="Terms of use",
        slug="terms",
        introduction="The rules for using this website and booking a consultation.",
        body=json.dumps(
            [
                {"type": "heading", "value": {"text": "Information, not medical advice", "level": "h2"}},
                {
                    "type": "paragraph",
                    "value": (
                        "<p>Articles on this site are for general education. They cannot take your own "
                        "situation into account and are not a diagnosis or a treatment plan. Always talk "
                        "to your doctor before changing a medicine or treatment.</p>"
                    ),
                },
                {"type": "heading", "value": {"text": "Consultations", "level": "h2"}},
                {
                    "type": "paragraph",
                    "value": (
                        "<p>A booking request is confirmed once you receive a confirmation email. You can "
                        "cancel or move a consultation with the link in that email, within the time shown "
                        "in the booking policy.</p>"
                    ),
                },
                {
                    "type": "callout",
                    "value": {
                        "style": "important",
                        "title": "Not for emergencies",
                        "body": "<p>If you need urgent help, call 999 or NHS 111, or go to your nearest A&amp;E.</p>",
                    },
                },
            ]
        ),
    )


def faq(*questions: tuple[str, str]) -> dict:
    return {
        "type": "faq",
        "value": {
            "heading": "Questions people often ask",
            "questions": [{"question": question, "answer": answer} for question, answer in questions],
        },
    }


def services_page() -> ServicesPage:
    return ServicesPage(
        title="Services",
        slug="services",
        show_in_menus=True,
        introduction=(
            "Working together starts with a conversation. Choose the consultation that suits where you are, "
            "then a time that suits you. You do not need an account."
        ),
        body=json.dumps(
            [
                faq(
                    (
                        "Do I need a referral from my doctor?",
                        "<p>No, you can book yourself. If a GP or specialist looks after you, keep seeing them: "
                        "Naomi works alongside your medical team, never instead of it.</p>",
                    ),
                    (
                        "How do the consultations take place?",
                        "<p>The discovery call is by phone. Consultations take place by video call, so you can "
                        "join from home. The link arrives by email once your time is confirmed.</p>",
                    ),
                    (
                        "What should I have ready for the first consultation?",
                        "<ul><li>The medicines and supplements you take</li><li>Recent test results, if you "
                        "have them</li><li>A few notes on what you would most like help with</li></ul>",
                    ),
                    (
                        "Can I cancel or move my consultation?",
                        "<p>Yes. The email that confirms your booking has a link to cancel or move it yourself, "
                        "up to 24 hours before it starts.</p>",
                    ),
                    (
                        "Is this an emergency service?",
                        "<p>No. If you need urgent help, call 999 or NHS 111.</p>",
                    ),
                ),
            ]
        ),
    )


def contact_page() -> ContactPage:
    return ContactPage(
        title="Contact",
        slug="contact",
        show_in_menus=True,
        introduction=(
            "Have a question before you book, or not sure which consultation is right for you? Send Naomi a "
            "message and she will reply by email, usually within two working days."
        ),
        thank_you=(
            "Thank you for your message. Naomi will reply to the email address you gave, usually within two "
            "working days. If you need urgent medical help, please call 999 or NHS 111."
        ),
    )


def ensure_settings(site: Site, *, about: Page, privacy: Page, terms: Page) -> PracticeSettings:
    practice_settings = PracticeSettings.for_site(site)
    if practice_settings.practitioner_name:
        return practice_settings
    practice_settings.practice_name = "Naomi Integrative Health"
    practice_settings.practitioner_name = "Naomi"
    practice_settings.practitioner_title = "Autoimmune Specialist, Integrative Health Expert"
    practice_settings.about_page = about
    # example.com and 020 7946 0xxx are reserved for examples and fiction: nobody receives them.
    practice_settings.email = "hello@example.com"
    practice_settings.phone = "020 7946 0123"
    practice_settings.address = ""  # consultations by video and phone only: no address to show
    practice_settings.time_zone = "Europe/London"
    practice_settings.medical_disclaimer = DISCLAIMER
    practice_settings.booking_policy = BOOKING_POLICY
    practice_settings.privacy_page = privacy
    practice_settings.terms_page = terms
    practice_settings.save()
    return practice_settings


def load_site() -> HomePage:
    from articles.demo import load_articles
    from bookings.demo import load_bookings

    home = ensure_home_page()
    about = ensure_child(home, about_page())
    if not ServicesPage.objects.exists():  # one per site; an editor may have moved or renamed it
        ensure_child(home, services_page())
    privacy = ensure_child(home, privacy_page())
    terms = ensure_child(home, terms_page())
    site = Site.objects.get(root_page=home)
    ensure_settings(site, about=about, privacy=privacy, terms=terms)
    load_articles(home, about_page=about, image_for=ensure_image)
    if not ContactPage.objects.exists():  # one per site; an editor may have moved or renamed it
        ensure_child(home, contact_page())
    load_bookings(zone=PracticeSettings.for_site(site).zone)
    return home
