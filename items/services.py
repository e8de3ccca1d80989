"""Item writes: they validate, save only what changed and return the item."""

from core.services import full_clean, model_update

from .models import Item

# Trusted by `full_clean`: the id is a fresh uuid4 and the owner a user the caller holds, so
# their field checks (the key's uniqueness, the owner's existence) would each cost a query for
# nothing, a third of the database round trips of a create. Constraints still run.
TRUSTED_FIELDS = ["id", "owner"]


def item_create(*, owner, title: str, description: str = "") -> Item:
    item = Item(owner=owner, title=title, description=description)
    full_clean(item, trusted_fields=TRUSTED_FIELDS)
    item.save()
    return item


def item_update(*, item: Item, data: dict) -> Item:
    """Set the given editable fields (title, description); `updated_at` moves with them."""
    model_update(instance=item, data=data, trusted_fields=TRUSTED_FIELDS)
    return item
