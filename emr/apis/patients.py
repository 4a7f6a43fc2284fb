"""REST API of the EMR app: validate input -> service/selector -> serialize output."""

from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404
from django.urls import path, reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema, inline_serializer
from rest_framework import serializers, status
from rest_framework.permissions import BasePermission, IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from emr.models import Patient, PatientMerge
from emr.selectors.access import PURPOSE_CLINICAL, PURPOSE_METADATA, is_clinician, sees_all_metadata
from emr.selectors.patients import (
    REASON_NAME_BIRTH_DATE,
    REASON_NATIONAL_ID,
    REASON_PHONE,
    SEARCH_LIMIT_MAX,
    patient_duplicate_candidates,
    patient_for_update,
    patient_get,
    patient_search,
    search_kind,
)
from emr.services.merge import merge_allowed, patient_merge, patient_merge_reverse
from emr.services.patients import (
    EARLIEST_BIRTH_DATE,
    IDENTIFIER_FIELDS,
    identifiers_normalize,
    patient_create,
    patient_update,
)


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
    # Identifiers in full: this serializer answers for ONE patient whom the user may open (the selector
    # checked it and logged the read). Lists mask them (PatientSearchResultSerializer).
    national_id = serializers.CharField(allow_null=True)
    phone = serializers.CharField(allow_null=True)
    insurance_number = serializers.CharField(allow_null=True)
    address = serializers.CharField(allow_null=True)
    email = serializers.CharField(allow_null=True)
    is_active = serializers.BooleanField()
    merged_into = serializers.SerializerMethodField()
    created_at = serializers.DateTimeField()

    def get_merged_into(self, patient) -> str | None:
        """External id of the patient this registration was merged into, if it was."""
        return str(patient.merged_into.external_id) if patient.merged_into_id else None


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


# --- search, registration with duplicate detection, demographics, merges ---------------------------------------


class AdministratorRequired(BasePermission):
    message = _("Only an administrator may merge patients or reverse a merge.")

    def has_permission(self, request, view) -> bool:
        return merge_allowed(request.user)


def _mask(value: str | None, *, keep_start: int = 0, keep_end: int = 4) -> str | None:
    # Enough to tell two patients apart at the desk, not enough to be the identifier.
    if not value:
        return None
    if len(value) <= keep_start + keep_end:
        return "*" * len(value)
    return value[:keep_start] + "*" * (len(value) - keep_start - keep_end) + value[-keep_end:]


class PatientSearchResultSerializer(serializers.Serializer):
    """A search hit: identifiers masked (the full ones are on the patient's own record, which logs its read)."""

    external_id = serializers.UUIDField()
    mrn = serializers.CharField()
    family_name = serializers.CharField()
    given_name = serializers.CharField()
    full_name = serializers.CharField()
    sex = serializers.ChoiceField(choices=Patient.Sex.choices)
    birth_date = serializers.DateField()
    national_id_masked = serializers.SerializerMethodField()
    phone_masked = serializers.SerializerMethodField()

    def get_national_id_masked(self, patient) -> str | None:
        return _mask(patient.national_id, keep_start=4, keep_end=4)

    def get_phone_masked(self, patient) -> str | None:
        return _mask(patient.phone, keep_end=4)


class PatientSearchResponseSerializer(serializers.Serializer):
    kind = serializers.ChoiceField(choices=["mrn", "identifier", "name"])
    count = serializers.IntegerField()
    limit = serializers.IntegerField()
    results = PatientSearchResultSerializer(many=True)


class DuplicateCandidateSerializer(serializers.Serializer):
    """A likely duplicate with minimal data: enough to recognise the person, nothing clinical."""

    external_id = serializers.UUIDField(source="patient.external_id")
    mrn = serializers.CharField(source="patient.mrn")
    full_name = serializers.CharField(source="patient.full_name")
    birth_year = serializers.IntegerField(source="patient.birth_date.year")
    score = serializers.FloatField()
    reasons = serializers.ListField(child=serializers.CharField())

    codes = serializers.ListField(
        child=serializers.ChoiceField(choices=[REASON_NATIONAL_ID, REASON_PHONE, REASON_NAME_BIRTH_DATE])
    )


class DuplicateCandidatesResponseSerializer(serializers.Serializer):
    candidates = DuplicateCandidateSerializer(many=True)


