from drf_spectacular.utils import (
    OpenApiParameter,
    OpenApiResponse,
    extend_schema,
    extend_schema_view,
)
from rest_framework import generics, status, viewsets
from rest_framework.permissions import AllowAny, IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView
from rest_framework_simplejwt import views as jwt_views

from core.permissions import IsSuperuser
from core.serializers import DetailSerializer, UnauthorizedSerializer

from . import cookies, serializers, services
from .models import User
from .permissions import RefreshCookieCsrfCheck

UNAUTHORIZED = OpenApiResponse(UnauthorizedSerializer, description="Bad credentials or token.")

PASSWORD_RESET_SENT = {
    "detail": "If an account with this email exists, a password reset link has been sent."
}
VERIFICATION_SENT = {
    "detail": "If an unverified account has this email, a verification link has been sent."
}
EMAIL_CHANGE_SENT = {
    "detail": "If the address is free, a confirmation link has been sent to it. "
    "Your address changes when the link is followed."
}

# The refresh-token cookie of `JWT_REFRESH_COOKIE` mode, documented for generated clients.
REFRESH_COOKIE_SET = OpenApiParameter(
    "Set-Cookie",
    str,
    OpenApiParameter.HEADER,
    response=[200],
    description=f"Cookie mode only: `{cookies.REFRESH_COOKIE}=<refresh token>; HttpOnly; "
    "Secure; SameSite=Lax; Path=/api/v1/auth/; Max-Age=<refresh lifetime>` (not Secure in "
    "debug mode; SameSite from the server's settings). The browser keeps it out of "
    "JavaScript's reach and sends it back to refresh and logout.",
)
REFRESH_COOKIE_CLEARED = OpenApiParameter(
    "Set-Cookie",
    str,
    OpenApiParameter.HEADER,
    response=[204],
    description=f"Cookie mode only: expires the `{cookies.REFRESH_COOKIE}` cookie.",
)
REFRESH_COOKIE_SENT = OpenApiParameter(
    cookies.REFRESH_COOKIE,
    str,
    OpenApiParameter.COOKIE,
    description="Cookie mode only: the refresh token, used when the body has none. The "
    "request must then come from an allowed origin with a JSON body.",
)
REFRESH_COOKIE_REFUSED = OpenApiResponse(
    DetailSerializer,
    description="The refresh-token cookie came without a JSON body or from an origin that "
    "is not allowed.",
)


@extend_schema_view(
    post=extend_schema(
        tags=["auth"],
        operation_id="auth_register",
        summary="Create an account",
        description="Django's password validators check the password; an email already taken, "
        "in any case, is a 400.",
        responses={201: serializers.UserSerializer},
    )
)
class RegisterView(generics.CreateAPIView):
    serializer_class = serializers.RegisterSerializer
    authentication_classes = []
    permission_classes = [AllowAny]
    throttle_scope = "register"

    def perform_create(self, serializer):
        serializer.instance = services.user_register(**serializer.validated_data)


@extend_schema_view(
    post=extend_schema(
        tags=["auth"],
        operation_id="auth_login",
        summary="Sign in",
        parameters=[REFRESH_COOKIE_SET],
        responses={
            200: serializers.TokenSerializer,
            401: OpenApiResponse(
                UnauthorizedSerializer,
                description="Unknown email, wrong password or inactive account (one answer for "
                "all three); `code` is `email_not_verified` when verification is mandatory.",
            ),
        },
    )
)
class TokenObtainPairView(jwt_views.TokenObtainPairView):
    """Sign in with email and password; answers the same for an unknown email or a bad password."""

    throttle_scope = "login"

    def post(self, request, *args, **kwargs):
        return cookies.move_refresh_to_cookie(super().post(request, *args, **kwargs))


@extend_schema_view(
    post=extend_schema(
        tags=["auth"],
        operation_id="auth_refresh",
        summary="Trade a refresh token for a new pair",
        description="Refresh tokens rotate: the one sent is blacklisted; sent again, a 401.",
        request=serializers.RefreshTokenSerializer,
        parameters=[REFRESH_COOKIE_SENT, REFRESH_COOKIE_SET],
        responses={
            200: serializers.TokenSerializer,
            401: UNAUTHORIZED,
            403: REFRESH_COOKIE_REFUSED,
        },
    )
)
class TokenRefreshView(jwt_views.TokenRefreshView):
    """Trade a refresh token for a new pair; the old refresh token is blacklisted."""

    permission_classes = [RefreshCookieCsrfCheck]

    def get_serializer(self, *args, **kwargs):
        """Validates the body's token or, when the body has none, the cookie's."""
        if "data" in kwargs:
            kwargs["data"] = cookies.refresh_data(self.request)
        return super().get_serializer(*args, **kwargs)

    def post(self, request, *args, **kwargs):
        return cookies.move_refresh_to_cookie(super().post(request, *args, **kwargs))


