"""Input and output shapes of the forecasting API (no patient data: counts per ward)."""

from django.utils import timezone
from django.utils.translation import gettext as _
from rest_framework import serializers

from ai.forecasting.models import BedPlanEntry, ForecastRun


class WardForecastDaySerializer(serializers.Serializer):
    date = serializers.DateField(source="target_date")
    horizon = serializers.IntegerField(help_text="Days after the origin.")
    mean = serializers.FloatField(help_text="Expected patients at midnight.")
    q025 = serializers.FloatField(help_text="2.5 % quantile (lower end of the 95 % interval).")
    q10 = serializers.FloatField(help_text="10 % quantile (lower end of the 80 % interval).")
    q50 = serializers.FloatField(help_text="Median.")
    q90 = serializers.FloatField(help_text="90 % quantile (upper end of the 80 % interval).")
    q975 = serializers.FloatField(help_text="97.5 % quantile (upper end of the 95 % interval).")
    capacity = serializers.IntegerField(help_text="Active beds of the ward when the forecast was made.")


class WardForecastOutputSerializer(serializers.Serializer):
    ward = serializers.CharField(source="ward.code")
    ward_id = serializers.UUIDField(source="ward.external_id")
    night = serializers.DateField(allow_null=True, help_text="The run that made the forecast.")
    model = serializers.CharField(allow_blank=True, help_text="Engine key of the model that made it.")
    model_version = serializers.IntegerField(allow_null=True, help_text="Registry version; null for a baseline.")
    origin = serializers.DateField(allow_null=True, help_text="Last day of census history used.")
    note = serializers.CharField(allow_blank=True, help_text="Why a baseline made it, when one did.")
    days = WardForecastDaySerializer(many=True)


class BedPlanRecommendationSerializer(serializers.Serializer):
    action = serializers.ChoiceField(choices=BedPlanEntry.Action.choices)
    ward = serializers.CharField(source="ward.code", help_text="The ward over capacity.")
    to_ward = serializers.CharField(source="to_ward.code", allow_null=True, default=None)
    patients = serializers.IntegerField()
    same_specialty = serializers.BooleanField(allow_null=True)
    explanation = serializers.CharField(help_text="The recommendation in words, in the request's language.")
    detail = serializers.DictField(help_text="The numbers the explanation is written from.")


class BedPlanDaySerializer(serializers.Serializer):
    day = serializers.DateField()
    recommendations = BedPlanRecommendationSerializer(many=True)


class BedPlanOutputSerializer(serializers.Serializer):
    night = serializers.DateField(allow_null=True)
    quantile = serializers.FloatField(help_text="The forecast quantile the plan provides for.")
    days = BedPlanDaySerializer(many=True)


class ForecastRunInputSerializer(serializers.Serializer):
    night = serializers.DateField(required=False, help_text="YYYY-MM-DD, today or earlier. Default: today.")

    def validate_night(self, value):
        if value > timezone.localdate(timezone=timezone.get_default_timezone()):
            raise serializers.ValidationError(_("A night in the future has no history to forecast from yet."))
        return value


class ForecastRunOutputSerializer(serializers.Serializer):
    id = serializers.UUIDField(source="external_id")
    night = serializers.DateField()
    status = serializers.ChoiceField(choices=ForecastRun.Status.choices)
    stage = serializers.ChoiceField(choices=ForecastRun.Stage.choices)
    progress = serializers.IntegerField(help_text="Percent.")
    started_at = serializers.DateTimeField(allow_null=True)
    finished_at = serializers.DateTimeField(allow_null=True)
    duration_seconds = serializers.FloatField(allow_null=True)
    stage_seconds = serializers.DictField(child=serializers.FloatField())
    notes = serializers.ListField(
        source="note_texts", child=serializers.CharField(), help_text="In the request's language."
    )
    error = serializers.CharField(allow_blank=True)
    model = serializers.CharField(source="model.model_name", allow_null=True, default=None)
    model_version = serializers.IntegerField(source="model.version", allow_null=True, default=None)
    queued = serializers.BooleanField(required=False, help_text="Whether this request queued the job.")
