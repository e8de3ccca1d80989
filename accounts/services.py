"""Account writes with side effects: they validate, save and return the user."""

from contextlib import contextmanager

from django.conf import settings
from django.contrib.auth import password_validation
from django.contrib.auth.tokens import default_token_generator
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.encoding import force_str
from django.utils.http import urlsafe_base64_decode
from rest_framework_simplejwt.exceptions import TokenError
from rest_framework_simplejwt.settings import api_settings as jwt_settings
from rest_framework_simplejwt.token_blacklist.models import BlacklistedToken, OutstandingToken

from config.tasks import enqueue_on_commit
from core.services import model_update

from . import links, tasks
from .emails import send_email, verification_context
from .models import User
from .tokens import RefreshToken, token_fingerprint

EMAIL_TAKEN = "A user with this email address already exists."
# The case-insensitive unique constraint on `email` is left to the database, which reports a
# violation under `email` through `unique_email`; `full_clean` would report it under `__all__`.
CHECKS = {"validate_constraints": False}


def validate_password(password: str, user: User, *, field: str) -> None:
    """Django's password validators, with their messages under the field the client sent."""
    try:
        password_validation.validate_password(password, user)
    except ValidationError as exc:
        raise ValidationError({field: exc.messages}) from exc


@contextmanager
def unique_email(email: str, *, field: str = "email"):
    """
    Let the database have the last word on email uniqueness: two requests can both pass the
    check for a free address before either saves, and the loser must get a 400, not a 500.
    """
    try:
        with transaction.atomic():
            yield
    except IntegrityError:
        if User.objects.filter(email__iexact=email).exists():
            raise ValidationError({field: EMAIL_TAKEN}) from None
        raise


def user_create(*, email, password, full_name="", **extra_fields) -> User:
    """Create an account; the password must pass Django's validators."""
    user = User(email=User.objects.normalize_email(email), full_name=full_name, **extra_fields)
    validate_password(password, user, field="password")
    user.set_password(password)
    user.full_clean(**CHECKS)
    with unique_email(user.email):
        user.save()
    return user


def user_register(*, email, password, full_name="") -> User:
    """Sign up: create the account and mail a verification link (unless verification is off)."""
    user = user_create(email=email, password=password, full_name=full_name)
    if settings.ACCOUNT_EMAIL_VERIFICATION != "none":
        email_verification_send(user=user)
    return user


def user_update(*, user: User, data: dict) -> User:
    """
    Update profile fields. A new password (superusers may set one) ends the user's tokens;
    so does deactivation, for good: reactivating the account does not revive them.
    """
    data = dict(data)
    password = data.pop("password", None)
    deactivating = user.is_active and data.get("is_active") is False
    with unique_email(data.get("email", user.email)):
        # The hash only ever changes through `set_password`, never through `data`.
        model_update(instance=user, data=data, trusted_fields=["password"], **CHECKS)
        if password is not None:
            user_set_password(user=user, new_password=password, field="password")
        if deactivating:
            user_revoke_tokens(user=user)
    return user


def user_revoke_tokens(*, user: User) -> User:
    """
    End every access and refresh token issued to the user so far, on every device (see
    accounts.tokens): moving `tokens_valid_after` is what ends them, on the next request. The
    unexpired refresh tokens are blacklisted too, so simplejwt's own records (its admin,
    `flushexpiredtokens`) agree.
    """
    now = timezone.now()
    with transaction.atomic():
        user.tokens_valid_after = now
        user.save(update_fields=["tokens_valid_after"])
        outstanding = OutstandingToken.objects.filter(
            user=user, expires_at__gt=now, blacklistedtoken__isnull=True
        ).values_list("pk", flat=True)
        BlacklistedToken.objects.bulk_create(
            [BlacklistedToken(token_id=pk) for pk in outstanding], ignore_conflicts=True
        )
    return user


def user_set_password(*, user: User, new_password: str, field: str = "new_password") -> User:
    """Change the password. Tokens carry a fingerprint of it, so all of them end here."""
    validate_password(new_password, user, field=field)
    user.set_password(new_password)
    user.save(update_fields=["password"])
    return user


def user_check_password(*, user: User, password: str, field: str = "current_password") -> None:
    if not user.check_password(password):
        raise ValidationError({field: "The current password is incorrect."})


def user_change_password(*, user: User, current_password: str, new_password: str) -> User:
    user_check_password(user=user, password=current_password)
    return user_set_password(user=user, new_password=new_password)


def user_delete(*, user: User, by: User) -> None:
    """
    Delete the account and everything it owns; its tokens then name nobody (401).

    A superuser may not delete their own account, so a project never loses its last admin
    by accident.
    """
    if user.is_superuser and user.pk == by.pk:
        raise PermissionDenied("A superuser cannot delete their own account.")
    with transaction.atomic():
        user.delete()


