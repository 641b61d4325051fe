"""
The practice admins' inbox: booking requests to confirm or decline, and what is coming up.

Each action is a permission check (bookings.change_booking), a call to bookings/services.py, an
audit log entry and a message. Only these views show the reason for a consultation.
"""

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_POST

from wagtail.log_actions import log

from practice.pagination import page_of

from . import selectors, services
from .models import Booking, BookingStatus

PERMISSION = "bookings.change_booking"
FILTERS = {
    "pending": ("Waiting for you", lambda qs, now: qs.filter(status=BookingStatus.PENDING)),
    "upcoming": ("Coming up", lambda qs, now: qs.filter(status=BookingStatus.CONFIRMED, starts_at__gte=now)),
    "past": ("Past", lambda qs, now: qs.filter(starts_at__lt=now)),
    "all": ("All", lambda qs, now: qs),
}
ACTIONS = {
    "confirm": ("bookings.confirm", "Booking {reference} confirmed; the client has been emailed."),
    "decline": ("bookings.decline", "Booking {reference} declined; the client has been emailed."),
    "cancel": ("bookings.cancel", "Booking {reference} cancelled; the client has been emailed."),
    "completed": ("bookings.completed", "Booking {reference} marked as completed."),
    "no_show": ("bookings.no_show", "Booking {reference} marked as a no-show."),
}


def _require_permission(request):
    if not request.user.has_perm(PERMISSION):
        raise PermissionDenied


def inbox(request):
    _require_permission(request)
    now = timezone.now()
    current = request.GET.get("show", "pending")
    if current not in FILTERS:
        current = "pending"
    bookings = FILTERS[current][1](Booking.objects.select_related("consultation_type"), now)
    query = request.GET.get("q", "").strip()[:100]
    if query:
        bookings = (
            bookings.filter(reference__iexact=query)
            | bookings.filter(name__icontains=query)
            | bookings.filter(email__icontains=query)
        )
    order = "-starts_at" if current in ("past", "all") else "starts_at"
    paginator, page = page_of(bookings.order_by(order), per_page=25, number=request.GET.get("page", 1))
    counts = {key: FILTERS[key][1](Booking.objects.all(), now).count() for key in ("pending", "upcoming")}
    return TemplateResponse(
        request,
        "bookings/admin/inbox.html",
        {
            "bookings": page,
            "paginator": paginator,
            "filters": [(key, label, counts.get(key)) for key, (label, _) in FILTERS.items()],
            "current": current,
            "query": query,
            "zone": selectors.practice_zone(),
        },
    )


def detail(request, pk):
    _require_permission(request)
    booking = get_object_or_404(Booking.objects.select_related("consultation_type"), pk=pk)
    now = timezone.now()
    allowed = services.ALLOWED_TRANSITIONS.get(booking.status, set())
    return TemplateResponse(
        request,
        "bookings/admin/detail.html",
        {
            "booking": booking,
            "zone": selectors.practice_zone(),
            "can_confirm": BookingStatus.CONFIRMED in allowed,
            "can_decline": BookingStatus.DECLINED in allowed,
            "can_cancel": BookingStatus.CANCELLED_BY_PRACTICE in allowed,
            "can_close": BookingStatus.COMPLETED in allowed and booking.starts_at <= now,
            "history": booking.notifications.order_by("created_at"),
        },
    )


@require_POST
def act(request, pk, action):
    _require_permission(request)
    if action not in ACTIONS:
        raise PermissionDenied
    booking = get_object_or_404(Booking, pk=pk)
    now = timezone.now()
    try:
        if action == "confirm":
            booking = services.booking_confirm(booking=booking, now=now)
        elif action == "decline":
            booking = services.booking_decline(booking=booking, now=now)
        elif action == "cancel":
            booking = services.booking_cancel(booking=booking, by_client=False, now=now)
        else:
            booking = services.booking_close(booking=booking, outcome=action, now=now)
    except services.BookingError as error:
        messages.error(request, str(error))
    else:
        log_action, message = ACTIONS[action]
        log(instance=booking, action=log_action, user=request.user)
        messages.success(request, message.format(reference=booking.reference))
    return redirect(reverse("bookings_admin:detail", args=[booking.pk]))
