import uuid
from datetime import UTC, datetime, timedelta
from datetime import timezone as fixed_offset

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from items.models import Item

from .factories import ItemFactory

pytestmark = pytest.mark.django_db

LIST_URL = "/api/v1/items/"
TRASH_URL = "/api/v1/items/deleted/"


def detail_url(item_or_id):
    return f"/api/v1/items/{getattr(item_or_id, 'pk', item_or_id)}/"


def restore_url(item_or_id):
    return f"{detail_url(item_or_id)}restore/"


def snapshot(item):
    return Item.all_objects.filter(pk=item.pk).values().get()


def result_ids(response):
    return [row["id"] for row in response.json()["results"]]


# --- Isolation ------------------------------------------------------------------------------

OBJECT_REQUESTS = [
    ("get", None),
    ("put", {"title": "taken over", "description": ""}),
    ("patch", {"title": "taken over"}),
    ("delete", None),
]


@pytest.mark.parametrize(("method", "body"), OBJECT_REQUESTS)
def test_another_users_item_is_not_found_and_left_unchanged(auth_client, other_user, method, body):
    item = ItemFactory(owner=other_user)
    before = snapshot(item)

    response = getattr(auth_client, method)(detail_url(item), body)

    assert response.status_code == 404
    assert response.json() == {"detail": "No Item matches the given query."}
    assert snapshot(item) == before


@pytest.mark.parametrize(("method", "body"), OBJECT_REQUESTS)
def test_a_deleted_item_is_not_found_even_by_its_owner(auth_client, user, method, body):
    item = ItemFactory(owner=user, deleted=True)
    before = snapshot(item)

    response = getattr(auth_client, method)(detail_url(item), body)

    assert response.status_code == 404
    assert snapshot(item) == before


@pytest.mark.parametrize(("method", "body"), OBJECT_REQUESTS)
@pytest.mark.parametrize("bad_id", ["not-a-uuid", "123", uuid.uuid4()])
def test_malformed_or_unknown_ids_are_json_404s(auth_client, method, body, bad_id):
    response = getattr(auth_client, method)(detail_url(bad_id), body)

    assert response.status_code == 404
    assert response["Content-Type"] == "application/json"


def test_another_users_item_cannot_be_restored_or_listed(auth_client, other_user):
    live = ItemFactory(owner=other_user)
    deleted = ItemFactory(owner=other_user, deleted=True)
    before = snapshot(deleted)

    assert auth_client.post(restore_url(deleted)).status_code == 403
    assert snapshot(deleted) == before
    assert auth_client.get(LIST_URL).json()["count"] == 0
    assert str(live.pk) not in auth_client.get("/api/v1/items/export/").getvalue().decode()


@pytest.mark.parametrize(
    ("method", "url"),
    [
        ("get", LIST_URL),
        ("post", LIST_URL),
        ("get", "/api/v1/items/{id}/"),
        ("put", "/api/v1/items/{id}/"),
        ("patch", "/api/v1/items/{id}/"),
        ("delete", "/api/v1/items/{id}/"),
        ("get", "/api/v1/items/export/"),
        ("get", TRASH_URL),
        ("post", "/api/v1/items/{id}/restore/"),
    ],
)
def test_anonymous_callers_get_401(api_client, method, url):
    item = ItemFactory()
    before = snapshot(item)

    response = getattr(api_client, method)(url.format(id=item.pk), {"title": "x"})

    assert response.status_code == 401
    assert response["Content-Type"] == "application/json"
    assert snapshot(item) == before


# --- Create, read, update, delete -----------------------------------------------------------


def test_create_sets_the_caller_as_owner(auth_client, user):
    response = auth_client.post(LIST_URL, {"title": "Buy milk", "description": "Two litres"})

    assert response.status_code == 201
    body = response.json()
    assert set(body) == {"id", "title", "description", "owner", "created_at", "updated_at"}
    item = Item.objects.get(pk=body["id"])
    assert (item.owner, item.title, item.description) == (user, "Buy milk", "Two litres")
    assert body["owner"] == str(user.pk)


def test_create_ignores_owner_id_timestamps_and_deletion_fields(auth_client, user, other_user):
    forged_id = uuid.uuid4()
    long_ago = "2001-01-01T00:00:00Z"

    response = auth_client.post(
        LIST_URL,
        {
            "title": "Mine",
            "id": str(forged_id),
            "owner": str(other_user.pk),
            "created_at": long_ago,
            "updated_at": long_ago,
            "deleted_at": long_ago,
            "deleted_by": str(other_user.pk),
        },
    )

    assert response.status_code == 201
    item = Item.objects.get(pk=response.json()["id"])
    assert item.pk != forged_id
    assert item.owner == user
    assert item.created_at > timezone.now() - timedelta(minutes=1)
    assert (item.deleted_at, item.deleted_by) == (None, None)


