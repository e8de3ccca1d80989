from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone

from accounts.models import User
from items.models import Item

from .factories import ItemFactory

pytestmark = pytest.mark.django_db


def seed(*args):
    out = StringIO()
    call_command("seed_demo", *args, stdout=out)
    return out.getvalue()


def purge(*args):
    out = StringIO()
    call_command("purge_deleted_items", *args, stdout=out)
    return out.getvalue()


def seeded_items():
    return set(Item.all_objects.values_list("id", "title", "description", "owner__email"))


# --- seed_demo ------------------------------------------------------------------------------


def test_seed_demo_creates_users_and_items_in_batches_with_a_progress_bar():
    out = seed("--users", "3", "--items", "25", "--batch-size", "10", "--seed", "1")

    assert User.objects.filter(email__startswith="demo").count() == 3
    assert Item.all_objects.count() == 25
    assert set(Item.all_objects.values_list("owner__email", flat=True)) <= {
        "demo1@example.com",
        "demo2@example.com",
        "demo3@example.com",
    }
    assert "10/25" in out
    assert "100% 25/25" in out
    assert "3 demo users, 25 new items" in out


def test_seed_demo_users_can_sign_in(api_client, settings):
    settings.ACCOUNT_EMAIL_VERIFICATION = "mandatory"  # demo accounts are verified
    seed("--users", "1", "--items", "0")
    assert User.objects.get(email="demo1@example.com").email_verified

    response = api_client.post(
        "/api/v1/auth/token/", {"email": "demo1@example.com", "password": "demo-password"}
    )

    assert response.status_code == 200


def test_seed_demo_items_are_valid_and_some_are_deleted():
    seed("--users", "2", "--items", "200", "--seed", "3", "--deleted-ratio", "0.5")

    for item in Item.all_objects.all():
        item.full_clean()
        assert item.created_at <= timezone.now()
        if item.is_deleted:
            assert item.deleted_by == item.owner
            assert item.deleted_at >= item.created_at
    assert 0 < Item.all_objects.dead().count() < 200


def test_seed_demo_is_deterministic_with_a_seed():
    seed("--users", "3", "--items", "30", "--seed", "42", "--batch-size", "7")
    first = seeded_items()
    Item.all_objects.all().hard_delete()
    User.objects.all().delete()

    seed("--users", "3", "--items", "30", "--seed", "42", "--batch-size", "30")

    assert seeded_items() == first


def test_seed_demo_differs_between_seeds_and_without_one():
    seed("--users", "2", "--items", "10", "--seed", "1")
    seed("--users", "2", "--items", "10", "--seed", "2")
    seed("--users", "2", "--items", "10")

    assert Item.all_objects.count() == 30
    assert User.objects.count() == 2


def test_seed_demo_rerun_with_the_same_seed_adds_nothing():
    seed("--users", "2", "--items", "10", "--seed", "5")

    out = seed("--users", "2", "--items", "10", "--seed", "5")

    assert Item.all_objects.count() == 10
    assert "2 demo users, 0 new items" in out


@pytest.mark.parametrize(
    "args",
    [
        ["--users", "0", "--items", "5"],
        ["--users", "-1"],
        ["--items", "-1"],
        ["--batch-size", "0"],
        ["--deleted-ratio", "1.5"],
    ],
)
def test_seed_demo_rejects_bad_arguments(args):
    with pytest.raises(CommandError):
        seed(*args)

    assert not Item.all_objects.exists()


def test_seed_demo_gives_every_item_to_the_named_owner(user):
    out = seed("--owner", user.email.upper(), "--items", "12", "--deleted-ratio", "0")

    assert set(Item.objects.values_list("owner", flat=True)) == {user.pk}
    assert Item.objects.count() == 12
    assert not User.objects.filter(email__startswith="demo").exists()
    assert f"{user.email}, 12 new items" in out


def test_seed_demo_needs_the_owner_to_exist():
    with pytest.raises(CommandError, match=r"No user nobody@example\.com"):
        seed("--owner", "nobody@example.com", "--items", "3")

    assert not Item.all_objects.exists()


# --- purge_deleted_items --------------------------------------------------------------------


@pytest.fixture
def trash():
    now = timezone.now()
    return {
        "old": ItemFactory(deleted=True, deleted_at=now - timedelta(days=31)),
        "older": ItemFactory(deleted=True, deleted_at=now - timedelta(days=400)),
        "recent": ItemFactory(deleted=True, deleted_at=now - timedelta(days=29)),
        "live": ItemFactory(created_at=now - timedelta(days=400)),
    }


def test_purge_hard_deletes_only_items_deleted_long_enough_ago(trash):
    out = purge("--older-than", "30")

    assert set(Item._base_manager.all()) == {trash["recent"], trash["live"]}
    assert "Purged 2 item(s)" in out


def test_purge_works_in_batches(trash):
    out = purge("--older-than", "30", "--batch-size", "1")

    assert set(Item._base_manager.all()) == {trash["recent"], trash["live"]}
    assert "Purged 2 item(s)" in out


def test_purge_dry_run_deletes_nothing(trash):
    out = purge("--older-than", "30", "--dry-run")

    assert Item._base_manager.count() == 4
    assert "Would purge 2 item(s)" in out


def test_purge_zero_days_empties_the_trash(trash):
    purge("--older-than", "0")

    assert list(Item._base_manager.all()) == [trash["live"]]


@pytest.mark.parametrize("args", [[], ["--older-than", "-1"], ["--older-than", "soon"]])
def test_purge_needs_a_valid_age(trash, args):
    with pytest.raises(CommandError):
        purge(*args)

    assert Item._base_manager.count() == 4
