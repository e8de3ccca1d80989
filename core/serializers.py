from rest_framework import serializers


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
