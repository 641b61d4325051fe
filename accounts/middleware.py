"""
The second factor, enforced for the whole admin in one place.

Whoever can see health details (accounts.services.needs_second_factor) and has not yet passed the
second factor in this session reaches only: the enrolment page while they have no authenticator app,
the verification page once they have one, and signing out. Every other admin address redirects there
and comes back afterwards. Page editors pass straight through; visitors who are not signed in are
left to Wagtail, which sends them to the login page.
"""

from urllib.parse import urlencode

from django.conf import settings
from django.shortcuts import redirect
from django.urls import Resolver404, resolve, reverse
from django.utils.functional import LazyObject, SimpleLazyObject, empty

from . import services

# Reachable before the second factor: signing in and out, and what the pages themselves load.
OPEN_VIEWS = {
    "wagtailadmin_login",
    "wagtailadmin_logout",
    "wagtailadmin_javascript_catalog",
    "wagtailadmin_sprite",
    "wagtailadmin_password_reset",
    "wagtailadmin_password_reset_done",
    "wagtailadmin_password_reset_confirm",
    "wagtailadmin_password_reset_complete",
}


def unwrapped(user):
    while isinstance(user, LazyObject):
        if user._wrapped is empty:
            user._setup()
        user = user._wrapped
    return user


class SecondFactorMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        # django-otp wraps Django's lazy request.user in a second lazy object; Wagtail's audit log
        # looks through only one, and would drop `log(request.user, …)` (the account page's entry).
        lazy_user = request.user
        request.user = SimpleLazyObject(lambda: unwrapped(lazy_user))
        if request.path_info.startswith(settings.ADMIN_PATH_PREFIXES):
            step = self.step_required(request)
            if step and self.view_name(request) not in OPEN_VIEWS | {step}:
                return redirect(f"{reverse(step)}?{urlencode({'next': request.get_full_path()})}")
        return self.get_response(request)

    @staticmethod
    def step_required(request) -> str | None:
        """The URL name of the page the person must go through first, or None."""
        user = request.user
        if not services.needs_second_factor(user) or user.is_verified():
            return None
        return "accounts:verify" if services.app_device(user) else "accounts:two_factor"

    @staticmethod
    def view_name(request) -> str:
        try:
            match = resolve(request.path_info)
        except Resolver404:
            return ""
        return match.view_name
