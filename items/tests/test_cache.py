"""
The per-user page cache is never wrong: every path that changes an item shows at once, for
its owner and for superusers, and nothing leaks between users.

These tests run against the real configured cache (local memory on the embedded defaults,
Redis in CI's second pass); nothing here mocks it.
"""

import socket
import time
from io import StringIO

import pytest
from django.core.cache import caches
from django.core.management import call_command
from django.db import transaction
from django.db.models import QuerySet
from django.test import Client
from django.urls import reverse

from accounts.services import user_delete
from accounts.tests.factories import UserFactory
from core.cache import ALL_OWNERS
from items.models import Item
from testing.api import client_for

from .factories import ItemFactory

pytestmark = pytest.mark.django_db(transaction=True)

LIST_URL = "/api/v1/items/"


def detail_url(item):
    return f"/api/v1/items/{item.pk}/"


def titles(response):
    assert response.status_code == 200, response.content
    body = response.json()
    return sorted(row["title"] for row in body["results"]) if "results" in body else body["title"]


@pytest.fixture
def owner(db):
    return UserFactory()


@pytest.fixture
def owner_client(owner):
    return client_for(owner)


@pytest.fixture
def item(owner):
    return ItemFactory(owner=owner, title="original")


@pytest.fixture
def warm(owner_client, superuser_client, item):
    """Both the owner's and a superuser's list and detail pages are cached."""
    for client in (owner_client, superuser_client):
        for url in (LIST_URL, detail_url(item)):
            assert client.get(url).status_code == 200
    return item


# --- The cache really serves --------------------------------------------------------------


def test_a_hit_runs_no_query(owner_client, item, django_assert_num_queries):
    owner_client.get(LIST_URL)
    owner_client.get(detail_url(item))
    # The signed-in user and the page both come from the cache.
    with django_assert_num_queries(0):
        assert titles(owner_client.get(LIST_URL)) == ["original"]
    with django_assert_num_queries(0):
        assert titles(owner_client.get(detail_url(item))) == "original"


def test_a_ttl_of_zero_turns_the_cache_off(owner_client, item, settings, django_assert_num_queries):
    settings.ITEMS_CACHE_TTL = 0
    owner_client.get(LIST_URL)
    with django_assert_num_queries(2):  # count, page: no page came from the cache (the user did)
        response = owner_client.get(LIST_URL)
    assert "private" in response["Cache-Control"]


def test_a_miss_reads_the_database(owner_client, item, django_assert_num_queries):
    with django_assert_num_queries(3):  # user, count, page
        owner_client.get(LIST_URL)


def test_only_successful_responses_are_stored(owner_client, owner):
    item = ItemFactory(owner=owner, deleted=True)
    assert owner_client.get(detail_url(item)).status_code == 404
    # Undelete behind the cache's back (Django's own `update`, which bumps nothing): the 404
    # was not stored, so the item shows at once.
    QuerySet.update(Item.all_objects.filter(pk=item.pk), deleted_at=None)
    assert owner_client.get(detail_url(item)).status_code == 200


# --- Read-your-writes through the API -----------------------------------------------------


def test_create_shows_in_both_lists(warm, owner_client, superuser_client):
    assert owner_client.post(LIST_URL, {"title": "new"}).status_code == 201
    assert titles(owner_client.get(LIST_URL)) == ["new", "original"]
    assert titles(superuser_client.get(LIST_URL)) == ["new", "original"]


@pytest.mark.parametrize("method", ["put", "patch"])
def test_update_shows_everywhere(warm, owner_client, superuser_client, method):
    response = getattr(owner_client, method)(detail_url(warm), {"title": "changed"})
    assert response.status_code == 200
    for client in (owner_client, superuser_client):
        assert titles(client.get(LIST_URL)) == ["changed"]
        assert titles(client.get(detail_url(warm))) == "changed"


def test_superuser_update_shows_to_the_owner(warm, owner_client, superuser_client):
    superuser_client.patch(detail_url(warm), {"title": "by admin"})
    assert titles(owner_client.get(LIST_URL)) == ["by admin"]
    assert titles(owner_client.get(detail_url(warm))) == "by admin"


