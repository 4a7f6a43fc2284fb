"""Admin for rooms, bed stays, blocks, cleaning and ADT events.

Bed stays and ADT events are view-only here: they change only through the ADT services, which lock
rows, keep the exclusion constraints satisfied, write the ADT event and log the access.
"""

from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from hospital.core.admin_view_only import ViewOnlyAdmin
from scheduling.models import AdtEvent, BedBlock, BedCleaning, BedStay, Room


@admin.register(Room)
class RoomAdmin(admin.ModelAdmin):
    list_display = ("__str__", "ward", "code", "sex_policy", "is_isolation")
    list_filter = ("sex_policy", "is_isolation", "ward")
    search_fields = ("code", "ward__code", "ward__name_en", "ward__name_zh")
    list_select_related = ("ward",)
    readonly_fields = ("external_id", "created_at", "updated_at")


@admin.register(BedStay)
class BedStayAdmin(ViewOnlyAdmin):
    list_display = ("bed", "encounter", "started", "ended", "end_reason", "expected_discharge_on")
    list_filter = ("end_reason", "bed__ward")
    search_fields = ("bed__code", "bed__ward__code", "encounter__patient__mrn")
    list_select_related = ("bed__ward", "encounter__patient")
    raw_id_fields = ("bed", "encounter", "started_by", "ended_by")

    @admin.display(description=_("start"), ordering="period")
    def started(self, stay: BedStay):
        return stay.period.lower

    @admin.display(description=_("end"))
    def ended(self, stay: BedStay):
        return stay.period.upper


@admin.register(BedBlock)
class BedBlockAdmin(admin.ModelAdmin):
    """Blocks are best made on the API or bed board (which refuse an occupied bed); the admin can correct them."""

    list_display = ("bed", "reason", "period", "created_by")
    list_filter = ("bed__ward",)
    search_fields = ("bed__code", "bed__ward__code", "reason")
    list_select_related = ("bed__ward", "created_by")
    raw_id_fields = ("bed", "created_by")
    readonly_fields = ("external_id", "created_at", "updated_at")


@admin.register(BedCleaning)
class BedCleaningAdmin(admin.ModelAdmin):
    list_display = ("bed", "requested_at", "completed_at", "completed_by")
    list_filter = ("bed__ward",)
    search_fields = ("bed__code", "bed__ward__code")
    list_select_related = ("bed__ward", "completed_by")
    raw_id_fields = ("bed", "stay", "completed_by")
    readonly_fields = ("external_id", "created_at", "updated_at")


@admin.register(AdtEvent)
class AdtEventAdmin(ViewOnlyAdmin):
    list_display = ("occurred_at", "event_type", "patient", "from_bed", "to_bed", "recorded_by", "dispatched_at")
    list_filter = ("event_type",)
    search_fields = ("patient__mrn",)
    list_select_related = ("patient", "from_bed__ward", "to_bed__ward", "recorded_by")
    date_hierarchy = "occurred_at"
