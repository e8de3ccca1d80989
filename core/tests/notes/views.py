from core.views import OwnedViewSet

from .models import Note
from .serializers import DeletedNoteSerializer, NoteSerializer


class NoteViewSet(OwnedViewSet):
    queryset = Note.objects.all()
    serializer_class = NoteSerializer
    trash_serializer_class = DeletedNoteSerializer
    lookup_value_converter = "uuid"
    filterset_fields = ["slug"]
    search_fields = ["title"]
    ordering_fields = ["created_at", "title"]
