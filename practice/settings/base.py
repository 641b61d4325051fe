"""
Settings shared by every environment.

Configuration comes only from environment variables (see `.env.example`). Times are stored in UTC;
the practice's own time zone is a site setting that editors choose, and `TIME_ZONE` below is only
the default for admin display.
"""

from datetime import timedelta
from pathlib import Path
from urllib.parse import urlsplit

from django.core.exceptions import ImproperlyConfigured

import environ

BASE_DIR = Path(__file__).resolve().parent.parent.parent
PROJECT_DIR = BASE_DIR / "practice"

env = environ.Env()

DEBUG = env.bool("DJANGO_DEBUG", default=False)
SECRET_KEY = env("DJANGO_SECRET_KEY", default="")
ALLOWED_HOSTS = env.list("DJANGO_ALLOWED_HOSTS", default=["127.0.0.1", "localhost"])
CSRF_TRUSTED_ORIGINS = env.list("DJANGO_CSRF_TRUSTED_ORIGINS", default=[])

INSTALLED_APPS = [
    "practice",
    "articles",
    "bookings",
    "calendars",
    "intake",
    "accounts",
    "wagtail.contrib.forms",
    "csp",
    "wagtail.contrib.redirects",
    "wagtail.contrib.settings",
    "wagtail.contrib.routable_page",
    "wagtail.contrib.sitemaps",
    "wagtail.embeds",
    "wagtail.sites",
    "wagtail.users",
    "wagtail.snippets",
    "wagtail.documents",
    "wagtail.images",
    "wagtail.search",
    "wagtail.admin",
    "wagtail",
    "modelcluster",
    "taggit",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "django_otp.plugins.otp_static",
    "axes",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.sitemaps",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    # Compresses HTML for browsers that accept it (whitenoise serves static files compressed already).
    "django.middleware.gzip.GZipMiddleware",
    "practice.middleware.SecurityHeadersMiddleware",
    "practice.middleware.PracticeCSPMiddleware",
    "practice.caching.PublicCacheMiddleware",
    # Anonymous visitors' public pages, kept in the cache until something they show changes.
    "practice.caching.ResponseCacheMiddleware",
    # The request's site and its home page from the cache, for routing, settings and menus.
    "practice.visibility.SiteMiddleware",
    # Before anything reads the query or the form: refuses a NUL or a form body Django cannot parse with a 400.
    "practice.middleware.MalformedRequestMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django_otp.middleware.OTPMiddleware",
    "accounts.middleware.SecondFactorMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "wagtail.contrib.redirects.middleware.RedirectMiddleware",
    # Last, as django-axes asks: turns a refused sign-in during a lockout into the lockout page.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "practice.urls"
WSGI_APPLICATION = "practice.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.debug",
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "wagtail.contrib.settings.context_processors.settings",
                "csp.context_processors.nonce",
            ],
        },
    },
    {
        # Plain-text emails and subjects: the same templates, rendered without HTML escaping, so that
        # "O'Brien & Sons" reads as written. Only bookings/notifications.py asks for this engine.
        "NAME": "text",
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": False,
        "OPTIONS": {"autoescape": False},
    },
]

# Database: SQLite in the project folder unless DATABASE_URL names another.
DATABASES = {"default": env.db("DATABASE_URL", default=f"sqlite:///{BASE_DIR / 'db.sqlite3'}")}
DATABASES["default"]["CONN_MAX_AGE"] = env.int("DATABASE_CONN_MAX_AGE", default=0)
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # Writers take the lock when their transaction begins (no upgrade deadlocks), readers never
    # block writers (WAL), and a busy writer is waited for rather than failing at once.
    DATABASES["default"]["OPTIONS"] = {
        "transaction_mode": "IMMEDIATE",
        "timeout": 20,
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
    }

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

CACHES = {"default": env.cache("CACHE_URL", default="locmemcache://")}
if CACHES["default"]["BACKEND"] == "django.core.cache.backends.redis.RedisCache":
    CACHES["default"]["BACKEND"] = "practice.redis_cache.RedisCache"  # the same, reusing its client
# django-environ reads `?key_prefix=` from CACHE_URL under a name Django ignores: two sites sharing one
# Redis database would then read each other's pages.
if "key_prefix" in CACHES["default"]:
    CACHES["default"]["KEY_PREFIX"] = CACHES["default"].pop("key_prefix")
