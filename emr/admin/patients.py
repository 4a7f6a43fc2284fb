"""Admin of patients (view-only, identifiers masked) and of merges (with a reverse action)."""

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from emr.models import Patient, PatientMerge
from emr.services.merge import merge_allowed, patient_merge_reverse
from hospital.core.admin_view_only import ViewOnlyAdmin


def _masked(value: str | None, *, keep_start: int = 0, keep_end: int = 4) -> str:
    # The admin lists many patients at once: enough to tell them apart, never the identifier itself.
    if not value:
        return "-"
    if len(value) <= keep_start + keep_end:
        return "*" * len(value)
    return value[:keep_start] + "*" * (len(value) - keep_start - keep_end) + value[-keep_end:]


@admin.register(Patient)
class PatientAdmin(ViewOnlyAdmin):
    """View-only: patient data is written through emr.services, which keep the access log complete.

    Identifiers are shown masked; the full values are on the patient's record in the application, whose
    reads are access-logged.
    """

    list_display = (
        "mrn", "family_name", "given_name", "sex", "birth_date", "masked_national_id", "masked_phone",
        "allergy_status", "is_active", "created_at",
    )  # fmt: skip
    list_filter = ("is_active", "sex", "allergy_status")
    search_fields = ("=mrn", "family_name", "given_name")
    fields = (
        "mrn", "external_id", "family_name", "given_name", "sex", "birth_date", "allergy_status",
        "masked_national_id", "masked_phone", "masked_insurance_number", "is_active", "merged_into",
        "created_at", "updated_at",
    )  # fmt: skip
    readonly_fields = fields
    date_hierarchy = "created_at"
    list_select_related = ("merged_into",)

    @admin.display(description=_("national ID"))
    def masked_national_id(self, obj: Patient) -> str:
        return _masked(obj.national_id, keep_start=4, keep_end=4)

    @admin.display(description=_("phone"))
    def masked_phone(self, obj: Patient) -> str:
        return _masked(obj.phone)

    @admin.display(description=_("insurance number"))
    def masked_insurance_number(self, obj: Patient) -> str:
        return _masked(obj.insurance_number)


@admin.register(PatientMerge)
class PatientMergeAdmin(ViewOnlyAdmin):
    """Merges of duplicate registrations; administrators reverse one with the action. Merges are made in the API."""

    list_display = ("created_at", "survivor", "duplicate", "performed_by", "reversed_at", "reversed_by")
    list_filter = ("reversed_at",)
    search_fields = ("=survivor__mrn", "=duplicate__mrn")
    readonly_fields = (
        "external_id", "survivor", "duplicate", "reason", "moved", "performed_by", "created_at", "reversed_at",
        "reversed_by",
    )  # fmt: skip
    fields = readonly_fields
    list_select_related = ("survivor", "duplicate", "performed_by", "reversed_by")
    actions = ["reverse_merges"]

    # Merging is the administrator role's job, which holds no emr permissions: the role decides here.
    def has_module_permission(self, request) -> bool:
        return merge_allowed(request.user)

    def has_view_permission(self, request, obj=None) -> bool:
        return merge_allowed(request.user)

    def get_actions(self, request):
        # The changelist hides actions a user lacks permission for; reversing is allowed to whoever may view.
        actions = super().get_actions(request)
        if not merge_allowed(request.user):
            actions.pop("reverse_merges", None)
        return actions

    @admin.action(description=_("Reverse the selected merges"))
    def reverse_merges(self, request, queryset):
        reversed_count = 0
        for merge in queryset.order_by("-created_at", "-id"):  # newest first: a later merge must go first
            try:
                patient_merge_reverse(merge=merge, reversed_by=request.user)
            except (ValidationError, PermissionDenied) as exc:
                reason = " ".join(exc.messages) if isinstance(exc, ValidationError) else str(exc)
                messages.error(request, f"{merge.duplicate} → {merge.survivor}: {reason}")
            else:
                reversed_count += 1
        if reversed_count:
            messages.success(
                request,
                ngettext("%(n)d merge reversed.", "%(n)d merges reversed.", reversed_count) % {"n": reversed_count},
            )
