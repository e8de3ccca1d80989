import uuid

from django.conf import settings
from django.core.validators import MaxLengthValidator
from django.db import models
from django.db.models import Q
from django.utils import timezone

from core.cache import PageCache
from core.models import OwnedModel


class Item(OwnedModel):
    """A user's item. Deleting one only marks it deleted; see `core.models`."""

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

    page_cache = PageCache("items", ttl_setting="ITEMS_CACHE_TTL")

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
