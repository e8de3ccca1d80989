from django_filters import rest_framework as filters

from core.filters import UTCIsoDateTimeFilter

from .models import Item


class ItemFilter(filters.FilterSet):
    """Time windows and, for superusers, one owner. Bad values are a 400."""

    created_after = UTCIsoDateTimeFilter(field_name="created_at", lookup_expr="gte")
    created_before = UTCIsoDateTimeFilter(field_name="created_at", lookup_expr="lt")
    updated_after = UTCIsoDateTimeFilter(field_name="updated_at", lookup_expr="gte")
    updated_before = UTCIsoDateTimeFilter(field_name="updated_at", lookup_expr="lt")
    # A plain UUID, not a choice of users: an unknown owner yields an empty page rather
    # than a 400 that would tell a caller which user ids exist.
    owner = filters.UUIDFilter(field_name="owner")

    class Meta:
        model = Item
        fields = ["owner", "created_after", "created_before", "updated_after", "updated_before"]
