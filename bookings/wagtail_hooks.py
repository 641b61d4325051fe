"""Admin registration only: the workspace's viewsets, the booking set-up snippets and the log actions."""

from wagtail import hooks
from wagtail.snippets.models import register_snippet

from . import services
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
