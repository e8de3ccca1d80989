from django.apps import AppConfig


class AccountsConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "accounts"

    def ready(self):
        from django.db.models.signals import post_delete, post_save

        # Registers the system checks and the OpenAPI authentication scheme.
        from . import checks, schema  # noqa: F401
        from .signals import bump_auth_cache_on_delete, bump_auth_cache_on_save

        user = self.get_model("User")
        post_save.connect(bump_auth_cache_on_save, sender=user, dispatch_uid="accounts.user_saved")
        post_delete.connect(
            bump_auth_cache_on_delete, sender=user, dispatch_uid="accounts.user_deleted"
        )
