"""The daily purge that `celery beat` schedules: the command's batches, after the setting."""

import runpy
from datetime import timedelta

import pytest
from django.utils import timezone

from config.celery import app as celery_app
from core.services import purge_deleted
from items.models import Item
from items.tasks import purge_deleted_items

from .factories import ItemFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def trash():
    now = timezone.now()
    return {
        "old": ItemFactory(deleted=True, deleted_at=now - timedelta(days=31)),
        "recent": ItemFactory(deleted=True, deleted_at=now - timedelta(days=29)),
        "live": ItemFactory(created_at=now - timedelta(days=400)),
    }


def test_the_purge_task_removes_items_deleted_longer_ago_than_the_setting(trash, settings):
    settings.ITEMS_PURGE_AFTER_DAYS = 30
    assert purge_deleted_items.apply().get() == 1
    assert set(Item._base_manager.all()) == {trash["recent"], trash["live"]}
    # Run again (a redelivery, a late beat): nothing more goes.
    assert purge_deleted_items.apply().get() == 0


def test_the_purge_task_follows_a_shorter_setting(trash, settings):
    settings.ITEMS_PURGE_AFTER_DAYS = 1
    assert purge_deleted_items.apply().get() == 2
    assert list(Item._base_manager.all()) == [trash["live"]]


def test_zero_days_disables_the_purge(trash, settings):
    settings.ITEMS_PURGE_AFTER_DAYS = 0
    assert purge_deleted_items.apply().get() == 0
    assert Item._base_manager.count() == 3


def test_the_purge_deletes_in_batches(trash, monkeypatch):
    deletes = []
    original = type(Item.all_objects.all()).hard_delete

    def counting_hard_delete(queryset):
        deletes.append(queryset.count())
        return original(queryset)

    monkeypatch.setattr(type(Item.all_objects.all()), "hard_delete", counting_hard_delete)
    cutoff = timezone.now() - timedelta(days=1)
    purged = purge_deleted(model=Item, deleted_before=cutoff, batch_size=1)
    assert (purged, deletes) == (2, [1, 1])


def test_beat_runs_the_purge_daily(settings):
    schedule = celery_app.conf.beat_schedule["purge-deleted-items"]
    assert schedule["task"] == purge_deleted_items.name
    assert schedule["task"] in celery_app.tasks
    cron = schedule["schedule"]
    assert (cron.hour, cron.minute, len(cron.day_of_week), len(cron.day_of_month)) == (
        {3},
        {30},
        7,
        31,
    )


def test_zero_days_leaves_the_purge_out_of_the_schedule(monkeypatch):
    monkeypatch.setenv("ITEMS_PURGE_AFTER_DAYS", "0")
    assert runpy.run_path("config/settings.py")["CELERY_BEAT_SCHEDULE"] == {}
