from django.http import StreamingHttpResponse
from django.utils import timezone
from django_filters.rest_framework import DjangoFilterBackend
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import status, viewsets
from rest_framework.decorators import action
from rest_framework.filters import SearchFilter
from rest_framework.negotiation import BaseContentNegotiation
from rest_framework.renderers import JSONRenderer
from rest_framework.response import Response

from accounts.permissions import IsSuperuser
from accounts.serializers import DetailSerializer

from . import export, services
from .cache import cache_per_user
from .filters import ItemFilter, StableOrderingFilter
from .models import Item
from .serializers import DeletedItemSerializer, ItemSerializer

INVALID = OpenApiResponse(description="Invalid input; the body names the fields at fault.")
NOT_FOUND = OpenApiResponse(
    DetailSerializer, description="No such live item among those the caller may see."
)


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
        responses={200: ItemSerializer(many=True)},
    ),
    create=extend_schema(responses={201: ItemSerializer}),
    retrieve=extend_schema(responses={200: ItemSerializer, 404: NOT_FOUND}),
    update=extend_schema(responses={200: ItemSerializer, 404: NOT_FOUND}),
    partial_update=extend_schema(responses={200: ItemSerializer, 404: NOT_FOUND}),
    destroy=extend_schema(
        description="Soft delete: the item leaves every list but stays in the trash.",
        responses={204: None, 404: NOT_FOUND},
    ),
)
@extend_schema(tags=["items"])
class ItemViewSet(viewsets.ModelViewSet):
    """
    The caller's live items; a superuser's are every owner's.

    Who sees what is decided in `get_queryset` alone: anything outside it (another
    owner's item, a deleted one) is simply not found.
    """

    serializer_class = ItemSerializer
    lookup_value_converter = "uuid"
    filter_backends = [DjangoFilterBackend, SearchFilter, StableOrderingFilter]
    filterset_class = ItemFilter
    search_fields = ["title", "description"]
    ordering_fields = ["created_at", "updated_at", "title"]

    @property
    def ordering(self):
        # The trash shows the latest deletions first, everything else the newest items.
        return ["-deleted_at"] if self.action == "deleted" else ["-created_at"]

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            # Schema generation has no signed-in user; only the model matters there.
            return Item.objects.none()
        if self.action == "deleted":
            items = Item.all_objects.dead()
        elif self.action == "restore":
            items = Item.all_objects.all()
        else:
            items = Item.objects.all()
        return items.owned_by(self.request.user)

    def get_serializer_class(self):
        if self.action == "deleted":
            return DeletedItemSerializer
        return super().get_serializer_class()

    @cache_per_user
    def list(self, request, *args, **kwargs):
        return super().list(request, *args, **kwargs)

    @cache_per_user
    def retrieve(self, request, *args, **kwargs):
        return super().retrieve(request, *args, **kwargs)

    def perform_create(self, serializer):
        serializer.instance = services.item_create(
            owner=self.request.user, **serializer.validated_data
        )

    def perform_update(self, serializer):
        services.item_update(item=serializer.instance, data=serializer.validated_data)

    def perform_destroy(self, instance):
        services.item_soft_delete(item=instance, by=self.request.user)

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
            400: INVALID,
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

    @extend_schema(
        operation_id="items_deleted_list",
        summary="The trash: every owner's deleted items",
        responses={
            200: DeletedItemSerializer(many=True),
        },
    )
    @action(detail=False, methods=["get"], permission_classes=[IsSuperuser])
    def deleted(self, request):
        return self.list(request)

    @extend_schema(
        operation_id="items_restore",
        summary="Restore a deleted item",
        request=None,
        responses={200: ItemSerializer, 404: NOT_FOUND},
    )
    @action(detail=True, methods=["post"], permission_classes=[IsSuperuser])
    def restore(self, request, pk=None):
        item = services.item_restore(item=self.get_object(), by=request.user)
        return Response(self.get_serializer(item).data, status=status.HTTP_200_OK)
