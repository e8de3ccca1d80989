"""
Faults injected into the production server's services (gunicorn, `DJANGO_DEBUG=false`):

- Redis refusing connections, and Redis paused (`CLIENT PAUSE`) while serving: every request
  still succeeds, and promptly: within a couple of the settings' 0.25 s socket timeouts of the
  same requests' time with Redis healthy (`redis_fault_bound`).
- The database stopped: `health/ready/` is a 503 naming it, `health/live/` stays 200, the API
  answers JSON 503s (retryable) without tracebacks, each promptly (`database_fault_bound`),
  to whatever needs the database, and serves what the cache holds exactly;
  once the database is back the same processes serve again, without a restart.

Bounds are relative to the healthy time of the same requests measured in the same test, so a
loaded machine (these ran on 2 shared cores) slows the baseline and the bound together.
The Redis and PostgreSQL servers here are private to each test, never the shared ones.
"""

import threading
import time

from testing.servers import issue_tokens, server_env

REDIS_TIMEOUT = 0.25  # REDIS_SOCKET_TIMEOUT and REDIS_CONNECT_TIMEOUT, the settings' defaults
# A Redis fault costs a request a couple of socket timeouts (the cache version read, the bump
# after a write) before it falls back to the database; one more to spare.
REDIS_FAULT_ALLOWANCE = 3 * REDIS_TIMEOUT
# A stopped database is refused at once; the allowance covers the failed connection attempt
# and the JSON error.
DATABASE_FAULT_ALLOWANCE = 1.5
# Times the slowest healthy request: the load of a shared machine also varies within a test.
LOAD_SLACK = 3
RECOVERY_TIMEOUT = 15


def redis_fault_bound(healthy):
    """The longest a request may take while Redis fails, given the healthy timings."""
    return REDIS_FAULT_ALLOWANCE + LOAD_SLACK * max(healthy)


def database_fault_bound(healthy):
    return DATABASE_FAULT_ALLOWANCE + LOAD_SLACK * max(healthy)


def ok(server, method, path, token, body=None, status=None, timings=None):
    """The response body after checking the status; the request's time goes to `timings`."""
    response = server.request(method, f"/api/v1/{path}", body=body, token=token)
    expected = status or {"GET": 200, "POST": 201, "PATCH": 200, "DELETE": 204}[method]
    assert response.status == expected, (method, path, response)
    if timings is not None:
        timings.append((response.elapsed, method, path))
    return response.json() if response.body else None


def exercise_items(server, token, tag, timings):
    """A write, then reads that must reflect it, all 2xx; five requests."""
    item = ok(server, "POST", "items/", token, {"title": f"{tag} new"}, timings=timings)
    detail = f"items/{item['id']}/"
    assert ok(server, "GET", detail, token, timings=timings)["title"] == f"{tag} new"
    ok(server, "PATCH", detail, token, {"title": f"{tag} renamed"}, timings=timings)
    assert ok(server, "GET", detail, token, timings=timings)["title"] == f"{tag} renamed"
    titles = [
        row["title"] for row in ok(server, "GET", "items/", token, timings=timings)["results"]
    ]
    assert f"{tag} renamed" in titles
    return item


def seconds(timings):
    return [elapsed for elapsed, *_ in timings]


def assert_within(timings, bound):
    slow = [
        (round(elapsed, 2), method, path) for elapsed, method, path in timings if elapsed > bound
    ]
    assert not slow, f"slower than {bound:.2f}s: {slow}"


def concurrent_reads(server, token, until, threads=4):
    """Timings of list reads from `threads` clients at once, each reading until `until`."""
    timings, failures, lock = [], [], threading.Lock()

    def reader():
        while time.monotonic() < until:
            response = server.request("GET", "/api/v1/items/", token=token)
            with lock:
                timings.append((response.elapsed, "GET", "items/"))
                if response.status != 200:
                    failures.append(response)

    readers = [threading.Thread(target=reader) for _ in range(threads)]
    for thread in readers:
        thread.start()
    for thread in readers:
        thread.join()
    assert not failures, failures
    return timings


def test_redis_refused_every_request_still_succeeds_promptly(
    module_database_url, private_redis, start_server
):
    env = server_env(database_url=module_database_url, redis_url=private_redis.url)
    server = start_server(env)
    (user,) = issue_tokens(env, ["refused@example.com"])
    token, healthy, refused = user["access"], [], []
    exercise_items(server, token, "healthy", healthy)

    private_redis.stop()  # every connection attempt is now refused at once
    item = exercise_items(server, token, "refused", refused)
    ok(server, "DELETE", f"items/{item['id']}/", token, timings=refused)
    ok(server, "GET", f"items/{item['id']}/", token, status=404, timings=refused)

    assert_within(refused, redis_fault_bound(seconds(healthy)))
    ready = server.request("GET", "/api/v1/health/ready/")
    assert (ready.status, ready.json()) == (
        200,
        {"status": "degraded", "checks": {"database": "ok", "cache": "degraded"}},
    )


