"""REST API of clinical notes and observations: validate input -> service/selector -> serialize output.

Notes: drafts are created, edited, given diagnoses and provenance, then signed; a signed note answers
409 to every change (nothing is written) and is corrected by an amendment, a new version. Vital signs
and laboratory results hang off the patient. Every read is access-logged once per request.
"""

from django.http import Http404
from django.urls import path
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import exceptions, serializers, status
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from emr.apis.patients import permission_required
from emr.models import ClinicalNote, Encounter, NoteDiagnosis, NoteFieldProvenance, Observation, Patient
from emr.selectors.notes import note_search, note_timeline, note_versions, notes_with_related
from emr.selectors.observations import lab_results, vital_readings
from emr.services import notes as note_services
from emr.services.notes import SignedNoteError
from emr.services.observations import lab_result_record, vital_signs_record
from hospital.core.services.access_log import access_log_record

TEXT_MAX = 20000
TIMELINE_LIMIT = 100
VITALS_LIMIT = 500
LABS_LIMIT = 200
SEARCH_LIMIT = 50


class NoteSignedConflict(exceptions.APIException):
    status_code = status.HTTP_409_CONFLICT
    default_code = "note_signed"
    default_detail = gettext_lazy("This note is signed and can no longer be changed. Amend it instead.")


class MethodPermissionsMixin:
    """Per-method Django permissions: `method_permissions` maps an HTTP method to the permission it needs."""

    method_permissions: dict[str, str] = {}

    def get_permissions(self):
        method = "GET" if self.request.method == "HEAD" else self.request.method
        perm = self.method_permissions.get(method)
        if perm is None:  # OPTIONS, or a method the view refuses with 405
            return [IsAuthenticated()]
        return [IsAuthenticated(), permission_required(perm)()]


# --- serializers ---------------------------------------------------------------------------------------


class ClinicianRefSerializer(serializers.Serializer):
    external_id = serializers.UUIDField()
    username = serializers.CharField()
    display_name = serializers.CharField(source="__str__")


class DiagnosisOutputSerializer(serializers.Serializer):
    code = serializers.CharField(source="icd10.code")
    title = serializers.CharField(source="icd10.title")
    title_zh = serializers.CharField(source="icd10.title_zh")
    rank = serializers.IntegerField()
    certainty = serializers.ChoiceField(choices=NoteDiagnosis.Certainty.choices)


class NoteOutputSerializer(serializers.Serializer):
    external_id = serializers.UUIDField()
    patient = serializers.UUIDField(source="patient.external_id")
    encounter = serializers.UUIDField(source="encounter.external_id")
    author = ClinicianRefSerializer()
    note_type = serializers.ChoiceField(choices=ClinicalNote.NoteType.choices)
    status = serializers.ChoiceField(choices=ClinicalNote.Status.choices)
    thread = serializers.UUIDField()
    version = serializers.IntegerField()
    amends = serializers.UUIDField(source="amends.external_id", allow_null=True, default=None)
    amendment_reason = serializers.CharField()
    chief_complaint = serializers.CharField()
    history_present_illness = serializers.CharField()
    past_history = serializers.CharField()
    current_medications = serializers.CharField()
    allergies = serializers.CharField()
    examination = serializers.CharField()
    assessment = serializers.CharField()
    plan = serializers.CharField()
    diagnoses = DiagnosisOutputSerializer(many=True, source="diagnoses.all")
    signed_at = serializers.DateTimeField(allow_null=True)
    signed_by = ClinicianRefSerializer(allow_null=True)
    created_at = serializers.DateTimeField()
    updated_at = serializers.DateTimeField()


class ProvenanceOutputSerializer(serializers.Serializer):
    external_id = serializers.UUIDField()
    # The metaclass turns these into declared fields; the stubs see them as overriding Field.field_name/.source.
    field_name = serializers.CharField()  # type: ignore[assignment]
    source = serializers.ChoiceField(choices=NoteFieldProvenance.Source.choices)  # type: ignore[assignment]
    model_name = serializers.CharField()
    model_version = serializers.CharField()
    confidence = serializers.DecimalField(max_digits=4, decimal_places=3, allow_null=True)
    span_start = serializers.IntegerField(allow_null=True)
    span_end = serializers.IntegerField(allow_null=True)
    source_text = serializers.CharField()
    accepted = serializers.BooleanField(allow_null=True)
    edited = serializers.BooleanField()
    created_at = serializers.DateTimeField()


