"""The scribe's pages: start a job from an encounter (record in the browser, upload, or paste a transcript),
follow it live (htmx), review the suggested fields beside the transcript, and fill the draft note.

Thin: access through ai.scribe.selectors, writes through ai.scribe.services. The review page and the job
list are logged as reads; the status poll shows only the job's state (no clinical content) and is not.
"""

import uuid
from dataclasses import dataclass, field

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import get_language, gettext_lazy
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt, csrf_protect
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from ai.scribe import conf, services
from ai.scribe.engine.types import FIELDS
from ai.scribe.models import ScribeJob, ScribeSuggestion
from ai.scribe.selectors import (
    scribe_encounter_for_create,
    scribe_job_get,
    scribe_job_list,
    scribe_job_read_record,
    scribe_suggestion_get,
    scribe_suggestions,
)
from emr.models import Encounter, Icd10Code
from emr.views.access import refusal_response
from emr.views.display import age_in_years
from hospital.core.services.access_log import access_log_record

SPEAKER_LABELS = {
    "doctor": gettext_lazy("Doctor"),
    "patient": gettext_lazy("Patient"),
    "unknown": gettext_lazy("Speaker"),
}
STAGES = ("queued", "transcribing", "extracting", "ready")


# --- presentation -----------------------------------------------------------------------------------------------


@dataclass
class Piece:
    """A run of transcript text and the suggestions whose source span covers it."""

    text: str
    ids: list[str] = field(default_factory=list)


@dataclass
class Turn:
    speaker: str
    label: str
    start: float
    pieces: list[Piece]


def dialogue(job: ScribeJob, suggestions: list[ScribeSuggestion]) -> list[Turn]:
    """The transcript as speaker turns, each cut where a suggestion's source span starts or ends, so the page
    can highlight every span (spans may overlap and cross turns)."""
    text = job.transcript_text
    segments = job.transcript_segments or [{"speaker": "unknown", "start": 0.0, "char_start": 0, "char_end": len(text)}]
    spans = [(s.span_start, s.span_end, str(s.external_id)) for s in suggestions if s.span_end > s.span_start]
    turns = []
    for segment in segments:
        start, end = int(segment.get("char_start", 0)), int(segment.get("char_end", 0))
        cuts = {start, end}
        for span_start, span_end, _id in spans:
            cuts.update(point for point in (span_start, span_end) if start < point < end)
        points = sorted(cuts)
        pieces = []
        for left, right in zip(points, points[1:], strict=False):
            ids = [sid for span_start, span_end, sid in spans if span_start <= left and right <= span_end]
            pieces.append(Piece(text[left:right], ids))
        speaker = segment.get("speaker", "unknown")
        turns.append(
            Turn(
                speaker, str(SPEAKER_LABELS.get(speaker, SPEAKER_LABELS["unknown"])), segment.get("start", 0.0), pieces
            )
        )
    return turns


def _candidates(suggestions: list[ScribeSuggestion]) -> None:
    """Attach `candidates` (top 3 ICD-10 codes with the title in the page's language) to diagnosis rows."""
    codes = {
        str(c.get("code"))
        for s in suggestions
        if s.field_name == "diagnosis"
        for c in (s.value or {}).get("candidates") or []
    }
    titles = {row.code: row.localized_title for row in Icd10Code.objects.filter(code__in=codes)} if codes else {}
    for s in suggestions:
        s.candidates = []  # type: ignore[attr-defined]
        if s.field_name != "diagnosis":
            continue
        value = s.value or {}
        listed = list(value.get("candidates") or [])
        if not listed and value.get("code"):
            listed = [{"code": value["code"], "title": value.get("title", ""), "confidence": float(s.confidence)}]
        chosen = s.chosen_code or value.get("code") or (listed[0]["code"] if listed else "")
        s.candidates = [  # type: ignore[attr-defined]
            {
                "code": str(c.get("code")),
                "title": titles.get(str(c.get("code"))) or c.get("title", ""),
                "percent": round(float(c.get("confidence") or 0) * 100),
                "checked": str(c.get("code")) == chosen,
            }
            for c in listed[:3]
        ]


def _decorate(job: ScribeJob, suggestions: list[ScribeSuggestion]) -> list[ScribeSuggestion]:
    _candidates(suggestions)
    for s in suggestions:
        s.source_text = job.transcript_text[s.span_start : s.span_end]  # type: ignore[attr-defined]
        s.percent = round(float(s.confidence) * 100)  # type: ignore[attr-defined]
    return suggestions


