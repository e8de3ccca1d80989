from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from core import services
from core.tests.notes.factories import NoteFactory
from core.tests.notes.models import Note

pytestmark = pytest.mark.django_db


# --- full_clean with trusted fields ---------------------------------------------------------


def test_trusting_the_owner_still_checks_a_constraint_that_spans_it(user):
    NoteFactory(owner=user, slug="taken")
    note = Note(owner=user, slug="taken", title="Second")

    # `full_clean(exclude=["owner"])` would pass here and the save would be an IntegrityError.
    with pytest.raises(ValidationError, match="You already have a note with this slug"):
        services.full_clean(note, trusted_fields=["id", "owner"])


def test_trusted_fields_skip_only_their_own_queries(user):
    note = Note(owner=user, slug="fresh", title="Note")

    with CaptureQueriesContext(connection) as trusted:
        services.full_clean(note, trusted_fields=["id", "owner"])
    with CaptureQueriesContext(connection) as untrusted:
        services.full_clean(note)

    def selects(queries):
        return [query["sql"] for query in queries if query["sql"].startswith("SELECT")]

    # The owner's existence and the fresh key's uniqueness; the constraint's query remains.
    assert len(selects(untrusted)) - len(selects(trusted)) == 2
    assert len(selects(trusted)) == 1
    assert '"slug"' in selects(trusted)[0]


def test_full_clean_collects_field_and_constraint_errors(user):
    NoteFactory(owner=user, slug="taken")
    note = Note(owner=user, slug="taken", title="")

    with pytest.raises(ValidationError) as caught:
        services.full_clean(note, trusted_fields=["owner"])

    assert set(caught.value.message_dict) == {"title", "__all__"}


# --- model_update ---------------------------------------------------------------------------


def test_model_update_saves_only_changed_fields_and_auto_now_ones(user):
    note = NoteFactory(owner=user, title="Old", slug="old")
    Note.objects.filter(pk=note.pk).update(
        slug="changed-elsewhere", updated_at=timezone.now() - timedelta(days=1)
    )
    note.refresh_from_db()
    note.slug = "stale-in-memory"

    assert services.model_update(instance=note, data={"title": "New"}) is True

    note.refresh_from_db()
    assert (note.title, note.slug) == ("New", "changed-elsewhere")
    assert note.updated_at > timezone.now() - timedelta(minutes=1)


def test_model_update_that_changes_nothing_runs_no_query(user, django_assert_num_queries):
    note = NoteFactory(owner=user, title="Same")
    updated_at = note.updated_at

    with django_assert_num_queries(0):
        assert services.model_update(instance=note, data={"title": "Same"}) is False

    note.refresh_from_db()
    assert note.updated_at == updated_at


def test_model_update_validates_and_saves_nothing_on_error(user):
    NoteFactory(owner=user, slug="taken")
    note = NoteFactory(owner=user, slug="mine")

    with pytest.raises(ValidationError):
        services.model_update(instance=note, data={"slug": "taken"}, trusted_fields=["owner"])

    assert Note.objects.get(pk=note.pk).slug == "mine"


# --- create, soft delete, restore -----------------------------------------------------------


def test_owned_create_sets_the_owner_and_checks_constraints(user):
    note = services.owned_create(model=Note, owner=user, data={"slug": "a", "title": "A"})

    assert Note.objects.get(pk=note.pk).owner == user
    with pytest.raises(ValidationError):
        services.owned_create(model=Note, owner=user, data={"slug": "a", "title": "Again"})


def test_soft_delete_and_restore(user, superuser):
    note = NoteFactory(owner=user)

    services.soft_delete(instance=note, by=user)
    assert Note.all_objects.get(pk=note.pk).deleted_by == user

    services.restore(instance=note, by=superuser)
    assert Note.objects.filter(pk=note.pk).exists()


def test_restore_into_a_taken_place_leaves_the_row_deleted(user, superuser):
    note = NoteFactory(owner=user, slug="taken", deleted=True)
    NoteFactory(owner=user, slug="taken")

    with pytest.raises(ValidationError):
        services.restore(instance=note, by=superuser)

    assert (note.is_deleted, note.deleted_by) == (True, user)
    assert Note.all_objects.get(pk=note.pk).is_deleted
