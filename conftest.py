import pytest
from django.core.cache import caches
from rest_framework.test import APIClient

from accounts.tests.factories import DEFAULT_PASSWORD, UserFactory
from testing.api import client_for
from testing.services import (
    ThrowawayRedis,
    check_postgres,
    postgres_admin_url,
    start_required,
    throwaway_database,
)


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
# Required in CI (`CI` set); elsewhere such tests are skipped when the service is missing, so
# the test command still passes on a machine that has only Python.


@pytest.fixture(scope="session")
def postgres():
    """The admin URL of a PostgreSQL server that answers (see `postgres_admin_url`)."""
    url = postgres_admin_url()
    start_required("PostgreSQL", lambda: check_postgres(url))
    return url


@pytest.fixture
def database_url(postgres):
    """A database of its own, dropped after the test."""
    with throwaway_database(postgres, "throwaway") as url:
        yield url


@pytest.fixture
def redis_server():
    """A private redis-server, stopped after the test (or sooner by it): nobody else's data."""
    server = start_required("Redis", lambda: ThrowawayRedis().start())
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
