"""Builders shared by the notes and observations tests (no tests here)."""

from datetime import date

from django.utils import timezone

from emr.models import CareTeamMember, ClinicalNote, Encounter, Icd10Code, Patient
from emr.services.notes import note_create_draft, note_set_diagnoses, note_sign
from hospital.core.models import AccessLog
from tests.factories import UserFactory

ICD10 = {
    "I20.0": ("Unstable angina", "不稳定型心绞痛"),
    "I10": ("Essential (primary) hypertension", "原发性高血压"),
    "R07.4": ("Chest pain, unspecified", "胸痛"),
}


def make_icd10() -> None:
    # Migration 0003 loads the classification; these rows make the tests independent of its content.
    for code, (title, title_zh) in ICD10.items():
        Icd10Code.objects.get_or_create(
            code=code, defaults={"title": title, "title_zh": title_zh, "kind": "category", "is_leaf": True}
        )
    Icd10Code.objects.get_or_create(
        code="I20-I25", defaults={"title": "Ischaemic heart diseases", "kind": "block", "is_leaf": False}
    )


def make_user(username: str, *roles: str):
    return UserFactory(username=username, roles=list(roles))


def make_patient(family_name: str = "张", given_name: str = "伟") -> Patient:
    # Built directly: patient_create would add "create" log entries the tests do not look at.
    return Patient.objects.create(
        family_name=family_name, given_name=given_name, sex="male", birth_date=date(1958, 5, 1)
    )


def make_encounter(patient: Patient, attending, **kwargs) -> Encounter:
    return Encounter.objects.create(
        patient=patient, encounter_class="outpatient", started_at=timezone.now(), attending=attending, **kwargs
    )


def add_to_care_team(encounter: Encounter, user, role: str = "resident") -> None:
    CareTeamMember.objects.create(encounter=encounter, user=user, role=role)


def make_signed_note(encounter: Encounter, author, **fields) -> ClinicalNote:
    fields = {"chief_complaint": "Chest pain for 3 days", "assessment": "Unstable angina", **fields}
    note = note_create_draft(encounter=encounter, author=author, note_type="outpatient", **fields)
    note_set_diagnoses(note=note, diagnoses=[("I20.0", "confirmed"), ("I10", "provisional")], set_by=author)
    return note_sign(note=note, signed_by=author)


def log_actions() -> list[str]:
    return list(AccessLog.objects.order_by("id").values_list("action", flat=True))
