"""
Per-owner caching of a resource's responses: the whole key scheme lives here.

Each cached resource declares one `PageCache` on its model (a namespace and the name of its
TTL setting). A page is stored whole (body, headers, ETag) under one key, computed without a
lookup from the user, the URL and a *version* per scope: the owner's own for a user who sees one
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

import hashlib
import logging
import os
import threading
import uuid

import redis
from django.conf import settings
from django.core.cache import caches
from django.db import transaction
from django.http import HttpResponse
from django.utils.cache import patch_cache_control, patch_vary_headers, set_response_etag
from django.utils.functional import cached_property
from django_redis.client import DefaultClient

from config import metrics

logger = logging.getLogger(__name__)

ALL_OWNERS = "all"
# The layout of a stored page, part of its key: a process never serves a page stored by
# code that shaped it otherwise (headers are stored final since layout 2).
PAGE_LAYOUT = 2
# What `request.get_host()` reads: with the scheme and the path, the absolute URL's parts.
URL_HEADERS = (
    "HTTP_X_FORWARDED_HOST",
    "HTTP_X_FORWARDED_PORT",
    "HTTP_HOST",
    "SERVER_NAME",
    "SERVER_PORT",
)
# What `RowCache.get` returns as the keys it was asked to read along when Redis did not answer.
UNAVAILABLE = object()


def new_version() -> int:
    """
    A random 128-bit version. An int because django-redis stores ints as they are: read on
    every request, it decodes in a fraction of the time a pickled, compressed string takes.
    """
    return uuid.uuid4().int


class ModelCache:
    """
    What a cache declared on a model has: a key namespace, a TTL read from a setting (so
    tests and deployments change it without code), and versions under `namespace:version:`.
    """

    def __init__(self, namespace: str, *, ttl_setting: str):
        self.namespace = namespace
        self.ttl_setting = ttl_setting
        self.model = None

    def contribute_to_class(self, model, name):
        self.model = model
        setattr(model, name, self)

    def __repr__(self):
        return f"<{type(self).__name__} {self.namespace}>"

    @property
    def ttl(self) -> int:
        return getattr(settings, self.ttl_setting)

    def version_key(self, scope) -> str:
        return f"{self.namespace}:version:{scope}"


class PageCache(ModelCache):
    """One resource's cached pages: `page_cache = PageCache("items", ttl_setting="...")`."""

    def scope_for(self, user) -> str:
        """Whose version a user's responses depend on: one owner's, or every owner's."""
        owner = self.owner_rule.visible_owner(user)
        return ALL_OWNERS if owner is None else str(owner.pk)

    @cached_property
    def owner_rule(self):
        # `visible_owner` is a queryset method, for `owned_by`; through the manager it would
        # build a queryset for every cached page. Never evaluated, so safe to share.
        return self.model.all_objects.all()

    def candidate_version_keys(self, user_id) -> list:
        """The version keys a user's pages can depend on, before the user is loaded."""
        return [self.version_key(str(user_id)), self.version_key(ALL_OWNERS)]

    def current_version(self, scope, *, prefetched=None) -> int | None:
        """
        The scope's version, created on first use; None when the cache does not answer.

        `prefetched` is what the authentication read with the user (`RowCache.get`): its
        value for the key when found, or UNAVAILABLE when Redis did not answer then, so a
        hung Redis costs a request one socket timeout, not two.
        """
        key = self.version_key(scope)
        if prefetched is UNAVAILABLE:
            return None
        version = (prefetched or {}).get(key)
        if version is not None:
            return version
        versions = caches["strict"]
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

    def page_key(self, user_id, request) -> str:
        """
        A page's key, known before the user is loaded: the response is a function of the
        user, the absolute URL (pagination links carry the host) and, with several renderers,
        `Accept`. The URL goes in as the parts Django builds it from, not built: equal parts
        make equal URLs, and building one (validating the host again, quoting) cost 4 % of a
        cached page; `CommonMiddleware` has refused a disallowed host already. The version is
        stored with the page, not in its key, so the authentication can read the page in the
        same round trip as the user and the versions.
        """
        meta = request.META
        parts = [
            request.scheme,
            *(meta.get(name, "") for name in URL_HEADERS),
            request.path,
            meta.get("QUERY_STRING", ""),
            meta.get("HTTP_ACCEPT", ""),
        ]
        # A list's repr quotes each part: no two different lists give the same key.
        key = f"{PAGE_LAYOUT}|{user_id}|{parts!r}"
        digest = hashlib.md5(key.encode(), usedforsecurity=False)
        return f"{self.namespace}:page:{digest.hexdigest()}"

    def prefetch_keys(self, request):
        """What `request` may read, as a function of the token's user id (see `RowCache.get`)."""

        def keys(user_id):
            # Kept for `serve`, which would otherwise compute the same key again.
            request.prefetched_page_key = (str(user_id), self.page_key(user_id, request))
            return [*self.candidate_version_keys(user_id), request.prefetched_page_key[1]]

        return keys

    def page_key_for(self, request) -> str:
        user_id, key = getattr(request, "prefetched_page_key", (None, None))
        if user_id == str(request.user.pk):
            return key
        return self.page_key(request.user.pk, request)

    def serve(self, view, request, *args, **kwargs):
        """
        Answer `view(request, ...)` from the page cache, per user and version.

        Called from a view's handler (a ViewSet action, a `retrieve`), not `dispatch`, so
        authentication, permissions and throttles have already passed: a revoked token or a
        deactivated user never gets a cached page. A page is stored whole (body and final
        headers) with the version it was rendered under, and served only while that is still
        the scope's version: like a `RowCache` entry, a page rendered before a change can only
        be stored dead. Every response, stored or not, gets `finish`'s headers.
        """
        ttl = self.ttl
        prefetched = getattr(request, "prefetched_cache", None)
        if request.method not in ("GET", "HEAD"):
            return self.serve_uncached(view, request, *args, **kwargs)
        if ttl <= 0 or prefetched is UNAVAILABLE:
            metrics.count_page(self.namespace, "bypass")
            return self.serve_uncached(view, request, *args, **kwargs)
        version = self.current_version(self.scope_for(request.user), prefetched=prefetched)
        if version is None:
            metrics.count_page(self.namespace, "bypass")
            return self.serve_uncached(view, request, *args, **kwargs)
        key = self.page_key_for(request)
        try:
            stored = prefetched.get(key) if prefetched is not None else caches["strict"].get(key)
        except Exception:
            logger.warning("%s pages unavailable; serving from the database", self)
            metrics.count_page(self.namespace, "bypass")
            return self.serve_uncached(view, request, *args, **kwargs)
        if stored is not None and stored[0] == version:
            metrics.count_page(self.namespace, "hit")
            return page_from_cache(stored)
        metrics.count_page(self.namespace, "miss")

        def store(response):
            storable = response.status_code == 200 and request.method == "GET"
            self.finish(response, stored=storable)
            if storable:
                try:
                    caches["strict"].set(key, (version, *page_for_cache(response)), ttl)
                except Exception:
                    logger.warning("%s pages unavailable; the page stays unstored", self)
            return response

        response = view(request, *args, **kwargs)
        response.add_post_render_callback(store)
        return response

    def serve_uncached(self, view, request, *args, **kwargs):
        response = view(request, *args, **kwargs)
        response.add_post_render_callback(lambda response: self.finish(response, stored=False))
        return response

    def finish(self, response, *, stored: bool):
        """
        The headers of every response of the resource, stored with its pages: browsers may
        keep a page, per token, but revalidate it every time (`private, no-cache` and, on a
        stored page, its ETag, which ConditionalGetMiddleware compares).
        """
        if stored:
            set_response_etag(response)
        return mark_private(response)


