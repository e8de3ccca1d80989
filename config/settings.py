"""
Project settings, read from the environment (see `.env.example` and the README).

Development needs no variables at all: SQLite and an in-process cache are the defaults.
Production sets `DJANGO_DEBUG=false`, a secret key, `DATABASE_URL` and `REDIS_URL`.
"""

from datetime import timedelta
from pathlib import Path

import environ
from celery.schedules import crontab
from corsheaders.defaults import default_headers
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent

env = environ.Env()
environ.Env.read_env(BASE_DIR / ".env", overwrite=False)

DEBUG = env.bool("DJANGO_DEBUG", default=True)

SECRET_KEY = env.str("DJANGO_SECRET_KEY", default="")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured(
            "DJANGO_SECRET_KEY must be set when DJANGO_DEBUG is false; "
            "generate one with: python -c 'import secrets; print(secrets.token_urlsafe(50))'"
        )
    SECRET_KEY = "django-insecure-development-only-key-do-not-use-in-production"

ALLOWED_HOSTS = env.list("DJANGO_ALLOWED_HOSTS", default=["localhost", "127.0.0.1", "[::1]"])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])

INSTALLED_APPS = [
    "config.apps.AdminConfig",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "corsheaders",
    "rest_framework",
    "rest_framework_simplejwt.token_blacklist",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "config",
    "core",
    "accounts",
    "items",
]

MIDDLEWARE = [
    # First, so that every response (static files and CORS preflights too) is logged with its id.
    "config.middleware.RequestLogMiddleware",
    "corsheaders.middleware.CorsMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    # ETag on GET responses and 304 for a matching If-None-Match (the cached item pages).
    "django.middleware.http.ConditionalGetMiddleware",
    # Inside ConditionalGet (no ETag on no-store responses), outside Common (whose disallowed
    # Host answer gets the headers too).
    "config.middleware.APIResponseHeadersMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

# --- Database -------------------------------------------------------------------------------
DATABASES = {
    "default": env.db_url("DATABASE_URL", default=f"sqlite:///{BASE_DIR / 'db.sqlite3'}"),
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
    # Persistent connections, checked before reuse so a restarted server is survived.
    DATABASES["default"]["CONN_MAX_AGE"] = env.int("DATABASE_CONN_MAX_AGE", default=60)
    DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Cache ----------------------------------------------------------------------------------
REDIS_URL = env.str("REDIS_URL", default="")


def redis_caches(url):
    """
    Two views of one Redis store (tests point them at a private server).

    "default" swallows Redis errors (a dead Redis must never fail a request). "strict" raises
    them, for callers that must know the cache did not answer: the page and authentication
    caches (which then read the database at once, after one timeout) and the throttles
    (which then fall back to "throttle_fallback", per process, instead of silently letting
    everything through).
    """
    # Values over 15 bytes are stored lz4-compressed (a page of 20 items to about half: zlib
    # takes a third less room but ten times the CPU, paid on every cached page); smaller ones,
    # and ints (the versions), are stored and read back as they are.
    compressed = {"COMPRESSOR": "django_redis.compressors.lz4.Lz4Compressor"}
    # Part of every key: raised whenever what is stored changes shape (the compressor, the
    # serializer), so that no process reads a value it cannot decode. 2: lz4, was zlib.
    key_version = 2
    options = {
        # A dead or hung Redis costs a request at most these timeouts, never an error.
        "SOCKET_CONNECT_TIMEOUT": env.float("REDIS_CONNECT_TIMEOUT", default=0.25),
        "SOCKET_TIMEOUT": env.float("REDIS_SOCKET_TIMEOUT", default=0.25),
    }
    return {
        "default": {
            "BACKEND": "django_redis.cache.RedisCache",
            "LOCATION": url,
            "VERSION": key_version,
            "OPTIONS": {**options, "IGNORE_EXCEPTIONS": True, **compressed},
        },
        "strict": {
            "BACKEND": "django_redis.cache.RedisCache",
            "LOCATION": url,
            "VERSION": key_version,
            "OPTIONS": {**options, **compressed},
        },
    }


if REDIS_URL:
    CACHES = redis_caches(REDIS_URL)
    DJANGO_REDIS_LOG_IGNORED_EXCEPTIONS = True
else:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
            "LOCATION": "default",
            "OPTIONS": {"MAX_ENTRIES": 10_000},
        },
        "strict": {
            "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
            "LOCATION": "strict",
            "OPTIONS": {"MAX_ENTRIES": 100_000},
        },
    }
CACHES["throttle_fallback"] = {
    "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
    "LOCATION": "throttle-fallback",
}

