"""Production settings, the system check, gunicorn's config and the image's files."""

import re
import runpy
import stat
import subprocess
import sys
from io import StringIO

import pytest
import yaml
from django.core.checks import Tags, run_checks
from django.core.management import CommandError, call_command
from django.db import OperationalError, connection
from django.urls import reverse

from config import healthcheck
from config.checks import check_cache_shared_by_workers
from testing.image import (
    ROOT,
    dockerfile_exec_form,
    dockerfile_values,
    example_env,
    production_env,
    run,
)
from testing.services import free_port

SETTINGS_FILE = str(ROOT / "config" / "settings.py")
MANAGE = [sys.executable, "manage.py"]

# SPEC §3: names fixed, so deployments and tests can rely on them.
SPEC_VARIABLES = [
    "DJANGO_SECRET_KEY",
    "DJANGO_DEBUG",
    "DJANGO_ALLOWED_HOSTS",
    "DATABASE_URL",
    "REDIS_URL",
    "EMAIL_URL",
    "DEFAULT_FROM_EMAIL",
    "CORS_ALLOWED_ORIGINS",
    "CSRF_TRUSTED_ORIGINS",
    "FRONTEND_URL",
    "ACCESS_TOKEN_LIFETIME_MINUTES",
    "REFRESH_TOKEN_LIFETIME_DAYS",
    "ITEMS_CACHE_TTL",
    "DJANGO_SUPERUSER_EMAIL",
    "DJANGO_SUPERUSER_PASSWORD",
    "NUM_PROXIES",
    "WEB_CONCURRENCY",
    "CELERY_BROKER_URL",
    "ITEMS_PURGE_AFTER_DAYS",
    "SENTRY_DSN",
    "SENTRY_ENVIRONMENT",
    "SENTRY_TRACES_SAMPLE_RATE",
    "LOG_FORMAT",
    "METRICS_TOKEN",
]
# Read by the container rather than by settings.py.
CONTAINER_VARIABLES = [
    "DATABASE_WAIT_TIMEOUT",
    "DJANGO_MIGRATE",
    "GUNICORN_THREADS",
    "GUNICORN_TIMEOUT",
    "GUNICORN_GRACEFUL_TIMEOUT",
    "POSTGRES_PASSWORD",
    "PROMETHEUS_MULTIPROC_DIR",
]


def settings_variables():
    """Every variable settings.py reads through django-environ."""
    source = (ROOT / "config" / "settings.py").read_text()
    return set(re.findall(r"env\.\w+\(\s*\"([A-Z][A-Z0-9_]+)\"", source))


