from django.contrib import admin

from emr.models import Patient


@admin.register(Patient)
class PatientAdmin(admin.ModelAdmin):
    """View-only: patient data is written through emr.services, which keep the access log complete."""

    list_display = ("mrn", "family_name", "given_name", "sex", "birth_date", "allergy_status", "created_at")
    list_filter = ("sex", "allergy_status")
    search_fields = ("=mrn", "family_name", "given_name")
    readonly_fields = ("mrn", "external_id", "created_at", "updated_at")
    date_hierarchy = "created_at"

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False
