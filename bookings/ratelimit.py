"""
A fixed-window rate limit per client address, kept in the cache that all server processes share
(CACHE_URL, Redis in production), so it holds however many processes serve the site.
"""

import hashlib
import time

from django.conf import settings
from django.core.cache import cache


def client_address(request) -> str:
    """The visitor's address: from the header the reverse proxy sets, if configured, else the socket."""
    header = getattr(settings, "CLIENT_IP_HEADER", "")
    if header and request.META.get(header):
        # With X-Forwarded-For the proxy appends the address it saw last: that one is trustworthy.
        return request.META[header].split(",")[-1].strip()
    return request.META.get("REMOTE_ADDR", "")


def hit(request, *, scope: str, limit: int, window_seconds: int) -> bool:
    """Count one attempt; True when this address has gone over `limit` in the current window."""
    address = hashlib.sha256(client_address(request).encode()).hexdigest()[:32]  # no raw addresses in the cache
    key = f"ratelimit:{scope}:{address}:{int(time.time() // window_seconds)}"
    if cache.add(key, 1, timeout=window_seconds + 5):
        return limit < 1
    try:
        return cache.incr(key) > limit
    except ValueError:  # expired between add and incr
        cache.add(key, 1, timeout=window_seconds + 5)
        return False
