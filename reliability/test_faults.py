"""
Faults injected into the production server's services (gunicorn, `DJANGO_DEBUG=false`):

- Redis refusing connections, and Redis paused (`CLIENT PAUSE`) while serving: every request
  still succeeds, each within REDIS_FAULT_BOUND seconds (the settings' 0.25 s socket timeouts,
  a couple per request, plus the work).
- The database stopped: `health/ready/` is a 503 naming it, `health/live/` stays 200, the API
  answers JSON 503s (retryable) without tracebacks, each within DATABASE_FAULT_BOUND seconds;
  once the database is back the same processes serve again, without a restart.

The Redis and PostgreSQL servers here are private to each test, never the shared ones.
"""

import threading
import time

import pytest

from .servers import free_port, mint_users, production_env

REDIS_FAULT_BOUND = 1.5
DATABASE_FAULT_BOUND = 2.0
RECOVERY_TIMEOUT = 15


def timed_ok(server, method, path, token, body=None, bound=REDIS_FAULT_BOUND, status=None):
    response = server.request(method, f"/api/v1/{path}", body=body, token=token)
    expected = status or {"GET": 200, "POST": 201, "PATCH": 200, "DELETE": 204}[method]
    assert response.status == expected, (method, path, response)
    assert response.elapsed < bound, f"{method} {path} took {response.elapsed:.2f}s"
    return response.json() if response.body else None


def exercise_items(server, token, tag):
    """A write, then reads that must reflect it, all 2xx within the bound."""
    item = timed_ok(server, "POST", "items/", token, {"title": f"{tag} new"})
    assert timed_ok(server, "GET", f"items/{item['id']}/", token)["title"] == f"{tag} new"
    timed_ok(server, "PATCH", f"items/{item['id']}/", token, {"title": f"{tag} renamed"})
    assert timed_ok(server, "GET", f"items/{item['id']}/", token)["title"] == f"{tag} renamed"
    titles = [row["title"] for row in timed_ok(server, "GET", "items/", token)["results"]]
    assert f"{tag} renamed" in titles
    return item


@pytest.fixture(scope="module")
def refused_redis_server(module_database_url, start_server):
    # Nothing listens on this port: every connection attempt is refused at once.
    env = production_env(
        database_url=module_database_url, redis_url=f"redis://127.0.0.1:{free_port()}/0"
    )
    server = start_server(env)
    server.env = env
    return server


def test_redis_refused_every_request_still_succeeds_promptly(refused_redis_server):
    server = refused_redis_server
    (user,) = mint_users(server.env, ["refused@example.com"])
    item = exercise_items(server, user["access"], "refused")
    timed_ok(server, "DELETE", f"items/{item['id']}/", user["access"])
    timed_ok(server, "GET", f"items/{item['id']}/", user["access"], status=404)

    ready = server.request("GET", "/api/v1/health/ready/")
    assert (ready.status, ready.json()) == (
        200,
        {"status": "degraded", "checks": {"database": "ok", "cache": "degraded"}},
    )


def test_redis_paused_while_serving_every_request_still_succeeds_promptly(
    module_database_url, module_redis, start_server
):
    env = production_env(database_url=module_database_url, redis_url=module_redis.url)
    server = start_server(env)
    (user,) = mint_users(env, ["paused@example.com"])
    token = user["access"]
    before = exercise_items(server, token, "before")  # the list and the item are now cached

    pause_seconds = 4
    module_redis.client().execute_command("CLIENT", "PAUSE", pause_seconds * 1000, "ALL")
    paused_until = time.monotonic() + pause_seconds
    started = time.monotonic()
    during = exercise_items(server, token, "during")
    # Each request waited out a socket timeout (0.25 s): Redis really was paused.
    assert time.monotonic() - started > 5 * 0.25, "Redis answered during the pause"
    assert time.monotonic() < paused_until, "the requests outlasted the pause: not tested"

    # Clients in flight while the pause ends: all still answered.
    errors = []

    def reader():
        for _ in range(10):
            response = server.request("GET", "/api/v1/items/", token=token)
            if response.status != 200 or response.elapsed > REDIS_FAULT_BOUND:
                errors.append(response)

    readers = [threading.Thread(target=reader) for _ in range(4)]
    for thread in readers:
        thread.start()
    for thread in readers:
        thread.join()
    assert not errors, errors

    time.sleep(max(0.0, paused_until - time.monotonic()) + 0.2)
    assert module_redis.client().ping()
    # Redis answers again: pages are cached again, and show every write.
    after = exercise_items(server, token, "after")
    titles = [row["title"] for row in timed_ok(server, "GET", "items/", token)["results"]]
    assert titles == ["after renamed", "during renamed", "before renamed"]
    assert [before["id"], during["id"], after["id"]] == [
        row["id"] for row in reversed(timed_ok(server, "GET", "items/", token)["results"])
    ]


def test_database_stopped_then_back_without_a_restart(
    throwaway_postgres, module_redis, start_server
):
    env = production_env(database_url=throwaway_postgres.url, redis_url=module_redis.url)
    server = start_server(env)
    workers = server.worker_pids()
    (user,) = mint_users(env, ["db-fault@example.com"])
    token = user["access"]
    item = exercise_items(server, token, "before")

    throwaway_postgres.stop()

    live = server.request("GET", "/api/v1/health/live/")
    assert (live.status, live.json()) == (200, {"status": "ok"})
    ready = server.request("GET", "/api/v1/health/ready/")
    assert ready.status == 503
    assert ready.headers["Content-Type"] == "application/json"
    assert ready.json()["checks"]["database"] == "unavailable"
    assert ready.elapsed < DATABASE_FAULT_BOUND
    for method, path, body in [
        ("GET", "items/", None),
        ("GET", f"items/{item['id']}/", None),
        ("POST", "items/", {"title": "while the database is down"}),
        ("GET", "users/me/", None),
    ]:
        response = server.request(method, f"/api/v1/{path}", body=body, token=token)
        assert response.status == 503, (method, path, response)
        assert response.headers["Content-Type"] == "application/json", response
        assert set(response.json()) == {"detail"}, response
        assert b"Traceback" not in response.body and b"psycopg" not in response.body
        assert response.elapsed < DATABASE_FAULT_BOUND, (method, path, response.elapsed)

    throwaway_postgres.start()

    deadline = time.monotonic() + RECOVERY_TIMEOUT
    while server.request("GET", "/api/v1/health/ready/").status != 200:
        assert time.monotonic() < deadline, "not ready again after the database came back"
        time.sleep(0.2)
    # Every worker and thread serves again (fresh connections), with the data intact.
    for _ in range(8):
        titles = [row["title"] for row in timed_ok(server, "GET", "items/", token)["results"]]
        assert titles == ["before renamed"]
    exercise_items(server, token, "after")
    assert server.worker_pids() == workers, "the workers were restarted"
