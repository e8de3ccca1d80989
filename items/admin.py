from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.contrib.admin.models import CHANGE, LogEntry
from django.contrib.admin.utils import model_ngettext
from django.template.response import TemplateResponse

from . import services
from .models import Item


class StateFilter(admin.SimpleListFilter):
    title = "state"
    parameter_name = "state"

    def lookups(self, request, model_admin):
        return [("live", "Live"), ("deleted", "Deleted")]

    def queryset(self, request, queryset):
        if self.value() == "live":
            return queryset.alive()
        if self.value() == "deleted":
            return queryset.dead()
        return queryset


@admin.register(Item)
class ItemAdmin(admin.ModelAdmin):
    """
    Live and deleted items together (over `all_objects`). Deleting here soft-deletes,
    like the API; "Delete permanently" is the only way to remove rows for good.
    """

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
    actions = ["restore_selected", "hard_delete_selected"]

    def get_queryset(self, request):
        # Not `super()`: that starts from the default manager, which hides deleted rows.
        queryset = Item.all_objects.get_queryset()
        ordering = self.get_ordering(request)
        return queryset.order_by(*ordering) if ordering else queryset

    def delete_model(self, request, obj):
        services.item_soft_delete(item=obj, by=request.user)

    def delete_queryset(self, request, queryset):
        queryset.delete(by=request.user)

    @admin.action(description="Restore selected items", permissions=["change"])
    def restore_selected(self, request, queryset):
        deleted = queryset.dead()
        LogEntry.objects.log_actions(
            user_id=request.user.pk,
            queryset=deleted,
            action_flag=CHANGE,
            change_message="Restored.",
        )
        count = deleted.restore()
        self.message_user(
            request,
            f"Restored {count} {model_ngettext(self.opts, count)}.",
            messages.SUCCESS,
        )

    @admin.action(description="Delete selected items permanently", permissions=["delete"])
    def hard_delete_selected(self, request, queryset):
        """Like Django's own bulk delete: a confirmation page first, then a real DELETE."""
        if request.POST.get("post"):
            count = queryset.count()
            self.log_deletions(request, queryset)
            queryset.hard_delete()
            self.message_user(
                request,
                f"Permanently deleted {count} {model_ngettext(self.opts, count)}.",
                messages.SUCCESS,
            )
            return None
        context = {
            **self.admin_site.each_context(request),
            "title": "Delete permanently",
            "subtitle": None,
            "objects_name": str(model_ngettext(queryset)),
            "queryset": queryset,
            "opts": self.opts,
            "action_checkbox_name": helpers.ACTION_CHECKBOX_NAME,
            "media": self.media,
        }
        request.current_app = self.admin_site.name
        return TemplateResponse(
            request, "admin/items/item/hard_delete_selected_confirmation.html", context
        )
