"""The admin of a soft-deleted model, as a `ModelAdmin` to subclass (core registers nothing)."""

from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.contrib.admin.models import CHANGE, LogEntry
from django.contrib.admin.utils import model_ngettext
from django.core.exceptions import ValidationError
from django.template.response import TemplateResponse

from . import services


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


class SoftDeleteAdmin(admin.ModelAdmin):
    """
    Live and deleted rows together (over `all_objects`), filterable by state, with when and
    by whom each was deleted. Deleting here soft-deletes, like the API; "Restore selected"
    undoes it (refusing, with a message, rows whose place a live row has taken) and "Delete
    selected permanently", after a confirmation page, is the only way to remove rows for good.

    Subclasses add their own columns around `deletion_columns`, e.g.
    `list_display = ("title", "owner", *SoftDeleteAdmin.deletion_columns)`.
    """

    deletion_columns = ("deleted_at", "deleted_by")
    list_display = ("__str__", *deletion_columns)
    list_filter = (StateFilter, "deleted_at")
    list_select_related = ("deleted_by",)
    readonly_fields = deletion_columns
    actions = ["restore_selected", "hard_delete_selected"]
    hard_delete_confirmation_template = None

    def get_queryset(self, request):
        # Not `super()`: that starts from the default manager, which hides deleted rows.
        queryset = self.model.all_objects.get_queryset()
        ordering = self.get_ordering(request)
        return queryset.order_by(*ordering) if ordering else queryset

    def delete_model(self, request, obj):
        services.soft_delete(instance=obj, by=request.user)

    def delete_queryset(self, request, queryset):
        queryset.delete(by=request.user)

    @admin.action(description="Restore selected %(verbose_name_plural)s", permissions=["change"])
    def restore_selected(self, request, queryset):
        deleted = queryset.dead()
        logged = list(deleted)
        try:
            count = deleted.restore()
        except ValidationError as exc:
            self.message_user(
                request, f"Nothing was restored. {' '.join(exc.messages)}", messages.ERROR
            )
            return
        LogEntry.objects.log_actions(
            user_id=request.user.pk, queryset=logged, action_flag=CHANGE, change_message="Restored."
        )
        self.message_user(
            request, f"Restored {count} {model_ngettext(self.opts, count)}.", messages.SUCCESS
        )

    @admin.action(
        description="Delete selected %(verbose_name_plural)s permanently", permissions=["delete"]
    )
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
        app_label, model_name = self.opts.app_label, self.opts.model_name
        return TemplateResponse(
            request,
            self.hard_delete_confirmation_template
            or [
                f"admin/{app_label}/{model_name}/hard_delete_selected_confirmation.html",
                f"admin/{app_label}/hard_delete_selected_confirmation.html",
                "admin/hard_delete_selected_confirmation.html",
            ],
            context,
        )
