"""
JWTs that end when the account's credentials do.

Every token carries a fingerprint of the user's password hash and `tokens_valid_after`. The
authentication and the refresh recompute it from the user row they load anyway, so a token
dies, with no extra query, when the password changes by any path (API, reset, admin,
`changepassword`) or when `tokens_valid_after` moves (deactivation, a confirmed email change).

A fingerprint rather than comparing `tokens_valid_after` with the token's `iat`: `iat` counts
whole seconds, so within the second of a revocation either an old token would survive or a
sign-in just after it would get a dead token. The fingerprint is exact.
"""

from django.utils.crypto import constant_time_compare, salted_hmac
from rest_framework_simplejwt import tokens
from rest_framework_simplejwt.settings import api_settings

FINGERPRINT_CLAIM = "fingerprint"


def token_fingerprint(user) -> str:
    value = f"{user.password}|{user.tokens_valid_after.isoformat()}"
    return salted_hmac(
        "accounts.tokens.fingerprint", value, secret=api_settings.SIGNING_KEY, algorithm="sha256"
    ).hexdigest()[:32]


def fingerprint_matches(token, user) -> bool:
    return constant_time_compare(token.get(FINGERPRINT_CLAIM, ""), token_fingerprint(user))


class FingerprintMixin:
    @classmethod
    def for_user(cls, user):
        token = super().for_user(user)
        token[FINGERPRINT_CLAIM] = token_fingerprint(user)
        return token


class AccessToken(FingerprintMixin, tokens.AccessToken):
    pass


class RefreshToken(tokens.BlacklistMixin, FingerprintMixin, tokens.Token):
    """
    simplejwt's `RefreshToken`, with the fingerprint added before `BlacklistMixin` records the
    token as outstanding (subclassing `RefreshToken` itself would add it after, so the stored
    token would lack it). Its access tokens copy its claims, the fingerprint included.
    """

    token_type = tokens.RefreshToken.token_type
    lifetime = tokens.RefreshToken.lifetime
    no_copy_claims = tokens.RefreshToken.no_copy_claims
    access_token_class = AccessToken
    access_token = tokens.RefreshToken.access_token
