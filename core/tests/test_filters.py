import pytest
from django_filters import rest_framework as filters
from rest_framework import generics, serializers
from rest_framework.test import APIRequestFactory

from core.filters import FilterBackend
from core.tests.notes.factories import NoteFactory
from core.tests.notes.models import Note

pytestmark = pytest.mark.django_db


class SlugRequired(filters.FilterSet):
    slug = filters.CharFilter(required=True)

    class Meta:
        model = Note
        fields = ["slug"]


class NoteSlugs(serializers.ModelSerializer):
    class Meta:
        model = Note
        fields = ["slug"]


class NoteSlugList(generics.ListAPIView):
    queryset = Note.objects.order_by("slug")
    serializer_class = NoteSlugs
    filter_backends = [FilterBackend]
    filterset_class = None
    pagination_class = None
    authentication_classes = []
    permission_classes = []


def note_slugs(filterset_class, query):
    view = NoteSlugList.as_view(filterset_class=filterset_class)
    return view(APIRequestFactory().get("/notes/", query))


def test_without_filter_parameters_every_row_is_kept():
    NoteFactory(slug="a")
    NoteFactory(slug="b")

    response = note_slugs(None, {"other": "x"})

    assert [row["slug"] for row in response.data] == ["a", "b"]


def test_a_given_filter_still_filters():
    NoteFactory(slug="a")
    NoteFactory(slug="b")

    class BySlug(filters.FilterSet):
        class Meta:
            model = Note
            fields = ["slug"]

    assert [row["slug"] for row in note_slugs(BySlug, {"slug": "b"}).data] == ["b"]
    assert len(note_slugs(BySlug, {"other": "x"}).data) == 2


def test_a_required_filter_left_out_is_still_a_400():
    NoteFactory(slug="a")

    assert note_slugs(SlugRequired, {}).status_code == 400
    assert [row["slug"] for row in note_slugs(SlugRequired, {"slug": "a"}).data] == ["a"]
