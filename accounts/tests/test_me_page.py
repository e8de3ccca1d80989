"""
`users/me/` is answered from a page stored with the user's authentication-cache version:
never an older state of the account, and never kept by a browser.
"""

import pytest
from django.core.cache import caches
from django.db.models import QuerySet
from django.urls import reverse
from rest_framework.test import APIRequestFactory

from accounts.models import User
from accounts.serializers import UserSerializer

pytestmark = pytest.mark.django_db

ME = reverse("user-me")


def stored_page(user, path=ME):
    """The page stored for `user` at `path`, as the test client requests it (or None)."""
    request = APIRequestFactory().get(path)
    return caches["strict"].get(User.me_page.page_key(user.pk, request))


def test_the_account_is_stored_and_served_again_without_a_query(
    auth_client, user, django_assert_num_queries
):
    first = auth_client.get(ME)
    assert first.status_code == 200
    assert stored_page(user)[1] == first.content

    with django_assert_num_queries(0):
        again = auth_client.get(ME)
    assert again.content == first.content
    for response in (first, again):
        assert "no-store" in response["Cache-Control"]
        assert not response.has_header("ETag")


def test_a_page_stored_behind_a_change_is_never_served(auth_client, user):
    shown = auth_client.get(ME).json()["full_name"]
    # Django's own `update` bumps nothing: the stored page is still current, and shows.
    QuerySet.update(User.objects.filter(pk=user.pk), full_name="Unseen")
    assert auth_client.get(ME).json()["full_name"] == shown
    # Any bump of the user's version (here, a save) retires the page with the row.
    user.refresh_from_db()
    user.save()
    assert auth_client.get(ME).json()["full_name"] == "Unseen"


@pytest.mark.parametrize(
    "change",
    [
        lambda client, user: client.patch(ME, {"full_name": "Changed"}),
        lambda client, user: User.objects.filter(pk=user.pk).update(full_name="Changed"),
        lambda client, user: (
            setattr(user, "full_name", "Changed") or User.objects.bulk_update([user], ["full_name"])
        ),
        lambda client, user: setattr(user, "full_name", "Changed") or user.save(),
    ],
    ids=["patch", "update", "bulk_update", "save"],
)
def test_every_change_to_the_account_shows_on_the_next_read(auth_client, user, change):
    assert auth_client.get(ME).json()["full_name"] == user.full_name != "Changed"
    change(auth_client, user)
    assert auth_client.get(ME).json()["full_name"] == "Changed"


def test_a_query_string_is_answered_but_not_stored(auth_client, user):
    response = auth_client.get(f"{ME}?fields=id")
    assert response.status_code == 200
    assert response.json()["id"] == str(user.pk)
    assert stored_page(user, f"{ME}?fields=id") is None


def test_users_never_get_each_others_page(auth_client, other_client, user, other_user):
    assert auth_client.get(ME).json()["id"] == str(user.pk)
    assert other_client.get(ME).json()["id"] == str(other_user.pk)
    assert auth_client.get(ME).json()["id"] == str(user.pk)


def test_a_ttl_of_zero_stores_nothing(auth_client, user, settings):
    settings.USER_CACHE_TTL = 0
    assert auth_client.get(ME).status_code == 200
    assert stored_page(user) is None


def test_the_account_shows_only_what_its_row_holds():
    # The page lives as long as the row's version: a field computed from anything else (a
    # method field, a relation, the time) would be served stale.
    columns = {field.name for field in User._meta.concrete_fields}
    shown = {field.source for field in UserSerializer().fields.values()}
    assert shown <= columns
