"""Writes of structured clinical notes: drafts, coded diagnoses, provenance, signing and amendments.

A note is written as a draft, signed once, and never changed after that: the database refuses it
(migration 0004), and these services refuse it first with `SignedNoteError`, so callers get a clear
message instead of a database error. A correction is an amendment: a new draft version of the same
thread, linked to the signed version it corrects, that is then signed in its turn.

Every service locks the note row (SELECT ... FOR UPDATE) before checking its status, so a note cannot
be edited and signed at the same moment, and writes its access-log entry last.
"""

import uuid
from collections.abc import Iterable, Sequence
from decimal import Decimal
from typing import TypedDict

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from emr.models import ClinicalNote, Encounter, Icd10Code, NoteDiagnosis, NoteFieldProvenance, Observation
from hospital.core import roles
from hospital.core.models import User
from hospital.core.services.access_log import access_log_record

EDITABLE_FIELDS = (*ClinicalNote.TEXT_FIELDS, "note_type")
PROVENANCE_FIELDS = (*ClinicalNote.TEXT_FIELDS, "diagnoses", "vital_signs")


class _CleanOptions(TypedDict):
    validate_unique: bool
    validate_constraints: bool


# Uniqueness (external id, thread + version) and the check constraints are guaranteed by construction here
# and by the database; Django re-checking them would cost a query per constraint.
CLEAN: _CleanOptions = {"validate_unique": False, "validate_constraints": False}


class SignedNoteError(ValidationError):
    """The note is signed: it cannot be edited, re-signed, given diagnoses or provenance, or deleted."""

    def __init__(self, message: str | None = None):
        super().__init__(message or _("This note is signed and can no longer be changed. Amend it instead."))


def _lock(note: ClinicalNote) -> ClinicalNote:
    return ClinicalNote.objects.select_for_update(of=("self",)).select_related("encounter", "patient").get(pk=note.pk)


def _require_draft(note: ClinicalNote) -> None:
    if note.status != ClinicalNote.Status.DRAFT:
        raise SignedNoteError


def on_care_team(user: User, encounter: Encounter) -> bool:
    """Whether `user` is the attending clinician or a care-team member of the encounter."""
    return encounter.attending_id == user.pk or encounter.care_team.filter(user=user).exists()


def note_may_edit(*, note: ClinicalNote, user: User) -> bool:
    """Whether `user` may edit, amend or sign `note`: its author, or a doctor on the encounter's care team."""
    if not (user and user.is_authenticated and user.is_active):
        return False
    if note.author_id == user.pk:
        return True
    return user.has_role(roles.DOCTOR) and on_care_team(user, note.encounter)


def _require_editor(note: ClinicalNote, user: User) -> None:
    if not note_may_edit(note=note, user=user):
        raise PermissionDenied(_("Only the note's author or a doctor of the care team may change this note."))


def _clean_fields(fields: dict, *, allowed: Sequence[str] = EDITABLE_FIELDS) -> dict[str, str]:
    errors: dict[str, list[str]] = {}
    cleaned: dict[str, str] = {}
    for name, value in fields.items():
        if name not in allowed:
            errors[name] = [_("Not a field of a clinical note.")]
        elif value is None:
            cleaned[name] = ""
        elif not isinstance(value, str):
            errors[name] = [_("Enter text.")]
        else:
            cleaned[name] = value
    if errors:
        raise ValidationError(errors)
    return cleaned


@transaction.atomic
def note_create_draft(*, encounter: Encounter, author: User, note_type: str, **fields: str) -> ClinicalNote:
    """Start a draft note (version 1 of a new thread) for the encounter's patient.

    `fields` are the note's text fields (chief_complaint, history_present_illness, past_history,
    current_medications, allergies, examination, assessment, plan). Guarantees: unknown fields, a wrong
    note type or a cancelled encounter give a ValidationError and write nothing; the "create" access-log
    entry is written with the note. The database computes the note's search vector.
    """
    cleaned = _clean_fields(fields, allowed=ClinicalNote.TEXT_FIELDS)
    if encounter.status == Encounter.Status.CANCELLED:
        raise ValidationError({"encounter": [_("Notes cannot be written for a cancelled encounter.")]})
    note = ClinicalNote(
        patient_id=encounter.patient_id,
        encounter=encounter,
        author=author,
        note_type=note_type,
        thread=uuid.uuid4(),
        version=1,
        **cleaned,
    )
    note.full_clean(**CLEAN)
    note.save()
    access_log_record(
        actor=author,
        action="create",
        object_type="emr.clinicalnote",
        object_id=str(note.external_id),
        patient_external_id=encounter.patient.external_id,
        detail={"note_type": note.note_type, "version": 1},
    )
    return note


