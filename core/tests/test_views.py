from django_filters import rest_framework as filters

from core.tests.notes.models import Note
from core.views import canonical_int, filter_param_names


class RangeFilter(filters.FilterSet):
    slug = filters.CharFilter()
    created = filters.DateFromToRangeFilter()
    title = filters.RangeFilter()

    class Meta:
        model = Note
        fields = ["slug"]


def test_filter_param_names_include_each_half_of_a_range():
    assert sorted(filter_param_names(RangeFilter)) == [
        "created_after",
        "created_before",
        "slug",
        "title_max",
        "title_min",
    ]


def test_canonical_int():
    assert canonical_int("20", minimum=1, maximum=100)
    for value in ["020", "+20", " 20", "0", "101", "abc", "", "1e2", "٢"]:
        assert not canonical_int(value, minimum=1, maximum=100), value
