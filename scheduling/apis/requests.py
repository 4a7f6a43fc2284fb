"""REST API of bed requests: the queue, placement suggestions and one-call assignment (admission).

GET    bed-requests/                      the queue (waiting; ?status= for others)
POST   bed-requests/                      put a patient in the queue
GET    bed-requests/<id>/                 one request
PATCH  bed-requests/<id>/                 change a waiting request's needs or priority
DELETE bed-requests/<id>/                 cancel a waiting request
GET    bed-requests/<id>/suggestions/     ranked free beds with reasons
POST   bed-requests/<id>/assign/          admit to a bed: 201, 409 when someone else was faster, 400
"""

from django.http import Http404
from django.urls import path
from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import exceptions, serializers, status
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from emr.models import Encounter, Patient
from emr.selectors.access import is_clinician, user_can_read_clinical
from hospital.core.services.access_log import access_log_record
from scheduling.models import Bed, BedRequest, Specialty, Ward
from scheduling.selectors.requests import bed_request_get, bed_request_list, placement_suggestions
from scheduling.services.adt import BedConflict
from scheduling.services.requests import (
    RequestNotWaiting,
    bed_request_assign,
    bed_request_cancel,
    bed_request_create,
    bed_request_update,
)

SUGGESTIONS_MAX = 20


class Conflict(exceptions.APIException):
    status_code = status.HTTP_409_CONFLICT
    default_detail = "The resource changed meanwhile."
    default_code = "conflict"


def _conflict(exc) -> Conflict:
    """A BedConflict or RequestNotWaiting as a 409 in the API's error format, with its code and message."""
    if isinstance(exc, BedConflict):
        return Conflict(detail=exc.messages[0], code="bed_conflict")
    return Conflict(detail=exc.messages[0], code="request_not_waiting")


class _PatientRefSerializer(serializers.Serializer):
    external_id = serializers.UUIDField()
    mrn = serializers.CharField()
    full_name = serializers.CharField()
    sex = serializers.ChoiceField(choices=Patient.Sex.choices)


class _BedRefSerializer(serializers.Serializer):
    external_id = serializers.UUIDField()
    code = serializers.CharField()
    bed_type = serializers.ChoiceField(choices=Bed.BedType.choices)
    ward = serializers.CharField(source="ward.code")
    ward_name = serializers.SerializerMethodField()

    def get_ward_name(self, bed) -> str:
        return bed.ward.name_en


class BedRequestStaySerializer(serializers.Serializer):
    external_id = serializers.UUIDField()
    bed = _BedRefSerializer()
    encounter = serializers.UUIDField(source="encounter.external_id")
    start = serializers.DateTimeField(source="period.lower")
    expected_discharge_on = serializers.DateField(allow_null=True)


class BedRequestOutputSerializer(serializers.Serializer):
    external_id = serializers.UUIDField()
    patient = _PatientRefSerializer()
    encounter = serializers.UUIDField(source="encounter.external_id", allow_null=True, default=None)
    # The serializer metaclass collects declared fields, so this never shadows Field.source at runtime.
    source = serializers.ChoiceField(choices=BedRequest.Source.choices)  # type: ignore[assignment]
    priority = serializers.IntegerField(min_value=1, max_value=5)
    specialty = serializers.ChoiceField(choices=Specialty.choices)
    needs_isolation = serializers.BooleanField()
    nursing_level = serializers.ChoiceField(choices=Ward.NursingLevel.choices)
    needed_from = serializers.DateTimeField()
    note = serializers.CharField()
    status = serializers.ChoiceField(choices=BedRequest.Status.choices)
    assigned_stay = BedRequestStaySerializer(allow_null=True)
    requested_by = serializers.CharField(source="requested_by.get_username")
    created_at = serializers.DateTimeField()


class SuggestionOutputSerializer(serializers.Serializer):
    bed = _BedRefSerializer()
    score = serializers.IntegerField()
    reasons = serializers.ListField(child=serializers.CharField())


class BedAssignmentOutputSerializer(serializers.Serializer):
    request = BedRequestOutputSerializer()
    stay = BedRequestStaySerializer()


def _request_or_404(request, external_id) -> BedRequest:
    try:
        return bed_request_get(fetched_by=request.user, external_id=external_id)
    except BedRequest.DoesNotExist as exc:
        raise Http404 from exc


def _log_read(user, *, bed_request: BedRequest | None = None, detail: dict) -> None:
    access_log_record(
        actor=user,
        action="read",
        object_type="scheduling.bedrequest",
        object_id=str(bed_request.external_id) if bed_request else "",
        patient_external_id=bed_request.patient.external_id if bed_request else None,
        detail=detail,
    )


def _reloaded(bed_request: BedRequest, user) -> BedRequest:
    return bed_request_get(fetched_by=user, external_id=bed_request.external_id)


def _may_request_for(user, patient: Patient) -> bool:
    # Bed managers queue anyone; a treating clinician (the emergency doctor) queues their own patient.
    return user.has_perm("scheduling.add_bedrequest") or (
        is_clinician(user) and user.has_perm("emr.change_encounter") and user_can_read_clinical(user, patient)
    )


