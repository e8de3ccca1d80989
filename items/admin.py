from django.contrib import admin

from core.admin import SoftDeleteAdmin, StateFilter

from .models import Item


@admin.register(Item)
class ItemAdmin(SoftDeleteAdmin):
    list_display = ("title", "owner", "created_at", "updated_at", "deleted_at", "deleted_by")
    list_filter = (StateFilter, "created_at", "deleted_at")
    list_select_related = ("owner", "deleted_by")
    search_fields = ("title", "description", "owner__email")
    search_help_text = "Title, description or the owner's email."
    autocomplete_fields = ("owner",)
    readonly_fields = ("id", "created_at", "updated_at", "deleted_at", "deleted_by")
    fields = (
        "id",
        "owner",
        "title",
        "description",
        "created_at",
        "updated_at",
        "deleted_at",
        "deleted_by",
    )
    # The unfiltered count of a large table is a second full COUNT(*) on every page.
    show_full_result_count = False
