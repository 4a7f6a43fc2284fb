"""Every write of the scribe: creating jobs, the worker's claim / progress / result, the clinician's decisions,
filling the draft note, and purging recordings.

The worker side is fenced: `scribe_job_claim` locks the job row, takes it over (attempt + 1) unless it is
finished or another live delivery holds it, and every later write names that attempt, so a delivery that
lost the job (its worker died and the task was delivered again) can never write progress or results.
Results land in one transaction together with status "ready": a job has either no suggestions or all of
them. Access-log entries are written last, in the same transaction as the change they record.
"""

import hashlib
import logging
import re
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from functools import partial
from typing import Any

from celery import current_app
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from ai.scribe import conf, storage
from ai.scribe.engine import types
from ai.scribe.models import ScribeJob, ScribeSuggestion
from emr.models import ClinicalNote, Encounter, Icd10Code, NoteDiagnosis, NoteFieldProvenance
from emr.services import notes as note_services
from emr.services.observations import vital_signs_record
from hospital.core import roles
from hospital.core.models import User
from hospital.core.services.access_log import access_log_record

logger = logging.getLogger(__name__)

RUN_TASK = "ai.scribe.tasks.scribe_job_run_task"
OBJECT_TYPE = "scribe.scribejob"
# A recording whose upload never became a job (its transaction rolled back) is removed after this long.
ORPHAN_SECONDS = 24 * 3600
SPEAKERS = ("doctor", "patient", "unknown")
# "Doctor: ...", "P: ...", "医生：..." at the start of a line of a typed transcript.
_SPEAKER_PREFIX = re.compile(r"^\s*(doctor|dr|d|clinician|patient|pt|p|医生|大夫|患者|病人)\s*[:：]\s*", re.IGNORECASE)
_PREFIX_SPEAKER = {"医生": "doctor", "大夫": "doctor", "患者": "patient", "病人": "patient"}

Job = ScribeJob
Decision = ScribeSuggestion.Decision


class JobSuperseded(Exception):
    """The job was taken over by another delivery of its task (or finished): this worker must stop."""


@dataclass(frozen=True)
class Claim:
    """A worker's hold on a job: only writes that name this attempt land."""

    job_id: int
    attempt: int
    task_id: str


def _log(actor: User | None, action: str, job: ScribeJob, detail: dict | None = None) -> None:
    access_log_record(
        actor=actor,
        action=action,
        object_type=OBJECT_TYPE,
        object_id=str(job.external_id),
        patient_external_id=job.patient.external_id,
        detail=detail or {},
    )


def _enqueue(job: ScribeJob) -> None:
    job_id = job.pk
    # robust: the job is committed either way; a broker that is down leaves it queued, not an error page.
    transaction.on_commit(lambda: current_app.send_task(RUN_TASK, args=[job_id], queue="ai"), robust=True)


def _check_encounter(encounter: Encounter) -> None:
    if encounter.status == Encounter.Status.CANCELLED:
        raise ValidationError({"encounter": [_("A cancelled encounter cannot be documented.")]})


def _check_language(language: str) -> str:
    if language not in ScribeJob.Language.values:
        raise ValidationError({"language": [_("Choose English or Chinese.")]})
    return language


# --- creating jobs -----------------------------------------------------------------------------------------


