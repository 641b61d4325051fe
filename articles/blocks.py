"""Blocks that only articles use: the booking invitation and references."""

from django.core.exceptions import ValidationError

from wagtail import blocks

from practice.blocks import BaseStreamBlock


class BookConsultationBlock(blocks.StructBlock):
    heading = blocks.CharBlock(
        max_length=120, default="Would you like support with this?", help_text="A short, friendly invitation."
    )
    text = blocks.TextBlock(
        required=False, help_text="One or two sentences on how a consultation could help. Make no promises."
    )
    consultation_type = blocks.CharBlock(
        required=False,
        max_length=80,
        help_text=(
            "Optional: the short name in the booking page's address of the consultation to suggest, "
            "for example 'discovery-call'. Leave empty to let the reader choose."
        ),
    )
    button_label = blocks.CharBlock(max_length=60, default="Book a consultation", help_text="The button's words.")

    class Meta:
        icon = "calendar-check"
        template = "blocks/book_consultation_block.html"
        label = "Book a consultation"
        description = "An invitation to book, with a button to the booking page."
        preview_value = {
            "heading": "Would you like support with this?",
            "text": "A first conversation is a chance to talk through what you are noticing.",
            "consultation_type": "",
            "button_label": "Book a consultation",
        }


class ArticleStreamBlock(BaseStreamBlock):
    book_consultation = BookConsultationBlock()


class ReferenceBlock(blocks.StructBlock):
    text = blocks.CharBlock(
        max_length=400,
        help_text="The citation as readers should see it: who published it and its title, e.g. 'NHS. Coeliac disease.'",
    )
    url = blocks.URLBlock(required=False, help_text="The address of the source, if it is online.")
    doi = blocks.CharBlock(
        required=False, max_length=120, help_text="Optional DOI of a journal article, like 10.1000/xyz123."
    )
    accessed = blocks.DateBlock(required=False, help_text="The day you last checked the online source.")

    class Meta:
        icon = "doc-full"
        template = "blocks/reference_block.html"
        label = "Reference"
        description = "A source the article relies on, listed by number at the end."
        preview_value = {
            "text": "NHS. Coeliac disease.",
            "url": "https://www.nhs.uk/conditions/coeliac-disease/",
            "doi": "",
            "accessed": None,
        }

    def clean(self, value):
        value = super().clean(value)
        doi = (value.get("doi") or "").strip().removeprefix("https://doi.org/").removeprefix("doi:")
        if doi and not doi.startswith("10."):
            raise blocks.StructBlockValidationError({"doi": ValidationError("A DOI starts with '10.'.")})
        value["doi"] = doi
        return value
