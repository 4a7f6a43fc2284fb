"""Bed requests on the bed board: one click assigns a waiting patient to a suggested bed."""

from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.shortcuts import get_object_or_404
from django.urls import path
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from scheduling.models import Bed, BedRequest
from scheduling.services.requests import bed_request_assign, bed_request_cancel
from scheduling.views.beds import action_response, require_board_permission


@login_required
@require_POST
def bed_board_assign(request, external_id):
    """Admit the request's patient to the bed posted (a suggestion's "Assign" button) and re-render the board."""
    require_board_permission(request, "can_assign")
    bed_request = get_object_or_404(BedRequest.objects.select_related("patient"), external_id=external_id)
    bed = Bed.objects.select_related("ward", "room").filter(external_id=request.POST.get("bed") or None).first()
    if bed is None:
        return action_response(request, error=ValidationError(_("Choose a bed.")))
    try:
        bed_request_assign(request=bed_request, bed=bed, assigned_by=request.user)
    except ValidationError as exc:
        return action_response(request, error=exc)
    return action_response(
        request, ok=_("%(patient)s admitted to bed %(bed)s.") % {"patient": bed_request.patient.full_name, "bed": bed}
    )


@login_required
@require_POST
def bed_board_cancel(request, external_id):
    """Take a request off the queue."""
    require_board_permission(request, "can_assign")
    bed_request = get_object_or_404(BedRequest.objects.select_related("patient"), external_id=external_id)
    try:
        bed_request_cancel(request=bed_request, cancelled_by=request.user, reason=request.POST.get("reason", ""))
    except ValidationError as exc:
        return action_response(request, error=exc)
    return action_response(request, ok=_("The bed request was cancelled."))


urlpatterns = [
    path("beds/board/requests/<uuid:external_id>/assign/", bed_board_assign, name="bed_board_assign"),
    path("beds/board/requests/<uuid:external_id>/cancel/", bed_board_cancel, name="bed_board_cancel"),
]
