"""REST API of admit / transfer / discharge, housekeeping, bed blocks, ward occupancy and the ADT feed.

Validate input -> call a service (scheduling.services.adt) or selector (scheduling.selectors.beds) ->
serialize. A bed somebody else took first answers 409 with code "bed_conflict"; every other refusal is a
400 with field errors; nothing is written in either case.
"""

from django.http import Http404
from django.urls import path
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema, inline_serializer
from rest_framework import exceptions, serializers, status
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from emr.apis.patients import permission_required
from emr.models import Encounter
from hospital.core.services.access_log import access_log_record
from scheduling.models import AdtEvent, Bed, BedStay, Ward
from scheduling.selectors.beds import STATES, BedState, adt_event_list, bed_states, ward_occupancy
from scheduling.services.adt import (
    DISCHARGE_REASONS,
    BedConflict,
    bed_block,
    bed_cleaning_complete,
    bed_stay_admit,
    bed_stay_discharge,
    bed_stay_transfer,
    bed_unblock,
)

ADT_EVENT_PAGE = 500
CONFLICT_RESPONSE = OpenApiResponse(
    description='The bed (or the patient) is taken at that time, e.g. by a concurrent admission: code "bed_conflict".'
)


class BedConflictError(exceptions.APIException):
    status_code = status.HTTP_409_CONFLICT
    default_code = "bed_conflict"
    default_detail = _("This bed is already occupied at that time.")


def _conflict(exc: BedConflict) -> BedConflictError:
    return BedConflictError(detail=exc.messages[0], code="bed_conflict")


def _by_external_id(model, external_id):
    try:
        return model.objects.get(external_id=external_id)
    except model.DoesNotExist as exc:
        raise Http404 from exc


def _permissions(*perms: str):
    return [IsAuthenticated(), *(permission_required(perm)() for perm in perms)]


class BedRefSerializer(serializers.Serializer):
    external_id = serializers.UUIDField()
    code = serializers.CharField()
    ward = serializers.UUIDField(source="ward.external_id")
    ward_code = serializers.CharField(source="ward.code")


class BedStayOutputSerializer(serializers.Serializer):
    external_id = serializers.UUIDField()
    bed = BedRefSerializer()
    encounter = serializers.UUIDField(source="encounter.external_id")
    patient = serializers.UUIDField(source="encounter.patient.external_id")
    start = serializers.DateTimeField(source="period.lower")
    end = serializers.DateTimeField(source="period.upper", allow_null=True)
    expected_discharge_on = serializers.DateField(allow_null=True)
    end_reason = serializers.ChoiceField(choices=BedStay.EndReason.choices, allow_blank=True)


class BedStatePatientSerializer(serializers.Serializer):
    external_id = serializers.UUIDField()
    mrn = serializers.CharField()
    family_name = serializers.CharField()
    given_name = serializers.CharField()
    sex = serializers.CharField()
    birth_date = serializers.DateField()


class BedStateOutputSerializer(serializers.Serializer):
    bed = serializers.UUIDField(source="bed.external_id")
    code = serializers.CharField(source="bed.code")
    bed_type = serializers.ChoiceField(choices=Bed.BedType.choices, source="bed.bed_type")
    room = serializers.CharField(source="bed.room.code", allow_null=True, default=None)
    state = serializers.ChoiceField(choices=[(s, s) for s in STATES])
    stay = serializers.UUIDField(source="stay.external_id", allow_null=True, default=None)
    encounter = serializers.UUIDField(source="encounter.external_id", allow_null=True, default=None)
    patient = BedStatePatientSerializer(allow_null=True)
    occupied_since = serializers.DateTimeField(allow_null=True)
    expected_discharge_on = serializers.DateField(allow_null=True)
    cleaning_since = serializers.DateTimeField(allow_null=True)
    block_reason = serializers.CharField(allow_blank=True)
    blocked_until = serializers.DateTimeField(allow_null=True)


class WardOccupancyOutputSerializer(serializers.Serializer):
    ward = serializers.UUIDField(source="ward.external_id")
    code = serializers.CharField(source="ward.code")
    name_en = serializers.CharField(source="ward.name_en")
    name_zh = serializers.CharField(source="ward.name_zh")
    specialty = serializers.CharField(source="ward.specialty")
    capacity = serializers.IntegerField()
    occupied = serializers.IntegerField()
    free = serializers.IntegerField()
    cleaning = serializers.IntegerField()
    blocked = serializers.IntegerField()
    occupancy_rate = serializers.FloatField(allow_null=True)