class ObservationOutputSerializer(serializers.Serializer):
    external_id = serializers.UUIDField()
    category = serializers.ChoiceField(choices=Observation.Category.choices)
    code = serializers.CharField()
    display = serializers.CharField()
    value_numeric = serializers.DecimalField(max_digits=12, decimal_places=4, allow_null=True)
    value_text = serializers.CharField()
    unit = serializers.CharField()
    reference_low = serializers.DecimalField(max_digits=12, decimal_places=4, allow_null=True)
    reference_high = serializers.DecimalField(max_digits=12, decimal_places=4, allow_null=True)
    flag = serializers.CharField(help_text="N, L, H, LL (critically low), HH (critically high), A, or empty.")
    effective_at = serializers.DateTimeField()
    set_id = serializers.UUIDField(allow_null=True)
    # The metaclass turns this into a declared field; the stubs see it as overriding Field.source.
    source = serializers.ChoiceField(choices=Observation.Source.choices)  # type: ignore[assignment]
    encounter = serializers.UUIDField(source="encounter.external_id", allow_null=True, default=None)
    note = serializers.UUIDField(source="note.external_id", allow_null=True, default=None)
    recorded_by = ClinicianRefSerializer()


class SearchHitOutputSerializer(serializers.Serializer):
    note = serializers.UUIDField(source="note.external_id")
    patient = serializers.UUIDField(source="note.patient.external_id")
    patient_name = serializers.CharField(source="note.patient.full_name")
    mrn = serializers.CharField(source="note.patient.mrn")
    note_type = serializers.ChoiceField(source="note.note_type", choices=ClinicalNote.NoteType.choices)
    status = serializers.ChoiceField(source="note.status", choices=ClinicalNote.Status.choices)
    version = serializers.IntegerField(source="note.version")
    created_at = serializers.DateTimeField(source="note.created_at")
    rank = serializers.FloatField()
    snippet = serializers.CharField(help_text="HTML: the note's text escaped, matches wrapped in <mark>.")


class DiagnosisInputSerializer(serializers.Serializer):
    code = serializers.CharField(max_length=16, help_text="ICD-10 code, e.g. I20.0")
    certainty = serializers.ChoiceField(choices=NoteDiagnosis.Certainty.choices, default="confirmed")


def _text_field(**kwargs):
    return serializers.CharField(required=False, allow_blank=True, max_length=TEXT_MAX, trim_whitespace=False, **kwargs)


class NoteFieldsSerializer(serializers.Serializer):
    chief_complaint = _text_field()
    history_present_illness = _text_field()
    past_history = _text_field()
    current_medications = _text_field()
    allergies = _text_field()
    examination = _text_field()
    assessment = _text_field()
    plan = _text_field()


# --- helpers ---------------------------------------------------------------------------------------------


def _patient(request, external_id, *, write: bool = False, object_type: str = "emr.clinicalnote") -> Patient:
    from emr.selectors.access import BreakGlassRequired, patient_for_clinical_read, patient_for_clinical_write

    lookup = patient_for_clinical_write if write else patient_for_clinical_read
    try:
        return lookup(user=request.user, external_id=external_id)
    except Patient.DoesNotExist as exc:
        raise Http404 from exc
    except BreakGlassRequired as exc:
        if not write:
            from emr.services.access import access_denied_record

            access_denied_record(user=request.user, patient=exc.patient, object_type=object_type)
        raise


def _note(request, external_id, *, write: bool = False) -> ClinicalNote:
    """The note if the user may read (or write) its patient's record; another user's draft is not found."""
    note = notes_with_related().filter(external_id=external_id).first()
    if note is None:
        raise Http404
    patient = _patient(request, note.patient.external_id, write=write)
    if note.status == ClinicalNote.Status.DRAFT and not note_services.note_may_edit(note=note, user=request.user):
        raise Http404
    note.patient.via_break_glass = patient.via_break_glass
    return note


def _read_log(request, *, patient: Patient, object_type: str, object_id: str = "", detail: dict | None = None):
    detail = dict(detail or {})
    if getattr(patient, "via_break_glass", False):
        detail["break_glass"] = True
    access_log_record(
        actor=request.user,
        action="read",
        object_type=object_type,
        object_id=object_id,
        patient_external_id=patient.external_id,
        detail=detail,
    )


