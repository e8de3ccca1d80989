"""Item changes made one instance at a time bump the cached pages' versions after commit."""

from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver

from . import cache
from .models import Item


@receiver(post_save, sender=Item, dispatch_uid="items.bump_cache_on_save")
@receiver(post_delete, sender=Item, dispatch_uid="items.bump_cache_on_delete")
def bump_cache_versions(sender, instance, **kwargs):
    # Raw saves (`loaddata`) bump too: only `owner_id` is read, which a fixture always has.
    cache.bump_versions_on_commit(instance.owner_ids_touched())
