"""
Production: PostgreSQL (DATABASE_URL), HTTPS behind a reverse proxy, static files served by
whitenoise with compressed, hashed names. Refuses to start without its secret key, hosts and the
key that encrypts health details.
"""

from django.core.exceptions import ImproperlyConfigured

from cryptography.fernet import Fernet, MultiFernet

from .base import *  # noqa: F403
from .base import CACHES, STORAGES, env

DEBUG = False

SECRET_KEY = env("DJANGO_SECRET_KEY", default="")
if not SECRET_KEY:
    raise ImproperlyConfigured("Set DJANGO_SECRET_KEY: production will not start without a secret key.")
ALLOWED_HOSTS = env.list("DJANGO_ALLOWED_HOSTS", default=[])
if not ALLOWED_HOSTS:
    raise ImproperlyConfigured("Set DJANGO_ALLOWED_HOSTS: production will not start without its host names.")

FIELD_ENCRYPTION_KEYS = env.list("FIELD_ENCRYPTION_KEYS", default=[])
if not FIELD_ENCRYPTION_KEYS:
    raise ImproperlyConfigured(
        "Set FIELD_ENCRYPTION_KEYS: production will not start without a key to encrypt health details "
        "(`manage.py generate_encryption_key` prints one)."
    )
try:
    MultiFernet([Fernet(key.encode()) for key in FIELD_ENCRYPTION_KEYS])
except ValueError as error:
    raise ImproperlyConfigured("FIELD_ENCRYPTION_KEYS holds a value that is not a Fernet key.") from error

# Uploads go where base.py says (DJANGO_MEDIA_STORAGE); static files get whitenoise's compressed, hashed names.
STORAGES = {**STORAGES, "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"}}

# The reverse proxy terminates TLS and says so in this header.
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_SSL_REDIRECT = env.bool("DJANGO_SECURE_SSL_REDIRECT", default=True)
SECURE_REDIRECT_EXEMPT = [r"^healthz$"]
SECURE_HSTS_SECONDS = env.int("DJANGO_SECURE_HSTS_SECONDS", default=60 * 60 * 24 * 365)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env.bool("DJANGO_SECURE_HSTS_INCLUDE_SUBDOMAINS", default=True)
SECURE_HSTS_PRELOAD = env.bool("DJANGO_SECURE_HSTS_PRELOAD", default=True)
SESSION_COOKIE_SECURE = True
CSRF_COOKIE_SECURE = True

# The application's page cache (practice/caching.py) must be shared by every process that can change
# content (each app server's workers, the worker, manage.py): with a per-process memory cache, a publish
# in one process would leave old copies in the others. Without CACHE_URL it is therefore off.
if CACHES["default"]["BACKEND"].endswith(("LocMemCache", "DummyCache")):
    RESPONSE_CACHE_SECONDS = 0
