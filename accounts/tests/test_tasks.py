"""Account emails go through tasks: queued after commit, looked up in the worker, retried."""

import smtplib

import pytest
from celery import signals
from django.core import mail
from django.core.mail.backends.locmem import EmailBackend
from django.urls import reverse

from accounts.models import User
from accounts.tasks import send_password_reset_email, send_user_email, send_verification_email
from accounts.tests.factories import UserFactory
from config.celery import app as celery_app
from testing.api import client_for

RESET = reverse("auth-password-reset")
RESEND = reverse("auth-verify-email-resend")


@pytest.fixture
def tasks_run():
    """(task name, args) of every task run, in-process or not."""
    runs = []

    def record(sender=None, args=None, **kwargs):
        runs.append((sender.name, tuple(args)))

    signals.task_prerun.connect(record, weak=False)
    yield runs
    signals.task_prerun.disconnect(record)


@pytest.mark.django_db
def test_reset_queues_the_same_task_for_known_and_unknown_addresses(
    api_client, user, django_capture_on_commit_callbacks, django_assert_num_queries
):
    # Nothing is looked up in the request: both cost the same, and no mail goes yet.
    with django_capture_on_commit_callbacks() as known, django_assert_num_queries(0):
        assert api_client.post(RESET, {"email": user.email}).status_code == 202
    with django_capture_on_commit_callbacks() as unknown, django_assert_num_queries(0):
        assert api_client.post(RESET, {"email": "nobody@example.com"}).status_code == 202
    assert len(known) == len(unknown) == 1
    assert mail.outbox == []


@pytest.mark.django_db(transaction=True)
def test_the_reset_task_receives_the_address_and_mails_only_known_accounts(
    api_client, user, tasks_run
):
    api_client.post(RESET, {"email": user.email.upper()})
    api_client.post(RESET, {"email": "nobody@example.com"})
    name = "accounts.tasks.send_password_reset_email"
    assert tasks_run == [(name, (user.email.upper(),)), (name, ("nobody@example.com",))]
    assert [message.to for message in mail.outbox] == [[user.email]]


@pytest.mark.django_db
def test_verification_resend_queues_the_same_task_for_every_address(
    api_client, django_capture_on_commit_callbacks, django_assert_num_queries
):
    UserFactory(email="pending@example.com", email_verified=False)
    # Nothing is looked up in the request: whether an unverified account has the address
    # does not show in the time it takes.
    with django_capture_on_commit_callbacks() as known, django_assert_num_queries(0):
        assert api_client.post(RESEND, {"email": "pending@example.com"}).status_code == 202
    with django_capture_on_commit_callbacks() as unknown, django_assert_num_queries(0):
        assert api_client.post(RESEND, {"email": "nobody@example.com"}).status_code == 202
    assert len(known) == len(unknown) == 1
    assert mail.outbox == []


@pytest.mark.django_db
def test_the_verification_task_mails_only_an_active_unverified_account():
    UserFactory(email="pending@example.com", email_verified=False)
    UserFactory(email="verified@example.com", email_verified=True)
    UserFactory(email="inactive@example.com", email_verified=False, is_active=False)
    for email in ["PENDING@example.com", "verified@example.com", "inactive@example.com",
                  "nobody@example.com"]:  # fmt: skip
        send_verification_email.apply(args=[email])
    (message,) = mail.outbox
    assert message.to == ["pending@example.com"]
    assert "/verify-email?token=" in message.body