def test_delete_and_restore_show_everywhere(warm, owner_client, superuser_client):
    assert owner_client.delete(detail_url(warm)).status_code == 204
    for client in (owner_client, superuser_client):
        assert titles(client.get(LIST_URL)) == []
        assert client.get(detail_url(warm)).status_code == 404

    assert superuser_client.post(f"{detail_url(warm)}restore/").status_code == 200
    for client in (owner_client, superuser_client):
        assert titles(client.get(LIST_URL)) == ["original"]
        assert titles(client.get(detail_url(warm))) == "original"


def test_trash_refreshes_after_delete(warm, owner_client, superuser_client):
    trash = "/api/v1/items/deleted/"
    assert superuser_client.get(trash).json()["count"] == 0
    owner_client.delete(detail_url(warm))
    assert superuser_client.get(trash).json()["count"] == 1


def test_filtered_searched_and_paginated_urls_refresh(owner_client, owner):
    ItemFactory.create_batch(3, owner=owner, title="alpha")
    urls = [
        f"{LIST_URL}?search=alpha",
        f"{LIST_URL}?page=2&page_size=2",
        f"{LIST_URL}?ordering=title",
    ]
    before = [owner_client.get(url).json()["count"] for url in urls]
    assert owner_client.post(LIST_URL, {"title": "alpha four"}).status_code == 201
    after = [owner_client.get(url).json()["count"] for url in urls]
    assert after == [n + 1 for n in before]


# --- Writes that bypass the API -----------------------------------------------------------


def test_model_save_in_the_shell(warm, owner_client, superuser_client):
    warm.title = "from the shell"
    warm.save()
    assert titles(owner_client.get(LIST_URL)) == ["from the shell"]
    assert titles(superuser_client.get(detail_url(warm))) == "from the shell"


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (lambda qs: qs.update(title="bulk"), ["bulk"]),
        (lambda qs: qs.delete(), []),
        (lambda qs: qs.hard_delete(), []),
    ],
    ids=["update", "soft-delete", "hard-delete"],
)
def test_bulk_queryset_writes(warm, owner_client, superuser_client, change, expected):
    change(Item.objects.filter(pk=warm.pk))
    assert titles(owner_client.get(LIST_URL)) == expected
    assert titles(superuser_client.get(LIST_URL)) == expected


def test_bulk_restore(warm, owner_client):
    Item.objects.filter(pk=warm.pk).delete()
    assert titles(owner_client.get(LIST_URL)) == []
    Item.all_objects.filter(pk=warm.pk).restore()
    assert titles(owner_client.get(LIST_URL)) == ["original"]


def test_bulk_create(warm, owner_client, owner):
    Item.objects.bulk_create([Item(owner=owner, title="bulk one"), Item(owner=owner, title="b2")])
    assert titles(owner_client.get(LIST_URL)) == ["b2", "bulk one", "original"]


def test_a_rolled_back_write_bumps_nothing_and_shows_nothing(warm, owner_client):
    version = Item.page_cache.current_version(warm.owner_id)
    with pytest.raises(RuntimeError), transaction.atomic():
        Item.objects.filter(pk=warm.pk).update(title="rolled back")
        raise RuntimeError
    assert Item.page_cache.current_version(warm.owner_id) == version
    assert titles(owner_client.get(LIST_URL)) == ["original"]


def test_bump_waits_for_the_commit(warm, owner_client):
    with transaction.atomic():
        Item.objects.filter(pk=warm.pk).update(title="committed")
        # Inside the transaction nothing is bumped yet: no other request can cache the
        # uncommitted row under a version that outlives it.
        assert titles(owner_client.get(LIST_URL)) == ["original"]
    assert titles(owner_client.get(LIST_URL)) == ["committed"]


def test_changing_the_owner_refreshes_both_owners(warm, owner_client, other_user, other_client):
    assert titles(other_client.get(LIST_URL)) == []
    warm.owner = other_user
    warm.save()
    assert titles(owner_client.get(LIST_URL)) == []
    assert titles(other_client.get(LIST_URL)) == ["original"]


def test_deleting_the_owner_refreshes_superuser_lists(warm, superuser_client, superuser, owner):
    user_delete(user=owner, by=superuser)
    assert titles(superuser_client.get(LIST_URL)) == []


