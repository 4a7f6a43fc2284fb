"""API of the core app."""

from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import generics, serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from hospital.core.models import AccessLog
from hospital.core.selectors.access_log import access_log_list


class MeOutputSerializer(serializers.Serializer):
    external_id = serializers.UUIDField()
    username = serializers.CharField()
    display_name = serializers.CharField()
    roles = serializers.ListField(child=serializers.CharField())
    is_integration_client = serializers.BooleanField()


class MeApi(APIView):
    """The signed-in user (session) or integration client (token) and their roles."""

    @extend_schema(responses=MeOutputSerializer)
    def get(self, request):
        user = request.user
        return Response(
            MeOutputSerializer(
                {
                    "external_id": user.external_id,
                    "username": user.username,
                    "display_name": str(user),
                    "roles": sorted(user.role_names),
                    "is_integration_client": user.is_integration_client,
                }
            ).data
        )


class AccessLogFilterSerializer(serializers.Serializer):
    patient = serializers.UUIDField(required=False, help_text="External id of the patient whose data was accessed.")
    actor = serializers.CharField(required=False, max_length=150, help_text="Username of who acted (as recorded).")
    action = serializers.ChoiceField(required=False, choices=AccessLog.Action.choices)
    since = serializers.DateTimeField(required=False, help_text="Inclusive lower bound of occurred_at.")
    until = serializers.DateTimeField(required=False, help_text="Exclusive upper bound of occurred_at.")


class AccessLogOutputSerializer(serializers.ModelSerializer):
    sequence = serializers.IntegerField(source="id", help_text="Position in the hash chain (audit_verify).")

    class Meta:
        model = AccessLog
        fields = [
            "sequence",
            "external_id",
            "occurred_at",
            "actor_username",
            "actor_kind",
            "action",
            "object_type",
            "object_id",
            "patient_external_id",
            "purpose",
            "ip_address",
            "user_agent",
            "request_id",
            "channel",
            "detail",
            "prev_hash",
            "row_hash",
        ]
        read_only_fields = fields


@extend_schema_view(
    get=extend_schema(
        summary="List the access log",
        description="Who read, wrote, exported or printed patient data; newest first. Auditors and administrators "
        "only (403 otherwise). Reading the log is not itself logged.",
        parameters=[AccessLogFilterSerializer],
    )
)
class AccessLogListApi(generics.ListAPIView):
    """The access log, filtered and paginated, for auditors and administrators."""

    serializer_class = AccessLogOutputSerializer

    def get_queryset(self):
        filters = AccessLogFilterSerializer(data=self.request.query_params)
        filters.is_valid(raise_exception=True)
        data = filters.validated_data
        return access_log_list(
            fetched_by=self.request.user,
            patient_external_id=data.get("patient"),
            actor=data.get("actor"),
            action=data.get("action"),
            since=data.get("since"),
            until=data.get("until"),
        )
