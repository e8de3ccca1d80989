"""
The project's URLs with the bench's diagnostic endpoint (`bench.views`) right after
`health/live/`, whose view it extends: it resolves at the cost `health/live/` does (one more
pattern tried) and gets what the middleware gives every API response. The project's own URLs
resolve as they would without it. A server started with `DJANGO_SETTINGS_MODULE=bench.settings`
serves both.
"""

from django.urls import include, path

from bench.views import RoundTripView
from config import urls as project
from config.urls import handler400, handler404, handler500

api_v1 = list(project.api_v1)
live = next(route for route in api_v1 if getattr(route, "name", None) == "health-live")
api_v1.insert(
    api_v1.index(live) + 1, path("bench/round-trip/<uuid:user_id>/", RoundTripView.as_view())
)
urlpatterns = [
    path("api/v1/", include(api_v1)) if str(route.pattern) == "api/v1/" else route
    for route in project.urlpatterns
]

__all__ = ["handler400", "handler404", "handler500", "urlpatterns"]