def _note_response(note: ClinicalNote, status_code: int = status.HTTP_200_OK) -> Response:
    note = notes_with_related().get(pk=note.pk)
    return Response(NoteOutputSerializer(note).data, status=status_code)


def _conflict_on_signed(call, **kwargs):
    try:
        return call(**kwargs)
    except SignedNoteError as exc:
        raise NoteSignedConflict(exc.messages[0]) from exc


SIGNED_409 = OpenApiResponse(description="The note is signed: nothing was changed (code note_signed). Amend it.")
NO_ACCESS_403 = OpenApiResponse(description="Missing permission or no clinical access to the patient.")
NOTE_404 = OpenApiResponse(description="No note with this external id (or another user's draft).")
NOTE_WRITE_ERRORS = {
    400: OpenApiResponse(description="Invalid fields; nothing was written."),
    403: NO_ACCESS_403,
    404: NOTE_404,
    409: SIGNED_409,
}


# --- notes -------------------------------------------------------------------------------------------------


class PatientNotesApi(MethodPermissionsMixin, APIView):
    """A patient's notes: the timeline, or a new draft."""

    method_permissions = {"GET": "emr.view_clinicalnote", "POST": "emr.add_clinicalnote"}

    class NoteCreateInputSerializer(NoteFieldsSerializer):
        encounter = serializers.UUIDField(help_text="External id of the patient's encounter the note belongs to.")
        note_type = serializers.ChoiceField(choices=ClinicalNote.NoteType.choices, default="progress")

    @extend_schema(
        operation_id="emr_note_list",
        responses={200: NoteOutputSerializer(many=True), 403: NO_ACCESS_403, 404: OpenApiResponse()},
        description="The patient's notes, newest first: the current version of every signed note and the "
        f"user's own drafts (at most {TIMELINE_LIMIT}). Access-logged.",
    )
    def get(self, request, external_id):
        patient = _patient(request, external_id)
        notes = note_timeline(patient_ids=[patient.pk], fetched_by=request.user, limit=TIMELINE_LIMIT)
        _read_log(request, patient=patient, object_type="emr.clinicalnote", detail={"list": True, "count": len(notes)})
        return Response(NoteOutputSerializer(notes, many=True).data)

    @extend_schema(
        operation_id="emr_note_create",
        request=NoteCreateInputSerializer,
        responses={201: NoteOutputSerializer, 400: OpenApiResponse(description="Invalid fields."), 403: NO_ACCESS_403},
        description="Start a draft note for one of the patient's encounters. Access-logged.",
    )
    def post(self, request, external_id):
        patient = _patient(request, external_id, write=True)
        serializer = self.NoteCreateInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = dict(serializer.validated_data)
        encounter = Encounter.objects.filter(external_id=data.pop("encounter"), patient=patient).first()
        if encounter is None:
            raise exceptions.ValidationError({"encounter": [_("The patient has no encounter with this id.")]})
        note = note_services.note_create_draft(encounter=encounter, author=request.user, **data)
        return _note_response(note, status.HTTP_201_CREATED)


class NoteDetailApi(MethodPermissionsMixin, APIView):
    """One note version: read it; edit or discard it while it is a draft."""

    method_permissions = {
        "GET": "emr.view_clinicalnote",
        "PATCH": "emr.change_clinicalnote",
        "DELETE": "emr.delete_clinicalnote",
    }

    class NoteUpdateInputSerializer(NoteFieldsSerializer):
        note_type = serializers.ChoiceField(choices=ClinicalNote.NoteType.choices, required=False)

    @extend_schema(
        operation_id="emr_note_retrieve",
        responses={200: NoteOutputSerializer, 403: NO_ACCESS_403, 404: NOTE_404},
        description="One note version with its diagnoses. Access-logged.",
    )
    def get(self, request, external_id):
        note = _note(request, external_id)
        _read_log(request, patient=note.patient, object_type="emr.clinicalnote", object_id=str(note.external_id))
        return Response(NoteOutputSerializer(note).data)

    @extend_schema(
        operation_id="emr_note_update",
        request=NoteUpdateInputSerializer,
        responses={200: NoteOutputSerializer, **NOTE_WRITE_ERRORS},
        description="Change fields of a draft (author or a doctor of the care team). A signed note: 409.",
    )
    def patch(self, request, external_id):
        note = _note(request, external_id, write=True)
        if note.status == ClinicalNote.Status.SIGNED:
            raise NoteSignedConflict
        serializer = self.NoteUpdateInputSerializer(data=request.data, partial=True)
        serializer.is_valid(raise_exception=True)
        note = _conflict_on_signed(
            note_services.note_update_draft, note=note, edited_by=request.user, **serializer.validated_data
        )
        return _note_response(note)

    @extend_schema(
        operation_id="emr_note_discard",
        responses={204: None, 403: NO_ACCESS_403, 404: NOTE_404, 409: SIGNED_409},
        description="Discard a draft (its author only). A signed note: 409.",
    )
    def delete(self, request, external_id):
        note = _note(request, external_id, write=True)
        _conflict_on_signed(note_services.note_delete_draft, note=note, deleted_by=request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)


