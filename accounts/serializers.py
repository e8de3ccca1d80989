from django.conf import settings
from django.utils.translation import gettext_lazy as _
from rest_framework import exceptions, serializers
from rest_framework_simplejwt import exceptions as jwt_exceptions
from rest_framework_simplejwt import serializers as jwt_serializers
from rest_framework_simplejwt.settings import api_settings as jwt_settings

from core.serializers import ModelSerializer

from .models import User
from .tokens import RefreshToken, fingerprint_matches
from .validators import PASSWORD_MAX_LENGTH, validate_email_characters

LINK_TOKEN_MAX_LENGTH = 2000


class PasswordField(serializers.CharField):
    """A password, refused above PASSWORD_MAX_LENGTH before anything hashes it."""

    def __init__(self, **kwargs):
        kwargs.setdefault("max_length", PASSWORD_MAX_LENGTH)
        kwargs.setdefault("style", {"input_type": "password"})
        kwargs.setdefault("write_only", True)
        super().__init__(**kwargs)


class UserSerializer(ModelSerializer):
    """
    The account as its owner sees it; only the name is editable here. The address changes
    through `users/me/email/`, which asks for the password and a confirmation by mail.
    """

    class Meta:
        model = User
        fields = [
            "id", "email", "email_verified", "full_name", "is_active", "is_superuser",
            "date_joined",
        ]  # fmt: skip
        read_only_fields = [
            "id", "email", "email_verified", "is_active", "is_superuser", "date_joined",
        ]  # fmt: skip
        # `validate_email` checks uniqueness regardless of case; DRF's case-sensitive
        # UniqueValidator would only repeat its query.
        extra_kwargs = {"email": {"validators": [validate_email_characters]}}

    def validate_email(self, value):
        value = User.objects.normalize_email(value)
        others = User.objects.filter(email__iexact=value)
        if self.instance is not None:
            others = others.exclude(pk=self.instance.pk)
        if others.exists():
            raise serializers.ValidationError("A user with this email address already exists.")
        return value


class AdminUserSerializer(UserSerializer):
    """What a superuser may set on any account."""

    password = PasswordField(required=False)

    class Meta(UserSerializer.Meta):
        fields = [*UserSerializer.Meta.fields, "is_staff", "password"]
        read_only_fields = ["id", "date_joined"]


class AdminUserCreateSerializer(AdminUserSerializer):
    """A new account needs a password, checked by Django's validators in `user_create`."""

    password = PasswordField()


class RegisterSerializer(UserSerializer):
    password = PasswordField()

    class Meta(UserSerializer.Meta):
        fields = [*UserSerializer.Meta.fields, "password"]
        read_only_fields = [
            "id", "email_verified", "is_active", "is_superuser", "date_joined",
        ]  # fmt: skip


class PasswordChangeSerializer(serializers.Serializer):
    current_password = PasswordField()
    new_password = PasswordField()


class EmailChangeSerializer(serializers.Serializer):
    new_email = serializers.EmailField(max_length=254, validators=[validate_email_characters])
    current_password = PasswordField()


class LinkTokenSerializer(serializers.Serializer):
    """The token from a link mailed by `verify-email` or `users/me/email/`."""

    token = serializers.CharField(max_length=LINK_TOKEN_MAX_LENGTH)


class VerificationResendSerializer(serializers.Serializer):
    email = serializers.EmailField()


class LogoutSerializer(serializers.Serializer):
    refresh = serializers.CharField()


class RefreshTokenSerializer(serializers.Serializer):
    """The body of refresh and logout as documented: in cookie mode the token may be left out."""

    refresh = serializers.CharField(
        required=False,
        help_text="The refresh token; required unless the `refresh_token` cookie is sent "
        "(cookie mode, `JWT_REFRESH_COOKIE`).",
    )


class TokenSerializer(serializers.Serializer):
    """What signing in and refreshing answer."""

    access = serializers.CharField(help_text="The access token, for `Authorization: Bearer`.")
    refresh = serializers.CharField(
        required=False,
        help_text="The refresh token; absent in cookie mode (`JWT_REFRESH_COOKIE`), where the "
        "`refresh_token` cookie carries it instead.",
    )


class PasswordResetSerializer(serializers.Serializer):
    email = serializers.EmailField()


class PasswordResetConfirmSerializer(serializers.Serializer):
    uid = serializers.CharField()
    token = serializers.CharField()
    new_password = PasswordField()


class _VerifiedEmailRequired(jwt_serializers.TokenObtainSerializer):
    """
    Runs between simplejwt's password check and its issuing of tokens (see the MRO of
    `TokenObtainPairSerializer`), so a refused sign-in neither issues tokens nor counts as a
    login. Only a caller who knows the password learns that the address is unverified.
    """

    def validate(self, attrs):
        data = super().validate(attrs)
        if settings.ACCOUNT_EMAIL_VERIFICATION == "mandatory" and not self.user.email_verified:
            raise jwt_exceptions.AuthenticationFailed(
                _("Verify your email address before signing in."), code="email_not_verified"
            )
        return data


class TokenObtainPairSerializer(jwt_serializers.TokenObtainPairSerializer, _VerifiedEmailRequired):
    """simplejwt's sign-in, with revocable tokens, a capped password and email verification."""

    token_class = RefreshToken

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["password"] = PasswordField()


class TokenRefreshSerializer(jwt_serializers.TokenRefreshSerializer):
    """
    simplejwt's refresh, made to honour revocation: its own version crashes (500) on a
    deleted user and ignores the fingerprint that access tokens are checked against.
    """

    token_class = RefreshToken

    def validate(self, attrs):
        refresh = self.token_class(attrs["refresh"])
        user_id = refresh.payload.get(jwt_settings.USER_ID_CLAIM)
        user = User.objects.filter(pk=user_id).first() if user_id else None
        if (
            user is None
            or not jwt_settings.USER_AUTHENTICATION_RULE(user)
            or not fingerprint_matches(refresh, user)
        ):
            raise exceptions.AuthenticationFailed(
                self.error_messages["no_active_account"], "no_active_account"
            )
        return super().validate(attrs)
