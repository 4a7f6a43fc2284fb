"""The patient chart on one screen, and its print view."""

import uuid

from django.contrib.auth.decorators import login_required
from django.db import transaction
from django.shortcuts import render
from django.views.decorators.http import require_GET

from emr.selectors.chart import ChartSummary, patient_chart
from emr.views.access import clinical_patient
from emr.views.display import FLAG_BADGES, age_in_years, latest_vitals_rows, number
from emr.views.vitals_chart import vitals_chart
from hospital.core.services.access_log import access_log_record


def _chart_context(request, patient, summary: ChartSummary) -> dict:
    labs = [
        {
            "observation": lab,
            "value": number(lab.value_numeric) if lab.value_numeric is not None else lab.value_text,
            "range": " – ".join(number(v) for v in (lab.reference_low, lab.reference_high) if v is not None),
            "badge": FLAG_BADGES.get(lab.flag, ""),
        }
        for lab in summary.labs
    ]
    return {
        "patient": patient,
        "age": age_in_years(patient.birth_date),
        "summary": summary,
        "vitals_now": latest_vitals_rows(summary.latest_vitals),
        "graph": vitals_chart(summary.vital_readings),
        "labs": labs,
        "current_encounter": summary.current_encounter,
        "can_write_notes": request.user.has_perm("emr.add_clinicalnote"),
        "can_record_vitals": request.user.has_perm("emr.add_observation"),
    }


def _log_chart(request, patient, *, action: str, detail: dict) -> None:
    # The log entry is the last write of the request's own short transaction: the chain lock is held
    # only until that commit, never while the page renders.
    with transaction.atomic():
        access_log_record(
            actor=request.user,
            action=action,
            object_type="emr.patient",
            object_id=str(patient.external_id),
            patient_external_id=patient.external_id,
            detail={**detail, "via_break_glass": bool(getattr(patient, "via_break_glass", False))},
        )


@login_required
@require_GET
def patient_chart_page(request, external_id: uuid.UUID):
    """The chart: summary cards, vital-signs graph, labs and the notes timeline; one "read" log entry."""
    patient, refusal = clinical_patient(request, external_id)
    if patient is None:
        return refusal
    summary = patient_chart(patient=patient, user=request.user)
    _log_chart(request, patient, action="read", detail={"view": "chart", "sections": list(ChartSummary.SECTIONS)})
    return render(request, "emr/chart.html", _chart_context(request, patient, summary))


@login_required
@require_GET
def patient_print(request, external_id: uuid.UUID):
    """A printable summary of the chart; logged as a "print"."""
    patient, refusal = clinical_patient(request, external_id)
    if patient is None:
        return refusal
    summary = patient_chart(patient=patient, user=request.user)
    _log_chart(request, patient, action="print", detail={"view": "chart", "sections": list(ChartSummary.SECTIONS)})
    return render(request, "emr/chart_print.html", _chart_context(request, patient, summary))