# Anonymous responses of public pages are kept in that cache for at most this many seconds (0 turns
# the application's page cache off); any change to what a page shows replaces it sooner. See
# practice/caching.py. Only these query parameters may vary a kept page (the article list's).
RESPONSE_CACHE_SECONDS = env.int("RESPONSE_CACHE_SECONDS", default=3600)
RESPONSE_CACHE_QUERY_KEYS = {"page", "topic", "tag"}
# Each process also holds copies of recently read pages and parts, up to this many bytes, used only
# while the shared cache says they are current (practice/caching.py).
RESPONSE_CACHE_LOCAL_BYTES = env.int("RESPONSE_CACHE_LOCAL_BYTES", default=16 * 1024 * 1024)

# Signing in (accounts/). django-axes counts wrong passwords per username and address, in the
# database so that every server process sees the same count; a successful sign-in clears it.
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
AXES_HANDLER = "axes.handlers.database.AxesDatabaseHandler"
AXES_FAILURE_LIMIT = env.int("AXES_FAILURE_LIMIT", default=5)
AXES_COOLOFF_TIME = timedelta(minutes=env.int("AXES_COOLOFF_MINUTES", default=30))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_CALLABLE = "accounts.views.locked_out"  # the page in templates/accounts/locked_out.html
AXES_CLIENT_IP_CALLABLE = "bookings.ratelimit.client_address"  # honours DJANGO_CLIENT_IP_HEADER
# Whoever can see health details signs in with a second factor too: see accounts/middleware.py.
# Admin sessions end after this many seconds without a request, and when the browser closes.
SESSION_COOKIE_AGE = env.int("DJANGO_SESSION_COOKIE_AGE", default=4 * 60 * 60)
SESSION_SAVE_EVERY_REQUEST = True
SESSION_EXPIRE_AT_BROWSER_CLOSE = True
WAGTAILADMIN_USER_LOGIN_FORM = "accounts.forms.LoginForm"  # without "Remember me"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 12}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "en-gb"
TIME_ZONE = env("DJANGO_TIME_ZONE", default="Europe/London")
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATIC_ROOT = env.path("DJANGO_STATIC_ROOT", default=BASE_DIR / "static_collected")
MEDIA_URL = env("DJANGO_MEDIA_URL", default="/media/")
MEDIA_ROOT = env.path("DJANGO_MEDIA_ROOT", default=BASE_DIR / "media")
SERVE_MEDIA = env.bool("DJANGO_SERVE_MEDIA", default=DEBUG)
STORAGES = {
    "default": {"BACKEND": env("DJANGO_MEDIA_STORAGE", default="django.core.files.storage.FileSystemStorage")},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}

# Uploads on S3-compatible object storage (AWS S3, MinIO, Ceph, Garage, Cloudflare R2 …) through django-storages,
# when DJANGO_MEDIA_STORAGE=storages.backends.s3.S3Storage; the DJANGO_MEDIA_S3_* variables are in .env.example.
# This is the one place the uploads' storage is chosen: production.py reuses STORAGES["default"].
# - Pages link to images without a signature: the bucket lets everyone read its objects (a bucket policy), so
#   the HTML stays the same for every visitor and can be cached. No ACL is ever sent, as many services refuse one.
# - A new upload never replaces an object of the same name, so every object name holds one content for good
#   and browsers may keep it a year.
# - Renditions are made once for all app servers: Wagtail stores each as a database row (image, filter, focal
#   point) with its file in this storage, and looks for the row before making one, so a rendition made by one
#   server is found by every other. Wagtail also caches those rows, in the "renditions" cache if CACHES has one,
#   else "default": with several servers that must be a shared cache (CACHE_URL on Redis). A per-process memory
#   cache would still find renditions, but one deleted on one server (`manage.py wagtail_update_image_renditions`,
#   say) would stay linked from the others' memory until it expires.
if STORAGES["default"]["BACKEND"] == "storages.backends.s3.S3Storage":
    _media_public_url = urlsplit(env("DJANGO_MEDIA_S3_PUBLIC_URL", default=""))
    _media_public_url_ok = _media_public_url.scheme in ("http", "https") and _media_public_url.hostname
    if _media_public_url.geturl() and not _media_public_url_ok:
        raise ImproperlyConfigured("DJANGO_MEDIA_S3_PUBLIC_URL must be an address such as https://media.example.com")
    STORAGES["default"]["OPTIONS"] = {
        "bucket_name": env("DJANGO_MEDIA_S3_BUCKET"),
        # Empty: AWS S3 itself. Credentials left empty come from boto3's own chain (AWS_* variables, an instance role).
        "endpoint_url": env("DJANGO_MEDIA_S3_ENDPOINT_URL", default="") or None,
        "region_name": env("DJANGO_MEDIA_S3_REGION", default="") or None,
        "access_key": env("DJANGO_MEDIA_S3_ACCESS_KEY_ID", default="") or None,
        "secret_key": env("DJANGO_MEDIA_S3_SECRET_ACCESS_KEY", default="") or None,
        "addressing_style": env("DJANGO_MEDIA_S3_ADDRESSING_STYLE", default="auto"),
        # A CDN or the bucket's own public host name in front of the bucket: links point there instead.
        "custom_domain": (_media_public_url.netloc + _media_public_url.path).rstrip("/") or None,
        "url_protocol": f"{_media_public_url.scheme or 'https'}:",
        "querystring_auth": env.bool("DJANGO_MEDIA_S3_SIGNED_URLS", default=False),
        "default_acl": None,
        "file_overwrite": False,
        "object_parameters": {"CacheControl": "public, max-age=31536000"},
    }

