"""Record a set of vital signs: a quick form for nurses and doctors."""

import uuid

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from emr.models import Encounter
from emr.services.observations import vital_signs_record
from emr.views.access import clinical_patient
from emr.views.display import age_in_years
from emr.views.forms import VitalSignsForm, add_service_errors


@login_required
@require_http_methods(["GET", "POST"])
def vitals_new(request, external_id: uuid.UUID):
    """The vital-signs form; a valid set is recorded on the patient's current encounter and the chart opens."""
    if not request.user.has_perm("emr.add_observation"):
        raise PermissionDenied
    patient, refusal = clinical_patient(request, external_id)
    if patient is None:
        return refusal
    form = VitalSignsForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        encounter = (
            Encounter.objects.filter(patient=patient, status=Encounter.Status.IN_PROGRESS)
            .order_by("-started_at", "-id")
            .first()
        )
        try:
            vital_signs_record(patient=patient, recorded_by=request.user, encounter=encounter, **form.readings())
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, _("Vital signs recorded."))
            return redirect("emr:patient_chart", external_id=patient.external_id)
    return render(
        request,
        "emr/vitals_form.html",
        {"patient": patient, "age": age_in_years(patient.birth_date), "form": form},
        status=400 if form.is_bound and form.errors else 200,
    )
