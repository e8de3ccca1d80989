"""
Reusable soft delete and per-owner rows. Abstract only: core has no tables of its own.

- `SoftDeleteModel`: `objects` (the default manager, and so every related manager such as
  `user.items`) hides deleted rows; `all_objects` shows every row. The base manager is
  Django's plain `Manager`, so cascades, `item.owner`-style lookups and `dumpdata --all` see
  every row. `delete()` on an instance or a queryset soft-deletes (a queryset in one UPDATE);
  `hard_delete()` really deletes and `restore()` undeletes.
- `OwnedModel` adds an owner: `owned_by(user)` is the one rule for who sees which rows, and
  every write, one row or a bulk queryset method, refreshes the model's `page_cache` for the
  owners it touches (see `core.cache`).

Rows hidden by the default manager are also hidden from the admin, `dumpdata` and DRF's
`UniqueValidator`: use `all_objects` where every row matters, and a partial unique
constraint (`condition=Q(deleted_at__isnull=True)`) for uniqueness among live rows.
"""

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, models, transaction
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
        """Really delete the rows, live or not, with Django's cascades."""
        return super().delete()

    hard_delete.alters_data = True
    hard_delete.queryset_only = True

    def restore(self):
        """
        Make the deleted rows live again in one UPDATE; returns how many changed.

        Like the instance's `restore()`, a constraint that holds among live rows only (a
        partial unique constraint) is checked first: a row whose place a live one has taken
        since raises `ValidationError` naming it, and so do two selected rows that would
        take the same place. Nothing is restored then.
        """
        rows = self.dead()
        if self.model._meta.constraints:
            rows.validate_restore()
        try:
            with transaction.atomic(using=self.db):
                return rows.update(deleted_at=None, deleted_by=None)
        except IntegrityError as exc:
            # Only rows restored together can still collide: each passed the check above.
            raise ValidationError(
                "Some of these rows cannot be live at the same time; restore them one by one."
            ) from exc

    restore.alters_data = True

    def validate_restore(self):
        """Check each row's constraints as if it were live again (one query per row)."""
        errors = []
        for row in self:
            row.deleted_at = row.deleted_by = None
            try:
                row.validate_constraints()
            except ValidationError as exc:
                errors += [f"{row}: {message}" for message in exc.messages]
        if errors:
            raise ValidationError(errors)


class SoftDeleteManager(models.Manager.from_queryset(SoftDeleteQuerySet)):
    """Hides deleted rows. Give it a model's own QuerySet with `.from_queryset(...)`."""

    # The live rows' query of each model, built once. Resolving the `deleted_at` filter is
    # about a tenth of the ORM's work for a one-row read, and every `objects` query, the
    # related managers' (`user.items`) too, starts from it. Each queryset gets its own clone,
    # as Django clones a query for every queryset it derives, so the shared one never changes.
    live_queries = {}

    def get_queryset(self):
        live = self.live_queries.get(self.model)
        if live is None:
            live = self.live_queries[self.model] = super().get_queryset().alive().query
        return self._queryset_class(
            model=self.model, query=live.chain(), using=self._db, hints=self._hints
        )


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


class OwnedQuerySet(SoftDeleteQuerySet):
    """
    Rows with an owner, and the one rule for who sees which of them.

    Bulk writes send no `post_save` and a fast delete no `post_delete`, so the methods that
    write bump the model's page cache themselves, once per call and after the commit (soft
    delete and restore are updates).
    """

    def visible_owner(self, user):
        """
        The one owner whose rows `user` may see, or None when they may see every owner's.

        `owned_by` filters with it and the page cache derives its scopes from it, so a
        resource that changes who sees what overrides this method alone.
        """
        return None if user.is_superuser else user

    def owned_by(self, user):
        owner = self.visible_owner(user)
        return self if owner is None else self.filter(**{self.model.owner_field: owner})

    def owner_ids(self) -> set:
        return set(self.order_by().values_list(self.model.owner_attname(), flat=True).distinct())

    def update(self, **kwargs):
        owner_ids = self.owner_ids()
        field = self.model.owner_field
        for key in (field, f"{field}_id"):
            if key in kwargs:
                owner_ids.add(getattr(kwargs[key], "pk", kwargs[key]))
        count = super().update(**kwargs)
        if count:
            self.model.owners_changed(owner_ids, using=self.db)
        return count

    update.alters_data = True

    def bulk_create(self, objs, *args, **kwargs):
        created = super().bulk_create(objs, *args, **kwargs)
        attname = self.model.owner_attname()
        self.model.owners_changed({getattr(obj, attname) for obj in created}, using=self.db)
        return created

    bulk_create.alters_data = True

    def hard_delete(self):
        # Bumping here, once, rather than in a `post_delete` receiver keeps Django's fast
        # delete (one DELETE, no rows loaded) and makes N rows cost one bump, not N.
        owner_ids = self.owner_ids()
        result = super().hard_delete()
        if result[0]:
            self.model.owners_changed(owner_ids, using=self.db)
        return result

    hard_delete.alters_data = True
    hard_delete.queryset_only = True


class OwnedModel(SoftDeleteModel):
    """
    Abstract base of a soft-deleted resource with an owner, whose pages may be cached.

    A subclass declares the owner foreign key (named by `owner_field`) and, to cache its
    pages, `page_cache = PageCache(...)`. Saves bump through a `post_save` receiver
    (`core.signals`), so raw saves (`loaddata`) do too; deletes and bulk writes bump in the
    queryset methods; deleting an owner bumps through a receiver on the owner's model.
    """

    owner_field = "owner"
    page_cache = None

    objects = SoftDeleteManager.from_queryset(OwnedQuerySet)()
    all_objects = AllObjectsManager.from_queryset(OwnedQuerySet)()

    class Meta:
        abstract = True

    # The owner as last loaded or saved, so a save that moves the row to another owner
    # refreshes the previous owner's cached pages too.
    def save(self, *args, **kwargs):
        super().save(*args, **kwargs)
        self._saved_owner_id = getattr(self, self.owner_attname())

    @classmethod
    def from_db(cls, db, field_names, values):
        instance = super().from_db(db, field_names, values)
        instance._saved_owner_id = instance.__dict__.get(cls.owner_attname())
        return instance

    @classmethod
    def owner_attname(cls) -> str:
        return cls._meta.get_field(cls.owner_field).attname

    @classmethod
    def owners_changed(cls, owner_ids, *, using=None) -> None:
        """These owners' rows changed: their cached pages go stale once the write commits."""
        if cls.page_cache is not None:
            cls.page_cache.bump_on_commit(owner_ids, using=using)

    def owner_ids_touched(self) -> set:
        """The owners whose cached pages a save or delete of this row changes."""
        current = self.__dict__.get(self.owner_attname())
        return {current, getattr(self, "_saved_owner_id", None)} - {None}

    def hard_delete(self, using=None, keep_parents=False):
        owner_ids, db = self.owner_ids_touched(), using or self._state.db
        result = super().hard_delete(using=using, keep_parents=keep_parents)
        self.owners_changed(owner_ids, using=db)
        return result

    hard_delete.alters_data = True
