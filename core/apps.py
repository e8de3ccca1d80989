from django.apps import AppConfig


class CoreConfig(AppConfig):
    """What every resource reuses: soft delete, per-owner page caching, the shared API pieces."""

    default_auto_field = "django.db.models.BigAutoField"
    name = "core"

    def ready(self):
        from . import signals

        signals.connect_page_cache_receivers()