def test_redis_paused_while_serving_every_request_still_succeeds_promptly(
    module_database_url, module_redis, start_server
):
    env = server_env(database_url=module_database_url, redis_url=module_redis.url)
    server = start_server(env)
    (user,) = issue_tokens(env, ["paused@example.com"])
    token, healthy, during_pause = user["access"], [], []
    before = exercise_items(server, token, "before", healthy)  # the list and item are cached
    healthy_reads = concurrent_reads(server, token, until=time.monotonic() + 1)

    # Long enough for the five requests below, each within its bound, to end inside it.
    bound = redis_fault_bound(seconds(healthy))
    pause_seconds = round(5 * bound + 1, 1)
    module_redis.client().execute_command("CLIENT", "PAUSE", int(pause_seconds * 1000), "ALL")
    paused_until = time.monotonic() + pause_seconds
    started = time.monotonic()
    during = exercise_items(server, token, "during", during_pause)
    # Each request waited out a socket timeout: Redis really was paused.
    assert time.monotonic() - started > 5 * REDIS_TIMEOUT, "Redis answered during the pause"
    assert time.monotonic() < paused_until, "the requests outlasted the pause: not tested"

    # Clients in flight while the pause ends: all still answered.
    reads = concurrent_reads(server, token, until=paused_until + 1)

    time.sleep(max(0.0, paused_until - time.monotonic()) + 0.2)
    assert module_redis.client().ping()
    # Redis answers again: pages are cached again, and show every write.
    after = exercise_items(server, token, "after", healthy)
    results = ok(server, "GET", "items/", token, timings=healthy)["results"]
    assert [row["title"] for row in results] == [
        "after renamed",
        "during renamed",
        "before renamed",
    ]
    assert [row["id"] for row in reversed(results)] == [before["id"], during["id"], after["id"]]

    # Bounded by the healthy timings before and after the pause.
    assert_within(during_pause, redis_fault_bound(seconds(healthy)))
    assert_within(reads, redis_fault_bound(seconds(healthy_reads)))


def test_database_stopped_then_back_without_a_restart(
    throwaway_postgres, module_redis, start_server
):
    env = server_env(database_url=throwaway_postgres.url, redis_url=module_redis.url)
    server = start_server(env)
    workers = server.worker_pids()
    (user,) = issue_tokens(env, ["db-fault@example.com"])
    token, healthy = user["access"], []
    item = exercise_items(server, token, "before", healthy)
    bound = database_fault_bound(seconds(healthy))

    throwaway_postgres.stop()

    live = server.request("GET", "/api/v1/health/live/")
    assert (live.status, live.json()) == (200, {"status": "ok"})
    ready = server.request("GET", "/api/v1/health/ready/")
    assert ready.status == 503
    assert ready.headers["Content-Type"] == "application/json"
    assert ready.json()["checks"]["database"] == "unavailable"
    assert ready.elapsed < bound, ready.elapsed
    # What needs the database is a 503; what the cache holds exactly (the user, the pages
    # read before) is still served, since nothing can change while the database is down.
    for method, path, body in [
        ("GET", "items/?search=uncached", None),
        ("POST", "items/", {"title": "while the database is down"}),
    ]:
        response = server.request(method, f"/api/v1/{path}", body=body, token=token)
        assert response.status == 503, (method, path, response)
        assert response.headers["Content-Type"] == "application/json", response
        assert set(response.json()) == {"detail"}, response
        assert b"Traceback" not in response.body and b"psycopg" not in response.body
        assert response.elapsed < bound, (method, path, response.elapsed)
    cached = server.request("GET", f"/api/v1/items/{item['id']}/", token=token)
    assert (cached.status, cached.json()["title"]) == (200, "before renamed")
    assert server.request("GET", "/api/v1/users/me/", token=token).status == 200

    throwaway_postgres.start()

    deadline = time.monotonic() + RECOVERY_TIMEOUT
    while server.request("GET", "/api/v1/health/ready/").status != 200:
        assert time.monotonic() < deadline, "not ready again after the database came back"
        time.sleep(0.2)
    # Every worker and thread serves again (fresh connections), with the data intact.
    for _ in range(8):
        titles = [row["title"] for row in ok(server, "GET", "items/", token)["results"]]
        assert titles == ["before renamed"]
    exercise_items(server, token, "after", [])
    assert server.worker_pids() == workers, "the workers were restarted"
