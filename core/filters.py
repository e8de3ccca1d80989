"""Filter pieces every resource's list uses."""

from datetime import UTC

from django.core.exceptions import ValidationError
from django.forms import MultiWidget
from django_filters import rest_framework as filters
from django_filters.fields import IsoDateTimeField
from django_filters.widgets import SuffixedMultiWidget
from rest_framework.filters import OrderingFilter


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


class FilterBackend(filters.DjangoFilterBackend):
    """
    django-filter's backend, which steps aside when the query names none of the filterset's
    parameters. django-filter would still build and validate a bound form, to return the
    queryset unchanged (an optional filter given no value filters nothing): a tenth of an
    uncached detail's time, the detail being filtered like the list. A filterset with a
    required filter keeps the full path, so its missing value is still a 400.
    """

    def filter_queryset(self, request, queryset, view):
        filterset_class = self.get_filterset_class(view, queryset)
        if filterset_class is not None and not any(
            f.extra.get("required") for f in filterset_class.base_filters.values()
        ):
            names = filter_param_names(filterset_class)
            if not any(name in request.query_params for name in names):
                return queryset
        return super().filter_queryset(request, queryset, view)


def filter_param_names(filterset_class) -> list:
    """The query parameters a filterset reads (a range filter reads two)."""
    if filterset_class is None:
        return []
    names = []
    for name, filter_ in filterset_class.base_filters.items():
        widget = filter_.field.widget
        if isinstance(widget, SuffixedMultiWidget):
            names += [widget.suffixed(name, suffix) for suffix in widget.suffixes]
        elif isinstance(widget, MultiWidget):
            names += [f"{name}{suffix}" for suffix in widget.widgets_names]
        else:
            names.append(name)
    return names
