"""
The secret address of a practice admin's calendar feed (/calendar/<token>.ics).

Only a SHA-256 hash of the token is stored: the address is shown once, when it is made, and cannot
be shown again; replacing it makes the old address stop working (accounts/services.py).
"""

from django.conf import settings
from django.db import models


class CalendarFeedToken(models.Model):
    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="calendar_feed_token",
        help_text="Whose calendar address this is.",
    )
    token_hash = models.CharField(
        max_length=64, unique=True, editable=False, help_text="A fingerprint of the secret in the address."
    )
    created_at = models.DateTimeField(help_text="When the address was made.")
    last_used_at = models.DateTimeField(
        null=True, blank=True, help_text="When a calendar last fetched the address, if ever."
    )

    class Meta:
        verbose_name = "calendar address"
        verbose_name_plural = "calendar addresses"

    def __str__(self):
        return f"Calendar address of {self.user}"
