"""Admin for the encounters part of the record: encounters with their care teams, break-the-glass grants."""

from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from emr.models import BreakGlassAccess, CareTeamMember, Encounter
from emr.services.access import break_glass_review
from hospital.core.admin_view_only import ViewOnlyAdmin


class CareTeamMemberInline(admin.TabularInline):
    model = CareTeamMember
    extra = 0
    fields = ("user", "role", "created_at")
    readonly_fields = ("user", "role", "created_at")
    can_delete = False

    def has_add_permission(self, request, obj=None) -> bool:
        return False


@admin.register(Encounter)
class EncounterAdmin(ViewOnlyAdmin):
    """View-only: encounters and care teams decide who reads a record, so they change only through
    emr.services.encounters, which validate and access-log every change."""

    list_display = ("started_at", "patient", "encounter_class", "status", "attending", "ward", "ended_at")
    list_filter = ("encounter_class", "status", "ward")
    search_fields = ("=patient__mrn", "patient__family_name", "attending__username")
    list_select_related = ("patient", "attending", "ward")
    date_hierarchy = "started_at"
    readonly_fields = ("external_id", "created_at", "updated_at")
    raw_id_fields = ("patient", "attending", "ward")
    inlines = [CareTeamMemberInline]


class ReviewStatusFilter(admin.SimpleListFilter):
    title = _("review")
    parameter_name = "reviewed"

    def lookups(self, request, model_admin):
        return [("no", _("Not reviewed")), ("yes", _("Reviewed"))]

    def queryset(self, request, queryset):
        if self.value() == "no":
            return queryset.filter(reviewed_at__isnull=True)
        if self.value() == "yes":
            return queryset.filter(reviewed_at__isnull=False)
        return queryset


@admin.register(BreakGlassAccess)
class BreakGlassAccessAdmin(admin.ModelAdmin):
    """Grants are read-only. Saving an unreviewed grant records the review (with the note, which may be blank)
    through emr.services.access.break_glass_review: auditors and administrators only, never their own grant."""

    list_display = ("created_at", "user", "patient", "expires_at", "reviewed_at", "reviewed_by")
    list_filter = (ReviewStatusFilter,)
    search_fields = ("user__username", "=patient__mrn", "reason")
    list_select_related = ("user", "patient", "reviewed_by")
    date_hierarchy = "created_at"
    fields = (
        "external_id", "user", "patient", "reason", "created_at", "expires_at", "reviewed_at", "reviewed_by",
        "review_note",
    )  # fmt: skip
    readonly_fields = (
        "external_id", "user", "patient", "reason", "created_at", "expires_at", "reviewed_at", "reviewed_by",
    )  # fmt: skip

    def has_add_permission(self, request) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False

    def get_readonly_fields(self, request, obj=None):
        # A reviewed grant stays as reviewed: the note is editable only until the review is recorded.
        if obj is not None and obj.reviewed_at is not None:
            return (*self.readonly_fields, "review_note")
        return self.readonly_fields

    def save_model(self, request, obj, form, change):
        # The review goes through the service: role check, no self-review, row lock, access-log entry.
        if obj.reviewed_at is None:
            break_glass_review(grant=obj, reviewed_by=request.user, note=form.cleaned_data.get("review_note", ""))