# --- Auth -----------------------------------------------------------------------------------
AUTH_USER_MODEL = "accounts.User"
AUTH_PASSWORD_VALIDATORS = [
    # First: the others (and the hashing after them) never see an oversized password.
    {"NAME": "accounts.validators.MaximumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
PASSWORD_RESET_TIMEOUT = env.int("PASSWORD_RESET_TIMEOUT", default=60 * 60 * 24)
FRONTEND_URL = env.str("FRONTEND_URL", default="http://localhost:3000").rstrip("/")
# Sign-up mails a verification link. "optional": signing in is allowed before it is followed;
# "mandatory": refused (401, code `email_not_verified`); "none": no link is sent.
ACCOUNT_EMAIL_VERIFICATION = env.str("ACCOUNT_EMAIL_VERIFICATION", default="optional")
if ACCOUNT_EMAIL_VERIFICATION not in ("optional", "mandatory", "none"):
    raise ImproperlyConfigured(
        "ACCOUNT_EMAIL_VERIFICATION must be optional, mandatory or none, "
        f"not {ACCOUNT_EMAIL_VERIFICATION!r}."
    )
# Seconds an email verification or email change link stays valid.
ACCOUNT_EMAIL_LINK_TIMEOUT = env.int("ACCOUNT_EMAIL_LINK_TIMEOUT", default=60 * 60 * 24)

# --- Internationalisation -------------------------------------------------------------------
# Django's defaults otherwise (en-us, USE_I18N, USE_TZ): times are stored and served in UTC.
TIME_ZONE = "UTC"

# --- Static files ---------------------------------------------------------------------------
STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "django.contrib.staticfiles.storage.StaticFilesStorage"
            if DEBUG
            else "whitenoise.storage.CompressedManifestStaticFilesStorage"
        ),
    },
}

# --- Email ----------------------------------------------------------------------------------
vars().update(env.email_url("EMAIL_URL", default="consolemail://"))
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="no-reply@localhost")
# Seconds before a mail server that stopped answering counts as down (the task then retries);
# without it a hung server would hold a worker forever.
EMAIL_TIMEOUT = env.int("EMAIL_TIMEOUT", default=30)

# --- Background work (Celery, `config/celery.py`) -------------------------------------------
# Tasks travel through the broker to `celery -A config worker`. Without a broker (the
# embedded default) they run in-process, right after the transaction that enqueued them
# commits, so development needs no worker; config/checks.py warns about that in production.
CELERY_BROKER_URL = env.str("CELERY_BROKER_URL", default=REDIS_URL)
CELERY_TASK_ALWAYS_EAGER = not CELERY_BROKER_URL
# A task that fails in-process is logged (and reported), never raised into the request.
CELERY_TASK_EAGER_PROPAGATES = False
# Acknowledged once done, and handed back to the queue when the worker process dies, so a
# killed worker loses nothing; a task may then run twice, which every task here tolerates.
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
# No result backend: nothing waits for results.
CELERY_TASK_IGNORE_RESULT = True
CELERY_BROKER_TRANSPORT_OPTIONS = {
    # Redis hands a task that a worker took but never acknowledged (the worker was killed)
    # to another after this many seconds. It must exceed the longest retry countdown
    # (accounts/tasks.py caps it at 10 minutes), or a waiting retry would run twice.
    "visibility_timeout": env.int("CELERY_VISIBILITY_TIMEOUT", default=60 * 60),
}
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
# Enqueueing while the broker is down gives up after about a second: the request answers.
CELERY_TASK_PUBLISH_RETRY_POLICY = {
    "max_retries": 2,
    "interval_start": 0,
    "interval_step": 0.25,
    "interval_max": 0.5,
}
# The worker logs through LOGGING below (request and task ids, JSON when asked).
CELERY_WORKER_HIJACK_ROOT_LOGGER = False
CELERY_TIMEZONE = "UTC"
# `celery -A config beat` runs these. Items deleted longer ago than ITEMS_PURGE_AFTER_DAYS
# are purged daily; 0 keeps them forever.
ITEMS_PURGE_AFTER_DAYS = env.int("ITEMS_PURGE_AFTER_DAYS", default=30)
CELERY_BEAT_SCHEDULE = {}
if ITEMS_PURGE_AFTER_DAYS > 0:
    CELERY_BEAT_SCHEDULE["purge-deleted-items"] = {
        "task": "items.tasks.purge_deleted_items",
        "schedule": crontab(hour=3, minute=30),
    }

