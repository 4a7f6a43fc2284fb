"""Simulated daily ward census: flows and midnight occupancy with the seasonality forecasting must learn.

Pure Python and deterministic: the same seed, wards and dates give the same numbers. The simulation always
starts at a fixed epoch (or earlier, for a longer window) and only the requested window is returned, so a
given day's numbers do not depend on the window asked for: a later run that extends the history to a
newer "yesterday" continues the same series instead of starting a different one.

Per ward and day, in this order:
  1. discharges: each patient in a bed at the start of the day leaves with a ward-specific hazard
     (about 1 / length of stay), higher on Fridays, lower at weekends, holidays shift it;
  2. transfers out: a small hazard (ICU -> step-down wards, wards -> ICU), accepted only where the
     destination has a free bed, so the hospital's transfers in and out always balance;
  3. admissions: demand ~ Poisson(base x weekly x yearly x holiday x trend x slow noise), of which only
     as many as there are free beds are admitted (the rest go elsewhere), so occupancy never exceeds capacity.
occupied(d) = occupied(d-1) - discharges - transfers_out + transfers_in + admissions.
"""

import math
import random
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta

from hospital.demo.holidays import NATIONAL_DAY, SPRING_FESTIVAL, holiday_on

EPOCH = date(2022, 1, 1)
WARM_UP_DAYS = 90
TREND_PER_YEAR = 0.02

# Monday .. Sunday, each averaging 1. Elective admissions are booked on weekdays; emergencies barely care.
ELECTIVE_WEEKLY = (1.35, 1.30, 1.20, 1.15, 1.00, 0.55, 0.45)
EMERGENCY_WEEKLY = (1.05, 1.00, 1.00, 1.00, 1.00, 0.97, 0.98)
# Discharges peak on Friday (home for the weekend) and drop on Sunday (fewer senior doctors on the ward).
DISCHARGE_WEEKLY = (1.00, 1.00, 1.05, 1.10, 1.35, 0.80, 0.70)


@dataclass(frozen=True)
class CensusProfile:
    """How one ward behaves: demand, length of stay, seasonality and transfers."""

    length_of_stay_days: float
    target_occupancy: float
    elective_share: float  # 0 = all emergencies, 1 = all booked
    winter_amplitude: float = 0.05  # yearly swing of demand, peaking on `peak_day_of_year`
    peak_day_of_year: int = 20
    transfer_out_rate: float = 0.0  # per patient per day
    transfer_to: dict[str, float] = field(default_factory=dict)  # destination ward code -> weight


@dataclass(frozen=True)
class WardInput:
    code: str
    capacity: int
    profile: CensusProfile


@dataclass(frozen=True)
class CensusDay:
    ward_code: str
    date: date
    admissions: int
    discharges: int
    transfers_in: int
    transfers_out: int
    occupied_at_midnight: int
    capacity: int


@dataclass(frozen=True)
class _Factors:
    elective: float
    emergency: float
    discharge: float


def day_factors(day: date) -> _Factors:
    """Weekly and holiday multipliers of elective demand, emergency demand and the discharge hazard."""
    weekday = day.weekday()
    elective, emergency, discharge = ELECTIVE_WEEKLY[weekday], EMERGENCY_WEEKLY[weekday], DISCHARGE_WEEKLY[weekday]
    holiday = holiday_on(day)
    if holiday is not None:
        # A holiday day replaces the weekday pattern: lists are closed, few senior discharges.
        # Wards empty out: admissions fall much further than discharges.
        if holiday.key == SPRING_FESTIVAL:
            first_day = day == holiday.start
            return _Factors(0.25, 0.70 * emergency, 1.30 if first_day else 0.85)
        if holiday.key == NATIONAL_DAY:
            return _Factors(0.40, 0.85 * emergency, 0.90)
        return _Factors(0.55, 0.95 * emergency, 0.90)
    before = holiday_on(day + timedelta(days=1))
    for ahead in range(1, 11):
        upcoming = holiday_on(day + timedelta(days=ahead))
        if upcoming is not None and upcoming.key == SPRING_FESTIVAL:
            # The run-up to Spring Festival: patients who can go home do, and fewer want to come in.
            return _Factors(0.75 * elective, 0.90 * emergency, 1.35 * discharge)
    if before is not None:
        discharge *= 1.25 if before.key == NATIONAL_DAY else 1.15
    for back in range(1, 11):
        past = holiday_on(day - timedelta(days=back))
        if past is None:
            continue
        # Rebound after a break: the postponed elective work comes back.
        if past.key == SPRING_FESTIVAL:
            return _Factors(1.40 * elective, 1.10 * emergency, discharge)
        if past.key == NATIONAL_DAY and back <= 5:
            return _Factors(1.30 * elective, 1.05 * emergency, discharge)
        if back <= 2:
            return _Factors(1.20 * elective, emergency, discharge)
        break
    return _Factors(elective, emergency, discharge)


