"""The intake questions' admin screens: a snippet in the Booking set-up menu (bookings/viewsets.py)."""

from wagtail.snippets.views.snippets import SnippetViewSet

from .models import IntakeQuestion


class IntakeQuestionViewSet(SnippetViewSet):
    """
    Questions are listed in the order visitors see them; "Sort item order" drags them into place.
    The preview shows all the questions of the chosen consultation type as the booking form shows them.
    """

    model = IntakeQuestion
    icon = "help"
    menu_label = "Intake questions"
    list_display = ["text", "consultation_type", "kind", "required", "is_active"]
    list_filter = ["consultation_type", "kind", "is_active"]
    search_fields = ["text"]
    search_backend_name = None
    ordering = ["consultation_type", "sort_order"]
