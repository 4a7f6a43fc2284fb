"""Find a patient, and register a new one after the duplicate check."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Max
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods

from emr.models import Encounter
from emr.selectors import patients as patient_selectors
from emr.selectors.access import is_clinician
from emr.services.encounters import encounter_start
from emr.services.patients import patient_create
from emr.views.display import age_in_years
from emr.views.forms import PatientRegistrationForm, add_service_errors
from hospital.core import roles

SEARCH_LIMIT = 50


def _may_search(user) -> bool:
    return user.has_role(roles.DOCTOR, roles.NURSE, roles.RECORDS_ARCHIVIST) or user.is_superuser


def _may_register(user) -> bool:
    return user.has_perm("emr.add_patient")


@login_required
@require_GET
def patient_search(request):
    """One search box; results as a table. htmx asks for the results alone while the user types."""
    if not _may_search(request.user):
        raise PermissionDenied
    query = request.GET.get("q", "").strip()[:100]
    patients, truncated = [], False
    if query:
        found = list(patient_selectors.patient_search(query=query, fetched_by=request.user, limit=SEARCH_LIMIT + 1))
        truncated = len(found) > SEARCH_LIMIT
        patients = found[:SEARCH_LIMIT]
        # The last encounter of every patient shown, in one query.
        last_seen = dict(
            Encounter.objects.filter(patient__in=patients)
            .exclude(status=Encounter.Status.CANCELLED)
            .values("patient")
            .annotate(last=Max("started_at"))
            .values_list("patient", "last")
        )
        for patient in patients:
            patient.age = age_in_years(patient.birth_date)
            patient.last_encounter_at = last_seen.get(patient.pk)
    under_care = [] if query or request.htmx else patient_selectors.patients_under_care(user=request.user)
    for patient in under_care:
        patient.age = age_in_years(patient.birth_date)
    context = {
        "query": query,
        "patients": patients,
        "under_care": under_care,
        "truncated": truncated,
        "can_register": _may_register(request.user),
    }
    template = "emr/includes/patient_results.html" if request.htmx else "emr/patient_search.html"
    return render(request, template, context)


@login_required
@require_http_methods(["GET", "POST"])
def patient_register(request):
    """Registration: the duplicate check runs before saving; likely duplicates are shown with their reasons."""
    if not _may_register(request.user):
        raise PermissionDenied
    form = PatientRegistrationForm(request.POST or None, clinician=is_clinician(request.user))
    candidates = []
    if request.method == "POST" and form.is_valid():
        kwargs = form.service_kwargs()
        if not form.cleaned_data["not_duplicate"]:
            candidates = patient_selectors.patient_duplicate_candidates(
                fetched_by=request.user, **_match_fields(kwargs)
            )
        if not candidates:
            try:
                # The patient and the first encounter are registered together or not at all.
                with transaction.atomic():
                    patient = patient_create(created_by=request.user, **kwargs)
                    encounter_class = form.cleaned_data.get("start_encounter")
                    if encounter_class:
                        encounter_start(
                            patient=patient,
                            encounter_class=encounter_class,
                            attending=request.user,
                            started_by=request.user,
                        )
            except ValidationError as exc:
                add_service_errors(form, exc)
            else:
                messages.success(
                    request,
                    _("%(name)s registered with MRN %(mrn)s.") % {"name": patient.full_name, "mrn": patient.mrn},
                )
                return redirect("emr:patient_chart", external_id=patient.external_id)
    status = 400 if form.is_bound and form.errors else 200
    return render(
        request,
        "emr/patient_register.html",
        {"form": form, "candidates": candidates},
        status=status,
    )


def _match_fields(kwargs: dict) -> dict:
    return {
        name: kwargs[name]
        for name in ("family_name", "given_name", "birth_date", "phone", "national_id")
        if kwargs.get(name) is not None
    }
