"""
Prometheus metrics, served at `/metrics` to a scraper sending `Authorization: Bearer
<METRICS_TOKEN>`: a 404 to anyone else, and nothing recorded or served when it is unset.

- `http_request_duration_seconds{view, method, status}`: a histogram, so request counts
  (`_count`) and latencies, recorded by config.middleware next to its log line.
- `page_cache_total{resource, result}`: pages of a cached resource (`items`; `users`, the
  account page) served from the cache (`hit`), rendered and stored (`miss`) or rendered
  without it (`bypass`: Redis unavailable, caching off, a query that is not cached); counted
  in core.cache.
- `celery_tasks_total{task, outcome}`: tasks that succeeded, failed or will retry, counted
  where they run (the worker serves its own endpoint, see `serve_worker_metrics`).

Gunicorn and Celery run several processes: with `PROMETHEUS_MULTIPROC_DIR` set (gunicorn.conf.py
and config/celery.py set it), each process writes its values there and a scrape adds them up
(prometheus_client's multiprocess mode).
"""

import functools
import os
import threading
from types import SimpleNamespace
from wsgiref.simple_server import WSGIRequestHandler, make_server

from django.conf import settings
from django.http import Http404, HttpResponse
from django.utils.crypto import constant_time_compare

# Any other method (clients can send anything) is counted as "other": labels stay bounded.
METHODS = {"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"}


@functools.cache
def instruments():
    """
    The metrics, created at first use rather than at import: prometheus_client picks its
    multiprocess mode when a metric is created, and the Celery worker can only set
    `PROMETHEUS_MULTIPROC_DIR` after Django (and so this module) has loaded.
    """
    from prometheus_client import Counter, Histogram

    return SimpleNamespace(
        requests=Histogram(
            "http_request_duration_seconds",
            "Time to the response, by view, method and status.",
            ["view", "method", "status"],
            buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
        ),
        pages=Counter(
            "page_cache",
            "Cached resources' pages by outcome: hit, miss (rendered and stored), bypass "
            "(not cached: Redis unavailable, caching off, a query not cached).",
            ["resource", "result"],
        ),
        tasks=Counter("celery_tasks", "Finished task runs by outcome.", ["task", "outcome"]),
    )


def enabled() -> bool:
    return bool(settings.METRICS_TOKEN)


def observe_request(request, response, seconds: float) -> None:
    match = request.resolver_match
    instruments().requests.labels(
        match.view_name if match else "unmatched",
        request.method if request.method in METHODS else "other",
        response.status_code,
    ).observe(seconds)


def count_page(resource: str, result: str) -> None:
    if enabled():
        page_counter(resource, result).inc()


@functools.cache
def page_counter(resource: str, result: str):
    # One labelled child per outcome, kept: `labels()` checks and locks on every call, and
    # this counts every cached page served.
    return instruments().pages.labels(resource, result)


def count_task(task_name: str, outcome: str) -> None:
    if enabled():
        instruments().tasks.labels(task_name, outcome).inc()


def authorized(authorization: str) -> bool:
    token = settings.METRICS_TOKEN
    return bool(token) and constant_time_compare(authorization, f"Bearer {token}")


def registry():
    """Every process's values in multiprocess mode, else this process's."""
    from prometheus_client import REGISTRY, CollectorRegistry, multiprocess

    if not os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        return REGISTRY
    collected = CollectorRegistry()
    multiprocess.MultiProcessCollector(collected)
    return collected


def metrics_view(request):
    from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

    if not authorized(request.headers.get("Authorization", "")):
        raise Http404
    return HttpResponse(generate_latest(registry()), content_type=CONTENT_TYPE_LATEST)


class _QuietHandler(WSGIRequestHandler):
    def log_message(self, *args):
        pass


def serve_worker_metrics(port: int):
    """
    The worker's `/metrics` (it has no web server), with the same token rule, from a thread
    of the worker's main process. prometheus_client's own server has no authentication.
    """
    from prometheus_client import make_wsgi_app

    exposition = make_wsgi_app(registry())

    def app(environ, start_response):
        if environ.get("PATH_INFO") == "/metrics" and authorized(
            environ.get("HTTP_AUTHORIZATION", "")
        ):
            return exposition(environ, start_response)
        start_response("404 Not Found", [("Content-Type", "text/plain")])
        return [b"Not Found\n"]

    server = make_server("0.0.0.0", port, app, handler_class=_QuietHandler)
    threading.Thread(target=server.serve_forever, name="metrics", daemon=True).start()
    return server
