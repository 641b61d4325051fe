"""
Encryption at rest for health details: reasons for consultations, enquiry messages, replies and notes.

Keys come from the environment: FIELD_ENCRYPTION_KEYS is a comma-separated list of Fernet keys
(`manage.py generate_encryption_key` prints a new one). The first key encrypts; every key decrypts,
so a key is rotated by putting a new key first, running `manage.py rotate_encryption_keys` (which
re-encrypts every stored value with the first key), then removing the old key.

A stored value is "fernet:" followed by a Fernet token (AES-128-CBC with HMAC-SHA256, from the
`cryptography` library). A value without the prefix is plain text written before encryption was
switched on, and is read as it is until the data migration or the rotation command re-saves it.
Empty text stays empty, so that "no reason given" needs no key.

Why a field of our own rather than a package: the maintained options either wrap a whole model or
lack key rotation; this is a thin layer over `cryptography`'s MultiFernet, which does the cryptography.
"""

from functools import lru_cache

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db import models

from cryptography.fernet import Fernet, InvalidToken, MultiFernet

PREFIX = "fernet:"


class DecryptionError(Exception):
    """A stored value that none of the configured keys opens: FIELD_ENCRYPTION_KEYS is missing a key."""


def generate_key() -> str:
    return Fernet.generate_key().decode()


@lru_cache(maxsize=4)
def _fernet(keys: tuple[str, ...]) -> MultiFernet:
    if not keys:
        raise ImproperlyConfigured("Set FIELD_ENCRYPTION_KEYS: health details are stored encrypted.")
    try:
        return MultiFernet([Fernet(key.encode()) for key in keys])
    except ValueError as error:
        raise ImproperlyConfigured(
            "FIELD_ENCRYPTION_KEYS holds a value that is not a Fernet key "
            "(32 url-safe base64-encoded bytes; `manage.py generate_encryption_key` makes one)."
        ) from error


def fernet() -> MultiFernet:
    return _fernet(tuple(settings.FIELD_ENCRYPTION_KEYS))


def encrypt(text: str) -> str:
    if not text:
        return text
    return PREFIX + fernet().encrypt(text.encode()).decode()


def decrypt(stored: str) -> str:
    if not stored or not stored.startswith(PREFIX):
        return stored
    try:
        return fernet().decrypt(stored[len(PREFIX) :].encode()).decode()
    except InvalidToken:
        raise DecryptionError(
            "A stored health detail cannot be decrypted with FIELD_ENCRYPTION_KEYS; add the key it was written with."
        ) from None


def rotate(stored: str) -> str:
    """The same text encrypted with the first key (plain text from before encryption is encrypted)."""
    if not stored:
        return stored
    if not stored.startswith(PREFIX):
        return encrypt(stored)
    return PREFIX + fernet().rotate(stored[len(PREFIX) :].encode()).decode()


class EncryptedTextField(models.TextField):
    """Text stored encrypted; reads give the plain text. It cannot be searched or filtered by content."""

    def from_db_value(self, value, expression, connection):
        return None if value is None else decrypt(value)

    def get_prep_value(self, value):
        value = super().get_prep_value(value)
        return None if value is None else encrypt(value)

    def get_lookup(self, lookup_name):
        # Each encryption of the same text differs, so no lookup on the content can work.
        return super().get_lookup(lookup_name) if lookup_name == "isnull" else None


def encrypted_fields():
    """(model, field name) for every encrypted field of the installed models."""
    from django.apps import apps

    return [
        (model, field.name)
        for model in apps.get_models()
        for field in model._meta.get_fields()
        if isinstance(field, EncryptedTextField)
    ]
