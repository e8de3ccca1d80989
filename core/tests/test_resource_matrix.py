"""
What every resource built from `core` guarantees, written once and run for each of them:
`items` and the test-only `notes` (see `resources.py`). Owner isolation, soft delete and the
trash, restore, the admin, and the page cache's read-your-writes and version bumps.
"""

from datetime import timedelta
from io import StringIO

import pytest
from django.contrib.admin.models import CHANGE, DELETION, LogEntry
from django.core.exceptions import ValidationError
from django.core.management import call_command
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from accounts.services import user_delete
from accounts.tests.factories import UserFactory
from core.cache import ALL_OWNERS
from testing.api import client_for

from .resources import RESOURCES

OBJECT_REQUESTS = [
    ("get", None),
    ("put", {"title": "taken over", "slug": "taken", "description": ""}),
    ("patch", {"title": "taken over"}),
    ("delete", None),
]


@pytest.fixture(params=RESOURCES, ids=str)
def resource(request, settings):
    if request.param.urlconf:
        settings.ROOT_URLCONF = request.param.urlconf
    return request.param


@pytest.fixture
def admin_client(superuser):
    client = Client()
    client.force_login(superuser)
    return client


def snapshot(resource, row):
    return resource.model.all_objects.filter(pk=row.pk).values().get()


def run_action(client, resource, action, rows, *, follow=False, **extra):
    return client.post(
        resource.admin_url,
        {"action": action, "_selected_action": [row.pk for row in rows], **extra},
        follow=follow,
    )


def versions(resource, *scopes):
    return [resource.model.page_cache.current_version(scope) for scope in scopes]


# --- Owner isolation ------------------------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize(("method", "body"), OBJECT_REQUESTS)
def test_another_owners_row_is_not_found_and_left_unchanged(
    resource, auth_client, other_user, method, body
):
    row = resource.factory(owner=other_user)
    before = snapshot(resource, row)

    response = getattr(auth_client, method)(resource.detail_url(row), body)

    assert response.status_code == 404
    assert response["Content-Type"] == "application/json"
    assert snapshot(resource, row) == before


@pytest.mark.django_db
@pytest.mark.parametrize(("method", "body"), OBJECT_REQUESTS)
def test_a_deleted_row_is_not_found_even_by_its_owner(resource, auth_client, user, method, body):
    row = resource.factory(owner=user, deleted=True)
    before = snapshot(resource, row)

    response = getattr(auth_client, method)(resource.detail_url(row), body)

    assert response.status_code == 404
    assert snapshot(resource, row) == before


@pytest.mark.django_db
def test_lists_show_the_callers_live_rows_and_a_superuser_every_owners(
    resource, auth_client, superuser_client, user, other_user
):
    mine, theirs = resource.factory(owner=user), resource.factory(owner=other_user)
    resource.factory(owner=user, deleted=True)

    def ids(client):
        return {row["id"] for row in client.get(resource.url).json()["results"]}

    assert ids(auth_client) == {str(mine.pk)}
    assert ids(superuser_client) == {str(mine.pk), str(theirs.pk)}


@pytest.mark.django_db
def test_trash_and_restore_are_superuser_only(resource, auth_client, user):
    row = resource.factory(owner=user, deleted=True)
    before = snapshot(resource, row)

    assert auth_client.get(resource.trash_url).status_code == 403
    assert auth_client.post(resource.restore_url(row)).status_code == 403
    assert snapshot(resource, row) == before


@pytest.mark.django_db
def test_anonymous_callers_get_401(resource, api_client):
    row = resource.factory()

    for response in [
        api_client.get(resource.url),
        api_client.post(resource.url, resource.create_body),
        api_client.get(resource.detail_url(row)),
        api_client.delete(resource.detail_url(row)),
        api_client.get(resource.trash_url),
        api_client.post(resource.restore_url(row)),
    ]:
        assert response.status_code == 401


@pytest.mark.django_db
def test_create_sets_the_caller_as_owner(resource, auth_client, user, other_user):
    response = auth_client.post(resource.url, {**resource.create_body, "owner": other_user.pk})

    assert response.status_code == 201, response.content
    row = resource.model.objects.get(pk=response.json()["id"])
    assert row.owner == user


# --- Soft delete, trash, restore ------------------------------------------------------------


