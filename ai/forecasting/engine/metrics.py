"""Forecast accuracy measures and the paired bootstrap, on plain arrays.

Conventions: errors are forecast minus actual, so a positive bias means the model forecast too many.
sMAPE is in percent (0-200), 0 where actual and forecast are both 0. MASE divides the absolute error by the
in-sample mean absolute error of the seasonal naive forecast (season 7 for daily data) over the history
available at the origin, so 1.0 means "as good as copying last week".
"""

from __future__ import annotations

import numpy as np


def mae(actual: np.ndarray, forecast: np.ndarray) -> float:
    return float(np.mean(np.abs(np.asarray(forecast, float) - np.asarray(actual, float))))


def smape(actual: np.ndarray, forecast: np.ndarray) -> float:
    return float(np.mean(smape_terms(actual, forecast)))


def smape_terms(actual: np.ndarray, forecast: np.ndarray) -> np.ndarray:
    a = np.asarray(actual, float)
    f = np.asarray(forecast, float)
    denominator = np.abs(a) + np.abs(f)
    with np.errstate(divide="ignore", invalid="ignore"):
        terms = np.where(denominator > 0, 200.0 * np.abs(f - a) / denominator, 0.0)
    return terms


def bias(actual: np.ndarray, forecast: np.ndarray) -> float:
    return float(np.mean(np.asarray(forecast, float) - np.asarray(actual, float)))


def coverage(actual: np.ndarray, low: np.ndarray, high: np.ndarray) -> float:
    """Share of actuals inside [low, high], in percent."""
    a = np.asarray(actual, float)
    return float(100.0 * np.mean((a >= np.asarray(low, float)) & (a <= np.asarray(high, float))))


def mase_scale(history: np.ndarray, season: int = 7) -> float:
    """In-sample MAE of the seasonal naive forecast; falls back to the lag-1 naive, then to 1, if it is 0."""
    y = np.asarray(history, float)
    for lag in (season, 1):
        if len(y) > lag:
            scale = float(np.mean(np.abs(y[lag:] - y[:-lag])))
            if scale > 0:
                return scale
    return 1.0


def mase(actual: np.ndarray, forecast: np.ndarray, history: np.ndarray, season: int = 7) -> float:
    return mae(actual, forecast) / mase_scale(history, season)


def paired_bootstrap(
    errors_model: np.ndarray,
    errors_reference: np.ndarray,
    *,
    n_resamples: int = 2000,
    seed: int = 0,
    level: float = 0.95,
) -> tuple[float, float, float]:
    """Relative MAE difference (model - reference) / reference and its percentile bootstrap interval.

    Both arrays hold absolute errors shaped (blocks, ...) on the same cases; whole blocks (forecast origins)
    are resampled, because the errors of one origin's 14 days are correlated. Returns (estimate, low, high);
    0.02 means the model's MAE is 2% above the reference's.
    """
    a = np.asarray(errors_model, float).reshape(len(errors_model), -1)
    b = np.asarray(errors_reference, float).reshape(len(errors_reference), -1)
    if a.shape != b.shape:
        raise ValueError(f"paired bootstrap needs the same cases: {a.shape} vs {b.shape}")
    valid = ~(np.isnan(a) | np.isnan(b))
    sums_a = np.where(valid, a, 0.0).sum(axis=1)
    sums_b = np.where(valid, b, 0.0).sum(axis=1)
    if sums_b.sum() <= 0:
        return 0.0, 0.0, 0.0
    estimate = float(sums_a.sum() / sums_b.sum() - 1.0)
    rng = np.random.default_rng(seed)
    picks = rng.integers(0, len(a), size=(n_resamples, len(a)))
    num = sums_a[picks].sum(axis=1)
    den = sums_b[picks].sum(axis=1)
    ratios = num / np.where(den > 0, den, np.nan) - 1.0
    ratios = ratios[np.isfinite(ratios)]
    tail = (1.0 - level) / 2.0 * 100.0
    low, high = np.percentile(ratios, [tail, 100.0 - tail])
    return estimate, float(low), float(high)