def test_update_ignores_owner_and_read_only_fields(auth_client, user, other_user):
    item = ItemFactory(owner=user)
    created_at = item.created_at

    response = auth_client.put(
        detail_url(item),
        {
            "title": "Renamed",
            "description": "New text",
            "owner": str(other_user.pk),
            "created_at": "2001-01-01T00:00:00Z",
            "deleted_at": "2001-01-01T00:00:00Z",
        },
    )

    assert response.status_code == 200
    item.refresh_from_db()
    assert (item.title, item.description, item.owner) == ("Renamed", "New text", user)
    assert item.created_at == created_at
    assert item.deleted_at is None


def test_partial_update_changes_only_what_was_sent_and_moves_updated_at(auth_client, user):
    item = ItemFactory(owner=user, description="Keep me")
    Item.objects.filter(pk=item.pk).update(updated_at=timezone.now() - timedelta(days=1))

    response = auth_client.patch(detail_url(item), {"title": "Patched"})

    assert response.status_code == 200
    item.refresh_from_db()
    assert (item.title, item.description) == ("Patched", "Keep me")
    assert item.updated_at > timezone.now() - timedelta(minutes=1)


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"title": ""},
        {"title": "   "},
        {"title": "x" * 256},
        {"title": "ok", "description": "x" * 2001},
        {"title": None},
    ],
)
def test_invalid_bodies_are_400_with_field_errors(auth_client, body):
    response = auth_client.post(LIST_URL, body)

    assert response.status_code == 400
    assert set(response.json()) <= {"title", "description"}
    assert not Item.all_objects.exists()


def test_limits_are_inclusive(auth_client):
    response = auth_client.post(LIST_URL, {"title": "x" * 255, "description": "y" * 2000})

    assert response.status_code == 201


def test_retrieve_own_item(auth_client, user):
    item = ItemFactory(owner=user)

    response = auth_client.get(detail_url(item))

    assert response.status_code == 200
    assert response.json()["id"] == str(item.pk)


# Times as clients read them: ISO 8601 in UTC with a `Z`, microseconds only when there are any.
CREATED = datetime(2026, 1, 2, 4, 4, 5, 123456, tzinfo=fixed_offset(timedelta(hours=1)))
UPDATED = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)
TIMES = {"created_at": "2026-01-02T03:04:05.123456Z", "updated_at": "2026-01-02T03:04:05Z"}


def test_times_are_utc_with_a_z_in_the_detail_and_the_list(auth_client, user):
    item = ItemFactory(owner=user, created_at=CREATED)
    Item.objects.filter(pk=item.pk).update(updated_at=UPDATED)

    detail = auth_client.get(detail_url(item), {"uncached": 1}).json()
    listed = auth_client.get(LIST_URL, {"uncached": 1}).json()["results"][0]

    assert {key: detail[key] for key in TIMES} == TIMES
    assert listed == detail


def test_times_stay_utc_whatever_time_zone_is_current(auth_client, user):
    item = ItemFactory(owner=user, created_at=CREATED)
    Item.objects.filter(pk=item.pk).update(updated_at=UPDATED)

    with timezone.override("America/New_York"):
        body = auth_client.get(detail_url(item)).json()

    assert {key: body[key] for key in TIMES} == TIMES


def test_a_created_items_times_are_utc_with_a_z(auth_client):
    body = auth_client.post(LIST_URL, {"title": "t"}).json()
    item = Item.objects.get(pk=body["id"])

    expected = item.created_at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    assert body["created_at"] == expected.replace(".000000Z", "Z")


def test_delete_is_a_soft_delete_recording_who(auth_client, user):
    item = ItemFactory(owner=user)

    response = auth_client.delete(detail_url(item))

    assert response.status_code == 204
    item = Item.all_objects.get(pk=item.pk)
    assert item.deleted_at is not None
    assert item.deleted_by == user
    assert auth_client.get(detail_url(item)).status_code == 404
    assert auth_client.get(LIST_URL).json()["count"] == 0
    assert not user.items.exists()


def test_superuser_lists_every_owners_live_items(superuser_client, user, other_user):
    mine, theirs = ItemFactory(owner=user), ItemFactory(owner=other_user)
    ItemFactory(owner=user, deleted=True)

    response = superuser_client.get(LIST_URL)

    assert set(result_ids(response)) == {str(mine.pk), str(theirs.pk)}


def test_superuser_can_edit_and_delete_any_owners_item(superuser_client, superuser, user):
    item = ItemFactory(owner=user)

    assert superuser_client.patch(detail_url(item), {"title": "Moderated"}).status_code == 200
    assert superuser_client.delete(detail_url(item)).status_code == 204

    item = Item.all_objects.get(pk=item.pk)
    assert (item.title, item.owner, item.deleted_by) == ("Moderated", user, superuser)