class UserPageCache(PageCache):
    """
    Pages that show the requesting user's own row and nothing else, such as the account:
    `me_page = UserPageCache(auth_cache, ttl_setting="...")`. Their version is the row's
    `RowCache` version, which every change to the user replaces (saves, queryset updates,
    deletion, token revocation), so they need no bump of their own, and authentication reads
    the version and the page in its one round trip. A page showing anything else (another
    table, the time) would go stale: do not cache it this way.

    Their responses keep the headers the rest of the stack gives them (the account's are
    `no-store`, see `config.middleware`): no ETag, no `private` added here.
    """

    def __init__(self, rows: "RowCache", *, ttl_setting: str):
        super().__init__(rows.namespace, ttl_setting=ttl_setting)
        self.rows = rows

    def version_key(self, scope) -> str:
        return self.rows.version_key(scope)

    def scope_for(self, user) -> str:
        return str(user.pk)

    def candidate_version_keys(self, user_id) -> list:
        return [self.version_key(str(user_id))]

    def finish(self, response, *, stored: bool):
        return response


def page_for_cache(response) -> tuple:
    return response.content, list(response.items())


def page_from_cache(stored) -> HttpResponse:
    _version, content, headers = stored
    return HttpResponse(content, headers=dict(headers))


def serve_uncached(view, request, *args, **kwargs):
    """Answer from the database, with a cached resource's private, revalidated headers."""
    response = view(request, *args, **kwargs)
    response.add_post_render_callback(mark_private)
    return response


