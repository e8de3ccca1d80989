"""
Two server processes sharing PostgreSQL and Redis, as two instances behind a load balancer:
a write through one shows at once in the other's cached pages.
"""

import pytest

from testing.servers import Gunicorn, manage, server_env


@pytest.fixture
def two_servers(database_url, redis_url, tmp_path):
    env = server_env(database_url=database_url, redis_url=redis_url)
    manage(env, "migrate", "--no-input")
    servers = []
    try:
        for n in (1, 2):
            servers.append(Gunicorn(env, tmp_path / f"server-{n}.log", workers=1, threads=2))
            servers[-1].start()
        yield servers
    finally:
        for server in servers:
            server.stop()


def call(server, method, path, body=None, token=None):
    response = server.request(method, f"/api/v1/{path}", body=body, token=token)
    return response.status, response.json() if response.body else None


def sign_up(server, email):
    password = "a-long-enough-passphrase-1"
    assert call(server, "POST", "auth/register/", {"email": email, "password": password})[0] == 201
    status, tokens = call(server, "POST", "auth/token/", {"email": email, "password": password})
    assert status == 200
    return tokens["access"]


def titles(server, path, token):
    status, body = call(server, "GET", path, token=token)
    assert status == 200, body
    return [row["title"] for row in body["results"]] if "results" in body else body["title"]


def test_writes_in_one_process_show_at_once_in_the_other(two_servers):
    a, b = two_servers
    alice = sign_up(a, "alice@example.com")
    bob = sign_up(b, "bob@example.com")

    # Both processes cache alice's empty list.
    assert titles(a, "items/", alice) == titles(b, "items/", alice) == []

    status, item = call(a, "POST", "items/", {"title": "first"}, token=alice)
    assert status == 201
    assert titles(b, "items/", alice) == ["first"]
    assert titles(b, f"items/{item['id']}/", alice) == "first"
    assert titles(a, f"items/{item['id']}/", alice) == "first"

    assert call(b, "PATCH", f"items/{item['id']}/", {"title": "renamed"}, token=alice)[0] == 200
    assert titles(a, f"items/{item['id']}/", alice) == "renamed"
    assert titles(a, "items/", alice) == ["renamed"]

    # Same URL, another user, another process: never alice's page.
    assert titles(b, "items/", bob) == []
    assert call(b, "GET", f"items/{item['id']}/", token=bob)[0] == 404

    assert call(a, "DELETE", f"items/{item['id']}/", token=alice)[0] == 204
    assert titles(b, "items/", alice) == []
    assert call(b, "GET", f"items/{item['id']}/", token=alice)[0] == 404
