from django.apps import AppConfig


class ProjectConfig(AppConfig):
    """The project package as an app: project-wide system checks and operations commands."""

    name = "config"
    verbose_name = "Project"

    def ready(self):
        from . import checks  # noqa: F401  (registers the system checks)
