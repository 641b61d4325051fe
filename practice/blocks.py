"""StreamField blocks shared by the site's pages and articles."""

from django.core.exceptions import ValidationError
from django.utils.text import slugify

from wagtail import blocks
from wagtail.images import get_image_model
from wagtail.images.blocks import ImageChooserBlock
from wagtail.rich_text import expand_db_html

from .video import parse_video_url

RICH_TEXT_FEATURES = ["bold", "italic", "link", "document-link", "ol", "ul", "superscript", "subscript"]


class HeadingBlock(blocks.StructBlock):
    text = blocks.CharBlock(max_length=120, help_text="The words of the heading. Keep it short.")
    level = blocks.ChoiceBlock(
        choices=[("h2", "Section heading"), ("h3", "Sub-heading")],
        default="h2",
        help_text="Use a section heading for main sections and a sub-heading inside a section.",
    )

    class Meta:
        icon = "title"
        template = "blocks/heading_block.html"
        label = "Heading"
        description = "A section or sub-heading. Headings also build the table of contents on articles."
        preview_value = {"text": "How the gut and the immune system talk", "level": "h2"}

    def get_context(self, value, parent_context=None):
        context = super().get_context(value, parent_context)
        context["anchor"] = slugify(value["text"]) or "section"
        return context


class ParagraphBlock(blocks.RichTextBlock):
    def __init__(self, **kwargs):
        kwargs.setdefault("features", RICH_TEXT_FEATURES)
        kwargs.setdefault("help_text", "Text with bold, italic, lists and links.")
        super().__init__(**kwargs)

    class Meta:
        icon = "pilcrow"
        template = "blocks/paragraph_block.html"
        label = "Paragraph"
        description = "Body text with simple formatting, lists and links."
        preview_value = (
            "<p>Living with an autoimmune condition can feel confusing. This page explains the "
            "basics in plain language, with <a href='/'>links</a> to trusted sources.</p>"
        )


def _first_image():
    return get_image_model().objects.order_by("pk").first()


class CaptionedImageBlock(blocks.StructBlock):
    image = ImageChooserBlock(help_text="Choose or upload a photo or illustration.")
    alt_text = blocks.CharBlock(
        max_length=250,
        help_text=(
            "Describe what the image shows for people who cannot see it, "
            "for example 'Bowl of oats topped with berries'."
        ),
    )
    caption = blocks.CharBlock(required=False, max_length=250, help_text="Optional text shown under the image.")

    class Meta:
        icon = "image"
        template = "blocks/captioned_image_block.html"
        label = "Image"
        description = "A picture with a description for screen readers and an optional caption."

    def get_preview_value(self):
        return self.to_python(
            {"image": getattr(_first_image(), "pk", None), "alt_text": "Example image", "caption": "A caption"}
        )


class QuoteBlock(blocks.StructBlock):
    quote = blocks.TextBlock(help_text="The words being quoted.")
    attribution = blocks.CharBlock(required=False, max_length=120, help_text="Who said it (optional).")

    class Meta:
        icon = "openquote"
        template = "blocks/quote_block.html"
        label = "Quote"
        description = "A quotation set apart from the text, with who said it."
        preview_value = {
            "quote": "Small, steady changes were easier to keep up than a big overhaul.",
            "attribution": "A client",
        }


class CalloutBlock(blocks.StructBlock):
    style = blocks.ChoiceBlock(
        choices=[("note", "Note"), ("takeaways", "Key takeaways"), ("important", "Important")],
        default="note",
        help_text="Key takeaways sum up a section; Important is for safety information.",
    )
    title = blocks.CharBlock(required=False, max_length=120, help_text="Optional title for the box.")
    body = ParagraphBlock()

    class Meta:
        icon = "help"
        template = "blocks/callout_block.html"
        label = "Callout"
        description = "A highlighted box for a note, key takeaways or important information."
        preview_value = {
            "style": "takeaways",
            "title": "Key takeaways",
            "body": "<ul><li>Everyone's body is different.</li><li>Talk to your doctor before changes.</li></ul>",
        }


