import logging

from django.apps import AppConfig
from django.conf import settings
from django.contrib.admin import apps as admin_apps


class ProjectConfig(AppConfig):
    """The project package as an app: project-wide system checks and operations commands."""

    name = "config"
    verbose_name = "Project"

    def ready(self):
        from . import checks  # noqa: F401  (registers the system checks)

        if settings.LOG_FORMAT == "json":
            # Python's warnings go to stderr as plain text; as log records they are JSON too.
            logging.captureWarnings(True)


class AdminConfig(admin_apps.AdminConfig):
    """Django's admin on the project's site (`config.admin.AdminSite`)."""

    default_site = "config.admin.AdminSite"
    # Not the "config" app's own configuration: that is ProjectConfig.
    default = False
