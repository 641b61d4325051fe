"""
The second factor in the admin: set it up, pass it after the password, make new backup codes. And a
practice admin's calendar feed: the page that makes its secret address, and the feed itself.

Each view is thin: the checks and writes are in accounts/services.py. Pages that show the secret key,
backup codes or a calendar address are never cached, and a secret is shown only in the response
that made it. The feed is private: never stored by a shared cache, 404 for any address not in use.
"""

from base64 import b32encode

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils import timezone
from django.utils.decorators import method_decorator
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.safestring import mark_safe
from django.views import View
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST, require_safe

from wagtail.admin.views.generic import WagtailAdminTemplateMixin

import django_otp
import segno

from bookings import selectors as booking_selectors
from bookings.calendar_feed import practice_feed

from . import services
from .forms import EnrolForm, VerifyForm


def locked_out(request, original_response=None, credentials=None):
    """django-axes' answer to a sign-in while the account is locked for this address (AXES_LOCKOUT_CALLABLE)."""
    minutes = int(settings.AXES_COOLOFF_TIME.total_seconds() // 60)
    return render(request, "accounts/locked_out.html", {"minutes": minutes}, status=429)


def next_url(request) -> str:
    """Where to go after the second factor: the `next` address when it is on this site, else the dashboard."""
    url = request.POST.get("next") or request.GET.get("next") or ""
    if url_has_allowed_host_and_scheme(url, allowed_hosts={request.get_host()}, require_https=request.is_secure()):
        return url
    return reverse("wagtailadmin_home")


def secret_text(device) -> str:
    """The key as an app asks to have it typed: base32, in groups of four."""
    secret = b32encode(device.bin_key).decode().rstrip("=")
    return " ".join(secret[i : i + 4] for i in range(0, len(secret), 4))


def qr_svg(device) -> str:
    """The key as a QR code, drawn here as inline SVG: nothing is sent to another site."""
    svg = segno.make(device.config_url, error="m").svg_inline(
        scale=4, dark="#000", light="#fff", title="QR code with the key for your authenticator app", svgclass=None
    )
    return mark_safe(svg.replace("<svg ", '<svg role="img" ', 1))  # noqa: S308 (segno's own markup)


def second_factor_login(request, device):
    """Mark this session as having passed the second factor, under a new session key."""
    django_otp.login(request, device)
    request.session.cycle_key()


class SecondFactorMixin:
    def dispatch(self, request, *args, **kwargs):
        if not services.needs_second_factor(request.user):
            raise PermissionDenied
        return super().dispatch(request, *args, **kwargs)


@method_decorator(never_cache, name="dispatch")
class TwoFactorView(SecondFactorMixin, WagtailAdminTemplateMixin, View):
    """Set up the authenticator app (while there is none), or see that it is on and make new backup codes."""

    page_title = "Two-step verification"
    header_icon = "key"
    template_name = "accounts/two_factor.html"

    def get_breadcrumbs_items(self):
        return [*self.breadcrumbs_items, {"url": "", "label": self.page_title}]

    def get(self, request):
        return self.render(EnrolForm())

    def post(self, request):
        if services.app_device(request.user):
            return redirect("accounts:two_factor")
        form = EnrolForm(request.POST)
        if form.is_valid():
            device = services.enrolment_device(user=request.user)
            try:
                device, codes = services.second_factor_enrol(
                    user=request.user, device_id=device.pk, code=form.cleaned_data["code"]
                )
            except services.CodeRefusedError as error:
                form.refuse(error)
            else:
                second_factor_login(request, device)
                return backup_codes_response(request, codes, enrolled=True)
        return self.render(form)

    def render(self, form):
        user = self.request.user
        device = services.app_device(user)
        context = self.get_context_data(form=form, device=device, next=next_url(self.request))
        if device:
            context["backup_codes_left"] = services.backup_codes_left(user)
        else:
            pending = services.enrolment_device(user=user)
            context.update(secret=secret_text(pending), qr_code=qr_svg(pending))
        return self.render_to_response(context)


@method_decorator(never_cache, name="dispatch")
class VerifyView(SecondFactorMixin, View):
    """The second step of signing in: a code from the app, or a backup code."""

    template_name = "accounts/verify.html"

    def get(self, request):
        if request.user.is_verified() or not services.app_device(request.user):
            return redirect(next_url(request))
        return self.render(VerifyForm())

    def post(self, request):
        if request.user.is_verified():
            return redirect(next_url(request))
        form = VerifyForm(request.POST)
        if form.is_valid():
            try:
                device = services.second_factor_verify(user=request.user, code=form.cleaned_data["code"])
            except services.CodeRefusedError as error:
                form.refuse(error)
            else:
                second_factor_login(request, device)
                return redirect(next_url(request))
        return self.render(form)

    def render(self, form):
        return TemplateResponse(self.request, self.template_name, {"form": form, "next": next_url(self.request)})


@never_cache
@require_POST
def backup_codes(request):
    """New backup codes, replacing the old ones: shown once, in this response only."""
    if not services.needs_second_factor(request.user) or not services.app_device(request.user):
        raise PermissionDenied
    return backup_codes_response(request, services.backup_codes_replace(user=request.user), enrolled=False)


def backup_codes_response(request, codes, *, enrolled):
    context = {"codes": codes, "enrolled": enrolled, "next": next_url(request), "page_title": "Your backup codes"}
    return TemplateResponse(request, "accounts/backup_codes.html", context)


@method_decorator(never_cache, name="dispatch")
class CalendarFeedView(WagtailAdminTemplateMixin, View):
    """A practice admin's calendar address: whether she has one, and making or replacing it (shown once)."""

    page_title = "Calendar feed"
    header_icon = "calendar-alt"
    template_name = "accounts/calendar_feed.html"

    def dispatch(self, request, *args, **kwargs):
        if not services.can_have_calendar_feed(request.user):
            raise PermissionDenied
        return super().dispatch(request, *args, **kwargs)

    def get_breadcrumbs_items(self):
        return [*self.breadcrumbs_items, {"url": "", "label": self.page_title}]

    def get(self, request):
        return self.render()

    def post(self, request):
        replacing = services.calendar_feed_token(request.user) is not None
        token = services.calendar_feed_token_create(user=request.user, now=timezone.now(), actor=request.user)
        if replacing:
            messages.success(request, "Your calendar has a new address. The old address has stopped working.")
        else:
            messages.success(request, "Your calendar address is ready.")
        return self.render(new_url=services.calendar_feed_url(token))

    def render(self, new_url=""):
        context = self.get_context_data(feed=services.calendar_feed_token(self.request.user), new_url=new_url)
        return self.render_to_response(context)


@require_safe
def calendar_feed(request, token):
    """The feed at a practice admin's secret address; 404 unless the address is in use by someone allowed."""
    now = timezone.now()
    if services.calendar_feed_user(token=token, now=now) is None:
        raise Http404("No calendar at this address.")
    practice = booking_selectors.practice_settings()
    name = f"{practice.practice_name} consultations" if practice.practice_name else "Consultations"
    response = HttpResponse(practice_feed(now=now, calendar_name=name), content_type="text/calendar; charset=utf-8")
    # Client names are personal data: no shared cache may keep this, and no browser either.
    response["Cache-Control"] = "private, no-store"
    response["Content-Disposition"] = 'inline; filename="consultations.ics"'
    response["X-Robots-Tag"] = "noindex, nofollow"
    return response