# --- REST framework -------------------------------------------------------------------------
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "accounts.authentication.JWTAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_RENDERER_CLASSES": (
        ["rest_framework.renderers.JSONRenderer", "rest_framework.renderers.BrowsableAPIRenderer"]
        if DEBUG
        else ["rest_framework.renderers.JSONRenderer"]
    ),
    "DEFAULT_PARSER_CLASSES": ["config.parsers.JSONParser"],
    "DEFAULT_PAGINATION_CLASS": "core.pagination.PageNumberPagination",
    "PAGE_SIZE": 20,
    "DEFAULT_FILTER_BACKENDS": [
        "core.filters.FilterBackend",
        "rest_framework.filters.SearchFilter",
        "rest_framework.filters.OrderingFilter",
    ],
    "DEFAULT_SCHEMA_CLASS": "config.schema.AutoSchema",
    "EXCEPTION_HANDLER": "config.exceptions.exception_handler",
    "DEFAULT_THROTTLE_CLASSES": [
        "accounts.throttles.ResilientScopedRateThrottle",
        "accounts.throttles.ResilientUserRateThrottle",
    ],
    "DEFAULT_THROTTLE_RATES": {
        # Per client address; the admin's login form shares the "login" budget.
        "login": env.str("THROTTLE_LOGIN_RATE", default="5/min"),
        "register": env.str("THROTTLE_REGISTER_RATE", default="10/hour"),
        "password_reset": env.str("THROTTLE_PASSWORD_RESET_RATE", default="5/hour"),
        "email_verification": env.str("THROTTLE_EMAIL_VERIFICATION_RATE", default="5/hour"),
        # Per user: checks of the current password (password change, email change).
        "password_check": env.str("THROTTLE_PASSWORD_CHECK_RATE", default="10/hour"),
        # Every authenticated request, per user; unset (the default), it costs nothing.
        "user": env.str("THROTTLE_USER_RATE", default="") or None,
    },
    # Clients are told apart by the connecting address; X-Forwarded-For is trusted only for
    # the number of proxies declared here, so a forged header cannot reset a throttle.
    "NUM_PROXIES": env.int("NUM_PROXIES", default=0),
    "TEST_REQUEST_DEFAULT_FORMAT": "json",
}

SIMPLE_JWT = {
    "ACCESS_TOKEN_LIFETIME": timedelta(
        minutes=env.int("ACCESS_TOKEN_LIFETIME_MINUTES", default=15)
    ),
    "REFRESH_TOKEN_LIFETIME": timedelta(days=env.int("REFRESH_TOKEN_LIFETIME_DAYS", default=7)),
    "ROTATE_REFRESH_TOKENS": True,
    "BLACKLIST_AFTER_ROTATION": True,
    # Tokens carry a fingerprint of the password hash and the user's `tokens_valid_after`,
    # checked by accounts.authentication and the refresh (see accounts/tokens.py); simplejwt's
    # own check, of the password alone, is replaced by it.
    "CHECK_REVOKE_TOKEN": False,
    "AUTH_TOKEN_CLASSES": ("accounts.tokens.AccessToken",),
    "UPDATE_LAST_LOGIN": True,
    "SIGNING_KEY": env.str("JWT_SIGNING_KEY", default=SECRET_KEY),
    "TOKEN_OBTAIN_SERIALIZER": "accounts.serializers.TokenObtainPairSerializer",
    "TOKEN_REFRESH_SERIALIZER": "accounts.serializers.TokenRefreshSerializer",
}
# Browser SPAs: the refresh token travels in an HttpOnly cookie out of JavaScript's reach
# (accounts/cookies.py), instead of in JSON bodies. Off, mobile and server clients are served.
JWT_REFRESH_COOKIE = env.bool("JWT_REFRESH_COOKIE", default=False)
JWT_REFRESH_COOKIE_SAMESITE = env.str("JWT_REFRESH_COOKIE_SAMESITE", default="Lax").capitalize()
JWT_REFRESH_COOKIE_SECURE = not DEBUG

SPECTACULAR_SETTINGS = {
    "TITLE": "Project API",
    "DESCRIPTION": "REST API for the single-page application. Authenticate with a JWT bearer "
    "token from /api/v1/auth/token/.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    # ReDoc's default fonts come from Google Fonts; the docs load nothing from another host.
    "REDOC_UI_SETTINGS": {
        "theme": {
            "typography": {
                "fontFamily": "system-ui, sans-serif",
                "headings": {"fontFamily": "system-ui, sans-serif"},
            }
        }
    },
    # Request and response components apart, so a response lists every field it always has.
    "COMPONENT_SPLIT_REQUEST": True,
    "SCHEMA_PATH_PREFIX": r"/api/v1",
    # Docstrings are for the code's readers; operations describe themselves in extend_schema.
    "DISABLE_DOCSTRING_DESCRIPTIONS": True,
    # Relative: the API is served from wherever the schema is.
    "SERVERS": [{"url": "/", "description": "The host serving this schema"}],
}

# --- CORS -----------------------------------------------------------------------------------
CORS_ALLOWED_ORIGINS = env.list("CORS_ALLOWED_ORIGINS", default=[])
CORS_URLS_REGEX = r"^/api/.*$"
# The SPA reads these from responses, and revalidates pages itself with If-None-Match.
CORS_EXPOSE_HEADERS = ["Content-Disposition", "ETag", "Retry-After", "X-Request-ID"]
CORS_ALLOW_HEADERS = [*default_headers, "if-match", "if-none-match"]
# Lets the allowed origins (and only them) send and receive the refresh-token cookie.
CORS_ALLOW_CREDENTIALS = JWT_REFRESH_COOKIE