def _may_change(user, bed_request: BedRequest) -> bool:
    return user.has_perm("scheduling.change_bedrequest") or bed_request.requested_by_id == user.pk


class BedRequestListApi(APIView):
    permission_classes = [IsAuthenticated]

    class BedRequestCreateInputSerializer(serializers.Serializer):
        patient = serializers.SlugRelatedField(
            slug_field="external_id", queryset=Patient.objects.all(), help_text="External id of the patient."
        )
        encounter = serializers.SlugRelatedField(
            slug_field="external_id", queryset=Encounter.objects.all(), required=False, allow_null=True,
            help_text="External id of the encounter the request comes from (e.g. the emergency visit).",
        )  # fmt: skip
        # The serializer metaclass collects declared fields, so this never shadows Field.source at runtime.
        source = serializers.ChoiceField(choices=BedRequest.Source.choices)  # type: ignore[assignment]
        priority = serializers.IntegerField(min_value=1, max_value=5, default=3, help_text="1 = most urgent.")
        specialty = serializers.ChoiceField(choices=Specialty.choices)
        needs_isolation = serializers.BooleanField(default=False)
        nursing_level = serializers.ChoiceField(choices=Ward.NursingLevel.choices, default="standard")
        needed_from = serializers.DateTimeField(required=False, help_text="Default: now.")
        note = serializers.CharField(max_length=300, required=False, allow_blank=True, default="")

    @extend_schema(
        operation_id="scheduling_bed_request_list",
        parameters=[
            OpenApiParameter(
                "status", str, enum=[c for c, _label in BedRequest.Status.choices], description="Default: waiting."
            )
        ],
        responses={200: BedRequestOutputSerializer(many=True)},
        description="The bed queue, most urgent first (priority, then the longest waiting). Access-logged once.",
    )
    def get(self, request):
        if not request.user.has_perm("scheduling.view_bedrequest"):
            raise exceptions.PermissionDenied()
        wanted = request.query_params.get("status", BedRequest.Status.WAITING)
        if wanted not in BedRequest.Status.values:
            raise exceptions.ValidationError({"status": _("Choose waiting, assigned or cancelled.")})
        requests = list(bed_request_list(fetched_by=request.user, status=wanted))
        _log_read(request.user, detail={"list": True, "status": wanted, "count": len(requests)})
        return Response(BedRequestOutputSerializer(requests, many=True).data)

    @extend_schema(
        operation_id="scheduling_bed_request_create",
        request=BedRequestCreateInputSerializer,
        responses={
            201: BedRequestOutputSerializer,
            400: OpenApiResponse(description="Invalid fields (e.g. the patient already waits); nothing written."),
            403: OpenApiResponse(description="Neither a bed manager nor a clinician treating the patient."),
        },
        description="Put a patient in the bed queue with what the bed must offer.",
    )
    def post(self, request):
        serializer = self.BedRequestCreateInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        if not _may_request_for(request.user, data["patient"]):
            raise exceptions.PermissionDenied()
        bed_request = bed_request_create(requested_by=request.user, **data)
        return Response(
            BedRequestOutputSerializer(_reloaded(bed_request, request.user)).data, status=status.HTTP_201_CREATED
        )


class BedRequestDetailApi(APIView):
    permission_classes = [IsAuthenticated]

    class BedRequestUpdateInputSerializer(serializers.Serializer):
        priority = serializers.IntegerField(min_value=1, max_value=5, required=False)
        specialty = serializers.ChoiceField(choices=Specialty.choices, required=False)
        needs_isolation = serializers.BooleanField(required=False)
        nursing_level = serializers.ChoiceField(choices=Ward.NursingLevel.choices, required=False)
        needed_from = serializers.DateTimeField(required=False)
        note = serializers.CharField(max_length=300, required=False, allow_blank=True)

    class BedRequestCancelInputSerializer(serializers.Serializer):
        reason = serializers.CharField(max_length=200, required=False, allow_blank=True, default="")

    def _get(self, request, external_id) -> BedRequest:
        if not request.user.has_perm("scheduling.view_bedrequest"):
            raise exceptions.PermissionDenied()
        return _request_or_404(request, external_id)

    @extend_schema(
        operation_id="scheduling_bed_request_get",
        responses={200: BedRequestOutputSerializer, 404: OpenApiResponse(description="No such request.")},
        description="One bed request. Access-logged.",
    )
    def get(self, request, external_id):
        bed_request = self._get(request, external_id)
        _log_read(request.user, bed_request=bed_request, detail={"fields": "all"})
        return Response(BedRequestOutputSerializer(bed_request).data)

    @extend_schema(
        operation_id="scheduling_bed_request_update",
        request=BedRequestUpdateInputSerializer,
        responses={
            200: BedRequestOutputSerializer,
            400: OpenApiResponse(description="Invalid fields; nothing written."),
            409: OpenApiResponse(description="The request is no longer waiting (code request_not_waiting)."),
        },
        description="Change a waiting request's priority or needs.",
    )
    def patch(self, request, external_id):
        bed_request = self._get(request, external_id)
        if not _may_change(request.user, bed_request):
            raise exceptions.PermissionDenied()
        serializer = self.BedRequestUpdateInputSerializer(data=request.data, partial=True)
        serializer.is_valid(raise_exception=True)
        try:
            bed_request_update(request=bed_request, updated_by=request.user, **serializer.validated_data)
        except RequestNotWaiting as exc:
            raise _conflict(exc) from exc
        return Response(BedRequestOutputSerializer(_reloaded(bed_request, request.user)).data)

    @extend_schema(
        operation_id="scheduling_bed_request_cancel",
        request=BedRequestCancelInputSerializer,
        responses={
            200: BedRequestOutputSerializer,
            409: OpenApiResponse(description="The request is no longer waiting (code request_not_waiting)."),
        },
        description="Cancel a waiting request (it stays on record with status cancelled).",
    )
    def delete(self, request, external_id):
        bed_request = self._get(request, external_id)
        if not _may_change(request.user, bed_request):
            raise exceptions.PermissionDenied()
        serializer = self.BedRequestCancelInputSerializer(data=request.data or {})
        serializer.is_valid(raise_exception=True)
        try:
            bed_request_cancel(
                request=bed_request, cancelled_by=request.user, reason=serializer.validated_data["reason"]
            )
        except RequestNotWaiting as exc:
            raise _conflict(exc) from exc
        return Response(BedRequestOutputSerializer(_reloaded(bed_request, request.user)).data)


