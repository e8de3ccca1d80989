"""
The refresh token as an HttpOnly cookie, for browser SPAs (`JWT_REFRESH_COOKIE`).

A token that JavaScript can read is stolen by any XSS; this cookie is out of its reach. The
SPA keeps only the short-lived access token, in memory. The token views and logout set, read
and clear the cookie through these functions; `RefreshCookieCsrfCheck` keeps other sites from
making the browser use it.
"""

import posixpath
from collections.abc import Mapping

from django.conf import settings
from django.urls import reverse
from django.utils.http import parse_header_parameters
from rest_framework_simplejwt.settings import api_settings as jwt_settings

REFRESH_COOKIE = "refresh_token"


def enabled() -> bool:
    return settings.JWT_REFRESH_COOKIE


def cookie_path() -> str:
    """The prefix of the URLs that read the cookie (`/api/v1/auth/`): no other URL receives it."""
    return posixpath.commonpath([reverse("auth-token-refresh"), reverse("auth-logout")]) + "/"


def _set(response, value: str, max_age: int) -> None:
    response.set_cookie(
        REFRESH_COOKIE,
        value,
        max_age=max_age,
        path=cookie_path(),
        secure=settings.JWT_REFRESH_COOKIE_SECURE,
        httponly=True,
        samesite=settings.JWT_REFRESH_COOKIE_SAMESITE,
    )


def set_refresh_cookie(response, refresh: str) -> None:
    _set(response, refresh, int(jwt_settings.REFRESH_TOKEN_LIFETIME.total_seconds()))


def clear_refresh_cookie(response) -> None:
    """Expires the cookie with the attributes it was set with, so the browser drops that one."""
    if enabled():
        _set(response, "", 0)


def move_refresh_to_cookie(response):
    """In cookie mode, a new refresh token leaves the JSON body for the cookie."""
    if enabled() and "refresh" in response.data:
        set_refresh_cookie(response, response.data.pop("refresh"))
    return response


def is_sent(request) -> bool:
    return enabled() and REFRESH_COOKIE in request.COOKIES


def is_used(request) -> bool:
    """The request authenticates with the cookie: it sends one and no token in its body."""
    if not is_sent(request):
        return False
    data = request.data
    return not (isinstance(data, Mapping) and "refresh" in data)


def refresh_data(request):
    """The body, or `{"refresh": <the cookie>}` when the request authenticates with the cookie."""
    if is_used(request):
        return {"refresh": request.COOKIES[REFRESH_COOKIE]}
    return request.data


def has_json_body(request) -> bool:
    content_type, _ = parse_header_parameters(request.META.get("CONTENT_TYPE", ""))
    return content_type == "application/json"


def origin_allowed(request) -> bool:
    """`Origin` is the API's own or one of `CORS_ALLOWED_ORIGINS`."""
    origin = request.headers.get("Origin", "").lower()
    allowed = {f"{request.scheme}://{request.get_host()}", *settings.CORS_ALLOWED_ORIGINS}
    return bool(origin) and origin in {url.lower().rstrip("/") for url in allowed}