class NoteSignApi(MethodPermissionsMixin, APIView):
    """Sign a draft."""

    method_permissions = {"POST": "emr.change_clinicalnote"}

    @extend_schema(
        operation_id="emr_note_sign",
        request=None,
        responses={200: NoteOutputSerializer, **NOTE_WRITE_ERRORS},
        description="Sign a draft (a doctor who wrote it or treats the patient; it needs a chief complaint or "
        "an assessment). From then on it never changes. Access-logged as sign.",
    )
    def post(self, request, external_id):
        note = _note(request, external_id, write=True)
        note = _conflict_on_signed(note_services.note_sign, note=note, signed_by=request.user)
        return _note_response(note)


class NoteAmendApi(MethodPermissionsMixin, APIView):
    """Amend a signed note: a new draft version linked to it."""

    method_permissions = {"POST": "emr.change_clinicalnote"}

    class NoteAmendInputSerializer(NoteFieldsSerializer):
        reason = serializers.CharField(max_length=2000)

    @extend_schema(
        operation_id="emr_note_amend",
        request=NoteAmendInputSerializer,
        responses={201: NoteOutputSerializer, 400: OpenApiResponse(), 403: NO_ACCESS_403, 404: NOTE_404},
        description="Start an amendment of the newest signed version: a draft with version + 1 that copies its "
        "fields and diagnoses, applies the given fields, and is then edited and signed like any draft. "
        "The signed version stays unchanged.",
    )
    def post(self, request, external_id):
        note = _note(request, external_id, write=True)
        serializer = self.NoteAmendInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = dict(serializer.validated_data)
        amendment = note_services.note_amend(note=note, amended_by=request.user, reason=data.pop("reason"), **data)
        return _note_response(amendment, status.HTTP_201_CREATED)


class NoteVersionsApi(MethodPermissionsMixin, APIView):
    """Every version of a note."""

    method_permissions = {"GET": "emr.view_clinicalnote"}

    @extend_schema(
        operation_id="emr_note_versions",
        responses={200: NoteOutputSerializer(many=True), 403: NO_ACCESS_403, 404: NOTE_404},
        description="All versions of the note's thread, oldest first (other users' drafts left out). Access-logged.",
    )
    def get(self, request, external_id):
        note = _note(request, external_id)
        versions = note_versions(thread=note.thread, fetched_by=request.user)
        _read_log(
            request,
            patient=note.patient,
            object_type="emr.clinicalnote",
            object_id=str(note.external_id),
            detail={"versions": len(versions)},
        )
        return Response(NoteOutputSerializer(versions, many=True).data)


class NoteDiagnosesApi(MethodPermissionsMixin, APIView):
    """Set the coded diagnoses of a draft."""

    method_permissions = {"PUT": "emr.change_clinicalnote"}

    class NoteDiagnosesInputSerializer(serializers.Serializer):
        # ListSerializer (many=True) takes max_length; the stubs do not list it.
        diagnoses = DiagnosisInputSerializer(many=True, allow_empty=True, max_length=50)  # type: ignore[call-arg]

    @extend_schema(
        operation_id="emr_note_diagnoses_set",
        request=NoteDiagnosesInputSerializer,
        responses={200: NoteOutputSerializer, **NOTE_WRITE_ERRORS},
        description="Replace the draft's diagnoses with the list given, principal first: "
        '{"diagnoses": [{"code": "I20.0", "certainty": "confirmed"}]}. An unknown code: 400, nothing changed.',
    )
    def put(self, request, external_id):
        note = _note(request, external_id, write=True)
        if note.status == ClinicalNote.Status.SIGNED:
            raise NoteSignedConflict
        serializer = self.NoteDiagnosesInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        _conflict_on_signed(
            note_services.note_set_diagnoses,
            note=note,
            diagnoses=[(item["code"], item["certainty"]) for item in serializer.validated_data["diagnoses"]],
            set_by=request.user,
        )
        return _note_response(note)


