import uuid

from django.conf import settings
from django.core.validators import MaxLengthValidator
from django.db import models
from django.db.models import Q
from django.utils import timezone

from . import cache
from .softdelete import AllObjectsManager, SoftDeleteManager, SoftDeleteModel, SoftDeleteQuerySet


class ItemQuerySet(SoftDeleteQuerySet):
    """
    Bulk writes send no `post_save`, so they bump the cached pages' versions themselves
    (soft delete and restore are updates; hard deletes send `post_delete`).
    """

    def owned_by(self, user):
        """The rows `user` may see: their own, or every owner's for a superuser."""
        return self if user.is_superuser else self.filter(owner=user)

    def update(self, **kwargs):
        owner_ids = set(self.values_list("owner_id", flat=True).distinct())
        if "owner" in kwargs or "owner_id" in kwargs:
            new_owner = kwargs.get("owner_id", kwargs.get("owner"))
            owner_ids.add(getattr(new_owner, "pk", new_owner))
        count = super().update(**kwargs)
        if count:
            cache.bump_versions_on_commit(owner_ids)
        return count

    update.alters_data = True

    def bulk_create(self, objs, *args, **kwargs):
        created = super().bulk_create(objs, *args, **kwargs)
        cache.bump_versions_on_commit({obj.owner_id for obj in created})
        return created

    bulk_create.alters_data = True


class Item(SoftDeleteModel):
    """A user's item. Deleting one only marks it deleted; see `items.softdelete`."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="items"
    )
    title = models.CharField(max_length=255)
    # A TextField's max_length only sizes form widgets; the validator enforces it.
    description = models.TextField(
        max_length=2000, blank=True, validators=[MaxLengthValidator(2000)]
    )
    # Not `auto_now_add`, so seed data and imports can carry their own creation time.
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    updated_at = models.DateTimeField(auto_now=True)

    objects = SoftDeleteManager.from_queryset(ItemQuerySet)()
    all_objects = AllObjectsManager.from_queryset(ItemQuerySet)()

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            # The list endpoint: one owner's live items, newest first. Being partial, the
            # index never walks the owner's deleted rows, and its order spares the sort.
            models.Index(
                fields=["owner", "-created_at", "-id"],
                name="items_owner_live_recent_idx",
                condition=Q(deleted_at__isnull=True),
            ),
            # The same for a superuser's list of every owner's live items.
            models.Index(
                fields=["-created_at", "-id"],
                name="items_live_recent_idx",
                condition=Q(deleted_at__isnull=True),
            ),
            # The trash (newest deletions first) and `purge_deleted_items` (oldest).
            models.Index(
                fields=["-deleted_at", "-id"],
                name="items_deleted_idx",
                condition=Q(deleted_at__isnull=False),
            ),
        ]

    def __str__(self):
        return self.title

    # The owner as last loaded or saved, so a save that moves the item to another owner
    # refreshes the previous owner's cached pages too.
    @classmethod
    def from_db(cls, db, field_names, values):
        instance = super().from_db(db, field_names, values)
        instance._saved_owner_id = instance.__dict__.get("owner_id")
        return instance

    def save(self, *args, **kwargs):
        super().save(*args, **kwargs)
        self._saved_owner_id = self.owner_id

    def owner_ids_touched(self) -> set:
        """The owners whose cached pages a save or delete of this item changes."""
        return {self.owner_id, getattr(self, "_saved_owner_id", None)} - {None}
