"""
The practice admins' workspace in the Wagtail admin, and the booking set-up screens.

Bookings (/admin/bookings/) and enquiries (/admin/enquiries/) are ModelViewSets: Wagtail's own
listing (columns, filters, search, sorting, pagination, CSV and XLSX export), inspect view and
history. They have no add, edit or delete views: a booking or an enquiry changes only through the
actions declared in bookings/services.py (BOOKING_ACTIONS, ENQUIRY_ACTIONS). ActionView serves
every action of those tables: a permission check ("change"), the service, an audit entry and a
message. Viewing needs the "view" permission, which only the Practice admins group holds.

Exported cells that a spreadsheet would read as a formula (starting with =, +, -, @, a tab or a
carriage return) are prefixed with an apostrophe, so a client's name cannot run one.
"""

import datetime as dt

from django import forms
from django.contrib import messages
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect
from django.urls import path, reverse
from django.utils import timezone
from django.utils.decorators import method_decorator
from django.utils.functional import cached_property
from django.views.decorators.debug import sensitive_post_parameters, sensitive_variables
from django.views.generic import TemplateView

from wagtail.admin.filters import DateRangePickerWidget, WagtailFilterSet
from wagtail.admin.menu import MenuItem
from wagtail.admin.views.generic import IndexView, InspectView
from wagtail.admin.views.generic.base import WagtailAdminTemplateMixin
from wagtail.admin.views.generic.permissions import PermissionCheckedMixin
from wagtail.admin.viewsets.model import ModelViewSet
from wagtail.admin.widgets import Button
from wagtail.admin.widgets.button import HeaderButton
from wagtail.models import ModelLogEntry
from wagtail.permission_policies import ModelPermissionPolicy
from wagtail.snippets.views.chooser import (
    ChooseResultsView,
    ChooseView,
    SnippetChooserViewSet,
    SnippetChosenMultipleView,
    SnippetChosenView,
)
from wagtail.snippets.views.snippets import SnippetViewSet, SnippetViewSetGroup

import django_filters

from calendars.viewsets import BusyCalendarViewSet, ExtraOpeningViewSet
from intake.viewsets import IntakeQuestionViewSet

from . import selectors, services
from .agenda import AgendaView
from .models import (
    AvailabilityWindow,
    Booking,
    BookingStatus,
    ConsultationType,
    Enquiry,
    EnquiryStatus,
    EnquiryTopic,
    TimeOff,
)
from .people import EraseView, PersonView
from .reports import SourcesReportView

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def spreadsheet_safe(value: str) -> str:
    """
    Text a spreadsheet shows as text: a value whose first character (after any spaces or line breaks,
    which spreadsheets skip) could start a formula gets an apostrophe before it.
    """
    risky = value.startswith(FORMULA_STARTS) or value.lstrip(" \t\r\n").startswith(FORMULA_STARTS)
    return "'" + value if risky else value


class SafeExportMixin:
    """Wagtail's listing export, with every text cell neutralised and times in the practice's zone."""

    export_times = ()  # fields exported as local date and time text

    @cached_property
    def zone(self):
        return selectors.practice_zone()

    def to_row_dict(self, item):
        row = super().to_row_dict(item)
        for field in self.export_times:
            value = row.get(field)
            if value is not None:
                row[field] = f"{value.astimezone(self.zone):%Y-%m-%d %H:%M}"
        return row

    def as_spreadsheet(self, queryset, spreadsheet_format):
        """The export, recorded in each exported record's history (who looked)."""
        services.record_access(
            queryset,
            action=services.ACCESS_EVENTS["exported"][0],
            user=self.request.user,
            now=timezone.now(),
            format=spreadsheet_format,
        )
        return super().as_spreadsheet(queryset, spreadsheet_format)

    def preprocess_field_value(self, field, value, export_format):
        value = super().preprocess_field_value(field, value, export_format)
        return spreadsheet_safe(value) if isinstance(value, str) else value


def _in_practice_days(queryset, field, value, zone):
    """Filter `field` to the practice's local days value.start … value.stop (either may be open)."""
    if value.start:
        queryset = queryset.filter(**{f"{field}__gte": dt.datetime.combine(value.start, dt.time.min, tzinfo=zone)})
    if value.stop:
        end = dt.datetime.combine(value.stop + dt.timedelta(days=1), dt.time.min, tzinfo=zone)
        queryset = queryset.filter(**{f"{field}__lt": end})
    return queryset


def _source_choices(model):
    return lambda: [(source, source) for source in selectors.source_pages(model)]


