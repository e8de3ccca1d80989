"""
Authentication reads the user from an exact cache: no database on a hit, and never an older
state of the user, whatever happens to the cached keys.
"""

import pytest
from django.core.cache import caches
from django.db import transaction
from django.urls import reverse

from accounts.authentication import auth_state
from accounts.models import User
from accounts.tests.factories import UserFactory

pytestmark = pytest.mark.django_db

ME = reverse("user-me")


def test_a_cached_user_costs_no_query(auth_client, django_assert_num_queries):
    assert auth_client.get(ME).status_code == 200
    with django_assert_num_queries(0):
        assert auth_client.get(ME).status_code == 200


def test_the_password_hash_is_not_cached_but_loads_when_needed(auth_client, user, password):
    auth_client.get(ME)
    entry = caches["strict"].get(User.auth_cache.entry_key(str(user.pk)))
    assert entry is not None
    assert user.password not in repr(entry)
    body = {"current_password": password, "new_password": "a-new-long-passphrase-9"}
    assert auth_client.post(reverse("user-me-password"), body).status_code == 204


def test_a_change_during_a_load_leaves_only_a_dead_entry(user):
    cache = User.auth_cache
    stale = auth_state(user.pk)

    def load_then_change():
        # Another process commits a change while this one holds the old row.
        user.full_name = "Changed"
        user.save(update_fields=["full_name"])
        return stale

    assert cache.get(str(user.pk), load=load_then_change)[0] == stale
    loads = []
    fresh, _ = cache.get(str(user.pk), load=lambda: loads.append(1) or auth_state(user.pk))
    assert loads == [1]
    assert fresh["fields"]["full_name"] == "Changed"


def test_a_vanished_version_never_revives_an_older_entry(user):
    cache = User.auth_cache
    old = cache.get(str(user.pk), load=lambda: auth_state(user.pk))[0]
    caches["strict"].delete(cache.version_key(str(user.pk)))  # evicted, flushed, restarted

    loads = []
    cache.get(str(user.pk), load=lambda: loads.append(1) or old)
    assert loads == [1]


@pytest.mark.parametrize(
    "change",
    [
        lambda user: user.set_password("another-long-passphrase-3") or user.save(),
        lambda user: setattr(user, "is_active", False) or user.save(),
        lambda user: setattr(user, "is_superuser", True) or user.save(),
        lambda user: setattr(user, "email", "moved@example.com") or user.save(),
        lambda user: user.delete(),
        lambda user: User.objects.filter(pk=user.pk).update(is_active=False),
        lambda user: (
            setattr(user, "full_name", "Bulk") or User.objects.bulk_update([user], ["full_name"])
        ),
    ],
    ids=["password", "deactivated", "superuser", "email", "deleted", "update", "bulk_update"],
)
def test_every_change_to_the_user_replaces_its_entry(user, change):
    cache = User.auth_cache
    cache.get(str(user.pk), load=lambda: auth_state(user.pk))
    change(user)
    loads = []
    cache.get(str(user.pk), load=lambda: loads.append(1) or auth_state(user.pk))
    assert loads == [1]


def test_a_queryset_update_ends_a_cached_users_access_at_once(auth_client, user):
    assert auth_client.get(ME).status_code == 200  # cached
    assert User.objects.filter(pk=user.pk).update(is_active=False) == 1
    assert auth_client.get(ME).status_code == 401


def loads_of(user) -> list:
    """Read the user through the cache; one entry in the list per database load."""
    loads = []
    User.auth_cache.get(str(user.pk), load=lambda: loads.append(1) or auth_state(user.pk))
    return loads


def test_a_queryset_update_replaces_the_entries_of_its_rows_only(user, other_user):
    updated = UserFactory()
    for cached in (user, updated, other_user):
        loads_of(cached)

    rows = User.objects.filter(pk__in=[user.pk, updated.pk])
    assert rows.update(full_name="Renamed") == 2
    assert loads_of(user) == loads_of(updated) == [1]
    assert loads_of(other_user) == []


@pytest.mark.django_db(transaction=True)
def test_a_queryset_update_bumps_again_when_it_commits(user):
    cache = User.auth_cache
    stale = auth_state(user.pk)
    with transaction.atomic():
        User.objects.filter(pk=user.pk).update(is_active=False)
        # Another process, which sees the row as it was until the commit, caches it meanwhile.
        cache.get(str(user.pk), load=lambda: stale)
    state, _ = cache.get(str(user.pk), load=lambda: auth_state(user.pk))
    assert state["fields"]["is_active"] is False