class AdtEventOutputSerializer(serializers.Serializer):
    external_id = serializers.UUIDField()
    event_type = serializers.ChoiceField(choices=AdtEvent.EventType.choices)
    occurred_at = serializers.DateTimeField()
    recorded_at = serializers.DateTimeField(source="created_at")
    encounter = serializers.UUIDField(source="encounter.external_id")
    patient = serializers.UUIDField(source="patient.external_id")
    patient_mrn = serializers.CharField(source="patient.mrn")
    from_bed = BedRefSerializer(allow_null=True)
    to_bed = BedRefSerializer(allow_null=True)
    recorded_by = serializers.CharField(source="recorded_by.username")


def _stay_data(stay: BedStay) -> dict:
    return BedStayOutputSerializer(stay).data


class AdmissionApi(APIView):
    """Admit an inpatient encounter's patient to a bed."""

    def get_permissions(self):
        return _permissions("scheduling.add_bedstay")

    class AdmissionInputSerializer(serializers.Serializer):
        encounter = serializers.SlugRelatedField(
            slug_field="external_id", queryset=Encounter.objects.all(), help_text="External id of the encounter."
        )
        bed = serializers.SlugRelatedField(
            slug_field="external_id", queryset=Bed.objects.all(), help_text="External id of the bed."
        )
        expected_discharge_on = serializers.DateField(required=False, allow_null=True)
        at = serializers.DateTimeField(required=False, help_text="Default: now; never in the future.")

    @extend_schema(
        operation_id="scheduling_admission_create",
        request=AdmissionInputSerializer,
        responses={
            201: BedStayOutputSerializer,
            400: OpenApiResponse(
                description="Invalid fields, or the bed is blocked, cleaning or closed; nothing written."
            ),
            403: OpenApiResponse(description="Missing scheduling.add_bedstay."),
            409: CONFLICT_RESPONSE,
        },
        description="Open a bed stay for an in-progress inpatient encounter; writes an admit ADT event. Access-logged.",
    )
    def post(self, request):
        data = self.AdmissionInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        try:
            stay = bed_stay_admit(
                encounter=data.validated_data["encounter"],
                bed=data.validated_data["bed"],
                admitted_by=request.user,
                at=data.validated_data.get("at"),
                expected_discharge_on=data.validated_data.get("expected_discharge_on"),
            )
        except BedConflict as exc:
            raise _conflict(exc) from exc
        return Response(_stay_data(stay), status=status.HTTP_201_CREATED)


class TransferApi(APIView):
    """Move an encounter's patient to another bed."""

    def get_permissions(self):
        return _permissions("scheduling.change_bedstay")

    class TransferInputSerializer(serializers.Serializer):
        bed = serializers.SlugRelatedField(
            slug_field="external_id", queryset=Bed.objects.all(), help_text="External id of the bed to move to."
        )
        at = serializers.DateTimeField(required=False, help_text="Default: now; never in the future.")

    @extend_schema(
        operation_id="scheduling_encounter_transfer",
        request=TransferInputSerializer,
        responses={
            201: BedStayOutputSerializer,
            400: OpenApiResponse(description="Not in a bed, the same bed, or the bed is unavailable; nothing written."),
            403: OpenApiResponse(description="Missing scheduling.change_bedstay."),
            404: OpenApiResponse(description="No encounter with this external id."),
            409: CONFLICT_RESPONSE,
        },
        description="End the current stay and open one in the new bed; writes a transfer ADT event. Access-logged.",
    )
    def post(self, request, external_id):
        encounter = _by_external_id(Encounter, external_id)
        data = self.TransferInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        try:
            stay = bed_stay_transfer(
                encounter=encounter,
                to_bed=data.validated_data["bed"],
                transferred_by=request.user,
                at=data.validated_data.get("at"),
            )
        except BedConflict as exc:
            raise _conflict(exc) from exc
        return Response(_stay_data(stay), status=status.HTTP_201_CREATED)


