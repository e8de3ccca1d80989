from io import StringIO

import pytest
import yaml
from django.core.management import call_command


@pytest.fixture(scope="module")
def schema():
    out = StringIO()
    call_command("spectacular", "--validate", "--fail-on-warn", stdout=out)
    return yaml.safe_load(out.getvalue())


def test_item_endpoints_are_documented(schema):
    paths = {path for path in schema["paths"] if path.startswith("/api/v1/items/")}

    assert paths == {
        "/api/v1/items/",
        "/api/v1/items/{id}/",
        "/api/v1/items/export/",
        "/api/v1/items/deleted/",
        "/api/v1/items/{id}/restore/",
    }


def test_export_is_documented_as_csv_with_the_list_filters(schema):
    operation = schema["paths"]["/api/v1/items/export/"]["get"]

    assert list(operation["responses"]["200"]["content"]) == ["text/csv"]
    assert {"search", "ordering", "created_after"} <= {p["name"] for p in operation["parameters"]}


def test_list_and_trash_are_paginated(schema):
    for path in ["/api/v1/items/", "/api/v1/items/deleted/"]:
        operation = schema["paths"][path]["get"]
        assert {"page", "page_size"} <= {p["name"] for p in operation["parameters"]}
