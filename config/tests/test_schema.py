"""
The schema as a generated client reads it: what the server always sends is required, every
error has its body, and each operation is named. The TypeScript program in `contract/` proves
the whole of it against a live server (`reliability/test_contract.py`).
"""

import re
from io import StringIO

import pytest
import yaml
from django.core.management import call_command
from django.urls import reverse

pytestmark = pytest.mark.django_db

OPERATIONS = ("get", "post", "put", "patch", "delete")


@pytest.fixture(scope="module")
def schema():
    out = StringIO()
    call_command("spectacular", "--validate", "--fail-on-warn", stdout=out)
    return yaml.safe_load(out.getvalue())


def operations(schema):
    for path, item in schema["paths"].items():
        for method, operation in item.items():
            if method in OPERATIONS:
                yield path, method, operation


def component(schema, response):
    ref = response["content"]["application/json"]["schema"]["$ref"]
    return schema["components"]["schemas"][ref.rsplit("/", 1)[-1]]


def test_every_operation_has_a_summary_and_a_readable_unique_id(schema):
    ids = [operation["operationId"] for _, _, operation in operations(schema)]

    assert len(ids) == len(set(ids))
    for path, method, operation in operations(schema):
        assert operation.get("summary"), (method, path)
        # drf-spectacular's defaults name the HTTP method, not the deed: `auth_token_create`.
        assert not re.search(r"_(retrieve|partial_update|destroy)$", operation["operationId"])
        if operation["operationId"].endswith("_create"):
            assert path in ("/api/v1/items/", "/api/v1/users/")
    assert {"auth_login", "auth_refresh", "health_live", "items_get", "me_delete"} <= set(ids)


def test_sign_in_and_refresh_declare_the_token_pair(schema):
    for path in ["/api/v1/auth/token/", "/api/v1/auth/token/refresh/"]:
        pair = component(schema, schema["paths"][path]["post"]["responses"]["200"])
        # `refresh` travels in a cookie instead in cookie mode (JWT_REFRESH_COOKIE).
        assert pair["required"] == ["access"]
        assert set(pair["properties"]) == {"access", "refresh"}


def test_a_400_declares_the_field_errors_of_its_input(schema):
    register = schema["paths"]["/api/v1/auth/register/"]["post"]["responses"]["400"]
    logout = schema["paths"]["/api/v1/auth/logout/"]["post"]["responses"]["400"]
    items = schema["paths"]["/api/v1/items/"]["get"]["responses"]["400"]
    messages = {"type": "array", "items": {"type": "string"}}

    register_errors = component(schema, register)["properties"]
    assert register_errors["password"] == messages
    assert register_errors["non_field_errors"] == messages
    assert set(component(schema, logout)["properties"]) == {"refresh", "non_field_errors", "detail"}
    assert component(schema, items)["properties"]["created_after"] == messages


def test_every_validating_operation_declares_a_400_body(schema):
    for path, method, operation in operations(schema):
        if "requestBody" in operation or path.endswith(("/items/", "/users/", "/export/")):
            assert "content" in operation["responses"]["400"], (method, path)


def test_a_401_carries_simplejwts_code_and_messages(schema):
    response = schema["paths"]["/api/v1/users/me/"]["get"]["responses"]["401"]
    unauthorized = component(schema, response)

    assert {"detail", "code", "messages"} <= set(unauthorized["properties"])
    assert unauthorized["required"] == ["detail"]


@pytest.mark.parametrize(
    ("name", "fields"),
    [
        ("Item", ["description", "owner", "created_at"]),
        ("User", ["full_name", "is_active"]),
        ("AdminUser", ["full_name", "is_active", "is_superuser", "is_staff"]),
        ("DeletedItem", ["deleted_at", "deleted_by"]),
        ("PaginatedItemList", ["count", "next", "previous", "results"]),
    ],
)
def test_fields_the_server_always_sends_are_required(schema, name, fields):
    assert set(fields) <= set(schema["components"]["schemas"][name]["required"])


