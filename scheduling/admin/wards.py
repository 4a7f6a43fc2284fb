from django.contrib import admin

from scheduling.models import Bed, Department, Ward, WardAssignment, WardDailyCensus


class WardInline(admin.TabularInline):
    model = Ward
    extra = 0
    fields = ("code", "name_en", "name_zh", "specialty", "nursing_level")
    show_change_link = True


@admin.register(Department)
class DepartmentAdmin(admin.ModelAdmin):
    list_display = ("code", "name_en", "name_zh", "specialty")
    list_filter = ("specialty",)
    search_fields = ("code", "name_en", "name_zh")
    readonly_fields = ("external_id", "created_at", "updated_at")
    inlines = [WardInline]


class BedInline(admin.TabularInline):
    model = Bed
    extra = 0
    fields = ("code", "bed_type", "is_active")


@admin.register(Ward)
class WardAdmin(admin.ModelAdmin):
    list_display = (
        "code",
        "name_en",
        "name_zh",
        "department",
        "specialty",
        "sex_policy",
        "nursing_level",
        "isolation_capable",
    )
    list_filter = ("specialty", "sex_policy", "nursing_level", "isolation_capable", "department")
    search_fields = ("code", "name_en", "name_zh", "department__name_en", "department__name_zh")
    list_select_related = ("department",)
    readonly_fields = ("external_id", "created_at", "updated_at")
    inlines = [BedInline]


@admin.register(Bed)
class BedAdmin(admin.ModelAdmin):
    list_display = ("__str__", "ward", "code", "bed_type", "is_active")
    list_filter = ("bed_type", "is_active", "ward")
    search_fields = ("code", "ward__code", "ward__name_en", "ward__name_zh")
    list_select_related = ("ward",)
    readonly_fields = ("external_id", "created_at", "updated_at")


@admin.register(WardDailyCensus)
class WardDailyCensusAdmin(admin.ModelAdmin):
    list_display = (
        "date",
        "ward",
        "admissions",
        "discharges",
        "transfers_in",
        "transfers_out",
        "occupied_at_midnight",
        "capacity",
    )
    list_filter = ("ward",)
    search_fields = ("ward__code", "ward__name_en", "ward__name_zh")
    date_hierarchy = "date"
    list_select_related = ("ward",)
    ordering = ("-date", "ward__code")
    readonly_fields = ("external_id", "created_at", "updated_at")


@admin.register(WardAssignment)
class WardAssignmentAdmin(admin.ModelAdmin):
    """Who works on which ward, and from when to when: a current assignment opens the ward's inpatients' records
    to the user (emr.selectors.access), so changes here change who may read charts."""

    list_display = ("ward", "user", "role", "starts_on", "ends_on")
    list_filter = ("role", "ward")
    search_fields = ("user__username", "user__display_name", "ward__code", "ward__name_en", "ward__name_zh")
    list_select_related = ("ward", "user")
    date_hierarchy = "starts_on"
    raw_id_fields = ("user",)
    readonly_fields = ("external_id", "created_at", "updated_at")
