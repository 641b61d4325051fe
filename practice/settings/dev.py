"""Local development: debug on, mail to the console, an insecure key that never leaves this machine."""

from .base import *  # noqa: F403
from .base import FIELD_ENCRYPTION_KEYS, env
from .keys import derived_key

DEBUG = env.bool("DJANGO_DEBUG", default=True)
SECRET_KEY = env("DJANGO_SECRET_KEY", default="dev-only-key-not-for-production-use-8c1f0b7e2d9a4f6b")
SERVE_MEDIA = True
# Serve static files straight from the apps, without collectstatic.
WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = True
BOOKINGS_DELIVER_ON_COMMIT = env.bool("BOOKINGS_DELIVER_ON_COMMIT", default=True)

if not FIELD_ENCRYPTION_KEYS:
    # A key of its own for this machine's throwaway data, never used in production.
    FIELD_ENCRYPTION_KEYS = [derived_key(SECRET_KEY)]
