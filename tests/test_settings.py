"""Production settings and the security headers, checked in fresh processes as a server would start."""

import os
import re
import subprocess
import sys
from pathlib import Path

from django.conf import settings

import pytest

BASE_DIR = Path(settings.BASE_DIR)


def env_example():
    values = {}
    for line in (BASE_DIR / ".env.example").read_text().splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            key, _, value = line.partition("=")
            values[key] = value.strip('"')
    return values


def run_python(code, **env):
    """Run `code` in a fresh interpreter with only the given settings-related environment."""
    clean = {key: value for key, value in os.environ.items() if not key.startswith(("DJANGO_", "DATABASE_"))}
    clean["FIELD_ENCRYPTION_KEYS"] = KEY
    clean.update(env)
    return subprocess.run(
        [sys.executable, "-c", code], cwd=BASE_DIR, env=clean, capture_output=True, text=True, timeout=120
    )


SETUP = "import django; django.setup(); print('started')"
KEY = "cHJvZHVjdGlvbi1zZXR0aW5ncy10ZXN0LWtleS0wMTI="  # a valid Fernet key for these checks only


@pytest.mark.parametrize(("keys", "message"), [("", "Set FIELD_ENCRYPTION_KEYS"), ("not-a-key", "not a Fernet key")])
def test_production_refuses_to_start_without_a_valid_encryption_key(keys, message):
    result = run_python(
        SETUP,
        DJANGO_SETTINGS_MODULE="practice.settings.production",
        DJANGO_SECRET_KEY="x" * 60,
        DJANGO_ALLOWED_HOSTS="a.test",
        FIELD_ENCRYPTION_KEYS=keys,
    )
    assert result.returncode != 0
    assert message in result.stderr
    assert "started" not in result.stdout


def test_production_refuses_to_start_without_a_secret_key():
    result = run_python(SETUP, DJANGO_SETTINGS_MODULE="practice.settings.production", DJANGO_ALLOWED_HOSTS="a.test")
    assert result.returncode != 0
    assert "Set DJANGO_SECRET_KEY" in result.stderr
    assert "started" not in result.stdout


def test_production_refuses_to_start_without_allowed_hosts():
    result = run_python(SETUP, DJANGO_SETTINGS_MODULE="practice.settings.production", DJANGO_SECRET_KEY="x" * 60)
    assert result.returncode != 0
    assert "Set DJANGO_ALLOWED_HOSTS" in result.stderr


def deploy_check(env):
    """`manage.py check --deploy` in a fresh process with only `env` for configuration."""
    clean = {key: value for key, value in os.environ.items() if not key.startswith(("DJANGO_", "DATABASE_", "CACHE_"))}
    return subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=BASE_DIR,
        env={**clean, **env},
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_production_deploy_check_passes_with_the_documented_environment():
    env = env_example()
    assert env["DJANGO_SETTINGS_MODULE"] == "practice.settings.production"
    result = deploy_check(env)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_every_setting_read_from_the_environment_is_documented():
    names = set()
    for path in (BASE_DIR / "practice" / "settings").glob("*.py"):
        if path.name != "test.py":
            names.update(re.findall(r'env(?:\.\w+)?\(\s*"([A-Z_]+)"', path.read_text()))
    documented = set(env_example()) | {"DJANGO_DEBUG", "DJANGO_SERVE_MEDIA", "DJANGO_TIME_ZONE"}
    assert names <= documented, sorted(names - documented)


def test_production_sends_hsts_and_the_strict_policy_over_https():
    code = """
import django
django.setup()
from django.test import Client
response = Client().get("/robots.txt", secure=True)
print(response.status_code)
for name in ("Strict-Transport-Security", "Content-Security-Policy", "X-Content-Type-Options",
             "Referrer-Policy", "X-Frame-Options", "Permissions-Policy"):
    print(name + ": " + response.headers.get(name, "MISSING"))
insecure = Client().get("/robots.txt")
print("redirect: " + str(insecure.status_code) + " " + insecure.headers.get("Location", ""))
"""
    result = run_python(
        code,
        DJANGO_SETTINGS_MODULE="practice.settings.production",
        DJANGO_SECRET_KEY="k" * 20 + "production-test-secret-value-0123456789",
        DJANGO_ALLOWED_HOSTS="testserver",
    )
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert out.startswith("200")
    assert "Strict-Transport-Security: max-age=31536000; includeSubDomains; preload" in out
    policy_line = next(line for line in out.splitlines() if line.startswith("Content-Security-Policy: "))
    directives = dict(
        part.strip().split(" ", 1) for part in policy_line.removeprefix("Content-Security-Policy: ").split(";")
    )
    assert directives["script-src"] == "'self'"
    assert directives["frame-ancestors"] == "'none'"
    assert "X-Content-Type-Options: nosniff" in out
    assert "Referrer-Policy: strict-origin-when-cross-origin" in out
    assert "X-Frame-Options: DENY" in out
    assert "MISSING" not in out
    assert "redirect: 301 https://testserver/robots.txt" in out


