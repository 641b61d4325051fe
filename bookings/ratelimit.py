"""
Fixed-window rate limits per client address, kept in the cache that all server processes share
(CACHE_URL, Redis in production), so they hold however many processes serve the site.

A public form counts two things apart (FormLimit): submissions it accepted, and submissions that
failed (form errors, a time just taken, a cap reached). A person correcting a form is not an
attacker, so failures have their own, more generous limit (FAILED_SUBMISSION_RATE_LIMIT an hour)
and never use up the accepted ones.

Addresses never reach the cache or the database in the clear: `address_hash` is an HMAC of the
address under SECRET_KEY (a plain hash of an IPv4 address is reversed by trying them all).
"""

import time

from django.conf import settings
from django.core.cache import cache
from django.utils.crypto import salted_hmac

HOUR = 3600


def client_address(request) -> str:
    """The visitor's address: from the header the reverse proxy sets, if configured, else the socket."""
    header = getattr(settings, "CLIENT_IP_HEADER", "")
    if header and request.META.get(header):
        # With X-Forwarded-For the proxy appends the address it saw last: that one is trustworthy.
        return request.META[header].split(",")[-1].strip()
    return request.META.get("REMOTE_ADDR", "")


def address_hash(request) -> str:
    """A keyed hash of the visitor's address (64 hex digits), or "" when the address is unknown."""
    address = client_address(request)
    if not address:
        return ""
    return salted_hmac("bookings.ratelimit.address", address, algorithm="sha256").hexdigest()


def _key(request, scope: str, window_seconds: int) -> str:
    return _key_for(address_hash(request), scope, window_seconds)


def _key_for(address: str, scope: str, window_seconds: int) -> str:
    return f"ratelimit:{scope}:{address[:32] or 'unknown'}:{int(time.time() // window_seconds)}"


def count(request, *, scope: str, window_seconds: int) -> int:
    """How many attempts this address has made in `scope` in the current window (nothing is counted)."""
    return cache.get(_key(request, scope, window_seconds), 0)


def hit(request, *, scope: str, limit: int, window_seconds: int) -> bool:
    """Count one attempt; True when this address has gone over `limit` in the current window."""
    return _hit(_key(request, scope, window_seconds), limit=limit, window_seconds=window_seconds)


def _hit(key: str, *, limit: int, window_seconds: int) -> bool:
    # Counting on is the usual case (one cache call); only the window's first attempt adds the key.
    for _ in range(2):
        try:
            return cache.incr(key) > limit
        except ValueError:  # not counted yet in this window
            if cache.add(key, 1, timeout=window_seconds + 5):
                return limit < 1
            # Another process counted its first attempt meanwhile: count on from there.
    return False


class FormLimit:
    """
    The rate limit of one public form, per address and hour: `accepted` submissions it took, and
    `failed` ones, counted apart. `reached()` before handling a submission; then `accept()` or `fail()`.
    """

    def __init__(self, request, *, scope: str, accepted: int, failed: int | None = None, window_seconds: int = HOUR):
        self.request = request
        self.address_hash = address_hash(request)  # once: each of its keys names the address
        self.scope = scope
        self.accepted = accepted
        self.failed = settings.FAILED_SUBMISSION_RATE_LIMIT if failed is None else failed
        self.window_seconds = window_seconds

    def reached(self) -> bool:
        """True when either count is at its limit: this submission is refused, and not counted."""
        accepted, failed = self._key(self.scope), self._key(f"{self.scope}:failed")
        counts = cache.get_many([accepted, failed])  # one round trip to the cache
        return counts.get(accepted, 0) >= self.accepted or counts.get(failed, 0) >= self.failed

    def accept(self) -> None:
        _hit(self._key(self.scope), limit=self.accepted, window_seconds=self.window_seconds)

    def fail(self) -> None:
        _hit(self._key(f"{self.scope}:failed"), limit=self.failed, window_seconds=self.window_seconds)

    def _key(self, scope: str) -> str:
        return _key_for(self.address_hash, scope, self.window_seconds)
