"""Admin of the alerts: NEWS2 scores, SpO2 scale 2 orders and alerts, view-only.

They are written by the evaluation tasks and the services (which keep the access log); the admin is
for looking things up, so it offers no add, change or delete.
"""

from django.contrib import admin

from ai.models import Alert, News2Score, Spo2Scale2Order
from hospital.core.admin_view_only import ViewOnlyAdmin


@admin.register(Alert)
class AlertAdmin(ViewOnlyAdmin):
    list_display = ("created_at", "kind", "severity", "status", "title", "patient", "ward", "acknowledged_by")
    list_filter = ("kind", "severity", "status", "ward")
    list_select_related = ("patient", "ward", "acknowledged_by")
    search_fields = ("title", "patient__mrn")
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
