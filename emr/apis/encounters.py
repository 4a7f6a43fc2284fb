"""REST API of encounters, care teams and break the glass: validate input -> service/selector -> serialize output."""

from django.http import Http404
from django.urls import path
from django.utils import timezone
from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import generics, serializers, status
from rest_framework.permissions import BasePermission, IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from emr.apis.patients import permission_required
from emr.models import BreakGlassAccess, CareTeamMember, Encounter, Patient
from emr.selectors.access import (
    BreakGlassRequired,
    break_glass_list,
    is_clinician,
    patient_for_clinical_write,
    patient_for_metadata_read,
)
from emr.selectors.encounters import encounter_get_for_clinical_read, encounter_list
from emr.services.access import access_denied_record, break_glass_grant, break_glass_review
from emr.services.encounters import care_team_add, care_team_remove, encounter_finish, encounter_start
from hospital.core.models import User
from hospital.core.services.access_log import access_log_record
from scheduling.models import Ward

USER_REF_HELP = "External id (UUID) of a user."


class ClinicianRequired(BasePermission):
    message = _("Only doctors and nurses can do this.")

    def has_permission(self, request, view) -> bool:
        return is_clinician(request.user)


class UserRefSerializer(serializers.Serializer):
    external_id = serializers.UUIDField()
    username = serializers.CharField()
    display_name = serializers.CharField(source="__str__")


class CareTeamMemberOutputSerializer(serializers.Serializer):
    user = UserRefSerializer()
    role = serializers.ChoiceField(choices=CareTeamMember.Role.choices)


class WardRefSerializer(serializers.Serializer):
    external_id = serializers.UUIDField()
    code = serializers.CharField()
    name_en = serializers.CharField()
    name_zh = serializers.CharField()


class EncounterMetadataOutputSerializer(serializers.Serializer):
    """What a records archivist sees of an encounter: when, what kind, where; never why or who treated."""

    external_id = serializers.UUIDField()
    patient = serializers.UUIDField(source="patient.external_id")
    encounter_class = serializers.ChoiceField(choices=Encounter.EncounterClass.choices)
    status = serializers.ChoiceField(choices=Encounter.Status.choices)
    started_at = serializers.DateTimeField()
    ended_at = serializers.DateTimeField(allow_null=True)
    ward = WardRefSerializer(allow_null=True)
    clinical_access = serializers.SerializerMethodField(help_text="False: record metadata only (records archivists).")

    def get_clinical_access(self, encounter) -> bool:
        return False


class EncounterOutputSerializer(EncounterMetadataOutputSerializer):
    """An encounter with its clinical part: reason for the visit, attending and care team."""

    reason = serializers.CharField()
    attending = UserRefSerializer(allow_null=True)
    care_team = CareTeamMemberOutputSerializer(many=True, source="care_team.all")

    def get_clinical_access(self, encounter) -> bool:
        return True


def _encounter_data(encounter: Encounter) -> dict:
    # encounter_list marks metadata-only rows; their clinical attributes are not loaded and must not be read.
    clinical = getattr(encounter, "clinical_access", True)
    serializer_class = EncounterOutputSerializer if clinical else EncounterMetadataOutputSerializer
    return serializer_class(encounter).data


def _patient_or_404(external_id) -> Patient:
    try:
        return Patient.objects.get(external_id=external_id)
    except Patient.DoesNotExist as exc:
        raise Http404 from exc


def _read_log(*, user, patient: Patient, object_type: str, object_id: str = "", detail: dict | None = None) -> None:
    access_log_record(
        actor=user,
        action="read",
        object_type=object_type,
        object_id=object_id,
        patient_external_id=patient.external_id,
        detail=detail or {},
    )


