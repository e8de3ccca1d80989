from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from items import services
from items.models import Item

from .factories import ItemFactory

pytestmark = pytest.mark.django_db


def test_item_create(user):
    item = services.item_create(owner=user, title="Title", description="Text")

    assert Item.objects.get(pk=item.pk).owner == user


@pytest.mark.parametrize(
    "fields", [{"title": ""}, {"title": "x" * 256}, {"description": "x" * 2001}]
)
def test_item_create_validates(user, fields):
    with pytest.raises(ValidationError):
        services.item_create(owner=user, **{"title": "Title", **fields})

    assert not Item.all_objects.exists()


def test_item_update_saves_only_the_given_fields_and_updated_at():
    item = ItemFactory(description="Old")
    Item.objects.filter(pk=item.pk).update(
        title="Changed elsewhere", updated_at=timezone.now() - timedelta(days=1)
    )
    item.refresh_from_db()
    item.title = "Stale in memory"

    services.item_update(item=item, data={"description": "New"})

    item.refresh_from_db()
    assert (item.title, item.description) == ("Changed elsewhere", "New")
    assert item.updated_at > timezone.now() - timedelta(minutes=1)


def test_item_update_validates():
    item = ItemFactory(title="Kept")

    with pytest.raises(ValidationError):
        services.item_update(item=item, data={"title": ""})

    item.refresh_from_db()
    assert item.title == "Kept"
