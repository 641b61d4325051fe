"""
Signing in to the admin: lockout after wrong passwords (django-axes), the second factor for whoever
can see health details (django-otp), sessions that end, and passwords that are hard to guess.

The clock is held still with time_machine: lockouts, sessions and authenticator codes all read it.
"""

import datetime as dt
import io
import logging
import re
from base64 import b32encode

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.password_validation import validate_password
from django.core import mail
from django.core.exceptions import ValidationError
from django.core.management import call_command

from wagtail.models import ModelLogEntry
from wagtail.test.utils.form_data import querydict_from_html

import pytest
import time_machine
from django_otp.oath import TOTP
from django_otp.plugins.otp_static.models import StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from accounts import services
from tests.conftest import app_device, totp_code

START = dt.datetime(2026, 3, 2, 9, 0, 5, tzinfo=dt.UTC)
PASSWORD = "a-long-assistant-passphrase"  # the practice_admin fixture's
ENROL = "/admin/two-factor/"
VERIFY = "/admin/two-factor/verify/"
LOCKED_TEXT = "Account locked for a while"


@pytest.fixture
def clock():
    with time_machine.travel(START, tick=False) as traveller:
        yield traveller


def sign_in(client, username, password=PASSWORD, next_url="/admin/", **extra):
    return client.post("/admin/login/", {"username": username, "password": password, "next": next_url}, **extra)


def is_signed_in(client) -> bool:
    return "_auth_user_id" in client.session


def wrong_code(device) -> str:
    """A six-digit code that none of the steps the server accepts (now, one before, one after) shows."""
    accepted = {TOTP(device.bin_key, drift=drift).token() for drift in (-1, 0, 1)}
    return next(f"{n:06d}" for n in range(10**6) if n not in accepted)


def backup_codes_in(page: str) -> list[str]:
    return re.findall(r"<li><code>([a-z2-7]{8})</code></li>", page)


# Lockout ------------------------------------------------------------------------------------------


def lock_out(client, username):
    """Wrong passwords up to the limit; returns the answer to the last one."""
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        response = sign_in(client, username, "not-the-password")
        assert response.status_code == 200 and "Please try again" in response.content.decode()
    return sign_in(client, username, "not-the-password")


def assert_locked_page(response):
    assert response.status_code == 429
    page = response.content.decode()
    assert LOCKED_TEXT in page
    assert "ask the practice’s administrator" in page
    assert f"{settings.AXES_COOLOFF_TIME.total_seconds() // 60:.0f} minutes" in page
    assert 'name="password"' not in page


@pytest.mark.django_db
def test_defaults_lock_after_five_wrong_passwords_for_thirty_minutes():
    assert settings.AXES_FAILURE_LIMIT == 5
    assert settings.AXES_COOLOFF_TIME.total_seconds() == 30 * 60
    assert settings.AXES_LOCKOUT_PARAMETERS == [["username", "ip_address"]]
    assert settings.AXES_HANDLER == "axes.handlers.database.AxesDatabaseHandler"
    assert settings.AUTHENTICATION_BACKENDS[0] == "axes.backends.AxesStandaloneBackend"


@pytest.mark.django_db
def test_wrong_passwords_lock_the_account_and_even_the_right_password_is_refused(client, page_editor, clock):
    assert_locked_page(lock_out(client, "editor"))

    response = sign_in(client, "editor", "a-long-editor-passphrase")
    assert_locked_page(response)
    assert not is_signed_in(client)

    # The lock is on this username from this address: another address may still sign in.
    other = sign_in(client, "editor", "a-long-editor-passphrase", REMOTE_ADDR="192.0.2.7")
    assert other.status_code == 302 and is_signed_in(client)


@pytest.mark.django_db
def test_the_unlock_command_lifts_the_lock(client, page_editor, clock):
    lock_out(client, "editor")
    out = io.StringIO()
    call_command("axes_reset_username", "editor", stdout=out)
    response = sign_in(client, "editor", "a-long-editor-passphrase")
    assert response.status_code == 302 and response["Location"] == "/admin/"
    assert is_signed_in(client)


@pytest.mark.django_db
def test_the_lock_lifts_by_itself_after_the_cool_off(client, page_editor, clock):
    lock_out(client, "editor")
    clock.shift(settings.AXES_COOLOFF_TIME - dt.timedelta(minutes=1))
    assert_locked_page(sign_in(client, "editor", "a-long-editor-passphrase"))  # and the wait starts again

    clock.shift(settings.AXES_COOLOFF_TIME + dt.timedelta(seconds=1))
    response = sign_in(client, "editor", "a-long-editor-passphrase")
    assert response.status_code == 302 and is_signed_in(client)


