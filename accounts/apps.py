from django.apps import AppConfig


class AccountsConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "accounts"

    def ready(self):
        # Registers the system checks and the OpenAPI authentication scheme.
        from . import checks, schema  # noqa: F401