class BedRequestSuggestionsApi(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(
        operation_id="scheduling_bed_request_suggestions",
        parameters=[OpenApiParameter("limit", int, description=f"1 to {SUGGESTIONS_MAX}; default 5.")],
        responses={200: SuggestionOutputSerializer(many=True)},
        description="Free beds that meet the request's hard needs (sex policy, isolation, nursing level, "
        "intensive care), best first, each with its score and the reasons. Empty for a request that is "
        "no longer waiting.",
    )
    def get(self, request, external_id):
        if not request.user.has_perm("scheduling.view_bedrequest"):
            raise exceptions.PermissionDenied()
        bed_request = _request_or_404(request, external_id)
        try:
            limit = int(request.query_params.get("limit", 5))
        except ValueError:
            limit = 0
        if not 1 <= limit <= SUGGESTIONS_MAX:
            raise exceptions.ValidationError(
                {"limit": _("Give a number from 1 to %(max)d.") % {"max": SUGGESTIONS_MAX}}
            )
        suggestions = placement_suggestions(request=bed_request, limit=limit)
        _log_read(request.user, bed_request=bed_request, detail={"suggestions": len(suggestions)})
        return Response(SuggestionOutputSerializer(suggestions, many=True).data)


class BedRequestAssignApi(APIView):
    permission_classes = [IsAuthenticated]

    class BedRequestAssignInputSerializer(serializers.Serializer):
        bed = serializers.SlugRelatedField(
            slug_field="external_id",
            queryset=Bed.objects.select_related("ward", "room"),
            help_text="External id of the bed.",
        )
        expected_discharge_on = serializers.DateField(required=False, allow_null=True, default=None)

    @extend_schema(
        operation_id="scheduling_bed_request_assign",
        request=BedRequestAssignInputSerializer,
        responses={
            201: BedAssignmentOutputSerializer,
            400: OpenApiResponse(description="The bed breaks a hard rule or is blocked/cleaning; nothing written."),
            403: OpenApiResponse(description="Only bed managers assign beds."),
            409: OpenApiResponse(
                description="The bed was taken meanwhile (code bed_conflict) or the request is no longer waiting "
                "(code request_not_waiting)."
            ),
        },
        description="Admit the request's patient to the bed (starting an inpatient encounter for the bed's ward "
        "when the request has none) and mark the request assigned, in one transaction.",
    )
    def post(self, request, external_id):
        user = request.user
        if not (user.has_perm("scheduling.change_bedrequest") and user.has_perm("scheduling.add_bedstay")):
            raise exceptions.PermissionDenied(_("Only bed managers assign beds."))
        bed_request = _request_or_404(request, external_id)
        serializer = self.BedRequestAssignInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        try:
            stay = bed_request_assign(
                request=bed_request,
                bed=serializer.validated_data["bed"],
                assigned_by=user,
                expected_discharge_on=serializer.validated_data["expected_discharge_on"],
            )
        except (BedConflict, RequestNotWaiting) as exc:
            raise _conflict(exc) from exc
        bed_request = _reloaded(bed_request, user)
        body = {"request": bed_request, "stay": bed_request.assigned_stay or stay}
        return Response(BedAssignmentOutputSerializer(body).data, status=status.HTTP_201_CREATED)


urlpatterns = [
    path("bed-requests/", BedRequestListApi.as_view(), name="bed_request_list"),
    path("bed-requests/<uuid:external_id>/", BedRequestDetailApi.as_view(), name="bed_request_detail"),
    path(
        "bed-requests/<uuid:external_id>/suggestions/",
        BedRequestSuggestionsApi.as_view(),
        name="bed_request_suggestions",
    ),
    path("bed-requests/<uuid:external_id>/assign/", BedRequestAssignApi.as_view(), name="bed_request_assign"),
]