class NoteProvenanceApi(MethodPermissionsMixin, APIView):
    """Where each field of a note came from."""

    method_permissions = {"GET": "emr.view_clinicalnote", "POST": "emr.change_clinicalnote"}

    class ProvenanceInputSerializer(serializers.Serializer):
        # The metaclass turns these into declared fields; the stubs see them as overriding Field.field_name/.source.
        field_name = serializers.ChoiceField(choices=note_services.PROVENANCE_FIELDS)  # type: ignore[assignment]
        source = serializers.ChoiceField(choices=NoteFieldProvenance.Source.choices)  # type: ignore[assignment]
        model_name = serializers.CharField(max_length=200, required=False, allow_blank=True, default="")
        model_version = serializers.CharField(max_length=100, required=False, allow_blank=True, default="")
        confidence = serializers.DecimalField(
            max_digits=4, decimal_places=3, min_value=0, max_value=1, required=False, allow_null=True
        )
        span_start = serializers.IntegerField(min_value=0, required=False, allow_null=True)
        span_end = serializers.IntegerField(min_value=0, required=False, allow_null=True)
        source_text = serializers.CharField(required=False, allow_blank=True, default="", trim_whitespace=False)
        accepted = serializers.BooleanField(required=False, allow_null=True, default=None)
        edited = serializers.BooleanField(required=False, default=False)

        def validate(self, attrs):
            if (attrs.get("span_start") is None) != (attrs.get("span_end") is None):
                raise serializers.ValidationError({"span_end": [_("Give both ends of the span or neither.")]})
            return attrs

    @extend_schema(
        operation_id="emr_note_provenance_list",
        responses={200: ProvenanceOutputSerializer(many=True), 403: NO_ACCESS_403, 404: NOTE_404},
        description="The provenance rows of the note's fields, oldest first. Access-logged.",
    )
    def get(self, request, external_id):
        note = _note(request, external_id)
        rows = list(note.provenance.order_by("created_at", "id"))
        _read_log(
            request,
            patient=note.patient,
            object_type="emr.clinicalnote",
            object_id=str(note.external_id),
            detail={"provenance": len(rows)},
        )
        return Response(ProvenanceOutputSerializer(rows, many=True).data)

    @extend_schema(
        operation_id="emr_note_provenance_record",
        request=ProvenanceInputSerializer,
        responses={
            201: ProvenanceOutputSerializer,
            400: OpenApiResponse(),
            403: NO_ACCESS_403,
            404: NOTE_404,
            409: SIGNED_409,
        },
        description="Record where a field of a draft came from (typed, dictated, suggested by a model).",
    )
    def post(self, request, external_id):
        note = _note(request, external_id, write=True)
        if note.status == ClinicalNote.Status.SIGNED:
            raise NoteSignedConflict
        serializer = self.ProvenanceInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = dict(serializer.validated_data)
        start, end = data.pop("span_start", None), data.pop("span_end", None)
        provenance = _conflict_on_signed(
            note_services.note_record_provenance,
            note=note,
            span=(start, end) if start is not None else None,
            recorded_by=request.user,
            **data,
        )
        return Response(ProvenanceOutputSerializer(provenance).data, status=status.HTTP_201_CREATED)


class NoteSearchApi(MethodPermissionsMixin, APIView):
    """Full-text search across the notes the user may read."""

    method_permissions = {"GET": "emr.view_clinicalnote"}

    @extend_schema(
        operation_id="emr_note_search",
        parameters=[OpenApiParameter("q", str, description="Words (English or Chinese) to find in notes.")],
        responses={200: SearchHitOutputSerializer(many=True), 400: OpenApiResponse(description="No words to search.")},
        description="Full-text search (PostgreSQL) across the current notes of the patients the user treats, "
        f"best match first (at most {SEARCH_LIMIT}), with snippets. Chinese is matched by character bigrams. "
        "Access-logged as one search entry.",
    )
    def get(self, request):
        query = request.query_params.get("q", "")
        hits = note_search(query=query, fetched_by=request.user, limit=SEARCH_LIMIT)
        if not hits and not query.strip():
            raise exceptions.ValidationError({"q": [_("Enter words to search for.")]})
        return Response(SearchHitOutputSerializer(hits, many=True).data)


