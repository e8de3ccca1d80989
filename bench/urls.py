"""
The project's URLs with the bench's diagnostic endpoint (`bench.views`) under `/api/v1/`, so
that it gets what the middleware gives every API response, as `health/live/` does. It is
tried after every other pattern but the API's catch-all 404: the project's URLs resolve as
they would without it. A server started with `DJANGO_SETTINGS_MODULE=bench.settings`
serves both.
"""

from django.urls import path

from bench.views import RoundTripView
from config.urls import handler400, handler404, handler500
from config.urls import urlpatterns as project_urlpatterns

*project_routes, api_not_found = project_urlpatterns
urlpatterns = [
    *project_routes,
    path("api/v1/bench/round-trip/<uuid:user_id>/", RoundTripView.as_view()),
    api_not_found,
]

__all__ = ["handler400", "handler404", "handler500", "urlpatterns"]