@transaction.atomic
def note_update_draft(*, note: ClinicalNote, edited_by: User, **fields: str) -> ClinicalNote:
    """Change text fields (and the note type) of a draft; returns the saved note.

    Guarantees: only the author or a doctor of the care team may edit (PermissionDenied); a signed note
    is refused with SignedNoteError and nothing changes; unknown fields give a ValidationError.
    One "write" access-log entry naming the fields changed.
    """
    cleaned = _clean_fields(fields)
    note = _lock(note)
    _require_draft(note)
    _require_editor(note, edited_by)
    for name, value in cleaned.items():
        setattr(note, name, value)
    note.full_clean(**CLEAN)
    note.save(update_fields=[*cleaned, "updated_at"])
    access_log_record(
        actor=edited_by,
        action="write",
        object_type="emr.clinicalnote",
        object_id=str(note.external_id),
        patient_external_id=note.patient.external_id,
        detail={"fields": sorted(cleaned)},
    )
    return note


def _normalise_code(code: str) -> str:
    code = (code or "").strip().upper()
    # "I200" is how codes are often typed; the classification writes "I20.0".
    if "." not in code and len(code) > 3:
        return f"{code[:3]}.{code[3:]}"
    return code


@transaction.atomic
def note_set_diagnoses(
    *, note: ClinicalNote, diagnoses: Iterable[tuple[str, str | None]], set_by: User | None = None
) -> list[NoteDiagnosis]:
    """Replace the coded diagnoses of a draft with `diagnoses`: (ICD-10 code, certainty) pairs, principal first.

    Guarantees: every code exists in emr.models.Icd10Code and is recordable (not a chapter or block),
    no code appears twice and every certainty is known, else ValidationError {"diagnoses": [...]} and
    the note keeps its previous diagnoses; a signed note is refused with SignedNoteError. `set_by`, when
    given, must be allowed to edit the note and is the actor of the "write" access-log entry (None: the
    system, e.g. a import).
    """
    pairs = [(str(code or ""), certainty or NoteDiagnosis.Certainty.CONFIRMED) for code, certainty in diagnoses]
    note = _lock(note)
    _require_draft(note)
    if set_by is not None:
        _require_editor(note, set_by)

    wanted = [_normalise_code(code) for code, _certainty in pairs]
    candidates = set(wanted) | {code.strip() for code, _certainty in pairs}
    known = {row.code: row for row in Icd10Code.objects.filter(code__in=candidates)}
    errors: list[str] = []
    seen: set[str] = set()
    rows: list[NoteDiagnosis] = []
    for rank, ((typed, certainty), code) in enumerate(zip(pairs, wanted, strict=True), start=1):
        icd10 = known.get(code) or known.get(typed.strip())
        if icd10 is None:
            errors.append(_("Unknown ICD-10 code: %(code)s.") % {"code": typed.strip() or "''"})
            continue
        if not icd10.is_leaf:
            errors.append(_("%(code)s is a group of diagnoses; choose one of its codes.") % {"code": icd10.code})
            continue
        if certainty not in NoteDiagnosis.Certainty.values:
            errors.append(_("Unknown certainty for %(code)s: %(value)s.") % {"code": icd10.code, "value": certainty})
            continue
        if icd10.code in seen:
            errors.append(_("%(code)s is listed twice.") % {"code": icd10.code})
            continue
        seen.add(icd10.code)
        rows.append(NoteDiagnosis(note=note, icd10=icd10, rank=rank, certainty=certainty))
    if errors:
        raise ValidationError({"diagnoses": errors})

    NoteDiagnosis.objects.filter(note=note).delete()
    created = NoteDiagnosis.objects.bulk_create(rows)
    access_log_record(
        actor=set_by,
        action="write",
        object_type="emr.clinicalnote",
        object_id=str(note.external_id),
        patient_external_id=note.patient.external_id,
        detail={"fields": ["diagnoses"], "codes": [row.icd10.code for row in created]},
    )
    return created


