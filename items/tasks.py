"""Periodic item jobs, scheduled by `celery -A config beat` (CELERY_BEAT_SCHEDULE)."""

import logging
from datetime import timedelta

from celery import shared_task
from django.conf import settings
from django.utils import timezone

from core.services import purge_deleted

from .models import Item

logger = logging.getLogger(__name__)


@shared_task
def purge_deleted_items() -> int:
    """
    Hard-delete items deleted more than ITEMS_PURGE_AFTER_DAYS days ago (0: none), in the
    command's batches. Running it twice, or late, purges the same rows: nothing is lost.
    """
    days = settings.ITEMS_PURGE_AFTER_DAYS
    if days <= 0:
        return 0
    purged = purge_deleted(model=Item, deleted_before=timezone.now() - timedelta(days=days))
    logger.info("Purged %d item(s) deleted more than %d day(s) ago", purged, days)
    return purged
