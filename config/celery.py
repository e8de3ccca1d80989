"""
The Celery application: `celery -A config worker -l INFO` and `celery -A config beat -l INFO`.

Settings come from Django's, under the `CELERY_` prefix (see "Background work" in
`config/settings.py`); tasks live in each app's `tasks.py`. A task carries the id of the
request that queued it, so the worker's log lines (and error reports) join the request's.
"""

import os

from celery import Celery, signals

from .middleware import current_request_id, current_task_id

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

app = Celery("config")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()

REQUEST_ID_HEADER = "request_id"


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