class PatientIdentifiersInputMixin(serializers.Serializer):
    """Identifier fields, normalised and validated in validate() (a resident ID's check character, birth date)."""

    national_id = serializers.CharField(max_length=60, required=False, allow_blank=True, allow_null=True)
    phone = serializers.CharField(max_length=40, required=False, allow_blank=True, allow_null=True)
    insurance_number = serializers.CharField(max_length=80, required=False, allow_blank=True, allow_null=True)
    address = serializers.CharField(max_length=400, required=False, allow_blank=True, allow_null=True)
    email = serializers.CharField(max_length=254, required=False, allow_blank=True, allow_null=True)

    def _identifiers_validate(self, attrs: dict, *, birth_date) -> dict:
        present = {name: attrs[name] for name in IDENTIFIER_FIELDS if name in attrs}
        try:
            attrs.update(identifiers_normalize(present, birth_date=birth_date))
        except DjangoValidationError as exc:
            raise serializers.ValidationError(exc.message_dict) from exc
        return attrs


def _birth_date_check(value):
    if value > timezone.localdate():
        raise serializers.ValidationError(_("The birth date cannot be in the future."))
    if value < EARLIEST_BIRTH_DATE:
        raise serializers.ValidationError(_("The birth date cannot be before 1900."))
    return value


class DuplicateCheckInputSerializer(serializers.Serializer):
    family_name = serializers.CharField(max_length=100)
    given_name = serializers.CharField(max_length=100)
    birth_date = serializers.DateField()
    phone = serializers.CharField(max_length=40, required=False, allow_blank=True, allow_null=True)
    national_id = serializers.CharField(max_length=60, required=False, allow_blank=True, allow_null=True)


def _candidates_for(data: dict, user) -> list:
    return patient_duplicate_candidates(
        family_name=data["family_name"],
        given_name=data["given_name"],
        birth_date=data["birth_date"],
        phone=data.get("phone") or None,
        national_id=data.get("national_id") or None,
        fetched_by=user,
    )


class PatientListCreateApi(APIView):
    """Search patients (GET) and register a patient (POST)."""

    def get_permissions(self):
        perm = "emr.view_patient" if self.request.method == "GET" else "emr.add_patient"
        return [IsAuthenticated(), permission_required(perm)()]

    class InputSerializer(PatientIdentifiersInputMixin):
        family_name = serializers.CharField(max_length=100)
        given_name = serializers.CharField(max_length=100)
        sex = serializers.ChoiceField(choices=Patient.Sex.choices)
        birth_date = serializers.DateField()
        allergy_status = serializers.ChoiceField(choices=Patient.AllergyStatus.choices, required=False)
        confirm_not_duplicate = serializers.BooleanField(
            default=False, help_text="Register even though likely duplicates exist (the user checked them)."
        )

        def validate_birth_date(self, value):
            return _birth_date_check(value)

        def validate(self, attrs):
            return self._identifiers_validate(attrs, birth_date=attrs.get("birth_date"))

    @extend_schema(
        operation_id="emr_patient_search",
        parameters=[
            OpenApiParameter("q", str, description="MRN, national ID, phone, insurance number, or a name."),
            OpenApiParameter(
                "limit", int, description=f"At most this many results (default 20, max {SEARCH_LIMIT_MAX})."
            ),
        ],
        responses={
            200: PatientSearchResponseSerializer,
            403: OpenApiResponse(description="Missing the emr.view_patient permission."),
        },
        description="Find active patients among those the user may see: by MRN (exact or prefix), by identifier "
        "(exact after normalisation, through the blind index), or by name (trigram similarity, Chinese or Latin, "
        "either order). Identifiers in the results are masked. One access-log entry per search, with the kind of "
        "query and the number of results, never the query text.",
    )
    def get(self, request):
        query = request.query_params.get("q", "")
        try:
            limit = int(request.query_params.get("limit", 20))
        except ValueError:
            raise serializers.ValidationError({"limit": [_("Enter a whole number.")]}) from None
        limit = max(1, min(limit, SEARCH_LIMIT_MAX))
        results = patient_search(query=query, fetched_by=request.user, limit=limit)
        return Response(
            {
                "kind": search_kind(query),
                "count": len(results),
                "limit": limit,
                "results": PatientSearchResultSerializer(results, many=True).data,
            }
        )

    @extend_schema(
        operation_id="emr_patient_create",
        request=InputSerializer,
        responses={
            201: PatientOutputSerializer,
            400: OpenApiResponse(description="Invalid fields; nothing was written."),
            403: OpenApiResponse(description="Missing the emr.add_patient permission."),
            409: OpenApiResponse(
                response=DuplicateCandidatesResponseSerializer,
                description="Likely duplicates exist (error code possible_duplicates, with `candidates`); nothing "
                "was written. Check them, then repeat with confirm_not_duplicate true to register anyway.",
            ),
        },
        description="Register a patient. The MRN is assigned by the server. Identifiers are normalised, validated "
        "(a Chinese resident ID's check character and birth date) and stored encrypted. Unless "
        "confirm_not_duplicate is true, likely duplicates answer 409. The write is access-logged.",
    )
    def post(self, request):
        serializer = self.InputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = dict(serializer.validated_data)
        confirmed = data.pop("confirm_not_duplicate")
        if not confirmed:
            candidates = _candidates_for(data, request.user)
            if candidates:
                body = {
                    "error": {
                        "code": "possible_duplicates",
                        "message": _(
                            "This patient may already be registered. Check the candidates; to register a "
                            "different person, send the request again with confirm_not_duplicate set to true."
                        ),
                        "fields": {},
                    },
                    "candidates": DuplicateCandidateSerializer(candidates, many=True).data,
                }
                return Response(body, status=status.HTTP_409_CONFLICT)
        patient = patient_create(**data, created_by=request.user)
        response = Response(PatientOutputSerializer(patient).data, status=status.HTTP_201_CREATED)
        response["Location"] = reverse("emr-patient-detail", kwargs={"external_id": patient.external_id})
        return response


