"""Blocks that only articles use: the booking invitation and references."""

import copy
from urllib.parse import urlencode, urlsplit

from django.core.exceptions import ValidationError
from django.urls import reverse

from wagtail import blocks
from wagtail.snippets.blocks import SnippetChooserBlock

from practice.blocks import BaseStreamBlock


class ConsultationTypeChooserBlock(SnippetChooserBlock):
    """
    Chooses a consultation type, stored as its id. It also reads what the block stored before it had a
    chooser (the type's slug, or "" for none), so older articles and revisions keep working until they
    are next saved, when the id is stored instead. A type that no longer exists reads as none.
    """

    def __init__(self, **kwargs):
        super().__init__("bookings.ConsultationType", **kwargs)

    def deconstruct(self):
        # Frozen into migrations as a plain SnippetChooserBlock, so that they never import this class.
        return (
            "wagtail.snippets.blocks.SnippetChooserBlock",
            ("bookings.ConsultationType",),
            self._constructor_args[1],
        )

    def to_python(self, value):
        return self.bulk_to_python([value])[0]

    def normalize(self, value):
        return value if value is None or isinstance(value, self.model_class) else self.to_python(value)

    def bulk_to_python(self, values):
        model = self.model_class
        slugs = [value for value in values if isinstance(value, str) and value]
        by_slug = model.objects.in_bulk(slugs, field_name="slug") if slugs else {}
        ids = [value for value in values if isinstance(value, int) or (isinstance(value, str) and value.isdigit())]
        by_id = model.objects.in_bulk([int(value) for value in ids]) if ids else {}
        result, seen = [], set()
        for value in values:
            found = None
            if isinstance(value, str) and value:
                found = by_slug.get(value) or (by_id.get(int(value)) if value.isdigit() else None)
            elif isinstance(value, int):
                found = by_id.get(value)
            if found is not None and found.pk in seen:
                found = copy.copy(found)  # like Wagtail's: each use gets its own instance
            if found is not None:
                seen.add(found.pk)
            result.append(found)
        return result


def _page_path(context) -> str:
    """The path of the page the block is shown on, to tell the booking flow where the visitor came from."""
    context = context or {}
    page, request = context.get("page"), context.get("request")
    url = page.get_url(request=request) if page is not None and hasattr(page, "get_url") else None
    if not url and request is not None:
        url = request.path
    path = urlsplit(url or "").path
    return path if path.startswith("/") else ""


class BookConsultationBlock(blocks.StructBlock):
    heading = blocks.CharBlock(
        max_length=120, default="Would you like support with this?", help_text="A short, friendly invitation."
    )
    text = blocks.TextBlock(
        required=False, help_text="One or two sentences on how a consultation could help. Make no promises."
    )
    consultation_type = ConsultationTypeChooserBlock(
        required=False,
        help_text=(
            "Optional: the consultation to suggest. The button then opens its booking times straight away. "
            "Leave empty to let the reader choose."
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
            "consultation_type": None,
            "button_label": "Book a consultation",
        }

    def get_context(self, value, parent_context=None):
        context = super().get_context(value, parent_context=parent_context)
        consultation = value.get("consultation_type")
        if consultation is not None and consultation.is_active:
            url = reverse("bookings:choose_time", args=[consultation.slug])
        else:
            url = reverse("bookings:choose_type")  # none chosen, or no longer offered: the reader chooses
        src = _page_path(parent_context)
        context["book_url"] = f"{url}?{urlencode({'src': src})}" if src else url
        return context


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
