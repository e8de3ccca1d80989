import logging
import uuid

from django.core.cache import cache
from django.core.exceptions import DisallowedHost
from django.db import connection
from django.http import JsonResponse
from django.views import defaults
from django.views.decorators.csrf import csrf_exempt
from django.views.generic import TemplateView
from drf_spectacular.utils import extend_schema
from drf_spectacular.views import SpectacularRedocView
from rest_framework import serializers, status
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView

logger = logging.getLogger(__name__)


class LivenessSerializer(serializers.Serializer):
    status = serializers.ChoiceField(choices=["ok"])


class ReadinessChecksSerializer(serializers.Serializer):
    database = serializers.ChoiceField(choices=["ok", "unavailable"])
    cache = serializers.ChoiceField(choices=["ok", "degraded"])


class ReadinessSerializer(serializers.Serializer):
    status = serializers.ChoiceField(choices=["ok", "degraded", "unavailable"])
    checks = ReadinessChecksSerializer()


class LivenessView(APIView):
    """The process answers; touches neither the database nor the cache."""

    authentication_classes = []
    permission_classes = [AllowAny]

    @extend_schema(
        tags=["health"],
        operation_id="health_live",
        summary="Liveness probe",
        responses={200: LivenessSerializer},
    )
    def get(self, request):
        return Response({"status": "ok"})


class ReadinessView(APIView):
    """Ready when the database answers; a failing cache only degrades the service."""

    authentication_classes = []
    permission_classes = [AllowAny]

    @extend_schema(
        tags=["health"],
        operation_id="health_ready",
        summary="Readiness probe",
        description="200 when the database answers (`degraded` when the cache does not), "
        "503 naming what failed when the database does not.",
        responses={200: ReadinessSerializer, 503: ReadinessSerializer},
    )
    def get(self, request):
        checks = {"database": check_database(), "cache": check_cache()}
        if checks["database"] != "ok":
            return Response(
                {"status": "unavailable", "checks": checks},
                status=status.HTTP_503_SERVICE_UNAVAILABLE,
            )
        overall = "ok" if checks["cache"] == "ok" else "degraded"
        return Response({"status": overall, "checks": checks})


def check_database():
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except Exception:
        logger.exception("Readiness: database check failed")
        return "unavailable"
    return "ok"


def check_cache():
    # The cache swallows its own errors, so a round trip is the only honest test.
    key, value = "health:ready", uuid.uuid4().hex
    try:
        cache.set(key, value, timeout=10)
        ok = cache.get(key) == value
    except Exception:
        logger.exception("Readiness: cache check failed")
        ok = False
    return "ok" if ok else "degraded"


class RedocView(SpectacularRedocView):
    """
    ReDoc from the sidecar bundle, with no request to another host: the page loads no web
    font, and the bundle's one remote image (a Redocly logo) is refused by the policy below.
    """

    template_name = "docs/redoc.html"
    content_security_policy = "img-src 'self' data:; font-src 'self' data:; connect-src 'self'"

    def finalize_response(self, request, response, *args, **kwargs):
        response = super().finalize_response(request, response, *args, **kwargs)
        response["Content-Security-Policy"] = self.content_security_policy
        return response


class LandingView(TemplateView):
    template_name = "landing.html"


# Exempt, or a POST or DELETE to an unknown API URL would get the CSRF failure page (HTML).
@csrf_exempt
def api_not_found(request, *args, **kwargs):
    return JsonResponse({"detail": "Not found."}, status=404)


def handler400(request, exception=None):
    """
    Django's answer to a request refused before any view runs, such as a `Host` header
    outside `DJANGO_ALLOWED_HOSTS`: JSON under `/api/`. Like `handler500`, Django calls it
    with `DEBUG` off; in debug it shows its technical page instead.
    """
    if request.path.startswith("/api/"):
        detail = "Invalid Host header." if isinstance(exception, DisallowedHost) else "Bad request."
        return JsonResponse({"detail": detail}, status=400)
    return defaults.bad_request(request, exception)


def handler404(request, exception=None):
    if request.path.startswith("/api/"):
        return api_not_found(request)
    return defaults.page_not_found(request, exception)


def handler500(request):
    if request.path.startswith("/api/"):
        return JsonResponse({"detail": "A server error occurred."}, status=500)
    return defaults.server_error(request)
