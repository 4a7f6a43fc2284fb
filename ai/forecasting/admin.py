"""Admin of forecasting: the runs (with "run now"), the model registry, forecasts and plan entries, view-only.

Rows are written by the nightly job; the admin looks them up and queues a run on demand.
"""

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.shortcuts import redirect
from django.urls import path, reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from ai.forecasting.models import BedPlanEntry, ForecastModel, ForecastRun, WardForecast
from ai.forecasting.selectors import may_manage
from ai.forecasting.services import forecast_run_request
from hospital.core.admin_view_only import ViewOnlyAdmin


@admin.register(ForecastRun)
class ForecastRunAdmin(ViewOnlyAdmin):
    list_display = ("night", "status", "stage", "progress", "duration_seconds", "model", "requested_by", "attempts")
    list_filter = ("status",)
    list_select_related = ("model", "requested_by")
    date_hierarchy = "night"
    actions = ["run_selected_again"]
    # The change list has a "Run tonight's forecast now" button (templates/admin/.../change_list.html).

    def has_module_permission(self, request) -> bool:
        return may_manage(request.user) or super().has_module_permission(request)

    def has_view_permission(self, request, obj=None) -> bool:
        return may_manage(request.user) or super().has_view_permission(request, obj)

    def get_actions(self, request):
        actions = super().get_actions(request)
        if not may_manage(request.user):
            actions.pop("run_selected_again", None)
        return actions

    def get_urls(self):
        run_now = path(
            "run-now/", self.admin_site.admin_view(self.run_now_view), name="forecasting_forecastrun_run_now"
        )
        return [run_now, *super().get_urls()]

    def changelist_view(self, request, extra_context=None):
        extra = {"may_run": may_manage(request.user), **(extra_context or {})}
        return super().changelist_view(request, extra_context=extra)

    def run_now_view(self, request):
        """POST: queue tonight's run (bed managers and administrators), then back to the list."""
        if request.method != "POST" or not may_manage(request.user):
            raise PermissionDenied
        run, queued = forecast_run_request(requested_by=request.user)
        self._report(request, run, queued)
        return redirect(reverse("admin:forecasting_forecastrun_changelist"))

    @admin.action(description=gettext_lazy("Run the selected nights again if they failed"))
    def run_selected_again(self, request, queryset):
        for selected in queryset:
            run, queued = forecast_run_request(night=selected.night, requested_by=request.user)
            self._report(request, run, queued)

    def _report(self, request, run: ForecastRun, queued: bool) -> None:
        night = run.night.isoformat()
        if queued:
            self.message_user(request, _("The forecast of %(night)s is queued.") % {"night": night}, messages.SUCCESS)
        else:
            self.message_user(
                request,
                _("The forecast of %(night)s is %(status)s; it is not run twice.")
                % {"night": night, "status": run.get_status_display()},
                messages.INFO,
            )


@admin.register(ForecastModel)
class ForecastModelAdmin(ViewOnlyAdmin):
    list_display = ("version", "model_name", "status", "scope", "window_start", "window_end", "serving_since")
    list_filter = ("status", "model_name", "scope")
    readonly_fields = [field.name for field in ForecastModel._meta.fields]

    def has_module_permission(self, request) -> bool:
        return may_manage(request.user) or super().has_module_permission(request)

    def has_view_permission(self, request, obj=None) -> bool:
        return may_manage(request.user) or super().has_view_permission(request, obj)


@admin.register(WardForecast)
class WardForecastAdmin(ViewOnlyAdmin):
    list_display = ("target_date", "ward", "model_name", "mean", "q025", "q975", "capacity", "origin")
    list_filter = ("ward", "model_name")
    list_select_related = ("ward",)
    date_hierarchy = "target_date"


@admin.register(BedPlanEntry)
class BedPlanEntryAdmin(ViewOnlyAdmin):
    list_display = ("day", "action", "ward", "to_ward", "patients", "same_specialty", "run")
    list_filter = ("action",)
    list_select_related = ("ward", "to_ward", "run")