# --- Trash and restore ----------------------------------------------------------------------


def test_trash_is_superuser_only(auth_client, user):
    ItemFactory(owner=user, deleted=True)

    response = auth_client.get(TRASH_URL)

    assert response.status_code == 403


def test_trash_lists_every_owners_deleted_items_latest_first(superuser_client, user, other_user):
    now = timezone.now()
    older = ItemFactory(owner=user, deleted=True, deleted_at=now - timedelta(days=2))
    newer = ItemFactory(owner=other_user, deleted=True, deleted_at=now - timedelta(days=1))
    ItemFactory(owner=user)

    response = superuser_client.get(TRASH_URL)

    assert response.status_code == 200
    body = response.json()
    assert body["count"] == 2
    assert result_ids(response) == [str(newer.pk), str(older.pk)]
    assert body["results"][0]["deleted_by"] == str(other_user.pk)
    assert body["results"][0]["deleted_at"] is not None


def test_the_trash_tells_when_an_item_was_deleted_in_utc(superuser_client):
    ItemFactory(deleted=True, deleted_at=CREATED)

    row = superuser_client.get(TRASH_URL).json()["results"][0]

    assert row["deleted_at"] == TIMES["created_at"]


def test_trash_is_paginated_searchable_and_orderable(superuser_client):
    for title in ["b", "a", "c"]:
        ItemFactory(title=title, description="", deleted=True)

    page = superuser_client.get(TRASH_URL, {"page_size": 2, "ordering": "title"}).json()
    found = superuser_client.get(TRASH_URL, {"search": "c"}).json()

    assert [row["title"] for row in page["results"]] == ["a", "b"]
    assert page["next"] is not None
    assert [row["title"] for row in found["results"]] == ["c"]


def test_restore_is_superuser_only(auth_client, user):
    item = ItemFactory(owner=user, deleted=True)

    response = auth_client.post(restore_url(item))

    assert response.status_code == 403
    assert Item.all_objects.get(pk=item.pk).is_deleted


def test_superuser_restores_any_owners_item(superuser_client, auth_client, user):
    item = ItemFactory(owner=user, deleted=True)

    response = superuser_client.post(restore_url(item))

    assert response.status_code == 200
    assert response.json()["id"] == str(item.pk)
    item.refresh_from_db()
    assert (item.deleted_at, item.deleted_by) == (None, None)
    assert result_ids(auth_client.get(LIST_URL)) == [str(item.pk)]


def test_restoring_a_live_item_changes_nothing(superuser_client):
    item = ItemFactory()
    before = snapshot(item)

    response = superuser_client.post(restore_url(item))

    assert response.status_code == 200
    assert snapshot(item) == before


@pytest.mark.parametrize("bad_id", ["not-a-uuid", uuid.uuid4()])
def test_restoring_an_unknown_item_is_404(superuser_client, bad_id):
    assert superuser_client.post(restore_url(bad_id)).status_code == 404


# --- Filters, search, ordering, pagination --------------------------------------------------


def test_search_matches_title_or_description_case_insensitively(auth_client, user):
    by_title = ItemFactory(owner=user, title="Quarterly REPORT", description="")
    by_text = ItemFactory(owner=user, title="Notes", description="see the report")
    ItemFactory(owner=user, title="Groceries", description="milk")
    ItemFactory(title="Someone else's report")

    response = auth_client.get(LIST_URL, {"search": "report"})

    assert set(result_ids(response)) == {str(by_title.pk), str(by_text.pk)}


@pytest.mark.parametrize(
    ("ordering", "expected"),
    [
        (None, ["c", "b", "a"]),
        ("created_at", ["a", "b", "c"]),
        ("-created_at", ["c", "b", "a"]),
        ("title", ["a", "b", "c"]),
        ("-title", ["c", "b", "a"]),
        ("updated_at", ["b", "c", "a"]),
        ("-updated_at", ["a", "c", "b"]),
        ("owner", ["c", "b", "a"]),
        ("deleted_at", ["c", "b", "a"]),
    ],
)
def test_ordering(auth_client, user, ordering, expected):
    now = timezone.now()
    for days, title in [(3, "a"), (2, "b"), (1, "c")]:
        ItemFactory(owner=user, title=title, created_at=now - timedelta(days=days))
    for days, title in [(1, "a"), (3, "b"), (2, "c")]:
        Item.objects.filter(title=title).update(updated_at=now - timedelta(days=days))

    response = auth_client.get(LIST_URL, {"ordering": ordering} if ordering else {})

    assert [row["title"] for row in response.json()["results"]] == expected


