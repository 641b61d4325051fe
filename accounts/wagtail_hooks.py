"""Admin registration only: the two-step verification and calendar feed pages, their place in the account menu,
their log actions."""

from django.urls import include, path, reverse

from wagtail import hooks

from . import services, urls


@hooks.register("register_admin_urls")
def register_accounts_urls():
    # /admin/two-factor/… and /admin/calendar-feed/
    return [path("", include(urls))]


@hooks.register("register_account_menu_item")
def two_factor_account_menu_item(request):
    if services.needs_second_factor(request.user):
        return {
            "url": reverse("accounts:two_factor"),
            "label": "Two-step verification",
            "help_text": "Your authenticator app and backup codes: make new backup codes here.",
        }
    return None


@hooks.register("register_account_menu_item")
def calendar_feed_account_menu_item(request):
    if services.can_have_calendar_feed(request.user):
        return {
            "url": reverse("accounts:calendar_feed"),
            "label": "Calendar feed",
            "help_text": "Your consultations in your own calendar app (Google, Apple or Outlook), kept up to date.",
        }
    return None


@hooks.register("register_log_actions")
def register_two_factor_log_actions(actions):
    for action, label in services.LOG_ACTIONS.items():
        actions.register_action(action, label, label)
