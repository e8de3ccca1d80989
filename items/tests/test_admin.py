"""Items-specific admin behaviour; what every soft-deleted resource's admin does is in
`core/tests/test_resource_matrix.py`."""

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from .factories import ItemFactory

pytestmark = pytest.mark.django_db

CHANGELIST = "/admin/items/item/"


@pytest.fixture
def admin_client(superuser):
    client = Client()
    client.force_login(superuser)
    return client


def test_search_by_owner_email(admin_client, user):
    mine = ItemFactory(owner=user)
    ItemFactory()

    response = admin_client.get(CHANGELIST, {"q": user.email})

    assert list(response.context["cl"].result_list) == [mine]


def test_changelist_queries_do_not_grow_with_rows(admin_client):
    ItemFactory.create_batch(2, deleted=True)
    with CaptureQueriesContext(connection) as few:
        admin_client.get(CHANGELIST)
    ItemFactory.create_batch(10, deleted=True)

    with CaptureQueriesContext(connection) as many:
        admin_client.get(CHANGELIST)

    assert len(many) == len(few)


def test_a_deleted_item_opens_in_the_change_form(admin_client):
    item = ItemFactory(deleted=True)

    assert admin_client.get(f"{CHANGELIST}{item.pk}/change/").status_code == 200
