"""
The second factor of whoever can see health details.

Who needs one: a user with `bookings.view_booking` or `bookings.view_enquiry` (the "Practice admins"
group; superusers hold every permission). Page editors never do.

A person has one authenticator app (a TOTP device: 6 digits, 30-second steps, one step of clock
drift either way, each code accepted once) and ten backup codes (a static device: 8 letters and
digits, each accepted once). A code of six digits is checked against the app, anything else against
the backup codes, so that a mistyped code throttles only the device it was meant for. django-otp
throttles each device: after n failures in a row, the next try waits 2^(n-1) seconds.
"""

import logging

from django.db import transaction

from wagtail.log_actions import log

from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

logger = logging.getLogger(__name__)

HEALTH_DETAIL_PERMISSIONS = ("bookings.view_booking", "bookings.view_enquiry")
BACKUP_CODE_COUNT = 10
APP_DEVICE_NAME = "Authenticator app"
BACKUP_DEVICE_NAME = "Backup codes"

LOG_ACTIONS = {
    "accounts.second_factor_enrol": "Set up two-step verification",
    "accounts.backup_codes_replace": "Made new backup codes",
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
