"""Builders shared by the forecasting tests (no tests here): a small hospital with months of census history.

The history is bulk-created census rows (no bed stays), so a hospital of a few wards and 120 days is ready in
milliseconds. GM1 runs above its beds (corridor beds), so the plan has overflow to place; GM2 (same specialty)
and CA1 (cardiology) have room to lend.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass
from datetime import date, timedelta

from django.utils import timezone

from scheduling.models import Bed, Department, Ward, WardDailyCensus
from tests.factories import UserFactory

# Cheap nightly settings for tests: two baselines, two origins.
CHEAP = {"models": ["seasonal_naive", "weekday_mean4"], "origins": 2, "seeds": 1}
WEEKLY = (1.0, 1.5, 1.5, 1.0, 0.0, -2.0, -2.5)  # Monday .. Sunday


@dataclass(frozen=True)
class WardSpec:
    code: str
    specialty: str
    beds: int
    level: float  # mean patients at midnight
    days: int = 120
    closed_beds: int = 0


DEFAULT_WARDS = (
    WardSpec("GM1", "general_medicine", 20, 23.0),
    WardSpec("GM2", "general_medicine", 20, 15.0),
    WardSpec("CA1", "cardiology", 20, 12.0),
)


def today() -> date:
    return timezone.localdate(timezone=timezone.get_default_timezone())


def make_ward(spec: WardSpec) -> Ward:
    department, _created = Department.objects.get_or_create(
        code=spec.specialty[:20], defaults={"name_en": spec.specialty, "name_zh": "科", "specialty": spec.specialty}
    )
    ward = Ward.objects.create(
        department=department,
        code=spec.code,
        name_en=f"Ward {spec.code}",
        name_zh=f"{spec.code}病区",
        specialty=spec.specialty,
    )
    Bed.objects.bulk_create(
        Bed(ward=ward, code=f"{n:02d}", is_active=n <= spec.beds) for n in range(1, spec.beds + spec.closed_beds + 1)
    )
    return ward


def census_history(ward: Ward, spec: WardSpec, *, until: date, seed: int = 1) -> None:
    """`spec.days` days of census ending `until`: a level, a weekly pattern and noise; flows that add up."""
    rng = random.Random(f"{spec.code}:{seed}")  # noqa: S311 - test data
    rows = []
    previous = round(spec.level)
    for offset in range(spec.days - 1, -1, -1):
        day = until - timedelta(days=offset)
        occupied = max(0, round(spec.level + WEEKLY[day.weekday()] + rng.gauss(0, 1.2)))
        discharges = max(0, round(spec.level / 6 + rng.gauss(0, 1)))
        admissions = max(0, occupied - previous + discharges)
        discharges = admissions + previous - occupied
        rows.append(
            WardDailyCensus(
                ward=ward,
                date=day,
                admissions=admissions,
                discharges=discharges,
                occupied_at_midnight=occupied,
                capacity=spec.beds,
            )
        )
        previous = occupied
    WardDailyCensus.objects.bulk_create(rows)


def small_hospital(wards: tuple[WardSpec, ...] = DEFAULT_WARDS, *, until: date | None = None) -> dict[str, Ward]:
    """The wards with their beds and census history up to `until` (default yesterday), by code."""
    until = until or today() - timedelta(days=1)
    built = {}
    for spec in wards:
        ward = make_ward(spec)
        census_history(ward, spec, until=until)
        built[spec.code] = ward
    return built


def bed_manager(username: str = "beds.liu"):
    return UserFactory(username=username, roles=["bed_manager"])


def close_enough(a: float, b: float) -> bool:
    return math.isclose(a, b, abs_tol=1e-6)
