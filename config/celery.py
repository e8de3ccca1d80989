"""
The Celery application: `celery -A config worker -l INFO` and `celery -A config beat -l INFO`.

Settings come from Django's, under the `CELERY_` prefix (see "Background work" in
`config/settings.py`); tasks live in each app's `tasks.py`. A task carries the id of the
request that queued it, so the worker's log lines (and error reports) join the request's.
"""

import logging
import os
import sys
import tempfile

from celery import Celery, signals
from django.conf import settings

from .context import current_request_id, current_task_id

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

app = Celery("config")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()

REQUEST_ID_HEADER = "request_id"
logger = logging.getLogger(__name__)


@signals.before_task_publish.connect(dispatch_uid="config.celery.send_request_id")
def send_request_id(headers=None, **kwargs):
    request_id = current_request_id.get()
    if request_id and headers is not None:
        headers.setdefault(REQUEST_ID_HEADER, request_id)


# Context tokens of the running tasks, by task id, to restore the outer values afterwards
# (a task run in-process, after a request's commit, runs inside that request's context).
_context_tokens = {}


@signals.task_prerun.connect(dispatch_uid="config.celery.enter_task_context")
def enter_task_context(task_id=None, task=None, **kwargs):
    request_id = getattr(task.request, REQUEST_ID_HEADER, None) or current_request_id.get()
    _context_tokens[task_id] = (current_request_id.set(request_id), current_task_id.set(task_id))


@signals.task_postrun.connect(dispatch_uid="config.celery.leave_task_context")
def leave_task_context(task_id=None, **kwargs):
    tokens = _context_tokens.pop(task_id, None)
    if tokens:
        current_request_id.reset(tokens[0])
        current_task_id.reset(tokens[1])


# --- Metrics (config/metrics.py): task outcomes, served by the worker itself ------------------


@signals.celeryd_init.connect(dispatch_uid="config.celery.prepare_worker_metrics")
def prepare_worker_metrics(**kwargs):
    """
    Multiprocess mode, so the pool's processes count into files the main process reads.
    prometheus_client picks its mode when imported, which config.metrics defers for this.
    """
    if not settings.METRICS_TOKEN or "PROMETHEUS_MULTIPROC_DIR" in os.environ:
        return
    if "prometheus_client" in sys.modules:
        logger.warning("prometheus_client was imported early: the pool's task metrics are lost")
        return
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = tempfile.mkdtemp(prefix="prometheus-worker-")


@signals.worker_ready.connect(dispatch_uid="config.celery.serve_worker_metrics")
def serve_worker_metrics(**kwargs):
    if settings.METRICS_TOKEN:
        from .metrics import serve_worker_metrics

        serve_worker_metrics(settings.METRICS_WORKER_PORT)


def count_task(outcome):
    def receiver(sender=None, **kwargs):
        from .metrics import count_task

        count_task(sender.name, outcome)

    return receiver


for signal, outcome in [
    (signals.task_success, "success"),
    (signals.task_failure, "failure"),
    (signals.task_retry, "retry"),
]:
    signal.connect(count_task(outcome), weak=False, dispatch_uid=f"config.celery.count_{outcome}")