# Where pages load uploaded images from, for the Content-Security-Policy below: the site itself, or the
# object store (its public address, else its endpoint, else the bucket's AWS host names). DJANGO_MEDIA_ORIGIN
# names it outright where none of these is the address images are served from.
MEDIA_ORIGINS = env.list("DJANGO_MEDIA_ORIGIN", default=[])
if not MEDIA_ORIGINS and STORAGES["default"]["BACKEND"] == "storages.backends.s3.S3Storage":
    _media_options = STORAGES["default"]["OPTIONS"]
    if _media_options["custom_domain"]:
        MEDIA_ORIGINS = [f"{_media_options['url_protocol']}//{_media_options['custom_domain'].split('/')[0]}"]
    elif _media_options["endpoint_url"]:
        _endpoint = urlsplit(_media_options["endpoint_url"])
        MEDIA_ORIGINS = [f"{_endpoint.scheme}://{_endpoint.netloc}", f"{_endpoint.scheme}://*.{_endpoint.netloc}"]
    else:
        MEDIA_ORIGINS = [f"https://{_media_options['bucket_name']}.s3.amazonaws.com", "https://*.amazonaws.com"]

# Email: the console in development, SMTP (EMAIL_URL) in production. A hung mail server must
# never hold a request or a worker for long.
vars().update(env.email("EMAIL_URL", default="consolemail://"))
EMAIL_TIMEOUT = env.int("EMAIL_TIMEOUT", default=10)
DEFAULT_FROM_EMAIL = env("DEFAULT_FROM_EMAIL", default="Practice <noreply@localhost>")
SERVER_EMAIL = env("SERVER_EMAIL", default=DEFAULT_FROM_EMAIL)

# Security headers sent on every response (HSTS and secure cookies are switched on in production).
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "strict-origin-when-cross-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"  # Wagtail lets its own preview views be framed by the admin.
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_SAMESITE = "Lax"
PERMISSIONS_POLICY = "camera=(), microphone=(), geolocation=(), payment=(), usb=(), interest-cohort=()"

# Sites embedded in the privacy-friendly video block, loaded only after the visitor asks.
VIDEO_FRAME_SOURCES = ["https://www.youtube-nocookie.com", "https://player.vimeo.com"]

# Public pages: nothing from another origin, no inline script or style.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "img-src": ["'self'", "data:", *MEDIA_ORIGINS],
        "font-src": ["'self'"],
        "connect-src": ["'self'"],
        "frame-src": VIDEO_FRAME_SOURCES,
        "media-src": ["'self'"],
        "object-src": ["'none'"],
        "base-uri": ["'self'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'none'"],
    }
}
# The Wagtail admin runs inline scripts and styles of its own; it still loads nothing from elsewhere.
ADMIN_CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'", "'unsafe-inline'", "'unsafe-eval'"],
        "style-src": ["'self'", "'unsafe-inline'"],
        "img-src": ["'self'", "data:", "blob:", *MEDIA_ORIGINS],
        "font-src": ["'self'", "data:"],
        "connect-src": ["'self'"],
        "frame-src": ["'self'", *VIDEO_FRAME_SOURCES],
        "media-src": ["'self'", "blob:"],
        "object-src": ["'none'"],
        "base-uri": ["'self'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'self'"],
    }
}
ADMIN_PATH_PREFIXES = ("/admin/",)

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env("DJANGO_LOG_LEVEL", default="INFO")},
    "loggers": {"django.db.backends": {"level": "WARNING"}, "django_tasks": {"level": "WARNING"}},
}

# Wagtail
WAGTAIL_SITE_NAME = env("WAGTAIL_SITE_NAME", default="Naomi Integrative Health")
OTP_TOTP_ISSUER = WAGTAIL_SITE_NAME  # the name an authenticator app shows beside the code
WAGTAILADMIN_BASE_URL = env("WAGTAILADMIN_BASE_URL", default="http://127.0.0.1:8000")
WAGTAIL_ENABLE_UPDATE_CHECK = False
WAGTAIL_GRAVATAR_PROVIDER_URL = None
WAGTAIL_ALLOW_UNICODE_SLUGS = False
WAGTAILSEARCH_BACKENDS = {"default": {"BACKEND": "wagtail.search.backends.database"}}
WAGTAILIMAGES_FORMAT_CONVERSIONS = {"webp": "webp", "avif": "avif"}
WAGTAILEMBEDS_RESPONSIVE_HTML = True
WAGTAILDOCS_EXTENSIONS = ["pdf", "docx", "odt", "txt"]