def scribe_job_create_from_audio(
    *, encounter: Encounter, clinician: User, data: bytes, content_type: str = "", language: str = "en",
    source: str = ScribeJob.Source.UPLOAD,
) -> ScribeJob:  # fmt: skip
    """Store a recording encrypted and queue its job; returns the job (status queued).

    Guarantees: a recording over SCRIBE_MAX_UPLOAD_MB is refused with ValidationError {"audio": [...]} (code
    "too_large") and nothing is stored; whether the bytes are usable audio is for the worker to judge (the
    job then fails with a reason). The encrypted file is written before the row and removed again if the
    row is not written, so a job always names an existing file. The task is enqueued on commit; one
    "create" access-log entry.
    """
    _check_encounter(encounter)
    _check_language(language)
    if source not in (ScribeJob.Source.UPLOAD, ScribeJob.Source.RECORDING):
        raise ValidationError({"source": [_("A recording is an uploaded file or recorded in the browser.")]})
    limit = conf.max_upload_bytes()
    if len(data) > limit:
        raise ValidationError(
            {"audio": [_("The recording is larger than %(mb)s MB.") % {"mb": limit // conf.MB}]}, code="too_large"
        )
    external_id = uuid.uuid4()
    name = storage.audio_write(data, external_id=external_id)
    try:
        with transaction.atomic():
            job = ScribeJob(
                external_id=external_id,
                encounter=encounter,
                patient_id=encounter.patient_id,
                clinician=clinician,
                language=language,
                source=source,
                audio_path=name,
                audio_sha256=hashlib.sha256(data).hexdigest(),
                audio_bytes=len(data),
                audio_content_type=(content_type or "")[:100],
            )
            job.full_clean(validate_unique=False, validate_constraints=False)
            job.save(force_insert=True)
            _enqueue(job)
            _log(clinician, "create", job, {"source": source, "bytes": len(data), "language": language})
    except BaseException:
        storage.audio_delete(name)
        raise
    return job


def transcript_turns_from_text(text: str) -> list[tuple[types.Speaker, str]]:
    """Turns of a typed transcript: a line starting "Doctor:" / "Patient:" (also D:, P:, 医生：, 患者：) begins
    a turn of that speaker, other lines continue the current turn; text without prefixes is one turn of an
    unknown speaker."""
    turns: list[tuple[types.Speaker, str]] = []
    for line in (text or "").splitlines():
        match = _SPEAKER_PREFIX.match(line)
        if match:
            word = match.group(1)
            speaker = _PREFIX_SPEAKER.get(word) or ("patient" if word.lower().startswith("p") else "doctor")
            turns.append((speaker, line[match.end() :].strip()))  # type: ignore[arg-type]
        elif line.strip():
            if turns:
                turns[-1] = (turns[-1][0], f"{turns[-1][1]} {line.strip()}".strip())
            else:
                turns.append(("unknown", line.strip()))
    return [(speaker, words) for speaker, words in turns if words]


@transaction.atomic
def scribe_job_create_from_transcript(
    *, encounter: Encounter, clinician: User, turns: list[tuple[str, str]] | None = None, text: str = "",
    language: str = "en",
) -> ScribeJob:  # fmt: skip
    """Queue a job for a ready transcript: speaker turns [(speaker, text)], or plain text (see
    `transcript_turns_from_text`). The worker skips transcription and extracts from it.

    Guarantees: speakers are doctor, patient or unknown; the transcript is not empty and not longer than
    SCRIBE_MAX_TRANSCRIPT_CHARS; otherwise ValidationError with field errors and nothing is written.
    """
    _check_encounter(encounter)
    _check_language(language)
    if turns is None:
        turns = list(transcript_turns_from_text(text))
    errors: list[str] = []
    clean: list[tuple[types.Speaker, str]] = []
    for index, (speaker, words) in enumerate(turns, start=1):
        if speaker not in SPEAKERS:
            errors.append(_("Turn %(n)s: the speaker must be doctor, patient or unknown.") % {"n": index})
        elif not isinstance(words, str):
            errors.append(_("Turn %(n)s: enter the words as text.") % {"n": index})
        else:
            clean.append((speaker, words))  # type: ignore[arg-type]
    if errors:
        raise ValidationError({"transcript": errors})
    transcript = types.Transcript.from_turns(clean, language=language)
    if not transcript.text.strip():
        raise ValidationError({"transcript": [_("The transcript is empty.")]})
    if len(transcript.text) > conf.max_transcript_chars():
        raise ValidationError(
            {"transcript": [_("The transcript is longer than %(n)s characters.") % {"n": conf.max_transcript_chars()}]}
        )
    job = ScribeJob(
        encounter=encounter,
        patient_id=encounter.patient_id,
        clinician=clinician,
        language=language,
        source=ScribeJob.Source.TRANSCRIPT,
        transcript_text=transcript.text,
        transcript_segments=[_segment_json(segment) for segment in transcript.segments],
    )
    job.full_clean(validate_unique=False, validate_constraints=False)
    job.save(force_insert=True)
    _enqueue(job)
    _log(clinician, "create", job, {"source": "transcript", "characters": len(transcript.text)})
    return job


def _segment_json(segment: types.Segment) -> dict:
    return {
        "start": round(float(segment.start), 2),
        "end": round(float(segment.end), 2),
        "text": segment.text,
        "speaker": segment.speaker if segment.speaker in SPEAKERS else "unknown",
        "char_start": int(segment.char_start),
        "char_end": int(segment.char_end),
    }


def scribe_job_transcript(job: ScribeJob) -> types.Transcript:
    """The job's stored transcript as the engine's Transcript (for a ready transcript or a re-run)."""
    segments = [
        types.Segment(
            start=float(s.get("start", 0.0)),
            end=float(s.get("end", 0.0)),
            text=s.get("text", ""),
            speaker=s.get("speaker", "unknown"),
            char_start=int(s.get("char_start", 0)),
            char_end=int(s.get("char_end", 0)),
        )  # fmt: skip
        for s in job.transcript_segments or []
    ]
    return types.Transcript(
        text=job.transcript_text,
        segments=segments,
        language=job.language,
        duration_s=job.audio_duration_s or 0.0,
        model_name=job.asr_model_name,
        model_version=job.asr_model_version,
    )


# --- the worker ---------------------------------------------------------------------------------------------


@transaction.atomic
def scribe_job_claim(*, job_id: int, task_id: str) -> Claim | None:
    """Take the job for this delivery of its task, or None when there is nothing to do.

    None when the job does not exist, is already ready or failed (a redelivery after the result was
    written is a no-op), or is running under another task id whose worker reported progress within
    SCRIBE_STALE_CLAIM_SECONDS (a duplicate enqueue while the first runs). Otherwise the job restarts
    from the beginning: attempt + 1, status transcribing (extracting for a ready transcript), progress 0.
    The same task id delivered again means its earlier delivery's worker died: it is restarted.
    """
    job = ScribeJob.objects.select_for_update().filter(pk=job_id).first()
    if job is None:
        logger.warning("scribe job %s does not exist; nothing to do", job_id)
        return None
    if job.status in ScribeJob.FINISHED:
        return None
    now = timezone.now()
    if job.status in ScribeJob.RUNNING and job.task_id and job.task_id != task_id:
        fresh = job.heartbeat_at and now - job.heartbeat_at < timedelta(seconds=conf.stale_claim_seconds())
        if fresh:
            logger.info("scribe job %s is running under task %s; delivery %s leaves it", job_id, job.task_id, task_id)
            return None
    if job.status in ScribeJob.RUNNING:
        logger.warning("scribe job %s restarts: attempt %s stopped in %s", job_id, job.attempt, job.status)
    job.attempt += 1
    job.task_id = (task_id or "")[:64]
    job.status = ScribeJob.Status.EXTRACTING if job.source == ScribeJob.Source.TRANSCRIPT else Job.Status.TRANSCRIBING
    job.progress = 0
    job.started_at = now
    job.heartbeat_at = now
    job.save(update_fields=["attempt", "task_id", "status", "progress", "started_at", "heartbeat_at", "updated_at"])
    return Claim(job_id=job.pk, attempt=job.attempt, task_id=job.task_id)


def scribe_job_progress(*, claim: Claim, status: str, progress: int) -> None:
    """Report the running stage and its percentage; raises JobSuperseded when the job is no longer this claim's.

    One UPDATE in autocommit, fenced on the attempt, so the page sees it at once.
    """
    if status not in ScribeJob.RUNNING:
        raise ValueError(f"not a running status: {status!r}")
    updated = ScribeJob.objects.filter(pk=claim.job_id, attempt=claim.attempt, status__in=ScribeJob.RUNNING).update(
        status=status, progress=max(0, min(99, int(progress))), heartbeat_at=timezone.now(), updated_at=timezone.now()
    )
    if not updated:
        raise JobSuperseded(f"scribe job {claim.job_id} attempt {claim.attempt} was superseded")


def _locked_for(claim: Claim) -> ScribeJob | None:
    job = ScribeJob.objects.select_for_update(of=("self",)).select_related("patient").filter(pk=claim.job_id).first()
    if job is None or job.attempt != claim.attempt or job.status not in ScribeJob.RUNNING:
        return None
    return job


def _decimal_confidence(value: float) -> Decimal:
    number = Decimal(str(float(value))) if value == value else Decimal(0)  # NaN -> 0
    return min(Decimal(1), max(Decimal(0), number)).quantize(Decimal("0.001"))


def _suggestion_row(job: ScribeJob, position: int, suggestion: types.Suggestion, length: int) -> ScribeSuggestion:
    start = max(0, min(int(suggestion.span_start), length))
    end = max(start, min(int(suggestion.span_end), length))
    return ScribeSuggestion(
        job=job,
        position=position,
        field_name=suggestion.field,
        text=suggestion.text,
        value=suggestion.value or {},
        span_start=start,
        span_end=end,
        confidence=_decimal_confidence(suggestion.confidence),
        negated=bool(suggestion.negated),
        uncertain=bool(suggestion.uncertain),
        family=bool(suggestion.family),
        model_name=(suggestion.model_name or "rules")[:200],
        model_version=(suggestion.model_version or "")[:100],
    )


@transaction.atomic
def scribe_job_complete(*, claim: Claim, result: types.ScribeResult, hotwords: list[str] | None = None) -> bool:
    """Write the transcript, every suggestion and the summary, and mark the job ready: all in one transaction.

    Returns False (and writes nothing) when the claim lost the job. Suggestions whose field is unknown are
    dropped with a warning rather than failing the job. One "create" access-log entry (the task's).
    """
    job = _locked_for(claim)
    if job is None:
        return False
    transcript = result.transcript
    job.transcript_text = transcript.text
    job.transcript_segments = [_segment_json(segment) for segment in transcript.segments]
    job.transcript_dropped = list(transcript.dropped or [])
    if job.source != ScribeJob.Source.TRANSCRIPT:
        job.audio_duration_s = transcript.duration_s or job.audio_duration_s
        job.asr_model_name = transcript.model_name[:200]
        job.asr_model_version = transcript.model_version[:100]
    if hotwords is not None:
        job.hotwords = ", ".join(hotwords)
    rows: list[ScribeSuggestion] = []
    for suggestion in result.suggestions:
        if suggestion.field not in types.FIELDS:
            logger.warning("scribe job %s: dropped a suggestion of unknown field %r", job.pk, suggestion.field)
            continue
        rows.append(_suggestion_row(job, len(rows) + 1, suggestion, len(transcript.text)))
    ScribeSuggestion.objects.bulk_create(rows)
    job.extraction_models = ", ".join(sorted({f"{r.model_name} {r.model_version}".strip() for r in rows}))[:300]
    job.summary = result.summary
    job.summary_model = (result.summary_model or "")[:200]
    job.timings = {stage: round(float(seconds), 3) for stage, seconds in result.timings.items()}
    job.status = ScribeJob.Status.READY
    job.progress = 100
    job.finished_at = timezone.now()
    job.save()
    _log(None, "create", job, {"suggestions": len(rows), "attempt": claim.attempt})
    return True


@transaction.atomic
def scribe_job_fail(*, claim: Claim, code: str, reason: str) -> bool:
    """Mark the claimed job failed with a reason for the clinician; False (nothing written) if the claim lost it."""
    job = _locked_for(claim)
    if job is None:
        return False
    job.status = ScribeJob.Status.FAILED
    job.failure_code = (code or "internal")[:20]
    job.failure_reason = reason or _("The recording could not be processed.")
    job.finished_at = timezone.now()
    job.save(update_fields=["status", "failure_code", "failure_reason", "finished_at", "updated_at"])
    _log(None, "write", job, {"failed": job.failure_code, "attempt": claim.attempt})
    return True


# --- the clinician's review ---------------------------------------------------------------------------------


def scribe_job_may_review(*, job: ScribeJob, user: User) -> bool:
    """Whether `user` may decide on the job's suggestions and fill its note: the clinician who made the job,
    or a doctor of the encounter's care team (the same people who may edit its draft note)."""
    if not (user and user.is_authenticated and user.is_active):
        return False
    if job.clinician_id == user.pk:
        return True
    return user.has_role(roles.DOCTOR) and note_services.on_care_team(user, job.encounter)


def _require_reviewer(job: ScribeJob, user: User) -> None:
    if not scribe_job_may_review(job=job, user=user):
        raise PermissionDenied(
            _("Only the clinician who made this scribe job or a doctor of the care team may review it.")
        )


def _default_note_type(encounter: Encounter) -> str:
    if encounter.encounter_class == Encounter.EncounterClass.INPATIENT:
        return ClinicalNote.NoteType.PROGRESS
    return ClinicalNote.NoteType.OUTPATIENT


def _draft_note(job: ScribeJob, user: User) -> ClinicalNote:
    """The job's draft note, started now if it has none (or its note was signed meanwhile)."""
    note = job.note
    if note is not None:
        note = ClinicalNote.objects.select_for_update().get(pk=note.pk)
        if note.status == ClinicalNote.Status.DRAFT:
            return note
    note = note_services.note_create_draft(
        encounter=job.encounter, author=user, note_type=_default_note_type(job.encounter)
    )
    job.note = note
    job.save(update_fields=["note", "updated_at"])
    return note


_NUMBER = re.compile(r"\d+(?:[.,]\d+)?")
VITAL_KINDS = ("heart_rate", "respiratory_rate", "spo2", "temperature", "systolic_bp", "diastolic_bp")
_BP_KINDS = ("blood_pressure", "bp")


def _numbers(text: str) -> list[Decimal]:
    return [Decimal(match.replace(",", ".")) for match in _NUMBER.findall(text or "")]


def vital_readings(suggestion: ScribeSuggestion) -> dict[str, Any]:
    """The vital_signs_record() arguments of a vital-sign suggestion (the clinician's edit wins).

    A value {"kind", "value", "unit"} with an EMR vital kind, or kind "blood_pressure" with "150/90"
    (or {"systolic", "diastolic"}); temperatures in Fahrenheit are converted to Celsius. An edited text
    gives the numbers instead ("150/95"). Raises ValidationError when no reading can be read.
    """
    value = suggestion.value or {}
    kind = str(value.get("kind") or "").strip().lower()
    unit = str(value.get("unit") or "").strip().lower()
    if suggestion.decision == Decision.EDITED:
        numbers = _numbers(suggestion.edited_text)
    elif isinstance(value.get("value"), dict):
        numbers = [Decimal(str(value["value"].get(k))) for k in ("systolic", "diastolic") if value["value"].get(k)]
    else:
        numbers = _numbers(str(value.get("value", "")))
    readings: dict[str, Any] = {}
    if kind in _BP_KINDS or (kind == "systolic_bp" and len(numbers) >= 2):
        if len(numbers) >= 2:
            readings = {"systolic_bp": numbers[0], "diastolic_bp": numbers[1]}
    elif kind in VITAL_KINDS and numbers:
        number = numbers[0]
        if kind == "temperature" and ("f" in unit.replace("cel", "") or number > 50):
            number = ((number - 32) * 5 / 9).quantize(Decimal("0.1"))
        readings = {kind: number}
    if not readings:
        raise ValidationError({"text": [_("Give the vital sign as a number (blood pressure as 150/90).")]})
    return readings


def _check_code(code: str) -> str:
    code = (code or "").strip().upper()
    if not code:
        return ""
    normalised = f"{code[:3]}.{code[3:]}" if "." not in code and len(code) > 3 else code
    found = Icd10Code.objects.filter(code__in={code, normalised}, is_leaf=True).values_list("code", flat=True).first()
    if found is None:
        raise ValidationError({"code": [_("Unknown ICD-10 code: %(code)s.") % {"code": code}]})
    return found


@transaction.atomic
def scribe_suggestion_decide(
    *, suggestion: ScribeSuggestion, decided_by: User, decision: str, text: str = "", code: str = ""
) -> ScribeSuggestion:
    """Record the clinician's decision on one suggestion: accepted, edited (with `text`), rejected, or back to
    pending. For a diagnosis, `code` picks the ICD-10 code (one of its candidates or any recordable code).

    The model's suggestion is never changed; the decision, edit, who and when are kept beside it. Accepting
    (or editing) a vital sign records it at once as Observations (source "dictation") on the job's draft
    note, which is started if needed; after that, and after an item went into the note, the decision is
    final (ValidationError). Guarantees: only the job's clinician or a doctor of the care team decides
    (PermissionDenied); the job is ready; an edit has text. One "write" access-log entry.
    """
    # Lock order everywhere: job, then its suggestions (scribe_note_fill updates them under the job's lock).
    job = (
        ScribeJob.objects.select_for_update(of=("self",))
        .select_related("patient", "encounter", "note")
        .get(pk=suggestion.job_id)
    )
    suggestion = ScribeSuggestion.objects.select_for_update().get(pk=suggestion.pk)
    _require_reviewer(job, decided_by)
    if decision not in Decision.values:
        raise ValidationError({"decision": [_("Choose accept, edit or reject.")]})
    if job.status != ScribeJob.Status.READY:
        raise ValidationError({"decision": [_("The scribe job is not ready for review.")]})
    if suggestion.filled_at is not None:
        raise ValidationError({"decision": [_("This item is already in the note; change it in the note.")]})
    if suggestion.observation_set_id is not None:
        raise ValidationError({"decision": [_("This vital sign is already recorded; correct it in the chart.")]})
    text = (text or "").strip()
    if decision == Decision.EDITED and not text:
        raise ValidationError({"text": [_("Enter the corrected text.")]})
    if decision == Decision.EDITED and text == suggestion.text:
        decision = Decision.ACCEPTED
    chosen = _check_code(code) if suggestion.field_name == "diagnosis" else ""

    suggestion.decision = decision
    suggestion.edited_text = text if decision == Decision.EDITED else ""
    suggestion.chosen_code = chosen if decision in ScribeSuggestion.KEPT else ""
    pending = decision == Decision.PENDING
    suggestion.decided_by = None if pending else decided_by
    suggestion.decided_at = None if pending else timezone.now()
    if suggestion.field_name == "vital_sign" and decision in ScribeSuggestion.KEPT:
        readings = vital_readings(suggestion)
        note = _draft_note(job, decided_by)
        rows = vital_signs_record(
            patient=job.patient, recorded_by=decided_by, encounter=job.encounter, note=note, source="dictation",
            **readings,
        )  # fmt: skip
        suggestion.observation_set_id = rows[0].set_id
    suggestion.full_clean(exclude=["job", "decided_by"], validate_unique=False, validate_constraints=False)
    suggestion.save()
    _log(decided_by, "write", job, {"suggestion": str(suggestion.external_id), "decision": decision})
    return suggestion


# Where each suggested field goes in the note: a text field, the coded diagnoses, or the vital signs.
NOTE_FIELD = {
    "chief_complaint": "chief_complaint",
    "history_present_illness": "history_present_illness",
    "past_history": "past_history",
    "family_history": "past_history",
    "medication": "current_medications",
    "allergy": "allergies",
    "examination": "examination",
    "assessment": "assessment",
    "plan": "plan",
    "diagnosis": "diagnoses",
    "vital_sign": "vital_signs",
}


def note_line(suggestion: ScribeSuggestion) -> str:
    """The line an accepted item adds to its note field (family history and a negated finding say so)."""
    text = suggestion.final_text.strip()
    if suggestion.decision == Decision.EDITED:
        return text
    if suggestion.field_name == "family_history" or (suggestion.family and suggestion.field_name == "past_history"):
        return _("Family history: %(text)s") % {"text": text}
    if suggestion.negated and not re.match(r"(?i)^(no|not|denies|denied|negative|without)\b|^(无|否认|没有|未)", text):
        return _("Denies: %(text)s") % {"text": text}
    if suggestion.uncertain:
        return _("%(text)s (uncertain)") % {"text": text}
    return text


@transaction.atomic
def scribe_note_fill(*, job: ScribeJob, filled_by: User) -> ClinicalNote:
    """Put the accepted and edited items not yet filled into the job's draft note (started if needed).

    Text items are appended, one line each, to their note field; diagnoses are added to the note's coded
    diagnoses (provisional when the model heard uncertainty) after the ones already there; vital signs
    were recorded when accepted. Every item gets a NoteFieldProvenance row: source "model", model name
    and version, confidence, its span in the transcript (kept whole as the source text), accepted, and
    whether the clinician edited it. Nothing is signed: the clinician signs the note in the EMR.
    Guarantees: reviewer only (PermissionDenied); the job is ready and something is accepted
    (ValidationError); all of it or nothing is written. One "write" access-log entry for the job.
    """
    job = (
        ScribeJob.objects.select_for_update(of=("self",)).select_related("patient", "encounter", "note").get(pk=job.pk)
    )
    _require_reviewer(job, filled_by)
    if job.status != ScribeJob.Status.READY:
        raise ValidationError({"non_field_errors": [_("The scribe job is not ready for review.")]})
    items = list(
        job.suggestions.filter(decision__in=ScribeSuggestion.KEPT, filled_at__isnull=True).order_by("position")
    )
    if not items:
        raise ValidationError({"non_field_errors": [_("Accept or edit at least one suggested item first.")]})
    note = _draft_note(job, filled_by)

    lines: dict[str, list[str]] = {}
    new_codes: list[tuple[str, str]] = []
    targets: dict[int, str] = {}
    for item in items:
        target = NOTE_FIELD[item.field_name]
        code = item.chosen_code or str((item.value or {}).get("code") or "")
        if target == "diagnoses" and code:
            certainty = NoteDiagnosis.Certainty.PROVISIONAL if item.uncertain else NoteDiagnosis.Certainty.CONFIRMED
            new_codes.append((_check_code(code), certainty))
        elif target == "diagnoses":  # a diagnosis without a code is words of the assessment
            target = "assessment"
        if target not in ("diagnoses", "vital_signs"):
            lines.setdefault(target, []).append(note_line(item))
        targets[item.pk] = target
    if lines:
        fields = {}
        for name, added in lines.items():
            current = getattr(note, name).rstrip()
            fields[name] = "\n".join([current, *added] if current else added)
        note = note_services.note_update_draft(note=note, edited_by=filled_by, **fields)
    if new_codes:
        existing = [(dx.icd10.code, dx.certainty) for dx in note.diagnoses.select_related("icd10").order_by("rank")]
        known = {code for code, _certainty in existing}
        merged = existing + [(code, c) for code, c in dict(new_codes).items() if code not in known]
        note_services.note_set_diagnoses(note=note, diagnoses=merged, set_by=filled_by)
    for item in items:
        note_services.note_record_provenance(
            note=note,
            field_name=targets[item.pk],
            source=NoteFieldProvenance.Source.MODEL,
            model_name=item.model_name,
            model_version=item.model_version,
            confidence=item.confidence,
            span=(item.span_start, item.span_end),
            source_text=job.transcript_text,
            accepted=True,
            edited=item.decision == Decision.EDITED,
            recorded_by=filled_by,
        )
    now = timezone.now()
    ScribeSuggestion.objects.filter(pk__in=[item.pk for item in items]).update(filled_at=now, updated_at=now)
    _log(filled_by, "write", job, {"note": str(note.external_id), "filled": len(items)})
    return note


def scribe_jobs_requeue_stale(*, now: datetime | None = None) -> list[int]:
    """Enqueue again the jobs whose task seems lost: queued for longer than SCRIBE_STALE_CLAIM_SECONDS (the
    broker lost the message), or running without progress for that long (its worker died and no redelivery
    came). Returns their ids. Harmless if the original delivery is alive after all: the claim leaves a job
    to a delivery that reports progress, and results are fenced on the attempt."""
    now = now or timezone.now()
    quiet = now - timedelta(seconds=conf.stale_claim_seconds())
    stale = list(
        ScribeJob.objects.filter(status=ScribeJob.Status.QUEUED, created_at__lt=quiet).values_list("pk", flat=True)
    ) + list(
        ScribeJob.objects.filter(status__in=ScribeJob.RUNNING, heartbeat_at__lt=quiet).values_list("pk", flat=True)
    )
    for job_id in stale:
        logger.warning("scribe job %s looks lost; enqueued again", job_id)
        current_app.send_task(RUN_TASK, args=[job_id], queue="ai")
    return stale


# --- retention ----------------------------------------------------------------------------------------------


def scribe_audio_purge(*, now: datetime | None = None) -> int:
    """Delete the recordings of jobs created more than SCRIBE_AUDIO_RETENTION_DAYS ago; returns how many.

    The transcript, suggestions and the recording's fingerprint (SHA-256, size, duration) stay; the job
    records `audio_deleted_at`. Each job is purged in its own short transaction (rows another process
    holds are skipped until the next run), the file removed only after the row says so. Encrypted files
    no job names, older than a day, are removed too. One "delete" access-log entry per job.
    """
    now = now or timezone.now()
    cutoff = now - timedelta(days=conf.audio_retention_days())
    purged = 0
    ids = list(
        ScribeJob.objects.filter(created_at__lt=cutoff, audio_deleted_at__isnull=True)
        .exclude(audio_path="")
        .values_list("pk", flat=True)
    )
    for job_id in ids:
        with transaction.atomic():
            job = (
                ScribeJob.objects.select_for_update(skip_locked=True, of=("self",))
                .select_related("patient")
                .filter(pk=job_id, audio_deleted_at__isnull=True)
                .exclude(audio_path="")
                .first()
            )
            if job is None:
                continue
            name = job.audio_path
            job.audio_path = ""
            job.audio_deleted_at = now
            job.save(update_fields=["audio_path", "audio_deleted_at", "updated_at"])
            _log(None, "delete", job, {"audio": "purged", "retention_days": conf.audio_retention_days()})
            transaction.on_commit(partial(storage.audio_delete, name))
        purged += 1
    known = set(ScribeJob.objects.exclude(audio_path="").values_list("audio_path", flat=True))
    for path in storage.audio_orphans(known=known, older_than_seconds=ORPHAN_SECONDS):
        path.unlink(missing_ok=True)
        logger.info("removed an encrypted recording no scribe job names: %s", path.name)
    return purged
