"""REST API of the EMR app: validate input -> service/selector -> serialize output."""

from django.http import Http404
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import serializers, status
from rest_framework.permissions import BasePermission, IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from emr.models import Patient
from emr.selectors.access import PURPOSE_CLINICAL, PURPOSE_METADATA, is_clinician, sees_all_metadata
from emr.selectors.patients import patient_get
from emr.services.patients import EARLIEST_BIRTH_DATE, patient_create


def permission_required(perm: str) -> type[BasePermission]:
    """A DRF permission class that lets through users holding the Django permission `perm` (from their roles)."""

    class HasPermission(BasePermission):
        message = _("You do not have permission to perform this action.")

        def has_permission(self, request, view) -> bool:
            return bool(request.user and request.user.has_perm(perm))

    HasPermission.__name__ = f"HasPermission_{perm.replace('.', '_')}"
    return HasPermission


class PatientOutputSerializer(serializers.Serializer):
    external_id = serializers.UUIDField()
    mrn = serializers.CharField()
    family_name = serializers.CharField()
    given_name = serializers.CharField()
    full_name = serializers.CharField()
    sex = serializers.ChoiceField(choices=Patient.Sex.choices)
    birth_date = serializers.DateField()
    allergy_status = serializers.ChoiceField(choices=Patient.AllergyStatus.choices)
    created_at = serializers.DateTimeField()


class PatientMetadataOutputSerializer(serializers.Serializer):
    """What a records archivist sees of a patient: who they are, not their clinical state (no allergy status)."""

    external_id = serializers.UUIDField()
    mrn = serializers.CharField()
    family_name = serializers.CharField()
    given_name = serializers.CharField()
    full_name = serializers.CharField()
    sex = serializers.ChoiceField(choices=Patient.Sex.choices)
    birth_date = serializers.DateField()
    is_active = serializers.BooleanField()
    created_at = serializers.DateTimeField()


class PatientCreateApi(APIView):
    """Register a patient."""

    permission_classes = [IsAuthenticated, permission_required("emr.add_patient")]

    class InputSerializer(serializers.Serializer):
        family_name = serializers.CharField(max_length=100)
        given_name = serializers.CharField(max_length=100)
        sex = serializers.ChoiceField(choices=Patient.Sex.choices)
        birth_date = serializers.DateField()

        def validate_birth_date(self, value):
            if value > timezone.localdate():
                raise serializers.ValidationError(_("The birth date cannot be in the future."))
            if value < EARLIEST_BIRTH_DATE:
                raise serializers.ValidationError(_("The birth date cannot be before 1900."))
            return value

    @extend_schema(
        operation_id="emr_patient_create",
        request=InputSerializer,
        responses={
            201: PatientOutputSerializer,
            400: OpenApiResponse(description="Invalid fields; nothing was written."),
            403: OpenApiResponse(description="Missing the emr.add_patient permission."),
        },
        description="Register a patient. The MRN is assigned by the server. The write is access-logged.",
    )
    def post(self, request):
        serializer = self.InputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        patient = patient_create(**serializer.validated_data, created_by=request.user)
        response = Response(PatientOutputSerializer(patient).data, status=status.HTTP_201_CREATED)
        response["Location"] = reverse("emr-patient-detail", kwargs={"external_id": patient.external_id})
        return response


class PatientDetailApi(APIView):
    """One patient."""

    permission_classes = [IsAuthenticated, permission_required("emr.view_patient")]

    @extend_schema(
        operation_id="emr_patient_retrieve",
        responses={
            200: PatientOutputSerializer,
            403: OpenApiResponse(
                description="Missing the emr.view_patient permission, or a clinician who does not treat the patient "
                "(error code break_glass_required; the message says how to break the glass)."
            ),
            404: OpenApiResponse(description="No patient with this external id."),
        },
        description="Read one patient by external id, scoped to the user's care teams, wards and break-the-glass "
        "grants. Records archivists get the record metadata (without the allergy status). The read, and a "
        "refused attempt, are access-logged.",
    )
    def get(self, request, external_id):
        # A records archivist reads metadata; anyone with a clinical role reads (and is scoped) clinically.
        metadata_only = sees_all_metadata(request.user) and not is_clinician(request.user)
        purpose = PURPOSE_METADATA if metadata_only else PURPOSE_CLINICAL
        try:
            patient = patient_get(external_id=external_id, fetched_by=request.user, purpose=purpose)
        except Patient.DoesNotExist as exc:
            raise Http404 from exc
        serializer_class = PatientMetadataOutputSerializer if metadata_only else PatientOutputSerializer
        return Response(serializer_class(patient).data)