def test_admin_actions(warm, owner_client, superuser):
    admin = Client()
    admin.force_login(superuser)
    changelist = reverse("admin:items_item_changelist")

    admin.post(
        changelist, {"action": "delete_selected", "_selected_action": [warm.pk], "post": "yes"}
    )
    assert titles(owner_client.get(LIST_URL)) == []

    admin.post(changelist, {"action": "restore_selected", "_selected_action": [warm.pk]})
    assert titles(owner_client.get(LIST_URL)) == ["original"]

    admin.post(
        reverse("admin:items_item_change", args=[warm.pk]),
        {"owner": warm.owner_id, "title": "edited in admin", "description": ""},
    )
    assert titles(owner_client.get(LIST_URL)) == ["edited in admin"]

    admin.post(
        changelist,
        {"action": "hard_delete_selected", "_selected_action": [warm.pk], "post": "yes"},
    )
    assert not Item.all_objects.filter(pk=warm.pk).exists()
    assert titles(owner_client.get(LIST_URL)) == []


def test_purge_command(warm, superuser_client):
    Item.objects.filter(pk=warm.pk).delete()
    trash = "/api/v1/items/deleted/"
    assert superuser_client.get(trash).json()["count"] == 1
    call_command("purge_deleted_items", "--older-than", "0", stdout=StringIO())
    assert superuser_client.get(trash).json()["count"] == 0


def test_seed_demo_command(warm, superuser_client):
    before = superuser_client.get(LIST_URL).json()["count"]
    call_command("seed_demo", "--users", "2", "--items", "10", "--seed", "1", stdout=StringIO())
    assert superuser_client.get(LIST_URL).json()["count"] == before + 10


# --- Isolation and authentication ---------------------------------------------------------


def test_no_cross_user_leak_for_the_same_url(owner_client, item, other_client, other_user):
    ItemFactory(owner=other_user, title="theirs")
    assert titles(owner_client.get(LIST_URL)) == ["original"]
    assert titles(other_client.get(LIST_URL)) == ["theirs"]
    assert other_client.get(detail_url(item)).status_code == 404


@pytest.mark.parametrize(
    ("headers", "expected"),
    [
        ({"HTTP_HOST": "api.example.com"}, "http://api.example.com/"),
        ({"HTTP_X_FORWARDED_HOST": "spa.example.com"}, "http://spa.example.com/"),
        ({"HTTP_X_FORWARDED_PROTO": "https"}, "https://testserver"),
        ({"SERVER_PORT": "8443"}, "http://testserver:8443/"),
    ],
)
def test_pages_are_stored_per_host_and_scheme(owner_client, owner, settings, headers, expected):
    # Pagination links carry the scheme and host the request came in on.
    settings.ALLOWED_HOSTS = ["testserver", "api.example.com", "spa.example.com"]
    settings.USE_X_FORWARDED_HOST = True
    settings.SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    ItemFactory.create_batch(2, owner=owner)
    url = f"{LIST_URL}?page_size=1"
    assert owner_client.get(url).json()["next"].startswith("http://testserver/")

    assert owner_client.get(url, **headers).json()["next"].startswith(expected)
    assert owner_client.get(url).json()["next"].startswith("http://testserver/")


def test_a_query_and_an_accept_header_never_run_together_into_one_key(owner_client, owner):
    ItemFactory(owner=owner, title="a")
    json_twice = "application/json, application/json"
    assert titles(owner_client.get(f"{LIST_URL}?search=a|b", HTTP_ACCEPT=json_twice)) == []
    # The same characters split elsewhere between the query and `Accept`: another page.
    assert titles(owner_client.get(f"{LIST_URL}?search=a", HTTP_ACCEPT=f"b|{json_twice}")) == ["a"]


def test_deactivated_user_gets_401_not_the_cached_page(warm, owner_client, owner):
    owner.is_active = False
    owner.save()
    assert owner_client.get(LIST_URL).status_code == 401
    assert owner_client.get(detail_url(warm)).status_code == 401


def test_revoked_token_gets_401_not_the_cached_page(warm, owner_client, owner):
    owner.set_password("a-brand-new-passphrase-9")
    owner.save()
    assert owner_client.get(LIST_URL).status_code == 401


def test_no_token_gets_401(warm, api_client):
    assert api_client.get(LIST_URL).status_code == 401


# --- Versions -----------------------------------------------------------------------------


