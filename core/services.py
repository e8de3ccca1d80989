"""
Writes every resource shares: validate, save only what changed, soft delete and restore.

Resource services (`items.services`, `accounts.services`) build on these, so a rule about
how a row is validated and saved is written once.
"""

import logging

from django.core.exceptions import NON_FIELD_ERRORS, ValidationError

logger = logging.getLogger(__name__)


def full_clean(instance, *, trusted_fields=(), validate_constraints=True) -> None:
    """
    `instance.full_clean()`, minus the per-field checks of `trusted_fields`.

    `validate_constraints=False` leaves the constraints to the database, for a caller that
    turns its `IntegrityError` into a `ValidationError` itself (`accounts.services`).

    Trust a field whose value the code chose itself: a fresh uuid4 key (whose uniqueness
    check is a query) or the signed-in user as owner (whose existence check is another).
    Unlike `full_clean(exclude=...)`, every constraint and unique check spanning those fields
    still runs: excluding `owner` there would silently skip an `(owner, slug)` constraint.
    """
    trusted = set(trusted_fields)
    errors = {}
    try:
        instance.clean_fields(exclude=trusted)
    except ValidationError as exc:
        errors = exc.update_error_dict(errors)
    try:
        instance.clean()
    except ValidationError as exc:
        errors = exc.update_error_dict(errors)
    # Like `full_clean`, skip the checks of fields that failed already.
    failed = {name for name in errors if name != NON_FIELD_ERRORS}
    pk_name = instance._meta.pk.name
    try:
        instance.validate_unique(exclude=failed | (trusted & {pk_name}))
    except ValidationError as exc:
        errors = exc.update_error_dict(errors)
    if validate_constraints:
        try:
            instance.validate_constraints(exclude=failed)
        except ValidationError as exc:
            errors = exc.update_error_dict(errors)
    if errors:
        raise ValidationError(errors)


def model_update(*, instance, data: dict, trusted_fields=(), validate_constraints=True) -> bool:
    """
    Set the fields in `data`, validate, and save only those whose value changed (with the
    model's `auto_now` fields). Returns whether anything was saved: an update that changes
    nothing writes nothing, so it sends no `post_save` and refreshes no cached page.
    """
    changed = [field for field, value in data.items() if getattr(instance, field) != value]
    if not changed:
        return False
    for field in changed:
        setattr(instance, field, data[field])
    full_clean(instance, trusted_fields=trusted_fields, validate_constraints=validate_constraints)
    auto_now = [
        field.name for field in instance._meta.concrete_fields if getattr(field, "auto_now", False)
    ]
    instance.save(update_fields=[*changed, *auto_now])
    return True


def owned_create(*, model, owner, data: dict):
    """A new row of `model` owned by `owner`, validated (constraints on the owner included)."""
    instance = model(**{model.owner_field: owner}, **data)
    # The owner is the caller; the key, unless the data sets it, is the model's fresh default.
    trusted = [model.owner_field] + ([] if model._meta.pk.name in data else [model._meta.pk.name])
    full_clean(instance, trusted_fields=trusted)
    instance.save()
    return instance


def soft_delete(*, instance, by):
    """Mark the row deleted by `by`; it stays, hidden from the default manager."""
    if instance.delete(by=by)[0]:
        logger.info(
            "%s %s soft-deleted by %s", instance._meta.label, instance.pk, getattr(by, "pk", None)
        )
    return instance


def restore(*, instance, by):
    """Make a deleted row live again; restoring a live row changes nothing."""
    if instance.is_deleted:
        instance.restore()
        logger.info(
            "%s %s restored by %s", instance._meta.label, instance.pk, getattr(by, "pk", None)
        )
    return instance


# Rows per DELETE when purging, so no transaction holds locks on the whole trash.
PURGE_BATCH_SIZE = 5000


def purgeable(*, model, cutoff):
    """The rows of `model` deleted before `cutoff`: what a purge removes."""
    return model.all_objects.dead().filter(deleted_at__lt=cutoff)


def purge_deleted(*, model, deleted_before, batch_size: int = PURGE_BATCH_SIZE) -> int:
    """
    Hard-delete the rows deleted before `deleted_before`, batch by batch, each a transaction
    of its own (and one page cache bump); returns how many went. The `purge_deleted_<rows>`
    commands and the daily task (`items.tasks`) call this.
    """
    expired = purgeable(model=model, cutoff=deleted_before)
    purged = 0
    while pks := list(expired.values_list("pk", flat=True)[:batch_size]):
        count, _ = model.all_objects.filter(pk__in=pks).hard_delete()
        purged += count
    return purged
