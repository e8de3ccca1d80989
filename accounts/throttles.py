import logging

from django.core.cache import caches
from rest_framework import throttling

logger = logging.getLogger(__name__)


class ResilientCache:
    """
    The shared cache while it answers, a per-process one while it does not.

    The shared cache is configured to swallow its errors (a dead Redis must not fail a
    request), which would make every throttle history look empty and switch throttling off
    exactly when Redis is down. So throttles go to the cache that raises ("strict") and
    fall back to local memory.
    """

    def __init__(self, primary_alias, fallback_alias):
        self.primary_alias, self.fallback_alias = primary_alias, fallback_alias

    def get(self, key, default=None):
        try:
            return caches[self.primary_alias].get(key, default)
        except Exception:
            logger.warning("Throttle cache unavailable; using the per-process fallback")
            return caches[self.fallback_alias].get(key, default)

    def set(self, key, value, timeout=None):
        try:
            caches[self.primary_alias].set(key, value, timeout)
        except Exception:
            caches[self.fallback_alias].set(key, value, timeout)


RESILIENT_CACHE = ResilientCache("strict", "throttle_fallback")


class ResilientScopedRateThrottle(throttling.ScopedRateThrottle):
    """DRF's scoped throttle, kept in force when Redis is down."""

    cache = RESILIENT_CACHE


class LoginRateThrottle(throttling.SimpleRateThrottle):
    """
    The "login" scope for a sign-in form outside DRF: the admin's (see `config.admin`).

    `auth/token/` counts its attempts with `ScopedRateThrottle` under `throttle_scope =
    "login"`; being anonymous, it keys them on the client address. This throttle has the
    same scope, rate and address rule (`NUM_PROXIES`) and always keys on the address, even
    for a signed-in admin, so both forms count in the same history: one budget, and
    alternating between them gains nothing.
    """

    scope = "login"
    cache = RESILIENT_CACHE

    def get_cache_key(self, request, view):
        return self.cache_format % {"scope": self.scope, "ident": self.get_ident(request)}


class ResilientUserRateThrottle(throttling.UserRateThrottle):
    """
    Every authenticated request, per user, at `THROTTLE_USER_RATE`; off while it is unset.

    Unset, the rate is None and DRF's `allow_request` returns before touching the cache:
    no round trip on the hot path (the cached item pages). Anonymous requests are left to
    the scoped throttles (DRF's class would count them per address under this rate too).
    """

    cache = RESILIENT_CACHE

    def get_cache_key(self, request, view):
        if request.user and request.user.is_authenticated:
            return self.cache_format % {"scope": self.scope, "ident": request.user.pk}
        return None
