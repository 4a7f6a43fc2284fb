"""Admin for the clinical part of the record: ICD-10 reference data, and view-only conditions, allergies, orders."""

from django.contrib import admin

from emr.models import Allergy, Condition, Icd10Code, MedicationOrder
from hospital.core.admin_view_only import ViewOnlyAdmin


@admin.register(Icd10Code)
class Icd10CodeAdmin(admin.ModelAdmin):
    """WHO ICD-10 comes from its data migration; only a superuser may correct an entry (a Chinese title, say)."""

    list_display = ("code", "title", "title_zh", "kind", "is_leaf")
    list_filter = ("kind", "is_leaf")
    search_fields = ("code", "title", "title_zh")
    ordering = ("code",)
    readonly_fields = ("code", "kind", "parent_code", "is_leaf")
    show_full_result_count = False

    def has_add_permission(self, request) -> bool:
        return request.user.is_superuser

    def has_change_permission(self, request, obj=None) -> bool:
        return request.user.is_superuser

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


@admin.register(Condition)
class ConditionAdmin(ViewOnlyAdmin):
    list_display = ("patient", "icd10", "clinical_status", "verification", "onset_date", "created_at")
    list_filter = ("clinical_status", "verification")
    list_select_related = ("patient", "icd10")
    search_fields = ("=patient__mrn", "icd10__code")
    raw_id_fields = ("patient", "encounter", "icd10", "recorded_by")
    date_hierarchy = "created_at"


@admin.register(Allergy)
class AllergyAdmin(ViewOnlyAdmin):
    list_display = ("patient", "substance", "category", "severity", "status", "created_at")
    list_filter = ("category", "severity", "status")
    list_select_related = ("patient",)
    search_fields = ("=patient__mrn", "substance")
    raw_id_fields = ("patient", "drug", "recorded_by")
    date_hierarchy = "created_at"


@admin.register(MedicationOrder)
class MedicationOrderAdmin(ViewOnlyAdmin):
    list_display = ("patient", "drug", "dose", "dose_unit", "route", "frequency", "status", "ordered_at")
    list_filter = ("status", "route", "frequency")
    list_select_related = ("patient", "drug")
    search_fields = ("=patient__mrn", "drug__generic_name_en", "drug__generic_name_zh")
    raw_id_fields = ("patient", "encounter", "drug", "ordered_by")
    date_hierarchy = "ordered_at"
