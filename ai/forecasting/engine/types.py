"""Shapes the forecasting engine takes and returns. No Django here: the nightly job, the evaluation command
over any CSV, and the tests all use the same engine.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any

import numpy as np

QUANTILES = (0.025, 0.1, 0.5, 0.9, 0.975)  # 95% and 80% intervals and the median


@dataclass
class Series:
    """One daily series (a ward's midnight census, or an ED's arrivals), with what is known ahead.

    A monthly series (freq "M") is accepted too, for panels such as monthly A&E attendances.

    `dates` are consecutive days. `known` holds exogenous features known in advance (booked elective
    admissions, planned discharges, ...), each an array covering dates plus the forecast horizon
    (len(dates) + horizon); calendar features (weekday, public holidays) are added by the engine.
    """

    key: str
    dates: list[date]
    values: np.ndarray
    known: dict[str, np.ndarray] = field(default_factory=dict)
    capacity: float | None = None
    freq: str = "D"  # "D" daily (season 7) or "M" monthly (dates are first days of months, season 12)


@dataclass
class Forecast:
    key: str
    model: str
    origin: date  # last day of data used
    dates: list[date]  # origin + 1 .. origin + horizon
    quantiles: dict[float, np.ndarray]  # QUANTILES -> values per date
    mean: np.ndarray


@dataclass
class ModelScore:
    model: str
    horizons: list[int]
    mae: list[float]  # per horizon 1..H
    smape: list[float]
    mase: list[float]
    bias: list[float]
    coverage80: list[float]
    coverage95: list[float]
    mae_overall: float
    mase_overall: float
    train_seconds: float
    extra: dict[str, Any] = field(default_factory=dict)


@dataclass
class BacktestResult:
    origins: list[date]
    horizon: int
    scores: dict[str, ModelScore]
    best_baseline: str
    # model -> (low, high) 95% paired-bootstrap interval of MAE(model) - MAE(best baseline), relative to
    # the best baseline's MAE (0.02 = 2% worse)
    bootstrap_vs_best: dict[str, tuple[float, float]]
    winner: str
    reason: str
    notes: list[str] = field(default_factory=list)  # e.g. "ward X: 41 days of history, baseline only"
    # arrays behind the scores: "points"/"quantiles" per model (origins x series x horizon[, quantile]),
    # "actual", "keys", "short" (series too short for the networks -> length), "freq", "seeds"
    details: dict[str, Any] = field(default_factory=dict)
