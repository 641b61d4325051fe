"""
The practitioner's agenda in the admin (/admin/bookings/agenda/): a day or a week of local days in
the practice's zone, with the opening hours, the time off and the consultations of each day.

Query: `?view=day|week` (day unless "week") and `?date=YYYY-MM-DD` (today in the practice's zone
unless a valid date). A week runs Monday to Sunday. Health details are never shown here.
"""

import datetime as dt
from urllib.parse import urlencode

from django.urls import reverse
from django.utils import timezone
from django.utils.functional import cached_property
from django.views.generic import TemplateView

from wagtail.admin.views.generic.base import WagtailAdminTemplateMixin
from wagtail.admin.views.generic.permissions import PermissionCheckedMixin
from wagtail.permission_policies import ModelPermissionPolicy

from . import selectors
from .models import Booking

DAY, WEEK = "day", "week"
# Dates outside this range fall back to today: far enough for any practice, and a step either
# side can never overflow the date type.
EARLIEST_DAY, LATEST_DAY = dt.date(1900, 1, 1), dt.date(2999, 12, 31)


def parse_day(value: str | None, *, default: dt.date) -> dt.date:
    """The YYYY-MM-DD date in `value`, or `default` for anything missing, malformed or out of range."""
    try:
        day = dt.datetime.strptime(value or "", "%Y-%m-%d").date()
    except ValueError:
        return default
    return day if EARLIEST_DAY <= day <= LATEST_DAY else default


def describe_range(first_day: dt.date, last_day: dt.date) -> str:
    if first_day == last_day:
        return f"{first_day:%A %-d %B %Y}"
    if first_day.year == last_day.year:
        return f"week of {first_day:%-d %B} to {last_day:%-d %B %Y}"
    return f"week of {first_day:%-d %B %Y} to {last_day:%-d %B %Y}"


class AgendaView(PermissionCheckedMixin, WagtailAdminTemplateMixin, TemplateView):
    # The same policy as the bookings viewset's: only those who may view bookings see the agenda.
    permission_policy = ModelPermissionPolicy(Booking)
    permission_required = "view"
    template_name = "bookings/admin/agenda.html"
    page_title = "Agenda"
    header_icon = "calendar"
    index_url_name = "bookings_admin:index"
    agenda_url_name = "bookings_admin:agenda"

    def setup(self, request, *args, **kwargs):
        super().setup(request, *args, **kwargs)
        self.now = timezone.now()
        self.mode = WEEK if request.GET.get("view") == WEEK else DAY

    @cached_property
    def zone(self):
        return selectors.practice_zone()

    @cached_property
    def today(self) -> dt.date:
        return self.now.astimezone(self.zone).date()

    @cached_property
    def anchor(self) -> dt.date:
        """The day asked for: the day shown, or a day of the week shown."""
        return parse_day(self.request.GET.get("date"), default=self.today)

    @cached_property
    def first_day(self) -> dt.date:
        if self.mode == WEEK:
            return self.anchor - dt.timedelta(days=self.anchor.weekday())
        return self.anchor

    @cached_property
    def last_day(self) -> dt.date:
        return self.first_day + dt.timedelta(days=6 if self.mode == WEEK else 0)

    @property
    def step(self) -> dt.timedelta:
        return dt.timedelta(days=7 if self.mode == WEEK else 1)

    def agenda_url(self, *, mode: str, day: dt.date | None = None) -> str:
        query = {"view": mode}
        if day is not None:
            query["date"] = day.isoformat()
        return f"{reverse(self.agenda_url_name)}?{urlencode(query)}"

    def get_page_subtitle(self):
        return describe_range(self.first_day, self.last_day)

    def get_breadcrumbs_items(self):
        return self.breadcrumbs_items + [
            {"url": reverse(self.index_url_name), "label": "Bookings"},
            {"url": "", "label": "Agenda"},
        ]

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        unit = "week" if self.mode == WEEK else "day"
        context.update(
            zone=self.zone,
            mode=self.mode,
            today=self.today,
            anchor=self.anchor,
            first_day=self.first_day,
            last_day=self.last_day,
            shows_today=self.first_day <= self.today <= self.last_day,
            range_label=describe_range(self.first_day, self.last_day),
            unit=unit,
            previous_url=self.agenda_url(mode=self.mode, day=self.first_day - self.step),
            today_url=self.agenda_url(mode=self.mode),
            next_url=self.agenda_url(mode=self.mode, day=self.first_day + self.step),
            day_url=self.agenda_url(mode=DAY, day=self.anchor),
            week_url=self.agenda_url(mode=WEEK, day=self.anchor),
            days=selectors.agenda_days(first_day=self.first_day, last_day=self.last_day, zone=self.zone),
        )
        return context
