"""REST API of forecasting (/api/v1/forecasting/): ward forecasts, the bed plan, and running the nightly job.

Who may read what is decided by ai.forecasting.selectors (managers everything; ward doctors and nurses the
forecasts of their wards). Forecasts and plans are counts per ward, not patient data.
"""

from datetime import date
from typing import cast

from django.urls import path
from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import status
from rest_framework.exceptions import PermissionDenied, ValidationError
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from ai.forecasting.models import WardForecast
from ai.forecasting.selectors import bed_plan, latest_run, may_manage, run_get, visible_wards, ward_forecast_list
from ai.forecasting.serializers import (
    BedPlanOutputSerializer,
    ForecastRunInputSerializer,
    ForecastRunOutputSerializer,
    WardForecastOutputSerializer,
)
from ai.forecasting.services import forecast_run_request
from hospital.core.models import User


def _ward_forecast_data(ward, rows: list[WardForecast]) -> dict:
    first = rows[0] if rows else None
    return WardForecastOutputSerializer(
        {
            "ward": ward,
            "night": first.run.night if first else None,
            "model": first.model_name if first else "",
            "model_version": first.model.version if first and first.model else None,
            "origin": first.origin if first else None,
            "note": first.note if first else "",
            "days": rows,
        }
    ).data


class WardForecastApi(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(
        operation_id="forecasting_ward_forecast",
        responses={200: WardForecastOutputSerializer},
        description="The latest forecast of one ward (by external id): expected census at midnight and the 80 % and "
        "95 % intervals for each of the next days. Bed managers and administrators see every ward, doctors and "
        "nurses the wards they are assigned to (404 for another).",
    )
    def get(self, request: Request, external_id):
        ward, rows = ward_forecast_list(fetched_by=request.user, ward_external_id=external_id)
        return Response(_ward_forecast_data(ward, rows))


class ForecastListApi(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(
        operation_id="forecasting_forecast_list",
        responses={200: WardForecastOutputSerializer(many=True)},
        description="The latest forecast of every ward the user may see, by ward code.",
    )
    def get(self, request: Request):
        wards = list(visible_wards(fetched_by=request.user))
        run = latest_run()
        by_ward: dict[int, list[WardForecast]] = {ward.pk: [] for ward in wards}
        if run is not None:
            rows = WardForecast.objects.filter(run=run, ward__in=wards).select_related("run", "model")
            for row in rows.order_by("ward_id", "target_date"):
                by_ward[row.ward_id].append(row)
        return Response([_ward_forecast_data(ward, by_ward[ward.pk]) for ward in wards])


class PlanApi(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(
        operation_id="forecasting_plan",
        responses={200: BedPlanOutputSerializer},
        description="The cross-ward bed plan of the latest run, day by day: lends between wards, flexible beds to "
        "open and patients left unplaced at the forecast's upper quantile, each with an explanation in the "
        "request's language. Bed managers and administrators only.",
    )
    def get(self, request: Request):
        plan = bed_plan(fetched_by=request.user)
        days = [
            {
                "day": day.day,
                "recommendations": [
                    {
                        "action": entry.action,
                        "ward": entry.ward,
                        "to_ward": entry.to_ward,
                        "patients": entry.patients,
                        "same_specialty": entry.same_specialty,
                        "explanation": text,
                        "detail": entry.detail,
                    }
                    for entry, text in day.entries
                ],
            }
            for day in plan.days
        ]
        night = plan.run.night if plan.run else None
        return Response(BedPlanOutputSerializer({"night": night, "quantile": plan.quantile, "days": days}).data)


class RunApi(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(
        operation_id="forecasting_run_create",
        request=ForecastRunInputSerializer,
        responses={202: ForecastRunOutputSerializer, 200: ForecastRunOutputSerializer},
        description="Run the nightly forecast of `night` (default today) now: 202 when queued, 200 with the run "
        "as it is when that night already ran or is running (the job is idempotent per night). Bed managers "
        "and administrators only.",
    )
    def post(self, request: Request):
        if not may_manage(request.user):
            raise PermissionDenied(_("Only bed managers and administrators can run the forecast."))
        serializer = ForecastRunInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        user = cast(User, request.user)  # IsAuthenticated
        run, queued = forecast_run_request(night=serializer.validated_data.get("night"), requested_by=user)
        data = ForecastRunOutputSerializer(run).data
        data["queued"] = queued
        return Response(data, status=status.HTTP_202_ACCEPTED if queued else status.HTTP_200_OK)


class RunDetailApi(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(
        operation_id="forecasting_run_detail",
        parameters=[OpenApiParameter("night", date, OpenApiParameter.PATH, description="YYYY-MM-DD")],
        responses={200: ForecastRunOutputSerializer},
        description="A night's run: status, stage, progress, duration and notes. Bed managers and administrators.",
    )
    def get(self, request: Request, night: str):
        try:
            day = date.fromisoformat(night)
        except ValueError:
            raise ValidationError({"night": [_("Enter a valid date.")]}) from None
        return Response(ForecastRunOutputSerializer(run_get(fetched_by=request.user, night=day)).data)


urlpatterns = [
    path("forecasts/", ForecastListApi.as_view(), name="forecasting_api_forecasts"),
    path("wards/<uuid:external_id>/forecasts/", WardForecastApi.as_view(), name="forecasting_api_ward_forecast"),
    path("plan/", PlanApi.as_view(), name="forecasting_api_plan"),
    path("runs/", RunApi.as_view(), name="forecasting_api_runs"),
    path("runs/<str:night>/", RunDetailApi.as_view(), name="forecasting_api_run"),
]