class DischargeApi(APIView):
    """Discharge an encounter's patient from their bed."""

    def get_permissions(self):
        return _permissions("scheduling.change_bedstay")

    class DischargeInputSerializer(serializers.Serializer):
        at = serializers.DateTimeField(required=False, help_text="Default: now; never in the future.")
        reason = serializers.ChoiceField(
            choices=[(r.value, r.label) for r in DISCHARGE_REASONS], required=False, default="discharge"
        )

    @extend_schema(
        operation_id="scheduling_encounter_discharge",
        request=DischargeInputSerializer,
        responses={
            200: BedStayOutputSerializer,
            400: OpenApiResponse(description="Not in a bed, or the time is before the admission; nothing written."),
            403: OpenApiResponse(description="Missing scheduling.change_bedstay."),
            404: OpenApiResponse(description="No encounter with this external id."),
        },
        description="End the open bed stay; the bed turns to cleaning. Writes a discharge ADT event. The encounter "
        "itself is finished by its clinician (emr encounter finish). Access-logged.",
    )
    def post(self, request, external_id):
        encounter = _by_external_id(Encounter, external_id)
        data = self.DischargeInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        stay = bed_stay_discharge(
            encounter=encounter,
            discharged_by=request.user,
            at=data.validated_data.get("at"),
            reason=data.validated_data["reason"],
        )
        return Response(_stay_data(stay))


def _bed_state_data(bed: Bed) -> dict:
    state = bed_states(wards=[bed.ward], at=None).get(bed.pk)
    return BedStateOutputSerializer(state).data if state else {"bed": str(bed.external_id), "state": None}


class BedCleanApi(APIView):
    """Housekeeping has cleaned a bed."""

    def get_permissions(self):
        return _permissions("scheduling.change_bedcleaning")

    @extend_schema(
        operation_id="scheduling_bed_clean",
        request=None,
        responses={
            200: BedStateOutputSerializer,
            400: OpenApiResponse(description="The bed is not waiting for cleaning."),
            403: OpenApiResponse(description="Missing scheduling.change_bedcleaning."),
            404: OpenApiResponse(description="No bed with this external id."),
        },
        description="Close the bed's open cleaning: the bed is free again. Answers the bed's new state.",
    )
    def post(self, request, external_id):
        bed = _by_external_id(Bed, external_id)
        bed_cleaning_complete(bed=bed, completed_by=request.user)
        return Response(_bed_state_data(bed))


class BedBlockApi(APIView):
    """Take a bed out of use, with a reason."""

    def get_permissions(self):
        return _permissions("scheduling.add_bedblock")

    class BedBlockInputSerializer(serializers.Serializer):
        reason = serializers.CharField(max_length=300)
        start = serializers.DateTimeField(required=False, help_text="Default: now.")
        end = serializers.DateTimeField(required=False, allow_null=True, help_text="Default: until unblocked.")

    @extend_schema(
        operation_id="scheduling_bed_block",
        request=BedBlockInputSerializer,
        responses={
            201: BedStateOutputSerializer,
            400: OpenApiResponse(description="No reason, bad times, occupied or already blocked; nothing written."),
            403: OpenApiResponse(description="Missing scheduling.add_bedblock."),
            404: OpenApiResponse(description="No bed with this external id."),
        },
        description="Block the bed from start (default now) until end (default: until unblocked).",
    )
    def post(self, request, external_id):
        bed = _by_external_id(Bed, external_id)
        data = self.BedBlockInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        bed_block(
            bed=bed,
            reason=data.validated_data["reason"],
            blocked_by=request.user,
            start=data.validated_data.get("start"),
            end=data.validated_data.get("end"),
        )
        return Response(_bed_state_data(bed), status=status.HTTP_201_CREATED)


class BedUnblockApi(APIView):
    """Return a blocked bed to use."""

    def get_permissions(self):
        return _permissions("scheduling.change_bedblock")

    @extend_schema(
        operation_id="scheduling_bed_unblock",
        request=None,
        responses={
            200: BedStateOutputSerializer,
            400: OpenApiResponse(description="The bed is not blocked."),
            403: OpenApiResponse(description="Missing scheduling.change_bedblock."),
            404: OpenApiResponse(description="No bed with this external id."),
        },
        description="End the block in force now (a planned one is cancelled). Answers the bed's new state.",
    )
    def post(self, request, external_id):
        bed = _by_external_id(Bed, external_id)
        bed_unblock(bed=bed, unblocked_by=request.user)
        return Response(_bed_state_data(bed))