@pytest.mark.django_db
def test_a_successful_sign_in_clears_the_count_of_wrong_passwords(client, page_editor, clock):
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        sign_in(client, "editor", "not-the-password")
    assert sign_in(client, "editor", "a-long-editor-passphrase").status_code == 302
    client.logout()
    assert sign_in(client, "editor", "not-the-password").status_code == 200
    assert sign_in(client, "editor", "a-long-editor-passphrase").status_code == 302


@pytest.mark.django_db
def test_the_password_reset_form_does_not_tell_whether_an_account_is_locked(client, page_editor, django_user_model):
    page_editor.email = "editor@example.com"
    page_editor.save()
    django_user_model.objects.create_user("other", email="other@example.com", password="another-long-passphrase")
    lock_out(client, "editor")

    answers = [
        client.post("/admin/password_reset/", {"email": email}) for email in ("editor@example.com", "other@example.com")
    ]
    assert [(a.status_code, a["Location"]) for a in answers] == [(302, "/admin/password_reset/done/")] * 2
    assert sorted(message.to[0] for message in mail.outbox) == ["editor@example.com", "other@example.com"]
    assert all(LOCKED_TEXT not in message.body for message in mail.outbox)


# The second factor: who needs it, and enrolment ------------------------------------------------------


@pytest.mark.django_db
def test_a_practice_admin_without_an_app_reaches_only_the_enrolment_page(client, practice_admin, practice_settings):
    assert sign_in(client, "assistant").status_code == 302
    for url in ["/admin/", "/admin/bookings/", "/admin/enquiries/", "/admin/bookings/agenda/", "/admin/pages/",
                "/admin/account/", "/admin/reports/site-history/", VERIFY]:  # fmt: skip
        response = client.get(url)
        assert response.status_code == 302, url
        assert response["Location"].startswith(f"{ENROL}?next="), url
    assert client.post("/admin/bookings/").status_code == 302

    page = client.get(ENROL)
    assert page.status_code == 200
    assert "Two-step verification" in page.content.decode()
    assert client.post("/admin/logout/").status_code == 302
    assert not is_signed_in(client)


@pytest.mark.django_db
def test_enrolment_shows_the_key_as_text_and_as_a_qr_code_drawn_here(client, practice_admin):
    sign_in(client, "assistant")
    page = client.get(ENROL).content.decode()
    device = TOTPDevice.objects.get(user=practice_admin, confirmed=False)
    secret = re.search(r'id="two-factor-secret">([A-Z2-7 ]+)</code>', page).group(1)
    assert secret.replace(" ", "") == b32encode(device.bin_key).decode().rstrip("=")
    assert '<svg role="img"' in page and "<title>QR code with the key" in page
    assert "<img" not in page.split('class="two-factor-qr"')[1].split("</div>")[0]
    # The same key on every visit until it is confirmed.
    assert client.get(ENROL).content.decode().count(secret) == 1
    assert TOTPDevice.objects.filter(user=practice_admin).count() == 1


@pytest.mark.django_db
def test_enrolment_refuses_a_wrong_code_and_accepts_the_right_one_then_shows_backup_codes_once(
    client, practice_admin, practice_settings, clock, caplog
):
    sign_in(client, "assistant", next_url="/admin/bookings/")
    client.get(ENROL)
    device = TOTPDevice.objects.get(user=practice_admin, confirmed=False)

    bad = wrong_code(device)
    with caplog.at_level(logging.INFO):
        refused = client.post(ENROL, {"code": bad, "next": "/admin/bookings/"})
    assert refused.status_code == 200
    assert "That code did not work" in refused.content.decode()
    assert bad not in caplog.text
    device.refresh_from_db()
    assert not device.confirmed and device.throttling_failure_count == 1

    clock.shift(dt.timedelta(seconds=2))  # django-otp's pause after one wrong code
    enrolled = client.post(ENROL, {"code": totp_code(device), "next": "/admin/bookings/"})
    assert enrolled.status_code == 200
    assert "no-store" in enrolled["Cache-Control"]
    page = enrolled.content.decode()
    assert "Two-step verification is on" in page
    codes = backup_codes_in(page)
    assert len(codes) == 10 and len(set(codes)) == 10
    assert sorted(codes) == sorted(
        StaticToken.objects.filter(device__user=practice_admin).values_list("token", flat=True)
    )
    assert 'href="/admin/bookings/"' in page
    device.refresh_from_db()
    assert device.confirmed
    assert ModelLogEntry.objects.filter(action="accounts.second_factor_enrol", user=practice_admin).count() == 1

    # Enrolment passed the second factor for this session; the codes are never shown again.
    assert client.get("/admin/bookings/").status_code == 200
    again = client.get(ENROL).content.decode()
    assert "You have 10 backup codes left" in again
    assert not any(code in again for code in codes)


