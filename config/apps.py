import logging

from django.apps import AppConfig
from django.conf import settings
from django.contrib.admin import apps as admin_apps


class ProjectConfig(AppConfig):
    """The project package as an app: system checks, operations commands, the Celery app."""

    name = "config"
    verbose_name = "Project"

    def ready(self):
        # The system checks register themselves. The Celery app is loaded here, so that
        # `@shared_task`s bind to it in every process, rather than in the package's
        # __init__, which the container's health probe imports.
        from . import celery, checks  # noqa: F401

        if settings.LOG_FORMAT == "json":
            # Python's warnings go to stderr as plain text; as log records they are JSON too.
            logging.captureWarnings(True)


class AdminConfig(admin_apps.AdminConfig):
    """Django's admin on the project's site (`config.admin.AdminSite`)."""

    default_site = "config.admin.AdminSite"
    # Not the "config" app's own configuration: that is ProjectConfig.
    default = False
