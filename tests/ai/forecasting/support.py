"""Synthetic series with known structure for the engine tests (no tests here)."""

from datetime import date, timedelta

import numpy as np

from ai.forecasting.engine.calendar import HolidayCalendar
from ai.forecasting.engine.types import Series

WEEKLY = np.array([1.15, 1.1, 1.05, 1.0, 0.95, 0.85, 0.9])  # Monday .. Sunday
TINY_NET = {"epochs": 2, "hidden": 8, "window": 21, "batch_size": 128}  # trains in well under a second


def weekly_series(
    key: str = "W1",
    days: int = 240,
    level: float = 60.0,
    start: date = date(2023, 1, 2),
    seed: int = 0,
    holiday_effect: float = 0.0,
) -> Series:
    """Poisson counts around level x weekday factor, lower by `holiday_effect` on Chinese public holidays."""
    rng = np.random.default_rng(seed)
    dates = [start + timedelta(days=i) for i in range(days)]
    calendar = HolidayCalendar.default()
    mean = np.array(
        [level * WEEKLY[d.weekday()] * (1 - holiday_effect * calendar.is_holiday(d)) for d in dates], dtype=float
    )
    return Series(key=key, dates=dates, values=rng.poisson(mean).astype(float))


def monthly_series(key: str = "T1", months: int = 40, level: float = 2000.0, seed: int = 0) -> Series:
    rng = np.random.default_rng(seed)
    dates = [date(2016 + m // 12, m % 12 + 1, 1) for m in range(months)]
    season = 1 + 0.1 * np.sin(2 * np.pi * np.arange(months) / 12)
    return Series(key=key, dates=dates, values=rng.poisson(level * season).astype(float), freq="M")
