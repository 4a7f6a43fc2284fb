"""The simulated census: bounds, the stock identity, and the seasonality forecasting is meant to learn."""

from collections import defaultdict
from datetime import date, timedelta
from statistics import mean

import pytest

from hospital.demo.catalogue import WARDS
from hospital.demo.census import WardInput, simulate
from hospital.demo.holidays import holiday_on

WARD_INPUTS = [WardInput(spec.code, spec.beds, spec.census) for spec in WARDS]
START, END = date(2024, 1, 1), date(2025, 12, 31)


@pytest.fixture(scope="module")
def days():
    return list(simulate(wards=WARD_INPUTS, start=START, end=END, seed=2026))


def _by_ward(days):
    series = defaultdict(list)
    for day in days:
        series[day.ward_code].append(day)
    return series


def test_one_row_per_ward_and_day_within_bounds(days):
    assert len(days) == len(WARDS) * ((END - START).days + 1)
    for day in days:
        assert min(day.admissions, day.discharges, day.transfers_in, day.transfers_out) >= 0
        assert 0 <= day.occupied_at_midnight <= day.capacity


def test_occupancy_is_a_stock_of_the_flows(days):
    for series in _by_ward(days).values():
        for before, today in zip(series, series[1:], strict=False):
            assert today.occupied_at_midnight == (
                before.occupied_at_midnight
                + today.admissions
                + today.transfers_in
                - today.discharges
                - today.transfers_out
            )


def test_transfers_balance_across_the_hospital(days):
    per_day = defaultdict(lambda: [0, 0])
    for day in days:
        per_day[day.date][0] += day.transfers_in
        per_day[day.date][1] += day.transfers_out
    assert all(inward == outward for inward, outward in per_day.values())
    assert sum(inward for inward, _ in per_day.values()) > 100


def test_wards_run_busy_but_not_permanently_full(days):
    for code, series in _by_ward(days).items():
        occupancy = mean(d.occupied_at_midnight / d.capacity for d in series)
        assert 0.55 < occupancy < 0.95, code


def test_elective_wards_admit_on_weekdays_and_discharge_on_fridays(days):
    ordinary = [d for d in days if holiday_on(d.date) is None]
    for code in ("GS1", "ORTH1"):
        ward = [d for d in ordinary if d.ward_code == code]
        weekday = mean(d.admissions for d in ward if d.date.weekday() < 5)
        sunday = mean(d.admissions for d in ward if d.date.weekday() == 6)
        assert weekday > 1.3 * sunday, code
    friday = mean(d.discharges for d in ordinary if d.date.weekday() == 4)
    sunday = mean(d.discharges for d in ordinary if d.date.weekday() == 6)
    assert friday > 1.4 * sunday


def test_respiratory_and_paediatric_demand_peaks_in_winter(days):
    for code in ("RESP1", "PAED1"):
        ward = [d for d in days if d.ward_code == code]
        winter = mean(d.admissions for d in ward if d.date.month in (12, 1, 2))
        summer = mean(d.admissions for d in ward if d.date.month in (6, 7, 8))
        assert winter > 1.3 * summer, code


def _hospital_admissions(days, first, last):
    totals = defaultdict(int)
    for day in days:
        if first <= day.date <= last:
            totals[day.date] += day.admissions
    return mean(totals.values())


def test_spring_festival_dip_then_rebound(days):
    holiday = holiday_on(date(2025, 1, 29))
    during = _hospital_admissions(days, holiday.start, holiday.end)
    after = _hospital_admissions(days, holiday.end + timedelta(days=1), holiday.end + timedelta(days=10))
    march = _hospital_admissions(days, date(2025, 3, 3), date(2025, 3, 30))
    assert during < 0.75 * march
    assert after > march


def test_golden_week_dip(days):
    during = _hospital_admissions(days, date(2024, 10, 1), date(2024, 10, 7))
    after = _hospital_admissions(days, date(2024, 10, 8), date(2024, 10, 14))
    assert during < 0.8 * after


def test_a_days_numbers_do_not_depend_on_the_window_asked_for(days):
    window = list(simulate(wards=WARD_INPUTS, start=date(2025, 3, 1), end=date(2025, 3, 31), seed=2026))
    assert window == [d for d in days if date(2025, 3, 1) <= d.date <= date(2025, 3, 31)]


def test_seed_changes_the_numbers(days):
    other = list(simulate(wards=WARD_INPUTS, start=START, end=date(2024, 1, 31), seed=7))
    assert other != [d for d in days if d.date <= date(2024, 1, 31)]
