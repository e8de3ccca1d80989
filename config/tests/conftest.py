import pytest
from django.urls import path

from config import urls as project_urls


@pytest.fixture
def exploding_urls(settings):
    """The project's URLs plus `/api/v1/boom/`, a view that raises."""

    def boom(request):
        raise RuntimeError("kaboom")

    settings.ROOT_URLCONF = type(
        "urls",
        (),
        {
            "urlpatterns": [path("api/v1/boom/", boom), *project_urls.urlpatterns],
            "handler404": project_urls.handler404,
            "handler500": project_urls.handler500,
        },
    )