@transaction.atomic
def note_record_provenance(
    *,
    note: ClinicalNote,
    field_name: str,
    source: str,
    model_name: str = "",
    model_version: str = "",
    confidence: Decimal | float | None = None,
    span: tuple[int, int] | None = None,
    source_text: str = "",
    accepted: bool | None = None,
    edited: bool = False,
    recorded_by: User | None = None,
) -> NoteFieldProvenance:
    """Record where the content of one field of a draft came from (typed, dictated, suggested by a model).

    A model suggestion names its model; confidence lies in 0..1; `span` is the (start, end) character
    range of `source_text` (the transcript) that supports it. Guarantees: invalid values give a
    ValidationError with field errors and nothing is written; a signed note is refused with
    SignedNoteError. Earlier provenance rows of the field are kept (the history of a field's content).
    One "write" access-log entry; `recorded_by` None is the system (e.g. the scribe's worker).
    """
    errors: dict[str, list[str]] = {}
    if field_name not in PROVENANCE_FIELDS:
        errors["field_name"] = [_("Not a field of a clinical note.")]
    span_start = span_end = None
    if span is not None:
        try:
            span_start, span_end = (int(value) for value in span)
        except (TypeError, ValueError):
            errors["span"] = [_("Give the span as two character positions (start, end).")]
        else:
            if span_start < 0 or span_end < span_start:
                errors["span"] = [_("The span must start at 0 or later and not end before it starts.")]
    if source == NoteFieldProvenance.Source.MODEL and not (model_name or "").strip():
        errors["model_name"] = [_("A suggestion by a model must name the model.")]
    if confidence is not None:
        try:
            confidence = Decimal(str(confidence))
        except ArithmeticError:
            errors["confidence"] = [_("Enter a number between 0 and 1.")]
        else:
            if not (confidence.is_finite() and 0 <= confidence <= 1):
                errors["confidence"] = [_("Enter a number between 0 and 1.")]
            else:
                confidence = confidence.quantize(Decimal("0.001"))
    if errors:
        raise ValidationError(errors)

    note = _lock(note)
    _require_draft(note)
    if recorded_by is not None:
        _require_editor(note, recorded_by)
    provenance = NoteFieldProvenance(
        note=note,
        field_name=field_name,
        source=source,
        model_name=(model_name or "").strip(),
        model_version=(model_version or "").strip(),
        confidence=confidence,
        span_start=span_start,
        span_end=span_end,
        source_text=source_text or "",
        accepted=accepted,
        edited=edited,
    )
    provenance.full_clean(exclude=["note"], **CLEAN)
    provenance.save()
    access_log_record(
        actor=recorded_by,
        action="write",
        object_type="emr.clinicalnote",
        object_id=str(note.external_id),
        patient_external_id=note.patient.external_id,
        detail={"provenance": field_name, "source": source},
    )
    return provenance


@transaction.atomic
def note_sign(*, note: ClinicalNote, signed_by: User) -> ClinicalNote:
    """Sign a draft: from now on neither the note nor its diagnoses and provenance can change.

    Guarantees: only a doctor who wrote the note or is on the encounter's care team may sign
    (PermissionDenied); the note has a chief complaint or an assessment (ValidationError otherwise);
    a note is signed once (SignedNoteError). Sets signed_at / signed_by; one "sign" access-log entry.
    Returns the signed note.
    """
    note = _lock(note)
    _require_draft(note)
    if not (signed_by.has_role(roles.DOCTOR) and note_may_edit(note=note, user=signed_by)):
        raise PermissionDenied(_("Only a doctor who wrote the note or treats the patient may sign it."))
    if not (note.chief_complaint.strip() or note.assessment.strip()):
        raise ValidationError(
            {"non_field_errors": [_("A note needs a chief complaint or an assessment before it can be signed.")]}
        )
    note.status = ClinicalNote.Status.SIGNED
    note.signed_at = timezone.now()
    note.signed_by = signed_by
    note.save(update_fields=["status", "signed_at", "signed_by", "updated_at"])
    access_log_record(
        actor=signed_by,
        action="sign",
        object_type="emr.clinicalnote",
        object_id=str(note.external_id),
        patient_external_id=note.patient.external_id,
        detail={"version": note.version, "thread": str(note.thread)},
    )
    return note


