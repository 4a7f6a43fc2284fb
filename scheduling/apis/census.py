"""REST API of the ward census and the bed indicators (no patient data; readers per census_can_view)."""

import uuid
from datetime import timedelta

from django.urls import path
from django.utils import timezone
from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers
from rest_framework.permissions import BasePermission, IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from scheduling.models import Ward
from scheduling.selectors.census import WardIndicators, census_can_view, census_daily, ward_indicators

DEFAULT_DAYS = 90
MAX_DAYS = 3 * 366


class CanViewCensus(BasePermission):
    message = _("You do not have permission to perform this action.")

    def has_permission(self, request, view) -> bool:
        return census_can_view(request.user)


class CensusQuerySerializer(serializers.Serializer):
    ward = serializers.ListField(
        child=serializers.CharField(max_length=40),
        required=False,
        help_text="Ward code or external id; repeat for several. Default: every ward.",
    )
    start = serializers.DateField(required=False, help_text="First day (YYYY-MM-DD). Default: 90 days before end.")
    end = serializers.DateField(required=False, help_text="Last day, inclusive. Default: yesterday.")

    def validate_ward(self, values: list[str]) -> list[Ward]:
        ids = [value for value in values if _is_uuid(value)]
        codes = [value for value in values if not _is_uuid(value)]
        found = list(Ward.objects.filter(external_id__in=ids)) + list(Ward.objects.filter(code__in=codes))
        known = {str(ward.external_id) for ward in found} | {ward.code for ward in found}
        unknown = [value for value in values if value not in known and str(_as_uuid(value)) not in known]
        if unknown:
            raise serializers.ValidationError(_("Unknown ward: %(wards)s.") % {"wards": ", ".join(unknown)})
        return found

    def validate(self, attrs):
        end = attrs.get("end") or timezone.localdate(timezone=timezone.get_default_timezone()) - timedelta(days=1)
        start = attrs.get("start") or end - timedelta(days=DEFAULT_DAYS - 1)
        if start > end:
            raise serializers.ValidationError({"start": _("The start date is after the end date.")})
        if (end - start).days + 1 > MAX_DAYS:
            raise serializers.ValidationError({"start": _("Choose at most %(days)s days.") % {"days": MAX_DAYS}})
        attrs["start"], attrs["end"] = start, end
        return attrs


def _as_uuid(value: str) -> uuid.UUID | None:
    try:
        return uuid.UUID(value)
    except ValueError:
        return None


def _is_uuid(value: str) -> bool:
    return _as_uuid(value) is not None


def _query(request) -> dict:
    serializer = CensusQuerySerializer(
        data={key: request.query_params.getlist(key) if key == "ward" else value
              for key, value in request.query_params.items() if key in ("ward", "start", "end")}
    )  # fmt: skip
    serializer.is_valid(raise_exception=True)
    data = serializer.validated_data
    return {"wards": data.get("ward") or None, "start": data["start"], "end": data["end"]}


class CensusDayOutputSerializer(serializers.Serializer):
    ward = serializers.CharField(source="ward.code")
    ward_id = serializers.UUIDField(source="ward.external_id")
    date = serializers.DateField()
    admissions = serializers.IntegerField()
    discharges = serializers.IntegerField()
    transfers_in = serializers.IntegerField()
    transfers_out = serializers.IntegerField()
    occupied_at_midnight = serializers.IntegerField()
    capacity = serializers.IntegerField()
    occupancy_rate = serializers.FloatField()


class WardIndicatorsOutputSerializer(serializers.Serializer):
    ward = serializers.CharField(source="ward.code", allow_null=True, default=None)
    ward_id = serializers.UUIDField(source="ward.external_id", allow_null=True, default=None)
    days = serializers.IntegerField()
    occupancy_rate = serializers.FloatField(allow_null=True)
    average_length_of_stay = serializers.FloatField(allow_null=True, help_text="Days.")
    length_of_stay_count = serializers.IntegerField()
    bed_turnover = serializers.FloatField(allow_null=True, help_text="Discharges per bed in the period.")
    turnaround_median_minutes = serializers.FloatField(allow_null=True)
    turnaround_p90_minutes = serializers.FloatField(allow_null=True)
    turnaround_target_minutes = serializers.IntegerField(allow_null=True)
    turnaround_within_target = serializers.FloatField(allow_null=True)
    turnaround_exceeds_target = serializers.BooleanField()
    turnaround_count = serializers.IntegerField()
    admissions = serializers.IntegerField()
    discharges = serializers.IntegerField()


class IndicatorsOutputSerializer(serializers.Serializer):
    start = serializers.DateField()
    end = serializers.DateField()
    wards = WardIndicatorsOutputSerializer(many=True)
    total = WardIndicatorsOutputSerializer()


def _indicator_data(item: WardIndicators) -> dict:
    return WardIndicatorsOutputSerializer(item).data


_PARAMETERS = [
    OpenApiParameter("ward", str, many=True, description="Ward code or external id; repeatable. Default: all."),
    OpenApiParameter("start", str, description="First day, YYYY-MM-DD. Default: 90 days before end."),
    OpenApiParameter("end", str, description="Last day (inclusive), YYYY-MM-DD. Default: yesterday."),
]


class CensusApi(APIView):
    permission_classes = [IsAuthenticated, CanViewCensus]

    @extend_schema(
        operation_id="scheduling_census_list",
        parameters=_PARAMETERS,
        responses={200: CensusDayOutputSerializer(many=True)},
        description="Daily census rows (flows and midnight occupancy) per ward, by ward code then date; at most "
        f"{MAX_DAYS} days. Holds no patient data.",
    )
    def get(self, request):
        query = _query(request)
        rows = census_daily(**query)
        return Response(CensusDayOutputSerializer(rows, many=True).data)


class IndicatorsApi(APIView):
    permission_classes = [IsAuthenticated, CanViewCensus]

    @extend_schema(
        operation_id="scheduling_indicators",
        parameters=_PARAMETERS,
        responses={200: IndicatorsOutputSerializer},
        description="Occupancy rate, average length of stay, bed turnover and bed turnaround per ward and in total.",
    )
    def get(self, request):
        indicators = ward_indicators(**_query(request))
        return Response(
            {
                "start": indicators.start,
                "end": indicators.end,
                "wards": [_indicator_data(item) for item in indicators.wards],
                "total": _indicator_data(indicators.total),
            }
        )


urlpatterns = [
    path("census/", CensusApi.as_view(), name="scheduling_api_census"),
    path("indicators/", IndicatorsApi.as_view(), name="scheduling_api_indicators"),
]
