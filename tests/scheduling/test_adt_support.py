"""Builders of the ADT tests: wards with beds, inpatient encounters and staff (no tests here)."""

from datetime import date, timedelta

from django.utils import timezone

from emr.models import Encounter, Patient
from scheduling.models import AdtEvent, Bed, BedBlock, BedCleaning, BedStay, Department, Ward
from tests.factories import UserFactory


def make_ward(code: str = "GM1", beds: int = 4) -> Ward:
    department, _created = Department.objects.get_or_create(
        code="MED", defaults={"name_en": "Medicine", "name_zh": "内科", "specialty": "general_medicine"}
    )
    ward = Ward.objects.create(
        department=department, code=code, name_en=f"Ward {code}", name_zh=f"{code}病区", specialty="general_medicine"
    )
    Bed.objects.bulk_create([Bed(ward=ward, code=f"{n:02d}") for n in range(1, beds + 1)])
    return ward


def bed(ward: Ward, code: str) -> Bed:
    return Bed.objects.select_related("ward").get(ward=ward, code=code)


def make_inpatient(ward: Ward, *, days_ago: int = 2, family_name: str = "李", given_name: str = "明") -> Encounter:
    # Built directly: these tests are about beds, and encounter_start would add its own log entries.
    patient = Patient.objects.create(family_name=family_name, given_name=given_name, sex="male",
                                     birth_date=date(1970, 1, 1))  # fmt: skip
    return Encounter.objects.create(
        patient=patient,
        encounter_class="inpatient",
        started_at=timezone.now() - timedelta(days=days_ago),
        ward=ward,
    )


def bed_manager():
    return UserFactory(username="bed.manager", roles=["bed_manager"])


def nurse():
    return UserFactory(username="nurse.wang", roles=["nurse"])


def row_counts() -> dict[str, int]:
    """How many rows each ADT table holds: bad input must leave every count as it was."""
    return {model.__name__: model.objects.count() for model in (BedStay, AdtEvent, BedCleaning, BedBlock)} | {
        "open_stays": BedStay.objects.filter(period__endswith__isnull=True).count()
    }
