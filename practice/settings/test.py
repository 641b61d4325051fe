"""Test runs: fast hashing, mail kept in memory, no network. DATABASE_URL picks the database."""

import os
import tempfile
from pathlib import Path

from .base import *  # noqa: F403
from .base import DATABASES, FIELD_ENCRYPTION_KEYS, env
from .keys import derived_key

DEBUG = False
SECRET_KEY = "test-only-key-not-for-production-use-4b8e1d2c7a9f3e6d5c0b"
ALLOWED_HOSTS = ["*"]
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
CACHES = {
    "default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"},
    # Rows roll back between tests but a cache would not: renditions always come from the database.
    "renditions": {"BACKEND": "django.core.cache.backends.dummy.DummyCache"},
}
WAGTAILADMIN_BASE_URL = "http://testserver"
MEDIA_ROOT = env.path("TEST_MEDIA_ROOT", default=Path(tempfile.gettempdir()) / "practice-test-media")
LOGGING = {"version": 1, "disable_existing_loggers": False}
SERVE_MEDIA = True
# Serve static files straight from the apps, without collectstatic.
WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = True

if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # A file, not Django's in-memory default: the live server's threads then share it with WAL and a
    # busy timeout, as a real deployment does, instead of failing at once on a locked table.
    DATABASES["default"]["TEST"] = {"NAME": str(Path(tempfile.gettempdir()) / f"practice-test-{os.getpid()}.sqlite3")}

if not FIELD_ENCRYPTION_KEYS:
    # A key of its own for this machine's throwaway data, never used in production.
    FIELD_ENCRYPTION_KEYS = [derived_key(SECRET_KEY)]
ERASURE_LOG = Path(tempfile.gettempdir()) / f"practice-test-erasures-{os.getpid()}.jsonl"
