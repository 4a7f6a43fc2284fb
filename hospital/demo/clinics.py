"""Outpatient clinics for the demo doctors: morning sessions for the next week, some slots already booked.

Slots and bookings are written straight to their tables (as a hospital migrating its booking system
would import them); the booking service refuses slots that have already begun, which a demo loaded
mid-morning would hit. Idempotent: a doctor's day that already has slots is left alone, so a second
run writes nothing and a run on a later day only adds the new days.
"""

import random
from datetime import datetime, time, timedelta

from django.db import transaction
from django.db.backends.postgresql.psycopg_any import DateTimeTZRange
from django.utils import timezone

from emr.models import Encounter
from hospital.core.models import User
from hospital.demo.accounts import DEMO_WARDS
from scheduling.models import Appointment, AppointmentSlot, Ward

CLINIC_DAYS = 7
SESSION_START, SESSION_END = time(8, 30), time(11, 30)
SLOT_MINUTES = 15
BOOKED_SHARE = 0.4


@transaction.atomic
def clinic_sessions(*, seed: int, today=None) -> int:
    """Weekday morning clinics from today for the demo doctors; return how many slots were added."""
    today = today or timezone.localdate()
    rng = random.Random(seed * 104729 + today.toordinal())
    doctors = User.objects.filter(username__in=[name for name in DEMO_WARDS if name.startswith("dr.")])
    wards = {ward.code: ward for ward in Ward.objects.select_related("department").filter(code__in=DEMO_WARDS.values())}
    added = 0
    for doctor in doctors.order_by("username"):
        ward = wards.get(DEMO_WARDS[doctor.username])
        # The doctor's own patients (outpatients they attended) book their clinics.
        patient_ids = list(
            Encounter.objects.filter(attending=doctor, encounter_class="outpatient")
            .values_list("patient_id", flat=True)
            .distinct()
        )
        for offset in range(CLINIC_DAYS):
            day = today + timedelta(days=offset)
            if day.weekday() >= 5:
                continue
            start = timezone.make_aware(datetime.combine(day, SESSION_START))
            end = timezone.make_aware(datetime.combine(day, SESSION_END))
            if AppointmentSlot.objects.filter(clinician=doctor, period__overlap=DateTimeTZRange(start, end)).exists():
                continue
            slots = []
            moment = start
            while moment < end:
                slots.append(
                    AppointmentSlot(
                        clinician=doctor,
                        department=ward.department if ward else None,
                        period=DateTimeTZRange(moment, moment + timedelta(minutes=SLOT_MINUTES)),
                        location="Clinic room 3",
                    )
                )
                moment += timedelta(minutes=SLOT_MINUTES)
            AppointmentSlot.objects.bulk_create(slots)
            added += len(slots)
            if patient_ids:
                chosen = rng.sample(patient_ids, min(len(patient_ids), int(len(slots) * BOOKED_SHARE)))
                Appointment.objects.bulk_create(
                    Appointment(slot=slot, patient_id=patient_id, booked_by=doctor, reason="Follow-up")
                    for slot, patient_id in zip(rng.sample(slots, len(chosen)), chosen, strict=True)
                )
    return added