class PatientEncountersApi(APIView):
    """A patient's encounters: list them (scoped) or start one."""

    def get_permissions(self):
        perm = "emr.add_encounter" if self.request.method == "POST" else "emr.view_encounter"
        return [IsAuthenticated(), permission_required(perm)()]

    class EncounterStartInputSerializer(serializers.Serializer):
        encounter_class = serializers.ChoiceField(choices=Encounter.EncounterClass.choices)
        attending = serializers.SlugRelatedField(
            slug_field="external_id", queryset=User.objects.filter(is_active=True), required=False,
            help_text=USER_REF_HELP + " Default: the signed-in user.",
        )  # fmt: skip
        ward = serializers.SlugRelatedField(
            slug_field="external_id", queryset=Ward.objects.all(), required=False, allow_null=True,
            help_text="External id of the ward; inpatient encounters only, and required for them.",
        )  # fmt: skip
        reason = serializers.CharField(max_length=300, required=False, allow_blank=True, default="")
        started_at = serializers.DateTimeField(required=False, help_text="Default: now.")

    @extend_schema(
        operation_id="emr_encounter_list",
        responses={
            200: EncounterOutputSerializer(many=True),  # metadata readers get EncounterMetadataOutputSerializer
            403: OpenApiResponse(description="No access to this patient (code break_glass_required for clinicians)."),
            404: OpenApiResponse(description="No patient with this external id."),
        },
        description="The patient's encounters, newest first. Clinicians who treat the patient see everything; "
        "records archivists see metadata only (no reason, attending or care team; clinical_access false). "
        "Access-logged.",
    )
    def get(self, request, external_id):
        try:
            patient = patient_for_metadata_read(user=request.user, external_id=external_id)
        except Patient.DoesNotExist as exc:
            raise Http404 from exc
        except BreakGlassRequired as exc:
            access_denied_record(user=request.user, patient=exc.patient, object_type="emr.encounter")
            raise
        encounters = list(encounter_list(patient=patient, fetched_by=request.user))
        for encounter in encounters:
            encounter.patient = patient  # already loaded: no query per row
        detail = {"list": True, "count": len(encounters)}
        if encounters and not encounters[0].clinical_access:
            detail["metadata_only"] = True
        if patient.via_break_glass:
            detail["break_glass"] = True
        _read_log(user=request.user, patient=patient, object_type="emr.encounter", detail=detail)
        return Response([_encounter_data(encounter) for encounter in encounters])

    @extend_schema(
        operation_id="emr_encounter_start",
        request=EncounterStartInputSerializer,
        responses={
            201: EncounterOutputSerializer,
            400: OpenApiResponse(description="Invalid fields; nothing was written."),
            403: OpenApiResponse(description="Missing the emr.add_encounter permission."),
            404: OpenApiResponse(description="No patient with this external id."),
        },
        description="Start an encounter (in progress). The attending joins the care team, which opens the "
        "patient's record to them. The write is access-logged.",
    )
    def post(self, request, external_id):
        patient = _patient_or_404(external_id)
        serializer = self.EncounterStartInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        encounter = encounter_start(
            patient=patient,
            encounter_class=data["encounter_class"],
            attending=data.get("attending") or request.user,
            started_by=request.user,
            ward=data.get("ward"),
            reason=data["reason"],
            started_at=data.get("started_at"),
        )
        encounter = Encounter.objects.select_related("patient", "attending", "ward").get(pk=encounter.pk)
        return Response(EncounterOutputSerializer(encounter).data, status=status.HTTP_201_CREATED)


def _encounter_for_read(request, external_id) -> Encounter:
    try:
        return encounter_get_for_clinical_read(external_id=external_id, fetched_by=request.user)
    except Encounter.DoesNotExist as exc:
        raise Http404 from exc
    except BreakGlassRequired as exc:
        access_denied_record(user=request.user, patient=exc.patient, object_type="emr.encounter")
        raise


def _encounter_for_write(request, external_id) -> Encounter:
    try:
        encounter = Encounter.objects.select_related("patient").get(external_id=external_id)
        patient_for_clinical_write(user=request.user, external_id=encounter.patient.external_id)
    except Encounter.DoesNotExist as exc:
        raise Http404 from exc
    return encounter


def _encounter_response(encounter: Encounter, status_code=status.HTTP_200_OK) -> Response:
    encounter = (
        Encounter.objects.select_related("patient", "attending", "ward")
        .prefetch_related("care_team__user")
        .get(pk=encounter.pk)
    )
    return Response(EncounterOutputSerializer(encounter).data, status=status_code)


class EncounterDetailApi(APIView):
    """One encounter with its care team."""

    permission_classes = [IsAuthenticated, permission_required("emr.view_encounter")]

    @extend_schema(
        operation_id="emr_encounter_retrieve",
        responses={
            200: EncounterOutputSerializer,
            403: OpenApiResponse(description="No clinical access to the patient (code break_glass_required)."),
            404: OpenApiResponse(description="No encounter with this external id."),
        },
        description="One encounter, for clinicians who may read the patient's record. Access-logged.",
    )
    def get(self, request, external_id):
        encounter = _encounter_for_read(request, external_id)
        _read_log(
            user=request.user,
            patient=encounter.patient,
            object_type="emr.encounter",
            object_id=str(encounter.external_id),
        )
        return Response(EncounterOutputSerializer(encounter).data)


