"""
Sentry, opt-in by SENTRY_DSN: unhandled errors in a view and in a task reach the DSN's
endpoint, tagged with the request id, without credentials, passwords or tokens.

The reporting process is a separate `manage.py shell` (Sentry hooks into Django and Celery
for the life of a process); the DSN points at a local HTTP server collecting envelopes.
"""

import gzip
import json
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from testing.image import ROOT, production_env, run

# Runs in the reporting process: Django's WSGI application served over real HTTP, and a
# view and a task that fail.
FAILING_VIEW_AND_TASK = """
import http.client
import json
import threading
from unittest import mock
from wsgiref.simple_server import WSGIRequestHandler, make_server

import sentry_sdk
from django.core.management import call_command
from django.core.wsgi import get_wsgi_application
from accounts.tokens import RefreshToken

from accounts.models import User


class QuietHandler(WSGIRequestHandler):
    def log_message(self, *args):
        pass


call_command("migrate", verbosity=0)
user = User.objects.create_user(email="victim@example.com", password="Old-passw0rd-secret")
access = str(RefreshToken.for_user(user).access_token)
server = make_server("127.0.0.1", 0, get_wsgi_application(), handler_class=QuietHandler)
threading.Thread(target=server.serve_forever, daemon=True).start()


def post(path, body, headers):
    connection = http.client.HTTPConnection("127.0.0.1", server.server_port, timeout=30)
    headers = {"Host": "localhost", "Content-Type": "application/json", **headers}
    connection.request("POST", path, json.dumps(body), headers)
    return connection.getresponse().status


with mock.patch("accounts.services.user_change_password", side_effect=RuntimeError("view boom")):
    status = post(
        "/api/v1/users/me/password/?token=query-secret",
        {"current_password": "Old-passw0rd-secret", "new_password": "New-passw0rd-secret"},
        {"Authorization": f"Bearer {access}", "X-Request-ID": "req-view",
         "Cookie": "sessionid=cookie-secret"},
    )
    assert status == 500, status

with mock.patch("accounts.emails.render_email", side_effect=RuntimeError("task boom")):
    status = post(
        "/api/v1/auth/password-reset/", {"email": user.email}, {"X-Request-ID": "req-task"}
    )
    assert status == 202, status

sentry_sdk.flush(timeout=10)
print("ACCESS=" + access)
"""


class Collector(BaseHTTPRequestHandler):
    envelopes = []

    def do_POST(self):
        body = self.rfile.read(int(self.headers["Content-Length"]))
        if self.headers.get("Content-Encoding") == "gzip":
            body = gzip.decompress(body)
        elif self.headers.get("Content-Encoding") == "br":
            import brotli

            body = brotli.decompress(body)
        Collector.envelopes.append((self.path, body))
        self.send_response(200)
        self.end_headers()

    def log_message(self, *args):
        pass


@pytest.fixture
def sentry_endpoint():
    Collector.envelopes = []
    server = ThreadingHTTPServer(("127.0.0.1", 0), Collector)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://public-key@127.0.0.1:{server.server_port}/42", Collector.envelopes
    server.shutdown()


def events_in(envelopes):
    events = []
    for _path, body in envelopes:
        lines = body.split(b"\n")
        for header, payload in zip(lines[1::2], lines[2::2], strict=False):
            if json.loads(header).get("type") == "event":
                events.append(json.loads(payload))
    return events


def test_view_and_task_errors_reach_sentry_with_the_request_id_and_no_secrets(
    sentry_endpoint, tmp_path
):
    dsn, envelopes = sentry_endpoint
    env = production_env(
        SENTRY_DSN=dsn,
        SENTRY_ENVIRONMENT="test-env",
        DATABASE_URL=f"sqlite:///{tmp_path / 'db.sqlite3'}",
        REDIS_URL=None,
        EMAIL_URL="memorymail://",
        DJANGO_SECURE_SSL_REDIRECT="false",
    )
    result = run([sys.executable, "manage.py", "shell", "-c", FAILING_VIEW_AND_TASK], env)
    assert result.returncode == 0, result.stderr
    access = result.stdout.split("ACCESS=")[1].strip()

    assert all(path == "/api/42/envelope/" for path, _ in envelopes)
    events = {
        event["exception"]["values"][-1]["value"]: event
        for event in events_in(envelopes)
        if "exception" in event
    }
    assert {"view boom", "task boom"} <= events.keys(), events.keys()
    view, task = events["view boom"], events["task boom"]
    assert view["tags"]["request_id"] == "req-view"
    assert view["request"]["url"].endswith("/api/v1/users/me/password/")
    assert task["tags"]["request_id"] == "req-task"
    assert task["tags"]["task_id"]
    assert task["extra"]["celery-job"]["task_name"] == "accounts.tasks.send_password_reset_email"
    assert len(events) == len(events_in(envelopes)) == 2
    assert view["environment"] == task["environment"] == "test-env"

    sent = b"\n".join(body for _path, body in envelopes).decode()
    for secret in (
        access,
        "Bearer",
        "Old-passw0rd-secret",
        "New-passw0rd-secret",
        "query-secret",
        "cookie-secret",
        "victim@example.com",
        "sys.argv",
    ):
        assert secret not in sent, secret
    assert "user" not in view


def test_sentry_is_off_without_a_dsn():
    env = production_env(DATABASE_URL="sqlite://:memory:")
    result = run(
        [sys.executable, "-c", "import django; django.setup(); import sentry_sdk; "
         "print(sentry_sdk.is_initialized())"],
        {**env, "DJANGO_SETTINGS_MODULE": "config.settings"},
        cwd=ROOT,
    )  # fmt: skip
    assert result.stdout.strip() == "False", result.stderr
