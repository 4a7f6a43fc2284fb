"""Builders of the bed request and bed board tests: wards with rooms and beds, patients in beds (no tests here)."""

from datetime import date, timedelta

from django.db.backends.postgresql.psycopg_any import DateTimeTZRange
from django.utils import timezone

from emr.models import Encounter, Patient
from scheduling.models import Bed, BedCleaning, BedRequest, BedStay, Department, Room, Ward
from tests.factories import UserFactory


def make_ward(
    code: str,
    *,
    specialty: str = "general_medicine",
    beds: int = 4,
    sex_policy: str = "mixed",
    nursing_level: str = "standard",
    bed_type: str = "general",
    room: Room | None = None,
    department_specialty: str | None = None,
) -> Ward:
    dept_specialty = department_specialty or specialty
    department, _created = Department.objects.get_or_create(
        code=f"D-{dept_specialty}"[:20],
        defaults={"name_en": dept_specialty, "name_zh": "科", "specialty": dept_specialty},
    )
    ward = Ward.objects.create(
        department=department,
        code=code,
        name_en=f"Ward {code}",
        name_zh=f"{code}病区",
        specialty=specialty,
        sex_policy=sex_policy,
        nursing_level=nursing_level,
    )
    Bed.objects.bulk_create([Bed(ward=ward, code=f"{n:02d}", bed_type=bed_type) for n in range(1, beds + 1)])
    return ward


def bed(ward: Ward, code: str = "01") -> Bed:
    return Bed.objects.select_related("ward", "room").get(ward=ward, code=code)


def put_in_room(ward: Ward, codes: list[str], *, room_code: str = "R1", **room_fields) -> Room:
    room = Room.objects.create(ward=ward, code=room_code, **room_fields)
    Bed.objects.filter(ward=ward, code__in=codes).update(room=room)
    return room


def make_patient(family_name: str = "Wang", given_name: str = "Fang", sex: str = "female") -> Patient:
    return Patient.objects.create(family_name=family_name, given_name=given_name, sex=sex, birth_date=date(1960, 3, 1))


def occupy(target: Bed, patient: Patient | None = None, *, expected_discharge_on=None, user=None) -> BedStay:
    """A patient lying in `target` since yesterday (rows written directly: these tests are not about ADT)."""
    patient = patient or make_patient(family_name="Li", given_name="Ming", sex="male")
    encounter = Encounter.objects.create(
        patient=patient, encounter_class="inpatient", started_at=timezone.now() - timedelta(days=1), ward=target.ward
    )
    return BedStay.objects.create(
        bed=target,
        encounter=encounter,
        period=DateTimeTZRange(timezone.now() - timedelta(days=1), None),
        expected_discharge_on=expected_discharge_on,
        started_by=user or UserFactory(username="admitting.nurse", roles=["nurse"]),
    )


def dirty(target: Bed) -> BedCleaning:
    return BedCleaning.objects.create(bed=target, requested_at=timezone.now() - timedelta(minutes=5))


def bed_manager():
    return UserFactory(username="bed.manager", roles=["bed_manager"])


def doctor():
    return UserFactory(username="ed.doctor", roles=["doctor"])


def nurse():
    return UserFactory(username="ward.nurse", roles=["nurse"])


def waiting_request(patient: Patient, requested_by, **fields) -> BedRequest:
    values = {
        "source": "emergency",
        "priority": 3,
        "specialty": "general_medicine",
        "nursing_level": "standard",
        "needed_from": timezone.now() - timedelta(hours=1),
    }
    values.update(fields)
    return BedRequest.objects.create(patient=patient, requested_by=requested_by, **values)
