"""
One bump per transaction, against the real configured cache (local memory on the embedded
defaults, Redis in CI's second pass) and real commits.
"""

from io import StringIO

import pytest
from django.core.management import call_command
from django.db import transaction

from core import cache
from core.cache import ALL_OWNERS
from core.tests.notes.factories import NoteFactory
from core.tests.notes.models import Note
from items.models import Item
from items.tests.factories import ItemFactory

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def version_writes(monkeypatch):
    """
    Counts the round trips that write versions, each still reaching the cache: every one
    goes through `write_versions`, one command (MSET, or `set_many` without Redis).
    """
    calls = []
    write_versions = cache.write_versions

    def counting_write_versions(keys):
        calls.append(set(keys))
        return write_versions(keys)

    monkeypatch.setattr(cache, "write_versions", counting_write_versions)
    return calls


def test_one_round_trip_for_a_transaction_writing_two_resources(user, other_user, version_writes):
    items = ItemFactory.create_batch(50, owner=user)
    NoteFactory.create_batch(3, owner=other_user)
    version_writes.clear()

    with transaction.atomic():
        Item.all_objects.filter(pk__in=[item.pk for item in items]).hard_delete()
        Note.objects.filter(owner=other_user).delete(by=other_user)
        ItemFactory(owner=other_user)

    assert version_writes == [
        {
            f"items:version:{user.pk}",
            f"items:version:{other_user.pk}",
            f"items:version:{ALL_OWNERS}",
            f"notes:version:{other_user.pk}",
            f"notes:version:{ALL_OWNERS}",
        }
    ]


def test_a_50_row_hard_delete_in_autocommit_is_one_round_trip(user, other_user, version_writes):
    ItemFactory.create_batch(25, owner=user, deleted=True)
    ItemFactory.create_batch(25, owner=other_user)
    version_writes.clear()

    Item.all_objects.all().hard_delete()

    assert len(version_writes) == 1


@pytest.mark.parametrize(("batch_size", "round_trips"), [("5000", 1), ("20", 3)])
def test_purge_deleted_items_bumps_once_per_batch(user, version_writes, batch_size, round_trips):
    ItemFactory.create_batch(50, owner=user, deleted=True)
    version_writes.clear()

    call_command(
        "purge_deleted_items", "--older-than", "0", "--batch-size", batch_size, stdout=StringIO()
    )

    # Each batch is a transaction of its own, so no lock is held on the whole trash.
    assert len(version_writes) == round_trips
    assert not Item.all_objects.exists()


def test_a_rolled_back_transaction_bumps_nothing_and_the_next_one_bumps(user, version_writes):
    item = ItemFactory(owner=user)
    version = Item.page_cache.current_version(str(user.pk))
    version_writes.clear()

    with pytest.raises(RuntimeError), transaction.atomic():
        Item.objects.filter(pk=item.pk).update(title="rolled back")
        raise RuntimeError

    assert version_writes == []
    assert Item.page_cache.current_version(str(user.pk)) == version

    with transaction.atomic():
        Item.objects.filter(pk=item.pk).update(title="committed")

    assert len(version_writes) == 1
    assert Item.page_cache.current_version(str(user.pk)) != version


def test_a_write_after_a_rolled_back_savepoint_still_bumps(user, other_user, version_writes):
    mine, theirs = ItemFactory(owner=user), ItemFactory(owner=other_user)
    version_writes.clear()

    with transaction.atomic():
        with pytest.raises(RuntimeError), transaction.atomic():
            Item.objects.filter(pk=theirs.pk).update(title="rolled back")
            raise RuntimeError
        Item.objects.filter(pk=mine.pk).update(title="kept")

    # The savepoint took its callback with it; the later write registered a new one.
    assert len(version_writes) == 1
    assert f"items:version:{user.pk}" in version_writes[0]
