"""
Per-owner caching of a resource's responses: the whole key scheme lives here.

Each cached resource declares one `PageCache` on its model (a namespace and the name of its
TTL setting). Pages are stored by Django's `cache_page`, varied on `Authorization`, under a
key prefix that carries a *version* per scope: the owner's own for a user who sees one
owner's rows, a global one for a user who sees every owner's. Which scope a user gets is not
decided here but by the model's `visible_owner` rule, the one `owned_by` filters with. A
change to a row replaces the versions of the owners it touches, and the global one, once the
transaction commits; the next request then builds keys nobody has written yet, so it reads
the database and sees the change.

One bump per transaction: the version keys a transaction touches, for every resource, are
collected in a pending set on its database connection and written by a single `on_commit`
callback in one round trip, however many rows and statements the transaction had.

A version is a random token, not a counter: a version that vanishes (eviction, flush, a Redis
restart) is replaced by a fresh token, so an older page can never be addressed again.
Versions go through the "strict" cache alias, which raises instead of hiding Redis errors:
a request whose version cannot be read (Redis down or hung) pays one socket timeout and
bypasses the page cache, reading the database.
"""

import logging
import uuid

from django.conf import settings
from django.core.cache import caches
from django.db import transaction
from django.utils.cache import patch_cache_control
from django.views.decorators.cache import cache_page

from config import metrics

logger = logging.getLogger(__name__)

ALL_OWNERS = "all"


def new_version() -> str:
    return uuid.uuid4().hex


class PageCache:
    """One resource's cached pages: `page_cache = PageCache("items", ttl_setting="...")`."""

    def __init__(self, namespace: str, *, ttl_setting: str):
        self.namespace = namespace
        self.ttl_setting = ttl_setting
        self.model = None

    def contribute_to_class(self, model, name):
        self.model = model
        setattr(model, name, self)

    def __repr__(self):
        return f"<PageCache {self.namespace}>"

    @property
    def ttl(self) -> int:
        return getattr(settings, self.ttl_setting)

    def version_key(self, scope) -> str:
        return f"{self.namespace}:version:{scope}"

    def scope_for(self, user) -> str:
        """Whose version a user's responses depend on: one owner's, or every owner's."""
        owner = self.model.all_objects.visible_owner(user)
        return ALL_OWNERS if owner is None else str(owner.pk)

    def current_version(self, scope) -> str | None:
        """The scope's version, created on first use; None when the cache does not answer."""
        versions, key = caches["strict"], self.version_key(scope)
        try:
            version = versions.get(key)
            if version is None:
                candidate = new_version()
                # `add` keeps whichever process got there first; read back the winner.
                version = candidate if versions.add(key, candidate, None) else versions.get(key)
        except Exception:
            logger.warning("%s cache versions unavailable; serving from the database", self)
            return None
        return version

    def stale_keys(self, owner_ids) -> set:
        """The version keys a change to these owners' rows replaces, the global one too."""
        scopes = {str(owner_id) for owner_id in owner_ids} | {ALL_OWNERS}
        return {self.version_key(scope) for scope in scopes}

    def bump(self, owner_ids) -> None:
        """Give the owners, and the global scope, fresh versions now (one round trip)."""
        write_versions(self.stale_keys(owner_ids))

    def bump_on_commit(self, owner_ids, *, using=None) -> None:
        """Bump once the surrounding transaction commits (at once outside one)."""
        PendingBumps.add(self.stale_keys(owner_ids), using=using)

    def serve(self, view, request, *args, **kwargs):
        """
        Answer `view(request, ...)` from the page cache, per user and version.

        Called from a ViewSet action, not `dispatch`, so authentication, permissions and
        throttles have already passed: a revoked token or a deactivated user never gets a
        cached page. Browsers and shared caches get `private, no-cache` (always revalidate,
        with the ETag from ConditionalGetMiddleware). `cache_page` stores a DRF response only
        once it is rendered and refuses one already marked private, so the header is set
        after rendering too, by a post-render callback registered after its own.
        """
        ttl = self.ttl
        version = self.current_version(self.scope_for(request.user)) if ttl > 0 else None
        if version is None:
            metrics.count_page(self.namespace, "bypass")
            return serve_uncached(view, request, *args, **kwargs)
        rendered = []  # the view runs only on a miss

        def render(*args, **kwargs):
            rendered.append(True)
            return view(*args, **kwargs)

        cached_view = cache_page(ttl, key_prefix=f"{self.namespace}:{version}")(render)
        response = cached_view(request, *args, **kwargs)
        metrics.count_page(self.namespace, "miss" if rendered else "hit")
        response.add_post_render_callback(mark_private)
        return response


def serve_uncached(view, request, *args, **kwargs):
    """Answer from the database, with the same private, revalidated headers."""
    response = view(request, *args, **kwargs)
    response.add_post_render_callback(mark_private)
    return response


def mark_private(response):
    """Replace the public lifetime `cache_page` gave the page with "always revalidate"."""
    del response["Expires"]
    del response["Cache-Control"]
    patch_cache_control(response, private=True, no_cache=True)
    return response


def write_versions(keys) -> None:
    caches["strict"].set_many({key: new_version() for key in keys}, None)


class PendingBumps:
    """
    The version keys a transaction has made stale, written by one `on_commit` callback.

    Kept on the database connection (connections are per thread), so each transaction has
    its own. Django drops the callback when the transaction, or the savepoint it was
    registered in, rolls back; `add` then starts a new set with a new callback instead of
    filling one that will never be written. Django offers no hook for that, so `add` looks
    for the callback in the connection's list, which holds one entry per `on_commit` call.
    """

    attribute = "_page_cache_pending_bumps"

    def __init__(self):
        self.keys = set()
        self.done = False

    @classmethod
    def add(cls, keys, *, using=None) -> None:
        connection = transaction.get_connection(using)
        if not connection.in_atomic_block:
            # Autocommit: the write has committed already.
            cls._write(set(keys))
            return
        pending = getattr(connection, cls.attribute, None)
        if pending is None or pending.done or not pending.is_registered(connection):
            pending = cls()
            setattr(connection, cls.attribute, pending)
            transaction.on_commit(pending.flush, using=using)
        pending.keys |= set(keys)

    def is_registered(self, connection) -> bool:
        return any(callback == self.flush for _, callback, _ in connection.run_on_commit)

    def flush(self) -> None:
        self.done = True
        self._write(self.keys)

    @staticmethod
    def _write(keys) -> None:
        try:
            write_versions(keys)
        except Exception:
            # The write has committed; pages may be stale for up to the resource's TTL.
            logger.exception("Could not bump %d page cache version(s)", len(keys))