def test_pages_do_not_repeat_or_skip_items_with_equal_sort_keys(auth_client, user):
    created_at = timezone.now()
    items = ItemFactory.create_batch(7, owner=user, title="same", created_at=created_at)

    for ordering in ["title", "-created_at"]:
        seen = []
        for page in (1, 2, 3, 4):
            response = auth_client.get(
                LIST_URL, {"ordering": ordering, "page_size": 2, "page": page}
            )
            seen += result_ids(response)
        assert sorted(seen) == sorted(str(item.pk) for item in items)


def test_pagination_shape_and_page_size(auth_client, user):
    ItemFactory.create_batch(3, owner=user)

    body = auth_client.get(LIST_URL, {"page_size": 2}).json()
    last = auth_client.get(LIST_URL, {"page_size": 2, "page": 2}).json()

    assert set(body) == {"count", "next", "previous", "results"}
    assert (body["count"], len(body["results"]), body["previous"]) == (3, 2, None)
    assert "page=2" in body["next"]
    assert (len(last["results"]), last["next"]) == (1, None)


def test_page_size_is_capped_at_100(auth_client, user):
    ItemFactory.create_batch(101, owner=user, description="")

    response = auth_client.get(LIST_URL, {"page_size": 1000})

    assert len(response.json()["results"]) == 100


@pytest.mark.parametrize("page_size", ["abc", "0", "-1", ""])
def test_bad_page_sizes_fall_back_to_the_default(auth_client, user, page_size):
    ItemFactory.create_batch(21, owner=user, description="")

    response = auth_client.get(LIST_URL, {"page_size": page_size})

    assert response.status_code == 200
    assert len(response.json()["results"]) == 20


@pytest.mark.parametrize("page", ["2", "0", "-1", "abc", "99999999999999999999"])
def test_bad_pages_are_404_not_500(auth_client, user, page):
    ItemFactory(owner=user)

    response = auth_client.get(LIST_URL, {"page": page})

    assert response.status_code == 404
    assert "detail" in response.json()


def test_page_last_is_the_last_page(auth_client, user):
    ItemFactory.create_batch(3, owner=user)

    response = auth_client.get(LIST_URL, {"page_size": 2, "page": "last"})

    assert len(response.json()["results"]) == 1


def test_created_and_updated_windows(auth_client, user):
    now = timezone.now()
    old = ItemFactory(owner=user, created_at=now - timedelta(days=10))
    new = ItemFactory(owner=user, created_at=now - timedelta(days=1))
    cutoff = (now - timedelta(days=5)).isoformat()

    after = auth_client.get(LIST_URL, {"created_after": cutoff})
    before = auth_client.get(LIST_URL, {"created_before": cutoff})
    updated = auth_client.get(
        LIST_URL, {"updated_after": cutoff, "updated_before": now + timedelta(minutes=1)}
    )

    assert result_ids(after) == [str(new.pk)]
    assert result_ids(before) == [str(old.pk)]
    assert set(result_ids(updated)) == {str(old.pk), str(new.pk)}


@pytest.mark.parametrize(
    "params", [{"created_after": "yesterday"}, {"updated_before": "2024-13-45"}, {"owner": "x"}]
)
def test_bad_filter_values_are_400(auth_client, params):
    response = auth_client.get(LIST_URL, params)

    assert response.status_code == 400
    assert set(response.json()) == set(params)


def test_owner_filter_narrows_a_superusers_list(superuser_client, user, other_user):
    mine = ItemFactory(owner=user)
    ItemFactory(owner=other_user)

    response = superuser_client.get(LIST_URL, {"owner": str(user.pk)})

    assert result_ids(response) == [str(mine.pk)]


def test_owner_filter_cannot_widen_a_users_list(auth_client, other_user):
    ItemFactory(owner=other_user)

    response = auth_client.get(LIST_URL, {"owner": str(other_user.pk)})

    assert response.json()["count"] == 0


def test_a_restore_that_breaks_a_constraint_is_a_400(superuser_client, monkeypatch):
    item = ItemFactory(deleted=True)

    def violated(self, exclude=None):
        raise ValidationError({"title": "A live item already has this title."})

    monkeypatch.setattr(Item, "validate_constraints", violated)

    response = superuser_client.post(restore_url(item))

    assert response.status_code == 400
    assert response.json() == {"title": ["A live item already has this title."]}
    assert Item.all_objects.get(pk=item.pk).is_deleted


def test_a_detail_is_filtered_like_the_list(auth_client, user):
    item = ItemFactory(owner=user, created_at=timezone.now() - timedelta(days=10))
    cutoff = (timezone.now() - timedelta(days=5)).isoformat()

    assert auth_client.get(detail_url(item), {"created_after": cutoff}).status_code == 404
    assert auth_client.get(detail_url(item), {"created_before": cutoff}).status_code == 200
    assert auth_client.get(detail_url(item), {"created_after": "yesterday"}).status_code == 400
    # A parameter no filter reads leaves the row alone.
    assert auth_client.get(detail_url(item), {"junk": "1"}).status_code == 200
