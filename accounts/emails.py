"""The one way account emails leave: render the templates, send after the transaction commits."""

from django.core.mail import EmailMultiAlternatives
from django.db import transaction
from django.template.loader import render_to_string

TEMPLATE_DIR = "accounts/email"


def send_email(*, to: str, template: str, context: dict) -> None:
    """
    Send `templates/accounts/email/<template>{_subject.txt,.txt,.html}` to one address once the
    current transaction commits, so a rolled-back change never mails anyone.

    `context` holds plain strings and numbers only, so that the sending can move to a
    background task unchanged. Security emails keep what a user typed (names, addresses)
    out of the subject and the first lines, which mail clients show as a preview.
    """
    transaction.on_commit(lambda: _send(to=to, template=template, context=context))


def _send(*, to: str, template: str, context: dict) -> None:
    prefix = f"{TEMPLATE_DIR}/{template}"
    message = EmailMultiAlternatives(
        subject=render_to_string(f"{prefix}_subject.txt", context).strip(),
        body=render_to_string(f"{prefix}.txt", context),
        to=[to],
    )
    message.attach_alternative(render_to_string(f"{prefix}.html", context), "text/html")
    message.send()
