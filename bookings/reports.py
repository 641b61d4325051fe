"""
"Where visitors came from": booking requests and enquiries per page of the site, with how many
requests became confirmed consultations, over the last 30 or 90 days.

It reads only what the booking and contact forms already record (`source_page`); nothing is added
to public pages to track visitors. Viewing needs the booking "view" permission.
"""

import datetime as dt
from urllib.parse import quote

from django.urls import reverse
from django.utils import timezone
from django.utils.functional import cached_property

from wagtail.admin.menu import MenuItem
from wagtail.admin.ui.tables import Column, TitleColumn
from wagtail.admin.views.reports import ReportView
from wagtail.admin.widgets import HeaderButton
from wagtail.permission_policies import ModelPermissionPolicy

from . import selectors
from .models import Booking

PERIODS = (30, 90)
UNKNOWN_SOURCE = "Unknown or direct"

# The same policy as the bookings workspace's (a ModelViewSet's default); built here so that
# bookings/viewsets.py can import this view for its URLs without an import cycle.
booking_permission_policy = ModelPermissionPolicy(Booking)


def public_url(source_page: str) -> str | None:
    """
    A link to the page a visitor came from: only a path on this site, never another address. The path
    is percent-encoded first, so a backslash or a control character (which browsers drop from an
    address) cannot turn it into one ("/\\evil.example", "/\\t/evil.example"); then it must be "/" or
    start with a single "/". The booking and enquiry pages use it through the `source_href` filter.
    """
    href = quote(source_page, safe="/%?=&")
    if href == "/" or (href.startswith("/") and href[1] != "/"):
        return href
    return None


class SourcesReportView(ReportView):
    results_template_name = "bookings/admin/sources_report.html"
    page_title = "Where visitors came from"
    header_icon = "site"
    index_url_name = "bookings_admin:sources"
    permission_policy = booking_permission_policy
    permission_required = "view"
    paginate_by = None  # one row per page of the site that visitors came from: a short list
    columns = [
        TitleColumn(
            "source_page",
            label="Page they came from",
            accessor=lambda row: row.source_page or UNKNOWN_SOURCE,
            get_url=lambda row: public_url(row.source_page),
        ),
        Column("requests", label="Booking requests"),
        Column("enquiries", label="Enquiries"),
        Column("confirmed", label="Became consultations"),
    ]

    @cached_property
    def days(self) -> int:
        days = self.request.GET.get("days", "")
        return int(days) if days in {str(period) for period in PERIODS} else PERIODS[0]

    @cached_property
    def since(self) -> dt.datetime:
        return timezone.now() - dt.timedelta(days=self.days)

    def get_page_subtitle(self):
        return f"Last {self.days} days"

    def get_filtered_queryset(self):
        return selectors.sources_since(since=self.since)

    @cached_property
    def header_buttons(self):
        return [
            HeaderButton(
                f"Last {period} days",
                url=f"{reverse(self.index_url_name)}?days={period}",
                icon_name="calendar",
                classname="button-secondary",
            )
            for period in PERIODS
            if period != self.days
        ]

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context.update(days=self.days, since=self.since, zone=selectors.practice_zone())
        return context


class SourcesReportMenuItem(MenuItem):
    """Shown under Reports to whoever may view bookings."""

    def is_shown(self, request):
        return booking_permission_policy.user_has_permission(request.user, "view")
