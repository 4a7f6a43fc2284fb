"""Builders shared by the appointment tests (no tests here)."""

from datetime import timedelta

from django.db.backends.postgresql.psycopg_any import DateTimeTZRange
from django.utils import timezone

from scheduling.models import Appointment, AppointmentSlot
from tests.emr.test_access_support import make_patient, make_user, start_outpatient

__all__ = ["book", "make_patient", "make_slot", "make_user", "patient_of", "start_outpatient"]


def make_slot(clinician, *, starts_in_minutes: int = 60, minutes: int = 15, **kwargs) -> AppointmentSlot:
    start = timezone.now().replace(microsecond=0) + timedelta(minutes=starts_in_minutes)
    return AppointmentSlot.objects.create(
        clinician=clinician, period=DateTimeTZRange(start, start + timedelta(minutes=minutes)), **kwargs
    )


def patient_of(clinician, family_name: str = "王", given_name: str = "芳"):
    """A patient the clinician has treated before (a finished encounter), so they may find and book them."""
    from emr.services.encounters import encounter_finish

    patient = make_patient(family_name, given_name)
    encounter_finish(encounter=start_outpatient(patient, clinician), finished_by=clinician)
    return patient


def book(slot, patient, *, status: str = Appointment.Status.BOOKED, **fields) -> Appointment:
    # Built directly, for tests about what happens after booking.
    return Appointment.objects.create(slot=slot, patient=patient, booked_by=slot.clinician, status=status, **fields)
