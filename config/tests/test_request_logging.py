"""One log line per request, the request id, and what must never be logged."""

import io
import logging
import re

import pytest
from django.conf import settings as django_settings
from django.db import connection
from django.test import Client
from django.urls import reverse
from django.utils.functional import SimpleLazyObject

from config.middleware import RequestIdLogFilter, resolved_user_id

pytestmark = pytest.mark.django_db

GENERATED_ID = re.compile(r"[0-9a-f]{32}")


@pytest.fixture
def request_log(caplog):
    """The per-request records, captured as the console handler would see them."""
    caplog.set_level(logging.DEBUG)
    return lambda: [r for r in caplog.records if r.name == "config.request"]


@pytest.fixture
def console_output():
    """Everything the configured console handler writes (filter and format of settings)."""
    handler = next(
        h
        for h in logging.getLogger().handlers
        if any(isinstance(f, RequestIdLogFilter) for f in h.filters)
    )
    buffer = io.StringIO()
    previous = handler.setStream(buffer)
    yield buffer
    handler.setStream(previous)


def format_line(record):
    return logging.Formatter(django_settings.LOGGING["formatters"]["plain"]["format"]).format(
        record
    )


def test_a_request_id_is_generated_and_returned(api_client):
    first = api_client.get(reverse("health-live"))
    second = api_client.get(reverse("health-live"))
    assert GENERATED_ID.fullmatch(first["X-Request-ID"])
    assert first["X-Request-ID"] != second["X-Request-ID"]


@pytest.mark.parametrize(
    "incoming",
    ["3f2a9c1e-7b4d-4e8f-9a0b-1c2d3e4f5a6b", "abc123", "Root=1-5759e988-bd862e3fe1be46a9"],
)
def test_a_sane_incoming_request_id_is_kept(api_client, incoming):
    response = api_client.get(reverse("health-live"), headers={"X-Request-ID": incoming})
    assert response["X-Request-ID"] == incoming


@pytest.mark.parametrize(
    "incoming",
    ["", "has space", "line\nbreak", "x" * 129, 'quote"d', "<script>", "ümlaut"],
)
def test_an_odd_incoming_request_id_is_replaced(api_client, request_log, incoming):
    response = api_client.get(reverse("health-live"), headers={"X-Request-ID": incoming})
    assert GENERATED_ID.fullmatch(response["X-Request-ID"])
    assert request_log()[0].request_id == response["X-Request-ID"]


def test_one_line_per_request_with_user_and_request_id(user, auth_client, request_log):
    response = auth_client.get(reverse("user-me"), headers={"X-Request-ID": "req-42"})
    assert response.status_code == 200
    (record,) = request_log()
    assert record.levelno == logging.INFO
    assert (record.method, record.path, record.status_code) == ("GET", "/api/v1/users/me/", 200)
    assert (record.user_id, record.request_id) == (user.pk, "req-42")
    assert record.duration_ms >= 0
    line = format_line(record)
    assert re.search(
        rf"INFO \[req-42\] config\.request GET /api/v1/users/me/ 200 \d+\.\dms user={user.pk}$",
        line,
    ), line


def test_the_console_handler_writes_the_line_with_its_request_id(auth_client, console_output):
    auth_client.get(reverse("user-me"), headers={"X-Request-ID": "req-console"})
    lines = console_output.getvalue().splitlines()
    assert any(
        "[req-console] config.request GET /api/v1/users/me/ 200" in line for line in lines
    ), lines


def test_other_log_lines_of_the_request_carry_its_id(api_client, console_output, monkeypatch):
    def broken_cursor(*args, **kwargs):
        raise connection.OperationalError("database is gone")

    monkeypatch.setattr(connection, "cursor", broken_cursor)
    api_client.get(reverse("health-ready"), headers={"X-Request-ID": "req-ready"})
    assert "[req-ready] config.views Readiness: database check failed" in (
        console_output.getvalue()
    )


def test_lines_outside_a_request_have_a_placeholder_id(console_output):
    logging.getLogger("config.tests").warning("outside")
    assert "WARNING [-] config.tests outside" in console_output.getvalue()


def test_anonymous_and_rejected_requests_log_no_user(api_client, request_log):
    api_client.get(reverse("health-live"))
    api_client.get(reverse("user-me"), headers={"Authorization": "Bearer not-a-token"})
    assert [(r.status_code, r.user_id) for r in request_log()] == [(200, None), (401, None)]
    assert format_line(request_log()[1]).endswith(" user=-")


def test_session_users_are_logged_on_django_views(client, superuser, request_log):
    client.force_login(superuser)
    assert client.get("/admin/").status_code == 200
    assert request_log()[-1].user_id == superuser.pk


def test_an_unevaluated_session_user_is_not_resolved_for_the_log(rf):
    request = rf.get("/")

    def load_user():
        raise AssertionError("the log line must not trigger a session lookup")

    request.user = SimpleLazyObject(load_user)
    assert resolved_user_id(request) is None


def test_the_path_is_logged_without_the_query_string_and_cannot_break_the_line(
    api_client, request_log
):
    api_client.get("/api/v1/nope%0Afake%20entry/?token=query-secret")
    (record,) = request_log()
    assert record.path == "/api/v1/nope%0Afake%20entry/"
    assert "query-secret" not in format_line(record)
    assert "\n" not in format_line(record)


def test_credentials_and_tokens_never_reach_the_logs(api_client, user, password, caplog):
    caplog.set_level(logging.DEBUG)
    tokens = api_client.post(
        reverse("auth-token"), {"email": user.email, "password": password}
    ).json()
    api_client.post(reverse("auth-token"), {"email": user.email, "password": "wrong-Passw0rd!"})
    api_client.get(
        reverse("user-me"),
        headers={"Authorization": f"Bearer {tokens['access']}", "Cookie": "sessionid=cookie-val"},
    )
    api_client.post(reverse("auth-token-refresh"), {"refresh": tokens["refresh"]})
    logged = "\n".join(format_line(r) for r in caplog.records)
    logged += "\n".join(str(vars(r)) for r in caplog.records)
    assert "config.request POST /api/v1/auth/token/ 200" in logged
    for secret in (password, "wrong-Passw0rd!", tokens["access"], tokens["refresh"], "cookie-val"):
        assert secret not in logged


def test_server_errors_are_logged_as_errors_with_their_id(exploding_urls, request_log):
    client = Client(raise_request_exception=False)
    response = client.get("/api/v1/boom/", headers={"X-Request-ID": "req-boom"})
    assert response.status_code == 500
    assert response["X-Request-ID"] == "req-boom"
    (record,) = request_log()
    assert (record.levelno, record.status_code, record.request_id) == (
        logging.ERROR,
        500,
        "req-boom",
    )


def test_cors_preflights_are_answered_with_a_request_id(api_client, settings, request_log):
    settings.CORS_ALLOWED_ORIGINS = ["https://app.example.com"]
    response = api_client.options(
        reverse("user-me"),
        headers={"Origin": "https://app.example.com", "Access-Control-Request-Method": "GET"},
    )
    assert response.status_code == 200
    assert GENERATED_ID.fullmatch(response["X-Request-ID"])
    assert "x-request-id" in response["Access-Control-Expose-Headers"].lower()
    assert request_log()[0].method == "OPTIONS"
