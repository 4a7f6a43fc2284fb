"""REST API of the alert inbox (/api/v1/alerts/): the same inbox, scope and actions as the page.

GET   /                       the user's alerts (?status=active|open|acknowledged|resolved|all, ?kind=, ?ward=, ?mine=)
GET   count/                  open alerts in the user's inbox (the menu badge)
GET   <id>/                   one alert with its history
POST  <id>/acknowledge/       acknowledge it
POST  <id>/assign/            assign it to a clinician of its ward {"assignee": user external id, "note"}
POST  <id>/resolve/           resolve it {"note", "accepted": observation external id for conflicting data}
"""

from typing import Any

from django.urls import path
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema, extend_schema_field
from rest_framework import exceptions, serializers
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from ai.models import Alert
from ai.selectors import (
    LIST_LIMIT,
    RECIPIENT_LABELS,
    STATUS_FILTERS,
    alert_filters_parse,
    alert_get_for_user,
    alert_list,
    alert_open_count,
    alert_summary,
    alert_title,
    may_use_alerts,
    news2_escalation,
)
from ai.services import alert_acknowledge, alert_assign, alert_resolve
from hospital.core.models import User
from hospital.core.services.access_log import access_log_record

NO_INBOX_403 = OpenApiResponse(description="The user's role has no alert inbox (doctors, nurses, bed managers do).")
NOT_FOUND_404 = OpenApiResponse(description="No alert with this id in the user's inbox.")


class AlertPatientRefSerializer(serializers.Serializer):
    external_id = serializers.UUIDField()
    mrn = serializers.CharField()
    full_name = serializers.CharField()


class AlertWardRefSerializer(serializers.Serializer):
    external_id = serializers.UUIDField()
    code = serializers.CharField()
    name_en = serializers.CharField()
    name_zh = serializers.CharField()


class AlertUserRefSerializer(serializers.Serializer):
    external_id = serializers.UUIDField()
    username = serializers.CharField()
    name = serializers.CharField(source="__str__")


class AlertEventOutputSerializer(serializers.Serializer):
    action = serializers.CharField(help_text="raised, repeated, escalated, acknowledged, assigned or resolved.")
    actor = AlertUserRefSerializer(allow_null=True, help_text="Who; null for the evaluation tasks.")
    from_status = serializers.CharField(help_text="The alert's status before; empty when it was raised.")
    to_status = serializers.CharField()
    severity = serializers.CharField()
    note = serializers.CharField()
    detail = serializers.JSONField()
    at = serializers.DateTimeField(source="created_at")


class AlertRecipientSerializer(serializers.Serializer):
    role = serializers.CharField()
    # The serializer metaclass collects declared fields, so this never shadows Field.label at runtime.
    label = serializers.CharField()  # type: ignore[assignment]