def test_only_what_can_be_null_is_nullable(schema):
    schemas = schema["components"]["schemas"]

    assert "nullable" not in schemas["DeletedItem"]["properties"]["deleted_at"]
    assert schemas["DeletedItem"]["properties"]["deleted_by"]["nullable"] is True
    assert schemas["PaginatedItemList"]["properties"]["next"]["nullable"] is True


def test_request_components_mark_no_field_write_only(schema):
    password = schema["components"]["schemas"]["RegisterRequest"]["properties"]["password"]

    assert "writeOnly" not in password


def test_page_is_a_number_or_last_and_ordering_an_enum(schema):
    parameters = {p["name"]: p for p in schema["paths"]["/api/v1/items/"]["get"]["parameters"]}
    users = {p["name"]: p for p in schema["paths"]["/api/v1/users/"]["get"]["parameters"]}

    assert parameters["page"]["schema"]["oneOf"][1]["enum"] == ["last"]
    assert {"created_at", "-created_at", "title", "-title"} <= set(
        parameters["ordering"]["schema"]["enum"]
    )
    assert set(users["ordering"]["schema"]["enum"]) == {
        "date_joined",
        "-date_joined",
        "email",
        "-email",
    }


def test_a_429_declares_retry_after(schema):
    response = schema["paths"]["/api/v1/auth/token/"]["post"]["responses"]["429"]

    assert response["headers"]["Retry-After"]["schema"]["type"] == "integer"


@pytest.mark.parametrize("path", ["/api/v1/items/", "/api/v1/items/{id}/"])
def test_item_pages_declare_their_etag_and_the_304(schema, path):
    operation = schema["paths"][path]["get"]

    assert "If-None-Match" in {p["name"] for p in operation["parameters"]}
    assert "ETag" in operation["responses"]["200"]["headers"]
    assert "content" not in operation["responses"]["304"]


def test_the_schema_names_a_relative_server_and_no_example_host(schema):
    assert schema["servers"] == [{"url": "/", "description": "The host serving this schema"}]
    assert "example.org" not in yaml.safe_dump(schema)


def test_descriptions_speak_of_each_operation(schema):
    restore = schema["paths"]["/api/v1/items/{id}/restore/"]["post"]

    assert "No such live item" not in restore["responses"]["404"]["description"]
    assert "get_queryset" not in yaml.safe_dump(schema)
    assert "500" not in yaml.safe_dump(schema["components"])


@pytest.mark.parametrize("name", ["swagger-ui", "redoc"])
def test_docs_reference_no_other_host(client, name):
    response = client.get(reverse(name))

    html = response.content.decode()
    assert response.status_code == 200
    assert re.findall(r"""(?:src|href)=["'](?:https?:)?//""", html) == []
    assert "fonts.googleapis.com" not in html


def test_redoc_may_not_fetch_images_or_fonts_from_other_hosts(client):
    policy = client.get(reverse("redoc"))["Content-Security-Policy"]

    assert "img-src 'self' data:" in policy
    assert "font-src 'self' data:" in policy


def test_cors_exposes_retry_after_and_allows_conditional_requests(client, settings):
    settings.CORS_ALLOWED_ORIGINS = ["https://app.example.com"]
    preflight = client.options(
        reverse("item-list"),
        HTTP_ORIGIN="https://app.example.com",
        HTTP_ACCESS_CONTROL_REQUEST_METHOD="GET",
        HTTP_ACCESS_CONTROL_REQUEST_HEADERS="authorization,if-none-match,if-match",
    )
    response = client.get(reverse("health-live"), HTTP_ORIGIN="https://app.example.com")

    allowed = preflight["Access-Control-Allow-Headers"]
    assert {"authorization", "if-none-match", "if-match"} <= set(allowed.split(", "))
    assert "Retry-After" in response["Access-Control-Expose-Headers"]
