"""
Signed tokens for the links mailed to users: email verification and email change.

Signed with Django's `signing` (the secret key, a salt per purpose, an expiry), so no table of
pending links is needed; the user row holds what makes a link single-use or superseded.

- Verification: `{user, email}`. It proves the address the account has now; a link for an
  earlier address fails once the address changes.
- Email change: `{user, email, requested, fingerprint}`, the new address, the time of the
  request and the fingerprint of the user's tokens then. The user row keeps only
  `email_change_requested_at`, which must equal `requested`: a newer request supersedes older
  links, and confirming clears it, so a link works once. A password change or deactivation
  changes the fingerprint and so cancels a pending change.
"""

from django.conf import settings
from django.core import signing

VERIFY_EMAIL_SALT = "accounts.links.verify-email"
CHANGE_EMAIL_SALT = "accounts.links.change-email"


class InvalidLink(Exception):
    """Tampered with, expired, or not a token of this kind."""


def make(salt: str, **payload) -> str:
    return signing.dumps(payload, salt=salt, compress=True)


def read(salt: str, token: str) -> dict:
    try:
        payload = signing.loads(token, salt=salt, max_age=settings.ACCOUNT_EMAIL_LINK_TIMEOUT)
    except signing.BadSignature:  # SignatureExpired is one
        raise InvalidLink from None
    if not isinstance(payload, dict):
        raise InvalidLink
    return payload


def frontend_url(path: str, token: str) -> str:
    return f"{settings.FRONTEND_URL}/{path}?token={token}"


def email_context(path: str, token: str) -> dict:
    """What a mail carrying the link shows: the link, and how long it works."""
    return {
        "url": frontend_url(path, token),
        "expiry_hours": settings.ACCOUNT_EMAIL_LINK_TIMEOUT // 3600,
    }