def _fill_count(job: ScribeJob) -> int:
    return job.suggestions.filter(decision__in=ScribeSuggestion.KEPT, filled_at__isnull=True).count()


# --- access ---------------------------------------------------------------------------------------------------


def _job_or_refusal(request, external_id: uuid.UUID) -> tuple[ScribeJob, None] | tuple[None, HttpResponse]:
    try:
        return scribe_job_get(user=request.user, external_id=external_id), None
    except ScribeJob.DoesNotExist as exc:
        raise Http404 from exc
    except PermissionDenied as exc:
        return None, refusal_response(request, exc)


# --- pages ----------------------------------------------------------------------------------------------------


@login_required
@require_GET
def scribe_list(request):
    """The user's recent scribe jobs (theirs and their care teams'), newest first."""
    jobs = scribe_job_list(user=request.user, limit=50)
    for patient_id in {job.patient.external_id for job in jobs}:
        access_log_record(
            actor=request.user, action="read", object_type="scribe.scribejob", patient_external_id=patient_id,
            detail={"view": "scribe_list"},
        )  # fmt: skip
    return render(request, "scribe/list.html", {"jobs": jobs})


def _encounter_for_page(request) -> tuple[Encounter | None, HttpResponse | None]:
    # Always from the query string: the body of an upload may be too large to read.
    wanted = request.GET.get("encounter") or ""
    try:
        encounter_id = uuid.UUID(wanted)
    except ValueError as exc:
        raise Http404 from exc
    try:
        return scribe_encounter_for_create(user=request.user, external_id=encounter_id), None
    except Encounter.DoesNotExist as exc:
        raise Http404 from exc
    except PermissionDenied as exc:
        return None, refusal_response(request, exc)


def _new_page(request, encounter: Encounter, *, errors: list[str] | None = None, status: int = 200, **values):
    language = values.get("language") or ("zh" if (get_language() or "").startswith("zh") else "en")
    context = {
        "encounter": encounter,
        "patient": encounter.patient,
        "age": age_in_years(encounter.patient.birth_date),
        "jobs": scribe_job_list(user=request.user, encounter=encounter, limit=10),
        "errors": errors or [],
        "language": language,
        "transcript": values.get("transcript", ""),
        "languages": ScribeJob.Language.choices,
        "max_mb": conf.max_upload_bytes() // conf.MB,
        "max_bytes": conf.max_upload_bytes(),
    }
    return render(request, "scribe/new.html", context, status=status)