# --- observations -------------------------------------------------------------------------------------------


class PatientVitalsApi(MethodPermissionsMixin, APIView):
    """A patient's vital signs: list them or record a set."""

    method_permissions = {"GET": "emr.view_observation", "POST": "emr.add_observation"}

    class VitalSignsInputSerializer(serializers.Serializer):
        encounter = serializers.UUIDField(required=False, allow_null=True)
        note = serializers.UUIDField(required=False, allow_null=True, help_text="A draft note taken with the vitals.")
        taken_at = serializers.DateTimeField(required=False, allow_null=True, help_text="Default: now.")
        heart_rate = serializers.DecimalField(max_digits=10, decimal_places=4, required=False, allow_null=True)
        respiratory_rate = serializers.DecimalField(max_digits=10, decimal_places=4, required=False, allow_null=True)
        spo2 = serializers.DecimalField(max_digits=10, decimal_places=4, required=False, allow_null=True)
        temperature = serializers.DecimalField(
            max_digits=10, decimal_places=4, required=False, allow_null=True, help_text="Degrees Celsius."
        )
        systolic_bp = serializers.DecimalField(max_digits=10, decimal_places=4, required=False, allow_null=True)
        diastolic_bp = serializers.DecimalField(max_digits=10, decimal_places=4, required=False, allow_null=True)
        consciousness = serializers.CharField(
            max_length=1, required=False, allow_blank=True, allow_null=True, help_text="ACVPU letter."
        )
        supplemental_oxygen = serializers.BooleanField(required=False, allow_null=True, default=None)

    @extend_schema(
        operation_id="emr_vitals_list",
        parameters=[OpenApiParameter("since", str, description="ISO 8601 time: readings taken since then.")],
        responses={200: ObservationOutputSerializer(many=True), 403: NO_ACCESS_403, 404: OpenApiResponse()},
        description=f"The patient's vital signs, newest first (at most {VITALS_LIMIT}). Access-logged.",
    )
    def get(self, request, external_id):
        patient = _patient(request, external_id, object_type="emr.observation")
        since = None
        if request.query_params.get("since"):
            since = serializers.DateTimeField().run_validation(request.query_params["since"])
        rows = vital_readings(patient_ids=[patient.pk], since=since, limit=VITALS_LIMIT)
        _read_log(
            request,
            patient=patient,
            object_type="emr.observation",
            detail={"category": "vital_sign", "count": len(rows)},
        )
        return Response(ObservationOutputSerializer(rows, many=True).data)

    @extend_schema(
        operation_id="emr_vitals_record",
        request=VitalSignsInputSerializer,
        responses={
            201: ObservationOutputSerializer(many=True),
            400: OpenApiResponse(description="Out of physiological range, or inconsistent; nothing was written."),
            403: NO_ACCESS_403,
        },
        description="Record a set of vital signs taken together. Values outside the physiological ranges "
        "(e.g. SpO2 above 100 %), or a systolic pressure not above the diastolic, give 400 with field errors.",
    )
    def post(self, request, external_id):
        patient = _patient(request, external_id, write=True, object_type="emr.observation")
        serializer = self.VitalSignsInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = dict(serializer.validated_data)
        errors = {}
        encounter_id, note_id = data.pop("encounter", None), data.pop("note", None)
        encounter = note = None
        if encounter_id:
            encounter = Encounter.objects.filter(external_id=encounter_id, patient=patient).first()
            if encounter is None:
                errors["encounter"] = [_("The patient has no encounter with this id.")]
        if note_id:
            note = ClinicalNote.objects.filter(external_id=note_id, patient=patient).select_related("encounter").first()
            if note is None:
                errors["note"] = [_("The patient has no note with this id.")]
        if errors:
            raise exceptions.ValidationError(errors)
        rows = vital_signs_record(patient=patient, encounter=encounter, note=note, recorded_by=request.user, **data)
        rows = Observation.objects.filter(pk__in=[row.pk for row in rows]).select_related(
            "encounter", "note", "recorded_by"
        )
        return Response(ObservationOutputSerializer(rows, many=True).data, status=status.HTTP_201_CREATED)


