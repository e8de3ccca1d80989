"""
Fixtures for tests that run the production server for real: gunicorn with `DJANGO_DEBUG=false`
on PostgreSQL and Redis, in processes of their own. Like the root conftest's services, they
are mandatory in CI (`CI` set) and skipped elsewhere when PostgreSQL or Redis is missing.
"""

import pytest

from testing.servers import Gunicorn, manage
from testing.services import (
    ThrowawayPostgres,
    ThrowawayRedis,
    start_required,
    throwaway_database,
)


@pytest.fixture(scope="module")
def module_database_url(postgres):
    """A database of its own on the shared PostgreSQL, for one module's servers."""
    with throwaway_database(postgres, "reliability") as url:
        yield url


@pytest.fixture(scope="module")
def module_redis():
    """A private redis-server: pausing or stopping it disturbs no other test."""
    redis = start_required("Redis", lambda: ThrowawayRedis().start())
    yield redis
    redis.stop()


@pytest.fixture
def private_redis():
    """A redis-server for one test, which it may stop."""
    redis = start_required("Redis", lambda: ThrowawayRedis().start())
    yield redis
    redis.stop()


@pytest.fixture
def throwaway_postgres():
    """A PostgreSQL cluster of its own, which a test may stop and start again."""
    cluster = start_required(
        "A PostgreSQL installation (initdb, pg_ctl)",
        lambda: ThrowawayPostgres().init().start(),
    )
    yield cluster
    cluster.destroy()


@pytest.fixture(scope="module")
def start_server(tmp_path_factory):
    """`start_server(env, workers=, threads=)`: migrated, started, stopped after the module."""
    servers = []

    def start(env, *, workers=2, threads=2):
        manage(env, "migrate", "--no-input")
        log_path = tmp_path_factory.mktemp("gunicorn") / "server.log"
        server = Gunicorn(env, log_path, workers=workers, threads=threads)
        servers.append(server)
        return server.start()

    yield start
    for server in servers:
        server.stop()