class LogoutView(APIView):
    permission_classes = [IsAuthenticated, RefreshCookieCsrfCheck]

    @extend_schema(
        tags=["auth"],
        operation_id="auth_logout",
        summary="Sign out",
        description="Blacklists the refresh token; an invalid or used one is a 400.",
        request=serializers.RefreshTokenSerializer,
        parameters=[REFRESH_COOKIE_SENT, REFRESH_COOKIE_CLEARED],
        responses={
            204: None,
            400: OpenApiResponse(description="Invalid or used refresh token, or another user's."),
            403: REFRESH_COOKIE_REFUSED,
        },
    )
    def post(self, request):
        serializer = serializers.LogoutSerializer(data=cookies.refresh_data(request))
        serializer.is_valid(raise_exception=True)
        services.token_blacklist(refresh=serializer.validated_data["refresh"], user=request.user)
        response = Response(status=status.HTTP_204_NO_CONTENT)
        cookies.clear_refresh_cookie(response)
        return response


class LogoutEverywhereView(APIView):
    # Authenticated by the access token alone, which other sites cannot make a browser send:
    # the refresh cookie is only expired here, never read, so it needs no CSRF check.

    @extend_schema(
        tags=["auth"],
        operation_id="auth_logout_all",
        summary="Sign out everywhere",
        description="Ends every access and refresh token of the account, on every device and "
        "this one, from the next request on; sign in again for a new pair.",
        request=None,
        parameters=[REFRESH_COOKIE_CLEARED],
        responses={204: None},
    )
    def post(self, request):
        services.user_revoke_tokens(user=request.user)
        response = Response(status=status.HTTP_204_NO_CONTENT)
        cookies.clear_refresh_cookie(response)
        return response


class PasswordResetView(APIView):
    authentication_classes = []
    permission_classes = [AllowAny]
    throttle_scope = "password_reset"

    @extend_schema(
        tags=["auth"],
        operation_id="auth_password_reset",
        summary="Email a password-reset link",
        description="The same answer whether or not an account has this email.",
        request=serializers.PasswordResetSerializer,
        responses={202: DetailSerializer},
    )
    def post(self, request):
        serializer = serializers.PasswordResetSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        services.password_reset_request(email=serializer.validated_data["email"])
        return Response(PASSWORD_RESET_SENT, status=status.HTTP_202_ACCEPTED)


class PasswordResetConfirmView(APIView):
    authentication_classes = []
    permission_classes = [AllowAny]
    throttle_scope = "password_reset"

    @extend_schema(
        tags=["auth"],
        operation_id="auth_password_reset_confirm",
        summary="Set a new password with a reset link",
        description="A bad, expired or used link is a 400; every token of the account ends.",
        request=serializers.PasswordResetConfirmSerializer,
        responses={204: None},
    )
    def post(self, request):
        serializer = serializers.PasswordResetConfirmSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        services.password_reset_confirm(**serializer.validated_data)
        return Response(status=status.HTTP_204_NO_CONTENT)


class VerifyEmailView(APIView):
    authentication_classes = []
    permission_classes = [AllowAny]

    @extend_schema(
        tags=["auth"],
        operation_id="auth_verify_email",
        summary="Verify the account's email address",
        description="Follows the link mailed at sign-up (`FRONTEND_URL/verify-email?token=…`).",
        request=serializers.LinkTokenSerializer,
        responses={
            204: None,
            400: OpenApiResponse(description="Invalid or expired link, or for another address."),
        },
    )
    def post(self, request):
        serializer = serializers.LinkTokenSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        services.email_verify(**serializer.validated_data)
        return Response(status=status.HTTP_204_NO_CONTENT)


class VerifyEmailResendView(APIView):
    authentication_classes = []
    permission_classes = [AllowAny]
    throttle_scope = "email_verification"

    @extend_schema(
        tags=["auth"],
        operation_id="auth_verify_email_resend",
        summary="Mail a new verification link",
        description="Answers the same for every address, known, verified or not.",
        request=serializers.VerificationResendSerializer,
        responses={202: DetailSerializer},
    )
    def post(self, request):
        serializer = serializers.VerificationResendSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        services.email_verification_resend(**serializer.validated_data)
        return Response(VERIFICATION_SENT, status=status.HTTP_202_ACCEPTED)


class EmailChangeConfirmView(APIView):
    authentication_classes = []
    permission_classes = [AllowAny]

    @extend_schema(
        tags=["auth"],
        operation_id="auth_email_confirm",
        summary="Confirm an email change",
        description="Follows the link mailed to the new address "
        "(`FRONTEND_URL/confirm-email?token=…`). The address changes and every token of the "
        "user ends: sign in again with the new address.",
        request=serializers.LinkTokenSerializer,
        responses={
            200: serializers.UserSerializer,
            400: OpenApiResponse(
                description="Invalid, expired, used or superseded link, or the address has "
                "been taken meanwhile."
            ),
        },
    )
    def post(self, request):
        serializer = serializers.LinkTokenSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        user = services.email_change_confirm(**serializer.validated_data)
        return Response(serializers.UserSerializer(user).data)