# The registration endpoint's former name, kept for code that imports it.
PatientCreateApi = PatientListCreateApi


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

    class UpdateInputSerializer(PatientIdentifiersInputMixin):
        family_name = serializers.CharField(max_length=100, required=False)
        given_name = serializers.CharField(max_length=100, required=False)
        sex = serializers.ChoiceField(choices=Patient.Sex.choices, required=False)
        birth_date = serializers.DateField(required=False)
        allergy_status = serializers.ChoiceField(choices=Patient.AllergyStatus.choices, required=False)

        def validate_birth_date(self, value):
            return _birth_date_check(value)

        def validate(self, attrs):
            # The national ID's birth date is checked against the patient's birth date by the service.
            return self._identifiers_validate(attrs, birth_date=attrs.get("birth_date"))

    @extend_schema(
        operation_id="emr_patient_update",
        request=UpdateInputSerializer,
        responses={
            200: PatientOutputSerializer,
            400: OpenApiResponse(description="Invalid fields; nothing was written."),
            403: OpenApiResponse(description="Missing emr.change_patient, or the patient is outside the user's scope."),
            404: OpenApiResponse(description="No patient with this external id."),
        },
        description="Change demographics and identifiers (only the fields sent). Identifiers are validated as at "
        "registration. The write is access-logged with the names of the changed fields.",
    )
    def patch(self, request, external_id):
        serializer = self.UpdateInputSerializer(data=request.data, partial=True)
        try:
            patient = patient_for_update(external_id=external_id, user=request.user)
        except Patient.DoesNotExist as exc:
            raise Http404 from exc
        serializer.is_valid(raise_exception=True)
        patient = patient_update(patient=patient, updated_by=request.user, **serializer.validated_data)
        return Response(PatientOutputSerializer(patient).data)


class PatientDuplicatesApi(APIView):
    """Likely duplicates of a patient about to be registered, without saving anything."""

    permission_classes = [IsAuthenticated, permission_required("emr.add_patient")]

    @extend_schema(
        operation_id="emr_patient_duplicates",
        request=DuplicateCheckInputSerializer,
        responses={
            200: DuplicateCandidatesResponseSerializer,
            400: OpenApiResponse(description="Invalid fields."),
            403: OpenApiResponse(description="Missing the emr.add_patient permission."),
        },
        description="Registered patients who may be this person: same national ID, same phone, or a similar name "
        "(trigram similarity) with the same birth date, strongest first. Searches the whole hospital, so a "
        "candidate carries only name, MRN and birth year. Logged as a search when it finds someone.",
    )
    def post(self, request):
        serializer = DuplicateCheckInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        candidates = _candidates_for(serializer.validated_data, request.user)
        return Response({"candidates": DuplicateCandidateSerializer(candidates, many=True).data})


