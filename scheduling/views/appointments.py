"""Appointment pages: book a clinic slot for a patient (cancel, reschedule), and the day's outpatient queue."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import TYPE_CHECKING
from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import path, reverse
from django.utils import timezone
from django.utils.dateparse import parse_date, parse_time
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_POST

from emr.selectors.access import PURPOSE_METADATA, patients_visible_to
from emr.selectors.patients import patient_search
from hospital.core.models import User
from scheduling.models import Appointment, AppointmentSlot, Department
from scheduling.selectors.appointments import (
    appointment_get,
    clinic_queue,
    clinicians,
    free_slots,
    patient_appointments,
)
from scheduling.services.appointments import (
    CHANGEABLE_STATUSES,
    SlotTaken,
    appointment_book,
    appointment_call,
    appointment_cancel,
    appointment_check_in,
    appointment_mark_seen,
    appointment_no_show,
    appointment_reschedule,
    slots_generate,
)

if TYPE_CHECKING:
    # django-stubs-ext is a development dependency; the name is only needed by the type checker.
    from django_stubs_ext import StrOrPromise

SEARCH_LIMIT = 20
# Each service names its actor differently (checked_in_by, called_by...): the view passes it by that name.
TRANSITIONS: dict[str, tuple[Callable[..., Appointment], str, StrOrPromise]] = {
    "check-in": (appointment_check_in, "checked_in_by", gettext_lazy("%(patient)s is checked in.")),
    "call": (appointment_call, "called_by", gettext_lazy("%(patient)s is called in.")),
    "seen": (appointment_mark_seen, "seen_by", gettext_lazy("%(patient)s is marked as seen.")),
    "no-show": (appointment_no_show, "marked_by", gettext_lazy("%(patient)s did not attend.")),
}


def _require(request, perm: str) -> None:
    if not request.user.has_perm(perm):
        raise PermissionDenied


def _day(value: str | None) -> date:
    return parse_date(value or "") or timezone.localdate()


def _by_external_id(queryset, value: str | None):
    if not value:
        return None
    try:
        return queryset.filter(external_id=value).first()
    except ValidationError:  # not a UUID
        return None


def _error_text(exc: ValidationError) -> str:
    return " ".join(message for messages_ in exc.message_dict.values() for message in messages_)


def _back(request, fallback: str):
    target = request.POST.get("next", "")
    if target and url_has_allowed_host_and_scheme(target, {request.get_host()}, request.is_secure()):
        return redirect(target)
    return redirect(fallback)


def _book_url(**params) -> str:
    query = urlencode({key: value for key, value in params.items() if value})
    return reverse("scheduling:appointment_book") + (f"?{query}" if query else "")


@login_required
@require_GET
def appointment_book_page(request):
    """Pick a clinician or department and a day, see the free slots, find the patient, book; the chosen patient's
    appointments can be cancelled or moved to one of the free slots shown."""
    _require(request, "scheduling.view_appointment")
    day = _day(request.GET.get("day"))
    clinician = _by_external_id(clinicians(), request.GET.get("clinician"))
    department = _by_external_id(Department.objects.all(), request.GET.get("department"))
    query = request.GET.get("q", "").strip()[:100]
    found = patient_search(query=query, fetched_by=request.user, limit=SEARCH_LIMIT) if query else []
    patient = _by_external_id(patients_visible_to(request.user, PURPOSE_METADATA), request.GET.get("patient"))
    context = {
        "day": day,
        "clinician": clinician,
        "department": department,
        "clinicians": list(clinicians()),
        "departments": list(Department.objects.order_by("code")),
        "slots": list(free_slots(clinician=clinician, department=department, day=day)),
        "query": query,
        "found": found,
        "patient": patient,
        "appointments": patient_appointments(patient=patient, fetched_by=request.user) if patient else [],
        "changeable": CHANGEABLE_STATUSES,
        "can_book": request.user.has_perm("scheduling.add_appointment"),
        "can_open_session": request.user.has_perm("scheduling.add_appointmentslot"),
        "here": request.get_full_path(),
    }
    return render(request, "scheduling/appointment_book.html", context)


@login_required
@require_POST
def appointment_book_submit(request):
    _require(request, "scheduling.add_appointment")
    slot = _by_external_id(AppointmentSlot.objects.all(), request.POST.get("slot"))
    patient = _by_external_id(patients_visible_to(request.user, PURPOSE_METADATA), request.POST.get("patient"))
    if slot is None or patient is None:
        raise Http404
    try:
        appointment = appointment_book(
            slot=slot, patient=patient, booked_by=request.user, reason=request.POST.get("reason", "")
        )
    except SlotTaken:
        messages.error(request, _("Someone else has just booked this slot. Please choose another."))
    except ValidationError as exc:
        messages.error(request, _error_text(exc))
    else:
        start = timezone.localtime(appointment.slot.period.lower)
        messages.success(
            request,
            _("Booked %(patient)s with %(clinician)s at %(time)s.")
            % {"patient": patient.full_name, "clinician": slot.clinician, "time": start.strftime("%Y-%m-%d %H:%M")},
        )
    return _back(request, _book_url(patient=patient.external_id))


def _appointment_or_404(external_id) -> Appointment:
    try:
        return appointment_get(external_id=external_id)
    except Appointment.DoesNotExist as exc:
        raise Http404 from exc


@login_required
@require_POST
def appointment_cancel_submit(request, external_id):
    _require(request, "scheduling.change_appointment")
    appointment = _appointment_or_404(external_id)
    try:
        appointment_cancel(appointment=appointment, cancelled_by=request.user, reason=request.POST.get("reason", ""))
    except ValidationError as exc:
        messages.error(request, _error_text(exc))
    else:
        messages.success(request, _("The appointment is cancelled and its slot is free again."))
    return _back(request, _book_url(patient=appointment.patient.external_id))


@login_required
@require_POST
def appointment_reschedule_submit(request, external_id):
    _require(request, "scheduling.change_appointment")
    appointment = _appointment_or_404(external_id)
    new_slot = _by_external_id(AppointmentSlot.objects.all(), request.POST.get("slot"))
    if new_slot is None:
        messages.error(request, _("Choose a free slot to move the appointment to."))
        return _back(request, _book_url(patient=appointment.patient.external_id))
    try:
        appointment_reschedule(appointment=appointment, new_slot=new_slot, rescheduled_by=request.user)
    except SlotTaken:
        messages.error(request, _("Someone else has just booked this slot; the appointment was not moved."))
    except ValidationError as exc:
        messages.error(request, _error_text(exc))
    else:
        messages.success(request, _("The appointment is moved."))
    return _back(request, _book_url(patient=appointment.patient.external_id))


@login_required
@require_POST
def slots_generate_submit(request):
    """Open a clinic session for the signed-in clinician (or the clinician chosen) from the booking page."""
    _require(request, "scheduling.add_appointmentslot")
    clinician = _by_external_id(clinicians(), request.POST.get("clinician")) or request.user
    department = _by_external_id(Department.objects.all(), request.POST.get("department"))
    day = parse_date(request.POST.get("day", ""))
    start, end = parse_time(request.POST.get("start_time", "")), parse_time(request.POST.get("end_time", ""))
    try:
        minutes = int(request.POST.get("slot_minutes", ""))
    except ValueError:
        minutes = 0
    if day is None or start is None or end is None:
        messages.error(request, _("Give the day, the start and the end of the session."))
        return _back(request, _book_url())
    try:
        slots = slots_generate(
            clinician=clinician, department=department, day=day, start_time=start, end_time=end,
            slot_minutes=minutes, location=request.POST.get("location", ""), created_by=request.user,
        )  # fmt: skip
    except ValidationError as exc:
        messages.error(request, _error_text(exc))
    else:
        messages.success(request, _("%(count)d slots opened.") % {"count": len(slots)})
    return redirect(_book_url(clinician=clinician.external_id, day=day.isoformat()))


@login_required
@require_GET
def appointment_queue_page(request):
    """The day's outpatient queue of one clinician (default: the signed-in user) in four columns; htmx refreshes
    the board alone every 15 seconds."""
    _require(request, "scheduling.view_appointment")
    day = _day(request.GET.get("day"))
    clinician = _by_external_id(User.objects.filter(is_active=True), request.GET.get("clinician")) or request.user
    queue = clinic_queue(clinician=clinician, day=day, fetched_by=request.user)
    columns = [
        ("booked", _("Booked"), [a for a in queue if a.status == Appointment.Status.BOOKED]),
        ("checked_in", _("Checked in"), [a for a in queue if a.status == Appointment.Status.CHECKED_IN]),
        ("called", _("Called"), [a for a in queue if a.status == Appointment.Status.CALLED]),
        ("seen", _("Seen"), [a for a in queue if a.status == Appointment.Status.SEEN]),
    ]
    context = {
        "day": day,
        "is_today": day == timezone.localdate(),
        "clinician": clinician,
        "clinicians": list(clinicians()) if not request.htmx else [],
        "columns": columns,
        "count": len(queue),
        "can_change": request.user.has_perm("scheduling.change_appointment"),
        "now": timezone.now(),
        "here": reverse("scheduling:appointment_queue")
        + "?"
        + urlencode({"clinician": clinician.external_id, "day": day.isoformat()}),
    }
    template = "scheduling/queue_board.html" if request.htmx else "scheduling/queue.html"
    return render(request, template, context)


@login_required
@require_POST
def appointment_transition_submit(request, external_id, action):
    _require(request, "scheduling.change_appointment")
    if action not in TRANSITIONS:
        raise Http404
    service, actor_kwarg, done = TRANSITIONS[action]
    appointment = _appointment_or_404(external_id)
    try:
        service(appointment=appointment, **{actor_kwarg: request.user})
    except ValidationError as exc:
        messages.error(request, _error_text(exc))
    else:
        messages.success(request, str(done) % {"patient": appointment.patient.full_name})
    return _back(request, reverse("scheduling:appointment_queue"))


urlpatterns = [
    path("appointments/", appointment_book_page, name="appointment_book"),
    path("appointments/book/", appointment_book_submit, name="appointment_book_submit"),
    path("appointments/sessions/", slots_generate_submit, name="slots_generate"),
    path("appointments/queue/", appointment_queue_page, name="appointment_queue"),
    path("appointments/<uuid:external_id>/cancel/", appointment_cancel_submit, name="appointment_cancel"),
    path("appointments/<uuid:external_id>/reschedule/", appointment_reschedule_submit, name="appointment_reschedule"),
    path(
        "appointments/<uuid:external_id>/<slug:action>/",
        appointment_transition_submit,
        name="appointment_transition",
    ),
]