@extend_schema_view(
    get=extend_schema(operation_id="me_get", summary="Your account"),
    patch=extend_schema(
        operation_id="me_update",
        summary="Edit your account",
        description="The name; the email changes through `users/me/email/`, every other "
        "field is read-only here.",
    ),
)
@extend_schema(tags=["users"])
class MeView(generics.RetrieveUpdateDestroyAPIView):
    """The signed-in user's own account."""

    serializer_class = serializers.UserSerializer
    http_method_names = ["get", "patch", "delete", "head", "options"]

    # A read is answered from `User.me_page`, which authentication reads with the user: no
    # serializer runs while the account is unchanged. Any query string is answered
    # uncached: each variant would store one more page.
    def initial(self, request, *args, **kwargs):
        if request.method in ("GET", "HEAD") and not request.query_params:
            request.prefetch_for_user = User.me_page.prefetch_keys(request)
        super().initial(request, *args, **kwargs)

    def retrieve(self, request, *args, **kwargs):
        if request.query_params:
            return super().retrieve(request, *args, **kwargs)
        return User.me_page.serve(super().retrieve, request, *args, **kwargs)

    def get_object(self):
        return self.request.user

    def perform_update(self, serializer):
        services.user_update(user=serializer.instance, data=serializer.validated_data)

    @extend_schema(
        operation_id="me_delete",
        summary="Delete your account",
        description="The account and its items are removed; a superuser may not (403).",
        responses={
            204: None,
            403: OpenApiResponse(
                DetailSerializer, description="A superuser may not delete itself."
            ),
        },
    )
    def delete(self, request, *args, **kwargs):
        return super().delete(request, *args, **kwargs)

    def perform_destroy(self, instance):
        services.user_delete(user=instance, by=self.request.user)


class PasswordChangeView(APIView):
    # Shared with the email change: both check the current password, so a stolen access
    # token gets one small budget of guesses per user, whichever endpoint it uses.
    throttle_scope = "password_check"

    @extend_schema(
        tags=["users"],
        operation_id="me_password_change",
        summary="Change your password",
        description="A wrong current password or a weak new one is a 400; every token of the "
        "account ends, so sign in again.",
        request=serializers.PasswordChangeSerializer,
        responses={204: None},
    )
    def post(self, request):
        serializer = serializers.PasswordChangeSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        services.user_change_password(user=request.user, **serializer.validated_data)
        return Response(status=status.HTTP_204_NO_CONTENT)


class EmailChangeView(APIView):
    throttle_scope = "password_check"

    @extend_schema(
        tags=["users"],
        operation_id="me_email_change",
        summary="Ask to change the account's email address",
        description="Mails a confirmation link to the new address (unless another account "
        "has it; the answer is the same) and a notice to the current one. Nothing changes "
        "until the link is followed (`auth/email/confirm/`).",
        request=serializers.EmailChangeSerializer,
        responses={
            202: DetailSerializer,
            400: OpenApiResponse(description="Wrong current password or invalid address."),
        },
    )
    def post(self, request):
        serializer = serializers.EmailChangeSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        services.email_change_request(user=request.user, **serializer.validated_data)
        return Response(EMAIL_CHANGE_SENT, status=status.HTTP_202_ACCEPTED)


@extend_schema_view(
    list=extend_schema(summary="List users"),
    create=extend_schema(
        summary="Create a user",
        request=serializers.AdminUserCreateSerializer,
        responses={201: serializers.AdminUserSerializer},
    ),
    retrieve=extend_schema(summary="Get a user"),
    partial_update=extend_schema(
        summary="Edit a user",
        description="Deactivating an account ends its tokens.",
    ),
)
@extend_schema(tags=["users"])
class UserViewSet(viewsets.ModelViewSet):
    """User management for superusers."""

    queryset = User.objects.order_by("date_joined")
    serializer_class = serializers.AdminUserSerializer
    permission_classes = [IsSuperuser]
    http_method_names = ["get", "post", "patch", "delete", "head", "options"]
    lookup_value_converter = "uuid"
    search_fields = ["email", "full_name"]
    ordering_fields = ["date_joined", "email"]
    filterset_fields = ["is_active", "is_staff", "is_superuser"]

    def get_serializer_class(self):
        if self.action == "create":
            return serializers.AdminUserCreateSerializer
        return super().get_serializer_class()

    def perform_create(self, serializer):
        serializer.instance = services.user_create(**serializer.validated_data)

    def perform_update(self, serializer):
        services.user_update(user=serializer.instance, data=serializer.validated_data)

    @extend_schema(
        summary="Delete a user",
        description="The account and its items are removed; a superuser may not delete "
        "itself (403).",
        responses={
            204: None,
            403: OpenApiResponse(
                DetailSerializer, description="A superuser may not delete itself."
            ),
        },
    )
    def destroy(self, request, *args, **kwargs):
        return super().destroy(request, *args, **kwargs)

    def perform_destroy(self, instance):
        services.user_delete(user=instance, by=self.request.user)