def mark_private(response):
    """Browsers may keep the page, per token, but must revalidate it (ETag) every time."""
    patch_cache_control(response, private=True, no_cache=True)
    patch_vary_headers(response, ["Authorization"])
    return response


class RowCache(ModelCache):
    """
    An exact cache of what a hot path needs of one row, declared on its model like a
    `PageCache`: `auth_cache = RowCache("users", ttl_setting="USER_CACHE_TTL")`.

    Each entry is stored with the version it was read under, and counts only while that is
    still the row's version. A change writes a fresh random version at once and again when
    its transaction commits (`bump_on_commit`), so a reader that loaded the row before the
    commit can only store a dead entry. A missing version is created *before* the row is
    loaded, so a version that vanishes (eviction, a restart) can never match an older entry
    again. Entries expire after the TTL (eviction under `volatile-lru` only costs a miss);
    versions have no TTL, like the page caches', one small key per user.

    Reads go through the "strict" alias: when Redis does not answer, the row comes from the
    database and nothing else is tried in Redis for that read.
    """

    def entry_key(self, pk) -> str:
        return f"{self.namespace}:row:{pk}"

    def get(self, pk, *, load, also=()) -> tuple:
        """
        `(data, also_values)`: the row's cached data, or `load()`'s on a miss, and the values
        of the keys in `also` (version keys a view will need), read in the same round trip;
        `also_values` is UNAVAILABLE when Redis did not answer.
        """
        store, ttl = caches["strict"], self.ttl
        version_key, entry_key = self.version_key(pk), self.entry_key(pk)
        try:
            found = read_many(store, [version_key, entry_key, *also] if ttl > 0 else list(also))
        except Exception:
            logger.warning("%s unavailable; reading the database", self)
            return load(), UNAVAILABLE
        also_values = {key: found[key] for key in also if key in found}
        if ttl <= 0:
            return load(), also_values
        version, entry = found.get(version_key), found.get(entry_key)
        if version is not None and entry is not None and entry[0] == version:
            return entry[1], also_values
        try:
            if version is None:
                candidate = new_version()
                added = store.add(version_key, candidate, None)
                version = candidate if added else store.get(version_key)
        except Exception:
            logger.warning("%s unavailable; reading the database", self)
            return load(), also_values
        data = load()
        if version is not None and data is not None:
            try:
                store.set(entry_key, (version, data), ttl)
            except Exception:
                logger.warning("%s unavailable; the row stays uncached", self)
        return data, also_values

    def bump_on_commit(self, pks, *, using=None, with_pages=False) -> None:
        """
        Give the rows fresh versions now and again once the surrounding transaction commits,
        one round trip each time however many rows. The commit is what other processes wait
        for; the first bump serves readers on this connection, which see the change before
        it commits (tests run that way).
        `with_pages`: join the page caches' bumps of the transaction (`PendingBumps`, one
        round trip), for a change that moves pages too, such as deleting an owner.
        """
        keys = {self.version_key(pk) for pk in pks}
        if not keys:
            return
        PendingBumps.write_now(keys)
        if not transaction.get_connection(using).in_atomic_block:
            return  # autocommit: the change has committed already
        if with_pages:
            PendingBumps.add(keys, using=using)
        else:
            transaction.on_commit(lambda: PendingBumps.write_now(keys), using=using)


