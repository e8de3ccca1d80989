from django_filters import rest_framework as filters
from drf_spectacular.generators import SchemaGenerator

from core.filters import filter_param_names
from core.tests.notes.models import Note
from core.views import canonical_int


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


def test_a_resources_trash_and_restore_are_documented_without_annotations():
    # The notes ViewSet declares no schema annotation at all.
    schema = SchemaGenerator(urlconf="core.tests.notes.urls").get_schema(request=None, public=True)
    trash = schema["paths"]["/api/v1/notes/deleted/"]["get"]
    restore = schema["paths"]["/api/v1/notes/{id}/restore/"]["post"]

    assert trash["operationId"] == "notes_trash"
    assert {"page", "page_size", "search", "ordering", "slug"} <= {
        parameter["name"] for parameter in trash["parameters"]
    }
    trash_body = trash["responses"]["200"]["content"]["application/json"]["schema"]
    assert trash_body == {"$ref": "#/components/schemas/PaginatedDeletedNoteList"}
    assert "requestBody" not in restore
    # Notes have a live-only unique constraint: restoring into a taken place is a 400.
    assert {"200", "400", "403", "404"} <= set(restore["responses"])