@pytest.mark.django_db
def test_delete_is_a_soft_delete_recording_who_and_fills_the_trash(
    resource, auth_client, superuser_client, user
):
    row = resource.factory(owner=user)

    assert auth_client.delete(resource.detail_url(row)).status_code == 204

    row = resource.model.all_objects.get(pk=row.pk)
    assert (row.is_deleted, row.deleted_by) == (True, user)
    assert auth_client.get(resource.detail_url(row)).status_code == 404
    trash = superuser_client.get(resource.trash_url).json()
    assert [entry["id"] for entry in trash["results"]] == [str(row.pk)]
    assert trash["results"][0]["deleted_by"] == str(user.pk)


@pytest.mark.django_db
def test_superuser_restores_and_restoring_a_live_row_changes_nothing(
    resource, superuser_client, auth_client, user
):
    deleted, live = resource.factory(owner=user, deleted=True), resource.factory(owner=user)
    before = snapshot(resource, live)

    assert superuser_client.post(resource.restore_url(deleted)).status_code == 200
    assert superuser_client.post(resource.restore_url(live)).status_code == 200

    assert resource.model.objects.filter(pk=deleted.pk).exists()
    assert snapshot(resource, live) == before
    assert auth_client.get(resource.url).json()["count"] == 2


@pytest.mark.django_db
def test_queryset_soft_delete_restore_and_hard_delete(resource, user):
    rows = resource.factory.create_batch(3, owner=user)
    model = resource.model

    assert model.objects.filter(owner=user).delete(by=user) == (3, {model._meta.label: 3})
    assert (model.objects.count(), model.all_objects.dead().count()) == (0, 3)
    assert model.all_objects.all().restore() == 3
    assert model.objects.count() == 3
    assert model.all_objects.filter(pk=rows[0].pk).hard_delete()[0] == 1
    assert model._base_manager.count() == 2


@pytest.mark.django_db
def test_related_manager_hides_deleted_rows_and_deleting_the_owner_deletes_them(resource, user):
    live = resource.factory(owner=user)
    resource.factory(owner=user, deleted=True)
    other = resource.factory()
    related = getattr(user, resource.model._meta.get_field("owner").remote_field.related_name)

    assert list(related.all()) == [live]
    user.delete()
    assert list(resource.model._base_manager.all()) == [other]


@pytest.mark.django_db
def test_purge_command_deletes_what_was_deleted_long_enough_ago(resource):
    now = timezone.now()
    old = resource.factory(deleted=True, deleted_at=now - timedelta(days=31))
    recent = resource.factory(deleted=True, deleted_at=now - timedelta(days=29))
    live = resource.factory(created_at=now - timedelta(days=400))
    name = resource.model._meta.verbose_name

    dry_run = StringIO()
    call_command(resource.purge_command, "--older-than", "30", "--dry-run", stdout=dry_run)
    assert f"Would purge 1 {name}(s)" in dry_run.getvalue()
    assert resource.model._base_manager.filter(pk=old.pk).exists()

    out = StringIO()
    call_command(resource.purge_command, "--older-than", "30", "--batch-size", "1", stdout=out)
    assert f"Purged 1 {name}(s)" in out.getvalue()
    assert set(resource.model._base_manager.all()) == {recent, live}


# --- Admin ----------------------------------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize("state", ["", "live", "deleted"])
def test_admin_lists_live_and_deleted_rows_by_state(resource, admin_client, state):
    live, deleted = resource.factory(), resource.factory(deleted=True)
    expected = {"": {live, deleted}, "live": {live}, "deleted": {deleted}}[state]

    response = admin_client.get(resource.admin_url, {"state": state} if state else {})

    assert set(response.context["cl"].result_list) == expected
    assert {"deleted_at", "deleted_by"} <= set(response.context["cl"].list_display)


@pytest.mark.django_db
def test_admin_ordinary_deletes_are_soft_deletes(resource, admin_client, superuser):
    one, *two = resource.factory.create_batch(3)

    response = admin_client.post(f"{resource.admin_url}{one.pk}/delete/", {"post": "yes"})
    assert response.status_code == 302
    assert run_action(admin_client, resource, "delete_selected", two, post="yes").status_code == 302

    assert resource.model.objects.count() == 0
    assert {row.deleted_by for row in resource.model.all_objects.all()} == {superuser}
    assert LogEntry.objects.filter(action_flag=DELETION).count() == 3