def read_many(store, keys) -> dict:
    """
    `store.get_many(keys)`: on django-redis, one MGET on the thread's held redis-py
    connection (`redis_command`).

    This is the one round trip of an authenticated request (`RowCache.get`). Through
    `get_many`, django-redis's wrappers and redis-py's command layer (retries, event hooks,
    metrics recorders) nearly double the cost of the MGET itself: 40 µs of CPU against 21 µs
    here, before decoding, and 3 % of a cached page's instructions (README, "Benchmark").
    Keys and values are still django-redis's own (`make_key`, `decode`).
    """
    client = getattr(store, "client", None)
    if not isinstance(client, DefaultClient):
        return store.get_many(keys)  # another backend (the in-memory one without Redis)
    values = redis_command(client, "MGET", *(client.make_key(key) for key in keys))
    found = zip(keys, values, strict=True)
    return {key: client.decode(value) for key, value in found if value is not None}


def write_versions(keys) -> None:
    """
    Fresh versions for `keys`, kept until replaced: on django-redis one MSET, atomic like the
    MULTI/EXEC pipeline of SETs that `set_many` sends, for 6 % of a create's instructions less.
    """
    store, versions = caches["strict"], {key: new_version() for key in keys}
    client = getattr(store, "client", None)
    if not isinstance(client, DefaultClient):
        store.set_many(versions, None)
        return
    pairs = [
        part
        for key, version in versions.items()
        for part in (client.make_key(key), client.encode(version))
    ]
    redis_command(client, "MSET", *pairs, write=True)


def redis_command(client, *args, write=False):
    """
    One command on this thread's own connection (`HeldConnections`) to the pool of
    django-redis' `client` (see `read_many`). A connection that fails is dropped, never reused
    half-read. Only when the server has closed a connection since its last command (a restart,
    an idle timeout) is the command sent once more, on a new one: a timeout is final, so a
    hung Redis costs one.
    """
    pool = client.get_client(write=write).connection_pool
    while True:
        held = held_connections.get(pool)
        try:
            return held.command(args)
        except BaseException as error:
            held_connections.drop(pool)
            if not (held.used and isinstance(error, redis.ConnectionError)):
                raise


class HeldConnections(threading.local):
    """
    A redis-py connection per thread and pool, kept from one request to the next, as Django
    keeps a database connection per thread. Checking one out of redis-py's pool and back in
    for every command (a lock, observability hooks, a readiness poll of three system calls)
    cost 2 to 4 % of a cached page's instructions (README, "Benchmark"). A held connection is
    still counted in the pool's use: `pool.disconnect()` closes it (its next command
    reconnects), and it goes back when its thread ends. A forked process gets its own.
    """

    def __init__(self):
        self.held = {}

    def get(self, pool) -> "HeldConnection":
        held = self.held.get(pool)
        if held is None or held.connection.pid != os.getpid():
            held = self.held[pool] = HeldConnection(pool)
        return held

    def drop(self, pool) -> None:
        self.held.pop(pool).release()


class HeldConnection:
    connection = None  # until the pool gives one (it connects, and may raise)

    def __init__(self, pool):
        self.pool = pool
        self.connection = pool.get_connection()
        self.used = False  # whether a command has gone through it

    def command(self, args):
        self.connection.send_command(*args)
        response = self.connection.read_response()
        self.used = True
        return response

    def release(self) -> None:
        """Closed and back to the pool; at most once (and again from `__del__` is a no-op)."""
        connection, self.connection = self.connection, None
        if connection is not None:
            connection.disconnect()
            self.pool.release(connection)

    def __del__(self):
        # Its thread has ended (runserver's end with their request), or a fork replaced it.
        try:  # noqa: SIM105 (at exit, module globals such as `contextlib` are gone)
            self.release()
        except Exception:  # as redis-py's own `Connection.__del__`
            pass


held_connections = HeldConnections()


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
            cls.write_now(set(keys))
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
        self.write_now(self.keys)

    @staticmethod
    def write_now(keys) -> None:
        try:
            write_versions(keys)
        except Exception:
            # The write has committed; pages may be stale for up to the resource's TTL.
            logger.exception("Could not bump %d page cache version(s)", len(keys))
