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