@pytest.mark.django_db
def test_a_page_editor_signs_in_without_a_second_factor(client, page_editor):
    response = sign_in(client, "editor", "a-long-editor-passphrase")
    assert response.status_code == 302 and response["Location"] == "/admin/"
    assert client.get("/admin/").status_code == 200
    assert client.get("/admin/pages/").status_code == 200
    assert client.get(ENROL).status_code == 302  # not theirs: Wagtail's "no permission"
    assert "Two-step verification" not in client.get("/admin/account/").content.decode()
    assert not TOTPDevice.objects.filter(user=page_editor).exists()


@pytest.mark.django_db
def test_the_account_page_says_where_to_manage_the_second_factor(practice_client):
    page = practice_client.get("/admin/account/").content.decode()
    assert 'href="/admin/two-factor/"' in page and "Two-step verification" in page


# Signing in with the second factor -------------------------------------------------------------------


@pytest.fixture
def enrolled_admin(practice_admin):
    device = app_device(practice_admin)
    codes = services.backup_codes_replace(user=practice_admin)
    return device, codes


@pytest.mark.django_db
def test_sign_in_with_password_then_a_code_from_the_app_reaches_the_bookings(
    client, enrolled_admin, practice_settings, clock, caplog
):
    device, _ = enrolled_admin
    after_password = sign_in(client, "assistant", next_url="/admin/bookings/")
    assert after_password["Location"] == "/admin/bookings/"
    asked = client.get("/admin/bookings/")
    assert asked.status_code == 302 and asked["Location"] == f"{VERIFY}?next=%2Fadmin%2Fbookings%2F"
    for url in ["/admin/", "/admin/enquiries/", ENROL]:
        assert client.get(url)["Location"].startswith(VERIFY), url
    form = client.get(asked["Location"])
    assert form.status_code == 200 and 'autocomplete="one-time-code"' in form.content.decode()

    bad = wrong_code(device)
    with caplog.at_level(logging.INFO):
        refused = client.post(VERIFY, {"code": bad, "next": "/admin/bookings/"})
    assert refused.status_code == 200 and "That code did not work" in refused.content.decode()
    assert bad not in caplog.text and "refused" in caplog.text
    # At once, even the right code waits: django-otp throttles the device after a failure.
    throttled = client.post(VERIFY, {"code": totp_code(device), "next": "/admin/bookings/"})
    assert "Too many wrong codes" in throttled.content.decode()

    clock.shift(dt.timedelta(seconds=2))
    verified = client.post(VERIFY, {"code": totp_code(device), "next": "/admin/bookings/"})
    assert verified.status_code == 302 and verified["Location"] == "/admin/bookings/"
    assert client.get("/admin/bookings/").status_code == 200
    assert client.get("/admin/enquiries/").status_code == 200


@pytest.mark.django_db
def test_a_code_from_the_app_is_accepted_once(client, enrolled_admin, clock):
    device, _ = enrolled_admin
    code = totp_code(device)
    sign_in(client, "assistant")
    assert client.post(VERIFY, {"code": code})["Location"] == "/admin/"
    client.post("/admin/logout/")
    sign_in(client, "assistant")
    assert "That code did not work" in client.post(VERIFY, {"code": code}).content.decode()


@pytest.mark.django_db
def test_a_backup_code_works_once(client, enrolled_admin, clock):
    _, codes = enrolled_admin
    sign_in(client, "assistant")
    assert client.post(VERIFY, {"code": codes[0].upper()})["Location"] == "/admin/"
    assert client.get("/admin/bookings/").status_code == 200
    client.post("/admin/logout/")

    sign_in(client, "assistant")
    reused = client.post(VERIFY, {"code": codes[0]})
    assert reused.status_code == 200 and "That code did not work" in reused.content.decode()
    clock.shift(dt.timedelta(seconds=2))
    assert client.post(VERIFY, {"code": codes[1]})["Location"] == "/admin/"


