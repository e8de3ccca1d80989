from django.contrib import admin

from core.admin import SoftDeleteAdmin

from .models import Note


@admin.register(Note)
class NoteAdmin(SoftDeleteAdmin):
    list_display = ("slug", "title", "owner", *SoftDeleteAdmin.deletion_columns)
    search_fields = ("slug", "title")
