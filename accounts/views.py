from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import generics, status, viewsets
from rest_framework.permissions import AllowAny, IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView
from rest_framework_simplejwt import views as jwt_views

from . import serializers, services
from .models import User
from .permissions import IsSuperuser

PASSWORD_RESET_SENT = {
    "detail": "If an account with this email exists, a password reset link has been sent."
}


@extend_schema(tags=["auth"], responses={201: serializers.UserSerializer})
class RegisterView(generics.CreateAPIView):
    serializer_class = serializers.RegisterSerializer
    authentication_classes = []
    permission_classes = [AllowAny]
    throttle_scope = "register"

    def perform_create(self, serializer):
        serializer.instance = services.user_create(**serializer.validated_data)


@extend_schema(tags=["auth"], responses={401: serializers.DetailSerializer})
class TokenObtainPairView(jwt_views.TokenObtainPairView):
    """Sign in with email and password; answers the same for an unknown email or a bad password."""

    throttle_scope = "login"


@extend_schema(tags=["auth"], responses={401: serializers.DetailSerializer})
class TokenRefreshView(jwt_views.TokenRefreshView):
    """Trade a refresh token for a new pair; the old refresh token is blacklisted."""


class LogoutView(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(
        tags=["auth"],
        request=serializers.LogoutSerializer,
        responses={204: None, 400: OpenApiResponse(description="Invalid or used refresh token.")},
    )
    def post(self, request):
        serializer = serializers.LogoutSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        services.token_blacklist(refresh=serializer.validated_data["refresh"])
        return Response(status=status.HTTP_204_NO_CONTENT)


class PasswordResetView(APIView):
    authentication_classes = []
    permission_classes = [AllowAny]
    throttle_scope = "password_reset"

    @extend_schema(
        tags=["auth"],
        request=serializers.PasswordResetSerializer,
        responses={202: serializers.DetailSerializer},
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
        request=serializers.PasswordResetConfirmSerializer,
        responses={204: None, 400: OpenApiResponse(description="Invalid or used token.")},
    )
    def post(self, request):
        serializer = serializers.PasswordResetConfirmSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        services.password_reset_confirm(**serializer.validated_data)
        return Response(status=status.HTTP_204_NO_CONTENT)


@extend_schema(tags=["users"])
class MeView(generics.RetrieveUpdateDestroyAPIView):
    """The signed-in user's own account."""

    serializer_class = serializers.UserSerializer
    http_method_names = ["get", "patch", "delete", "head", "options"]

    def get_object(self):
        return self.request.user

    def perform_update(self, serializer):
        services.user_update(user=serializer.instance, data=serializer.validated_data)

    @extend_schema(responses={204: None, 403: serializers.DetailSerializer})
    def delete(self, request, *args, **kwargs):
        return super().delete(request, *args, **kwargs)

    def perform_destroy(self, instance):
        services.user_delete(user=instance, by=self.request.user)


class PasswordChangeView(APIView):
    @extend_schema(
        tags=["users"],
        request=serializers.PasswordChangeSerializer,
        responses={204: None, 400: OpenApiResponse(description="Wrong or weak password.")},
    )
    def post(self, request):
        serializer = serializers.PasswordChangeSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        services.user_change_password(user=request.user, **serializer.validated_data)
        return Response(status=status.HTTP_204_NO_CONTENT)


@extend_schema_view(
    create=extend_schema(
        request=serializers.AdminUserCreateSerializer,
        responses={201: serializers.AdminUserSerializer},
    )
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

    @extend_schema(responses={204: None, 403: serializers.DetailSerializer})
    def destroy(self, request, *args, **kwargs):
        return super().destroy(request, *args, **kwargs)

    def perform_destroy(self, instance):
        services.user_delete(user=instance, by=self.request.user)
