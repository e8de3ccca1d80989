from rest_framework import serializers


# DRF's error body, `{"detail": "..."}`, for the schema.
class DetailSerializer(serializers.Serializer):
    detail = serializers.CharField()
