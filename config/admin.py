import math

from django.contrib import admin
from django.contrib.auth.decorators import login_not_required
from django.template.response import TemplateResponse
from django.utils.decorators import method_decorator
from django.views.decorators.cache import never_cache

from accounts.throttles import LoginRateThrottle


class AdminSite(admin.AdminSite):
    """
    Django's admin site, with sign-in attempts throttled like the API's: per client address
    at `THROTTLE_LOGIN_RATE`, in the same budget as `auth/token/`, and still while Redis is
    down. Only attempts (POSTs) count; showing the form is free.

    Not django-axes: it counts failed sign-ins only (through `user_login_failed`) towards a
    lockout with a cool-off, in counters of its own, so it cannot share one budget with the
    API's DRF throttle, which counts every attempt in a sliding window; and its cache
    handler has no fallback: on the cache alias that swallows Redis errors it would stop
    counting while Redis is down, on one that raises it would fail every sign-in.
    """

    @method_decorator(never_cache)
    @login_not_required
    def login(self, request, extra_context=None):
        if request.method == "POST":
            throttle = LoginRateThrottle()
            if not throttle.allow_request(request, view=None):
                return self.login_throttled(request, wait=throttle.wait())
        return super().login(request, extra_context)

    def login_throttled(self, request, *, wait):
        retry_after = math.ceil(wait) if wait is not None else None
        context = {
            **self.each_context(request),
            "title": "Too many sign-in attempts",
            "retry_after": retry_after,
        }
        response = TemplateResponse(request, "admin/login_throttled.html", context, status=429)
        if retry_after is not None:
            response["Retry-After"] = str(retry_after)
        return response