@pytest.mark.django_db
def test_new_backup_codes_replace_the_old_ones(client, enrolled_admin, clock):
    _, old_codes = enrolled_admin
    sign_in(client, "assistant")
    client.post(VERIFY, {"code": old_codes[0]})
    assert client.get("/admin/two-factor/backup-codes/").status_code == 405
    made = client.post("/admin/two-factor/backup-codes/")
    assert made.status_code == 200 and "no-store" in made["Cache-Control"]
    new_codes = backup_codes_in(made.content.decode())
    assert len(new_codes) == 10 and not set(new_codes) & set(old_codes)
    assert ModelLogEntry.objects.filter(action="accounts.backup_codes_replace").count() == 2  # fixture, then here
    client.post("/admin/logout/")

    sign_in(client, "assistant")
    assert client.post(VERIFY, {"code": old_codes[1]}).status_code == 200
    clock.shift(dt.timedelta(seconds=2))
    assert client.post(VERIFY, {"code": new_codes[0]})["Location"] == "/admin/"


@pytest.mark.django_db
def test_the_verification_page_sends_nowhere_off_the_site(client, enrolled_admin, clock):
    device, _ = enrolled_admin
    sign_in(client, "assistant")
    response = client.post(VERIFY, {"code": totp_code(device), "next": "https://example.com/admin/"})
    assert response["Location"] == "/admin/"


@pytest.mark.django_db
def test_an_unverified_session_is_refused_health_details_however_it_signed_in(client, practice_admin):
    client.force_login(practice_admin)
    app_device(practice_admin)
    response = client.get("/admin/bookings/")
    assert response.status_code == 302 and response["Location"].startswith(VERIFY)


@pytest.mark.django_db
def test_the_admin_audit_log_still_finds_the_signed_in_user(verified_login, practice_admin, client):
    """Wagtail logs `request.user`'s own changes (the account page) through django-otp's wrapper."""
    verified_login(practice_admin)
    page = client.get("/admin/account/").content.decode()
    data = next(
        form for index in range(5) if "name_email-email" in (form := querydict_from_html(page, form_index=index))
    )
    data.update({"name_email-first_name": "Samantha", "name_email-email": "sam@example.com"})
    assert client.post("/admin/account/", data).status_code == 302
    entry = ModelLogEntry.objects.get(action="wagtail.edit")
    assert entry.object_id == str(practice_admin.pk) and entry.user_id == practice_admin.pk


# Sessions and passwords ------------------------------------------------------------------------------


@pytest.mark.django_db
def test_sessions_end_after_four_hours_without_activity_and_when_the_browser_closes(client, page_editor, clock):
    assert settings.SESSION_COOKIE_AGE == 4 * 60 * 60
    assert settings.SESSION_SAVE_EVERY_REQUEST and settings.SESSION_EXPIRE_AT_BROWSER_CLOSE
    page = client.get("/admin/login/").content.decode()
    assert 'name="remember"' not in page  # no "Remember me" to keep a session past the browser

    response = sign_in(client, "editor", "a-long-editor-passphrase", remember="on")
    cookie = response.cookies[settings.SESSION_COOKIE_NAME]
    assert cookie["expires"] == "" and cookie["max-age"] == ""  # a browser-session cookie

    clock.shift(dt.timedelta(hours=3))
    assert client.get("/admin/").status_code == 200  # activity keeps the session going …
    clock.shift(dt.timedelta(hours=3))
    assert client.get("/admin/").status_code == 200
    clock.shift(dt.timedelta(hours=4, minutes=1))  # … and four idle hours end it
    response = client.get("/admin/")
    assert response.status_code == 302 and response["Location"].startswith("/admin/login/")


@pytest.mark.django_db
def test_passwords_need_twelve_characters_and_must_not_be_common(page_editor):
    with pytest.raises(ValidationError) as short:
        validate_password("kq8#vLm2pZ")
    assert "password_too_short" in {error.code for error in short.value.error_list}
    with pytest.raises(ValidationError) as common:
        validate_password("password1234")
    assert "password_too_common" in {error.code for error in common.value.error_list}
    with pytest.raises(ValidationError):
        validate_password("493827105648")
    page_editor.email = "evangeline.hartley@example.com"
    with pytest.raises(ValidationError):
        validate_password("evangeline.hartley", user=page_editor)
    validate_password("kq8#vLm2pZ-walnut")


@pytest.mark.django_db
def test_the_generated_admin_password_passes_the_validators(tmp_path, monkeypatch):
    for key in ("ADMIN_USERNAME", "ADMIN_PASSWORD", "ADMIN_EMAIL"):
        monkeypatch.delenv(key, raising=False)
    out = io.StringIO()
    call_command("ensure_admin", password_file=str(tmp_path / "admin-password"), stdout=out)
    password = re.search(r"password '([^']+)'", out.getvalue()).group(1)
    validate_password(password, user=get_user_model().objects.get(username="admin"))
