"""Admin screens for what can be booked: consultation types, opening hours and time off."""

from wagtail.snippets.views.snippets import SnippetViewSet, SnippetViewSetGroup

from .models import AvailabilityWindow, ConsultationType, TimeOff


class ConsultationTypeViewSet(SnippetViewSet):
    model = ConsultationType
    icon = "calendar-check"
    menu_label = "Consultation types"
    list_display = ["name", "duration_minutes", "format", "requires_approval", "is_active"]
    list_filter = ["is_active", "format"]
    search_fields = ["name"]
    search_backend_name = None


class AvailabilityWindowViewSet(SnippetViewSet):
    model = AvailabilityWindow
    icon = "time"
    menu_label = "Opening hours"
    list_display = ["__str__", "weekday", "start_time", "end_time"]
    list_filter = ["weekday"]


class TimeOffViewSet(SnippetViewSet):
    model = TimeOff
    icon = "date"
    menu_label = "Time off"
    list_display = ["title", "starts_at", "ends_at"]


class BookingSetupViewSetGroup(SnippetViewSetGroup):
    items = (ConsultationTypeViewSet, AvailabilityWindowViewSet, TimeOffViewSet)
    menu_icon = "calendar-alt"
    menu_label = "Booking set-up"
    menu_name = "booking-setup"