def test_production_serves_static_files_with_hashed_compressed_names():
    code = "import django; django.setup(); from django.conf import settings; print(settings.STORAGES['staticfiles'])"
    result = run_python(
        code,
        DJANGO_SETTINGS_MODULE="practice.settings.production",
        DJANGO_SECRET_KEY="s" * 60,
        DJANGO_ALLOWED_HOSTS="example.com",
    )
    assert "whitenoise.storage.CompressedManifestStaticFilesStorage" in result.stdout


@pytest.mark.django_db
def test_public_pages_get_the_strict_policy_and_security_headers(client, practice_settings):
    response = client.get("/")
    policy = response["Content-Security-Policy"]
    directives = dict(part.strip().split(" ", 1) for part in policy.split(";"))
    assert directives["default-src"] == "'self'"
    assert directives["script-src"] == "'self'"
    assert directives["style-src"] == "'self'"
    assert directives["frame-ancestors"] == "'none'"
    assert directives["object-src"] == "'none'"
    assert "unsafe" not in policy
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Referrer-Policy"] == "strict-origin-when-cross-origin"
    assert response["X-Frame-Options"] == "DENY"
    assert "camera=()" in response["Permissions-Policy"]
    assert "Set-Cookie" not in response


@pytest.mark.django_db
def test_the_admin_gets_its_own_policy_that_still_loads_only_from_this_site(client):
    response = client.get("/admin/login/")
    policy = response["Content-Security-Policy"]
    assert "'unsafe-inline'" in policy
    assert "frame-ancestors 'self'" in policy
    assert "default-src 'self'" in policy
    assert "http" not in policy.split("frame-src", 1)[0]


def test_no_calls_to_third_parties_from_the_admin_and_mail_cannot_hang():
    assert settings.WAGTAIL_ENABLE_UPDATE_CHECK is False
    assert settings.WAGTAIL_GRAVATAR_PROVIDER_URL is None
    assert settings.EMAIL_TIMEOUT and settings.EMAIL_TIMEOUT <= 30


def test_sqlite_holds_up_under_concurrent_writes(tmp_path):
    code = """
import django
django.setup()
from django.db import connection
with connection.cursor() as cursor:
    cursor.execute("PRAGMA journal_mode")
    print(cursor.fetchone()[0])
    cursor.execute("PRAGMA busy_timeout")
    print(cursor.fetchone()[0])
print(connection.settings_dict["OPTIONS"]["transaction_mode"])
"""
    result = run_python(
        code, DJANGO_SETTINGS_MODULE="practice.settings.dev", DATABASE_URL=f"sqlite:///{tmp_path / 'db.sqlite3'}"
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["wal", "20000", "IMMEDIATE"]


def test_health_check_answers_503_when_the_database_is_unreachable():
    code = """
import django
django.setup()
from django.test import Client
response = Client().get("/healthz")
print(response.status_code, response.content.decode().strip())
"""
    # Nothing listens on port 9 of the loopback address, so every connection is refused.
    result = run_python(
        code,
        DJANGO_SETTINGS_MODULE="practice.settings.test",
        DATABASE_URL="postgres://nobody@127.0.0.1:9/missing?connect_timeout=2",
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "503 database unavailable"


def test_debug_stays_off_in_production_whatever_the_environment_says():
    code = "import django; django.setup(); from django.conf import settings; print(settings.DEBUG)"
    result = run_python(
        code,
        DJANGO_SETTINGS_MODULE="practice.settings.production",
        DJANGO_SECRET_KEY="s" * 60,
        DJANGO_ALLOWED_HOSTS="example.com",
        DJANGO_DEBUG="true",
    )
    assert result.stdout.strip() == "False"


def test_deploy_check_warns_when_rate_limits_would_not_be_shared():
    result = deploy_check({key: value for key, value in env_example().items() if key != "CACHE_URL"})
    assert result.returncode != 0
    assert "bookings.W001" in result.stderr + result.stdout
