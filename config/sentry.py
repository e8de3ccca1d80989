"""
Error reports to Sentry, opt-in with `SENTRY_DSN` (settings.py calls `init_sentry`).

No personal data leaves: `send_default_pii` is off (no user, cookies or client address),
request bodies and local variables are never sent, and `scrub_event` keeps only the request
headers on an allowlist and drops the query string, as the logs do. Every event is tagged
with the request id (and the task id in the worker), to find its log lines.
"""

import sentry_sdk
from sentry_sdk.integrations.argv import ArgvIntegration
from sentry_sdk.integrations.celery import CeleryIntegration
from sentry_sdk.integrations.django import DjangoIntegration
from sentry_sdk.integrations.logging import ignore_logger

from .context import current_request_id, current_task_id

SAFE_HEADERS = {"Accept", "Content-Length", "Content-Type", "Host", "User-Agent", "X-Request-Id"}


def init_sentry(*, dsn: str, environment: str, traces_sample_rate: float) -> None:
    sentry_sdk.init(
        dsn=dsn,
        environment=environment or None,
        traces_sample_rate=traces_sample_rate,
        integrations=[DjangoIntegration(), CeleryIntegration()],
        # A command line can carry a password (`seed_superuser --password`).
        disabled_integrations=[ArgvIntegration()],
        send_default_pii=False,
        max_request_body_size="never",
        include_local_variables=False,
        before_send=scrub_event,
        before_send_transaction=scrub_event,
    )
    # A failed request's log line would repeat its exception's event.
    ignore_logger("config.request")


def scrub_event(event, hint):
    tags = event.setdefault("tags", {})
    if request_id := current_request_id.get():
        tags["request_id"] = request_id
    if task_id := current_task_id.get():
        tags["task_id"] = task_id
    request = event.get("request")
    if request:
        for field in ("data", "query_string", "cookies", "env"):
            request.pop(field, None)
        request["headers"] = {
            name: value
            for name, value in (request.get("headers") or {}).items()
            if name.title() in SAFE_HEADERS
        }
    return event
