"""The resources built from `core`, described for the tests every one of them must pass."""

from dataclasses import dataclass

from core.tests.notes.factories import NoteFactory
from core.tests.notes.models import Note
from items.models import Item
from items.tests.factories import ItemFactory


@dataclass(frozen=True)
class Resource:
    name: str
    model: type
    factory: type
    url: str
    # A text field every row has, written by the tests and read back from the API.
    text_field: str
    create_body: dict
    # A filter of the resource's filterset, with a valid value.
    filter_query: dict
    purge_command: str
    urlconf: str | None = None
    # A field unique among one owner's live rows, if the model has such a constraint.
    unique_live_field: str | None = None

    def __str__(self):
        return self.name

    @property
    def trash_url(self):
        return f"{self.url}deleted/"

    def detail_url(self, row_or_id):
        return f"{self.url}{getattr(row_or_id, 'pk', row_or_id)}/"

    def restore_url(self, row_or_id):
        return f"{self.detail_url(row_or_id)}restore/"

    @property
    def admin_url(self):
        return f"/admin/{self.model._meta.app_label}/{self.model._meta.model_name}/"

    def texts(self, response):
        """The text field of a list page (sorted) or of one row."""
        assert response.status_code == 200, response.content
        body = response.json()
        if "results" in body:
            return sorted(row[self.text_field] for row in body["results"])
        return body[self.text_field]


ITEMS = Resource(
    name="items",
    model=Item,
    factory=ItemFactory,
    url="/api/v1/items/",
    text_field="title",
    create_body={"title": "new", "description": ""},
    filter_query={"created_after": "2000-01-01T00:00:00Z"},
    purge_command="purge_deleted_items",
)

NOTES = Resource(
    name="notes",
    model=Note,
    factory=NoteFactory,
    url="/api/v1/notes/",
    text_field="title",
    create_body={"title": "new", "slug": "new"},
    filter_query={"slug": "original"},
    purge_command="purge_deleted_notes",
    urlconf="core.tests.notes.urls",
    unique_live_field="slug",
)

RESOURCES = [ITEMS, NOTES]
