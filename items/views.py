from django.http import StreamingHttpResponse
from django.utils import timezone
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiParameter,
    OpenApiResponse,
    extend_schema,
    extend_schema_view,
)
from rest_framework.decorators import action
from rest_framework.negotiation import BaseContentNegotiation
from rest_framework.renderers import JSONRenderer

from core.serializers import DetailSerializer
from core.views import OwnedViewSet

from . import export, services
from .filters import ItemFilter
from .models import Item
from .serializers import DeletedItemSerializer, ItemSerializer

NOT_FOUND = OpenApiResponse(
    DetailSerializer,
    description="No such live item among those the caller may see, or a malformed id.",
)

# Pages are served with `Cache-Control: private, no-cache` and an ETag (ConditionalGetMiddleware):
# a client revalidates with If-None-Match and gets a 304 while its copy is current.
CONDITIONAL_GET = {
    "parameters": [
        OpenApiParameter(
            "If-None-Match",
            OpenApiTypes.STR,
            OpenApiParameter.HEADER,
            description="The ETag of the copy the client holds.",
        ),
        OpenApiParameter(
            "ETag",
            OpenApiTypes.STR,
            OpenApiParameter.HEADER,
            response=[200],
            required=True,
            description="Identifies this version of the response, for If-None-Match.",
        ),
    ],
}
NOT_MODIFIED = OpenApiResponse(description="The copy named by If-None-Match is current.")


class CSVDownloadNegotiation(BaseContentNegotiation):
    """
    The export is CSV whatever the `Accept` header says, so a client asking for
    `text/csv` is not refused (406); errors before the download stay JSON, like every
    other `/api/` response.
    """

    def select_parser(self, request, parsers):
        return parsers[0] if parsers else None

    def select_renderer(self, request, renderers, format_suffix=None):
        return renderers[0], renderers[0].media_type


@extend_schema_view(
    list=extend_schema(
        summary="List items",
        description="The caller's live items (every owner's for a superuser), newest first.",
        responses={200: ItemSerializer, 304: NOT_MODIFIED},
        **CONDITIONAL_GET,
    ),
    create=extend_schema(
        summary="Create an item", description="The caller owns it, whatever the body says."
    ),
    retrieve=extend_schema(
        summary="Get an item",
        responses={200: ItemSerializer, 304: NOT_MODIFIED, 404: NOT_FOUND},
        **CONDITIONAL_GET,
    ),
    update=extend_schema(
        summary="Replace an item", responses={200: ItemSerializer, 404: NOT_FOUND}
    ),
    partial_update=extend_schema(
        summary="Edit an item", responses={200: ItemSerializer, 404: NOT_FOUND}
    ),
    destroy=extend_schema(
        summary="Delete an item",
        description="Soft delete: the item leaves every list but stays in the trash.",
        responses={204: None, 404: NOT_FOUND},
    ),
    deleted=extend_schema(
        summary="List deleted items",
        description="The trash: every owner's deleted items, latest deletion first.",
        responses={200: DeletedItemSerializer(many=True)},
    ),
    restore=extend_schema(
        summary="Restore a deleted item",
        description="The item is live again; restoring a live item changes nothing.",
        request=None,
        responses={
            200: ItemSerializer,
            404: OpenApiResponse(DetailSerializer, description="No such item, or a malformed id."),
        },
    ),
)
@extend_schema(tags=["items"])
class ItemViewSet(OwnedViewSet):
    """
    The caller's live items; a superuser's are every owner's.

    Who sees what is decided in `get_queryset` alone: anything outside it (another
    owner's item, a deleted one) is simply not found.
    """

    queryset = Item.objects.all()
    serializer_class = ItemSerializer
    trash_serializer_class = DeletedItemSerializer
    lookup_value_converter = "uuid"
    filterset_class = ItemFilter
    search_fields = ["title", "description"]
    ordering_fields = ["created_at", "updated_at", "title"]

    def perform_create(self, serializer):
        serializer.instance = services.item_create(
            owner=self.request.user, **serializer.validated_data
        )

    def perform_update(self, serializer):
        services.item_update(item=serializer.instance, data=serializer.validated_data)

    @extend_schema(
        operation_id="items_export",
        summary="Download the list as CSV",
        description=(
            "What the list would show, with the same filters, search and ordering, as a "
            "streamed CSV attachment. Cells that a spreadsheet would run as a formula "
            "(starting with `=`, `+`, `-`, `@`, a tab or a carriage return) are prefixed "
            "with an apostrophe."
        ),
        filters=True,
        responses={
            (200, "text/csv"): OpenApiResponse(
                OpenApiTypes.STR, description="columns: " + ", ".join(export.COLUMNS)
            ),
        },
    )
    @action(
        detail=False,
        methods=["get"],
        renderer_classes=[JSONRenderer],
        content_negotiation_class=CSVDownloadNegotiation,
    )
    def export(self, request):
        items = self.filter_queryset(self.get_queryset())
        response = StreamingHttpResponse(
            export.csv_chunks(items), content_type="text/csv; charset=utf-8"
        )
        filename = f"items-{timezone.now():%Y%m%d-%H%M%S}.csv"
        response["Content-Disposition"] = f'attachment; filename="{filename}"'
        return response