class BookingFilterSet(WagtailFilterSet):
    status = django_filters.MultipleChoiceFilter(
        choices=BookingStatus.choices, widget=forms.CheckboxSelectMultiple, label="Status"
    )
    consultation_type = django_filters.ModelChoiceFilter(
        queryset=ConsultationType.objects.all(), label="Consultation type"
    )
    starts_at = django_filters.DateFromToRangeFilter(
        label="Date of the consultation", widget=DateRangePickerWidget, method="filter_days"
    )
    source_page = django_filters.ChoiceFilter(choices=_source_choices(Booking), label="Came from")

    class Meta:
        model = Booking
        fields = ["status", "consultation_type", "starts_at", "source_page"]

    def filter_days(self, queryset, name, value):
        return _in_practice_days(queryset, name, value, selectors.practice_zone())


class EnquiryFilterSet(WagtailFilterSet):
    status = django_filters.MultipleChoiceFilter(
        choices=EnquiryStatus.choices, widget=forms.CheckboxSelectMultiple, label="Status"
    )
    topic = django_filters.ChoiceFilter(choices=EnquiryTopic.choices, label="Topic")
    created_at = django_filters.DateFromToRangeFilter(
        label="Received", widget=DateRangePickerWidget, method="filter_days"
    )
    source_page = django_filters.ChoiceFilter(choices=_source_choices(Enquiry), label="Came from")

    class Meta:
        model = Enquiry
        fields = ["status", "topic", "created_at", "source_page"]

    def filter_days(self, queryset, name, value):
        return _in_practice_days(queryset, name, value, selectors.practice_zone())


class WorkspaceIndexView(SafeExportMixin, IndexView):
    """A listing of the workspace: a local-time first column that links to the record's inspect view."""

    time_field = ""
    time_label = ""
    column_labels = {}
    actions = {}
    action_url_name = None

    def local_time(self, instance):
        return f"{getattr(instance, self.time_field).astimezone(self.zone):%a %-d %b %Y, %H:%M}"

    @cached_property
    def columns(self):
        first = self._get_title_column(self.time_field)
        first.label = f"{self.time_label} ({self.zone.key})"
        first.accessor = self.local_time
        columns = [first]
        for name in self.list_display[1:]:
            column = self._get_custom_column(name)
            column.label = self.column_labels.get(name, column.label)
            columns.append(column)
        return columns

    def get_list_more_buttons(self, instance):
        """Inspect, then the actions allowed now, each opening its own page (where a click asks to confirm)."""
        buttons = super().get_list_more_buttons(instance)
        if self.user_has_permission("change"):
            now = timezone.now()
            buttons += [
                Button(
                    action.label,
                    url=reverse(self.action_url_name, args=[instance.pk, action.name]),
                    icon_name=action.icon,
                    priority=30 + position,
                )
                for position, action in enumerate(self.actions.values())
                if action.allowed(instance, now=now)
            ]
        return buttons


class BookingIndexView(WorkspaceIndexView):
    time_field = "starts_at"
    time_label = "When"
    column_labels = {"name": "Client", "source_page": "Came from", "consultation_type": "Consultation"}
    export_times = ("starts_at", "created_at")

    def get_base_queryset(self):
        # The listing never shows the reason: not loading it also keeps one unreadable value from
        # taking the whole listing down.
        return super().get_base_queryset().select_related("consultation_type").defer("reason")

    @cached_property
    def header_buttons(self):
        agenda = HeaderButton("Agenda", url=reverse("bookings_admin:agenda"), icon_name="calendar")
        people = HeaderButton("Data requests", url=reverse("bookings_admin:people"), icon_name="user")
        return [*super().header_buttons, agenda, people]


class EnquiryIndexView(WorkspaceIndexView):
    time_field = "created_at"
    time_label = "Received"
    column_labels = {"name": "Sender", "source_page": "Came from"}
    export_times = ("created_at",)