@pytest.mark.django_db(transaction=True)
def test_every_account_email_is_one_task_given_ids_and_plain_values(
    api_client, tasks_run, password
):
    registered = api_client.post(
        reverse("auth-register"), {"email": "new@example.com", "password": password}
    ).json()
    user_id = registered["id"]
    client = client_for(User.objects.get(pk=user_id))
    client.post(
        reverse("user-me-email"),
        {"new_email": "moved@example.com", "current_password": password},
    )
    sent = [(name, args[0], args[1]) for name, args in tasks_run]
    assert sent == [
        ("accounts.tasks.send_user_email", user_id, "accounts/email/verify_email"),
        ("accounts.tasks.send_user_email", user_id, "accounts/email/email_change_confirm"),
        ("accounts.tasks.send_user_email", user_id, "accounts/email/email_change_notice"),
    ]
    for _name, args in tasks_run:
        assert all(isinstance(value, str | int) for value in args[2].values())
    assert [message.to for message in mail.outbox] == [
        ["new@example.com"],
        ["moved@example.com"],
        ["new@example.com"],
    ]


@pytest.mark.django_db
def test_an_account_without_a_usable_password_gets_no_reset_email():
    user = UserFactory()
    user.set_unusable_password()
    user.save()
    send_password_reset_email.apply(args=[user.email])
    assert mail.outbox == []


class FlakyBackend(EmailBackend):
    """Fails like an unreachable or overloaded mail server the first `failures` times."""

    failures = 0
    attempts = 0

    def send_messages(self, messages):
        FlakyBackend.attempts += 1
        if FlakyBackend.attempts <= FlakyBackend.failures:
            raise smtplib.SMTPServerDisconnected("Connection unexpectedly closed")
        return super().send_messages(messages)


@pytest.fixture
def flaky_mail_server(settings):
    settings.EMAIL_BACKEND = f"{__name__}.FlakyBackend"
    FlakyBackend.attempts = 0
    FlakyBackend.failures = 2
    return FlakyBackend


@pytest.mark.django_db
def test_smtp_errors_are_retried_until_the_mail_is_sent(user, flaky_mail_server):
    send_password_reset_email.apply(args=[user.email])
    assert flaky_mail_server.attempts == 3
    assert len(mail.outbox) == 1


@pytest.mark.django_db
def test_connection_errors_are_retried_too(user, flaky_mail_server, monkeypatch):
    def refused(self, messages):
        FlakyBackend.attempts += 1
        if FlakyBackend.attempts <= 1:
            raise ConnectionRefusedError(111, "Connection refused")
        return EmailBackend.send_messages(self, messages)

    monkeypatch.setattr(FlakyBackend, "send_messages", refused)
    send_password_reset_email.apply(args=[user.email])
    assert len(mail.outbox) == 1


@pytest.mark.django_db
def test_retries_back_off_exponentially_and_give_up_eventually():
    task = celery_app.tasks["accounts.tasks.send_password_reset_email"]
    assert task.autoretry_for == (OSError,)
    assert issubclass(smtplib.SMTPException, OSError)
    assert task.retry_backoff and task.retry_jitter and 0 < task.max_retries < 100
    assert task.acks_late and task.reject_on_worker_lost


@pytest.mark.django_db
def test_a_redelivered_task_does_not_send_twice(user):
    send_password_reset_email.apply(args=[user.email], task_id="redelivered")
    send_password_reset_email.apply(args=[user.email], task_id="redelivered")
    send_password_reset_email.apply(args=[user.email], task_id="a-second-request")
    assert len(mail.outbox) == 2


@pytest.mark.django_db
def test_send_user_email_renders_the_template_for_the_current_user(user):
    context = {"email": "shown@example.com", "reset_url": "https://app.example.com/x"}
    send_user_email.apply(args=[user.pk, "accounts/email/password_reset", context])
    send_user_email.apply(
        args=[str(user.pk), "accounts/email/password_reset", context],
        kwargs={"to": "new@example.com"},
    )
    first, second = mail.outbox
    assert (first.to, second.to) == ([user.email], ["new@example.com"])
    assert "https://app.example.com/x" in first.body and "shown@example.com" in first.body
    assert "\n" not in first.subject


@pytest.mark.django_db
def test_send_user_email_to_a_deleted_user_sends_nothing(user):
    user_id = user.pk
    user.delete()
    send_user_email.apply(args=[user_id, "accounts/email/password_reset", {}])
    assert mail.outbox == []
