"""The holiday calendar the demo census uses."""

from datetime import date, timedelta

import pytest

from hospital.demo.holidays import HOLIDAYS, NATIONAL_DAY, SPRING_FESTIVAL, holiday_on, holidays_between

# Chinese New Year's Day (正月初一) of each covered year.
LUNAR_NEW_YEAR = {2023: date(2023, 1, 22), 2024: date(2024, 2, 10), 2025: date(2025, 1, 29),
                  2026: date(2026, 2, 17), 2027: date(2027, 2, 6)}  # fmt: skip


def test_blocks_are_well_formed_and_never_overlap():
    ordered = sorted(HOLIDAYS, key=lambda h: h.start)
    for holiday in ordered:
        assert holiday.start <= holiday.end
        assert holiday.days <= 9
    for earlier, later in zip(ordered, ordered[1:], strict=False):
        assert earlier.end < later.start, (earlier, later)


@pytest.mark.parametrize("year", range(2023, 2028))
def test_each_year_has_a_spring_festival_around_lunar_new_year_and_a_national_day_golden_week(year):
    spring = holiday_on(LUNAR_NEW_YEAR[year])
    assert spring is not None and spring.key == SPRING_FESTIVAL
    national = holiday_on(date(year, 10, 1))
    assert national is not None and national.key == NATIONAL_DAY and national.days >= 7
    assert {h.key for h in holidays_between(date(year, 1, 1), date(year, 12, 31))} >= {
        SPRING_FESTIVAL,
        NATIONAL_DAY,
        "qingming",
        "labour_day",
        "dragon_boat",
    }


def test_holiday_lookup():
    assert holiday_on(date(2024, 10, 7)).name_zh == "国庆节"
    assert holiday_on(date(2024, 10, 8)) is None
    assert holiday_on(date(2025, 5, 1)).key == "labour_day"
    assert holiday_on(date(2030, 10, 1)) is None
    assert holiday_on(LUNAR_NEW_YEAR[2026] - timedelta(days=10)) is None
