"""Reads of clinic slots, bookings and the day's outpatient queue; each is one query whatever the size."""

from datetime import date, datetime, time, timedelta

from django.db.models import Case, Exists, F, IntegerField, OuterRef, Q, QuerySet, Value, When
from django.utils import timezone

from emr.models import Patient
from hospital.core import roles
from hospital.core.models import User
from hospital.core.services.access_log import access_log_record
from scheduling.models import Appointment, AppointmentSlot, Department

# Queue order: who is with the clinician, who is waiting, who is still to come, who is done.
QUEUE_RANK = {
    Appointment.Status.CALLED: 0,
    Appointment.Status.CHECKED_IN: 1,
    Appointment.Status.BOOKED: 2,
    Appointment.Status.SEEN: 3,
}


def _day_bounds(day: date) -> tuple[datetime, datetime]:
    tz = timezone.get_current_timezone()
    start = timezone.make_aware(datetime.combine(day, time.min), tz)
    return start, timezone.make_aware(datetime.combine(day + timedelta(days=1), time.min), tz)


def _starting_on(day: date) -> Q:
    start, end = _day_bounds(day)
    return Q(period__startswith__gte=start, period__startswith__lt=end)


def clinicians() -> QuerySet[User]:
    """Active doctors and nurses, by name: the people who hold clinics."""
    return (
        User.objects.filter(is_active=True, groups__name__in=(roles.DOCTOR, roles.NURSE))
        .distinct()
        .order_by("display_name", "username")
    )


def day_slots(*, clinician: User | None = None, department: Department | None = None, day: date) -> QuerySet:
    """Every slot starting on `day` (local time) of the clinician and/or department, in time order, each annotated
    `is_booked` (it has a live booking)."""
    live = Appointment.objects.filter(slot=OuterRef("pk"), status__in=Appointment.LIVE_STATUSES)
    slots = AppointmentSlot.objects.filter(_starting_on(day)).annotate(is_booked=Exists(live))
    if clinician is not None:
        slots = slots.filter(clinician=clinician)
    if department is not None:
        slots = slots.filter(department=department)
    return slots.select_related("clinician", "department").order_by("period__startswith", "clinician__username")


def free_slots(*, clinician: User | None = None, department: Department | None = None, day: date) -> QuerySet:
    """The slots of `day` that can be booked now: not ended, not blocked, no live booking; in time order."""
    return day_slots(clinician=clinician, department=department, day=day).filter(
        is_booked=False, is_blocked=False, period__endswith__gt=timezone.now()
    )


def clinic_queue(*, clinician: User, day: date, fetched_by: User) -> list[Appointment]:
    """The clinician's live appointments of `day`, in queue order: called (by call time), checked in (by arrival),
    booked (by slot time), seen (by when) at the end. Cancelled and no-show bookings are left out.

    One query (slot, patient and encounter joined). The read is access-logged once (not per patient), with the
    clinician, the day and the count.
    """
    rank = Case(*(When(status=status, then=Value(n)) for status, n in QUEUE_RANK.items()), output_field=IntegerField())
    queue: list[Appointment] = list(
        Appointment.objects.filter(slot__clinician=clinician, status__in=Appointment.LIVE_STATUSES)
        .filter(Q(slot__period__startswith__gte=_day_bounds(day)[0], slot__period__startswith__lt=_day_bounds(day)[1]))
        .select_related("slot", "patient", "encounter")
        .annotate(queue_rank=rank)
        .order_by(
            "queue_rank",
            F("called_at").asc(nulls_last=True),
            F("checked_in_at").asc(nulls_last=True),
            "slot__period__startswith",
            "seen_at",
            "id",
        )
    )
    access_log_record(
        actor=fetched_by,
        action="read",
        object_type="scheduling.appointment",
        detail={"queue": True, "clinician": clinician.get_username(), "day": day.isoformat(), "count": len(queue)},
    )
    return queue


def patient_appointments(*, patient: Patient, fetched_by: User) -> list[Appointment]:
    """The patient's appointments, latest slot first (cancelled ones too, with where they were moved to).

    One query; the read is access-logged once for the patient.
    """
    appointments = list(
        Appointment.objects.filter(patient=patient)
        .select_related("slot", "slot__clinician", "slot__department", "rescheduled_from", "encounter")
        .order_by("-slot__period__startswith", "-id")
    )
    access_log_record(
        actor=fetched_by,
        action="read",
        object_type="scheduling.appointment",
        patient_external_id=patient.external_id,
        detail={"list": True, "count": len(appointments)},
    )
    return appointments


def appointment_get(*, external_id) -> Appointment:
    """One appointment with its slot, clinician and patient (Appointment.DoesNotExist if unknown). Not logged:
    callers pass it to a service, which logs the write."""
    return Appointment.objects.select_related("slot", "slot__clinician", "patient").get(external_id=external_id)