def token_blacklist(*, refresh: str, user: User) -> None:
    """Sign out one session: blacklist the caller's own refresh token, nobody else's."""
    try:
        token = RefreshToken(refresh)
    except TokenError as exc:
        raise ValidationError({"refresh": str(exc)}) from exc
    if token.get(jwt_settings.USER_ID_CLAIM) != str(user.pk):
        raise ValidationError({"refresh": "This refresh token was not issued to you."})
    try:
        token.blacklist()
    except TokenError as exc:
        raise ValidationError({"refresh": str(exc)}) from exc


# --- Password reset ---------------------------------------------------------------------------


def password_reset_request(*, email: str) -> None:
    """
    Queue the reset email, after commit. The same task is queued whether or not an account
    has this address (the worker looks it up), so the request costs the same either way.
    """
    enqueue_on_commit(tasks.send_password_reset_email, email)


def password_reset_confirm(*, uid: str, token: str, new_password: str) -> User:
    """Set a new password from an emailed link; the link works once, since the hash changes."""
    invalid = ValidationError({"token": "The reset link is invalid or has expired."})
    try:
        pk = force_str(urlsafe_base64_decode(uid))
        user = User.objects.get(pk=pk, is_active=True)
    except (TypeError, ValueError, OverflowError, ValidationError, User.DoesNotExist):
        raise invalid from None
    if not default_token_generator.check_token(user, token):
        raise invalid
    return user_set_password(user=user, new_password=new_password)


# --- Email verification -----------------------------------------------------------------------


def email_verification_send(*, user: User) -> None:
    send_email(
        user=user, to=user.email, template="verify_email", context=verification_context(user)
    )


def email_verification_resend(*, email: str) -> None:
    """
    Queue a new link, after commit. The same task is queued whether or not an active,
    unverified account has this address (the worker looks it up), so the request costs the
    same either way and reveals nothing.
    """
    if settings.ACCOUNT_EMAIL_VERIFICATION == "none":
        return
    enqueue_on_commit(tasks.send_verification_email, email)


def email_verify(*, token: str) -> User:
    """Mark the address verified; a link for an address the account no longer has fails."""
    invalid = ValidationError({"token": "The verification link is invalid or has expired."})
    try:
        payload = links.read(links.VERIFY_EMAIL_SALT, token)
    except links.InvalidLink:
        raise invalid from None
    user = User.objects.filter(
        pk=payload.get("user"), email=payload.get("email"), is_active=True
    ).first()
    if user is None:
        raise invalid
    if not user.email_verified:
        user.email_verified = True
        user.save(update_fields=["email_verified"])
    return user


# --- Email change -----------------------------------------------------------------------------


def email_change_request(*, user: User, new_email: str, current_password: str) -> None:
    """
    Ask to move the account to `new_email`; nothing changes until the link mailed there is
    followed. The old address is told. The caller learns nothing about whether the address
    belongs to another account: then no link is sent, but the answer is the same.
    """
    user_check_password(user=user, password=current_password)
    new_email = User.objects.normalize_email(new_email)
    if new_email.lower() == user.email.lower():
        raise ValidationError({"new_email": "This is already your email address."})
    user.email_change_requested_at = timezone.now()
    user.save(update_fields=["email_change_requested_at"])
    if not User.objects.filter(email__iexact=new_email).exists():
        token = links.make(
            links.CHANGE_EMAIL_SALT,
            user=str(user.pk),
            email=new_email,
            requested=user.email_change_requested_at.isoformat(),
            fingerprint=token_fingerprint(user),
        )
        send_email(
            user=user,
            to=new_email,
            template="email_change_confirm",
            context={"new_email": new_email, **links.email_context("confirm-email", token)},
        )
    send_email(
        user=user,
        to=user.email,
        template="email_change_notice",
        context={"email": user.email, "new_email": new_email},
    )


def email_change_confirm(*, token: str) -> User:
    """
    Move the account to the address the link was sent to; that address is verified by the
    very act. Every token issued before ends, as after a password change.

    The link dies with the sessions of its time: it carries the tokens' fingerprint, so a
    password change or a deactivation after the request (the owner's answer to the notice)
    cancels it.
    """
    invalid = ValidationError({"token": "The confirmation link is invalid, used or expired."})
    try:
        payload = links.read(links.CHANGE_EMAIL_SALT, token)
    except links.InvalidLink:
        raise invalid from None
    user = User.objects.filter(pk=payload.get("user"), is_active=True).first()
    if (
        user is None
        or user.email_change_requested_at is None
        or user.email_change_requested_at.isoformat() != payload.get("requested")
        or payload.get("fingerprint") != token_fingerprint(user)
    ):
        raise invalid
    new_email = payload.get("email", "")
    if User.objects.filter(email__iexact=new_email).exclude(pk=user.pk).exists():
        raise ValidationError({"token": "This address now belongs to another account."})
    user.email = new_email
    user.email_verified = True
    user.email_change_requested_at = None
    user.tokens_valid_after = timezone.now()
    with unique_email(new_email, field="token"):
        user.save(
            update_fields=[
                "email", "email_verified", "email_change_requested_at", "tokens_valid_after",
            ]
        )  # fmt: skip
    return user
