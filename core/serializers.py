import copy
from datetime import UTC

from django.db import models
from rest_framework import serializers


class FieldsBuiltOnceMixin:
    """
    A ModelSerializer whose fields are built from the model once per class, then copied for
    each instance. DRF introspects the model anew for every serializer it creates: for a
    user, a quarter of a `users/me/` request.

    For serializers whose fields follow from the class alone; one that changes its fields by
    request or instance does so after `get_fields`, on its own copy, as usual.
    """

    def get_fields(self):
        cls = type(self)
        copiers = cls.__dict__.get("_fields_built_once")
        if copiers is None:
            copiers = {name: field_copier(field) for name, field in super().get_fields().items()}
            cls._fields_built_once = copiers  # two threads may both build: either serves
        return {name: copy_field() for name, copy_field in copiers.items()}


def field_copier(field):
    """
    A function that returns a fresh, unbound copy of `field` at each call.

    DRF copies a field with `deepcopy`, which re-creates it from its arguments: 80 µs for an
    item's six fields, 3 % of an uncached detail or create. An unbound field's state is plain
    values, and lists and dicts of its own (validators, error messages, style), so a copy of
    its attributes with those containers copied too is as independent, at a seventh of the
    cost. A field that holds other fields (a nested serializer, a ListField's child, a
    many-relation's child relation) has bound them to itself: it gets DRF's `deepcopy`.
    """
    state = vars(field)
    if isinstance(field, serializers.BaseSerializer) or any(
        isinstance(value, serializers.Field) for value in state.values()
    ):
        return lambda: copy.deepcopy(field)
    cls = type(field)
    containers = [name for name, value in state.items() if isinstance(value, (list, dict, set))]

    def copy_field():
        # `copy.copy` does the same through `__reduce_ex__`, four times slower.
        clone = object.__new__(cls)
        clone.__dict__.update(state)
        for name in containers:
            clone.__dict__[name] = state[name].copy()
        return clone

    return copy_field


class UTCDateTimeField(serializers.DateTimeField):
    """
    DRF's DateTimeField pinned to UTC, the zone every time is stored and served in
    (`TIME_ZONE`; no request activates another): `2026-12-06T00:11:51.123456Z`, byte for byte
    what DRF writes in the current zone. Unpinned, DRF looks the current zone up for each value,
    three quarters of a value's cost and a tenth of a list page's.
    """

    def __init__(self, **kwargs):
        kwargs.setdefault("default_timezone", UTC)
        super().__init__(**kwargs)


class ModelSerializer(FieldsBuiltOnceMixin, serializers.ModelSerializer):
    """DRF's ModelSerializer with fields built once per class, and model times in UTC."""

    serializer_field_mapping = {
        **serializers.ModelSerializer.serializer_field_mapping,
        models.DateTimeField: UTCDateTimeField,
    }


# DRF's error body, `{"detail": "..."}`, for the schema.
class DetailSerializer(serializers.Serializer):
    detail = serializers.CharField()


class TokenErrorMessageSerializer(serializers.Serializer):
    token_class = serializers.CharField()
    token_type = serializers.CharField()
    message = serializers.CharField()


class UnauthorizedSerializer(serializers.Serializer):
    """A 401: simplejwt adds `code` and, for a rejected access token, `messages`."""

    detail = serializers.CharField()
    code = serializers.CharField(required=False)
    messages = TokenErrorMessageSerializer(many=True, required=False)
