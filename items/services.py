"""Item writes: they validate, save with `update_fields` and return the item."""

import logging

from .models import Item

logger = logging.getLogger(__name__)


# Left out of `full_clean`: the id is a fresh uuid4 and the owner a user the caller holds, so
# their checks (the key's uniqueness, the owner's existence) would each cost a query for
# nothing, a third of the database round trips of a create.
UNCHECKED_FIELDS = ["id", "owner"]


def item_create(*, owner, title: str, description: str = "") -> Item:
    item = Item(owner=owner, title=title, description=description)
    item.full_clean(exclude=UNCHECKED_FIELDS)
    item.save()
    return item


def item_update(*, item: Item, data: dict) -> Item:
    """Set the given editable fields (title, description); `updated_at` moves with them."""
    for field, value in data.items():
        setattr(item, field, value)
    item.full_clean(exclude=UNCHECKED_FIELDS)
    item.save(update_fields=[*data.keys(), "updated_at"])
    return item


def item_soft_delete(*, item: Item, by) -> Item:
    """Mark the item deleted by `by`; the row stays, hidden from `Item.objects`."""
    item.delete(by=by)
    logger.info("Item %s soft-deleted by %s", item.pk, getattr(by, "pk", None))
    return item


def item_restore(*, item: Item, by) -> Item:
    """Make a deleted item live again; restoring a live item changes nothing."""
    if item.is_deleted:
        item.restore()
        logger.info("Item %s restored by %s", item.pk, getattr(by, "pk", None))
    return item
