"""Builders shared by the alert tests (no tests here): a ward, its nurse, a doctor's inpatient, vital-sign sets."""

from decimal import Decimal

from emr.services.observations import vital_signs_record
from tests.emr.test_access_support import assign, make_patient, make_user, make_ward, start_inpatient

NORMAL_VITALS = {
    "respiratory_rate": 16,
    "spo2": 97,
    "supplemental_oxygen": False,
    "systolic_bp": 120,
    "diastolic_bp": 70,
    "heart_rate": 70,
    "consciousness": "A",
    "temperature": Decimal("37.0"),
}


def ward_with_inpatient(code: str = "W1", *, family_name: str = "王", given_name: str = "芳"):
    """A ward, a doctor attending an inpatient there, and a nurse assigned to the ward."""
    ward = make_ward(code)
    doctor = make_user(f"dr.{code.lower()}", "doctor")
    nurse = make_user(f"nurse.{code.lower()}", "nurse")
    assign(nurse, ward)
    patient = make_patient(family_name, given_name)
    encounter = start_inpatient(patient, doctor, ward)
    return ward, doctor, nurse, patient, encounter


def record_vitals(patient, recorded_by, *, encounter=None, **changes):
    """A vital-sign set (normal readings unless changed; None leaves a parameter out); returns its set id."""
    readings = {name: value for name, value in {**NORMAL_VITALS, **changes}.items() if value is not None}
    rows = vital_signs_record(patient=patient, recorded_by=recorded_by, encounter=encounter, **readings)
    return rows[0].set_id
