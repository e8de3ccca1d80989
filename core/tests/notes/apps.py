from django.apps import AppConfig


class NotesConfig(AppConfig):
    """A second resource, installed by the test settings only, that proves the core reusable."""

    default_auto_field = "django.db.models.BigAutoField"
    name = "core.tests.notes"
    label = "notes"
