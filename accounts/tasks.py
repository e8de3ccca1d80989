"""
Account emails, sent by the worker (or in-process after commit when no broker is set).

Tasks take ids and addresses, never model instances: the worker reads the current row, so a
queued task never acts on stale data. A mail server that is down or refuses for a while
(`smtplib.SMTPException` and connection errors are all `OSError`) is retried with an
exponential backoff; acks-late (settings) keeps a task queued until it has run, so a killed
worker loses no mail. A redelivered task that already sent its mail does not send it again.
"""

import logging

from celery import shared_task
from django.core.cache import cache

from . import emails
from .models import User

logger = logging.getLogger(__name__)

EMAIL_TASK_OPTIONS = {
    "autoretry_for": (OSError,),
    "retry_backoff": 2,
    # Below the broker's visibility timeout (settings), which a waiting retry must not outlast.
    "retry_backoff_max": 10 * 60,
    "retry_jitter": True,
    # About an hour and a half of backoff in all before the mail is given up.
    "max_retries": 12,
    "acks_late": True,
    "reject_on_worker_lost": True,
}
# How long a sent mail's task id is remembered, against redelivery (longer than any retry).
SENT_MARKER_TTL = 24 * 60 * 60


@shared_task(bind=True, **EMAIL_TASK_OPTIONS)
def send_password_reset_email(self, email: str) -> None:
    """
    Mail a reset link if an active account with a usable password has this address.

    The request enqueues this for every address, known or not, so it costs the same either
    way and reveals nothing; the lookup happens here.
    """
    user = User.objects.filter(email__iexact=email, is_active=True).first()
    if user is None or not user.has_usable_password():
        return
    _send_once(
        self, "accounts/email/password_reset", emails.password_reset_context(user), user.email
    )


@shared_task(bind=True, **EMAIL_TASK_OPTIONS)
def send_verification_email(self, email: str) -> None:
    """
    Mail a new verification link if an active, unverified account has this address.

    Queued for every address asked for, known or not, like `send_password_reset_email`.
    """
    user = User.objects.filter(email__iexact=email, is_active=True, email_verified=False).first()
    if user is None:
        return
    context = {**emails.verification_context(user), "user": user}
    _send_once(self, f"{emails.TEMPLATE_DIR}/verify_email", context, user.email)


@shared_task(bind=True, **EMAIL_TASK_OPTIONS)
def send_user_email(self, user_id, template: str, context: dict | None = None, to=None) -> None:
    """
    Mail `templates/<template>*` to a user (or to `to`, e.g. an address being confirmed),
    rendered with `user` and `context` (JSON-serialisable values). Nothing when the user
    has gone meanwhile.
    """
    user = User.objects.filter(pk=user_id).first()
    if user is None:
        return
    _send_once(self, template, {**(context or {}), "user": user}, to or user.email)


def _send_once(task, template, context, to):
    """Send, then remember the task id: a redelivery of a task that got this far sends nothing."""
    marker = f"accounts:email-sent:{task.request.id}"
    if cache.get(marker):
        logger.info("Email %s already sent by this task; not sent again", template)
        return
    emails.render_email(template, context, to=to).send()
    cache.set(marker, True, SENT_MARKER_TTL)
    logger.info("Email %s sent", template)
