"""REST API of the scribe: post a recording or a ready transcript for an encounter, follow the job, review it.

validate input -> selector (access) -> service -> serialize output. Who may: doctors who may write notes
for the patient (care team, ward, break the glass; see ai.scribe.selectors); a job is seen by its clinician
and the doctors of the care team, and is "not found" for anyone else. Every read is access-logged.
"""

import uuid

from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import exceptions, status
from rest_framework.parsers import FormParser, JSONParser, MultiPartParser
from rest_framework.response import Response
from rest_framework.views import APIView

from ai.scribe import conf, serializers, services
from ai.scribe.models import ScribeJob, ScribeSuggestion
from ai.scribe.selectors import (
    scribe_encounter_for_create,
    scribe_job_get,
    scribe_job_list,
    scribe_job_read_record,
    scribe_suggestion_get,
    scribe_suggestions,
)
from emr.models import Encounter
from emr.selectors.access import BreakGlassRequired
from emr.services.access import access_denied_record
from hospital.core.services.access_log import access_log_record


class PayloadTooLarge(exceptions.APIException):
    status_code = status.HTTP_413_REQUEST_ENTITY_TOO_LARGE
    default_code = "too_large"
    default_detail = gettext_lazy("The recording is too large.")


def _too_large() -> PayloadTooLarge:
    return PayloadTooLarge(_("The recording is larger than %(mb)s MB.") % {"mb": conf.max_upload_bytes() // conf.MB})


def _denied(request, exc: PermissionDenied, object_type: str = "scribe.scribejob"):
    # A clinician who does not treat the patient is logged as refused, like the EMR's own APIs do.
    if isinstance(exc, BreakGlassRequired):
        access_denied_record(user=request.user, patient=exc.patient, object_type=object_type)
    return exc


def _encounter(request, external_id) -> Encounter:
    try:
        return scribe_encounter_for_create(user=request.user, external_id=external_id)
    except Encounter.DoesNotExist as exc:
        raise exceptions.ValidationError({"encounter": [_("No encounter with this id.")]}) from exc
    except PermissionDenied as exc:
        raise _denied(request, exc) from exc


def _job(request, external_id) -> ScribeJob:
    try:
        return scribe_job_get(user=request.user, external_id=external_id)
    except ScribeJob.DoesNotExist as exc:
        raise Http404 from exc
    except PermissionDenied as exc:
        raise _denied(request, exc) from exc


def _job_response(job: ScribeJob, status_code: int = status.HTTP_200_OK) -> Response:
    context = {"suggestions": scribe_suggestions(job=job)}
    return Response(serializers.ScribeJobOutputSerializer(job, context=context).data, status=status_code)


NO_ACCESS_403 = OpenApiResponse(
    description="Not a doctor who writes notes, or no clinical access to the patient (code break_glass_required)."
)
JOB_404 = OpenApiResponse(description="No such job, or not one of the user's or their care team's.")


class JobListCreateApi(APIView):
    """Scribe jobs of an encounter, or a new one from a recording or a ready transcript."""

    parser_classes = [MultiPartParser, FormParser, JSONParser]

    def initial(self, request, *args, **kwargs):
        # Refused from the Content-Length before anything reads the body (the session's CSRF check would parse
        # it); the multipart overhead is small next to the slack of 1 MB. The file's own size is checked again.
        length = request.META.get("CONTENT_LENGTH") or "0"
        if request.method == "POST" and length.isdigit() and int(length) > conf.max_upload_bytes() + conf.MB:
            raise _too_large()
        super().initial(request, *args, **kwargs)

    @extend_schema(
        operation_id="scribe_job_create",
        request={
            "multipart/form-data": serializers.ScribeAudioJobInputSerializer,
            "application/json": serializers.ScribeTranscriptJobInputSerializer,
        },
        responses={
            202: serializers.ScribeJobCreatedOutputSerializer,
            400: OpenApiResponse(description="Invalid fields; nothing was stored."),
            403: NO_ACCESS_403,
            413: OpenApiResponse(description="The recording is over SCRIBE_MAX_UPLOAD_MB (code too_large)."),
        },
        description="Queue a scribe job for an encounter: a recording as multipart/form-data (field `audio`), or "
        "a ready transcript as JSON (`turns` [{speaker, text}] or plain `text`). Answers 202 with the job's id; "
        "follow it with GET on `url`. Whether the recording is usable audio is judged by the worker: a file that "
        "is not audio, empty, silent or corrupt makes the job fail with a reason.",
    )
    def post(self, request):
        if "audio" in request.FILES:
            job = self._create_from_audio(request)
        elif request.content_type.startswith("application/json"):
            job = self._create_from_transcript(request)
        else:
            raise exceptions.ValidationError({"audio": [_("Attach the recording, or post a transcript as JSON.")]})
        data = {
            "external_id": job.external_id,
            "status": job.status,
            "progress": job.progress,
            "failure_code": "",
            "failure_reason": "",
            "url": reverse("scribe-api:job-detail", kwargs={"external_id": job.external_id}),
        }
        return Response(serializers.ScribeJobCreatedOutputSerializer(data).data, status=status.HTTP_202_ACCEPTED)

    def _create_from_audio(self, request) -> ScribeJob:
        upload = request.FILES["audio"]
        if upload.size is not None and upload.size > conf.max_upload_bytes():
            raise _too_large()
        serializer = serializers.ScribeAudioJobInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        encounter = _encounter(request, serializer.validated_data["encounter"])
        upload.seek(0)
        return services.scribe_job_create_from_audio(
            encounter=encounter,
            clinician=request.user,
            data=upload.read(),
            content_type=upload.content_type or "",
            language=serializer.validated_data["language"],
            source=serializer.validated_data["source"],
        )

    def _create_from_transcript(self, request) -> ScribeJob:
        serializer = serializers.ScribeTranscriptJobInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        encounter = _encounter(request, data["encounter"])
        turns = [(turn["speaker"], turn["text"]) for turn in data["turns"]] if "turns" in data else None
        return services.scribe_job_create_from_transcript(
            encounter=encounter, clinician=request.user, turns=turns, text=data.get("text", ""),
            language=data["language"],
        )  # fmt: skip

    @extend_schema(
        operation_id="scribe_job_list",
        parameters=[OpenApiParameter("encounter", str, required=True, description="External id of the encounter.")],
        responses={
            200: serializers.ScribeJobStatusOutputSerializer(many=True),
            400: OpenApiResponse(),
            403: NO_ACCESS_403,
        },
        description="The encounter's scribe jobs the user may review (theirs and their care team's), newest "
        "first, with status and progress. Access-logged.",
    )
    def get(self, request):
        wanted = request.query_params.get("encounter", "")
        try:
            encounter_id = uuid.UUID(wanted)
        except ValueError as exc:
            raise exceptions.ValidationError({"encounter": [_("Give the encounter's id.")]}) from exc
        encounter = _encounter(request, encounter_id)
        jobs = scribe_job_list(user=request.user, encounter=encounter)
        access_log_record(
            actor=request.user,
            action="read",
            object_type="scribe.scribejob",
            patient_external_id=encounter.patient.external_id,
            detail={"encounter": str(encounter.external_id), "jobs": len(jobs)},
        )
        return Response(serializers.ScribeJobStatusOutputSerializer(jobs, many=True).data)


class JobDetailApi(APIView):
    """One scribe job: status and progress, then the transcript, suggestions with their spans, and summary."""

    @extend_schema(
        operation_id="scribe_job_retrieve",
        responses={200: serializers.ScribeJobOutputSerializer, 403: NO_ACCESS_403, 404: JOB_404},
        description="The job's status (queued, transcribing with progress %, extracting, ready, failed with a "
        "reason) and, when ready, the transcript with speaker segments, the suggested fields with their source "
        "spans, confidence, flags and the clinician's decisions, and the summary. Access-logged.",
    )
    def get(self, request, external_id):
        job = _job(request, external_id)
        scribe_job_read_record(user=request.user, job=job, detail={"status": job.status})
        return _job_response(job)


class SuggestionDecisionApi(APIView):
    """The clinician's decision on one suggested item."""

    @extend_schema(
        operation_id="scribe_suggestion_decide",
        request=serializers.ScribeDecisionInputSerializer,
        responses={
            200: serializers.ScribeSuggestionOutputSerializer,
            400: OpenApiResponse(description="Invalid decision, or the item is final; nothing was changed."),
            403: NO_ACCESS_403,
            404: JOB_404,
        },
        description="Accept, edit (with the corrected text), reject, or undo. For a diagnosis `code` picks the "
        "ICD-10 code. An accepted vital sign is recorded at once as observations on the job's draft note. The "
        "model's suggestion is kept unchanged beside the decision.",
    )
    def post(self, request, external_id, suggestion_id):
        job = _job(request, external_id)
        try:
            suggestion = scribe_suggestion_get(job=job, external_id=suggestion_id)
        except ScribeSuggestion.DoesNotExist as exc:
            raise Http404 from exc
        serializer = serializers.ScribeDecisionInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        suggestion = services.scribe_suggestion_decide(
            suggestion=suggestion, decided_by=request.user, decision=serializer.validated_data["decision"],
            text=serializer.validated_data.get("text", ""), code=serializer.validated_data.get("code", ""),
        )  # fmt: skip
        context = {"transcript": job.transcript_text}
        return Response(serializers.ScribeSuggestionOutputSerializer(suggestion, context=context).data)


class FillNoteApi(APIView):
    """Put the accepted items into the job's draft note."""

    @extend_schema(
        operation_id="scribe_note_fill",
        request=None,
        responses={
            200: serializers.ScribeFillOutputSerializer,
            400: OpenApiResponse(description="Not ready, or nothing accepted; nothing was written."),
            403: NO_ACCESS_403,
            404: JOB_404,
        },
        description="Fill the draft note (started if needed) with the accepted and edited items not yet in it, "
        "each with its provenance (model, version, confidence, source span, edited or not). The note stays a "
        "draft: sign it in the EMR (POST /api/v1/emr/notes/<id>/sign/).",
    )
    def post(self, request, external_id):
        job = _job(request, external_id)
        before = job.suggestions.filter(filled_at__isnull=False).count()
        note = services.scribe_note_fill(job=job, filled_by=request.user)
        filled = job.suggestions.filter(filled_at__isnull=False).count() - before
        return Response(serializers.ScribeFillOutputSerializer({"note": note.external_id, "filled": filled}).data)
