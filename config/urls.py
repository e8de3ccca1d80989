from django.contrib import admin
from django.urls import include, path, re_path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

from . import metrics, views

# The hot paths first: Django tries the patterns in order and records every miss.
api_v1 = [
    path("", include("items.urls")),
    path("", include("accounts.urls")),
    path("health/live/", views.LivenessView.as_view(), name="health-live"),
    path("health/ready/", views.ReadinessView.as_view(), name="health-ready"),
    path("schema/", SpectacularAPIView.as_view(), name="schema"),
    path("docs/", SpectacularSwaggerView.as_view(url_name="schema"), name="swagger-ui"),
    path("redoc/", views.RedocView.as_view(url_name="schema"), name="redoc"),
]

urlpatterns = [
    path("", views.LandingView.as_view(), name="landing"),
    path("admin/", admin.site.urls),
    path("api/v1/", include(api_v1)),
    # Prometheus, for a scraper holding METRICS_TOKEN; a 404 to anyone else.
    path("metrics", metrics.metrics_view, name="metrics"),
    # Unknown API URLs answer in JSON, in debug mode too.
    re_path(r"^api/", views.api_not_found),
]

handler400 = "config.views.handler400"
handler404 = "config.views.handler404"
handler500 = "config.views.handler500"
