from django.urls import include, path, reverse

from wagtail import hooks
from wagtail.admin.menu import MenuItem
from wagtail.snippets.models import register_snippet

from . import admin_views
from .models import Booking, BookingStatus
from .viewsets import BookingSetupViewSetGroup

register_snippet(BookingSetupViewSetGroup)


@hooks.register("register_admin_urls")
def register_inbox_urls():
    urls = [
        path("", admin_views.inbox, name="inbox"),
        path("<int:pk>/", admin_views.detail, name="detail"),
        path("<int:pk>/<str:action>/", admin_views.act, name="act"),
    ]
    return [path("bookings/", include((urls, "bookings_admin"), namespace="bookings_admin"))]


class InboxMenuItem(MenuItem):
    def is_shown(self, request):
        return request.user.has_perm(admin_views.PERMISSION)

    def get_context(self, request):
        context = super().get_context(request)
        waiting = Booking.objects.filter(status=BookingStatus.PENDING).count()
        if waiting:
            context["label"] = f"Bookings ({waiting} waiting)"
        return context


@hooks.register("register_admin_menu_item")
def register_inbox_menu_item():
    return InboxMenuItem("Bookings", reverse("bookings_admin:inbox"), icon_name="calendar-check", order=150)


@hooks.register("register_log_actions")
def register_booking_log_actions(actions):
    actions.register_action("bookings.confirm", "Confirm booking", "Booking confirmed")
    actions.register_action("bookings.decline", "Decline booking", "Booking declined")
    actions.register_action("bookings.cancel", "Cancel booking", "Booking cancelled by the practice")
    actions.register_action("bookings.completed", "Close booking", "Booking marked as completed")
    actions.register_action("bookings.no_show", "Close booking", "Booking marked as a no-show")