class PatientLabsApi(MethodPermissionsMixin, APIView):
    """A patient's laboratory results: list them or record one."""

    method_permissions = {"GET": "emr.view_observation", "POST": "emr.add_observation"}

    class LabResultInputSerializer(serializers.Serializer):
        code = serializers.CharField(max_length=40, help_text="LOINC code or the laboratory's own code.")
        display = serializers.CharField(max_length=200, required=False, allow_blank=True, default="")
        value_numeric = serializers.DecimalField(max_digits=12, decimal_places=4, required=False, allow_null=True)
        value_text = serializers.CharField(max_length=200, required=False, allow_blank=True, default="")
        unit = serializers.CharField(max_length=30, required=False, allow_blank=True, default="")
        reference_low = serializers.DecimalField(max_digits=12, decimal_places=4, required=False, allow_null=True)
        reference_high = serializers.DecimalField(max_digits=12, decimal_places=4, required=False, allow_null=True)
        effective_at = serializers.DateTimeField(help_text="When the specimen was taken.")
        encounter = serializers.UUIDField(required=False, allow_null=True)
        # The metaclass turns this into a declared field; the stubs see it as overriding Field.source.
        source = serializers.ChoiceField(choices=Observation.Source.choices, default="interface")  # type: ignore[assignment]

    @extend_schema(
        operation_id="emr_labs_list",
        responses={200: ObservationOutputSerializer(many=True), 403: NO_ACCESS_403, 404: OpenApiResponse()},
        description=f"The patient's laboratory results, newest first (at most {LABS_LIMIT}). Access-logged.",
    )
    def get(self, request, external_id):
        patient = _patient(request, external_id, object_type="emr.observation")
        rows = lab_results(patient_ids=[patient.pk], limit=LABS_LIMIT)
        _read_log(
            request,
            patient=patient,
            object_type="emr.observation",
            detail={"category": "laboratory", "count": len(rows)},
        )
        return Response(ObservationOutputSerializer(rows, many=True).data)

    @extend_schema(
        operation_id="emr_labs_record",
        request=LabResultInputSerializer,
        responses={201: ObservationOutputSerializer, 400: OpenApiResponse(), 403: NO_ACCESS_403},
        description="Record a laboratory result; the server computes the abnormal flag (N/L/H from the "
        "reference range, LL/HH beyond the critical limits of common tests).",
    )
    def post(self, request, external_id):
        patient = _patient(request, external_id, write=True, object_type="emr.observation")
        serializer = self.LabResultInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = dict(serializer.validated_data)
        encounter = None
        if encounter_id := data.pop("encounter", None):
            encounter = Encounter.objects.filter(external_id=encounter_id, patient=patient).first()
            if encounter is None:
                raise exceptions.ValidationError({"encounter": [_("The patient has no encounter with this id.")]})
        row = lab_result_record(patient=patient, encounter=encounter, recorded_by=request.user, **data)
        row = Observation.objects.select_related("encounter", "note", "recorded_by").get(pk=row.pk)
        return Response(ObservationOutputSerializer(row).data, status=status.HTTP_201_CREATED)


urlpatterns = [
    path("notes/search/", NoteSearchApi.as_view(), name="emr-note-search"),
    path("patients/<uuid:external_id>/notes/", PatientNotesApi.as_view(), name="emr-patient-notes"),
    path("patients/<uuid:external_id>/vitals/", PatientVitalsApi.as_view(), name="emr-patient-vitals"),
    path("patients/<uuid:external_id>/labs/", PatientLabsApi.as_view(), name="emr-patient-labs"),
    path("notes/<uuid:external_id>/", NoteDetailApi.as_view(), name="emr-note-detail"),
    path("notes/<uuid:external_id>/sign/", NoteSignApi.as_view(), name="emr-note-sign"),
    path("notes/<uuid:external_id>/amend/", NoteAmendApi.as_view(), name="emr-note-amend"),
    path("notes/<uuid:external_id>/versions/", NoteVersionsApi.as_view(), name="emr-note-versions"),
    path("notes/<uuid:external_id>/diagnoses/", NoteDiagnosesApi.as_view(), name="emr-note-diagnoses"),
    path("notes/<uuid:external_id>/provenance/", NoteProvenanceApi.as_view(), name="emr-note-provenance"),
]
