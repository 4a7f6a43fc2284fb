"""The hospital's own history as the engine's series: each ward's midnight census, flows, and what is known ahead.

Per ward and day, from the daily census snapshots (WardDailyCensus: nightly snapshots, imported or demo
history), and for days without a snapshot since bed stays were recorded, derived from the bed stays the
same way the snapshot would be (scheduling.services.census.census_counts). A short gap (a missed snapshot
before stays were recorded) carries the last census forward; a gap longer than MAX_GAP_DAYS cuts the
series, which then starts after it.

Known ahead, over the history and the forecast horizon (Series.known):
- "planned_discharges": stays whose expected discharge date is that day (scheduling.selectors.outlook);
- "booked_admissions": elective bed requests needed that day, shared among the wards of the request's
  specialty in proportion to their beds.
Such a feature is given to the engine only once bed stays have been recorded for
FORECAST_KNOWN_FEATURE_MIN_DAYS days: before that its history is zeros that mean "not recorded", and a
model would learn the wrong thing from them. Weekday and public holidays are added by the engine.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, timedelta

import numpy as np
from django.utils import timezone

from ai.forecasting import conf
from ai.forecasting.engine.types import Series
from scheduling.models import Ward
from scheduling.selectors.beds import ward_occupancy
from scheduling.selectors.census import census_daily
from scheduling.selectors.outlook import booked_admissions_by_day, planned_discharges_by_day, stays_recorded_since
from scheduling.services.census import census_counts

MAX_GAP_DAYS = 14
KNOWN_FEATURES = ("booked_admissions", "planned_discharges")


@dataclass
class WardHistory:
    """One ward's history as the engine sees it (`series`, key = ward code), with its flows and how it was built."""

    ward: Ward
    series: Series
    capacity: int
    admissions: np.ndarray
    discharges: np.ndarray
    derived_days: int = 0  # days computed from bed stays (no snapshot)
    filled_days: int = 0  # gap days that carry the last census forward
    notes: list[str] = field(default_factory=list)

    @property
    def days(self) -> int:
        return len(self.series.dates)


def yesterday() -> date:
    return timezone.localdate(timezone=timezone.get_default_timezone()) - timedelta(days=1)


def _day_range(start: date, end: date) -> list[date]:
    return [start + timedelta(days=offset) for offset in range((end - start).days + 1)]


