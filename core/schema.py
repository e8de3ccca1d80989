"""The error answers every API documents, for `extend_schema(responses=...)` and `config.schema`."""

from drf_spectacular.utils import OpenApiResponse

from .serializers import DetailSerializer, UnauthorizedSerializer

INVALID = OpenApiResponse(description="Invalid input; the body names the fields at fault.")
UNAUTHENTICATED = OpenApiResponse(
    UnauthorizedSerializer, description="Missing, invalid or expired access token."
)
FORBIDDEN = OpenApiResponse(DetailSerializer, description="The caller is not a superuser.")
NOT_FOUND = OpenApiResponse(DetailSerializer, description="No such object or page.")
THROTTLED = OpenApiResponse(
    DetailSerializer, description="Too many requests; `Retry-After` says when to try again."
)
