"""
Receivers that keep the page caches exact; they only bump versions, never carry logic.

Connected in `CoreConfig.ready()` for every model with a `page_cache`: a save bumps its
owners; deleting an owner bumps that owner's pages in each cache whose rows it owns (its rows
go by a cascade, which sends them no signal: no `post_delete` receiver on the resource, so
Django keeps its fast delete).
"""

from django.apps import apps
from django.db.models.signals import post_delete, post_save

from .models import OwnedModel


def cached_models():
    return [
        model
        for model in apps.get_models()
        if issubclass(model, OwnedModel) and model.page_cache is not None
    ]


def bump_on_save(sender, instance, using, **kwargs):
    # Raw saves (`loaddata`) bump too: only the owner's id is read, which a fixture always has.
    sender.owners_changed(instance.owner_ids_touched(), using=using)


def bump_on_owner_delete(sender, instance, using, **kwargs):
    for model in cached_models():
        if model._meta.get_field(model.owner_field).related_model is sender:
            model.owners_changed({instance.pk}, using=using)


def connect_page_cache_receivers():
    for model in cached_models():
        post_save.connect(
            bump_on_save, sender=model, dispatch_uid=f"core.bump_on_save.{model._meta.label}"
        )
        owner_model = model._meta.get_field(model.owner_field).related_model
        post_delete.connect(
            bump_on_owner_delete,
            sender=owner_model,
            dispatch_uid=f"core.bump_on_owner_delete.{owner_model._meta.label}",
        )