class EncounterFinishApi(APIView):
    """Finish an encounter."""

    permission_classes = [IsAuthenticated, permission_required("emr.change_encounter")]

    class EncounterFinishInputSerializer(serializers.Serializer):
        ended_at = serializers.DateTimeField(required=False, help_text="Default: now.")

    @extend_schema(
        operation_id="emr_encounter_finish",
        request=EncounterFinishInputSerializer,
        responses={
            200: EncounterOutputSerializer,
            400: OpenApiResponse(description="Not in progress, or the end is before the start or in the future."),
            403: OpenApiResponse(description="Missing emr.change_encounter or no clinical access to the patient."),
            404: OpenApiResponse(description="No encounter with this external id."),
        },
        description="Finish an in-progress encounter. Ward staff lose their access with it. Access-logged.",
    )
    def post(self, request, external_id):
        encounter = _encounter_for_write(request, external_id)
        serializer = self.EncounterFinishInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        encounter = encounter_finish(
            encounter=encounter, finished_by=request.user, ended_at=serializer.validated_data.get("ended_at")
        )
        return _encounter_response(encounter)


class CareTeamAddApi(APIView):
    """Add a clinician to an encounter's care team."""

    permission_classes = [IsAuthenticated, permission_required("emr.change_encounter")]

    class CareTeamAddInputSerializer(serializers.Serializer):
        user = serializers.SlugRelatedField(
            slug_field="external_id", queryset=User.objects.filter(is_active=True), help_text=USER_REF_HELP
        )
        role = serializers.ChoiceField(choices=CareTeamMember.Role.choices)

    @extend_schema(
        operation_id="emr_care_team_add",
        request=CareTeamAddInputSerializer,
        responses={
            201: EncounterOutputSerializer,
            400: OpenApiResponse(description="Not a clinician, already on the team, or the encounter is over."),
            403: OpenApiResponse(description="Missing emr.change_encounter or no clinical access to the patient."),
            404: OpenApiResponse(description="No encounter with this external id."),
        },
        description="Add a doctor or nurse to the care team; it opens the patient's record to them. Access-logged.",
    )
    def post(self, request, external_id):
        encounter = _encounter_for_write(request, external_id)
        serializer = self.CareTeamAddInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        care_team_add(encounter=encounter, added_by=request.user, **serializer.validated_data)
        return _encounter_response(encounter, status.HTTP_201_CREATED)


class CareTeamRemoveApi(APIView):
    """Remove a clinician from an encounter's care team."""

    permission_classes = [IsAuthenticated, permission_required("emr.change_encounter")]

    @extend_schema(
        operation_id="emr_care_team_remove",
        request=None,
        responses={
            204: None,
            400: OpenApiResponse(description="Not on the team, the attending, or the encounter is over."),
            403: OpenApiResponse(description="Missing emr.change_encounter or no clinical access to the patient."),
            404: OpenApiResponse(description="No encounter or user with this external id."),
        },
        description="Remove a member of the care team (not the attending). Access-logged.",
    )
    def delete(self, request, external_id, user_id):
        encounter = _encounter_for_write(request, external_id)
        try:
            user = User.objects.get(external_id=user_id)
        except User.DoesNotExist as exc:
            raise Http404 from exc
        care_team_remove(encounter=encounter, user=user, removed_by=request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)


class BreakGlassOutputSerializer(serializers.Serializer):
    external_id = serializers.UUIDField()
    user = UserRefSerializer()
    patient = serializers.UUIDField(source="patient.external_id")
    patient_mrn = serializers.CharField(source="patient.mrn")
    patient_name = serializers.CharField(source="patient.full_name")
    reason = serializers.CharField()
    created_at = serializers.DateTimeField()
    expires_at = serializers.DateTimeField()
    is_active = serializers.SerializerMethodField()
    reviewed_at = serializers.DateTimeField(allow_null=True)
    reviewed_by = UserRefSerializer(allow_null=True)
    review_note = serializers.CharField()

    def get_is_active(self, grant: BreakGlassAccess) -> bool:
        return grant.expires_at > timezone.now()