def load_settings(monkeypatch, **env):
    """Executes settings.py afresh under `env` and returns its namespace."""
    for name in (
        "DJANGO_DEBUG",
        "DJANGO_SECRET_KEY",
        "DJANGO_SECURE_PROXY_SSL_HEADER",
        "JWT_REFRESH_COOKIE",
        "JWT_REFRESH_COOKIE_SAMESITE",
    ):
        monkeypatch.delenv(name, raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    return runpy.run_path(SETTINGS_FILE)


# --- check --deploy and the secret -----------------------------------------------------------


# docker-compose.yml sets REDIS_URL beside .env; the checks do not connect to it.
COMPOSE_URLS = {"REDIS_URL": "redis://redis:6379/0"}


def test_check_deploy_is_clean_with_the_documented_production_env():
    result = run(
        [*MANAGE, "check", "--deploy", "--fail-level", "WARNING"], production_env(**COMPOSE_URLS)
    )
    assert result.returncode == 0, result.stderr
    assert "System check identified no issues (0 silenced)." in result.stdout


@pytest.mark.parametrize(
    ("overrides", "issue"),
    [
        # The placeholder of .env.example, copied unchanged, is not accepted as a secret.
        ({"DJANGO_SECRET_KEY": example_env()["DJANGO_SECRET_KEY"]}, "security.W009"),
        ({"DJANGO_SECURE_SSL_REDIRECT": "false"}, "security.W008"),
        ({"DJANGO_SECURE_HSTS_SECONDS": "0"}, "security.W004"),
        ({"WEB_CONCURRENCY": "4", "REDIS_URL": None}, "config.W001"),
        # Without a broker, emails would be sent inside the requests.
        ({"REDIS_URL": None}, "config.W002"),
    ],
)
def test_check_deploy_reports_a_weakened_production_env(overrides, issue):
    env = production_env(**{**COMPOSE_URLS, **overrides})
    result = run([*MANAGE, "check", "--deploy", "--fail-level", "WARNING"], env)
    assert result.returncode != 0
    assert issue in result.stderr


def test_check_deploy_is_clean_in_cookie_mode_and_warns_without_cors_origins():
    command = [*MANAGE, "check", "--deploy", "--fail-level", "WARNING"]
    clean = run(command, production_env(**COMPOSE_URLS, JWT_REFRESH_COOKIE="true"))
    assert clean.returncode == 0, clean.stderr
    no_origins = run(
        command, production_env(**COMPOSE_URLS, JWT_REFRESH_COOKIE="true", CORS_ALLOWED_ORIGINS="")
    )
    assert no_origins.returncode != 0
    assert "accounts.W002" in no_origins.stderr


def test_a_missing_secret_stops_start_up_in_production():
    env = production_env(DJANGO_SECRET_KEY="")
    result = run([*MANAGE, "check"], env)
    assert result.returncode != 0
    assert "ImproperlyConfigured: DJANGO_SECRET_KEY must be set" in result.stderr


def test_debug_mode_runs_without_a_secret():
    env = production_env(DJANGO_DEBUG="true", DJANGO_SECRET_KEY="")
    assert run([*MANAGE, "check"], env).returncode == 0


# --- settings.py under the production environment ---------------------------------------------


def test_production_settings(monkeypatch):
    prod = load_settings(monkeypatch, DJANGO_DEBUG="false", DJANGO_SECRET_KEY="x" * 60)
    assert prod["DEBUG"] is False
    assert prod["SECURE_SSL_REDIRECT"] is True
    assert prod["SECURE_HSTS_SECONDS"] >= 60 * 60 * 24 * 365
    assert prod["SESSION_COOKIE_SECURE"] is True
    assert prod["CSRF_COOKIE_SECURE"] is True
    assert prod["REST_FRAMEWORK"]["DEFAULT_RENDERER_CLASSES"] == [
        "rest_framework.renderers.JSONRenderer"
    ]
    assert prod["STORAGES"]["staticfiles"]["BACKEND"] == (
        "whitenoise.storage.CompressedManifestStaticFilesStorage"
    )
    # Trusting X-Forwarded-Proto without a proxy that sets it would let clients fake HTTPS.
    assert "SECURE_PROXY_SSL_HEADER" not in prod


def test_development_settings_are_not_hardened(monkeypatch):
    dev = load_settings(monkeypatch, DJANGO_DEBUG="true")
    assert dev["SECURE_SSL_REDIRECT"] is False
    assert dev["SECURE_HSTS_SECONDS"] == 0
    assert dev["SESSION_COOKIE_SECURE"] is False
    assert (
        "rest_framework.renderers.BrowsableAPIRenderer"
        in (dev["REST_FRAMEWORK"]["DEFAULT_RENDERER_CLASSES"])
    )


def test_refresh_cookie_is_off_by_default_and_secure_unless_debug(monkeypatch):
    prod = load_settings(monkeypatch, DJANGO_DEBUG="false", DJANGO_SECRET_KEY="x" * 60)
    assert (prod["JWT_REFRESH_COOKIE"], prod["CORS_ALLOW_CREDENTIALS"]) == (False, False)
    assert (prod["JWT_REFRESH_COOKIE_SECURE"], prod["JWT_REFRESH_COOKIE_SAMESITE"]) == (True, "Lax")
    assert load_settings(monkeypatch, DJANGO_DEBUG="true")["JWT_REFRESH_COOKIE_SECURE"] is False


def test_cookie_mode_allows_credentials_for_the_cors_origins(monkeypatch):
    prod = load_settings(
        monkeypatch,
        DJANGO_DEBUG="false",
        DJANGO_SECRET_KEY="x" * 60,
        JWT_REFRESH_COOKIE="true",
        JWT_REFRESH_COOKIE_SAMESITE="strict",
    )
    assert (prod["JWT_REFRESH_COOKIE"], prod["CORS_ALLOW_CREDENTIALS"]) == (True, True)
    assert prod["JWT_REFRESH_COOKIE_SAMESITE"] == "Strict"


def test_proxy_ssl_header_is_opt_in(monkeypatch):
    prod = load_settings(
        monkeypatch,
        DJANGO_DEBUG="false",
        DJANGO_SECRET_KEY="x" * 60,
        DJANGO_SECURE_PROXY_SSL_HEADER="true",
    )
    assert prod["SECURE_PROXY_SSL_HEADER"] == ("HTTP_X_FORWARDED_PROTO", "https")


def test_postgres_connections_persist_with_health_checks(monkeypatch):
    prod = load_settings(
        monkeypatch,
        DJANGO_DEBUG="false",
        DJANGO_SECRET_KEY="x" * 60,
        DATABASE_URL="postgres://app:secret@db:5432/app",
    )
    assert prod["DATABASES"]["default"]["CONN_MAX_AGE"] > 0
    assert prod["DATABASES"]["default"]["CONN_HEALTH_CHECKS"] is True


@pytest.fixture
def https_settings(settings):
    settings.SECURE_SSL_REDIRECT = True
    settings.SECURE_HSTS_SECONDS = 3600
    settings.SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    return settings


@pytest.mark.django_db
def test_plain_http_is_redirected_but_health_probes_are_not(client, https_settings):
    redirect = client.get("/api/v1/users/me/")
    assert redirect.status_code == 301
    assert redirect["Location"] == "https://testserver/api/v1/users/me/"
    for name in ("health-live", "health-ready"):
        assert client.get(reverse(name)).status_code == 200


@pytest.mark.django_db
def test_https_through_the_proxy_gets_hsts(client, https_settings):
    response = client.get(reverse("health-live"), headers={"X-Forwarded-Proto": "https"})
    assert response.status_code == 200
    assert response["Strict-Transport-Security"].startswith("max-age=3600")


# --- the system check: several workers need a shared cache -------------------------------------


LOCMEM = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
REDIS = {"default": {"BACKEND": "django_redis.cache.RedisCache", "LOCATION": "redis://x/0"}}


@pytest.mark.parametrize(
    ("workers", "caches", "warned"),
    [(1, LOCMEM, False), (2, LOCMEM, True), (8, REDIS, False)],
)
def test_several_workers_without_redis_are_warned_about(settings, workers, caches, warned):
    settings.WEB_CONCURRENCY = workers
    settings.CACHES = caches
    ids = [message.id for message in check_cache_shared_by_workers(None)]
    assert ids == (["config.W001"] if warned else [])


def test_the_worker_check_is_registered(settings):
    settings.WEB_CONCURRENCY = 3
    settings.CACHES = LOCMEM
    assert "config.W001" in [message.id for message in run_checks(tags=[Tags.caches])]


# --- wait_for_database -------------------------------------------------------------------------


@pytest.mark.django_db
def test_wait_for_database_returns_once_it_answers(monkeypatch):
    real_ensure_connection = connection.ensure_connection
    failures = iter([OperationalError("starting up"), OperationalError("starting up")])

    def flaky_ensure_connection():
        failure = next(failures, None)
        if failure:
            raise failure
        real_ensure_connection()

    monkeypatch.setattr(connection, "ensure_connection", flaky_ensure_connection)
    monkeypatch.setattr("time.sleep", lambda seconds: None)
    stdout, stderr = StringIO(), StringIO()
    call_command("wait_for_database", timeout=5, stdout=stdout, stderr=stderr)
    assert "is ready" in stdout.getvalue()
    assert stderr.getvalue().count("not ready (starting up); retrying") == 2


def test_wait_for_database_gives_up_after_the_timeout():
    password = "s3cret-database-password"
    env = production_env(DATABASE_URL=f"postgres://app:{password}@127.0.0.1:{free_port()}/app")
    result = run([*MANAGE, "wait_for_database", "--timeout", "2", "--interval", "0.5"], env)
    assert result.returncode == 1
    assert "still unreachable after 2s" in result.stderr
    assert password not in result.stdout + result.stderr


def test_wait_for_database_timeout_zero_fails_at_once(monkeypatch):
    def down():
        raise OperationalError("connection refused")

    monkeypatch.setattr(connection, "ensure_connection", down)
    with pytest.raises(CommandError, match=r"after 0s \(1 attempts\): connection refused"):
        call_command("wait_for_database", timeout=0, stderr=StringIO())


# --- gunicorn.conf.py --------------------------------------------------------------------------


def gunicorn_config(monkeypatch, **env):
    for name in (
        "WEB_CONCURRENCY",
        "REDIS_URL",
        "PORT",
        "GUNICORN_THREADS",
        "GUNICORN_ACCESS_LOG",
        "GUNICORN_REUSE_PORT",
    ):
        monkeypatch.delenv(name, raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    return runpy.run_path(str(ROOT / "gunicorn.conf.py"))


def test_gunicorn_workers_come_from_web_concurrency(monkeypatch):
    assert gunicorn_config(monkeypatch, WEB_CONCURRENCY="5", REDIS_URL="redis://r")["workers"] == 5


def test_gunicorn_default_workers_follow_the_cpus_with_redis(monkeypatch):
    config = gunicorn_config(monkeypatch, REDIS_URL="redis://r")
    assert config["workers"] == 2 * config["available_cpus"]() + 1 >= 3


def test_gunicorn_runs_one_worker_with_an_in_process_cache(monkeypatch):
    assert gunicorn_config(monkeypatch)["workers"] == 1


def test_gunicorn_serving_and_shutdown_settings(monkeypatch):
    config = gunicorn_config(monkeypatch, PORT="9123", GUNICORN_THREADS="4")
    assert config["bind"] == ["0.0.0.0:9123"]
    assert config["wsgi_app"] == "config.wsgi:application"
    assert (config["worker_class"], config["threads"]) == ("gthread", 4)
    # The application logs every request; gunicorn's line only on demand.
    assert config["accesslog"] is None
    assert gunicorn_config(monkeypatch, GUNICORN_ACCESS_LOG="true")["accesslog"] == "-"
    # A socket per worker, so that keep-alive connections spread over the workers.
    assert config["reuse_port"] is True
    assert gunicorn_config(monkeypatch, GUNICORN_REUSE_PORT="false")["reuse_port"] is False
    # The path without the query string, and the request id.
    assert "%(U)s" in config["access_log_format"]
    assert "%(r)s" not in config["access_log_format"]
    assert "%(q)s" not in config["access_log_format"]
    assert "%({x-request-id}o)s" in config["access_log_format"]
    # In-flight requests finish before compose gives up and kills the container.
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    grace = int(compose["services"]["api"]["stop_grace_period"].removesuffix("s"))
    assert 0 < config["graceful_timeout"] < grace


def test_gunicorn_accepts_its_config():
    result = run(
        [sys.executable, "-m", "gunicorn", "--config", "gunicorn.conf.py", "--check-config"],
        production_env(),
    )
    assert result.returncode == 0, result.stderr


# --- the container health probe ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("allowed_hosts", "host"),
    [
        ("api.example.com,localhost", "api.example.com"),
        (" .example.com", "example.com"),
        ("*", "localhost"),
        ("*,api.example.com", "api.example.com"),
        ("", "localhost"),
    ],
)
def test_probe_host_is_an_allowed_host(allowed_hosts, host):
    assert healthcheck.probe_host(allowed_hosts) == host


def test_probe_fails_when_nothing_listens(monkeypatch):
    monkeypatch.setenv("PORT", str(free_port()))
    assert healthcheck.main() == 1


def test_probe_checks_the_liveness_url():
    assert reverse("health-live") == healthcheck.LIVE_PATH


# --- the image's files --------------------------------------------------------------------------


def test_dockerfile_builds_a_lean_non_root_image():
    (base,) = dockerfile_values("FROM")
    assert re.fullmatch(r"python:3\.11\.\d+-slim-\w+", base), "a slim image pinned to a patch"
    runs = " ".join(dockerfile_values("RUN"))
    assert "pip install -r requirements.txt" in runs
    assert "requirements-dev" not in runs
    assert "collectstatic --no-input" in runs
    (user,) = dockerfile_values("USER")
    assert user.split(":")[0] not in ("root", "0")
    assert dockerfile_exec_form("HEALTHCHECK") == ["python", "-m", "config.healthcheck"]
    (entrypoint,) = dockerfile_exec_form("ENTRYPOINT")
    assert entrypoint.endswith("/scripts/entrypoint.sh")
    assert dockerfile_exec_form("CMD")[0] == "gunicorn"


def test_entrypoint_is_executable_in_git():
    listed = subprocess.run(
        ["git", "ls-files", "-s", "scripts/entrypoint.sh"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    ).stdout
    if not listed:  # not a git checkout (an exported tree): the file mode must do
        assert (ROOT / "scripts" / "entrypoint.sh").stat().st_mode & stat.S_IXUSR
    else:
        assert listed.startswith("100755 ")


def test_secrets_and_local_state_stay_out_of_the_image():
    patterns = (ROOT / ".dockerignore").read_text().split()
    for path in (".env", ".git", ".venv", "db.sqlite3", "staticfiles"):
        assert path in patterns


def test_compose_runs_the_api_worker_and_beat_with_postgres_and_redis():
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    services = compose["services"]
    assert set(services) == {"api", "worker", "beat", "db", "redis", "broker"}
    for service in services.values():
        assert service["healthcheck"]["test"]
    api, worker, beat = services["api"], services["worker"], services["beat"]
    for app in (api, worker, beat):
        assert app["image"] == api["image"] and app["build"] == "."
        assert app["env_file"] == ".env"
        assert app["depends_on"] == {
            "db": {"condition": "service_healthy"},
            "redis": {"condition": "service_healthy"},
            "broker": {"condition": "service_healthy"},
        }
        assert app["environment"]["DATABASE_URL"].startswith("postgres://")
        assert app["environment"]["REDIS_URL"].startswith("redis://redis:")
        assert app["environment"]["CELERY_BROKER_URL"].startswith("redis://broker:")
    assert api["healthcheck"]["test"] == ["CMD", *dockerfile_exec_form("HEALTHCHECK")]
    assert "command" not in api  # the image's CMD: gunicorn
    assert worker["command"] == ["celery", "-A", "config", "worker", "-l", "INFO"]
    assert "celery -A config inspect ping" in worker["healthcheck"]["test"][1]
    assert beat["command"][:6] == ["celery", "-A", "config", "beat", "-l", "INFO"]
    # The queue is kept on disk and never evicted; the cache is neither.
    assert "noeviction" in services["broker"]["command"]
    for service in ("db", "broker"):
        volume = services[service]["volumes"][0].split(":")[0]
        assert volume in compose["volumes"]


# --- documentation of the environment ---------------------------------------------------------


def documented_in_env_example():
    text = (ROOT / ".env.example").read_text()
    return set(re.findall(r"^#? ?([A-Z][A-Z0-9_]+)=", text, flags=re.MULTILINE))


def readme_environment_section():
    readme = (ROOT / "README.md").read_text()
    return readme.partition("\n## Environment\n")[2].partition("\n## ")[0]


def test_env_example_documents_every_variable():
    expected = set(SPEC_VARIABLES) | settings_variables() | set(CONTAINER_VARIABLES)
    assert expected - documented_in_env_example() == set()


def test_readme_environment_table_lists_every_variable():
    section = readme_environment_section()
    listed = set(re.findall(r"^\| `([A-Z][A-Z0-9_]+)`", section, flags=re.MULTILINE))
    expected = set(SPEC_VARIABLES) | settings_variables() | set(CONTAINER_VARIABLES)
    assert expected - listed == set()
