"""Builders of the census tests: wards with beds, and bed stays written straight to the table (no tests here)."""

from datetime import date, datetime, time

from django.db.backends.postgresql.psycopg_any import DateTimeTZRange
from django.utils import timezone

from emr.models import Encounter, Patient
from scheduling.models import Bed, BedCleaning, BedStay, Department, Ward
from tests.factories import UserFactory


def at(day: date, hour: int = 0, minute: int = 0) -> datetime:
    """A moment in the hospital's time zone."""
    return timezone.make_aware(datetime.combine(day, time(hour, minute)), timezone.get_default_timezone())


def make_ward(code: str, beds: int = 4, *, inactive: int = 0, target: int = 60) -> Ward:
    department, _created = Department.objects.get_or_create(
        code="MED", defaults={"name_en": "Medicine", "name_zh": "内科", "specialty": "general_medicine"}
    )
    ward = Ward.objects.create(
        department=department,
        code=code,
        name_en=f"Ward {code}",
        name_zh=f"{code}病区",
        specialty="general_medicine",
        turnaround_target_minutes=target,
    )
    Bed.objects.bulk_create(
        [Bed(ward=ward, code=f"{n:02d}", is_active=n <= beds) for n in range(1, beds + inactive + 1)]
    )
    return ward


def bed(ward: Ward, code: str) -> Bed:
    return Bed.objects.get(ward=ward, code=code)


def make_encounter(started: datetime, ward: Ward) -> Encounter:
    patient = Patient.objects.create(family_name="李", given_name="明", sex="male", birth_date=date(1970, 1, 1))
    return Encounter.objects.create(patient=patient, encounter_class="inpatient", started_at=started, ward=ward)


def stay(encounter, bed_: Bed, start: datetime, end: datetime | None = None, reason: str = "") -> BedStay:
    user = UserFactory(username="bed.manager", roles=["bed_manager"])
    return BedStay.objects.create(
        bed=bed_,
        encounter=encounter,
        period=DateTimeTZRange(start, end),
        end_reason=reason,
        started_by=user,
        ended_by=user if end else None,
    )


def cleaning(bed_: Bed, requested: datetime, minutes: int | None) -> BedCleaning:
    from datetime import timedelta

    completed = requested + timedelta(minutes=minutes) if minutes is not None else None
    return BedCleaning.objects.create(bed=bed_, requested_at=requested, completed_at=completed)
