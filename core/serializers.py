import copy
from datetime import UTC

from django.db import models
from rest_framework import serializers


class FieldsBuiltOnceMixin:
    """
    A ModelSerializer whose fields are built from the model once per class, then copied for
    each instance. DRF introspects the model anew for every serializer it creates: for a
    user, a quarter of a `users/me/` request. The copy is DRF's own (a field's `deepcopy`
    re-creates it from its arguments, as DRF does for declared fields).

    For serializers whose fields follow from the class alone; one that changes its fields by
    request or instance does so after `get_fields`, on its own copy, as usual.
    """

    def get_fields(self):
        cls = type(self)
        built = cls.__dict__.get("_fields_built_once")
        if built is None:
            built = super().get_fields()
            cls._fields_built_once = built  # two threads may both build: either copy serves
        return copy.deepcopy(built)


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
