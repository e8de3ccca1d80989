"""
What the app keeps in Redis, on a private redis-server configured as in production: pages
compressed, and a TTL on every key but the cache versions, so that the eviction policy of
docker-compose.yml (`volatile-lru`) can only ever drop what is safe to lose.
"""

import lz4.frame
import pytest
import yaml
from django.core.cache import caches
from django.urls import reverse

from accounts.throttles import ResilientUserRateThrottle
from items.tests.factories import ItemFactory
from testing.image import ROOT

pytestmark = pytest.mark.django_db

ITEMS = reverse("item-list")


def ttls(redis):
    """Every key of the server with its TTL in seconds (-1: none)."""
    client = redis.client()
    return {key.decode(): client.ttl(key) for key in client.scan_iter()}


def test_cached_pages_are_stored_compressed(redis_caches, auth_client, user):
    ItemFactory.create_batch(20, owner=user)
    page = auth_client.get(ITEMS, {"page_size": 20})
    assert page.status_code == 200

    client = redis_caches.client()
    (page_key,) = client.scan_iter(caches["strict"].make_key("items:page:*"))
    stored = client.get(page_key)
    raw = lz4.frame.decompress(stored)  # raises unless compressed
    assert len(stored) < len(raw) * 0.6
    assert page.content in raw
    # And served from there: the second request is the same page.
    assert auth_client.get(ITEMS, {"page_size": 20}).content == page.content


def test_every_key_but_the_cache_versions_expires(
    redis_caches, auth_client, user, superuser_client, api_client, client, monkeypatch
):
    monkeypatch.setitem(ResilientUserRateThrottle.THROTTLE_RATES, "user", "100/min")
    item = ItemFactory(owner=user)
    auth_client.get(ITEMS)
    auth_client.get(reverse("item-detail", args=[item.pk]))
    superuser_client.get(ITEMS)
    api_client.post(reverse("auth-token"), {"email": user.email, "password": "wrong"})
    api_client.post(reverse("auth-password-reset"), {"email": user.email})
    client.post(reverse("admin:login"), {"username": user.email, "password": "wrong"})
    api_client.get(reverse("health-ready"))

    stored = ttls(redis_caches)
    versions = {key for key in stored if ":version:" in key}
    # The owner's and the superusers' pages, and the two users' authentication entries.
    namespaces = {caches["strict"].make_key(namespace) for namespace in ("items", "users")}
    assert {key.split(":version:")[0] for key in versions} == namespaces
    assert len(versions) == 4
    assert {key for key, ttl in stored.items() if ttl < 0} == versions
    for kind in [
        "items:page:",
        "users:row:",
        "throttle_login",
        "throttle_password_reset",
        "throttle_user",
        "health",
    ]:
        assert any(kind in key for key in stored), kind


def compose_redis_options():
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    command = compose["services"]["redis"]["command"]
    return dict(zip(command[1::2], command[2::2], strict=False))


def test_compose_bounds_redis_memory_and_evicts_only_keys_with_a_ttl():
    options = compose_redis_options()
    assert options["--maxmemory-policy"] == "volatile-lru"
    assert options["--maxmemory"].endswith(("mb", "gb"))


# Transactional: the page versions are bumped when the write commits, as in production.
@pytest.mark.django_db(transaction=True)
def test_a_full_redis_evicts_pages_never_versions(
    redis_caches, auth_client, user, superuser_client
):
    ItemFactory.create_batch(100, owner=user)
    client = redis_caches.client()
    client.config_set("maxmemory-policy", compose_redis_options()["--maxmemory-policy"])
    # The superusers' version is then left cold: the first a policy by recency would drop.
    assert superuser_client.get(ITEMS).status_code == 200
    assert auth_client.get(ITEMS).status_code == 200
    versions = {key: client.get(key) for key in client.scan_iter() if b":version:" in key}
    assert len(versions) == 4  # two page scopes, two users' authentication entries
    # Room for a few pages only; then 60 more pages of 41 to 100 items (5-15 kB each).
    client.config_set("maxmemory", client.info("memory")["used_memory"] + 150_000)
    for size in range(41, 101):
        assert auth_client.get(ITEMS, {"page_size": size}).status_code == 200

    assert client.info("stats")["evicted_keys"] > 0
    assert {key: client.get(key) for key in versions} == versions
    # Still exact: a write shows at once, full or not, even to a page cached just before it.
    assert auth_client.get(ITEMS).status_code == 200
    assert auth_client.post(ITEMS, {"title": "after the squeeze"}).status_code == 201
    assert auth_client.get(ITEMS).json()["results"][0]["title"] == "after the squeeze"
