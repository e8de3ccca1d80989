import copy

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
