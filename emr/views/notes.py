"""The note editor (draft -> signed -> amended), the read-only note with its versions, the ICD-10 picker,
and full-text search across notes."""

import uuid

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import models, transaction
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from emr.models import ClinicalNote, Encounter, NoteDiagnosis
from emr.selectors.notes import note_search as note_search_selector
from emr.selectors.notes import note_versions
from emr.selectors.terminology import icd10_search
from emr.services import notes as note_services
from emr.services.notes import note_may_edit
from emr.services.observations import vital_signs_record
from emr.views.access import clinical_patient
from emr.views.display import age_in_years, latest_vitals_rows
from emr.views.forms import AmendForm, NoteForm, VitalSignsForm, add_service_errors, diagnoses_from_post
from hospital.core.services.access_log import access_log_record

SEARCH_LIMIT = 50


class _RollBack(Exception):
    """Raised inside the save transaction so a rejected vital sign also undoes the note's save."""


def _icd10_title(code) -> str:
    return code.localized_title


def _note_or_404(external_id: uuid.UUID) -> ClinicalNote:
    try:
        return ClinicalNote.objects.select_related("patient", "encounter", "author", "signed_by").get(
            external_id=external_id
        )
    except ClinicalNote.DoesNotExist as exc:
        raise Http404 from exc


def _encounter_for_new_note(request, patient) -> Encounter | None:
    encounters = Encounter.objects.filter(patient=patient).exclude(status=Encounter.Status.CANCELLED)
    wanted = request.GET.get("encounter") or request.POST.get("encounter")
    if wanted:
        try:
            return encounters.get(external_id=uuid.UUID(wanted))
        except (ValueError, Encounter.DoesNotExist) as exc:
            raise Http404 from exc
    in_progress = encounters.filter(status=Encounter.Status.IN_PROGRESS).order_by("-started_at", "-id").first()
    return in_progress or encounters.order_by("-started_at", "-id").first()


def _chips(diagnoses: list[dict]) -> list[dict]:
    """The chips to show again after a failed save, with their titles."""
    from emr.models import Icd10Code

    titles = {
        code.code: _icd10_title(code) for code in Icd10Code.objects.filter(code__in=[d["code"] for d in diagnoses])
    }
    return [{**d, "title": titles.get(d["code"], "")} for d in diagnoses]


def _editor(request, *, patient, encounter, note, form, vitals_form, diagnoses, dx_errors=(), status=200):
    return render(
        request,
        "emr/note_form.html",
        {
            "patient": patient,
            "age": age_in_years(patient.birth_date),
            "encounter": encounter,
            "note": note,
            "form": form,
            "vitals_form": vitals_form,
            "text_fields": ClinicalNote.TEXT_FIELDS,
            "diagnoses": diagnoses,
            "dx_errors": dx_errors,
            "blank_dx": {"code": "", "title": "", "certainty": NoteDiagnosis.Certainty.CONFIRMED},
            "certainty_choices": NoteDiagnosis.Certainty.choices,
        },
        status=status,
    )


def _save(request, *, patient, encounter, note: ClinicalNote | None):
    """Validate and save the editor's POST; returns (note, None) on success or (None, the editor re-rendered)."""
    form = NoteForm(request.POST)
    vitals_form = VitalSignsForm(request.POST, prefix="vs")
    diagnoses = diagnoses_from_post(request.POST)
    forms_valid = form.is_valid() & vitals_form.is_valid()
    dx_errors: list[str] = []
    if forms_valid:
        fields = {name: form.cleaned_data[name] for name in ClinicalNote.TEXT_FIELDS}
        try:
            with transaction.atomic():
                if note is None:
                    note = note_services.note_create_draft(
                        encounter=encounter, author=request.user, note_type=form.cleaned_data["note_type"], **fields
                    )
                else:
                    note = note_services.note_update_draft(
                        note=note, edited_by=request.user, note_type=form.cleaned_data["note_type"], **fields
                    )
                note_services.note_set_diagnoses(
                    note=note, diagnoses=[(d["code"], d["certainty"]) for d in diagnoses], set_by=request.user
                )
                readings = vitals_form.readings()
                if readings:
                    try:
                        vital_signs_record(patient=patient, recorded_by=request.user, note=note, **readings)
                    except ValidationError as exc:
                        add_service_errors(vitals_form, exc)
                        raise _RollBack from exc
        except _RollBack:
            if request.resolver_match.url_name == "note_new":
                note = None
            else:
                assert note is not None  # the editor of an existing draft passed it in
                note = _note_or_404(note.external_id)
        except ValidationError as exc:
            errors = exc.message_dict if hasattr(exc, "error_dict") else {"__all__": exc.messages}
            dx_errors = errors.pop("diagnoses", [])
            add_service_errors(form, ValidationError(errors) if errors else ValidationError([]))
        else:
            return note, None
    return None, _editor(
        request,
        patient=patient,
        encounter=encounter,
        note=note if note is not None and note.pk else None,
        form=form,
        vitals_form=vitals_form,
        diagnoses=_chips(diagnoses),
        dx_errors=dx_errors,
        status=400,
    )


