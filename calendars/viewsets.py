"""The busy calendars and extra openings screens, shown in bookings' *Booking set-up* menu group."""

from wagtail.admin.ui.tables import Column, DateColumn
from wagtail.snippets.views.snippets import SnippetViewSet

from .models import BusyCalendar, ExtraOpening


class BusyCalendarViewSet(SnippetViewSet):
    model = BusyCalendar
    icon = "calendar"
    menu_label = "Busy calendars"
    list_display = [
        "name",
        Column("masked_url", label="Address"),
        "is_active",
        DateColumn("last_success_at", label="Last worked"),
        "last_error",
    ]
    list_filter = ["is_active"]


class ExtraOpeningViewSet(SnippetViewSet):
    model = ExtraOpening
    icon = "date"
    menu_label = "Extra openings"
    list_display = ["date", "start_time", "end_time", "note"]
