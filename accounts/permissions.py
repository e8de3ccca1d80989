from rest_framework.permissions import BasePermission

from . import cookies


class RefreshCookieCsrfCheck(BasePermission):
    """
    Browsers send the refresh cookie with requests that other sites start, too. A request
    carrying it must have a JSON body, which a cross-site form cannot send and a cross-origin
    script cannot without a CORS preflight that only allowed origins pass. One that
    authenticates with it must also come from the API's own origin or an allowed CORS origin,
    named by `Origin`, which browsers set on every POST and pages cannot forge.
    """

    message = (
        "A request authenticated by the refresh-token cookie needs a JSON body and must come "
        "from an allowed origin."
    )

    def has_permission(self, request, view):
        if not cookies.is_sent(request):
            return True
        if not cookies.has_json_body(request):
            return False
        return not cookies.is_used(request) or cookies.origin_allowed(request)
