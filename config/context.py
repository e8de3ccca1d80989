"""What the current request or task is, for log lines and error reports (set by
config.middleware for a request and by config.celery for a task)."""

import contextvars

current_request_id = contextvars.ContextVar("request_id", default=None)
# The worker also restores the id of the request that queued the task.
current_task_id = contextvars.ContextVar("task_id", default=None)