class WorkspaceInspectView(InspectView):
    """Everything about one booking or enquiry, with its actions, emails, notes and history."""

    actions = {}
    action_url_name = None
    history_url_name = None

    def get_object(self, queryset=None):
        return get_object_or_404(self.model, pk=self.pk)

    def get(self, request, *args, **kwargs):
        # Who looked: this page shows health details, so each opening is recorded in the history.
        services.record_access(
            [self.object], action=services.ACCESS_EVENTS["viewed"][0], user=request.user, now=timezone.now()
        )
        return super().get(request, *args, **kwargs)

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        now = timezone.now()
        obj = self.object
        can_change = self.user_has_permission("change")
        actions = [
            {"action": action, "url": reverse(self.action_url_name, args=[obj.pk, action.name])}
            for action in self.actions.values()
            if can_change and action.allowed(obj, now=now) and action.name != "note"
        ]
        note_action = self.actions.get("note")
        can_note = can_change and note_action is not None and note_action.allowed(obj, now=now)
        context.update(
            zone=selectors.practice_zone(),
            actions=actions,
            seen=obj.updated_at.isoformat(),
            note_url=reverse(self.action_url_name, args=[obj.pk, "note"]) if can_note else None,
            note_form=note_action.form_class(instance=obj, now=now) if can_note else None,
            notes=obj.notes.select_related("author"),
            emails=obj.notifications.select_related("author").order_by("created_at", "pk"),
            history=history_of(obj),
            history_url=reverse(self.history_url_name, args=[obj.pk]),
            related_bookings=Booking.objects.filter(email__iexact=obj.email or None)
            .exclude(pk=obj.pk if isinstance(obj, Booking) else None)
            .select_related("consultation_type")
            .order_by("-starts_at")[:20],
            related_enquiries=Enquiry.objects.filter(email__iexact=obj.email or None)
            .exclude(pk=obj.pk if isinstance(obj, Enquiry) else None)
            .order_by("-created_at")[:20],
        )
        return context


class BookingInspectView(WorkspaceInspectView):
    page_title = "Booking"
    template_name = "bookings/admin/booking_inspect.html"
    actions = services.BOOKING_ACTIONS

    def get_object(self, queryset=None):
        return get_object_or_404(Booking.objects.select_related("consultation_type"), pk=self.pk)

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        booking = self.object
        context["visitor_zone"] = selectors.zone_or_default(booking.visitor_time_zone, context["zone"])
        hints = [
            f"{action.label}: available {action.when_hint}."
            for action in self.actions.values()
            if action.when and booking.status in action.allowed_from and not action.allowed(booking, now=timezone.now())
        ]
        context["action_hints"] = hints
        return context


class EnquiryInspectView(WorkspaceInspectView):
    page_title = "Enquiry"
    template_name = "bookings/admin/enquiry_inspect.html"
    actions = services.ENQUIRY_ACTIONS


def history_of(obj) -> list[dict]:
    """The audit log of a booking or an enquiry, oldest first, each entry with who did it."""
    entries = ModelLogEntry.objects.for_instance(obj).select_related("user").order_by("timestamp", "pk")
    rows = []
    for entry in entries:
        actor = (entry.data or {}).get("actor")
        if entry.user_id:
            who = entry.user.get_full_name() or entry.user.get_username()
        elif actor == "client":
            who = "The client"
        else:
            who = "The system"
        detail = (entry.data or {}).get("email") or (entry.data or {}).get("format", "").upper()
        rows.append({"timestamp": entry.timestamp, "message": entry.message, "who": who, "detail": detail})
    return rows


