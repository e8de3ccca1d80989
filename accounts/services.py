"""Account writes with side effects: they validate, save and return the user."""

from django.conf import settings
from django.contrib.auth import password_validation
from django.contrib.auth.tokens import default_token_generator
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.mail import EmailMultiAlternatives
from django.db import transaction
from django.template.loader import render_to_string
from django.utils.encoding import force_bytes, force_str
from django.utils.http import urlsafe_base64_decode, urlsafe_base64_encode
from rest_framework_simplejwt.exceptions import TokenError
from rest_framework_simplejwt.token_blacklist.models import BlacklistedToken, OutstandingToken
from rest_framework_simplejwt.tokens import RefreshToken

from .models import User


def validate_password(password: str, user: User, *, field: str) -> None:
    """Django's password validators, with their messages under the field the client sent."""
    try:
        password_validation.validate_password(password, user)
    except ValidationError as exc:
        raise ValidationError({field: exc.messages}) from exc


def user_create(*, email, password, full_name="", **extra_fields) -> User:
    """Register a user; the password must pass Django's validators."""
    user = User(email=User.objects.normalize_email(email), full_name=full_name, **extra_fields)
    validate_password(password, user, field="password")
    user.set_password(password)
    user.full_clean()
    user.save()
    return user


def user_update(*, user: User, data: dict) -> User:
    """
    Update profile fields. A new password (superusers may set one) ends the user's tokens;
    so does deactivation, for good: reactivating the account does not revive them.
    """
    data = dict(data)
    password = data.pop("password", None)
    deactivating = user.is_active and data.get("is_active") is False
    for field, value in data.items():
        setattr(user, field, value)
    user.full_clean(exclude=["password"])
    with transaction.atomic():
        if data:
            user.save(update_fields=[*data.keys()])
        if password is not None:
            user_set_password(user=user, new_password=password, field="password")
        if deactivating:
            user_revoke_refresh_tokens(user=user)
    return user


def user_revoke_refresh_tokens(*, user: User) -> int:
    """Blacklist every refresh token issued to the user that is not blacklisted yet."""
    outstanding = OutstandingToken.objects.filter(user=user, blacklistedtoken__isnull=True)
    revoked = BlacklistedToken.objects.bulk_create(
        [BlacklistedToken(token=token) for token in outstanding], ignore_conflicts=True
    )
    return len(revoked)


def user_set_password(*, user: User, new_password: str, field: str = "new_password") -> User:
    """Change the password. Tokens carry a fingerprint of it, so all of them end here."""
    validate_password(new_password, user, field=field)
    user.set_password(new_password)
    user.save(update_fields=["password"])
    return user


def user_change_password(*, user: User, current_password: str, new_password: str) -> User:
    if not user.check_password(current_password):
        raise ValidationError({"current_password": "The current password is incorrect."})
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


def token_blacklist(*, refresh: str) -> None:
    try:
        RefreshToken(refresh).blacklist()
    except TokenError as exc:
        raise ValidationError({"refresh": str(exc)}) from exc


def password_reset_request(*, email: str) -> None:
    """Email a reset link if an active account has this address; silent otherwise."""
    user = User.objects.filter(email__iexact=email, is_active=True).first()
    if user is None or not user.has_usable_password():
        return
    uid = urlsafe_base64_encode(force_bytes(user.pk))
    token = default_token_generator.make_token(user)
    context = {
        "user": user,
        "reset_url": f"{settings.FRONTEND_URL}/reset-password?uid={uid}&token={token}",
        "expiry_hours": settings.PASSWORD_RESET_TIMEOUT // 3600,
    }
    message = EmailMultiAlternatives(
        subject=render_to_string("accounts/email/password_reset_subject.txt", context).strip(),
        body=render_to_string("accounts/email/password_reset.txt", context),
        to=[user.email],
    )
    message.attach_alternative(
        render_to_string("accounts/email/password_reset.html", context), "text/html"
    )
    message.send()


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