# Bookings
# The request header that carries the visitor's address when behind a reverse proxy (for rate
# limits), for example HTTP_X_FORWARDED_FOR; empty uses the connection's address.
CLIENT_IP_HEADER = env("DJANGO_CLIENT_IP_HEADER", default="")
BOOKING_RATE_LIMIT = env.int("BOOKING_RATE_LIMIT", default=5)  # booking requests per address per hour
ENQUIRY_RATE_LIMIT = env.int("ENQUIRY_RATE_LIMIT", default=5)  # contact-page messages per address per hour
# Submissions with errors per address per hour, on each of those forms: counted apart from the ones accepted.
FAILED_SUBMISSION_RATE_LIMIT = env.int("FAILED_SUBMISSION_RATE_LIMIT", default=30)
# Pending or confirmed future bookings one email address, and one visitor address, may hold at once.
BOOKING_MAX_ACTIVE_PER_EMAIL = env.int("BOOKING_MAX_ACTIVE_PER_EMAIL", default=3)
BOOKING_MAX_ACTIVE_PER_ADDRESS = env.int("BOOKING_MAX_ACTIVE_PER_ADDRESS", default=6)
# Send booking emails straight after the request commits (development). Production runs the worker.
BOOKINGS_DELIVER_ON_COMMIT = env.bool("BOOKINGS_DELIVER_ON_COMMIT", default=False)
# The practitioner's busy calendars (calendars/sync.py): seconds before a calendar server is given up
# on, the largest calendar read in bytes (a longer one is a failure), and minutes between the worker's reads.
BUSY_CALENDAR_TIMEOUT = env.float("BUSY_CALENDAR_TIMEOUT", default=10)
BUSY_CALENDAR_MAX_BYTES = env.int("BUSY_CALENDAR_MAX_BYTES", default=5 * 1024 * 1024)
BUSY_CALENDAR_SYNC_MINUTES = env.int("BUSY_CALENDAR_SYNC_MINUTES", default=15)

# Health details are stored encrypted (practice/crypto.py): Fernet keys, comma-separated, the newest
# first. Production refuses to start without one; development and tests derive one from SECRET_KEY.
FIELD_ENCRYPTION_KEYS = env.list("FIELD_ENCRYPTION_KEYS", default=[])
# Each erasure of a person's details is also appended here (hashes and times only), outside the
# database, so that restoring an older backup can erase them again. Copy it off the machine too.
ERASURE_LOG = env.path("ERASURE_LOG", default=BASE_DIR / ".local" / "erasures.jsonl")
# The key of the hash that erasure records keep instead of the address (SECRET_KEY when empty). It
# must not change, or erasures can no longer be re-applied to a restored backup.
ERASURE_HASH_KEY = env("ERASURE_HASH_KEY", default="")

# Backups (manage.py backup): the folder the archives go to, outside the media folder and private
# to the site's user, and how many of the newest archives to keep there.
BACKUP_DIR = env.path("BACKUP_DIR", default=BASE_DIR / "backups")
BACKUP_KEEP = env.int("BACKUP_KEEP", default=14)

# Front cache (Varnish, deploy/varnish/default.vcl): the addresses of every Varnish in front of the
# site, comma-separated (http://127.0.0.1:6081,http://10.0.0.12:6081). Publishing, unpublishing,
# moving or deleting a page, or changing a setting, snippet or image, sends each of them a PURGE of
# the URLs that show the change, after the change commits (practice/frontend_cache.py). Empty: no
# front cache, nothing is purged.
FRONTEND_CACHE_URLS = env.list("FRONTEND_CACHE_URLS", default=[])
# Wagtail's frontend cache app, with practice/frontend_cache.py's handlers in place of Wagtail's own.
INSTALLED_APPS += ["practice.frontend_cache.FrontendCacheConfig"]
# How long one purge may wait for the front cache to answer before it is logged and given up.
FRONTEND_CACHE_TIMEOUT = env.float("FRONTEND_CACHE_TIMEOUT", default=3.0)
WAGTAILFRONTENDCACHE = {
    f"varnish{number}": {"BACKEND": "practice.frontend_cache.HTTPBackend", "LOCATION": url}
    for number, url in enumerate(FRONTEND_CACHE_URLS, start=1)
}
