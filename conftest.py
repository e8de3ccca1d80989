import os
import uuid
from contextlib import contextmanager
from urllib.parse import urlsplit, urlunsplit

import psycopg
import pytest
from django.core.cache import caches
from psycopg import sql
from rest_framework.test import APIClient

from accounts.tests.factories import DEFAULT_PASSWORD, UserFactory
from accounts.tokens import RefreshToken


@pytest.fixture(autouse=True)
def _clear_caches():
    """Every test starts with empty caches (pages, versions and throttle histories)."""
    for cache in caches.all():
        cache.clear()
    yield
    for cache in caches.all():
        cache.clear()


@pytest.fixture
def password():
    return DEFAULT_PASSWORD


@pytest.fixture
def api_client():
    return APIClient()


@pytest.fixture
def user(db):
    return UserFactory()


@pytest.fixture
def other_user(db):
    return UserFactory()


@pytest.fixture
def superuser(db):
    return UserFactory(superuser=True)


def client_for(user):
    """An APIClient carrying a real access token for `user`."""
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {RefreshToken.for_user(user).access_token}")
    return client


@pytest.fixture
def auth_client(user):
    return client_for(user)


@pytest.fixture
def other_client(other_user):
    return client_for(other_user)


@pytest.fixture
def superuser_client(superuser):
    return client_for(superuser)


@pytest.fixture(autouse=True, scope="session")
def _tasks_run_in_process():
    """
    Tasks run in-process after commit, as with the embedded default, also when REDIS_URL
    names a Redis (the CI pass on PostgreSQL + Redis): no worker consumes a queue there.
    The reliability suite runs real workers.
    """
    from config.celery import app

    app.conf.task_always_eager = True


@pytest.fixture(autouse=True)
def _fast_password_hasher(settings):
    """Hashing strength is not under test; MD5 keeps the suite fast."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


# --- Real services for tests that start server processes ------------------------------------
# Required in CI (`CI` set); elsewhere such tests are skipped when the service does not answer,
# so the test command still passes on a machine that has only Python.


def require_service(name, error):
    message = f"{name} is not available: {error}"
    if os.environ.get("CI", "").lower() in ("true", "1"):
        pytest.fail(f"{message} (mandatory in CI)")
    pytest.skip(message)


def postgres_admin_url():
    """The CI server when DATABASE_URL names one, else the local default (trust auth)."""
    url = os.environ.get("DATABASE_URL", "")
    if url.startswith(("postgres://", "postgresql://", "pgsql://")):
        parts = urlsplit(url)
        return urlunsplit(("postgres", parts.netloc, "/postgres", "", ""))
    return "postgres://postgres@127.0.0.1:5432/postgres"


@pytest.fixture(scope="session")
def postgres():
    """The admin URL of a PostgreSQL server that answers."""
    url = postgres_admin_url()
    try:
        psycopg.connect(url, connect_timeout=3).close()
    except psycopg.OperationalError as exc:
        require_service(f"PostgreSQL at {urlsplit(url).netloc}", exc)
    return url


@contextmanager
def throwaway_database(admin_url, prefix):
    """A new database's URL; dropped afterwards even if a server still holds connections."""
    name = f"{prefix}_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(admin_url, autocommit=True) as admin:
        admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    parts = urlsplit(admin_url)
    try:
        yield urlunsplit((parts.scheme, parts.netloc, f"/{name}", "", ""))
    finally:
        with psycopg.connect(admin_url, autocommit=True) as admin:
            admin.execute(sql.SQL("DROP DATABASE {} WITH (FORCE)").format(sql.Identifier(name)))


@pytest.fixture
def database_url(postgres):
    with throwaway_database(postgres, "throwaway") as url:
        yield url


@pytest.fixture
def redis_server():
    """A private redis-server, stopped after the test (or sooner by it): nobody else's data."""
    from reliability.servers import ServiceUnavailable, ThrowawayRedis

    try:
        server = ThrowawayRedis().start()
    except ServiceUnavailable as exc:
        require_service("Redis", exc)
    yield server
    server.stop()


@pytest.fixture
def redis_url(redis_server):
    return redis_server.url


@pytest.fixture
def redis_caches(settings, redis_server):
    """The cache aliases configured as in production, on a private redis-server."""
    from config.settings import redis_caches as production_caches

    settings.CACHES = {**settings.CACHES, **production_caches(redis_server.url)}
    return redis_server