class WardOccupancyListApi(APIView):
    """Every ward's occupancy now."""

    def get_permissions(self):
        return _permissions("scheduling.view_bed")

    @extend_schema(
        operation_id="scheduling_ward_occupancy_list",
        responses={200: WardOccupancyOutputSerializer(many=True), 403: OpenApiResponse(description="No permission.")},
        description="Per ward: capacity (active beds) and beds occupied, free, cleaning and blocked now. "
        "Counts only, no patient data; a fixed number of queries for any number of wards.",
    )
    def get(self, request):
        return Response(WardOccupancyOutputSerializer(ward_occupancy().values(), many=True).data)


class WardBedsApi(APIView):
    """The state of every bed of one ward now, with who lies where."""

    def get_permissions(self):
        return _permissions("scheduling.view_bedstay")

    @extend_schema(
        operation_id="scheduling_ward_beds",
        responses={
            200: BedStateOutputSerializer(many=True),
            403: OpenApiResponse(description="Missing scheduling.view_bedstay."),
            404: OpenApiResponse(description="No ward with this external id."),
        },
        description="Every active bed of the ward in code order with its state, patient, expected discharge, "
        "cleaning and block. Access-logged once per request (a read of the ward's patients).",
    )
    def get(self, request, external_id):
        ward = _by_external_id(Ward, external_id)
        states: list[BedState] = list(bed_states(wards=[ward]).values())
        data = BedStateOutputSerializer(states, many=True).data
        patients = [state.patient for state in states if state.patient is not None]
        if patients:
            access_log_record(
                actor=request.user,
                action="read",
                object_type="scheduling.bedboard",
                object_id=str(ward.external_id),
                detail={"ward": ward.code, "patients": len(patients)},
            )
        return Response(data)


class AdtEventListApi(APIView):
    """The ADT feed: admits, transfers and discharges in the order they were recorded."""

    def get_permissions(self):
        return _permissions("scheduling.view_adtevent")

    class AdtEventQuerySerializer(serializers.Serializer):
        since = serializers.DateTimeField(required=False)

    @extend_schema(
        operation_id="scheduling_adt_event_list",
        parameters=[
            OpenApiParameter(
                "since",
                str,
                description="ISO 8601 time: events recorded at or after it (inclusive; drop repeats by external_id).",
            )
        ],
        responses={
            200: inline_serializer(
                "AdtEventPage",
                fields={
                    "results": AdtEventOutputSerializer(many=True),
                    "next_since": serializers.DateTimeField(allow_null=True),
                },
            ),
            400: OpenApiResponse(description="since is not a time."),
            403: OpenApiResponse(description="Missing scheduling.view_adtevent."),
        },
        description=f"At most {ADT_EVENT_PAGE} events, oldest recorded first; poll again with next_since while it is "
        "not null. Access-logged (one read per request).",
    )
    def get(self, request):
        query = self.AdtEventQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        events = adt_event_list(since=query.validated_data.get("since"), limit=ADT_EVENT_PAGE)
        next_since = events[-1].created_at if len(events) == ADT_EVENT_PAGE else None
        if events:
            access_log_record(
                actor=request.user,
                action="read",
                object_type="scheduling.adtevent",
                detail={"events": len(events), "patients": len({event.patient_id for event in events})},
            )
        return Response(
            {"results": AdtEventOutputSerializer(events, many=True).data, "next_since": next_since},
        )


urlpatterns = [
    path("admissions/", AdmissionApi.as_view(), name="scheduling-admission-create"),
    path("encounters/<uuid:external_id>/transfer/", TransferApi.as_view(), name="scheduling-encounter-transfer"),
    path("encounters/<uuid:external_id>/discharge/", DischargeApi.as_view(), name="scheduling-encounter-discharge"),
    path("beds/<uuid:external_id>/clean/", BedCleanApi.as_view(), name="scheduling-bed-clean"),
    path("beds/<uuid:external_id>/block/", BedBlockApi.as_view(), name="scheduling-bed-block"),
    path("beds/<uuid:external_id>/unblock/", BedUnblockApi.as_view(), name="scheduling-bed-unblock"),
    path("wards/", WardOccupancyListApi.as_view(), name="scheduling-ward-occupancy"),
    path("wards/<uuid:external_id>/beds/", WardBedsApi.as_view(), name="scheduling-ward-beds"),
    path("adt-events/", AdtEventListApi.as_view(), name="scheduling-adt-events"),
]
