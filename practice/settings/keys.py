"""Key helpers for the settings modules (no Django imports: settings load before the apps)."""

import base64
import hashlib


def derived_key(secret: str) -> str:
    """A Fernet key derived from `secret`: for development and tests only, where data is throwaway."""
    return base64.urlsafe_b64encode(hashlib.sha256(b"field-encryption:" + secret.encode()).digest()).decode()