@pytest.mark.django_db
def test_admin_restore_action(resource, admin_client):
    deleted, live = resource.factory(deleted=True), resource.factory()

    response = run_action(admin_client, resource, "restore_selected", [deleted, live])

    assert response.status_code == 302
    assert set(resource.model.objects.all()) == {deleted, live}
    logged = LogEntry.objects.filter(action_flag=CHANGE).values_list("object_id", flat=True)
    assert list(logged) == [str(deleted.pk)]


@pytest.mark.django_db
def test_admin_hard_delete_asks_first_then_deletes_for_good(resource, admin_client):
    doomed = [resource.factory(deleted=True), resource.factory()]
    kept = resource.factory()

    confirmation = run_action(admin_client, resource, "hard_delete_selected", doomed)
    assert confirmation.status_code == 200
    assert b"cannot be restored" in confirmation.content
    assert resource.model.all_objects.count() == 3

    response = run_action(admin_client, resource, "hard_delete_selected", doomed, post="yes")

    assert response.status_code == 302
    assert list(resource.model._base_manager.all()) == [kept]
    assert LogEntry.objects.filter(action_flag=DELETION).count() == 2


@pytest.mark.django_db
def test_admin_actions_need_the_matching_permissions(resource, user):
    user.is_staff = True
    user.save(update_fields=["is_staff"])
    client = Client()
    client.force_login(user)
    row = resource.factory(deleted=True)

    response = run_action(client, resource, "hard_delete_selected", [row], post="yes")

    assert response.status_code == 403
    assert resource.model.all_objects.filter(pk=row.pk).exists()


# --- Page cache: read-your-writes -----------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_a_hit_runs_no_query(resource, user, django_assert_num_queries):
    client = client_for(user)
    row = resource.factory(owner=user)
    for url in (resource.url, resource.detail_url(row)):
        # A miss: the user the first time only (then it is cached too), then the rows.
        with django_assert_num_queries(3 if url == resource.url else 1):
            client.get(url)
        with django_assert_num_queries(0):
            assert client.get(url).status_code == 200


@pytest.mark.django_db(transaction=True)
def test_api_writes_show_at_once_to_the_owner_and_superusers(resource, user, superuser):
    owner, admin = client_for(user), client_for(superuser)
    row = resource.factory(owner=user, title="original")

    def both(expected):
        for client in (owner, admin):
            assert resource.texts(client.get(resource.url)) == expected

    both(["original"])
    assert owner.post(resource.url, resource.create_body).status_code == 201
    both(["new", "original"])
    assert owner.patch(resource.detail_url(row), {"title": "changed"}).status_code == 200
    both(["changed", "new"])
    assert resource.texts(owner.get(resource.detail_url(row))) == "changed"
    assert owner.delete(resource.detail_url(row)).status_code == 204
    both(["new"])
    assert owner.get(resource.detail_url(row)).status_code == 404
    assert admin.get(resource.trash_url).json()["count"] == 1
    assert admin.post(resource.restore_url(row)).status_code == 200
    both(["changed", "new"])
    assert admin.get(resource.trash_url).json()["count"] == 0


@pytest.mark.django_db(transaction=True)
def test_admin_actions_show_at_once(resource, user, superuser):
    owner, admin = client_for(user), Client()
    admin.force_login(superuser)
    row = resource.factory(owner=user, title="original")
    assert resource.texts(owner.get(resource.url)) == ["original"]

    run_action(admin, resource, "delete_selected", [row], post="yes")
    assert resource.texts(owner.get(resource.url)) == []
    run_action(admin, resource, "restore_selected", [row])
    assert resource.texts(owner.get(resource.url)) == ["original"]
    run_action(admin, resource, "hard_delete_selected", [row], post="yes")
    assert resource.texts(owner.get(resource.url)) == []


@pytest.mark.django_db(transaction=True)
def test_bulk_queryset_writes_show_at_once(resource, user):
    owner = client_for(user)
    rows = resource.model.all_objects.filter(owner=user)
    resource.factory(owner=user, title="original")
    assert resource.texts(owner.get(resource.url)) == ["original"]

    rows.update(title="bulk")
    assert resource.texts(owner.get(resource.url)) == ["bulk"]
    rows.delete(by=user)
    assert resource.texts(owner.get(resource.url)) == []
    rows.restore()
    assert resource.texts(owner.get(resource.url)) == ["bulk"]
    rows.hard_delete()
    assert resource.texts(owner.get(resource.url)) == []


