"""Admin of the alerts: NEWS2 scores, SpO2 scale 2 orders, alerts of every kind and their history, view-only.

They are written by the evaluation tasks and the services (which keep the history and the access log); the
admin is for looking things up, so it offers no add, change or delete.
"""

from django.contrib import admin

from ai.models import Alert, AlertEvent, News2Score, Spo2Scale2Order
from hospital.core.admin_view_only import ViewOnlyAdmin, ViewOnlyPermissions


class AlertEventInline(ViewOnlyPermissions, admin.TabularInline):
    model = AlertEvent
    fields = ("created_at", "action", "actor", "from_status", "to_status", "severity", "note")
    readonly_fields = fields
    extra = 0
    can_delete = False
    show_change_link = False


@admin.register(Alert)
class AlertAdmin(ViewOnlyAdmin):
    list_display = (
        "created_at",
        "kind",
        "severity",
        "status",
        "title",
        "patient",
        "ward",
        "occurrences",
        "last_seen_at",
        "assigned_to",
    )
    list_filter = ("kind", "severity", "status", "ward")
    list_select_related = ("patient", "ward", "assigned_to")
    search_fields = ("title", "patient__mrn", "dedup_key")
    date_hierarchy = "created_at"
    inlines = [AlertEventInline]


@admin.register(AlertEvent)
class AlertEventAdmin(ViewOnlyAdmin):
    list_display = ("created_at", "alert", "action", "actor", "from_status", "to_status", "severity")
    list_filter = ("action", "to_status", "alert__kind")
    list_select_related = ("alert", "actor")
    search_fields = ("alert__title", "alert__patient__mrn", "note")
    date_hierarchy = "created_at"


@admin.register(News2Score)
class News2ScoreAdmin(ViewOnlyAdmin):
    list_display = ("taken_at", "patient", "total", "risk", "complete", "spo2_scale", "ward")
    list_filter = ("risk", "complete", "spo2_scale", "ward")
    list_select_related = ("patient", "ward")
    search_fields = ("patient__mrn",)


@admin.register(Spo2Scale2Order)
class Spo2Scale2OrderAdmin(ViewOnlyAdmin):
    list_display = ("created_at", "patient", "ordered_by", "reason")
    list_select_related = ("patient", "ordered_by")
    search_fields = ("patient__mrn",)