def test_vanished_versions_never_bring_an_older_page_back(warm, owner_client, superuser_client):
    owner_client.patch(detail_url(warm), {"title": "second"})
    assert titles(owner_client.get(LIST_URL)) == ["second"]
    # Eviction, a flush or a Redis restart: the version keys disappear, old pages stay.
    caches["strict"].delete_many(
        [Item.page_cache.version_key(warm.owner_id), Item.page_cache.version_key(ALL_OWNERS)]
    )
    assert titles(owner_client.get(LIST_URL)) == ["second"]
    assert titles(superuser_client.get(LIST_URL)) == ["second"]


def test_versions_never_expire(owner_client, item):
    owner_client.get(LIST_URL)
    versions, key = caches["strict"], Item.page_cache.version_key(item.owner_id)
    assert versions.get(key) is not None
    if hasattr(versions, "ttl"):  # django-redis
        assert versions.ttl(key) is None


# --- Client-facing headers ----------------------------------------------------------------


@pytest.mark.parametrize("attempt", ["miss", "hit"])
def test_responses_are_private_and_revalidated(owner_client, item, attempt):
    if attempt == "hit":
        owner_client.get(LIST_URL)
    response = owner_client.get(LIST_URL)
    cache_control = {part.strip() for part in response["Cache-Control"].split(",")}
    assert cache_control == {"private", "no-cache"}
    assert "Expires" not in response
    assert "Authorization" in response["Vary"]
    assert response["ETag"]


def test_etag_revalidation_answers_304_until_a_change(owner_client, item):
    etag = owner_client.get(LIST_URL)["ETag"]
    assert owner_client.get(LIST_URL, HTTP_IF_NONE_MATCH=etag).status_code == 304
    owner_client.patch(detail_url(item), {"title": "changed"})
    response = owner_client.get(LIST_URL, HTTP_IF_NONE_MATCH=etag)
    assert response.status_code == 200
    assert titles(response) == ["changed"]


# --- Redis down ---------------------------------------------------------------------------


def redis_caches_at(location):
    options = {"SOCKET_CONNECT_TIMEOUT": 0.2, "SOCKET_TIMEOUT": 0.2}
    backend = "django_redis.cache.RedisCache"
    return {
        "default": {
            "BACKEND": backend,
            "LOCATION": location,
            "OPTIONS": {**options, "IGNORE_EXCEPTIONS": True},
        },
        "strict": {"BACKEND": backend, "LOCATION": location, "OPTIONS": options},
    }


@pytest.fixture
def redis_refused(settings):
    """The configured Redis refuses connections (nothing listens on port 1)."""
    settings.CACHES = {**settings.CACHES, **redis_caches_at("redis://127.0.0.1:1/0")}


@pytest.fixture
def redis_hung(settings):
    """The configured Redis accepts connections and never answers, like a paused server."""
    with socket.create_server(("127.0.0.1", 0)) as server:
        port = server.getsockname()[1]
        settings.CACHES = {**settings.CACHES, **redis_caches_at(f"redis://127.0.0.1:{port}/0")}
        yield


def test_redis_refused_still_serves_and_writes(redis_refused, owner_client, item):
    assert titles(owner_client.get(LIST_URL)) == ["original"]
    created = owner_client.post(LIST_URL, {"title": "while down"})
    assert created.status_code == 201
    assert Item.objects.filter(title="while down").exists()
    assert owner_client.patch(detail_url(item), {"title": "edited"}).status_code == 200
    assert titles(owner_client.get(LIST_URL)) == ["edited", "while down"]
    assert owner_client.delete(detail_url(item)).status_code == 204
    assert titles(owner_client.get(LIST_URL)) == ["while down"]


def test_redis_hung_still_serves_promptly(redis_hung, owner_client, item):
    started = time.monotonic()
    assert titles(owner_client.get(LIST_URL)) == ["original"]
    assert owner_client.patch(detail_url(item), {"title": "edited"}).status_code == 200
    assert titles(owner_client.get(detail_url(item))) == "edited"
    # Three requests, each waiting out at most one or two 0.2 s socket timeouts: a hung
    # Redis must not hold a request for longer than that (a generous bound, not a benchmark).
    assert time.monotonic() - started < 5


def test_readiness_reports_the_cache_degraded_when_redis_is_refused(redis_refused, api_client):
    response = api_client.get("/api/v1/health/ready/")
    assert response.status_code == 200
    assert response.json()["checks"] == {"database": "ok", "cache": "degraded"}