# --- Page cache: versions -------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_a_write_bumps_its_owner_and_the_global_scope_only(resource, user, other_user):
    row = resource.factory(owner=user)
    scopes = [str(user.pk), ALL_OWNERS, str(other_user.pk)]
    before = versions(resource, *scopes)

    client_for(user).patch(resource.detail_url(row), {"title": "changed"})

    after = versions(resource, *scopes)
    assert after[0] != before[0]
    assert after[1] != before[1]
    assert after[2] == before[2]


@pytest.mark.django_db(transaction=True)
def test_an_update_that_changes_nothing_writes_and_bumps_nothing(resource, user):
    client = client_for(user)
    row = resource.factory(owner=user, title="same")
    before = versions(resource, str(user.pk), ALL_OWNERS)

    with CaptureQueriesContext(connection) as queries:
        response = client.patch(resource.detail_url(row), {"title": "same"})

    assert response.status_code == 200
    assert not [query for query in queries if query["sql"].startswith("UPDATE")]
    assert versions(resource, str(user.pk), ALL_OWNERS) == before


@pytest.mark.django_db
def test_one_bump_for_a_50_row_hard_delete_with_a_fast_delete(
    resource, user, other_user, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):  # the set-up's own bump
        resource.factory.create_batch(25, owner=user)
        resource.factory.create_batch(25, owner=other_user, deleted=True)
    before = versions(resource, str(user.pk), str(other_user.pk), ALL_OWNERS)

    with (
        django_capture_on_commit_callbacks(execute=True) as callbacks,
        CaptureQueriesContext(connection) as queries,
    ):
        assert resource.model.all_objects.all().hard_delete()[0] == 50

    assert len(callbacks) == 1
    # Which owners to bump, then Django's fast delete: no rows loaded, one DELETE.
    assert [query["sql"].split()[0] for query in queries] == ["SELECT", "DELETE"]
    after = versions(resource, str(user.pk), str(other_user.pk), ALL_OWNERS)
    assert all(new != old for new, old in zip(after, before, strict=True))


@pytest.mark.django_db
def test_one_bump_for_the_admins_permanent_delete(
    resource, admin_client, user, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):  # the set-up's own bump
        rows = resource.factory.create_batch(20, owner=user, deleted=True)
    before = versions(resource, str(user.pk))

    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        run_action(admin_client, resource, "hard_delete_selected", rows, post="yes")

    assert len(callbacks) == 1
    assert not resource.model._base_manager.exists()
    assert versions(resource, str(user.pk)) != before


@pytest.mark.django_db
def test_one_bump_for_deleting_an_owner_whose_rows_cascade(
    resource, superuser, django_capture_on_commit_callbacks
):
    owner = UserFactory()
    with django_capture_on_commit_callbacks(execute=True):  # the set-up's own bump
        resource.factory.create_batch(30, owner=owner)
    table = resource.model._meta.db_table
    before = versions(resource, str(owner.pk), ALL_OWNERS)

    with (
        django_capture_on_commit_callbacks(execute=True) as callbacks,
        CaptureQueriesContext(connection) as queries,
    ):
        user_delete(user=owner, by=superuser)

    assert len(callbacks) == 1
    assert not resource.model._base_manager.exists()
    # A fast delete of the owner's rows: none of them is loaded first.
    loads = [q for q in queries if q["sql"].startswith("SELECT") and f'FROM "{table}"' in q["sql"]]
    assert loads == []
    after = versions(resource, str(owner.pk), ALL_OWNERS)
    assert all(new != old for new, old in zip(after, before, strict=True))


@pytest.mark.django_db
def test_a_transaction_with_many_writes_bumps_once(
    resource, user, other_user, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):  # the set-up's own bump
        row = resource.factory(owner=user)

    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        resource.factory.create_batch(5, owner=other_user)
        row.title = "renamed"
        row.save()
        resource.model.objects.filter(owner=user).delete(by=user)
        resource.model.all_objects.filter(owner=user).restore()

    assert len(callbacks) == 1


# --- Page cache: only known, valid queries are stored ---------------------------------------


