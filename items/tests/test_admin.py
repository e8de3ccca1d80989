import pytest
from django.contrib.admin.models import CHANGE, DELETION, LogEntry
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from items.models import Item

from .factories import ItemFactory

pytestmark = pytest.mark.django_db

CHANGELIST = "/admin/items/item/"


@pytest.fixture
def admin_client(superuser):
    client = Client()
    client.force_login(superuser)
    return client


def run_action(client, action, items, **extra):
    return client.post(
        CHANGELIST, {"action": action, "_selected_action": [item.pk for item in items], **extra}
    )


def test_changelist_shows_live_and_deleted_items_with_deletion_columns(admin_client):
    live = ItemFactory(title="Live one")
    deleted = ItemFactory(title="Gone one", deleted=True)

    response = admin_client.get(CHANGELIST)

    assert response.status_code == 200
    assert set(response.context["cl"].result_list) == {live, deleted}
    assert "deleted_at" in response.context["cl"].list_display
    assert "deleted_by" in response.context["cl"].list_display


@pytest.mark.parametrize(("state", "expected"), [("live", "Live one"), ("deleted", "Gone one")])
def test_state_filter(admin_client, state, expected):
    ItemFactory(title="Live one")
    ItemFactory(title="Gone one", deleted=True)

    response = admin_client.get(CHANGELIST, {"state": state})

    assert [item.title for item in response.context["cl"].result_list] == [expected]


def test_search_by_owner_email(admin_client, user):
    mine = ItemFactory(owner=user)
    ItemFactory()

    response = admin_client.get(CHANGELIST, {"q": user.email})

    assert list(response.context["cl"].result_list) == [mine]


def test_changelist_queries_do_not_grow_with_rows(admin_client):
    ItemFactory.create_batch(2, deleted=True)
    with CaptureQueriesContext(connection) as few:
        admin_client.get(CHANGELIST)
    ItemFactory.create_batch(10, deleted=True)

    with CaptureQueriesContext(connection) as many:
        admin_client.get(CHANGELIST)

    assert len(many) == len(few)


def test_a_deleted_item_opens_in_the_change_form(admin_client):
    item = ItemFactory(deleted=True)

    assert admin_client.get(f"{CHANGELIST}{item.pk}/change/").status_code == 200


def test_ordinary_delete_is_a_soft_delete(admin_client, superuser):
    item = ItemFactory()

    response = admin_client.post(f"{CHANGELIST}{item.pk}/delete/", {"post": "yes"})

    assert response.status_code == 302
    item = Item.all_objects.get(pk=item.pk)
    assert item.deleted_by == superuser
    assert item.deleted_at is not None


def test_bulk_delete_action_is_a_soft_delete(admin_client, superuser):
    items = ItemFactory.create_batch(2)

    response = run_action(admin_client, "delete_selected", items, post="yes")

    assert response.status_code == 302
    assert Item.objects.count() == 0
    assert {item.deleted_by for item in Item.all_objects.all()} == {superuser}
    assert LogEntry.objects.filter(action_flag=DELETION).count() == 2


def test_restore_action(admin_client):
    deleted, live = ItemFactory(deleted=True), ItemFactory()

    response = run_action(admin_client, "restore_selected", [deleted, live])

    assert response.status_code == 302
    assert set(Item.objects.all()) == {deleted, live}
    assert list(
        LogEntry.objects.filter(action_flag=CHANGE).values_list("object_id", flat=True)
    ) == [str(deleted.pk)]


def test_hard_delete_action_asks_first_then_deletes_for_good(admin_client):
    doomed = [ItemFactory(deleted=True), ItemFactory()]
    kept = ItemFactory()

    confirmation = run_action(admin_client, "hard_delete_selected", doomed)
    assert confirmation.status_code == 200
    assert b"cannot be restored" in confirmation.content
    assert Item.all_objects.count() == 3

    response = run_action(admin_client, "hard_delete_selected", doomed, post="yes")

    assert response.status_code == 302
    assert list(Item._base_manager.all()) == [kept]
    assert LogEntry.objects.filter(action_flag=DELETION).count() == 2


def test_actions_need_the_matching_permissions(user):
    user.is_staff = True
    user.save(update_fields=["is_staff"])
    client = Client()
    client.force_login(user)
    item = ItemFactory(deleted=True)

    response = client.post(
        CHANGELIST, {"action": "hard_delete_selected", "_selected_action": [item.pk], "post": "yes"}
    )

    assert response.status_code == 403
    assert Item.all_objects.filter(pk=item.pk).exists()