class ActionView(PermissionCheckedMixin, WagtailAdminTemplateMixin, TemplateView):
    """
    One action from an actions table, on one record: GET shows its form (or asks to confirm), POST
    runs it. A refused action (not allowed in the current state, changed in another tab, the time
    was taken) shows the reason and changes nothing.
    """

    permission_required = "change"
    template_name = "bookings/admin/action.html"
    model = None
    actions = {}
    inspect_url_name = None
    index_url_name = None
    header_icon = ""

    def setup(self, request, *args, **kwargs):
        super().setup(request, *args, **kwargs)
        self.action = self.actions.get(kwargs["action"])
        if self.action is None:
            raise Http404("No such action.")
        self.now = timezone.now()

    def get_object(self):
        queryset = self.model.objects.all()
        if self.model is Booking:
            queryset = queryset.select_related("consultation_type")
        return get_object_or_404(queryset, pk=self.kwargs["pk"])

    def get_page_title(self):
        return self.action.label

    def get_page_subtitle(self):
        return str(self.object.reference)

    def get_breadcrumbs_items(self):
        return self.breadcrumbs_items + [
            {"url": reverse(self.index_url_name), "label": self.model._meta.verbose_name_plural.capitalize()},
            {"url": self.inspect_url, "label": self.object.reference},
            {"url": "", "label": self.action.label},
        ]

    @cached_property
    def inspect_url(self):
        return reverse(self.inspect_url_name, args=[self.object.pk])

    def make_form(self, data=None):
        if self.action.form_class is None:
            return None
        return self.action.form_class(data, instance=self.object, now=self.now, params=self.request.GET)

    def refuse(self, text):
        messages.error(self.request, text)
        return redirect(self.inspect_url)

    def get(self, request, *args, **kwargs):
        self.object = self.get_object()
        if not self.action.allowed(self.object, now=self.now):
            return self.refuse(self.not_allowed_message())
        return self.render_to_response(self.get_context_data(form=self.make_form()))

    @method_decorator(sensitive_post_parameters("message", "text"))  # the practice's words stay out of reports
    @method_decorator(sensitive_variables("form", "data"))
    def post(self, request, *args, **kwargs):
        self.object = self.get_object()
        if not self.action.allowed(self.object, now=self.now):
            return self.refuse(self.not_allowed_message())
        form = self.make_form(request.POST)
        if form is not None and not form.is_valid():
            return self.render_to_response(self.get_context_data(form=form), status=400)
        data = dict(form.cleaned_data) if form is not None else {}
        try:
            self.action.run(self.object, now=self.now, user=request.user, data=data, seen=request.POST.get("seen"))
        except services.BookingError as error:
            messages.error(request, f"Nothing was changed: {error}")
            if form is not None and self.action.name == "move" and not isinstance(error, services.StaleError):
                # Show the times again, now without the one just taken.
                return self.render_to_response(self.get_context_data(form=self.make_form()), status=409)
            return redirect(self.inspect_url)
        messages.success(request, self.action.message.format(reference=self.object.reference))
        return redirect(self.inspect_url)

    def not_allowed_message(self):
        status = self.object.get_status_display().lower()
        if self.object.status in self.action.allowed_from and self.action.when_hint:
            return f"“{self.action.label}” is available {self.action.when_hint}."
        return f"“{self.action.label}” is not possible for a {status} {self.model._meta.verbose_name}."

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context.update(
            object=self.object,
            action=self.action,
            inspect_url=self.inspect_url,
            seen=self.object.updated_at.isoformat(),
            zone=selectors.practice_zone(),
        )
        return context


