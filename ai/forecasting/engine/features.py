"""What every model may know about a day: the calendar (weekday, public holidays, season of the year) and the
series' known-ahead values (booked admissions, planned discharges, holiday flags from a file).

All of it is known in advance, so it may be used for the days being forecast; the observed values themselves
are only ever read up to the forecast origin (the callers slice them).
"""

from __future__ import annotations

from datetime import date, timedelta

import numpy as np

from .calendar import FEATURE_NAMES as CALENDAR_FEATURES
from .calendar import HolidayCalendar
from .types import Series


def season_length(series: Series) -> int:
    return 12 if series.freq == "M" else 7


def add_steps(day: date, steps: int, freq: str) -> date:
    if freq == "M":
        months = day.year * 12 + day.month - 1 + steps
        return date(months // 12, months % 12 + 1, 1)
    return day + timedelta(days=steps)


def dates_between(series: Series, start: int, stop: int) -> list[date]:
    """Dates of positions start..stop-1 of the series, extending past its end (future days) as needed."""
    first = series.dates[0]
    if series.freq == "M":
        return [add_steps(first, i, "M") for i in range(start, stop)]
    return [first + timedelta(days=i) for i in range(start, stop)]


def calendar_width(freq: str) -> int:
    if freq == "M":
        return 12 + 2
    return 7 + len(CALENDAR_FEATURES) + 2


def calendar_matrix(days: list[date], calendar: HolidayCalendar, freq: str = "D") -> np.ndarray:
    """Per day: weekday one-hot, holiday features, day-of-year sine/cosine (monthly: month one-hot, sine/cosine)."""
    n = len(days)
    if freq == "M":
        out = np.zeros((n, 14), dtype=np.float32)
        for i, d in enumerate(days):
            out[i, d.month - 1] = 1.0
            angle = 2 * np.pi * (d.month - 1) / 12
            out[i, 12], out[i, 13] = np.sin(angle), np.cos(angle)
        return out
    out = np.zeros((n, calendar_width("D")), dtype=np.float32)
    weekdays = np.array([d.weekday() for d in days], dtype=np.int64)
    out[np.arange(n), weekdays] = 1.0
    out[:, 7 : 7 + len(CALENDAR_FEATURES)] = calendar.features(days)
    day_angle = 2 * np.pi * np.array([d.timetuple().tm_yday for d in days], dtype=np.float64) / 365.25
    out[:, -2] = np.sin(day_angle)
    out[:, -1] = np.cos(day_angle)
    return out


def known_matrix(series: Series, start: int, stop: int) -> np.ndarray:
    """Known-ahead values for positions start..stop-1; zero where the series does not provide them (yet)."""
    names = sorted(series.known)
    out = np.zeros((stop - start, len(names)), dtype=np.float32)
    for j, name in enumerate(names):
        values = np.asarray(series.known[name], dtype=np.float64)
        lo, hi = max(start, 0), min(stop, len(values))
        if hi > lo:
            out[lo - start : hi - start, j] = values[lo:hi]
    return out


def known_is_flag(series: Series) -> np.ndarray:
    """Which known columns are 0/1 flags (kept as they are); the others are counts (scaled by the level)."""
    return np.array(
        [bool(np.all(np.isin(np.asarray(series.known[name]), (0.0, 1.0)))) for name in sorted(series.known)],
        dtype=bool,
    )


def trailing_level(values: np.ndarray, window: int) -> np.ndarray:
    """Mean of the last `window` values up to and including each position (fewer at the start); 1 where 0."""
    y = np.asarray(values, dtype=np.float64)
    csum = np.concatenate([[0.0], np.cumsum(y)])
    idx = np.arange(len(y))
    lo = np.maximum(0, idx + 1 - window)
    level = (csum[idx + 1] - csum[lo]) / (idx + 1 - lo)
    return np.where(level > 1e-6, level, 1.0)
