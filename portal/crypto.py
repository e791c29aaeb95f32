"""Encryption of secrets that must stay recoverable (the UAC passwords the switch presents)."""

from functools import lru_cache

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured


@lru_cache(maxsize=4)
def _fernet(keys):
    try:
        return MultiFernet([Fernet(key) for key in keys])
    except ValueError as exc:
        raise ImproperlyConfigured(
            "PORTAL_ENCRYPTION_KEYS holds a key that is not a valid Fernet key"
        ) from exc


def fernet():
    return _fernet(tuple(settings.PORTAL_ENCRYPTION_KEYS))


def encrypt(plaintext):
    return fernet().encrypt(plaintext.encode()).decode()


def decrypt(token):
    try:
        return fernet().decrypt(token.encode()).decode()
    except InvalidToken as exc:
        raise ImproperlyConfigured(
            "A stored secret cannot be decrypted with any key in PORTAL_ENCRYPTION_KEYS"
        ) from exc


def rotate(token):
    """Re-encrypt a token with the first (current) key."""
    return fernet().rotate(token.encode()).decode()