# --- Items ----------------------------------------------------------------------------------
ITEMS_CACHE_TTL = env.int("ITEMS_CACHE_TTL", default=300)
# Seconds the user that authentication loads stays cached; every change to the user replaces
# it at once regardless. The bound on staleness only if Redis fails during that replacement.
USER_CACHE_TTL = env.int("USER_CACHE_TTL", default=60)

# --- Superuser seed -------------------------------------------------------------------------
DJANGO_SUPERUSER_EMAIL = env.str("DJANGO_SUPERUSER_EMAIL", default="")
DJANGO_SUPERUSER_PASSWORD = env.str("DJANGO_SUPERUSER_PASSWORD", default="")

# --- Production security and processes -----------------------------------------------------
# Secure by default whenever DEBUG is off, so that `manage.py check --deploy` is clean with
# the production environment; each switch can still be set through the environment.
# TLS normally ends at a proxy or load balancer in front of gunicorn. Its X-Forwarded-Proto
# header is trusted only when declared, since without such a proxy any client could send it.
if env.bool("DJANGO_SECURE_PROXY_SSL_HEADER", default=False):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_SSL_REDIRECT = env.bool("DJANGO_SECURE_SSL_REDIRECT", default=not DEBUG)
# Health probes (the container's HEALTHCHECK, load balancers) and Prometheus use plain HTTP
# from inside.
SECURE_REDIRECT_EXEMPT = [r"^api/v1/health/", r"^metrics$"]
# Browsers remember HSTS for this long: lower it while trying HTTPS out (see the README).
SECURE_HSTS_SECONDS = env.int(
    "DJANGO_SECURE_HSTS_SECONDS", default=0 if DEBUG else 60 * 60 * 24 * 365
)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env.bool("DJANGO_SECURE_HSTS_INCLUDE_SUBDOMAINS", default=True)
SECURE_HSTS_PRELOAD = env.bool("DJANGO_SECURE_HSTS_PRELOAD", default=True)
SESSION_COOKIE_SECURE = not DEBUG
CSRF_COOKIE_SECURE = not DEBUG
# Gunicorn worker processes (gunicorn.conf.py reads the same variable); config/checks.py warns
# when several of them would each keep their own in-process cache.
WEB_CONCURRENCY = env.int("WEB_CONCURRENCY", default=1)

# --- Logging --------------------------------------------------------------------------------
LOG_LEVEL = env.str("DJANGO_LOG_LEVEL", default="INFO").upper()
# "json": one JSON object per line (config/log.py), for log collectors; "plain" to read.
LOG_FORMAT = env.str("LOG_FORMAT", default="plain")
if LOG_FORMAT not in ("plain", "json"):
    raise ImproperlyConfigured('LOG_FORMAT must be "plain" or "json".')
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {
        # Stamps each record with the id of the request being handled ("-" outside one).
        "request_id": {"()": "config.middleware.RequestIdLogFilter"},
    },
    "formatters": {
        "plain": {"format": "%(asctime)s %(levelname)s [%(request_id)s] %(name)s %(message)s"},
        "json": {"()": "config.log.JsonLogFormatter"},
    },
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "stream": "ext://sys.stdout",
            "filters": ["request_id"],
            "formatter": LOG_FORMAT,
        },
    },
    "root": {"handlers": ["console"], "level": LOG_LEVEL},
    "loggers": {
        # The per-request line comes from config.middleware; Django's would repeat it.
        "django.server": {"level": "WARNING"},
        # SQL logged at DEBUG carries its parameters: password hashes and refresh tokens.
        "django.db.backends": {"level": "INFO"},
    },
}

# --- Error reports (Sentry, config/sentry.py) -----------------------------------------------
SENTRY_DSN = env.str("SENTRY_DSN", default="")
if SENTRY_DSN:
    from config.sentry import init_sentry

    init_sentry(
        dsn=SENTRY_DSN,
        environment=env.str("SENTRY_ENVIRONMENT", default=""),
        # Share of requests and tasks traced for performance; errors are always reported.
        traces_sample_rate=env.float("SENTRY_TRACES_SAMPLE_RATE", default=0.0),
    )

# --- Metrics (Prometheus, config/metrics.py) ------------------------------------------------
# `/metrics` answers only `Authorization: Bearer <METRICS_TOKEN>`; unset, metrics are off.
METRICS_TOKEN = env.str("METRICS_TOKEN", default="")
# The port of the worker's own `/metrics` (a worker has no web server).
METRICS_WORKER_PORT = env.int("METRICS_WORKER_PORT", default=9808)
