"""The refusal page and the break-the-glass form shared by every clinical page."""

import uuid

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.formats import time_format
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from emr.models import Patient
from emr.selectors.access import BreakGlassRequired, patient_for_clinical_read
from emr.services.access import break_glass_grant


class BreakGlassForm(forms.Form):
    reason = forms.CharField(
        label=gettext_lazy("Reason for emergency access"),
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=gettext_lazy("Required. Your reason, your name and the time go to the access log and are reviewed."),
    )
    next = forms.CharField(required=False, widget=forms.HiddenInput)


def refusal_response(request, exc: PermissionDenied, *, form: BreakGlassForm | None = None) -> HttpResponse:
    """403 page that says why; a clinician who does not treat the patient gets the break-the-glass form."""
    patient = exc.patient if isinstance(exc, BreakGlassRequired) else None
    if patient is not None and form is None:
        form = BreakGlassForm(initial={"next": request.get_full_path()})
    return render(
        request,
        "emr/access_denied.html",
        {"patient": patient, "form": form, "reason": str(exc) if patient is None else ""},
        status=403,
    )


def clinical_patient(request, external_id: uuid.UUID) -> tuple[Patient, None] | tuple[None, HttpResponse]:
    """(patient, None) when the user may read the clinical record, else (None, the refusal page); 404 if unknown."""
    try:
        return patient_for_clinical_read(user=request.user, external_id=external_id), None
    except Patient.DoesNotExist as exc:
        raise Http404 from exc
    except PermissionDenied as exc:
        return None, refusal_response(request, exc)


def _safe_next(request, value: str, fallback: str) -> str:
    # Only paths on this site: the form's hidden field must not become an open redirect.
    if value.startswith("/") and not value.startswith("//"):
        return value
    return fallback


@login_required
@require_POST
def break_glass(request, external_id: uuid.UUID):
    """Grant time-limited access to one patient for a stated reason, then open the page the user asked for."""
    try:
        patient = Patient.objects.get(external_id=external_id)
    except Patient.DoesNotExist as exc:
        raise Http404 from exc
    form = BreakGlassForm(request.POST)
    chart_url = f"/patients/{patient.external_id}/"
    if form.is_valid():
        try:
            grant = break_glass_grant(user=request.user, patient=patient, reason=form.cleaned_data["reason"])
        except PermissionDenied as exc:
            return refusal_response(request, exc)
        except ValidationError as exc:
            for field, errors in exc.message_dict.items():
                form.add_error(field if field in form.fields else None, errors)
        else:
            messages.warning(
                request,
                _("Emergency access granted until %(time)s. This access is logged and will be reviewed.")
                % {"time": time_format(timezone.localtime(grant.expires_at), "H:i")},
            )
            return redirect(_safe_next(request, form.cleaned_data.get("next") or "", chart_url))
    return refusal_response(request, BreakGlassRequired(patient), form=form)
