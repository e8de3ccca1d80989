from datetime import UTC

from django.core.exceptions import ValidationError
from django_filters import rest_framework as filters
from django_filters.fields import IsoDateTimeField
from rest_framework.filters import OrderingFilter

from .models import Item


class UTCIsoDateTimeField(IsoDateTimeField):
    """
    An ISO 8601 time, converted to UTC. ISO allows offsets up to ±23:59, PostgreSQL only up
    to ±15:59: passed through, such an offset was a database error (a 500) instead of a match.
    """

    def to_python(self, value):
        value = super().to_python(value)
        if value is None:
            return value
        try:
            return value.astimezone(UTC)
        except OverflowError:  # e.g. 9999-12-31T23:00-05:00 is after the year 9999 in UTC
            raise ValidationError(self.error_messages["invalid"], code="invalid") from None


class UTCIsoDateTimeFilter(filters.IsoDateTimeFilter):
    field_class = UTCIsoDateTimeField


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


class StableOrderingFilter(OrderingFilter):
    """
    DRF's ordering, with the primary key appended as a tie-breaker.

    Page-number pagination over a non-unique order (two items with one title) can repeat
    or skip rows between pages; the key makes the order total. It follows the direction of
    the last term, so `created_at` / `-created_at` both walk one index, forwards or back.
    """

    def get_ordering(self, request, queryset, view):
        ordering = super().get_ordering(request, queryset, view)
        if not ordering:
            return ordering
        pk = queryset.model._meta.pk.name
        if any(term.lstrip("-") in (pk, "pk") for term in ordering):
            return ordering
        return [*ordering, f"-{pk}" if ordering[-1].startswith("-") else pk]