class AlertOutputSerializer(serializers.Serializer):
    external_id = serializers.UUIDField()
    kind = serializers.CharField(help_text="news2, critical_lab, conflicting_data, census or vital_drift.")
    kind_label = serializers.CharField(source="get_kind_display")
    severity = serializers.CharField(help_text="medium, high or critical.")
    status = serializers.CharField(help_text="open, acknowledged or resolved.")
    title = serializers.SerializerMethodField(help_text="The headline in the request's language.")
    summary = serializers.SerializerMethodField(help_text="What the alert asks of its reader, in that language.")
    recipients = serializers.SerializerMethodField(help_text="Whom a NEWS2 escalation goes to (RCP chart 3).")
    patient = AlertPatientRefSerializer(allow_null=True, help_text="Null for census alerts, which are about a ward.")
    ward = AlertWardRefSerializer(allow_null=True)
    encounter = serializers.UUIDField(source="encounter.external_id", allow_null=True, default=None)
    detail = serializers.JSONField(help_text="The data behind the alert; its keys depend on the kind.")
    occurrences = serializers.IntegerField(help_text="How often the condition was seen; repeats are merged.")
    first_seen_at = serializers.DateTimeField()
    last_seen_at = serializers.DateTimeField()
    created_at = serializers.DateTimeField()
    acknowledged_by = AlertUserRefSerializer(allow_null=True)
    acknowledged_at = serializers.DateTimeField(allow_null=True)
    assigned_to = AlertUserRefSerializer(allow_null=True)
    assigned_at = serializers.DateTimeField(allow_null=True)
    resolved_by = AlertUserRefSerializer(allow_null=True)
    resolved_at = serializers.DateTimeField(allow_null=True)
    resolution_note = serializers.CharField()
    resolution = serializers.JSONField(help_text="For conflicting data: the accepted and the rejected reading.")
    events = AlertEventOutputSerializer(many=True, source="events.all", help_text="The history, oldest first.")

    def get_title(self, alert: Alert) -> str:
        return alert_title(kind=alert.kind, detail=alert.detail or {})

    def get_summary(self, alert: Alert) -> str:
        return alert_summary(kind=alert.kind, detail=alert.detail or {})

    @extend_schema_field(AlertRecipientSerializer(many=True))
    def get_recipients(self, alert: Alert) -> list[dict[str, Any]]:
        escalation = news2_escalation((alert.detail or {}).get("risk")) if alert.kind == Alert.Kind.NEWS2 else None
        if escalation is None:
            return []
        return [{"role": key, "label": str(RECIPIENT_LABELS[key])} for key in escalation.recipients]


def _check_inbox(user) -> None:
    if not may_use_alerts(user):
        raise exceptions.PermissionDenied()


def _log(request, *, alert: Alert | None = None, detail: dict[str, Any]) -> None:
    access_log_record(
        actor=request.user,
        action="read",
        object_type="ai.alert",
        object_id=str(alert.external_id) if alert is not None else "",
        patient_external_id=alert.patient.external_id if alert is not None and alert.patient is not None else None,
        detail=detail,
    )


def _reloaded(request, alert: Alert) -> Response:
    return Response(AlertOutputSerializer(alert_get_for_user(user=request.user, external_id=alert.external_id)).data)


