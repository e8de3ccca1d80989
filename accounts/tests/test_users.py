from datetime import datetime, timedelta, timezone

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from accounts.models import User
from accounts.tests.factories import DEFAULT_PASSWORD, UserFactory
from items.models import Item
from items.tests.factories import ItemFactory
from testing.api import client_for

pytestmark = pytest.mark.django_db

ME = reverse("user-me")
PASSWORD = reverse("user-me-password")
USERS = reverse("user-list")
NEW_PASSWORD = "another-long-passphrase-42"


def detail(user):
    return reverse("user-detail", args=[user.pk])


# --- /users/me/ -----------------------------------------------------------------------------


def test_me_requires_authentication(api_client):
    assert api_client.get(ME).status_code == 401


def test_me_shows_own_account(auth_client, user):
    response = auth_client.get(ME)
    assert response.status_code == 200
    assert response.data == {
        "id": str(user.pk),
        "email": user.email,
        "email_verified": False,
        "full_name": user.full_name,
        "is_active": True,
        "is_superuser": False,
        "date_joined": response.data["date_joined"],
    }


def test_me_shows_when_the_account_was_created_in_utc_with_a_z(auth_client, user):
    joined = datetime(2026, 1, 2, 4, 4, 5, 123456, tzinfo=timezone(timedelta(hours=1)))
    User.objects.filter(pk=user.pk).update(date_joined=joined)

    assert auth_client.get(ME).json()["date_joined"] == "2026-01-02T03:04:05.123456Z"


def test_me_patch_updates_the_name(auth_client, user):
    response = auth_client.patch(ME, {"full_name": "Grace Hopper"})
    assert response.status_code == 200
    user.refresh_from_db()
    assert user.full_name == "Grace Hopper"


def test_me_patch_cannot_change_the_email(auth_client, user):
    """A stolen access token alone must not move the account to another mailbox."""
    old_email = user.email
    response = auth_client.patch(ME, {"email": "attacker@example.com", "email_verified": True})
    assert response.status_code == 200
    assert response.data["email"] == old_email
    user.refresh_from_db()
    assert (user.email, user.email_verified) == (old_email, False)


def test_me_patch_ignores_privilege_fields(auth_client, user):
    response = auth_client.patch(
        ME, {"is_superuser": True, "is_active": False, "is_staff": True, "id": "x"}
    )
    assert response.status_code == 200
    user.refresh_from_db()
    assert (user.is_superuser, user.is_staff, user.is_active) == (False, False, True)


@pytest.mark.parametrize(
    ("sent", "stored"),
    [
        ("Ada\nLovelace", "Ada Lovelace"),
        ("Ada\r\n\tLovelace", "Ada Lovelace"),
        ("Ada\x1b[31m Lovelace\x7f", "Ada[31m Lovelace"),
        ("\u202eAda\u2028Lovelace", "Ada Lovelace"),
    ],
)
def test_me_patch_strips_control_characters_from_the_name(auth_client, user, sent, stored):
    response = auth_client.patch(ME, {"full_name": sent})
    assert response.status_code == 200
    assert response.data["full_name"] == stored
    user.refresh_from_db()
    assert user.full_name == stored


def test_me_patch_that_changes_nothing_writes_nothing(auth_client, user):
    with CaptureQueriesContext(connection) as queries:
        response = auth_client.patch(ME, {"full_name": user.full_name, "email": user.email})

    assert response.status_code == 200
    assert not [query for query in queries if query["sql"].startswith("UPDATE")]


def test_me_put_is_not_allowed(auth_client):
    assert auth_client.put(ME, {"full_name": "x"}).status_code == 405


def test_me_delete_removes_the_account(auth_client, user):
    assert auth_client.delete(ME).status_code == 204
    assert not User.objects.filter(pk=user.pk).exists()


def test_superuser_cannot_delete_itself(superuser_client, superuser):
    response = superuser_client.delete(ME)
    assert response.status_code == 403
    assert User.objects.filter(pk=superuser.pk).exists()


# --- /users/me/password/ --------------------------------------------------------------------


def test_password_change(auth_client, user):
    response = auth_client.post(
        PASSWORD, {"current_password": DEFAULT_PASSWORD, "new_password": NEW_PASSWORD}
    )
    assert response.status_code == 204
    user.refresh_from_db()
    assert user.check_password(NEW_PASSWORD)


def test_password_change_wrong_current_is_400(auth_client, user):
    response = auth_client.post(
        PASSWORD, {"current_password": "wrong", "new_password": NEW_PASSWORD}
    )
    assert response.status_code == 400
    assert "current_password" in response.data
    user.refresh_from_db()
    assert user.check_password(DEFAULT_PASSWORD)


