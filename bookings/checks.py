from django.conf import settings
from django.core.checks import Tags, Warning, register


@register(Tags.security, deploy=True)
def shared_cache_for_rate_limits(app_configs, **kwargs):
    """The booking rate limit only holds across server processes if the cache is shared."""
    backend = settings.CACHES["default"]["BACKEND"]
    if backend.endswith(("LocMemCache", "DummyCache")):
        return [
            Warning(
                "The default cache is private to each server process, so booking rate limits are per process.",
                hint="Set CACHE_URL to a shared cache such as redis://127.0.0.1:6379/1.",
                id="bookings.W001",
            )
        ]
    return []
