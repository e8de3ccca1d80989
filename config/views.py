import logging
import uuid

from django.core.cache import cache
from django.core.exceptions import DisallowedHost
from django.db import connection
from django.http import JsonResponse
from django.views import defaults
from django.views.decorators.csrf import csrf_exempt
from django.views.generic import TemplateView
from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import serializers, status
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView

logger = logging.getLogger(__name__)

HealthSerializer = inline_serializer(
    "Health",
    fields={
        "status": serializers.CharField(),
        "checks": serializers.DictField(child=serializers.CharField(), required=False),
    },
)


class LivenessView(APIView):
    """The process answers; touches neither the database nor the cache."""

    authentication_classes = []
    permission_classes = [AllowAny]

    @extend_schema(responses={200: HealthSerializer}, tags=["health"])
    def get(self, request):
        return Response({"status": "ok"})


class ReadinessView(APIView):
    """Ready when the database answers; a failing cache only degrades the service."""

    authentication_classes = []
    permission_classes = [AllowAny]

    @extend_schema(responses={200: HealthSerializer, 503: HealthSerializer}, tags=["health"])
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
