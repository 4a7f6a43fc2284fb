"""Outpatient appointments: clinic sessions split into slots, bookings, reschedules and the day's queue.

Double booking is impossible in the database: a slot has at most one live booking (a partial unique
constraint) and a clinician's slots never overlap (an exclusion constraint). The services lock the slot
row before booking it, so concurrent bookers queue behind each other and all but the first get
`SlotTaken`; the constraint is the backstop if a writer ever skips the lock.

A booking goes booked -> checked in -> called -> seen; booked or checked-in bookings can be cancelled or
rescheduled, and a booking whose slot has started without a check-in can be marked as a no-show.
Marking it seen starts (or links) the patient's outpatient encounter with the slot's clinician as
attending, which is what opens the chart to that clinician.
"""

from datetime import date, datetime, time, timedelta

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.backends.postgresql.psycopg_any import DateTimeTZRange
from django.utils import timezone
from django.utils.translation import gettext as _

from emr.models import Encounter, Patient
from emr.selectors.access import is_clinician
from emr.services.encounters import encounter_start
from hospital.core.models import User
from hospital.core.services.access_log import access_log_record
from scheduling.models import Appointment, AppointmentSlot, Department

SLOT_MINUTES_MIN = 5
SLOT_MINUTES_MAX = 240
SLOTS_PER_SESSION_MAX = 144  # a whole day of 10-minute slots
# Statuses from which a booking may still be cancelled or moved: once called in, the visit is happening.
CHANGEABLE_STATUSES = (Appointment.Status.BOOKED, Appointment.Status.CHECKED_IN)


class SlotTaken(ValidationError):
    """The slot already has a live booking (the API answers 409 with code "slot_taken"); nothing was written."""

    code = "slot_taken"

    def __init__(self):
        super().__init__({"slot": [ValidationError(_("This slot is already booked."), code=self.code)]})


def _local(day: date, at: time) -> datetime:
    return timezone.make_aware(datetime.combine(day, at), timezone.get_current_timezone())


def _log(*, actor: User, action: str, appointment: Appointment, detail: dict) -> None:
    access_log_record(
        actor=actor,
        action=action,
        object_type="scheduling.appointment",
        object_id=str(appointment.external_id),
        patient_external_id=appointment.patient.external_id,
        detail=detail,
    )


def _overlap_message(clinician: User) -> str:
    return _("%(clinician)s already has clinic slots in this period.") % {"clinician": clinician}


# --- slots ----------------------------------------------------------------------------------------------------------


