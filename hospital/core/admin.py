"""Admin of the core app."""

from django.contrib import admin

from hospital.core.admin_view_only import ViewOnlyAdmin
from hospital.core.models import AccessLog

# --- access log: read-only ---------------------------------------------------------------------
# The database refuses changes anyway; the admin offers none, so nobody meets a database error.


@admin.register(AccessLog)
class AccessLogAdmin(ViewOnlyAdmin):
    list_display = ["id", "occurred_at", "actor_username", "actor_kind", "action", "object_type", "patient_external_id"]
    list_filter = ["action", "channel", "actor_kind"]
    search_fields = ["=actor_username", "=patient_external_id", "=object_id", "=request_id"]
    date_hierarchy = "occurred_at"
    ordering = ["-id"]
    show_full_result_count = False  # counting millions of rows on every page is slow

    def get_readonly_fields(self, request, obj=None):
        return [field.name for field in self.model._meta.fields]
