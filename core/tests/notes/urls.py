"""The project's URLs plus `/api/v1/notes/`; tests of the notes resource switch to it."""

from django.urls import include, path
from rest_framework.routers import SimpleRouter

from config.urls import handler400, handler404, handler500
from config.urls import urlpatterns as project_urlpatterns

from .views import NoteViewSet

router = SimpleRouter()
router.register("notes", NoteViewSet, basename="note")

urlpatterns = [path("api/v1/", include(router.urls)), *project_urlpatterns]

__all__ = ["handler400", "handler404", "handler500", "urlpatterns"]