@transaction.atomic
def slots_generate(
    *,
    clinician: User,
    department: Department | None = None,
    day: date,
    start_time: time,
    end_time: time,
    slot_minutes: int,
    location: str = "",
    created_by: User,
) -> list[AppointmentSlot]:
    """Open a clinic session for `clinician` on `day` from `start_time` to `end_time`, split into equal slots.

    Guarantees: the clinician is an active doctor or nurse; the session does not start in the past; the end
    is after the start; slots last SLOT_MINUTES_MIN..SLOT_MINUTES_MAX minutes and divide the session
    exactly; the session overlaps none of the clinician's slots (checked here with a clear message, and
    by the exclusion constraint for a concurrent session). ValidationError with field errors otherwise,
    and nothing is written. Returns the slots in time order.
    """
    errors: dict[str, str] = {}
    if not is_clinician(clinician):
        errors["clinician"] = _("Clinic slots belong to an active doctor or nurse.")
    if not SLOT_MINUTES_MIN <= slot_minutes <= SLOT_MINUTES_MAX:
        errors["slot_minutes"] = _("A slot lasts between %(min)d and %(max)d minutes.") % {
            "min": SLOT_MINUTES_MIN,
            "max": SLOT_MINUTES_MAX,
        }
    start, end = _local(day, start_time), _local(day, end_time)
    if day < timezone.localdate():
        errors["day"] = _("Clinic sessions cannot be opened on a past day.")
    elif start < timezone.now():
        errors["start_time"] = _("This session would start in the past.")
    if end <= start:
        errors["end_time"] = _("The session must end after it starts.")
    elif "slot_minutes" not in errors:
        minutes = int((end - start).total_seconds() // 60)
        if minutes % slot_minutes:
            errors["slot_minutes"] = _("%(minutes)d minutes of session do not divide into %(slot)d-minute slots.") % {
                "minutes": minutes,
                "slot": slot_minutes,
            }
        elif minutes // slot_minutes > SLOTS_PER_SESSION_MAX:
            errors["slot_minutes"] = _("A session has at most %(max)d slots.") % {"max": SLOTS_PER_SESSION_MAX}
    location = (location or "").strip()
    if len(location) > 60:
        errors["location"] = _("At most 60 characters.")
    if errors:
        raise ValidationError(errors)
    if AppointmentSlot.objects.filter(clinician=clinician, period__overlap=DateTimeTZRange(start, end)).exists():
        raise ValidationError({"start_time": _overlap_message(clinician)})
    step = timedelta(minutes=slot_minutes)
    slots = []
    at = start
    while at < end:
        slots.append(
            AppointmentSlot(
                clinician=clinician, department=department, period=DateTimeTZRange(at, at + step), location=location
            )
        )
        at += step
    try:
        with transaction.atomic():
            AppointmentSlot.objects.bulk_create(slots)
    except IntegrityError as exc:  # another session for this clinician was opened at the same moment
        raise ValidationError({"start_time": _overlap_message(clinician)}) from exc
    return slots


def _slot_locked(slot: AppointmentSlot) -> AppointmentSlot:
    return AppointmentSlot.objects.select_for_update().select_related("clinician").get(pk=slot.pk)


@transaction.atomic
def slot_block(*, slot: AppointmentSlot, blocked_by: User) -> AppointmentSlot:
    """Take a free slot out of booking (the clinician is away). A booked slot gives a ValidationError:
    cancel or reschedule its booking first. Blocking a blocked slot changes nothing."""
    slot = _slot_locked(slot)
    if slot.appointments.filter(status__in=Appointment.LIVE_STATUSES).exists():
        raise ValidationError({"slot": _("This slot is booked; cancel or reschedule the booking first.")})
    if not slot.is_blocked:
        slot.is_blocked = True
        slot.save(update_fields=["is_blocked", "updated_at"])
    return slot


@transaction.atomic
def slot_unblock(*, slot: AppointmentSlot, unblocked_by: User) -> AppointmentSlot:
    """Make a blocked slot bookable again (unblocking a free slot changes nothing)."""
    slot = _slot_locked(slot)
    if slot.is_blocked:
        slot.is_blocked = False
        slot.save(update_fields=["is_blocked", "updated_at"])
    return slot


# --- bookings -------------------------------------------------------------------------------------------------------


def _book(*, slot: AppointmentSlot, patient: Patient, booked_by: User, reason: str) -> Appointment:
    # Lock the slot so that concurrent bookers of it wait here and then see the winner's booking.
    slot = _slot_locked(slot)
    errors: dict[str, str] = {}
    # A slot that has started but not ended still takes a walk-in patient.
    if slot.period.upper <= timezone.now():
        errors["slot"] = _("This slot is in the past.")
    elif slot.is_blocked:
        errors["slot"] = _("This slot is blocked and cannot be booked.")
    if not patient.is_active:
        errors["patient"] = _("This patient record was merged into another; use the surviving record.")
    reason = (reason or "").strip()
    if len(reason) > 300:
        errors["reason"] = _("At most 300 characters.")
    if errors:
        raise ValidationError(errors)
    if slot.appointments.filter(status__in=Appointment.LIVE_STATUSES).exists():
        raise SlotTaken
    appointment = Appointment(slot=slot, patient=patient, booked_by=booked_by, reason=reason)
    try:
        with transaction.atomic():
            appointment.save()
    except IntegrityError as exc:  # the partial unique constraint: a live booking got in first
        raise SlotTaken from exc
    return appointment


@transaction.atomic
def appointment_book(*, slot: AppointmentSlot, patient: Patient, booked_by: User, reason: str = "") -> Appointment:
    """Book `slot` for `patient`.

    Guarantees: the slot has not ended and is not blocked, and the patient is not a merged-away record
    (ValidationError with field errors otherwise); a slot with a live booking raises SlotTaken, also when
    two bookers race (the slot row is locked, and the partial unique constraint backs the lock). Nothing is
    written on any error. Access-logged ("create").
    """
    appointment = _book(slot=slot, patient=patient, booked_by=booked_by, reason=reason)
    _log(actor=booked_by, action="create", appointment=appointment, detail={"slot": str(slot.external_id)})
    return appointment


def _appointment_locked(appointment: Appointment) -> Appointment:
    return (
        Appointment.objects.select_for_update(of=("self",))
        .select_related("slot", "slot__clinician", "patient")
        .get(pk=appointment.pk)
    )


def _status_error(appointment: Appointment, message: str) -> ValidationError:
    return ValidationError({"status": message % {"status": appointment.get_status_display()}})


@transaction.atomic
def appointment_cancel(*, appointment: Appointment, cancelled_by: User, reason: str = "") -> Appointment:
    """Cancel a booked or checked-in appointment, which frees its slot.

    A called, seen, cancelled or no-show appointment gives a ValidationError on "status" (checked under a
    row lock). Access-logged ("write", with the reason).
    """
    appointment = _appointment_locked(appointment)
    if appointment.status not in CHANGEABLE_STATUSES:
        raise _status_error(
            appointment, _("Only a booked or checked-in appointment can be cancelled; this one is %(status)s.")
        )
    appointment.status = Appointment.Status.CANCELLED
    appointment.cancelled_at = timezone.now()
    appointment.save(update_fields=["status", "cancelled_at", "updated_at"])
    _log(
        actor=cancelled_by,
        action="write",
        appointment=appointment,
        detail={"status": appointment.status, "reason": (reason or "").strip()[:300]},
    )
    return appointment


@transaction.atomic
def appointment_reschedule(*, appointment: Appointment, new_slot: AppointmentSlot, rescheduled_by: User) -> Appointment:
    """Move a booked or checked-in appointment to `new_slot`: the old one is cancelled and a new booking, linked
    by `rescheduled_from`, takes the new slot — both or neither.

    The new slot must be bookable as for appointment_book (SlotTaken when it has a live booking); any error
    leaves the original appointment exactly as it was. Returns the new appointment. Access-logged ("write"
    on the old, "create" on the new).
    """
    appointment = _appointment_locked(appointment)
    if appointment.status not in CHANGEABLE_STATUSES:
        raise _status_error(
            appointment, _("Only a booked or checked-in appointment can be rescheduled; this one is %(status)s.")
        )
    if new_slot.pk == appointment.slot_id:
        raise ValidationError({"slot": _("The appointment is already in this slot.")})
    appointment.status = Appointment.Status.CANCELLED
    appointment.cancelled_at = timezone.now()
    appointment.save(update_fields=["status", "cancelled_at", "updated_at"])
    new = _book(slot=new_slot, patient=appointment.patient, booked_by=rescheduled_by, reason=appointment.reason)
    new.rescheduled_from = appointment
    new.save(update_fields=["rescheduled_from", "updated_at"])
    _log(
        actor=rescheduled_by,
        action="write",
        appointment=appointment,
        detail={"status": appointment.status, "rescheduled_to": str(new.external_id)},
    )
    _log(
        actor=rescheduled_by,
        action="create",
        appointment=new,
        detail={"slot": str(new_slot.external_id), "rescheduled_from": str(appointment.external_id)},
    )
    return new


# --- the day's queue ------------------------------------------------------------------------------------------------


def _on_slot_day(appointment: Appointment, action: str) -> None:
    if timezone.localdate(appointment.slot.period.lower) != timezone.localdate():
        raise ValidationError({"status": _("Patients can only be %(action)s on the day of their appointment.") % {
            "action": action
        }})  # fmt: skip


def _transition_log(appointment: Appointment, actor: User) -> None:
    _log(actor=actor, action="write", appointment=appointment, detail={"status": appointment.status})


@transaction.atomic
def appointment_check_in(*, appointment: Appointment, checked_in_by: User) -> Appointment:
    """The patient has arrived: booked -> checked in, on the day of the slot only. Access-logged."""
    appointment = _appointment_locked(appointment)
    if appointment.status != Appointment.Status.BOOKED:
        raise _status_error(appointment, _("Only a booked appointment can be checked in; this one is %(status)s."))
    _on_slot_day(appointment, _("checked in"))
    appointment.status = Appointment.Status.CHECKED_IN
    appointment.checked_in_at = timezone.now()
    appointment.save(update_fields=["status", "checked_in_at", "updated_at"])
    _transition_log(appointment, checked_in_by)
    return appointment


@transaction.atomic
def appointment_call(*, appointment: Appointment, called_by: User) -> Appointment:
    """The clinician calls the patient in: checked in -> called. Access-logged."""
    appointment = _appointment_locked(appointment)
    if appointment.status != Appointment.Status.CHECKED_IN:
        raise _status_error(appointment, _("Only a checked-in patient can be called; this appointment is %(status)s."))
    appointment.status = Appointment.Status.CALLED
    appointment.called_at = timezone.now()
    appointment.save(update_fields=["status", "called_at", "updated_at"])
    _transition_log(appointment, called_by)
    return appointment


@transaction.atomic
def appointment_mark_seen(*, appointment: Appointment, seen_by: User) -> Appointment:
    """The clinician has seen the patient: called or checked in -> seen, with an outpatient encounter.

    The patient's in-progress outpatient encounter with the slot's clinician as attending is linked when
    there is one not yet linked to another appointment; otherwise an encounter is started with that
    clinician attending (emr.services.encounters.encounter_start), which opens the chart to them.
    A booked (not arrived), seen, cancelled or no-show appointment gives a ValidationError on "status".
    """
    appointment = _appointment_locked(appointment)
    if appointment.status not in (Appointment.Status.CALLED, Appointment.Status.CHECKED_IN):
        raise _status_error(
            appointment, _("Only a checked-in or called patient can be marked seen; this appointment is %(status)s.")
        )
    clinician = appointment.slot.clinician
    encounter = (
        Encounter.objects.filter(
            patient=appointment.patient,
            attending=clinician,
            encounter_class=Encounter.EncounterClass.OUTPATIENT,
            status=Encounter.Status.IN_PROGRESS,
            appointment__isnull=True,
        )
        .order_by("-started_at", "-id")
        .first()
    )
    if encounter is None:
        encounter = encounter_start(
            patient=appointment.patient,
            encounter_class=Encounter.EncounterClass.OUTPATIENT,
            attending=clinician,
            started_by=seen_by,
            reason=appointment.reason,
        )
    appointment.status = Appointment.Status.SEEN
    appointment.seen_at = timezone.now()
    appointment.encounter = encounter
    appointment.save(update_fields=["status", "seen_at", "encounter", "updated_at"])
    _log(
        actor=seen_by,
        action="write",
        appointment=appointment,
        detail={"status": appointment.status, "encounter": str(encounter.external_id)},
    )
    return appointment


@transaction.atomic
def appointment_no_show(*, appointment: Appointment, marked_by: User) -> Appointment:
    """The patient did not come: a booked appointment whose slot has started -> no-show (the slot is freed).
    Access-logged."""
    appointment = _appointment_locked(appointment)
    if appointment.status != Appointment.Status.BOOKED:
        raise _status_error(
            appointment, _("Only a booked appointment can be marked as a no-show; this one is %(status)s.")
        )
    if appointment.slot.period.lower > timezone.now():
        raise ValidationError({"status": _("The appointment has not started yet; it cannot be a no-show.")})
    appointment.status = Appointment.Status.NO_SHOW
    appointment.save(update_fields=["status", "updated_at"])
    _transition_log(appointment, marked_by)
    return appointment