class CallToActionBlock(blocks.StructBlock):
    heading = blocks.CharBlock(max_length=120, help_text="A short invitation, for example 'Ready to talk?'.")
    text = blocks.TextBlock(required=False, help_text="One or two sentences that explain what happens next.")
    button_label = blocks.CharBlock(max_length=60, default="Book a consultation", help_text="The button's words.")
    page = blocks.PageChooserBlock(required=False, help_text="Send people to a page of this site…")
    url = blocks.CharBlock(
        required=False,
        default="/book/",
        max_length=200,
        help_text="…or to this address. Leave the default to go to the booking page.",
    )

    class Meta:
        icon = "calendar-check"
        template = "blocks/call_to_action_block.html"
        label = "Call to action"
        description = "A highlighted invitation with a button, by default to book a consultation."
        preview_value = {
            "heading": "Would you like to talk it through?",
            "text": "Book a free 15-minute discovery call to see whether working together is right for you.",
            "button_label": "Book a consultation",
            "url": "/book/",
        }

    def clean(self, value):
        value = super().clean(value)
        url = (value.get("url") or "").strip()
        if not value.get("page") and not url:
            raise blocks.StructBlockValidationError({"url": ValidationError("Choose a page or give an address.")})
        if url and not url.startswith(("/", "https://", "http://", "mailto:", "tel:")):
            raise blocks.StructBlockValidationError(
                {"url": ValidationError("Start the address with /, https://, mailto: or tel:.")}
            )
        return value


class VideoEmbedBlock(blocks.StructBlock):
    url = blocks.URLBlock(help_text="The address of a YouTube or Vimeo video, copied from the browser.")
    title = blocks.CharBlock(
        max_length=150, help_text="What the video is about. Screen readers read it and it labels the play button."
    )
    caption = blocks.CharBlock(required=False, max_length=250, help_text="Optional text shown under the video.")

    class Meta:
        icon = "media"
        template = "blocks/video_embed_block.html"
        label = "Video"
        description = (
            "A YouTube or Vimeo video. Nothing loads from the video site until the visitor presses play, "
            "so no tracking happens before they choose."
        )
        preview_value = {
            "url": "https://www.youtube.com/watch?v=aaaaaaaaaaa",
            "title": "A short introduction",
            "caption": "",
        }

    def clean(self, value):
        value = super().clean(value)
        if parse_video_url(value["url"]) is None:
            raise blocks.StructBlockValidationError(
                {"url": ValidationError("Use the address of a YouTube or Vimeo video.")}
            )
        return value

    def get_context(self, value, parent_context=None):
        context = super().get_context(value, parent_context)
        context["video"] = parse_video_url(value["url"])
        return context


class BaseStreamBlock(blocks.StreamBlock):
    heading = HeadingBlock()
    paragraph = ParagraphBlock()
    image = CaptionedImageBlock()
    quote = QuoteBlock()
    callout = CalloutBlock()
    call_to_action = CallToActionBlock()
    embed = VideoEmbedBlock()


class QuestionBlock(blocks.StructBlock):
    question = blocks.CharBlock(
        max_length=200, help_text="The question as a visitor would ask it, for example 'Do I need a referral?'."
    )
    answer = ParagraphBlock(help_text="The answer in a few plain sentences. Lists and links are fine.")

    class Meta:
        icon = "help"
        label = "Question"


class FAQBlock(blocks.StructBlock):
    heading = blocks.CharBlock(
        required=False,
        max_length=120,
        default="Questions people often ask",
        help_text="A section heading above the questions. Leave empty if the heading just before says it already.",
    )
    questions = blocks.ListBlock(
        QuestionBlock(), min_num=1, help_text="Each question opens to show its answer when a visitor selects it."
    )

    class Meta:
        icon = "help"
        template = "blocks/faq_block.html"
        label = "Questions and answers"
        description = (
            "Frequently asked questions that visitors open one by one. Search engines also read them as an FAQ."
        )
        preview_value = {
            "heading": "Questions people often ask",
            "questions": [
                {
                    "question": "Do I need a referral from my doctor?",
                    "answer": "<p>No. You can book yourself. I work alongside your doctor, never instead of them.</p>",
                },
                {
                    "question": "Can we meet by video?",
                    "answer": "<p>Yes. Most consultations take place by video call or by phone.</p>",
                },
            ],
        }


def faq_page_data(stream) -> dict | None:
    """
    schema.org FAQPage data for every question of every FAQ block in `stream` (a page's body), or None
    when it has none: a page carries one FAQPage, whatever the number of blocks.
    """
    questions = [
        {
            "@type": "Question",
            "name": item["question"],
            "acceptedAnswer": {"@type": "Answer", "text": expand_db_html(item["answer"].source)},
        }
        for block in (stream or [])
        if block.block_type == "faq"
        for item in block.value["questions"]
    ]
    if not questions:
        return None
    return {"@context": "https://schema.org", "@type": "FAQPage", "mainEntity": questions}


class PageStreamBlock(BaseStreamBlock):
    """The body of the site's own pages (home, services, standard pages): the shared blocks and FAQs."""

    faq = FAQBlock()
