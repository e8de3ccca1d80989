from rest_framework import serializers

from .models import Note


class NoteSerializer(serializers.ModelSerializer):
    class Meta:
        model = Note
        fields = ["id", "slug", "title", "owner", "created_at", "updated_at"]
        read_only_fields = ["id", "owner", "created_at", "updated_at"]


class DeletedNoteSerializer(NoteSerializer):
    class Meta(NoteSerializer.Meta):
        fields = [*NoteSerializer.Meta.fields, "deleted_at", "deleted_by"]
        read_only_fields = fields
