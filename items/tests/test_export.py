import csv
import io

import pytest
from django.http import StreamingHttpResponse

from items import export

from .factories import ItemFactory

pytestmark = pytest.mark.django_db

EXPORT_URL = "/api/v1/items/export/"


def read_csv(response):
    text = b"".join(response.streaming_content).decode("utf-8")
    return list(csv.reader(io.StringIO(text, newline="")))


def test_export_is_a_streamed_csv_attachment(auth_client, user):
    ItemFactory(owner=user)

    response = auth_client.get(EXPORT_URL)

    assert response.status_code == 200
    assert isinstance(response, StreamingHttpResponse)
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"].startswith('attachment; filename="items-')
    assert response["Content-Disposition"].endswith('.csv"')


def test_export_holds_what_the_list_shows(auth_client, user, other_user):
    mine = ItemFactory(owner=user, title="Mine", description="Text")
    ItemFactory(owner=user, deleted=True)
    ItemFactory(owner=other_user)
    listed = auth_client.get("/api/v1/items/").json()["results"]

    rows = read_csv(auth_client.get(EXPORT_URL))

    assert rows[0] == export.COLUMNS
    assert rows[1:] == [[str(row[column]) for column in export.COLUMNS] for row in listed]
    assert rows[1][:4] == [str(mine.pk), "Mine", "Text", str(user.pk)]


def test_export_applies_the_lists_filters_search_and_ordering(auth_client, user):
    for title in ["b report", "a report", "c notes"]:
        ItemFactory(owner=user, title=title, description="")

    rows = read_csv(auth_client.get(EXPORT_URL, {"search": "report", "ordering": "title"}))

    assert [row[1] for row in rows[1:]] == ["a report", "b report"]


def test_superuser_export_covers_every_owner(superuser_client, user, other_user):
    ItemFactory(owner=user), ItemFactory(owner=other_user)

    rows = read_csv(superuser_client.get(EXPORT_URL))

    assert {row[3] for row in rows[1:]} == {str(user.pk), str(other_user.pk)}


@pytest.mark.parametrize(
    "title",
    [
        "commas, and more, commas",
        'a "quoted" word',
        "two\nlines",
        "carriage\r\nreturn",
        "ünïcödé ✓",
        "'already quoted",
    ],
)
def test_awkward_titles_survive_a_round_trip(auth_client, user, title):
    ItemFactory(owner=user, title=title, description=title)

    rows = read_csv(auth_client.get(EXPORT_URL))

    assert rows[1][1:3] == [title, title]


@pytest.mark.parametrize(
    "value",
    ['=HYPERLINK("http://evil")', "+1+1", "-2+3", "@SUM(A1)", "\tcmd", "\r=1"],
)
def test_spreadsheet_formulas_are_neutralised(auth_client, user, value):
    ItemFactory(owner=user, title=value, description=value)

    rows = read_csv(auth_client.get(EXPORT_URL))

    assert rows[1][1:3] == [f"'{value}", f"'{value}"]


def test_an_empty_export_still_has_the_header(auth_client):
    assert read_csv(auth_client.get(EXPORT_URL)) == [export.COLUMNS]


def test_rows_are_streamed_in_chunks(auth_client, user, monkeypatch):
    monkeypatch.setattr(export, "CHUNK_SIZE", 2)
    ItemFactory.create_batch(5, owner=user)

    chunks = list(auth_client.get(EXPORT_URL).streaming_content)

    # The header at once, then rows two at a time: nothing waits for the whole result.
    assert [chunk.count(b"\r\n") for chunk in chunks] == [1, 2, 2, 1]


def test_asking_for_csv_is_not_refused(auth_client, user):
    ItemFactory(owner=user)

    response = auth_client.get(EXPORT_URL, HTTP_ACCEPT="text/csv")

    assert response.status_code == 200
    assert len(read_csv(response)) == 2


def test_bad_filters_are_a_json_400(auth_client):
    response = auth_client.get(EXPORT_URL, {"created_after": "soon"}, HTTP_ACCEPT="text/csv")

    assert response.status_code == 400
    assert response["Content-Type"] == "application/json"
    assert "created_after" in response.json()