class AlertListApi(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(
        operation_id="alerts_list",
        parameters=[
            OpenApiParameter(
                "status", str, enum=list(STATUS_FILTERS), description="Default: active (open and acknowledged)."
            ),
            OpenApiParameter("kind", str, enum=list(Alert.Kind.values)),
            OpenApiParameter("ward", str, description="A ward's external id or code."),
            OpenApiParameter("mine", bool, description="Only the alerts assigned to the user."),
        ],
        responses={
            200: AlertOutputSerializer(many=True),
            400: OpenApiResponse(description="Unknown filter value."),
            403: NO_INBOX_403,
        },
        description="The user's alert inbox: open first, most severe and most recently seen first "
        f"(at most {LIST_LIMIT}). Doctors and nurses see their wards' and patients' alerts, bed managers "
        "the census alerts of every ward. Access-logged once.",
    )
    def get(self, request):
        _check_inbox(request.user)
        filters = alert_filters_parse(params=request.query_params)
        alerts = alert_list(fetched_by=request.user, filters=filters)
        _log(request, detail={"list": True, "count": len(alerts), "status": filters.status, "kind": filters.kind})
        return Response(AlertOutputSerializer(alerts, many=True).data)


class AlertCountApi(APIView):
    permission_classes = [IsAuthenticated]

    class AlertCountOutputSerializer(serializers.Serializer):
        open = serializers.IntegerField()

    @extend_schema(
        operation_id="alerts_count",
        responses={200: AlertCountOutputSerializer},
        description="How many open alerts the user's inbox holds (0 for users without one). Counts only; "
        "not access-logged.",
    )
    def get(self, request):
        return Response({"open": alert_open_count(user=request.user)})


class AlertDetailApi(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(
        operation_id="alerts_retrieve",
        responses={200: AlertOutputSerializer, 403: NO_INBOX_403, 404: NOT_FOUND_404},
        description="One alert of the user's inbox with its history. Access-logged.",
    )
    def get(self, request, external_id):
        _check_inbox(request.user)
        alert = alert_get_for_user(user=request.user, external_id=external_id)
        _log(request, alert=alert, detail={"kind": alert.kind})
        return Response(AlertOutputSerializer(alert).data)


class AlertAcknowledgeApi(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(
        operation_id="alerts_acknowledge",
        request=None,
        responses={
            200: AlertOutputSerializer,
            400: OpenApiResponse(description="The alert is already resolved."),
            403: NO_INBOX_403,
            404: NOT_FOUND_404,
        },
        description="Acknowledge an open alert. Acknowledging one that is already acknowledged changes nothing "
        "(the first person stays recorded). Audited (history and access log).",
    )
    def post(self, request, external_id):
        _check_inbox(request.user)
        alert = alert_acknowledge(
            alert=alert_get_for_user(user=request.user, external_id=external_id), user=request.user
        )
        return _reloaded(request, alert)


class AlertAssignApi(APIView):
    permission_classes = [IsAuthenticated]

    class AlertAssignInputSerializer(serializers.Serializer):
        assignee = serializers.SlugRelatedField(
            slug_field="external_id",
            queryset=User.objects.filter(is_active=True),
            help_text="External id of a doctor or nurse of the alert's ward or of the patient's care team.",
        )
        note = serializers.CharField(max_length=2000, required=False, allow_blank=True, default="")

    @extend_schema(
        operation_id="alerts_assign",
        request=AlertAssignInputSerializer,
        responses={
            200: AlertOutputSerializer,
            400: OpenApiResponse(description="Not a clinician of the ward or care team, or the alert is resolved."),
            403: NO_INBOX_403,
            404: NOT_FOUND_404,
        },
        description="Make a clinician of the alert's ward responsible for it. Audited (history and access log).",
    )
    def post(self, request, external_id):
        _check_inbox(request.user)
        alert = alert_get_for_user(user=request.user, external_id=external_id)
        serializer = self.AlertAssignInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        alert = alert_assign(alert=alert, user=request.user, **serializer.validated_data)
        return _reloaded(request, alert)


class AlertResolveApi(APIView):
    permission_classes = [IsAuthenticated]

    class AlertResolveInputSerializer(serializers.Serializer):
        note = serializers.CharField(
            max_length=2000, help_text="How the alert was resolved (for conflicting data: why)."
        )
        accepted = serializers.UUIDField(
            required=False,
            allow_null=True,
            default=None,
            help_text="Conflicting data only: the external id of the observation that is right.",
        )

    @extend_schema(
        operation_id="alerts_resolve",
        request=AlertResolveInputSerializer,
        responses={
            200: AlertOutputSerializer,
            400: OpenApiResponse(description="No note, no (or a foreign) reading chosen, or already resolved."),
            403: NO_INBOX_403,
            404: NOT_FOUND_404,
        },
        description="Resolve an alert with a note; a conflicting-data alert also names the reading that is right "
        "(the other is recorded as rejected on the alert; observations are never deleted). Audited.",
    )
    def post(self, request, external_id):
        _check_inbox(request.user)
        alert = alert_get_for_user(user=request.user, external_id=external_id)
        serializer = self.AlertResolveInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        accepted = serializer.validated_data["accepted"]
        alert = alert_resolve(
            alert=alert,
            user=request.user,
            note=serializer.validated_data["note"],
            accepted=str(accepted) if accepted else None,
        )
        return _reloaded(request, alert)


urlpatterns = [
    path("", AlertListApi.as_view(), name="alerts-list"),
    path("count/", AlertCountApi.as_view(), name="alerts-count"),
    path("<uuid:external_id>/", AlertDetailApi.as_view(), name="alerts-detail"),
    path("<uuid:external_id>/acknowledge/", AlertAcknowledgeApi.as_view(), name="alerts-acknowledge"),
    path("<uuid:external_id>/assign/", AlertAssignApi.as_view(), name="alerts-assign"),
    path("<uuid:external_id>/resolve/", AlertResolveApi.as_view(), name="alerts-resolve"),
]