@transaction.atomic
def note_amend(*, note: ClinicalNote, amended_by: User, reason: str, **changed_fields: str) -> ClinicalNote:
    """Start an amendment of a signed note: a new draft version (version + 1, `amends` = the signed one).

    The draft copies the signed version's fields, diagnoses and the provenance of the fields not
    changed, then applies `changed_fields`; the caller edits and signs it like any draft. The signed
    version stays as it is. Guarantees: only the newest version of a thread can be amended, and only
    once at a time (ValidationError otherwise); a reason is required; only the author or a doctor of
    the care team may amend (PermissionDenied). One "create" access-log entry.
    """
    cleaned = _clean_fields(changed_fields, allowed=ClinicalNote.TEXT_FIELDS)
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": [_("State why the note is amended.")]})
    note = _lock(note)
    if note.status != ClinicalNote.Status.SIGNED:
        raise ValidationError({"non_field_errors": [_("Only a signed note can be amended; edit the draft instead.")]})
    _require_editor(note, amended_by)
    newer = ClinicalNote.objects.filter(thread=note.thread, version__gt=note.version).order_by("version").first()
    if newer is not None:
        message = (
            _("An amendment of this note is already in progress (draft version %(version)s).")
            if newer.status == ClinicalNote.Status.DRAFT
            else _("This version has been amended already (version %(version)s); amend the newest version.")
        )
        raise ValidationError({"non_field_errors": [message % {"version": newer.version}]})

    amendment = ClinicalNote(
        patient_id=note.patient_id,
        encounter_id=note.encounter_id,
        author=amended_by,
        note_type=note.note_type,
        thread=note.thread,
        version=note.version + 1,
        amends=note,
        amendment_reason=reason,
        **{name: getattr(note, name) for name in ClinicalNote.TEXT_FIELDS},
    )
    for name, value in cleaned.items():
        setattr(amendment, name, value)
    amendment.full_clean(**CLEAN)
    amendment.save()
    NoteDiagnosis.objects.bulk_create(
        NoteDiagnosis(note=amendment, icd10_id=row.icd10_id, rank=row.rank, certainty=row.certainty)
        for row in note.diagnoses.all()
    )
    kept = note.provenance.exclude(field_name__in=cleaned)
    NoteFieldProvenance.objects.bulk_create(
        NoteFieldProvenance(
            note=amendment,
            **{
                name: getattr(row, name)
                for name in (
                    "field_name",
                    "source",
                    "model_name",
                    "model_version",
                    "confidence",
                    "span_start",
                    "span_end",
                    "source_text",
                    "accepted",
                    "edited",
                )
            },  # fmt: skip
        )
        for row in kept
    )
    access_log_record(
        actor=amended_by,
        action="create",
        object_type="emr.clinicalnote",
        object_id=str(amendment.external_id),
        patient_external_id=note.patient.external_id,
        detail={"amends": str(note.external_id), "version": amendment.version, "fields": sorted(cleaned)},
    )
    return amendment


@transaction.atomic
def note_delete_draft(*, note: ClinicalNote, deleted_by: User) -> None:
    """Discard a draft (with its diagnoses and provenance); signed notes are refused with SignedNoteError.

    Only the author may discard a draft (PermissionDenied). Vital signs recorded with the draft are
    measurements in their own right: they stay, detached from the note. One "delete" access-log entry.
    """
    note = _lock(note)
    _require_draft(note)
    if note.author_id != deleted_by.pk:
        raise PermissionDenied(_("Only the author may discard a draft."))
    external_id, patient_external_id = note.external_id, note.patient.external_id
    Observation.objects.filter(note=note).update(note=None)
    note.delete()
    access_log_record(
        actor=deleted_by,
        action="delete",
        object_type="emr.clinicalnote",
        object_id=str(external_id),
        patient_external_id=patient_external_id,
    )
