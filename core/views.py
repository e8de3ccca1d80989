"""
A resource's API from small mixins, DRF-style: `OwnedViewSet` is a ModelViewSet over an
`OwnedModel` whose rows are scoped to the caller, soft-deleted, restorable from a trash and
served from the model's page cache. A resource declares its `queryset`, serializers and
filters; see `items.views` and the README's "Adding a resource".
"""

from django.utils.functional import cached_property
from django_filters.rest_framework import DjangoFilterBackend
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import status, viewsets
from rest_framework.decorators import action
from rest_framework.filters import OrderingFilter, SearchFilter
from rest_framework.pagination import PageNumberPagination
from rest_framework.response import Response

from config import metrics

from . import services
from .cache import serve_uncached
from .filters import FilterBackend, StableOrderingFilter, filter_param_names
from .permissions import IsSuperuser
from .schema import INVALID


class CachedPagesMixin:
    """
    `list` and `retrieve` answered from the model's `page_cache` (see `core.cache`).

    Only a query whose every parameter the view knows (pagination, search, ordering, the
    filterset's filters), each given once and spelt the one way that is valid (or empty, which
    DRF reads as not given), is served from or stored in the cache. Anything else
    (`?junk=<random>`, `page=01`, an ordering DRF would silently drop) would store one more
    page per variant, so it is answered uncached. Filter values are not checked here: an
    invalid one is a 400, and only 200s are stored.
    """

    def initial(self, request, *args, **kwargs):
        # Authentication reads the page versions and the page this request may need with
        # the user: one round trip (see `accounts.authentication`). A query answered uncached
        # needs neither, nor the page key's hash of the URL.
        page_cache = self.queryset.model.page_cache
        if (
            self.action in ("list", "retrieve")
            and page_cache is not None
            and self.query_is_cacheable
        ):
            request.prefetch_for_user = page_cache.prefetch_keys(request)
        super().initial(request, *args, **kwargs)

    def list(self, request, *args, **kwargs):
        return self.serve_cached(super().list, request, *args, **kwargs)

    def retrieve(self, request, *args, **kwargs):
        return self.serve_cached(super().retrieve, request, *args, **kwargs)

    def serve_cached(self, view, request, *args, **kwargs):
        page_cache = self.queryset.model.page_cache
        if page_cache is None:
            return serve_uncached(view, request, *args, **kwargs)
        if not self.query_is_cacheable:
            metrics.count_page(page_cache.namespace, "bypass")
            return page_cache.serve_uncached(view, request, *args, **kwargs)
        return page_cache.serve(view, request, *args, **kwargs)

    @cached_property
    def query_is_cacheable(self) -> bool:
        # Asked before authentication and again when serving; a view serves one request.
        request = self.request
        if not request.query_params:
            return True
        checks = self.query_param_checks()
        for name, values in request.query_params.lists():
            check = checks.get(name)
            if check is None or len(values) != 1 or not check(values[0]):
                return False
        return True

    def query_param_checks(self) -> dict:
        """Each known query parameter with the test a cacheable value passes."""
        checks = {}
        paginator = self.paginator
        if isinstance(paginator, PageNumberPagination):
            checks[paginator.page_query_param] = lambda value: (
                value in ("", *paginator.last_page_strings) or canonical_int(value, minimum=1)
            )
            if paginator.page_size_query_param:
                checks[paginator.page_size_query_param] = lambda value: (
                    value == ""
                    or (canonical_int(value, minimum=1, maximum=paginator.max_page_size))
                )
        for backend in self.filter_backends:
            if issubclass(backend, SearchFilter):
                checks[backend.search_param] = lambda value: True
            elif issubclass(backend, OrderingFilter):
                checks[backend.ordering_param] = lambda value, backend=backend: (
                    value == "" or self.ordering_is_valid(backend(), value)
                )
            elif issubclass(backend, DjangoFilterBackend):
                # The declared queryset: only its model matters, and scoping one costs time.
                filterset = backend().get_filterset_class(self, self.queryset)
                for name in filter_param_names(filterset):
                    checks[name] = lambda value: True
        return checks

    def ordering_is_valid(self, backend, value) -> bool:
        terms = value.split(",")  # DRF strips spaces; a cacheable value has none to strip
        valid = backend.remove_invalid_fields(self.queryset, terms, self, self.request)
        fields = [term.lstrip("-") for term in terms]
        return valid == terms and len(set(fields)) == len(fields)


