import pytest
from django.core.exceptions import ValidationError
from django.db import connection
from django.db.models import Q
from django.test.utils import CaptureQueriesContext

from accounts.tests.factories import UserFactory
from items.models import Item

from .factories import ItemFactory

pytestmark = pytest.mark.django_db


def test_default_manager_hides_deleted_rows_and_all_objects_shows_them():
    live, deleted = ItemFactory(), ItemFactory(deleted=True)

    assert list(Item.objects.all()) == [live]
    assert set(Item.all_objects.all()) == {live, deleted}
    assert set(Item._base_manager.all()) == {live, deleted}
    assert list(Item.all_objects.dead()) == [deleted]
    assert list(Item.all_objects.alive()) == [live]


def test_a_query_changed_in_place_leaves_the_next_querysets_alone(user):
    # Django changes a queryset's own query in place (a related manager's deferred filter,
    # the compiler's alias counts); the default manager shares one built query among them.
    mine, theirs = ItemFactory(owner=user), ItemFactory()
    ItemFactory(owner=user, deleted=True)

    narrowed = Item.objects.get_queryset()
    narrowed.query.add_q(Q(owner=user))

    assert list(narrowed) == [mine]
    assert set(Item.objects.all()) == {mine, theirs}
    assert list(user.items.all()) == [mine]
    assert Item.objects.count() == 2


def test_instance_delete_keeps_the_row_and_records_when_and_by_whom(user):
    item = ItemFactory()

    assert item.delete(by=user) == (1, {"items.Item": 1})

    item = Item.all_objects.get(pk=item.pk)
    assert item.is_deleted
    assert item.deleted_at is not None
    assert item.deleted_by == user
    assert not Item.objects.filter(pk=item.pk).exists()


def test_instance_delete_without_an_author_records_none():
    item = ItemFactory()

    item.delete()

    item.refresh_from_db()
    assert item.deleted_at is not None
    assert item.deleted_by is None


def test_deleting_a_deleted_instance_keeps_the_first_deletion(user, other_user):
    item = ItemFactory()
    item.delete(by=user)
    first = Item.all_objects.get(pk=item.pk).deleted_at

    assert item.delete(by=other_user) == (0, {})

    item = Item.all_objects.get(pk=item.pk)
    assert (item.deleted_at, item.deleted_by) == (first, user)


def test_queryset_delete_soft_deletes_in_a_single_update(user):
    items = ItemFactory.create_batch(3, owner=user)

    with CaptureQueriesContext(connection) as queries:
        result = Item.objects.filter(owner=user).delete(by=user)

    assert result == (3, {"items.Item": 3})
    # One UPDATE for all rows; the only other statement reads which owners' cached pages
    # to refresh.
    statements = [query["sql"].split()[0] for query in queries]
    assert statements == ["SELECT", "UPDATE"]
    assert Item.all_objects.dead().count() == 3
    assert {item.deleted_by for item in Item.all_objects.all()} == {user}
    assert not Item.objects.filter(pk__in=[item.pk for item in items]).exists()


def test_queryset_delete_through_all_objects_leaves_earlier_deletions_alone(user):
    deleted = ItemFactory(deleted=True)
    before = Item.all_objects.get(pk=deleted.pk).deleted_at
    ItemFactory()

    assert Item.all_objects.all().delete(by=user) == (1, {"items.Item": 1})

    deleted.refresh_from_db()
    assert (deleted.deleted_at, deleted.deleted_by) == (before, deleted.owner)
    assert Item.all_objects.alive().count() == 0


def test_managers_offer_no_delete_of_everything():
    # Like Django's own managers: `Item.objects.delete()` must not exist; use `.all()`.
    assert not hasattr(Item.objects, "delete")
    assert not hasattr(Item.all_objects, "hard_delete")


def test_queryset_hard_delete_removes_rows_live_or_deleted():
    ItemFactory(), ItemFactory(deleted=True)
    kept = ItemFactory()

    count, _ = Item.all_objects.exclude(pk=kept.pk).hard_delete()

    assert count == 2
    assert list(Item._base_manager.all()) == [kept]


def test_instance_hard_delete_removes_the_row():
    item = ItemFactory(deleted=True)

    item.hard_delete()

    assert not Item._base_manager.filter(pk=item.pk).exists()


def test_queryset_restore_revives_only_deleted_rows():
    deleted = ItemFactory.create_batch(2, deleted=True)
    ItemFactory()

    assert Item.all_objects.all().restore() == 2

    assert Item.objects.count() == 3
    for item in deleted:
        item.refresh_from_db()
        assert (item.deleted_at, item.deleted_by) == (None, None)


def test_instance_restore():
    item = ItemFactory(deleted=True)

    item.restore()

    assert Item.objects.get(pk=item.pk).deleted_by is None


def test_related_manager_hides_deleted_items(user):
    live = ItemFactory(owner=user)
    ItemFactory(owner=user, deleted=True)

    assert list(user.items.all()) == [live]
    assert user.items.count() == 1


def test_custom_queryset_methods_chain_on_both_managers(user, superuser):
    mine, theirs = ItemFactory(owner=user), ItemFactory()
    ItemFactory(owner=user, deleted=True)

    assert list(Item.objects.owned_by(user)) == [mine]
    assert set(Item.objects.owned_by(superuser)) == {mine, theirs}
    assert Item.all_objects.owned_by(user).count() == 2


def test_deleting_the_owner_hard_deletes_live_and_deleted_items(user):
    ItemFactory(owner=user)
    ItemFactory(owner=user, deleted=True)
    other = ItemFactory()

    user.delete()

    assert list(Item._base_manager.all()) == [other]


def test_deleting_who_deleted_an_item_keeps_the_item(user):
    deleter = UserFactory()
    item = ItemFactory(owner=user)
    item.delete(by=deleter)

    deleter.delete()

    item = Item.all_objects.get(pk=item.pk)
    assert item.is_deleted
    assert item.deleted_by is None


def test_list_order_is_newest_first():
    older, newer = ItemFactory(), ItemFactory()

    assert list(Item.objects.all()) == [newer, older]


def test_a_restore_that_breaks_a_constraint_leaves_the_row_deleted(monkeypatch):
    # Models with a unique constraint among live rows rely on this check (see the README).
    item = ItemFactory(deleted=True)

    def violated(self, exclude=None):
        raise ValidationError("A live row has taken this one's place.")

    monkeypatch.setattr(Item, "validate_constraints", violated)

    with pytest.raises(ValidationError):
        item.restore()

    assert (item.is_deleted, item.deleted_by) == (True, item.owner)
    assert Item.all_objects.get(pk=item.pk).is_deleted
