import uuid

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone

from core.cache import PageCache
from core.models import OwnedModel


class Note(OwnedModel):
    """A user's note, unique by slug among the owner's live notes."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notes"
    )
    slug = models.SlugField()
    title = models.CharField(max_length=255)
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    updated_at = models.DateTimeField(auto_now=True)

    page_cache = PageCache("notes", ttl_setting="NOTES_CACHE_TTL")

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            # One live note per slug and owner; deleted ones do not count.
            models.UniqueConstraint(
                fields=["owner", "slug"],
                condition=Q(deleted_at__isnull=True),
                name="notes_note_live_slug_unique",
                violation_error_message="You already have a note with this slug.",
            ),
        ]

    def __str__(self):
        return self.slug
