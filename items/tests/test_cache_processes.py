"""
Two server processes sharing PostgreSQL and Redis, as two instances behind a load balancer:
a write through one shows at once in the other's cached pages.
"""

import json
import os
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from config.tests.container import free_port

ROOT = Path(__file__).resolve().parents[2]
START_TIMEOUT = 20


class Server:
    def __init__(self, env, log_path):
        self.port = free_port()
        self.log = open(log_path, "w")  # noqa: SIM115  (closed in stop())
        self.process = subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "config.wsgi", "--bind", f"127.0.0.1:{self.port}",
             "--workers", "1", "--threads", "2"],
            cwd=ROOT, env=env, stdout=self.log, stderr=subprocess.STDOUT,
        )  # fmt: skip

    def request(self, method, path, body=None, token=None):
        headers = {"Content-Type": "application/json"}
        if token:
            headers["Authorization"] = f"Bearer {token}"
        request = urllib.request.Request(
            f"http://127.0.0.1:{self.port}/api/v1/{path}",
            data=json.dumps(body).encode() if body is not None else None,
            headers=headers,
            method=method,
        )
        try:
            with urllib.request.urlopen(request, timeout=10) as response:
                raw = response.read()
                return response.status, json.loads(raw) if raw else None
        except urllib.error.HTTPError as error:
            return error.code, json.loads(error.read() or b"null")

    def wait_until_live(self):
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline:
            assert self.process.poll() is None, "the server exited during start-up"
            try:
                if self.request("GET", "health/live/")[0] == 200:
                    return
            except OSError:
                time.sleep(0.2)
        pytest.fail("the server did not answer in time")

    def stop(self):
        self.process.terminate()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        self.log.close()


@pytest.fixture
def two_servers(database_url, redis_url, tmp_path):
    env = {
        **os.environ,
        "DJANGO_DEBUG": "true",
        "DATABASE_URL": database_url,
        "REDIS_URL": redis_url,
        "DJANGO_ALLOWED_HOSTS": "127.0.0.1",
    }
    migrate = subprocess.run(
        [sys.executable, "manage.py", "migrate", "--no-input"],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert migrate.returncode == 0, migrate.stderr
    servers = [Server(env, tmp_path / f"server-{n}.log") for n in (1, 2)]
    try:
        for server in servers:
            server.wait_until_live()
        yield servers
    finally:
        for server in servers:
            server.stop()


def sign_up(server, email):
    password = "a-long-enough-passphrase-1"
    assert (
        server.request("POST", "auth/register/", {"email": email, "password": password})[0] == 201
    )
    status, tokens = server.request("POST", "auth/token/", {"email": email, "password": password})
    assert status == 200
    return tokens["access"]


def titles(server, path, token):
    status, body = server.request("GET", path, token=token)
    assert status == 200, body
    return [row["title"] for row in body["results"]] if "results" in body else body["title"]


def test_writes_in_one_process_show_at_once_in_the_other(two_servers):
    a, b = two_servers
    alice = sign_up(a, "alice@example.com")
    bob = sign_up(b, "bob@example.com")

    # Both processes cache alice's empty list.
    assert titles(a, "items/", alice) == titles(b, "items/", alice) == []

    status, item = a.request("POST", "items/", {"title": "first"}, token=alice)
    assert status == 201
    assert titles(b, "items/", alice) == ["first"]
    assert titles(b, f"items/{item['id']}/", alice) == "first"
    assert titles(a, f"items/{item['id']}/", alice) == "first"

    assert b.request("PATCH", f"items/{item['id']}/", {"title": "renamed"}, token=alice)[0] == 200
    assert titles(a, f"items/{item['id']}/", alice) == "renamed"
    assert titles(a, "items/", alice) == ["renamed"]

    # Same URL, another user, another process: never alice's page.
    assert titles(b, "items/", bob) == []
    assert b.request("GET", f"items/{item['id']}/", token=bob)[0] == 404

    assert a.request("DELETE", f"items/{item['id']}/", token=alice)[0] == 204
    assert titles(b, "items/", alice) == []
    assert b.request("GET", f"items/{item['id']}/", token=alice)[0] == 404
