from django.conf import settings
from django.core.checks import Error, Tags, Warning, register

SAMESITE_VALUES = ("Lax", "Strict", "None")


@register(Tags.security)
def check_refresh_cookie(app_configs, **kwargs):
    """Cookie mode set up so that browsers drop the refresh-token cookie, or no SPA can use it."""
    if not settings.JWT_REFRESH_COOKIE:
        return []
    samesite = settings.JWT_REFRESH_COOKIE_SAMESITE
    if samesite not in SAMESITE_VALUES:
        return [
            Error(
                f"JWT_REFRESH_COOKIE_SAMESITE is {samesite!r}.",
                hint=f"Use one of {', '.join(SAMESITE_VALUES)}; Lax suits an SPA on the "
                "API's site.",
                id="accounts.E001",
            )
        ]
    messages = []
    if samesite == "None" and not settings.JWT_REFRESH_COOKIE_SECURE:
        messages.append(
            Warning(
                "The refresh-token cookie is SameSite=None without Secure (DJANGO_DEBUG is on).",
                hint="Browsers reject such a cookie, so nobody stays signed in. Use "
                "JWT_REFRESH_COOKIE_SAMESITE=Lax and serve the SPA on the API's site.",
                id="accounts.W001",
            )
        )
    if not settings.DEBUG and not settings.CORS_ALLOWED_ORIGINS:
        messages.append(
            Warning(
                "JWT_REFRESH_COOKIE is on but CORS_ALLOWED_ORIGINS is empty.",
                hint="Only pages served by the API itself can then refresh with the cookie. "
                "Set CORS_ALLOWED_ORIGINS to the SPA's origin, e.g. https://app.example.com.",
                id="accounts.W002",
            )
        )
    return messages