CACHEABLE_QUERIES = [
    "",
    "?page=1",
    "?page=last",
    "?page_size=5",
    "?search=original",
    "?ordering=-title",
    "?ordering=title,-created_at&page_size=100",
    "?page=&page_size=&search=&ordering=",
]
UNCACHEABLE_QUERIES = [
    "?junk=1f3870be274f6c49b3e31a0c6728957f",
    "?page=01",
    "?page=1&page=1",
    "?page_size=abc",
    "?page_size=0",
    "?page_size=1000",
    "?ordering=nonsense",
    "?ordering=title,title",
    "?ordering=-title,title",
    "?ordering=%20title",
    "?search=original&Search=x",
]


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("query", CACHEABLE_QUERIES)
def test_known_valid_queries_are_cached(resource, user, query, django_assert_num_queries):
    client = client_for(user)
    resource.factory(owner=user, title="original")
    assert client.get(f"{resource.url}{query}").status_code == 200

    with django_assert_num_queries(0):
        response = client.get(f"{resource.url}{query}")

    assert resource.texts(response) == ["original"]


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("query", UNCACHEABLE_QUERIES)
def test_unknown_or_invalid_queries_are_served_uncached(
    resource, user, query, django_assert_num_queries
):
    client = client_for(user)
    resource.factory(owner=user, title="original")
    assert client.get(f"{resource.url}{query}").status_code == 200

    with django_assert_num_queries(2):  # the count, the page: nothing was stored (the user was)
        response = client.get(f"{resource.url}{query}")

    assert resource.texts(response) == ["original"]
    cache_control = {part.strip() for part in response["Cache-Control"].split(",")}
    assert cache_control == {"private", "no-cache"}


@pytest.mark.django_db(transaction=True)
def test_the_filtersets_filters_are_cacheable(resource, user, django_assert_num_queries):
    client = client_for(user)
    resource.factory(owner=user, title="original")
    query = resource.filter_query
    assert client.get(resource.url, query).status_code == 200

    with django_assert_num_queries(0):
        assert client.get(resource.url, query).status_code == 200


# --- Restoring into a place a live row has taken (resources with such a constraint) ---------

CONSTRAINED = [resource for resource in RESOURCES if resource.unique_live_field]


@pytest.fixture(params=CONSTRAINED, ids=str)
def constrained(request, settings):
    if request.param.urlconf:
        settings.ROOT_URLCONF = request.param.urlconf
    return request.param


def taken_place(resource, owner):
    """A deleted row, and a live one created since in its place."""
    field = resource.unique_live_field
    deleted = resource.factory(owner=owner, deleted=True, **{field: "taken"})
    resource.factory(owner=owner, **{field: "taken"})
    return deleted


@pytest.mark.django_db
def test_creating_a_duplicate_among_live_rows_is_a_400(constrained, auth_client, user):
    field = constrained.unique_live_field
    constrained.factory(owner=user, **{field: "taken"})
    constrained.factory(owner=user, deleted=True, **{field: "gone"})

    duplicate = auth_client.post(constrained.url, {**constrained.create_body, field: "taken"})
    reused = auth_client.post(constrained.url, {**constrained.create_body, field: "gone"})

    assert duplicate.status_code == 400
    assert reused.status_code == 201


@pytest.mark.django_db
def test_restoring_into_a_taken_place_is_a_400(constrained, superuser_client, user):
    deleted = taken_place(constrained, user)

    response = superuser_client.post(constrained.restore_url(deleted))

    assert response.status_code == 400
    assert constrained.model.all_objects.get(pk=deleted.pk).is_deleted


@pytest.mark.django_db
def test_bulk_restore_into_a_taken_place_restores_nothing(constrained, user):
    deleted = taken_place(constrained, user)
    other = constrained.factory(owner=user, deleted=True)

    with pytest.raises(ValidationError, match="taken"):
        constrained.model.all_objects.filter(pk__in=[deleted.pk, other.pk]).restore()

    assert constrained.model.all_objects.dead().count() == 2


@pytest.mark.django_db
def test_bulk_restore_of_two_rows_that_collide_restores_nothing(constrained, user):
    field = constrained.unique_live_field
    constrained.factory.create_batch(2, owner=user, deleted=True, **{field: "twin"})

    with pytest.raises(ValidationError):
        constrained.model.all_objects.all().restore()

    assert constrained.model.all_objects.dead().count() == 2


@pytest.mark.django_db
def test_admin_restore_into_a_taken_place_explains_and_restores_nothing(
    constrained, admin_client, user
):
    deleted = taken_place(constrained, user)

    response = run_action(admin_client, constrained, "restore_selected", [deleted], follow=True)

    assert response.status_code == 200
    messages = [str(message) for message in response.context["messages"]]
    assert any("Nothing was restored" in message and "taken" in message for message in messages)
    assert constrained.model.all_objects.get(pk=deleted.pk).is_deleted
    assert not LogEntry.objects.filter(action_flag=CHANGE).exists()