def _poisson(rng: random.Random, lam: float) -> int:
    # Knuth's method; demand per ward-day stays well below where it gets slow.
    limit, k, product = math.exp(-lam), 0, rng.random()
    while product > limit:
        k += 1
        product *= rng.random()
    return k


def _binomial(rng: random.Random, n: int, p: float) -> int:
    p = min(max(p, 0.0), 1.0)
    return sum(1 for _ in range(n) if rng.random() < p)


def _base_demand(wards: Sequence[WardInput]) -> dict[str, float]:
    """Daily admission demand that keeps each ward near its target occupancy, net of expected transfers in."""
    expected_in: dict[str, float] = {w.code: 0.0 for w in wards}
    for ward in wards:
        weights = {code: weight for code, weight in ward.profile.transfer_to.items() if code in expected_in}
        total = sum(weights.values())
        steady = ward.capacity * ward.profile.target_occupancy
        for code, weight in weights.items():
            expected_in[code] += steady * ward.profile.transfer_out_rate * weight / total
    base = {}
    for ward in wards:
        steady = ward.capacity * ward.profile.target_occupancy
        hazard = 1 / ward.profile.length_of_stay_days
        base[ward.code] = max(steady * (hazard + ward.profile.transfer_out_rate) - expected_in[ward.code], 0.3)
    return base


def simulate(*, wards: Sequence[WardInput], start: date, end: date, seed: int) -> Iterator[CensusDay]:
    """The census of every ward for every day from `start` to `end` inclusive, day by day."""
    if end < start or not wards:
        return
    rng = random.Random(f"census:{seed}")  # noqa: S311 - reproducible demo data
    first = min(EPOCH, start - timedelta(days=WARM_UP_DAYS))
    base = _base_demand(wards)
    occupied = {w.code: round(w.capacity * w.profile.target_occupancy) for w in wards}
    noise = dict.fromkeys(occupied, 0.0)
    day = first
    while day <= end:
        factors = day_factors(day)
        years = (day - EPOCH).days / 365.25
        after_discharge: dict[str, int] = {}
        discharges: dict[str, int] = {}
        leaving: dict[str, list[str]] = {}
        for ward in wards:
            profile = ward.profile
            hazard = factors.discharge / profile.length_of_stay_days
            discharges[ward.code] = _binomial(rng, occupied[ward.code], hazard)
            remaining = occupied[ward.code] - discharges[ward.code]
            movers = _binomial(rng, remaining, profile.transfer_out_rate)
            destinations = [code for code in profile.transfer_to if code in occupied]
            weights = [profile.transfer_to[code] for code in destinations]
            leaving[ward.code] = rng.choices(destinations, weights, k=movers) if destinations else []
            after_discharge[ward.code] = remaining

        transfers_in = dict.fromkeys(occupied, 0)
        transfers_out = dict.fromkeys(occupied, 0)
        free = {w.code: w.capacity - after_discharge[w.code] for w in wards}
        for ward in wards:
            for destination in leaving[ward.code]:
                if free[destination] > 0:
                    free[destination] -= 1
                    free[ward.code] += 1
                    transfers_in[destination] += 1
                    transfers_out[ward.code] += 1

        for ward in wards:
            profile = ward.profile
            noise[ward.code] = 0.9 * noise[ward.code] + rng.gauss(0.0, 0.04)
            yearly = 1 + profile.winter_amplitude * math.cos(
                2 * math.pi * (day.timetuple().tm_yday - profile.peak_day_of_year) / 365.25
            )
            mix = profile.elective_share * factors.elective + (1 - profile.elective_share) * factors.emergency
            demand = base[ward.code] * mix * yearly * (1 + TREND_PER_YEAR * years) * math.exp(noise[ward.code])
            admissions = min(_poisson(rng, demand), free[ward.code])
            occupied[ward.code] = (
                after_discharge[ward.code] - transfers_out[ward.code] + transfers_in[ward.code] + admissions
            )
            if day >= start:
                yield CensusDay(
                    ward_code=ward.code,
                    date=day,
                    admissions=admissions,
                    discharges=discharges[ward.code],
                    transfers_in=transfers_in[ward.code],
                    transfers_out=transfers_out[ward.code],
                    occupied_at_midnight=occupied[ward.code],
                    capacity=ward.capacity,
                )
        day += timedelta(days=1)
