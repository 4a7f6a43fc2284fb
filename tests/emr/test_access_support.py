"""Builders shared by the access and encounter tests (no tests here)."""

from datetime import date, timedelta

from django.utils import timezone

from emr.models import Patient
from emr.services.encounters import encounter_start
from scheduling.models import Department, Ward
from scheduling.services.rosters import ward_assignment_create
from tests.factories import UserFactory


def make_ward(code: str = "W1") -> Ward:
    department, _created = Department.objects.get_or_create(
        code="MED", defaults={"name_en": "Medicine", "name_zh": "内科", "specialty": "general_medicine"}
    )
    return Ward.objects.create(
        department=department, code=code, name_en=f"Ward {code}", name_zh=f"{code}病区", specialty="general_medicine"
    )


def make_patient(family_name: str = "王", given_name: str = "芳") -> Patient:
    # Built directly: these tests are about reading, and patient_create would add "create" log entries.
    return Patient.objects.create(
        family_name=family_name, given_name=given_name, sex="female", birth_date=date(1960, 3, 1)
    )


def make_user(username: str, *roles: str):
    return UserFactory(username=username, roles=list(roles))


def start_outpatient(patient: Patient, attending, **kwargs):
    return encounter_start(
        patient=patient, encounter_class="outpatient", attending=attending, started_by=attending, **kwargs
    )


def start_inpatient(patient: Patient, attending, ward: Ward, **kwargs):
    return encounter_start(
        patient=patient, encounter_class="inpatient", attending=attending, started_by=attending, ward=ward, **kwargs
    )


def assign(user, ward: Ward, *, starts_in_days: int = -30, ends_in_days: int | None = None, role: str = "nurse"):
    today = timezone.localdate()
    ends_on = None if ends_in_days is None else today + timedelta(days=ends_in_days)
    return ward_assignment_create(
        ward=ward, user=user, role=role, starts_on=today + timedelta(days=starts_in_days), ends_on=ends_on
    )
