"""
The second factor of whoever can see health details.

Who needs one: a user with `bookings.view_booking` or `bookings.view_enquiry` (the "Practice admins"
group; superusers hold every permission). Page editors never do.

A person has one authenticator app (a TOTP device: 6 digits, 30-second steps, one step of clock
drift either way, each code accepted once) and ten backup codes (a static device: 8 letters and
digits, each accepted once). A code of six digits is checked against the app, anything else against
the backup codes, so that a mistyped code throttles only the device it was meant for. django-otp
throttles each device: after n failures in a row, the next try waits 2^(n-1) seconds.

A practice admin's calendar feed (`/calendar/<token>.ics`): the token is 32 random bytes (43 URL-safe
characters), stored only as its SHA-256 hash, one per person. It is shown once when it is made;
making a new one replaces the old, whose address then gives 404. The address works only while its
owner is active and may see bookings (`bookings.view_booking`).
"""

import datetime as dt
import hashlib
import logging
import secrets

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import transaction
from django.urls import reverse

from wagtail.log_actions import log

from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from .models import CalendarFeedToken

logger = logging.getLogger(__name__)

HEALTH_DETAIL_PERMISSIONS = ("bookings.view_booking", "bookings.view_enquiry")
BACKUP_CODE_COUNT = 10
APP_DEVICE_NAME = "Authenticator app"
BACKUP_DEVICE_NAME = "Backup codes"
CALENDAR_FEED_PERMISSION = "bookings.view_booking"
# A calendar fetches the feed every few minutes; its last use is written at most this often.
LAST_USED_PRECISION = dt.timedelta(minutes=10)

LOG_ACTIONS = {
    "accounts.second_factor_enrol": "Set up two-step verification",
    "accounts.backup_codes_replace": "Made new backup codes",
    "accounts.calendar_feed_create": "Made a calendar address",
    "accounts.calendar_feed_replace": "Replaced the calendar address",
}


class CodeRefusedError(Exception):
    """The code did not match, or the device is resting after too many wrong codes (`throttled`)."""

    def __init__(self, *, throttled: bool = False):
        super().__init__("throttled" if throttled else "no match")
        self.throttled = throttled


def needs_second_factor(user) -> bool:
    return user.is_authenticated and any(user.has_perm(permission) for permission in HEALTH_DETAIL_PERMISSIONS)


def app_device(user) -> TOTPDevice | None:
    """The person's confirmed authenticator app, if they have set one up."""
    return TOTPDevice.objects.devices_for_user(user, confirmed=True).first()


def backup_codes_left(user) -> int:
    return StaticToken.objects.filter(device__user=user, device__confirmed=True).count()


def enrolment_device(*, user) -> TOTPDevice:
    """The unconfirmed app device whose key the enrolment page shows; the same one until confirmed."""
    device = TOTPDevice.objects.devices_for_user(user, confirmed=False).order_by("pk").first()
    return device or TOTPDevice.objects.create(user=user, name=APP_DEVICE_NAME, confirmed=False)


def _check(device, code: str) -> CodeRefusedError | None:
    """
    Check `code` against `device` (locked by the caller). The failure is returned, not raised, so
    that the caller's transaction commits django-otp's count of failures. The code is never logged.
    """
    allowed, _ = device.verify_is_allowed()
    if allowed and device.verify_token(code):
        return None
    logger.warning("A second-factor code was refused for user %s (%s)", device.user_id, device.name)
    return CodeRefusedError(throttled=not allowed)


def second_factor_enrol(*, user, device_id: int, code: str) -> tuple[TOTPDevice, list[str]]:
    """Confirm the app device with a current code from it; returns the device and fresh backup codes."""
    with transaction.atomic():
        device = TOTPDevice.objects.select_for_update().get(pk=device_id, user=user, confirmed=False)
        refused = _check(device, normalise_code(code))
        if not refused:
            device.confirmed = True
            device.save(update_fields=["confirmed"])
            TOTPDevice.objects.filter(user=user).exclude(pk=device.pk).delete()
            codes = _backup_codes_replace(user)
            log(instance=user, action="accounts.second_factor_enrol", user=user)
    if refused:
        raise refused
    return device, codes


def backup_codes_replace(*, user) -> list[str]:
    """New backup codes for the person; the old ones stop working."""
    with transaction.atomic():
        codes = _backup_codes_replace(user)
        log(instance=user, action="accounts.backup_codes_replace", user=user)
    return codes


def _backup_codes_replace(user) -> list[str]:
    StaticDevice.objects.filter(user=user).delete()
    device = StaticDevice.objects.create(user=user, name=BACKUP_DEVICE_NAME, confirmed=True)
    codes = [StaticToken.random_token() for _ in range(BACKUP_CODE_COUNT)]
    StaticToken.objects.bulk_create(StaticToken(device=device, token=code) for code in codes)
    return codes


def normalise_code(code: str) -> str:
    return "".join(code.split()).replace("-", "").lower()


def second_factor_verify(*, user, code: str):
    """The confirmed device that accepts `code` (six digits: the app; otherwise a backup code, used up)."""
    code = normalise_code(code)
    model = TOTPDevice if code.isdigit() and len(code) == 6 else StaticDevice
    with transaction.atomic():
        device = model.objects.devices_for_user(user, confirmed=True).select_for_update().first()
        refused = _check(device, code) if device else CodeRefusedError()
    if refused:
        raise refused
    return device


def can_have_calendar_feed(user) -> bool:
    return user.is_active and user.has_perm(CALENDAR_FEED_PERMISSION)


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def calendar_feed_token(user) -> CalendarFeedToken | None:
    """The person's current calendar address (its dates only: the secret itself is not kept)."""
    return CalendarFeedToken.objects.filter(user=user).first()


def calendar_feed_url(token: str) -> str:
    """The full address of the feed for `token`, as a calendar app needs it."""
    return settings.WAGTAILADMIN_BASE_URL.rstrip("/") + reverse("calendar_feed", args=[token])


def calendar_feed_token_create(*, user, now: dt.datetime, actor=None) -> str:
    """
    A new secret for the person's calendar feed, replacing any earlier one (whose address stops
    working at once). Returns the secret: it is not stored, so this is the only time it is known.
    `actor` is who did it, for the audit log: the person in the admin; None from a command.
    """
    token = secrets.token_urlsafe(32)
    with transaction.atomic():
        get_user_model().objects.select_for_update().filter(pk=user.pk).first()  # one change at a time
        replaced = CalendarFeedToken.objects.filter(user=user).update(
            token_hash=_token_hash(token), created_at=now, last_used_at=None
        )
        if not replaced:
            CalendarFeedToken.objects.create(user=user, token_hash=_token_hash(token), created_at=now)
        action = "accounts.calendar_feed_replace" if replaced else "accounts.calendar_feed_create"
        log(instance=user, action=action, user=actor)
    return token


def calendar_feed_user(*, token: str, now: dt.datetime):
    """The person whose feed `token` opens, or None: no such token, or its owner may no longer see bookings."""
    feed = CalendarFeedToken.objects.select_related("user").filter(token_hash=_token_hash(token)).first()
    if feed is None or not can_have_calendar_feed(feed.user):
        return None
    if feed.last_used_at is None or now - feed.last_used_at >= LAST_USED_PRECISION:
        CalendarFeedToken.objects.filter(pk=feed.pk).update(last_used_at=now)
    return feed.user
