"""
Reusable soft delete: a model adopts it by inheriting `SoftDeleteModel`.

- `objects` (the default manager, and so every related manager such as `user.items`)
  hides deleted rows; `all_objects` shows every row. The base manager is Django's plain
  `Manager`, so cascades, `item.owner`-style lookups and `dumpdata --all` see every row.
- `delete()` on an instance or a queryset soft-deletes (a queryset in one UPDATE);
  `hard_delete()` really deletes and `restore()` undeletes. Every bulk write goes through
  these queryset methods, so a model can hook them in one place by overriding them.

Rows hidden by the default manager are also hidden from the admin, `dumpdata` and DRF's
`UniqueValidator`: use `all_objects` where every row matters, and a partial unique
constraint (`condition=Q(deleted_at__isnull=True)`) for uniqueness among live rows.
"""

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.utils import timezone


class SoftDeleteQuerySet(models.QuerySet):
    def alive(self):
        return self.filter(deleted_at__isnull=True)

    def dead(self):
        return self.filter(deleted_at__isnull=False)

    def delete(self, *, by=None):
        """
        Soft-delete the live rows in one UPDATE, recording when and by whom.

        Returns `(count, {label: count})` like `QuerySet.delete()`, so callers written for
        a hard delete (the admin's bulk delete among them) keep working. Rows deleted
        before keep their original time and author.
        """
        count = self.alive().update(deleted_at=timezone.now(), deleted_by=by)
        return count, {self.model._meta.label: count}

    delete.alters_data = True
    delete.queryset_only = True

    def hard_delete(self):
        """Really delete the rows, live or not, with Django's cascades and signals."""
        return super().delete()

    hard_delete.alters_data = True
    hard_delete.queryset_only = True

    def restore(self):
        """Make the deleted rows live again in one UPDATE; returns how many changed."""
        return self.dead().update(deleted_at=None, deleted_by=None)

    restore.alters_data = True


class SoftDeleteManager(models.Manager.from_queryset(SoftDeleteQuerySet)):
    """Hides deleted rows. Give it a model's own QuerySet with `.from_queryset(...)`."""

    def get_queryset(self):
        return super().get_queryset().alive()


class AllObjectsManager(models.Manager.from_queryset(SoftDeleteQuerySet)):
    """Every row, live or deleted, with the soft-delete QuerySet methods."""


class SoftDeleteModel(models.Model):
    """
    Abstract base: `deleted_at` / `deleted_by` plus the managers above.

    Subclasses with their own QuerySet (a subclass of `SoftDeleteQuerySet`) redeclare the
    managers: `objects = SoftDeleteManager.from_queryset(MyQuerySet)()` and
    `all_objects = AllObjectsManager.from_queryset(MyQuerySet)()`.
    """

    deleted_at = models.DateTimeField(null=True, blank=True, editable=False)
    deleted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        editable=False,
        related_name="+",
    )

    objects = SoftDeleteManager()
    all_objects = AllObjectsManager()

    class Meta:
        abstract = True

    @property
    def is_deleted(self) -> bool:
        return self.deleted_at is not None

    def delete(self, using=None, keep_parents=False, *, by=None):
        """Soft delete, saving only the deletion fields; a deleted row stays as it was."""
        if self.is_deleted:
            return 0, {}
        self.deleted_at = timezone.now()
        self.deleted_by = by
        self.save(using=using, update_fields=["deleted_at", "deleted_by"])
        return 1, {self._meta.label: 1}

    delete.alters_data = True

    def hard_delete(self, using=None, keep_parents=False):
        """Really delete the row (and what cascades from it)."""
        return super().delete(using=using, keep_parents=keep_parents)

    hard_delete.alters_data = True

    def restore(self, using=None):
        """
        Make the row live again. The model's constraints are checked first, so one that
        holds among live rows only (a partial unique constraint) raises `ValidationError`
        when a live row has taken the place since, instead of an `IntegrityError`.
        """
        deleted = self.deleted_at, self.deleted_by_id
        self.deleted_at = self.deleted_by = None
        try:
            self.validate_constraints()
        except ValidationError:
            self.deleted_at, self.deleted_by_id = deleted
            raise
        self.save(using=using, update_fields=["deleted_at", "deleted_by"])

    restore.alters_data = True