def history_start(until: date, history_days: int) -> date:
    """The first day read: `history_days` before `until`, moved back to the first day of its quarter. The start
    then stays put for three months, so a backtest a week later trains on the same days at its old origins and
    reuses their forecasts (backtest pieces) instead of fitting them again."""
    earliest = until - timedelta(days=history_days - 1)
    return date(earliest.year, 3 * ((earliest.month - 1) // 3) + 1, 1)


def ward_histories(
    *,
    wards: Iterable[Ward] | None = None,
    until: date | None = None,
    horizon: int | None = None,
    history_days: int | None = None,
) -> list[WardHistory]:
    """Each ward's daily history up to `until` (default yesterday), in ward code order.

    Guarantees: every series has consecutive dates ending at `until` (or is empty, for a ward without
    any census), non-negative values, and its known features cover its dates plus `horizon` days.
    Wards without active beds and without census are left out. Reads only; a fixed number of queries
    plus one per day that has bed stays but no snapshot.
    """
    until = until or yesterday()
    horizon = conf.horizon() if horizon is None else horizon
    start = history_start(until, history_days or conf.history_days())
    occupancy = ward_occupancy(wards=list(wards) if wards is not None else None)
    ward_list = [item.ward for item in occupancy.values()]

    rows: dict[int, dict[date, tuple[int, int, int, int]]] = defaultdict(dict)
    census = census_daily(wards=ward_list, start=start, end=until).values_list(
        "ward_id", "date", "occupied_at_midnight", "admissions", "discharges", "capacity"
    )
    for ward_id, day, occupied, admissions, discharges, capacity in census:
        rows[ward_id][day] = (occupied, admissions, discharges, capacity)

    recorded_since = stays_recorded_since()
    derived: dict[int, int] = defaultdict(int)
    if recorded_since is not None and recorded_since <= until:
        for day in _day_range(max(recorded_since, start), until):
            if all(day in rows[ward.pk] for ward in ward_list):
                continue
            for ward_id, counts in census_counts(day=day).items():
                if ward_id in occupancy and day not in rows[ward_id]:
                    rows[ward_id][day] = (
                        counts["occupied_at_midnight"],
                        counts["admissions"],
                        counts["discharges"],
                        counts["capacity"],
                    )
                    derived[ward_id] += 1

    use_known = recorded_since is not None and (until - recorded_since).days + 1 >= conf.known_min_days()
    known_by_ward = _known_features(ward_list, occupancy, start, until + timedelta(days=horizon)) if use_known else {}

    histories = []
    for ward in ward_list:
        ward_rows = rows.get(ward.pk, {})
        capacity = occupancy[ward.pk].capacity
        if not ward_rows:
            if capacity == 0:
                continue
            series = Series(key=ward.code, dates=[], values=np.zeros(0), capacity=float(capacity))
            histories.append(WardHistory(ward, series, capacity, np.zeros(0), np.zeros(0)))
            continue
        history = _ward_history(ward, ward_rows, until, capacity, horizon, known_by_ward.get(ward.pk))
        history.derived_days = derived[ward.pk]
        histories.append(history)
    return histories


def _ward_history(
    ward: Ward,
    ward_rows: dict[date, tuple[int, int, int, int]],
    until: date,
    capacity: int,
    horizon: int,
    known: dict[str, dict[date, float]] | None,
) -> WardHistory:
    days = sorted(ward_rows)
    # Start after the last gap too long to bridge.
    first = days[0]
    for previous, current in zip(days, days[1:], strict=False):
        if (current - previous).days > MAX_GAP_DAYS:
            first = current
    if (until - days[-1]).days > MAX_GAP_DAYS:
        first = until + timedelta(days=1)  # nothing recent: no usable history
    dates = _day_range(first, until) if first <= until else []
    values = np.zeros(len(dates))
    admissions = np.zeros(len(dates))
    discharges = np.zeros(len(dates))
    filled = 0
    last = 0.0
    for index, day in enumerate(dates):
        row = ward_rows.get(day)
        if row is None:
            values[index] = last
            filled += 1
            continue
        last = float(row[0])
        values[index], admissions[index], discharges[index] = row[0], row[1], row[2]
    if capacity == 0 and days:
        capacity = ward_rows[days[-1]][3]
    known_arrays: dict[str, np.ndarray] = {}
    if known and dates:
        span = _day_range(dates[0], until + timedelta(days=horizon))
        known_arrays = {name: np.array([by_day.get(day, 0.0) for day in span]) for name, by_day in known.items()}
    series = Series(key=ward.code, dates=dates, values=values, known=known_arrays, capacity=float(capacity))
    return WardHistory(ward, series, capacity, admissions, discharges, filled_days=filled)


def _known_features(
    ward_list: list[Ward], occupancy: dict, start: date, end: date
) -> dict[int, dict[str, dict[date, float]]]:
    planned = planned_discharges_by_day(start=start, end=end)
    booked = booked_admissions_by_day(start=start, end=end)
    beds_by_specialty: dict[str, int] = defaultdict(int)
    for ward in ward_list:
        beds_by_specialty[ward.specialty] += occupancy[ward.pk].capacity
    result: dict[int, dict[str, dict[date, float]]] = {}
    for ward in ward_list:
        share = (
            occupancy[ward.pk].capacity / beds_by_specialty[ward.specialty] if beds_by_specialty[ward.specialty] else 0
        )
        result[ward.pk] = {
            "booked_admissions": {day: count * share for day, count in booked.get(ward.specialty, {}).items()},
            "planned_discharges": {day: float(count) for day, count in planned.get(ward.pk, {}).items()},
        }
    return result


def hospital_series(
    *, wards: Iterable[Ward] | None = None, until: date | None = None, horizon: int | None = None
) -> list[Series]:
    """Each ward's midnight-census series up to `until` (default yesterday), key = ward code (see ward_histories)."""
    return [history.series for history in ward_histories(wards=wards, until=until, horizon=horizon)]
