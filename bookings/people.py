"""
Data-subject requests in the workspace (/admin/bookings/people/): a practice admin enters an email
address and sees everything held about that person; downloads it (JSON, or a readable HTML summary);
or, after a confirmation step where the address is typed again, erases it (bookings/privacy.py).

Viewing needs the booking "view" permission, erasing the "change" permission. Each look at a person's
data is recorded in the history of every record shown, like opening a booking.
"""

import json
from urllib.parse import urlencode

from django import forms
from django.contrib import messages
from django.http import HttpResponse
from django.shortcuts import redirect
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from django.utils.decorators import method_decorator
from django.views.decorators.debug import sensitive_post_parameters
from django.views.generic import TemplateView

from wagtail.admin.views.generic.base import WagtailAdminTemplateMixin
from wagtail.admin.views.generic.permissions import PermissionCheckedMixin
from wagtail.permission_policies import ModelPermissionPolicy

from . import privacy, selectors, services
from .models import Booking


class PersonForm(forms.Form):
    email = forms.EmailField(
        label="Email address",
        max_length=254,
        help_text="The address the person used to book or to write to the practice.",
        widget=forms.EmailInput(attrs={"autocomplete": "off", "spellcheck": "false"}),
    )


class EraseForm(forms.Form):
    confirm_email = forms.CharField(
        label="Type the email address again to confirm",
        max_length=254,
        help_text="Erasing cannot be undone. The practice keeps only a record that an erasure took place.",
        widget=forms.TextInput(attrs={"autocomplete": "off", "spellcheck": "false"}),
    )

    def __init__(self, *args, email, **kwargs):
        self.email = email
        super().__init__(*args, **kwargs)

    def clean_confirm_email(self):
        typed = self.cleaned_data["confirm_email"].strip()
        if typed.lower() != self.email.lower():
            raise forms.ValidationError("This is not the same address; nothing was erased.")
        return typed


class PersonView(PermissionCheckedMixin, WagtailAdminTemplateMixin, TemplateView):
    permission_policy = ModelPermissionPolicy(Booking)
    permission_required = "view"
    template_name = "bookings/admin/person.html"
    page_title = "Data requests"
    header_icon = "user"

    def get_breadcrumbs_items(self):
        return self.breadcrumbs_items + [
            {"url": reverse("bookings_admin:index"), "label": "Bookings"},
            {"url": "", "label": self.page_title},
        ]

    def person(self):
        form = PersonForm(self.request.GET or None)
        if not form.is_valid():
            return form, None
        return form, privacy.person_find(email=form.cleaned_data["email"])

    @staticmethod
    def urls(person) -> dict:
        people, erase = reverse("bookings_admin:people"), reverse("bookings_admin:people_erase")
        query = {"email": person.email}
        return {
            "json": f"{people}?{urlencode({**query, 'download': 'json'})}",
            "html": f"{people}?{urlencode({**query, 'download': 'html'})}",
            "erase": f"{erase}?{urlencode(query)}",
            "back": f"{people}?{urlencode(query)}",
        }

    def record_look(self, person):
        now = timezone.now()
        for records in (person.bookings, person.enquiries):
            services.record_access(records, action=services.ACCESS_EVENTS["viewed"][0], user=self.request.user, now=now)

    def get(self, request, *args, **kwargs):
        form, person = self.person()
        download = request.GET.get("download")
        if person is not None and person.found:
            self.record_look(person)
            if download in ("json", "html"):
                return self.download(person, download)
        return self.render_to_response(
            self.get_context_data(
                form=form,
                person=person,
                urls=self.urls(person) if person else {},
                can_erase=self.user_has_permission("change"),
                zone=selectors.practice_zone(),
            )
        )

    def download(self, person, kind):
        data = privacy.person_export(email=person.email, now=timezone.now())
        stamp = timezone.now().strftime("%Y%m%d")
        if kind == "json":
            response = HttpResponse(
                json.dumps(data, indent=2, ensure_ascii=False), content_type="application/json; charset=utf-8"
            )
            extension = "json"
        else:
            response = HttpResponse(
                render_to_string("bookings/admin/person_summary.html", {"data": data}),
                content_type="text/html; charset=utf-8",
            )
            extension = "html"
        response["Content-Disposition"] = f'attachment; filename="data-request-{stamp}.{extension}"'
        response["Cache-Control"] = "no-store"
        return response


class EraseView(PersonView):
    permission_required = "change"
    template_name = "bookings/admin/person_erase.html"
    page_title = "Erase a person's details"

    def get(self, request, *args, **kwargs):
        _, person = self.person()
        if person is None or not person.found:
            messages.error(request, "Nothing is held about that address.")
            return redirect(reverse("bookings_admin:people"))
        return self.render_to_response(
            self.get_context_data(person=person, erase_form=EraseForm(email=person.email), urls=self.urls(person))
        )

    @method_decorator(sensitive_post_parameters("email", "confirm_email"))
    def post(self, request, *args, **kwargs):
        form = PersonForm(request.POST)
        if not form.is_valid():
            messages.error(request, "Nothing was erased: the address was missing or malformed.")
            return redirect(reverse("bookings_admin:people"))
        person = privacy.person_find(email=form.cleaned_data["email"])
        erase_form = EraseForm(request.POST, email=person.email)
        if not person.found or not erase_form.is_valid():
            return self.render_to_response(
                self.get_context_data(person=person, erase_form=erase_form, urls=self.urls(person)), status=400
            )
        result = privacy.person_erase(email=person.email, now=timezone.now(), user=request.user)
        messages.success(
            request,
            f"Erased: {result.bookings} booking(s) and {result.enquiries} enquiry(ies). "
            "Emails not yet sent to this address were cancelled.",
        )
        return redirect(reverse("bookings_admin:people"))