class PatientMergeOutputSerializer(serializers.Serializer):
    external_id = serializers.UUIDField()
    survivor = serializers.UUIDField(source="survivor.external_id")
    duplicate = serializers.UUIDField(source="duplicate.external_id")
    reason = serializers.CharField()
    moved = serializers.SerializerMethodField()
    performed_by = serializers.CharField(source="performed_by.username")
    created_at = serializers.DateTimeField()
    reversed_at = serializers.DateTimeField(allow_null=True)
    reversed_by = serializers.CharField(source="reversed_by.username", allow_null=True, default=None)

    def get_moved(self, merge) -> dict[str, int]:
        """How many rows of each model the merge moved (the ids are in the admin)."""
        return {label: sum(len(ids) for ids in fields.values()) for label, fields in merge.moved.items()}


class PatientMergeApi(APIView):
    """Merge a duplicate registration into this patient."""

    permission_classes = [IsAuthenticated, AdministratorRequired]

    class InputSerializer(serializers.Serializer):
        duplicate = serializers.UUIDField(help_text="External id of the duplicate registration to merge away.")
        reason = serializers.CharField(max_length=2000)

    @extend_schema(
        operation_id="emr_patient_merge",
        request=inline_serializer(name="PatientMergeInput", fields=InputSerializer().get_fields()),
        responses={
            201: PatientMergeOutputSerializer,
            400: OpenApiResponse(description="Unknown or inactive duplicate, the same patient, or no reason."),
            403: OpenApiResponse(description="Not an administrator."),
            404: OpenApiResponse(description="No patient with this external id."),
        },
        description="Re-point every record of the duplicate to this patient (signed notes included, their content "
        "untouched), deactivate the duplicate, and record what moved so the merge can be "
        "reversed. Both patients' access logs record it. Administrators only.",
    )
    def post(self, request, external_id):
        serializer = self.InputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        survivor = Patient.objects.filter(external_id=external_id).first()
        if survivor is None:
            raise Http404
        duplicate = Patient.objects.filter(external_id=serializer.validated_data["duplicate"]).first()
        if duplicate is None:
            raise serializers.ValidationError({"duplicate": [_("No patient with this id.")]})
        merge = patient_merge(
            survivor=survivor,
            duplicate=duplicate,
            reason=serializer.validated_data["reason"],
            performed_by=request.user,
        )
        return Response(PatientMergeOutputSerializer(merge).data, status=status.HTTP_201_CREATED)


class PatientMergeReverseApi(APIView):
    """Reverse a merge."""

    permission_classes = [IsAuthenticated, AdministratorRequired]

    @extend_schema(
        operation_id="emr_patient_merge_reverse",
        request=None,
        responses={
            200: PatientMergeOutputSerializer,
            400: OpenApiResponse(description="Already reversed, or the survivor was merged again since."),
            403: OpenApiResponse(description="Not an administrator."),
            404: OpenApiResponse(description="No merge with this external id."),
        },
        description="Move exactly the rows the merge moved back to the duplicate and reactivate it. "
        "Administrators only.",
    )
    def post(self, request, external_id):
        merge = PatientMerge.objects.filter(external_id=external_id).first()
        if merge is None:
            raise Http404
        merge = patient_merge_reverse(merge=merge, reversed_by=request.user)
        merge = PatientMerge.objects.select_related("survivor", "duplicate", "performed_by", "reversed_by").get(
            pk=merge.pk
        )
        return Response(PatientMergeOutputSerializer(merge).data)


urlpatterns = [
    path("patients/duplicates/", PatientDuplicatesApi.as_view(), name="emr-patient-duplicates"),
    path("patients/<uuid:external_id>/merge/", PatientMergeApi.as_view(), name="emr-patient-merge"),
    path("merges/<uuid:external_id>/reverse/", PatientMergeReverseApi.as_view(), name="emr-patient-merge-reverse"),
]
