from rest_framework import exceptions, serializers
from rest_framework_simplejwt import serializers as jwt_serializers
from rest_framework_simplejwt.settings import api_settings as jwt_settings
from rest_framework_simplejwt.utils import get_md5_hash_password

from .models import User


class UserSerializer(serializers.ModelSerializer):
    """The account as its owner sees it; only the name and email are editable."""

    class Meta:
        model = User
        fields = ["id", "email", "full_name", "is_active", "is_superuser", "date_joined"]
        read_only_fields = ["id", "is_active", "is_superuser", "date_joined"]
        # `validate_email` checks uniqueness regardless of case; DRF's case-sensitive
        # UniqueValidator would only repeat its query.
        extra_kwargs = {"email": {"validators": []}}

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

    password = serializers.CharField(
        write_only=True, required=False, style={"input_type": "password"}
    )

    class Meta(UserSerializer.Meta):
        fields = [*UserSerializer.Meta.fields, "is_staff", "password"]
        read_only_fields = ["id", "date_joined"]


class AdminUserCreateSerializer(AdminUserSerializer):
    """A new account needs a password, checked by Django's validators in `user_create`."""

    password = serializers.CharField(write_only=True, style={"input_type": "password"})


class RegisterSerializer(UserSerializer):
    password = serializers.CharField(write_only=True, style={"input_type": "password"})

    class Meta(UserSerializer.Meta):
        fields = [*UserSerializer.Meta.fields, "password"]


class PasswordChangeSerializer(serializers.Serializer):
    current_password = serializers.CharField(style={"input_type": "password"})
    new_password = serializers.CharField(style={"input_type": "password"})


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
    new_password = serializers.CharField(style={"input_type": "password"})


class DetailSerializer(serializers.Serializer):
    detail = serializers.CharField()


class TokenRefreshSerializer(jwt_serializers.TokenRefreshSerializer):
    """
    simplejwt's refresh, made to honour revocation: its own version crashes (500) on a
    deleted user and ignores the password fingerprint that access tokens are checked against.
    """

    def validate(self, attrs):
        refresh = self.token_class(attrs["refresh"])
        user_id = refresh.payload.get(jwt_settings.USER_ID_CLAIM)
        user = User.objects.filter(pk=user_id).first() if user_id else None
        if (
            user is None
            or not jwt_settings.USER_AUTHENTICATION_RULE(user)
            or refresh.payload.get(jwt_settings.REVOKE_TOKEN_CLAIM)
            != get_md5_hash_password(user.password)
        ):
            raise exceptions.AuthenticationFailed(
                self.error_messages["no_active_account"], "no_active_account"
            )
        return super().validate(attrs)
