from core.serializers import ModelSerializer, UTCDateTimeField

from .models import Item


class ItemSerializer(ModelSerializer):
    """An item as its owner sees it; the owner is always the caller, never the body."""

    class Meta:
        model = Item
        fields = ["id", "title", "description", "owner", "created_at", "updated_at"]
        read_only_fields = ["id", "owner", "created_at", "updated_at"]


class DeletedItemSerializer(ItemSerializer):
    """An item in the trash, with when and by whom it was deleted."""

    # Never null in the trash; `deleted_by` is, once the deleting user is removed.
    deleted_at = UTCDateTimeField(read_only=True)

    class Meta(ItemSerializer.Meta):
        fields = [*ItemSerializer.Meta.fields, "deleted_at", "deleted_by"]
        read_only_fields = fields
