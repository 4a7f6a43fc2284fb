"""The invariants the database keeps for wards, beds and the daily census."""

from datetime import date

import pytest
from django.db import IntegrityError, transaction

from scheduling.models import Bed, Department, Ward, WardDailyCensus

pytestmark = pytest.mark.django_db


@pytest.fixture
def ward():
    department = Department.objects.create(
        code="GM", name_en="General Medicine", name_zh="普通内科", specialty="general_medicine"
    )
    return Ward.objects.create(
        department=department,
        code="GM1",
        name_en="General Medicine 1",
        name_zh="普通内科一病区",
        specialty="general_medicine",
    )


def _census(ward, **overrides):
    values = {"ward": ward, "date": date(2025, 3, 1), "admissions": 3, "discharges": 2, "occupied_at_midnight": 20}
    values.update(overrides)
    values.setdefault("capacity", 30)
    return WardDailyCensus.objects.create(**values)


def test_bed_code_is_unique_within_a_ward_but_not_across_wards(ward):
    other = Ward.objects.create(
        department=ward.department,
        code="GM2",
        name_en="General Medicine 2",
        name_zh="普通内科二病区",
        specialty="general_medicine",
    )
    Bed.objects.create(ward=ward, code="01")
    Bed.objects.create(ward=other, code="01")

    with pytest.raises(IntegrityError), transaction.atomic():
        Bed.objects.create(ward=ward, code="01")
    assert Bed.objects.count() == 2


def test_ward_code_is_unique(ward):
    with pytest.raises(IntegrityError), transaction.atomic():
        Ward.objects.create(department=ward.department, code="GM1", name_en="x", name_zh="x", specialty="cardiology")


def test_one_census_row_per_ward_and_day(ward):
    _census(ward)
    with pytest.raises(IntegrityError), transaction.atomic():
        _census(ward, admissions=5)
    _census(ward, date=date(2025, 3, 2))
    assert WardDailyCensus.objects.count() == 2


@pytest.mark.parametrize("field", ["admissions", "discharges", "transfers_in", "transfers_out", "occupied_at_midnight"])
def test_census_counts_cannot_be_negative(ward, field):
    with pytest.raises(IntegrityError), transaction.atomic():
        _census(ward, **{field: -1})
    assert not WardDailyCensus.objects.exists()


def test_census_capacity_must_be_positive(ward):
    with pytest.raises(IntegrityError), transaction.atomic():
        _census(ward, capacity=0)


def test_occupancy_may_exceed_capacity_with_extra_beds(ward):
    row = _census(ward, occupied_at_midnight=33, capacity=30)
    assert row.occupancy_rate == pytest.approx(1.1)


def test_turnaround_target_must_be_positive(ward):
    ward.turnaround_target_minutes = 0
    with pytest.raises(IntegrityError), transaction.atomic():
        ward.save()
