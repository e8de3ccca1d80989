"""
Case-variant sign-ups of one address, sent at the same instant to a multi-worker production
server on PostgreSQL: every one of them can pass the "is this address free?" check before any
saves, so only the database's case-insensitive unique constraint decides. The loser must get
the same 400 as a sequential duplicate, never a 500.
"""

import threading

import psycopg
import pytest

from testing.servers import server_env

VARIANTS = 10
ROUNDS = 3


@pytest.fixture(scope="module")
def server(module_database_url, module_redis, start_server):
    env = server_env(
        database_url=module_database_url,
        redis_url=module_redis.url,
        # The registration throttle is not under test; these requests all come from one address.
        THROTTLE_REGISTER_RATE="1000/min",
    )
    server = start_server(env, workers=3, threads=4)
    server.database_url = module_database_url
    return server


def case_variants(local, count):
    """`count` spellings of one address differing only in case: race@…, rAce@…, RACE@…"""
    variants = []
    for mask in range(2 ** len(local)):
        variants.append(
            "".join(c.upper() if mask >> i & 1 else c for i, c in enumerate(local)) + "@example.com"
        )
        if len(variants) == count:
            return variants
    raise ValueError("local part too short")


def register_at_once(server, emails):
    barrier = threading.Barrier(len(emails))
    responses = [None] * len(emails)

    def register(index, email):
        barrier.wait()
        responses[index] = server.request(
            "POST",
            "/api/v1/auth/register/",
            body={"email": email, "password": "Race-condition-passw0rd"},
        )

    threads = [threading.Thread(target=register, args=item) for item in enumerate(emails)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return responses


@pytest.mark.parametrize("round_", range(ROUNDS))
def test_concurrent_case_variant_sign_ups_give_one_201_and_400s(server, round_):
    emails = case_variants(f"race{round_}x", VARIANTS)
    responses = register_at_once(server, emails)
    statuses = sorted(response.status for response in responses)
    assert statuses == [201] + [400] * (VARIANTS - 1), (responses, server.log()[-3000:])
    for response in responses:
        if response.status == 400:
            assert "email" in response.json(), response
    with psycopg.connect(server.database_url) as connection:
        (count,) = connection.execute(
            "SELECT count(*) FROM accounts_user WHERE lower(email) = lower(%s)", [emails[0]]
        ).fetchone()
    assert count == 1
