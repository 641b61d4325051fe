"""Admin registration only: the workspace's viewsets, the booking set-up snippets, the log actions, the
dashboard panel and the report of where visitors came from."""

from django.urls import reverse
from django.utils import timezone

from wagtail import hooks
from wagtail.snippets.models import register_snippet

from . import services
from .dashboard import PracticeDayPanel
from .reports import SourcesReportMenuItem
from .viewsets import BookingSetupViewSetGroup, booking_viewset, enquiry_viewset

register_snippet(BookingSetupViewSetGroup)


@hooks.register("register_admin_viewset")
def register_booking_viewset():
    return booking_viewset


@hooks.register("register_admin_viewset")
def register_enquiry_viewset():
    return enquiry_viewset


@hooks.register("register_log_actions")
def register_booking_log_actions(actions):
    for action, label in services.log_actions_to_register().items():
        actions.register_action(action, label, label)


@hooks.register("construct_homepage_panels")
def add_practice_day_panel(request, panels):
    if PracticeDayPanel.is_shown_to(request.user):
        panels.append(PracticeDayPanel(now=timezone.now()))


@hooks.register("register_reports_menu_item")
def register_sources_report_menu_item():
    return SourcesReportMenuItem(
        "Where visitors came from",
        reverse("bookings_admin:sources"),
        name="visitor-sources",
        icon_name="site",
        order=150,
    )
