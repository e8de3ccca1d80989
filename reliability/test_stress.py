"""
Concurrency and isolation under load: K users read and write at once through a multi-worker
production server (gunicorn, PostgreSQL, Redis page cache) for STRESS_SECONDS (default 30).

Each user is one client thread that keeps an exact model of its own items, and every request
goes out on a new connection, so consecutive requests land on different workers. Checked on
every response: no 5xx; only the caller's items, ever; every read after the caller's own
write shows it (the whole first page, the count and the item itself); another user's item is
a 404. At the end, each user's count through the API and in the database matches the model.
"""

import os
import random
import threading
import time
from collections import Counter

import psycopg
import pytest

from testing.servers import issue_tokens, server_env

USERS = int(os.environ.get("STRESS_USERS", "8"))
SECONDS = float(os.environ.get("STRESS_SECONDS", "30"))
PAGE = 100


@pytest.fixture(scope="module")
def server(module_database_url, module_redis, start_server):
    env = server_env(database_url=module_database_url, redis_url=module_redis.url)
    server = start_server(env, workers=3, threads=4)
    server.env = env
    server.database_url = module_database_url
    return server


class Client(threading.Thread):
    """One user: random writes, each followed by the reads that must reflect it."""

    def __init__(self, server, user, others, deadline, seed):
        super().__init__(name=user["email"])
        self.server, self.user, self.others = server, user, others
        self.deadline, self.rng = deadline, random.Random(seed)
        self.live = {}  # id -> title, in creation order (newest last)
        self.failures, self.statuses = [], Counter()

    def call(self, method, path, body=None, token=None):
        response = self.server.request(
            method, f"/api/v1/{path}", body=body, token=token or self.user["access"]
        )
        self.statuses[response.status // 100 * 100] += 1
        if response.status >= 500:
            self.fail(f"{method} {path}: {response}")
        return response

    def fail(self, message):
        self.failures.append(message)

    def run(self):
        try:
            while time.monotonic() < self.deadline and len(self.failures) < 5:
                self.step()
        except Exception as exc:  # a crash in the client is a failure, not a hang
            self.fail(f"client error: {exc!r}")

    def step(self):
        roll = self.rng.random()
        if roll < 0.35 or not self.live:
            self.create()
        elif roll < 0.55:
            self.update(self.rng.choice(list(self.live)))
        elif roll < 0.65:
            self.delete(self.rng.choice(list(self.live)))
        elif roll < 0.75:
            self.peek_at_another_users_item()
        else:
            # Plain re-reads: served from the page cache until the next write.
            self.check_list()
        self.check_list()

    def create(self):
        title = f"{self.user['email']} #{len(self.live)} {self.rng.random():.6f}"
        response = self.call("POST", "items/", {"title": title})
        if response.status != 201:
            return self.fail(f"create: {response}")
        item = response.json()
        if item["owner"] != self.user["id"]:
            return self.fail(f"created for another owner: {item}")
        self.live[item["id"]] = title
        self.check_detail(item["id"])

    def update(self, item_id):
        title = f"{self.user['email']} renamed {self.rng.random():.6f}"
        response = self.call("PATCH", f"items/{item_id}/", {"title": title})
        if response.status != 200:
            return self.fail(f"update: {response}")
        self.live[item_id] = title
        self.check_detail(item_id)

    def delete(self, item_id):
        response = self.call("DELETE", f"items/{item_id}/")
        if response.status != 204:
            return self.fail(f"delete: {response}")
        del self.live[item_id]
        gone = self.call("GET", f"items/{item_id}/")
        if gone.status != 404:
            self.fail(f"read after delete: {gone}")

    def peek_at_another_users_item(self):
        other = self.rng.choice(self.others)
        if other.live:
            item_id = next(iter(other.live.copy()), None)  # a snapshot: the other thread runs
            if item_id and self.call("GET", f"items/{item_id}/").status != 404:
                self.fail(f"saw {other.user['email']}'s item {item_id}")

    def check_detail(self, item_id):
        response = self.call("GET", f"items/{item_id}/")
        if response.status != 200:
            return self.fail(f"read after write: {response}")
        item = response.json()
        if item["owner"] != self.user["id"] or item["title"] != self.live[item_id]:
            self.fail(f"read after write: {item}, expected {self.live[item_id]!r}")

    def check_list(self):
        response = self.call("GET", f"items/?page_size={PAGE}")
        if response.status != 200:
            return self.fail(f"list: {response}")
        page = response.json()
        foreign = [row for row in page["results"] if row["owner"] != self.user["id"]]
        if foreign:
            return self.fail(f"another owner's items in the list: {foreign[:2]}")
        expected = list(reversed(self.live.items()))[:PAGE]  # newest first
        seen = [(row["id"], row["title"]) for row in page["results"]]
        if page["count"] != len(self.live) or seen != expected:
            self.fail(
                f"list after own writes: count {page['count']}, expected {len(self.live)}; "
                f"first rows {seen[:3]}, expected {expected[:3]}"
            )


def test_concurrent_users_see_only_and_all_of_their_own_writes(server):
    users = issue_tokens(server.env, [f"stress{n}@example.com" for n in range(USERS)])
    deadline = time.monotonic() + SECONDS
    clients = [Client(server, user, [], deadline, seed=n) for n, user in enumerate(users)]
    for client in clients:
        client.others = [other for other in clients if other is not client]
    for client in clients:
        client.start()
    for client in clients:
        client.join(timeout=SECONDS + 60)
        assert not client.is_alive(), f"{client.name} hung"

    failures = [f"{c.name}: {f}" for c in clients for f in c.failures]
    assert not failures, "\n".join(failures[:20]) + f"\n--- server log ---\n{server.log()[-3000:]}"
    statuses = sum((c.statuses for c in clients), Counter())
    assert statuses[500] == 0, statuses
    # The run did real work: every user wrote and read many times.
    assert all(sum(c.statuses.values()) > 50 for c in clients), statuses
    # Shown with `pytest -s`: the figure the README quotes.
    classes = ", ".join(f"{code // 100}xx: {n}" for code, n in sorted(statuses.items()))
    print(f"\nstress: {USERS} users, {SECONDS:.0f}s, {sum(statuses.values())} requests ({classes})")

    with psycopg.connect(server.database_url) as db:
        in_database = dict(
            db.execute(
                "SELECT owner_id::text, count(*) FROM items_item "
                "WHERE deleted_at IS NULL GROUP BY owner_id"
            ).fetchall()
        )
    for client in clients:
        listed = server.request("GET", "/api/v1/items/", token=client.user["access"]).json()
        assert listed["count"] == len(client.live) == in_database.get(client.user["id"], 0)