def _after_save(request, note: ClinicalNote):
    if request.POST.get("action") == "sign":
        return redirect("emr:note_sign", external_id=note.external_id)
    messages.success(request, _("Draft saved."))
    return redirect("emr:note_edit", external_id=note.external_id)


@login_required
@require_http_methods(["GET", "POST"])
def note_new(request, external_id: uuid.UUID):
    """A new draft note for the patient's encounter (?encounter=<id>, else the one in progress)."""
    if not request.user.has_perm("emr.add_clinicalnote"):
        raise PermissionDenied
    patient, refusal = clinical_patient(request, external_id)
    if patient is None:
        return refusal
    encounter = _encounter_for_new_note(request, patient)
    if encounter is None:
        messages.error(request, _("This patient has no encounter yet; a note belongs to an encounter."))
        return redirect("emr:patient_chart", external_id=patient.external_id)
    if request.method == "POST":
        note, response = _save(request, patient=patient, encounter=encounter, note=None)
        return response or _after_save(request, note)
    return _editor(
        request,
        patient=patient,
        encounter=encounter,
        note=None,
        form=NoteForm(initial={"note_type": _default_note_type(encounter)}),
        vitals_form=VitalSignsForm(prefix="vs"),
        diagnoses=[],
    )


def _default_note_type(encounter: Encounter) -> str:
    if encounter.encounter_class == Encounter.EncounterClass.INPATIENT:
        return ClinicalNote.NoteType.PROGRESS
    return ClinicalNote.NoteType.OUTPATIENT


@login_required
@require_http_methods(["GET", "POST"])
def note_edit(request, external_id: uuid.UUID):
    """Edit a draft; a signed note is never edited and opens read-only instead."""
    note = _note_or_404(external_id)
    patient, refusal = clinical_patient(request, note.patient.external_id)
    if patient is None:
        return refusal
    if note.status != ClinicalNote.Status.DRAFT or not request.user.has_perm("emr.change_clinicalnote"):
        messages.info(request, _("A signed note cannot be changed; amend it to correct it."))
        return redirect("emr:note_detail", external_id=note.external_id)
    if request.method == "POST":
        saved, response = _save(request, patient=patient, encounter=note.encounter, note=note)
        return response or _after_save(request, saved)
    diagnoses = [
        {"code": dx.icd10.code, "title": _icd10_title(dx.icd10), "certainty": dx.certainty}
        for dx in note.diagnoses.select_related("icd10").order_by("rank", "id")
    ]
    note.vitals_recorded = list(note.vitals.order_by("code"))
    initial = {name: getattr(note, name) for name in ClinicalNote.TEXT_FIELDS}
    initial["note_type"] = note.note_type
    return _editor(
        request,
        patient=patient,
        encounter=note.encounter,
        note=note,
        form=NoteForm(initial=initial),
        vitals_form=VitalSignsForm(prefix="vs"),
        diagnoses=diagnoses,
    )


def _text_field_label(name: str) -> str:
    field = ClinicalNote._meta.get_field(name)
    assert isinstance(field, models.Field)  # TEXT_FIELDS names the note's own text columns
    return field.verbose_name.capitalize()


def _detail_context(request, note: ClinicalNote, patient) -> dict:
    note_diagnoses = list(note.diagnoses.select_related("icd10").order_by("rank", "id"))
    for dx in note_diagnoses:
        dx.icd10.title = _icd10_title(dx.icd10)
    vitals = {obs.code: obs for obs in note.vitals.all()}
    versions = list(reversed(note_versions(thread=note.thread, fetched_by=request.user)))
    newest_signed = next((v for v in versions if v.status == ClinicalNote.Status.SIGNED), None)
    return {
        "patient": patient,
        "age": age_in_years(patient.birth_date),
        "note": note,
        "sections": [
            {"label": _text_field_label(name), "text": getattr(note, name)} for name in ClinicalNote.TEXT_FIELDS
        ],
        "note_diagnoses": note_diagnoses,
        "note_vitals": latest_vitals_rows(vitals),
        "versions": versions,
        "superseded": versions and versions[0].pk != note.pk,
        "can_edit": request.user.has_perm("emr.change_clinicalnote"),
        # Only the newest signed version is amended, and only when no draft amendment is already open.
        "can_amend": (
            request.user.has_perm("emr.add_clinicalnote")
            and note.status == ClinicalNote.Status.SIGNED
            and newest_signed is not None
            and newest_signed.pk == note.pk
            and versions[0].pk == note.pk
        ),
        "amend_form": AmendForm(),
    }


