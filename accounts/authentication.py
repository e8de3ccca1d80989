"""
JWT authentication that reads the user from an exact cache, not the database.

What authentication needs of the user (every field but the password hash, and the token
fingerprint computed from it) is kept in `User.auth_cache`, an exact `core.cache.RowCache`
that every change to the user bumps once it commits (`accounts.signals`). A revoked token
is therefore refused on the very next request on every process, and an authenticated request
whose user is cached touches no database at all. A view may name cache keys it will read
next (`request.prefetch_for_user`, see `core.views.CachedPagesMixin`): they are read in the
same round trip as the user.
"""

import functools

from django.core.signals import setting_changed
from django.db import router
from django.dispatch import receiver
from django.utils.crypto import constant_time_compare
from django.utils.translation import gettext_lazy as _
from rest_framework_simplejwt import authentication
from rest_framework_simplejwt.exceptions import AuthenticationFailed, InvalidToken, TokenError
from rest_framework_simplejwt.settings import api_settings
from rest_framework_simplejwt.utils import aware_utcnow

from .models import User
from .tokens import FINGERPRINT_CLAIM, token_fingerprint

# Loaded on demand if a view needs it (a password check); never stored in the cache.
UNCACHED_FIELDS = {"password"}
# Access tokens whose signature and claims a process has checked, most recent first.
VERIFIED_TOKENS_KEPT = 1024


@functools.lru_cache(maxsize=VERIFIED_TOKENS_KEPT)
def verified_token(raw_token: bytes):
    """
    simplejwt's validation of a token, remembered per process for the exact same bytes: an
    SPA sends one access token for its whole life, and PyJWT's decoding (base64, JSON,
    HMAC, claims) is a tenth of a cached page's time. Only what cannot change is remembered:
    the expiry is checked again on every use, and revocation is the user's fingerprint,
    compared on every request. A token that fails is never kept (it raises).
    """
    return authentication.JWTAuthentication().get_validated_token(raw_token)


@receiver(setting_changed)
def forget_verified_tokens(*, setting, **kwargs):
    if setting == "SIMPLE_JWT":  # another signing key or lifetime: check everything again
        verified_token.cache_clear()


def auth_state(user_id) -> dict | None:
    """What authentication keeps of a user: the row without its password hash, the fingerprint."""
    user = User.objects.filter(pk=user_id).first()
    if user is None:
        return None
    fields = {
        field.attname: getattr(user, field.attname)
        for field in User._meta.concrete_fields
        if field.attname not in UNCACHED_FIELDS
    }
    return {"fields": fields, "fingerprint": token_fingerprint(user)}


def user_from_state(state) -> User:
    """The user as the database would give it, the password deferred (read if ever used)."""
    fields = state["fields"]
    return User.from_db(router.db_for_read(User), list(fields), list(fields.values()))


class JWTAuthentication(authentication.JWTAuthentication):
    """simplejwt's authentication, refusing tokens that an account event has ended."""

    def authenticate(self, request):
        header = self.get_header(request)
        if header is None:
            return None
        raw_token = self.get_raw_token(header)
        if raw_token is None:
            return None
        validated_token = self.get_validated_token(raw_token)
        prefetch = getattr(request, "prefetch_for_user", None)
        user, request.prefetched_cache = self.load_user(validated_token, prefetch=prefetch)
        return user, validated_token

    def get_validated_token(self, raw_token):
        token = verified_token(raw_token)
        try:
            token.check_exp(current_time=aware_utcnow())
        except TokenError:
            # Expired since it was checked: simplejwt's own validation gives the usual 401.
            return super().get_validated_token(raw_token)
        return token

    def get_user(self, validated_token):
        return self.load_user(validated_token)[0]

    def load_user(self, validated_token, *, prefetch=None):
        """`(user, prefetched)`: the token's user, checked, and the keys `prefetch` named."""
        try:
            user_id = str(validated_token[api_settings.USER_ID_CLAIM])
        except KeyError as error:
            raise InvalidToken(_("Token contained no recognizable user identification")) from error
        state, prefetched = User.auth_cache.get(
            user_id,
            load=lambda: auth_state(user_id),
            also=prefetch(user_id) if prefetch else (),
        )
        if state is None:
            raise AuthenticationFailed(_("User not found"), code="user_not_found")
        if api_settings.CHECK_USER_IS_ACTIVE and not state["fields"]["is_active"]:
            raise AuthenticationFailed(_("User is inactive"), code="user_inactive")
        if not constant_time_compare(
            validated_token.get(FINGERPRINT_CLAIM, ""), state["fingerprint"]
        ):
            raise AuthenticationFailed(_("The token has been revoked."), code="token_revoked")
        return user_from_state(state), prefetched
