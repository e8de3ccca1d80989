"""
Per-user caching of item responses: the whole key scheme lives here.

Pages are stored by Django's `cache_page`, varied on `Authorization`, under a key prefix that
carries a *version*: the owner's own for a regular user, a global one for superusers (whose
listings show every owner's items). A change to an item replaces the versions of the owners
it touches, and the global one, once the transaction commits; the next request then builds
keys nobody has written yet, so it reads the database and sees the change.

A version is a random token, not a counter: a version that vanishes (eviction, flush, a Redis
restart) is replaced by a fresh token, so an older page can never be addressed again.
Versions go through the "strict" cache alias, which raises instead of hiding Redis errors:
a request whose version cannot be read (Redis down or hung) pays one socket timeout and
bypasses the page cache, reading the database.
"""

import functools
import logging
import uuid

from django.conf import settings
from django.core.cache import caches
from django.db import transaction
from django.utils.cache import patch_cache_control
from django.views.decorators.cache import cache_page

logger = logging.getLogger(__name__)

KEY_PREFIX = "items"
ALL_OWNERS = "all"


def version_key(scope) -> str:
    return f"{KEY_PREFIX}:version:{scope}"


def scope_for(user) -> str:
    """Whose version a user's responses depend on: their own, or every owner's."""
    return ALL_OWNERS if user.is_superuser else str(user.pk)


def new_version() -> str:
    return uuid.uuid4().hex


def current_version(scope) -> str | None:
    """The scope's version, created on first use; None when the cache does not answer."""
    versions, key = caches["strict"], version_key(scope)
    try:
        version = versions.get(key)
        if version is None:
            candidate = new_version()
            # `add` keeps whichever process got there first; read back the winner.
            version = candidate if versions.add(key, candidate, None) else versions.get(key)
    except Exception:
        logger.warning("Item cache versions unavailable; serving from the database")
        return None
    return version


def bump_versions(owner_ids) -> None:
    """Give the owners, and the superusers' global scope, fresh versions (one round trip)."""
    scopes = {str(owner_id) for owner_id in owner_ids} | {ALL_OWNERS}
    caches["strict"].set_many({version_key(scope): new_version() for scope in scopes}, None)


def bump_versions_on_commit(owner_ids) -> None:
    """Bump once the surrounding transaction commits (at once outside one)."""
    owner_ids = set(owner_ids)
    transaction.on_commit(lambda: _bump_quietly(owner_ids))


def _bump_quietly(owner_ids):
    try:
        bump_versions(owner_ids)
    except Exception:
        # The write has committed; pages may be stale for up to ITEMS_CACHE_TTL.
        logger.exception("Could not bump item cache versions for %d owner(s)", len(owner_ids))


def cache_per_user(view_method):
    """
    Serve a ViewSet action from the page cache, per user and version.

    Applied to the action, not to `dispatch`, so authentication, permissions and throttles
    have already passed: a revoked token or a deactivated user never gets a cached page.
    Browsers and shared caches get `private, no-cache` (always revalidate, with the ETag from
    ConditionalGetMiddleware). `cache_page` stores a DRF response only once it is rendered
    and refuses one already marked private, so the header is set after rendering too, by a
    post-render callback registered after its own.
    """

    @functools.wraps(view_method)
    def wrapper(viewset, request, *args, **kwargs):
        ttl = settings.ITEMS_CACHE_TTL
        version = current_version(scope_for(request.user)) if ttl > 0 else None
        if version is None:
            response = view_method(viewset, request, *args, **kwargs)
        else:
            cached_view = cache_page(ttl, key_prefix=f"{KEY_PREFIX}:{version}")(
                functools.partial(view_method, viewset)
            )
            response = cached_view(request, *args, **kwargs)
        response.add_post_render_callback(mark_private)
        return response

    return wrapper


def mark_private(response):
    """Replace the public lifetime `cache_page` gave the page with "always revalidate"."""
    del response["Expires"]
    del response["Cache-Control"]
    patch_cache_control(response, private=True, no_cache=True)
    return response
