"""
Request ids and the one log line per request; headers every API response needs.

Every request gets an id: a sane incoming `X-Request-ID` (set by a load balancer or the SPA)
or a new one. It is returned in the `X-Request-ID` response header and, through
`RequestIdLogFilter`, stamped on every log record written while the request is handled, so
one grep finds all lines of a request across the load balancer, gunicorn and Django.
"""

import logging
import re
import time
import uuid
from urllib.parse import quote

from django.utils.cache import patch_cache_control
from django.utils.functional import SimpleLazyObject, empty

from . import metrics
from .context import current_request_id, current_task_id

REQUEST_ID_HEADER = "X-Request-ID"
# Ids from outside are echoed into logs and headers: accept only short, plain tokens (UUIDs,
# hex, base64), never anything that could forge a log line or smuggle a header.
SANE_REQUEST_ID = re.compile(r"[A-Za-z0-9._:+/=-]{1,128}")

logger = logging.getLogger("config.request")


class RequestIdLogFilter(logging.Filter):
    """
    Adds `request_id` ("-" outside a request) and `task_id` (None outside a task) to every
    record a handler formats.
    """

    def filter(self, record):
        if not hasattr(record, "request_id"):
            # Django logs 4xx and 5xx responses (`django.request`) once the middleware has
            # returned, with the request on the record.
            request = getattr(record, "request", None)
            record.request_id = (
                current_request_id.get() or getattr(request, "request_id", None) or "-"
            )
        if not hasattr(record, "task_id"):
            record.task_id = current_task_id.get()
        return True


class RequestLogMiddleware:
    """
    Assigns the request id and logs `METHOD path status duration user` once per request; the
    same measure goes to the request metrics when they are on (config/metrics.py).

    Only the path is logged, never the query string, headers or body, so credentials and
    tokens cannot reach the logs. Placed first in `MIDDLEWARE`, it also sees responses that
    other middleware answers early (static files, CORS preflights, redirects). The duration
    is the time to the response object; a streamed body is still being sent after it.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        request_id = incoming_request_id(request) or uuid.uuid4().hex
        request.request_id = request_id
        token = current_request_id.set(request_id)
        started = time.perf_counter()
        try:
            response = self.get_response(request)
            duration_ms = (time.perf_counter() - started) * 1000
            response.headers[REQUEST_ID_HEADER] = request_id
            log_request(request, response, duration_ms)
            if metrics.enabled():
                metrics.observe_request(request, response, duration_ms / 1000)
        finally:
            current_request_id.reset(token)
        return response


def incoming_request_id(request):
    value = request.headers.get(REQUEST_ID_HEADER, "")
    return value if SANE_REQUEST_ID.fullmatch(value) else None


def log_request(request, response, duration_ms):
    user_id = resolved_user_id(request)
    # Percent-encode anything unusual so a crafted path cannot break the line.
    path = quote(request.path, safe="/:@!$&'()*+,;=-._~%")
    level = logging.ERROR if response.status_code >= 500 else logging.INFO
    logger.log(
        level,
        "%s %s %s %.1fms user=%s",
        request.method,
        path,
        response.status_code,
        duration_ms,
        user_id if user_id is not None else "-",
        extra={
            "method": request.method,
            "path": path,
            "status_code": response.status_code,
            "duration_ms": round(duration_ms, 1),
            "user_id": user_id,
            "request_id": request.request_id,
        },
    )


def resolved_user_id(request):
    """
    The id of the user the request was handled for, without authenticating again.

    DRF authenticates inside the view and then sets the user on Django's request too (its
    `Request.user` setter does so for the middleware stack), replacing the session-based
    lazy user of `AuthenticationMiddleware`. A lazy user that nobody evaluated is left alone:
    resolving it here would cost a session query and could name a session user for an API
    request that JWT authentication never accepted.
    """
    user = getattr(request, "user", None)
    if user is None:
        return None
    if type(user) is SimpleLazyObject and user._wrapped is empty:
        return None
    return user.pk if user.is_authenticated else None


# A response that loads, runs and frames nothing: what JSON needs.
API_CONTENT_SECURITY_POLICY = "default-src 'none'; frame-ancestors 'none'"
# Tokens (auth/) and the caller's own account (users/me/): never kept by a browser or proxy.
NO_STORE_PATH_PREFIXES = ("/api/v1/auth/", "/api/v1/users/me/")


class APIResponseHeadersMiddleware:
    """
    Headers that follow from what an `/api/` response is, not from which view made it, so
    that no view, present or future, can forget them.

    - Every response under `/api/` that is not an HTML page gets a Content-Security-Policy
      that forbids everything: a JSON body that a browser is somehow made to render as a
      document (content sniffing, a proxy rewriting its type) can run and frame nothing.
      HTML pages keep none: Swagger UI, ReDoc and, in debug, the browsable API need their
      scripts; the admin is outside `/api/`. Django 5.2 has no CSP support of its own, and
      django-csp applies one policy to every response, so this rule by content type is
      written here.
    - Token and account responses get `Cache-Control: no-store`. Set before
      ConditionalGetMiddleware sees the response (this middleware sits inside it), which
      then adds no ETag: a response nobody stores is never revalidated.

    Placed outside CommonMiddleware, so the JSON 400 for a disallowed `Host` gets them too.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        if request.path.startswith("/api/"):
            if not response.get("Content-Type", "").startswith("text/html"):
                response.setdefault("Content-Security-Policy", API_CONTENT_SECURITY_POLICY)
            if request.path.startswith(NO_STORE_PATH_PREFIXES):
                patch_cache_control(response, no_store=True)
        return response
