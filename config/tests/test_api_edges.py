"""
The edges of the HTTP API: bodies it cannot take, hosts it does not serve, and the headers
that keep tokens and JSON out of caches and browsers' rendering.
"""

import json

import pytest
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, reverse

from accounts.tests.factories import DEFAULT_PASSWORD
from config.middleware import API_CONTENT_SECURITY_POLICY

pytestmark = pytest.mark.django_db

TOKEN = reverse("auth-token")
ME = reverse("user-me")
ITEMS = reverse("item-list")


def nested(depth, kind):
    if kind == "array":
        return "[" * depth + "]" * depth
    return '{"a":' * depth + "1" + "}" * depth


def assert_json(response, status, detail=None):
    assert response.status_code == status, response.content[:300]
    assert response["Content-Type"] == "application/json"
    if detail is not None:
        assert response.json() == {"detail": detail}


# --- Bodies -------------------------------------------------------------------------------

# An anonymous sign-in, a signed-in create, a profile edit: every parser user is covered.
BODY_ENDPOINTS = [("anonymous", "POST", TOKEN), ("user", "POST", ITEMS), ("user", "PATCH", ME)]


@pytest.fixture
def client_as(api_client, auth_client):
    return {"anonymous": api_client, "user": auth_client}


@pytest.mark.parametrize(("who", "method", "url"), BODY_ENDPOINTS)
@pytest.mark.parametrize(("depth", "kind"), [(950, "array"), (950, "object"), (100_000, "array")])
def test_deeply_nested_json_is_a_400(client_as, who, method, url, depth, kind):
    response = client_as[who].generic(
        method, url, nested(depth, kind), content_type="application/json"
    )
    assert_json(response, 400)
    assert response.json()["detail"].startswith("JSON parse error")


def test_json_nested_within_the_decoders_reach_is_validated_as_usual(api_client):
    response = api_client.generic(
        "POST", TOKEN, nested(500, "object"), content_type="application/json"
    )
    assert response.status_code == 400
    assert set(response.json()) == {"email", "password"}


@pytest.mark.parametrize(("who", "method", "url"), BODY_ENDPOINTS)
def test_a_body_over_the_upload_limit_is_a_json_413(client_as, settings, who, method, url):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1000
    body = json.dumps({"email": "a@example.com", "password": "x" * 1000, "title": "t"})
    response = client_as[who].generic(method, url, body, content_type="application/json")
    assert_json(response, 413, "The request body is too large.")


def test_a_body_within_the_upload_limit_is_served(api_client, settings, user):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1000
    response = api_client.post(TOKEN, {"email": user.email, "password": DEFAULT_PASSWORD})
    assert response.status_code == 200


# --- Hosts --------------------------------------------------------------------------------


@pytest.mark.parametrize("url", [reverse("health-live"), ITEMS, "/api/v1/nope/"])
@pytest.mark.parametrize("method", ["GET", "POST"])
def test_a_disallowed_host_under_api_is_a_json_400(client, url, method):
    response = client.generic(method, url, HTTP_HOST="attacker.example.com")
    assert_json(response, 400, "Invalid Host header.")
    assert response["Content-Security-Policy"] == API_CONTENT_SECURITY_POLICY


def test_a_disallowed_host_elsewhere_keeps_djangos_page(client):
    response = client.get("/", HTTP_HOST="attacker.example.com")
    assert response.status_code == 400
    assert response["Content-Type"].startswith("text/html")


# --- Cache-Control ------------------------------------------------------------------------


def routes(patterns=None, prefix=""):
    """Every URL route of the project, as written (`api/v1/auth/token/`)."""
    for pattern in get_resolver().url_patterns if patterns is None else patterns:
        if isinstance(pattern, URLResolver):
            yield from routes(pattern.url_patterns, prefix + str(pattern.pattern))
        elif isinstance(pattern, URLPattern):
            yield prefix + str(pattern.pattern)


NO_STORE_ROUTES = sorted(
    route for route in routes() if route.startswith(("api/v1/auth/", "api/v1/users/me/"))
)


def cache_control(response):
    return {part.strip() for part in response.get("Cache-Control", "").split(",") if part}


def test_the_no_store_routes_are_found():
    assert {"api/v1/auth/token/", "api/v1/users/me/", "api/v1/users/me/password/"} <= set(
        NO_STORE_ROUTES
    )


@pytest.mark.parametrize("route", NO_STORE_ROUTES)
@pytest.mark.parametrize("who", ["anonymous", "user"])
def test_every_token_and_profile_route_answers_no_store(client_as, route, who):
    response = client_as[who].options(f"/{route}")
    assert "no-store" in cache_control(response), (response.status_code, route)


def test_tokens_and_the_profile_are_no_store(api_client, user):
    tokens = api_client.post(TOKEN, {"email": user.email, "password": DEFAULT_PASSWORD})
    assert tokens.status_code == 200
    assert cache_control(tokens) == {"no-store"}
    refreshed = api_client.post(reverse("auth-token-refresh"), {"refresh": tokens.data["refresh"]})
    assert refreshed.status_code == 200
    assert cache_control(refreshed) == {"no-store"}
    api_client.credentials(HTTP_AUTHORIZATION=f"Bearer {tokens.data['access']}")
    profile = api_client.get(ME)
    assert profile.status_code == 200
    assert cache_control(profile) == {"no-store"}
    assert "ETag" not in profile  # nothing stores it, so nothing revalidates it
    refused = api_client.post(TOKEN, {"email": user.email, "password": "wrong"})
    assert refused.status_code == 401
    assert cache_control(refused) == {"no-store"}


def test_item_pages_keep_their_revalidation_headers(auth_client):
    response = auth_client.get(ITEMS)
    assert cache_control(response) == {"private", "no-cache"}
    assert response["ETag"]


# --- Content-Security-Policy --------------------------------------------------------------


@pytest.mark.parametrize(
    ("who", "url"),
    [
        ("anonymous", reverse("health-live")),
        ("anonymous", ITEMS),  # a 401
        ("anonymous", "/api/v1/nope/"),  # a 404
        ("user", ITEMS),
        ("user", ME),
        ("user", reverse("item-export")),
        ("anonymous", reverse("schema")),
    ],
)
def test_api_data_responses_carry_a_strict_content_security_policy(client_as, who, url):
    response = client_as[who].get(url)
    assert response["Content-Security-Policy"] == API_CONTENT_SECURITY_POLICY


@pytest.mark.parametrize("url", [reverse("swagger-ui"), reverse("redoc"), "/admin/login/", "/"])
def test_html_pages_render_without_that_policy(client, url):
    response = client.get(url)
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/html")
    # ReDoc's page has a policy of its own, which lets its scripts run (test_schema.py).
    assert response.get("Content-Security-Policy") != API_CONTENT_SECURITY_POLICY


def test_the_admin_renders_without_that_policy(superuser):
    client = Client()
    client.force_login(superuser)
    for url in ["/admin/", "/admin/items/item/", "/admin/accounts/user/"]:
        response = client.get(url)
        assert response.status_code == 200, url
        assert "Content-Security-Policy" not in response
