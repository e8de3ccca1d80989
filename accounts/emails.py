"""
The one way account emails leave: queued as a task once the transaction commits, rendered and
sent by a worker (`accounts/tasks.py`), so a rolled-back change never mails anyone and no
request waits for a mail server.
"""

from django.conf import settings
from django.contrib.auth.tokens import default_token_generator
from django.core.mail import EmailMultiAlternatives
from django.template.loader import render_to_string
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode

from config.tasks import enqueue_on_commit

from . import links

TEMPLATE_DIR = "accounts/email"


def send_email(*, user, to: str, template: str, context: dict) -> None:
    """
    Send `templates/accounts/email/<template>{_subject.txt,.txt,.html}` to `to`, about `user`,
    once the current transaction commits. The task gets the user's id, not the user: it sends
    nothing if the account is gone by then.

    `context` holds plain strings and numbers only: it travels through the broker. Security
    emails keep what a user typed (names, addresses) out of the subject and the first lines,
    which mail clients show as a preview.
    """
    from .tasks import send_user_email

    enqueue_on_commit(send_user_email, str(user.pk), f"{TEMPLATE_DIR}/{template}", context, to=to)


def render_email(template: str, context: dict, *, to: str) -> EmailMultiAlternatives:
    """The message for `templates/<template>*`, plain text with an HTML alternative."""
    subject = render_to_string(f"{template}_subject.txt", context)
    message = EmailMultiAlternatives(
        # A header must be one line, whatever the template or its data contain.
        subject=" ".join(subject.split()),
        body=render_to_string(f"{template}.txt", context),
        to=[to],
    )
    message.attach_alternative(render_to_string(f"{template}.html", context), "text/html")
    return message


def password_reset_context(user) -> dict:
    uid = urlsafe_base64_encode(force_bytes(user.pk))
    token = default_token_generator.make_token(user)
    return {
        "email": user.email,
        "reset_url": f"{settings.FRONTEND_URL}/reset-password?uid={uid}&token={token}",
        "expiry_hours": settings.PASSWORD_RESET_TIMEOUT // 3600,
    }


def verification_context(user) -> dict:
    """A fresh link that verifies the user's current address (`links.VERIFY_EMAIL_SALT`)."""
    token = links.make(links.VERIFY_EMAIL_SALT, user=str(user.pk), email=user.email)
    return {"email": user.email, **links.email_context("verify-email", token)}
