import pytest
from django.db import OperationalError, connection
from django.test import Client
from django.urls import reverse

from accounts.views import MeView
from config.exceptions import ServiceUnavailable

pytestmark = pytest.mark.django_db


def test_liveness_does_not_touch_the_database(api_client, django_assert_num_queries):
    with django_assert_num_queries(0):
        response = api_client.get(reverse("health-live"))
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


def test_readiness_ok(api_client):
    response = api_client.get(reverse("health-ready"))
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "checks": {"database": "ok", "cache": "ok"}}


def test_readiness_503_names_the_database(api_client, monkeypatch):
    def broken_cursor(*args, **kwargs):
        raise connection.OperationalError("database is gone")

    monkeypatch.setattr(connection, "cursor", broken_cursor)
    response = api_client.get(reverse("health-ready"))
    assert response.status_code == 503
    assert response.json()["checks"]["database"] == "unavailable"


def test_readiness_reports_a_failing_cache_as_degraded(api_client, settings):
    settings.CACHES = {
        **settings.CACHES,
        "default": {"BACKEND": "django.core.cache.backends.dummy.DummyCache"},
    }
    response = api_client.get(reverse("health-ready"))
    assert response.status_code == 200
    assert response.json()["status"] == "degraded"
    assert response.json()["checks"]["cache"] == "degraded"


@pytest.mark.parametrize("debug", [True, False])
@pytest.mark.parametrize("url", ["/api/v1/nope/", "/api/v2/items/", "/api/v1/users/me/extra/"])
def test_unknown_api_urls_are_json_404(client, settings, debug, url):
    settings.DEBUG = debug
    response = client.get(url)
    assert response.status_code == 404
    assert response["Content-Type"] == "application/json"
    assert response.json() == {"detail": "Not found."}


def test_server_errors_are_json_without_traceback(settings, exploding_urls):
    settings.DEBUG = False
    response = Client(raise_request_exception=False).get("/api/v1/boom/")
    assert response.status_code == 500
    assert response["Content-Type"] == "application/json"
    assert response.json() == {"detail": "A server error occurred."}
    assert b"kaboom" not in response.content


def test_schema_lists_every_endpoint(api_client):
    response = api_client.get(reverse("schema"), HTTP_ACCEPT="application/vnd.oai.openapi+json")
    assert response.status_code == 200
    paths = response.json()["paths"]
    for expected in [
        "/api/v1/auth/register/",
        "/api/v1/auth/token/",
        "/api/v1/auth/token/refresh/",
        "/api/v1/auth/logout/",
        "/api/v1/auth/logout/all/",
        "/api/v1/auth/password-reset/",
        "/api/v1/auth/password-reset/confirm/",
        "/api/v1/users/me/",
        "/api/v1/users/me/password/",
        "/api/v1/users/",
        "/api/v1/users/{id}/",
        "/api/v1/health/live/",
        "/api/v1/health/ready/",
    ]:
        assert expected in paths
    assert "jwtAuth" in response.json()["components"]["securitySchemes"]


@pytest.mark.parametrize("name", ["swagger-ui", "redoc"])
def test_docs_are_served_without_a_cdn(client, name):
    response = client.get(reverse(name))
    assert response.status_code == 200
    html = response.content.decode()
    assert "cdn.jsdelivr.net" not in html
    assert "/static/drf_spectacular_sidecar/" in html


def test_landing_page_links_docs_and_admin(client):
    response = client.get("/")
    assert response.status_code == 200
    for url in ["/api/v1/docs/", "/api/v1/redoc/", "/admin/"]:
        assert f'href="{url}"' in response.content.decode()


def test_cors_allows_configured_origin_with_authorization(client, settings):
    settings.CORS_ALLOWED_ORIGINS = ["https://app.example.com"]
    response = client.options(
        reverse("user-me"),
        HTTP_ORIGIN="https://app.example.com",
        HTTP_ACCESS_CONTROL_REQUEST_METHOD="GET",
        HTTP_ACCESS_CONTROL_REQUEST_HEADERS="authorization",
    )
    assert response["Access-Control-Allow-Origin"] == "https://app.example.com"
    assert "authorization" in response["Access-Control-Allow-Headers"]


def test_cors_ignores_other_origins(client, settings):
    settings.CORS_ALLOWED_ORIGINS = ["https://app.example.com"]
    response = client.get(reverse("health-live"), HTTP_ORIGIN="https://evil.example.com")
    assert "Access-Control-Allow-Origin" not in response


def test_service_validation_errors_become_400(auth_client):
    # A service raises Django's ValidationError; the exception handler turns it into a 400.
    response = auth_client.post(
        reverse("user-me-password"), {"current_password": "wrong", "new_password": "x" * 20}
    )
    assert response.status_code == 400
    assert response.json() == {"current_password": ["The current password is incorrect."]}


def test_an_unreachable_database_is_a_json_503(auth_client, monkeypatch):
    def unreachable(self):
        raise OperationalError("connection refused")

    monkeypatch.setattr(MeView, "get_object", unreachable)
    response = auth_client.get(reverse("user-me"))
    assert response.status_code == 503
    assert response.json() == {"detail": ServiceUnavailable.default_detail}