def canonical_int(value: str, *, minimum: int, maximum: int | None = None) -> bool:
    """A whole number written the one way `str(int)` writes it, within the bounds."""
    if not value.isdigit() or str(int(value)) != value:
        return False
    return minimum <= int(value) and (maximum is None or int(value) <= maximum)


class TrashMixin:
    """
    `GET deleted/`: every owner's soft-deleted rows, latest deletion first, paginated and
    filtered like the list; `POST {id}/restore/`: make one live again. Superusers only.
    """

    trash_serializer_class = None

    def __init_subclass__(cls, **kwargs):
        # Document what the schema generator cannot derive from a mixin's action: the trash
        # is a paginated list of `trash_serializer_class`, and a restore into a place a live
        # row has taken is a 400. A resource's own `extend_schema_view` still has the last word.
        super().__init_subclass__(**kwargs)
        if cls.trash_serializer_class is None or getattr(cls, "queryset", None) is None:
            return
        opts = cls.queryset.model._meta
        restored = {200: cls.serializer_class, **({400: INVALID} if opts.constraints else {})}
        extend_schema_view(
            deleted=extend_schema(
                summary=f"The trash: every owner's deleted {opts.verbose_name_plural}",
                responses={200: cls.trash_serializer_class(many=True)},
            ),
            restore=extend_schema(
                summary=f"Restore a deleted {opts.verbose_name}", responses=restored
            ),
        )(cls)

    @property
    def ordering(self):
        # The trash shows the latest deletions first; everything else the model's own order.
        return ["-deleted_at"] if self.action == "deleted" else None

    def rows_for_action(self, model):
        if self.action == "deleted":
            return model.all_objects.dead()
        if self.action == "restore":
            return model.all_objects.all()
        return model.objects.all()

    def get_serializer_class(self):
        if self.action == "deleted":
            return self.trash_serializer_class
        return super().get_serializer_class()

    @action(detail=False, methods=["get"], permission_classes=[IsSuperuser])
    def deleted(self, request):
        return self.list(request)

    @extend_schema(request=None)
    @action(detail=True, methods=["post"], permission_classes=[IsSuperuser])
    def restore(self, request, *args, **kwargs):
        instance = self.get_object()
        self.perform_restore(instance)
        return Response(self.get_serializer(instance).data, status=status.HTTP_200_OK)

    def perform_restore(self, instance):
        services.restore(instance=instance, by=self.request.user)


class OwnedViewSet(CachedPagesMixin, TrashMixin, viewsets.ModelViewSet):
    """
    The caller's live rows; a superuser's are every owner's. Another owner's row, or a
    deleted one, is not found (404).
    """

    # Who sees what is decided in `get_queryset` alone, by the model's `owned_by`. Writes go
    # through `core.services`, which validate the model's constraints (a 400, never a 500).
    # The docstring above is what API clients read in the schema, unless a resource has its own.

    filter_backends = [FilterBackend, SearchFilter, StableOrderingFilter]

    def get_queryset(self):
        model = self.queryset.model
        if getattr(self, "swagger_fake_view", False):
            # Schema generation has no signed-in user; only the model matters there.
            return model.objects.none()
        return self.rows_for_action(model).owned_by(self.request.user)

    def perform_create(self, serializer):
        serializer.instance = services.owned_create(
            model=self.queryset.model, owner=self.request.user, data=serializer.validated_data
        )

    def perform_update(self, serializer):
        services.model_update(
            instance=serializer.instance,
            data=serializer.validated_data,
            trusted_fields=[self.queryset.model.owner_field],
        )

    def perform_destroy(self, instance):
        services.soft_delete(instance=instance, by=self.request.user)
