from django.conf import settings
from django.core.checks import Tags, Warning, register

# Backends whose entries live inside one process: every gunicorn worker would have its own.
PROCESS_LOCAL_CACHES = {"django.core.cache.backends.locmem.LocMemCache"}


@register(Tags.caches)
def check_cache_shared_by_workers(app_configs, **kwargs):
    """An in-process cache is exact only within one process; several workers need Redis."""
    backend = settings.CACHES["default"]["BACKEND"]
    if settings.WEB_CONCURRENCY > 1 and backend in PROCESS_LOCAL_CACHES:
        return [
            Warning(
                f"WEB_CONCURRENCY is {settings.WEB_CONCURRENCY} but the cache is in-process "
                f"({backend}).",
                hint=(
                    "Each worker keeps its own cached pages and cache versions, so one worker "
                    "can serve a page that another has invalidated. Set REDIS_URL, or run one "
                    "worker (WEB_CONCURRENCY=1)."
                ),
                id="config.W001",
            )
        ]
    return []


@register(Tags.compatibility)
def check_tasks_have_a_broker(app_configs, **kwargs):
    """In production, tasks without a broker would run inside the requests that queue them."""
    if not settings.DEBUG and settings.CELERY_TASK_ALWAYS_EAGER:
        return [
            Warning(
                "No Celery broker is configured: background tasks (emails) run inside the "
                "requests that queue them.",
                hint=(
                    "Set CELERY_BROKER_URL or REDIS_URL and run `celery -A config worker` "
                    "(and `celery -A config beat` for periodic jobs)."
                ),
                id="config.W002",
            )
        ]
    return []
