"""
The hot path's own Redis connections (`core.cache.HeldConnections`), on a private
redis-server: kept by each thread between requests, replaced when the server has closed
them, never shared with a forked process, back to the pool when their thread ends.
"""

import os
import threading

import pytest
from django.core.cache import caches

from core import cache
from items.tests.factories import ItemFactory

pytestmark = pytest.mark.django_db(transaction=True)

ITEMS = "/api/v1/items/"


def stored_kinds(redis):
    keys = [key.decode() for key in redis.client().scan_iter()]
    return {kind for kind in ("users:row:", "items:page:") if any(kind in key for key in keys)}


def clients_connected(redis) -> int:
    return len(redis.client().client_list()) - 1  # less the one asking


def test_a_redis_restart_between_requests_costs_no_cache_read(redis_caches, auth_client, user):
    ItemFactory(owner=user)
    assert auth_client.get(ITEMS).status_code == 200  # the thread now holds a connection
    redis_caches.stop()
    redis_caches.start()  # the same port, empty
    assert stored_kinds(redis_caches) == set()

    assert auth_client.get(ITEMS).json()["count"] == 1
    # Read on a new connection, not given up on: the user's entry and the page are stored.
    assert stored_kinds(redis_caches) == {"users:row:", "items:page:"}


def test_a_forked_process_reads_on_a_connection_of_its_own(redis_caches):
    strict = caches["strict"]
    strict.set("parent", "parent's value", None)
    assert cache.read_many(strict, ["parent"]) == {"parent": "parent's value"}
    read, write = os.pipe()
    child = os.fork()
    if child == 0:  # the child: read many times, then report
        os.close(read)
        status = 1
        try:
            values = [cache.read_many(strict, ["parent"]) for _ in range(200)]
            status = 0 if values == [{"parent": "parent's value"}] * 200 else 2
        finally:
            os.write(write, bytes([status]))
            os._exit(0)
    os.close(write)
    # Meanwhile the parent reads on its own connection: no reply ever goes astray.
    for _ in range(200):
        strict.set("parent", "parent's value", None)
        assert cache.read_many(strict, ["parent", "missing"]) == {"parent": "parent's value"}
    with os.fdopen(read, "rb") as reported:
        assert reported.read() == b"\x00"
    os.waitpid(child, 0)


def test_a_threads_connection_goes_back_when_the_thread_ends(redis_caches):
    # runserver serves each request on a thread of its own.
    strict = caches["strict"]
    cache.read_many(strict, ["warm"])
    before = clients_connected(redis_caches)

    for _ in range(5):
        thread = threading.Thread(target=cache.read_many, args=(strict, ["anything"]))
        thread.start()
        thread.join()

    assert clients_connected(redis_caches) <= before + 1
