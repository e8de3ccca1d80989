"""Project-wide task plumbing: enqueueing after commit."""

from django.db import transaction


def enqueue_on_commit(task, *args, **kwargs) -> None:
    """
    `task.delay(*args, **kwargs)` once the surrounding transaction commits (at once outside
    one), so the worker never looks for rows that are not committed yet, or never will be.

    Robust: a broker that cannot be reached is logged, not raised; the data has committed
    and the request still answers (Celery's `delay_on_commit` would raise it into the request).
    """

    def enqueue():
        task.delay(*args, **kwargs)

    enqueue.__qualname__ = f"enqueue({task.name})"
    transaction.on_commit(enqueue, robust=True)