def _log_note(request, note: ClinicalNote, *, action: str, view: str) -> None:
    with transaction.atomic():
        access_log_record(
            actor=request.user,
            action=action,
            object_type="emr.clinicalnote",
            object_id=str(note.external_id),
            patient_external_id=note.patient.external_id,
            detail={"view": view, "version": note.version},
        )


@login_required
@require_GET
def note_detail(request, external_id: uuid.UUID):
    """A note version read-only, with the list of its versions; logged as a "read"."""
    note = _note_or_404(external_id)
    patient, refusal = clinical_patient(request, note.patient.external_id)
    if patient is None:
        return refusal
    if note.status == ClinicalNote.Status.DRAFT and not note_may_edit(note=note, user=request.user):
        raise Http404  # a draft is its author's (and the care team's doctors') until it is signed
    context = _detail_context(request, note, patient)
    _log_note(request, note, action="read", view="note")
    return render(request, "emr/note_detail.html", context)


@login_required
@require_http_methods(["GET", "POST"])
def note_sign(request, external_id: uuid.UUID):
    """GET: the note read-only with a confirmation; POST: sign it (it never changes again)."""
    note = _note_or_404(external_id)
    patient, refusal = clinical_patient(request, note.patient.external_id)
    if patient is None:
        return refusal
    if note.status != ClinicalNote.Status.DRAFT:
        return redirect("emr:note_detail", external_id=note.external_id)
    if request.method == "POST":
        try:
            note_services.note_sign(note=note, signed_by=request.user)
        except ValidationError as exc:
            for message in exc.messages:
                messages.error(request, message)
            return redirect("emr:note_edit", external_id=note.external_id)
        messages.success(request, _("Note signed."))
        return redirect("emr:note_detail", external_id=note.external_id)
    context = _detail_context(request, note, patient)
    context["confirm_sign"] = True
    _log_note(request, note, action="read", view="note_sign")
    return render(request, "emr/note_detail.html", context)


@login_required
@require_POST
def note_amend(request, external_id: uuid.UUID):
    """Start an amendment of a signed note: a new draft version carrying the reason, opened in the editor."""
    note = _note_or_404(external_id)
    patient, refusal = clinical_patient(request, note.patient.external_id)
    if patient is None:
        return refusal
    if not request.user.has_perm("emr.add_clinicalnote"):
        raise PermissionDenied
    form = AmendForm(request.POST)
    if form.is_valid():
        try:
            amendment = note_services.note_amend(note=note, amended_by=request.user, reason=form.cleaned_data["reason"])
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.info(request, _("Amendment started as version %(version)s.") % {"version": amendment.version})
            return redirect("emr:note_edit", external_id=amendment.external_id)
    context = _detail_context(request, note, patient)
    context["amend_form"] = form
    return render(request, "emr/note_detail.html", context, status=400)


@login_required
@require_GET
def note_print(request, external_id: uuid.UUID):
    """One note version as a printable page; logged as a "print"."""
    note = _note_or_404(external_id)
    patient, refusal = clinical_patient(request, note.patient.external_id)
    if patient is None:
        return refusal
    context = _detail_context(request, note, patient)
    _log_note(request, note, action="print", view="note")
    return render(request, "emr/note_print.html", context)


@login_required
@require_GET
def icd10_picker(request):
    """The picker's result list (htmx): ICD-10 codes by code or words; reference data, not logged."""
    if not request.user.has_perm("emr.add_clinicalnote"):
        raise PermissionDenied
    query = (request.GET.get("icd10_query") or request.GET.get("q") or "").strip()[:100]
    codes = icd10_search(query=query, limit=15) if query else []
    for code in codes:
        code.display_title = _icd10_title(code)
    return render(request, "emr/includes/icd10_results.html", {"codes": codes, "query": query})


@login_required
@require_GET
def note_search(request):
    """Full-text search across the notes of the user's patients, with highlighted snippets."""
    query = request.GET.get("q", "").strip()[:200]
    results = []
    if query:
        results = list(note_search_selector(query=query, fetched_by=request.user, limit=SEARCH_LIMIT))
    return render(request, "emr/note_search.html", {"query": query, "results": results})
