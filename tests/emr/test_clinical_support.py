"""Builders shared by the ICD-10 and clinical tests (no tests here)."""

import importlib
from datetime import date

from django.apps import apps
from django.utils import timezone

from emr.models import Encounter, Icd10Code, Patient
from pharmacy.models import Drug
from tests.factories import UserFactory

ICD10_MIGRATION = importlib.import_module("emr.migrations.0003_icd10_codes")


def ensure_icd10() -> None:
    """The WHO classification as migration 0003 loads it (again, if a transactional test emptied the table)."""
    if not Icd10Code.objects.filter(code="I21.9").exists():
        ICD10_MIGRATION.icd10_load(apps, None)


def make_user(username: str, *roles: str):
    return UserFactory(username=username, roles=list(roles))


def make_patient(family_name: str = "刘", given_name: str = "洋", **kwargs) -> Patient:
    # Built directly: patient_create would add "create" access-log entries these tests do not look at.
    return Patient.objects.create(
        family_name=family_name, given_name=given_name, sex="male", birth_date=date(1955, 4, 2), **kwargs
    )


def treat(patient: Patient, clinician) -> Encounter:
    """An outpatient encounter with `clinician` attending: what gives them access to the patient's record."""
    return Encounter.objects.create(
        patient=patient,
        encounter_class=Encounter.EncounterClass.OUTPATIENT,
        status=Encounter.Status.IN_PROGRESS,
        started_at=timezone.now(),
        attending=clinician,
    )


def make_drug(name_en: str, name_zh: str, atc: str, *, form: str = "tablet", strength: str = "500 mg", **kwargs):
    return Drug.objects.create(
        generic_name_en=name_en,
        generic_name_zh=name_zh,
        form=form,
        strength=strength,
        route=kwargs.pop("route", "oral"),
        atc_code=atc,
        **kwargs,
    )


def make_formulary() -> dict[str, Drug]:
    return {
        "amoxicillin": make_drug("amoxicillin", "阿莫西林", "J01CA04", form="capsule", synonyms=["Amoxil"]),
        "benzylpenicillin": make_drug(
            "benzylpenicillin",
            "青霉素",
            "J01CE01",
            form="injection",
            strength="800000 IU",
            route="im",
            synonyms=["penicillin G"],
        ),  # fmt: skip
        "cefuroxime": make_drug("cefuroxime", "头孢呋辛", "J01DC02", strength="250 mg"),
        "metformin": make_drug("metformin", "二甲双胍", "A10BA02"),
        "ibuprofen": make_drug("ibuprofen", "布洛芬", "M01AE01", strength="200 mg"),
    }