@csrf_exempt
@login_required
@require_http_methods(["GET", "POST"])
def scribe_new(request):
    """Start a scribe job for ?encounter=<id>: record in the browser, upload a file, or paste a transcript.

    A body larger than the upload limit is refused from its Content-Length before it is read (413); CSRF is
    checked right after, by the inner view."""
    if request.method == "POST":
        length = request.META.get("CONTENT_LENGTH") or "0"
        if length.isdigit() and int(length) > conf.max_upload_bytes() + conf.MB:
            encounter, refusal = _encounter_for_page(request)
            if encounter is None:
                return refusal
            message = _("The recording is larger than %(mb)s MB.") % {"mb": conf.max_upload_bytes() // conf.MB}
            return _new_page(request, encounter, errors=[message], status=413)
    return _scribe_new(request)


@csrf_protect
def _scribe_new(request):
    encounter, refusal = _encounter_for_page(request)
    if encounter is None:
        return refusal
    if request.method == "GET":
        return _new_page(request, encounter)
    language = request.POST.get("language", "en")
    source = request.POST.get("source") or ScribeJob.Source.UPLOAD
    upload = request.FILES.get("audio")
    transcript = request.POST.get("transcript", "")
    try:
        if upload is not None:
            if upload.size is not None and upload.size > conf.max_upload_bytes():
                message = _("The recording is larger than %(mb)s MB.") % {"mb": conf.max_upload_bytes() // conf.MB}
                return _new_page(request, encounter, errors=[message], status=413, language=language)
            job = services.scribe_job_create_from_audio(
                encounter=encounter, clinician=request.user, data=upload.read(),
                content_type=upload.content_type or "", language=language,
                source=source if source in (ScribeJob.Source.UPLOAD, ScribeJob.Source.RECORDING) else "upload",
            )  # fmt: skip
        elif transcript.strip():
            job = services.scribe_job_create_from_transcript(
                encounter=encounter, clinician=request.user, text=transcript, language=language
            )
        else:
            message = _("Record the consultation, choose a recording, or paste a transcript.")
            return _new_page(request, encounter, errors=[message], status=400, language=language)
    except ValidationError as exc:
        return _new_page(request, encounter, errors=exc.messages, status=400, language=language, transcript=transcript)
    return redirect("scribe:job", external_id=job.external_id)


def _status_context(job: ScribeJob) -> dict:
    reached = STAGES.index(job.status) if job.status in STAGES else -1
    return {
        "job": job,
        "poll_ms": round(conf.poll_seconds() * 1000),
        "stages": [
            {"code": code, "label": ScribeJob.Status(code).label, "done": index < reached, "current": index == reached}
            for index, code in enumerate(STAGES)
        ],
    }


@login_required
@require_GET
def scribe_job(request, external_id: uuid.UUID):
    """The job: its live status while it runs, the reason if it failed, the review once ready."""
    job, refusal = _job_or_refusal(request, external_id)
    if job is None:
        return refusal
    scribe_job_read_record(user=request.user, job=job, detail={"view": "scribe_job", "status": job.status})
    context = _status_context(job)
    context.update(patient=job.patient, age=age_in_years(job.patient.birth_date), encounter=job.encounter)
    if job.status == ScribeJob.Status.READY:
        order = {name: index for index, name in enumerate(FIELDS)}
        rows = sorted(
            scribe_suggestions(job=job), key=lambda s: (order.get(s.field_name, 99), s.span_start, s.position)
        )
        suggestions = _decorate(job, rows)
        context.update(
            suggestions=suggestions,
            dialogue=dialogue(job, suggestions),
            fill_count=_fill_count(job),
            note=job.note,
        )
    return render(request, "scribe/job.html", context)


@login_required
@require_GET
def scribe_job_status(request, external_id: uuid.UUID):
    """htmx: the job's status panel; once the job is ready or failed the page reloads into the review."""
    job, refusal = _job_or_refusal(request, external_id)
    if job is None:
        return refusal
    response = render(request, "scribe/status.html", _status_context(job))
    if job.status in ScribeJob.FINISHED and request.htmx:
        response["HX-Refresh"] = "true"
    return response


@login_required
@require_POST
def scribe_suggestion_decide(request, external_id: uuid.UUID, suggestion_id: uuid.UUID):
    """Accept, edit or reject one suggested item; htmx gets the item's card back (and the fill count)."""
    job, refusal = _job_or_refusal(request, external_id)
    if job is None:
        return refusal
    try:
        suggestion = scribe_suggestion_get(job=job, external_id=suggestion_id)
    except ScribeSuggestion.DoesNotExist as exc:
        raise Http404 from exc
    errors: list[str] = []
    try:
        suggestion = services.scribe_suggestion_decide(
            suggestion=suggestion, decided_by=request.user, decision=request.POST.get("decision", ""),
            text=request.POST.get("text", ""), code=request.POST.get("code", ""),
        )  # fmt: skip
    except ValidationError as exc:
        errors = exc.messages
        suggestion = scribe_suggestion_get(job=job, external_id=suggestion_id)
    if not request.htmx:
        for message in errors:
            messages.error(request, message)
        return redirect("scribe:job", external_id=job.external_id)
    (suggestion,) = _decorate(job, [suggestion])
    context = {"job": job, "s": suggestion, "errors": errors, "fill_count": _fill_count(job), "oob": True}
    return render(request, "scribe/suggestion.html", context, status=400 if errors else 200)


@login_required
@require_POST
def scribe_note_fill(request, external_id: uuid.UUID):
    """Put the accepted items into the draft note and open it in the EMR's editor, where it is signed."""
    job, refusal = _job_or_refusal(request, external_id)
    if job is None:
        return refusal
    try:
        note = services.scribe_note_fill(job=job, filled_by=request.user)
    except ValidationError as exc:
        for message in exc.messages:
            messages.error(request, message)
        return redirect("scribe:job", external_id=job.external_id)
    messages.success(request, _("The accepted items are in the draft note. Check it, then sign it."))
    return redirect("emr:note_edit", external_id=note.external_id)
