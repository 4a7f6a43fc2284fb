"""Indicators on known data: occupancy, length of stay, bed turnover, turnaround against the ward's target."""

from datetime import date, timedelta

import pytest

from scheduling.models import WardDailyCensus
from scheduling.selectors.census import ward_indicators
from tests.scheduling.census_support import at, bed, cleaning, make_encounter, make_ward, stay

pytestmark = pytest.mark.django_db

D1 = date(2025, 5, 1)
D4 = D1 + timedelta(days=3)


def _day(n: int) -> date:
    return D1 + timedelta(days=n - 1)


def _census(ward, n: int, occupied: int, discharges: int = 0, admissions: int = 0):
    WardDailyCensus.objects.create(
        ward=ward,
        date=_day(n),
        occupied_at_midnight=occupied,
        discharges=discharges,
        admissions=admissions,
        capacity=ward.beds.filter(is_active=True).count(),
    )


@pytest.fixture
def known():
    """Given two wards with four days of census, stays discharged in and out of the window, and cleanings."""
    a = make_ward("A", beds=4, target=60)
    b = make_ward("B", beds=2, target=30)
    for n, occupied, discharges in ((1, 2, 1), (2, 3, 0), (3, 4, 2), (4, 1, 1)):
        _census(a, n, occupied, discharges, admissions=1)
    _census(b, 1, 1, 1)
    _census(b, 2, 2, 2)
    # A day outside the window is not counted.
    _census(a, 5, 0, 9)

    # 2 days: admitted to A, transferred to B, discharged from B (the discharging ward counts it).
    moved = make_encounter(at(_day(1), 10), a)
    stay(moved, bed(a, "01"), at(_day(1), 10), at(_day(2), 10), "transfer")
    stay(moved, bed(b, "01"), at(_day(2), 10), at(_day(3), 10), "discharge")
    # Half a day in A.
    short = make_encounter(at(_day(1), 0), a)
    stay(short, bed(a, "02"), at(_day(1), 0), at(_day(1), 12), "discharge")
    # Two days in A, ending in death.
    died = make_encounter(at(_day(2), 0), a)
    stay(died, bed(a, "03"), at(_day(2), 0), at(_day(4), 0), "death")
    # Discharged before the window, and still in a bed: neither counts.
    before = make_encounter(at(_day(-5), 0), a)
    stay(before, bed(a, "04"), at(_day(-5), 0), at(_day(0), 12), "discharge")
    still = make_encounter(at(_day(2), 0), a)
    stay(still, bed(a, "04"), at(_day(2), 0))

    for minutes in (20, 40, 90):
        cleaning(bed(a, "01"), at(_day(2), 8), minutes)
    cleaning(bed(b, "01"), at(_day(3), 10), 45)
    cleaning(bed(b, "02"), at(_day(3), 10), 50)
    cleaning(bed(b, "02"), at(_day(-3), 10), 500)  # completed before the window
    cleaning(bed(a, "02"), at(_day(4), 10), None)  # still open
    return a, b


def test_indicators_per_ward(known):
    a, b = known

    result = ward_indicators(start=D1, end=D4)

    ward_a, ward_b = result.wards
    assert (ward_a.ward, ward_b.ward) == (a, b)
    assert ward_a.days == 4 and ward_b.days == 2
    assert ward_a.occupancy_rate == pytest.approx((0.5 + 0.75 + 1 + 0.25) / 4)
    assert ward_b.occupancy_rate == pytest.approx(0.75)
    assert ward_a.average_length_of_stay == pytest.approx(1.25) and ward_a.length_of_stay_count == 2
    assert ward_b.average_length_of_stay == pytest.approx(2.0) and ward_b.length_of_stay_count == 1
    assert ward_a.bed_turnover == pytest.approx(4 / 4)
    assert ward_b.bed_turnover == pytest.approx(3 / 2)
    assert (ward_a.admissions, ward_a.discharges) == (4, 4)
    assert ward_a.turnaround_median_minutes == pytest.approx(40)
    assert ward_a.turnaround_p90_minutes == pytest.approx(80)
    assert ward_a.turnaround_count == 3
    assert ward_a.turnaround_within_target == pytest.approx(2 / 3)
    assert ward_a.turnaround_exceeds_target is False
    assert ward_b.turnaround_median_minutes == pytest.approx(47.5)
    assert ward_b.turnaround_within_target == 0
    assert ward_b.turnaround_exceeds_target is True


def test_total_weighs_the_wards_together(known):
    total = ward_indicators(start=D1, end=D4).total

    assert total.ward is None
    assert total.occupancy_rate == pytest.approx((10 + 3) / (16 + 4))
    assert total.average_length_of_stay == pytest.approx(4.5 / 3)
    assert total.bed_turnover == pytest.approx(7 / 6)
    assert total.turnaround_median_minutes == pytest.approx(45)
    assert total.turnaround_count == 5
    assert total.turnaround_exceeds_target is False  # wards have their own targets
    assert (total.admissions, total.discharges) == (4, 7)


def test_selected_wards_only(known):
    a, b = known

    result = ward_indicators(wards=[b], start=D1, end=D4)

    assert [item.ward for item in result.wards] == [b]
    assert result.total.discharges == 3
    assert result.total.turnaround_count == 2


def test_wards_without_data_have_no_rates(known):
    empty = make_ward("E", beds=3)

    item = ward_indicators(wards=[empty], start=D1, end=D4).wards[0]

    assert item.occupancy_rate is None and item.average_length_of_stay is None and item.bed_turnover is None
    assert item.turnaround_median_minutes is None and item.turnaround_count == 0
    assert item.turnaround_exceeds_target is False


def test_indicators_take_four_queries_whatever_the_wards(known, django_assert_num_queries):
    for code in ("X1", "X2", "X3"):
        make_ward(code, beds=2)

    with django_assert_num_queries(4):
        ward_indicators(start=D1, end=D4)