class CountMenuItem(MenuItem):
    """A menu item whose label carries how many records wait for the practice: "Bookings (2 waiting)"."""

    def __init__(self, *args, count=None, permission_policy=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.count = count
        self.permission_policy = permission_policy

    def is_shown(self, request):
        return self.permission_policy.user_has_permission(request.user, "view")

    def render_component(self, request):
        component = super().render_component(request)
        waiting = self.count()
        if waiting:
            component.label = f"{self.label} ({waiting} waiting)"
        return component


class WorkspaceViewSet(ModelViewSet):
    """Listing, inspect, history and the actions table of one kind of record; nothing else."""

    add_to_admin_menu = True
    inspect_view_enabled = True
    copy_view_enabled = False
    search_backend_name = None
    list_per_page = 25
    action_view_class = ActionView
    actions = {}
    waiting = None  # a callable counting what waits for the practice

    def get_common_view_kwargs(self, **kwargs):
        view_kwargs = super().get_common_view_kwargs(**kwargs)
        for name in ("add_url_name", "edit_url_name", "delete_url_name", "usage_url_name", "copy_url_name"):
            view_kwargs[name] = None
        return view_kwargs

    def get_index_view_kwargs(self, **kwargs):
        return super().get_index_view_kwargs(
            actions=self.actions, action_url_name=self.get_url_name("action"), **kwargs
        )

    def get_inspect_view_kwargs(self, **kwargs):
        return super().get_inspect_view_kwargs(
            action_url_name=self.get_url_name("action"), history_url_name=self.get_url_name("history"), **kwargs
        )

    @property
    def action_view(self):
        return self.construct_view(
            self.action_view_class,
            model=self.model,
            actions=self.actions,
            inspect_url_name=self.get_url_name("inspect"),
            index_url_name=self.get_url_name("index"),
        )

    def get_urlpatterns(self):
        return [
            path("", self.index_view, name="index"),
            path("results/", self.index_results_view, name="index_results"),
            path("inspect/<int:pk>/", self.inspect_view, name="inspect"),
            path("history/<int:pk>/", self.history_view, name="history"),
            path("history-results/<int:pk>/", self.history_results_view, name="history_results"),
            path("<int:pk>/<slug:action>/", self.action_view, name="action"),
        ]

    def get_permissions_to_register(self):
        return super().get_permissions_to_register().filter(codename__in=self._permission_codenames())

    def _permission_codenames(self):
        name = self.model._meta.model_name
        return [f"view_{name}", f"change_{name}"]

    def get_menu_item(self, order=None):
        return CountMenuItem(
            self.menu_label,
            self.menu_url,
            name=self.menu_name,
            icon_name=self.menu_icon,
            order=order if order is not None else self.menu_order,
            count=self.waiting,
            permission_policy=self.permission_policy,
        )


class BookingViewSet(WorkspaceViewSet):
    model = Booking
    icon = "calendar-check"
    menu_label = "Bookings"
    menu_order = 150
    url_prefix = "bookings"
    url_namespace = "bookings_admin"
    index_view_class = BookingIndexView
    inspect_view_class = BookingInspectView
    list_display = ["starts_at", "reference", "consultation_type", "name", "status", "source_page"]
    filterset_class = BookingFilterSet
    search_fields = ["reference", "name", "email"]
    ordering = ["-starts_at"]
    list_export = [
        "reference",
        "starts_at",
        "consultation_type",
        "status",
        "name",
        "email",
        "phone",
        "contact_method",
        "source_page",
        "created_at",
    ]
    export_headings = {"starts_at": "When (practice time)", "created_at": "Requested", "name": "Client"}
    export_filename = "bookings"
    actions = services.BOOKING_ACTIONS

    @staticmethod
    def waiting():
        return Booking.objects.filter(status=BookingStatus.PENDING).count()

    def get_urlpatterns(self):
        return super().get_urlpatterns() + [
            path("agenda/", AgendaView.as_view(), name="agenda"),
            path("sources/", SourcesReportView.as_view(), name="sources"),
            path("people/", PersonView.as_view(), name="people"),
            path("people/erase/", EraseView.as_view(), name="people_erase"),
        ]


class EnquiryViewSet(WorkspaceViewSet):
    model = Enquiry
    icon = "mail"
    menu_label = "Enquiries"
    menu_order = 151
    url_prefix = "enquiries"
    url_namespace = "enquiries"
    index_view_class = EnquiryIndexView
    inspect_view_class = EnquiryInspectView
    list_display = ["created_at", "reference", "name", "topic", "status", "source_page"]
    filterset_class = EnquiryFilterSet
    search_fields = ["reference", "name", "email"]
    ordering = ["-created_at"]
    list_export = ["reference", "created_at", "status", "topic", "name", "email", "phone", "source_page"]
    export_headings = {"created_at": "Received", "name": "Sender"}
    export_filename = "enquiries"
    actions = services.ENQUIRY_ACTIONS

    @staticmethod
    def waiting():
        return Enquiry.objects.unanswered().count()


booking_viewset = BookingViewSet()
enquiry_viewset = EnquiryViewSet()


# Booking set-up: what can be booked and when.


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


class ModelPermissionRequiredMixin(PermissionCheckedMixin):
    """A chooser view for users who hold a permission on the model, as its snippet listing asks."""

    any_permission_required = ["add", "change", "delete", "view"]


class SetupChooseView(ModelPermissionRequiredMixin, ChooseView):
    pass


class SetupChooseResultsView(ModelPermissionRequiredMixin, ChooseResultsView):
    pass


class SetupChosenView(ModelPermissionRequiredMixin, SnippetChosenView):
    pass


class SetupChosenMultipleView(ModelPermissionRequiredMixin, SnippetChosenMultipleView):
    pass


class SetupChooserViewSet(SnippetChooserViewSet):
    """
    Wagtail's snippet choosers list every row to anyone who can open the admin; these ask for a
    permission on the model first. (Their "create" view already asks for the add permission.)
    """

    choose_view_class = SetupChooseView
    choose_results_view_class = SetupChooseResultsView
    chosen_view_class = SetupChosenView
    chosen_multiple_view_class = SetupChosenMultipleView

    @cached_property
    def permission_policy(self):
        return ModelPermissionPolicy(self.model)


class BookingSetupViewSetGroup(SnippetViewSetGroup):
    items = (
        ConsultationTypeViewSet,
        IntakeQuestionViewSet,
        AvailabilityWindowViewSet,
        ExtraOpeningViewSet,
        TimeOffViewSet,
        BusyCalendarViewSet,
    )
    menu_icon = "calendar-alt"
    menu_label = "Booking set-up"
    menu_name = "booking-setup"
    # Booking set-up is the practice admins' (time off, opening hours, busy calendars …): its choosers
    # need a permission on the model. Page editors choose consultation types for an article's call to
    # action, so that chooser stays open to everyone who can use the admin.
    choosers_open_to_editors = (ConsultationType,)

    def __init__(self):
        super().__init__()
        for viewset in self.registerables:
            if viewset.model not in self.choosers_open_to_editors:
                viewset.chooser_viewset_class = SetupChooserViewSet