class BreakGlassGrantApi(APIView):
    """Break the glass: time-limited access to one patient outside the user's care teams."""

    permission_classes = [IsAuthenticated, ClinicianRequired]

    class BreakGlassGrantInputSerializer(serializers.Serializer):
        reason = serializers.CharField(max_length=2000, allow_blank=True, help_text="Why; at least 10 characters.")
        minutes = serializers.IntegerField(
            required=False, allow_null=True, help_text="How long; default and longest: BREAK_GLASS_MINUTES."
        )

    @extend_schema(
        operation_id="emr_break_glass_grant",
        request=BreakGlassGrantInputSerializer,
        responses={
            201: BreakGlassOutputSerializer,
            400: OpenApiResponse(description="Missing or too short reason, or minutes out of range; nothing written."),
            403: OpenApiResponse(description="Only doctors and nurses can break the glass."),
            404: OpenApiResponse(description="No patient with this external id."),
        },
        description="Open the patient's record to the signed-in clinician until expires_at. The reason goes to "
        "the access log (action break_glass) and the grant is flagged for an auditor's review.",
    )
    def post(self, request, external_id):
        patient = _patient_or_404(external_id)
        serializer = self.BreakGlassGrantInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        grant = break_glass_grant(user=request.user, patient=patient, **serializer.validated_data)
        return Response(BreakGlassOutputSerializer(grant).data, status=status.HTTP_201_CREATED)


class BreakGlassListApi(generics.ListAPIView):
    """Break-the-glass grants for review."""

    serializer_class = BreakGlassOutputSerializer

    @extend_schema(
        operation_id="emr_break_glass_list",
        parameters=[
            OpenApiParameter("unreviewed", bool, description="1: only grants not reviewed yet."),
        ],
        description="Break-the-glass grants, newest first; auditors and administrators only (403 otherwise).",
    )
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)

    def get_queryset(self):
        unreviewed = self.request.query_params.get("unreviewed", "").lower() in ("1", "true", "yes")
        return break_glass_list(fetched_by=self.request.user, unreviewed=unreviewed)


class BreakGlassReviewApi(APIView):
    """An auditor's review of a break-the-glass grant."""

    class BreakGlassReviewInputSerializer(serializers.Serializer):
        note = serializers.CharField(max_length=4000, required=False, allow_blank=True, default="")

    @extend_schema(
        operation_id="emr_break_glass_review",
        request=BreakGlassReviewInputSerializer,
        responses={
            200: BreakGlassOutputSerializer,
            400: OpenApiResponse(description="Already reviewed."),
            403: OpenApiResponse(description="Not an auditor or administrator, or the reviewer's own grant."),
            404: OpenApiResponse(description="No grant with this external id."),
        },
        description="Record the review of a grant (clears its review flag). Access-logged as a write.",
    )
    def post(self, request, external_id):
        try:
            grant = break_glass_list(fetched_by=request.user).get(external_id=external_id)
        except BreakGlassAccess.DoesNotExist as exc:
            raise Http404 from exc
        serializer = self.BreakGlassReviewInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        grant = break_glass_review(grant=grant, reviewed_by=request.user, note=serializer.validated_data["note"])
        grant = break_glass_list(fetched_by=request.user).get(pk=grant.pk)
        return Response(BreakGlassOutputSerializer(grant).data)


urlpatterns = [
    path("patients/<uuid:external_id>/encounters/", PatientEncountersApi.as_view(), name="emr-patient-encounters"),
    path("patients/<uuid:external_id>/break-glass/", BreakGlassGrantApi.as_view(), name="emr-break-glass-grant"),
    path("encounters/<uuid:external_id>/", EncounterDetailApi.as_view(), name="emr-encounter-detail"),
    path("encounters/<uuid:external_id>/finish/", EncounterFinishApi.as_view(), name="emr-encounter-finish"),
    path("encounters/<uuid:external_id>/care-team/", CareTeamAddApi.as_view(), name="emr-care-team-add"),
    path(
        "encounters/<uuid:external_id>/care-team/<uuid:user_id>/",
        CareTeamRemoveApi.as_view(),
        name="emr-care-team-remove",
    ),
    path("break-glass/", BreakGlassListApi.as_view(), name="emr-break-glass-list"),
    path("break-glass/<uuid:external_id>/review/", BreakGlassReviewApi.as_view(), name="emr-break-glass-review"),
]
