"""
Fixtures for tests that run the production server for real: gunicorn with `DJANGO_DEBUG=false`
on PostgreSQL and Redis, in processes of their own. Like the root conftest's services, they
are mandatory in CI (`CI` set) and skipped elsewhere when PostgreSQL or Redis is missing.
"""

import os
import uuid
from urllib.parse import urlsplit, urlunsplit

import psycopg
import pytest
from psycopg import sql

from .servers import (
    Gunicorn,
    ServiceUnavailable,
    ThrowawayPostgres,
    ThrowawayRedis,
    manage,
)


def require(name, error):
    message = f"{name} is not available: {error}"
    if os.environ.get("CI", "").lower() in ("true", "1"):
        pytest.fail(f"{message} (mandatory in CI)")
    pytest.skip(message)


def postgres_admin_url():
    """The server DATABASE_URL names (CI's second pass), else the local default, as the root
    conftest does."""
    url = os.environ.get("DATABASE_URL", "")
    if url.startswith(("postgres://", "postgresql://", "pgsql://")):
        parts = urlsplit(url)
        return urlunsplit(("postgres", parts.netloc, "/postgres", "", ""))
    return "postgres://postgres@127.0.0.1:5432/postgres"


@pytest.fixture(scope="module")
def module_database_url():
    """A database of its own on the shared PostgreSQL, for one module's servers."""
    admin_url = postgres_admin_url()
    name = f"reliability_{uuid.uuid4().hex[:12]}"
    try:
        with psycopg.connect(admin_url, autocommit=True, connect_timeout=3) as admin:
            admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    except psycopg.OperationalError as exc:
        require("PostgreSQL", exc)
    parts = urlsplit(admin_url)
    yield urlunsplit((parts.scheme, parts.netloc, f"/{name}", "", ""))
    with psycopg.connect(admin_url, autocommit=True) as admin:
        admin.execute(sql.SQL("DROP DATABASE {} WITH (FORCE)").format(sql.Identifier(name)))


@pytest.fixture(scope="module")
def module_redis():
    """A private redis-server: pausing or stopping it disturbs no other test."""
    try:
        redis = ThrowawayRedis().start()
    except ServiceUnavailable as exc:
        require("Redis", exc)
    yield redis
    redis.stop()


@pytest.fixture
def throwaway_postgres():
    """A PostgreSQL cluster of its own, which a test may stop and start again."""
    try:
        cluster = ThrowawayPostgres().init().start()
    except ServiceUnavailable as exc:
        require("A PostgreSQL installation (initdb, pg_ctl)", exc)
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