def test_wrong_current_passwords_are_throttled_per_user(user, other_user):
    wrong = {"current_password": "wrong", "new_password": NEW_PASSWORD}
    # Each attempt from another address: the budget belongs to the account, not the client.
    codes = [
        client_for(user).post(PASSWORD, wrong, REMOTE_ADDR=f"192.0.2.{n}").status_code
        for n in range(11)
    ]
    assert codes == [400] * 10 + [429]
    right = {"current_password": DEFAULT_PASSWORD, "new_password": NEW_PASSWORD}
    assert client_for(user).post(PASSWORD, right).status_code == 429
    assert client_for(other_user).post(PASSWORD, right).status_code == 204


def test_password_change_weak_new_is_400(auth_client, user):
    response = auth_client.post(
        PASSWORD, {"current_password": DEFAULT_PASSWORD, "new_password": "abc"}
    )
    assert response.status_code == 400
    assert "new_password" in response.data


def test_password_change_requires_authentication(api_client):
    assert api_client.post(PASSWORD, {}).status_code == 401


# --- /users/ (superuser management) ---------------------------------------------------------


@pytest.mark.parametrize(
    ("method", "url_name"),
    [("get", "list"), ("post", "list"), ("get", "detail"), ("patch", "detail"),
     ("delete", "detail")],
)  # fmt: skip
def test_user_management_is_superuser_only(auth_client, other_user, method, url_name):
    url = USERS if url_name == "list" else detail(other_user)
    response = getattr(auth_client, method)(url, {})
    assert response.status_code == 403
    assert User.objects.filter(pk=other_user.pk, is_active=True).exists()


def test_user_management_requires_authentication(api_client):
    assert api_client.get(USERS).status_code == 401


def test_superuser_lists_users_paginated(superuser_client):
    UserFactory.create_batch(3)
    response = superuser_client.get(USERS, {"page_size": 2})
    assert response.status_code == 200
    assert response.data["count"] == 4  # three users and the superuser
    assert len(response.data["results"]) == 2
    assert response.data["next"]


def test_superuser_searches_users(superuser_client):
    UserFactory(email="findme@example.com")
    response = superuser_client.get(USERS, {"search": "findme"})
    assert [u["email"] for u in response.data["results"]] == ["findme@example.com"]


def test_superuser_creates_user(superuser_client):
    response = superuser_client.post(
        USERS, {"email": "staff@example.com", "password": NEW_PASSWORD, "is_staff": True}
    )
    assert response.status_code == 201, response.data
    assert "password" not in response.data
    created = User.objects.get(email="staff@example.com")
    assert created.is_staff and created.check_password(NEW_PASSWORD)


def test_superuser_create_checks_password_and_duplicates(superuser_client, user):
    weak = superuser_client.post(USERS, {"email": "w@example.com", "password": "123"})
    assert weak.status_code == 400
    duplicate = superuser_client.post(
        USERS, {"email": user.email.upper(), "password": NEW_PASSWORD}
    )
    assert duplicate.status_code == 400


def test_superuser_patches_user(superuser_client, user):
    response = superuser_client.patch(detail(user), {"full_name": "Renamed", "is_staff": True})
    assert response.status_code == 200
    user.refresh_from_db()
    assert (user.full_name, user.is_staff) == ("Renamed", True)


def test_superuser_sets_password(superuser_client, user):
    response = superuser_client.patch(detail(user), {"password": NEW_PASSWORD})
    assert response.status_code == 200
    user.refresh_from_db()
    assert user.check_password(NEW_PASSWORD)


def test_superuser_cannot_delete_itself_through_management(superuser_client, superuser):
    assert superuser_client.delete(detail(superuser)).status_code == 403
    assert User.objects.filter(pk=superuser.pk).exists()


def test_superuser_deletes_another_superuser(superuser_client):
    other = UserFactory(superuser=True)
    assert superuser_client.delete(detail(other)).status_code == 204
    assert not User.objects.filter(pk=other.pk).exists()


def test_superuser_deletes_user(superuser_client, user):
    assert superuser_client.delete(detail(user)).status_code == 204
    assert not User.objects.filter(pk=user.pk).exists()


@pytest.mark.parametrize("pk", ["not-a-uuid", "00000000-0000-0000-0000-000000000000"])
def test_unknown_or_malformed_user_id_is_json_404(superuser_client, pk):
    response = superuser_client.get(f"{USERS}{pk}/")
    assert response.status_code == 404
    assert response["Content-Type"] == "application/json"


def test_me_delete_removes_live_and_deleted_items(auth_client, user, other_user):
    ItemFactory(owner=user)
    ItemFactory(owner=user, deleted=True)
    kept = ItemFactory(owner=other_user)
    assert auth_client.delete(ME).status_code == 204
    assert list(Item.all_objects.values_list("pk", flat=True)) == [kept.pk]
