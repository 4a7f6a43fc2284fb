"""The classical baselines every recurrent model has to beat, each with prediction intervals.

- seasonal_naive: the value one season (7 days, 12 months) earlier.
- weekday_mean4: the mean of the last 4 values on the same weekday (month of the year for monthly data).
- auto_ets, auto_theta: statsforecast's AutoETS and AutoTheta with the season, and their intervals.
- lightgbm: gradient-boosted trees on lags, the trailing level and the target day's calendar and known-ahead
  features, one direct model for all horizons (the horizon is a feature); its intervals come from the errors
  of the same model fitted without the last 13 weeks, on those weeks.

The intervals of the two naive methods are the empirical quantiles of the same method's errors over the
last year of history, per horizon.
"""

from __future__ import annotations

import json
import warnings
from dataclasses import dataclass
from typing import Any

import numpy as np

from .calendar import HolidayCalendar
from .features import (
    calendar_matrix,
    dates_between,
    known_is_flag,
    known_matrix,
    season_length,
    trailing_level,
)
from .types import QUANTILES, Series

ERROR_WINDOW = 364  # days of past errors behind the naive methods' intervals


@dataclass
class Task:
    """Forecast `series` from position `origin` (the last value used) for `horizon` steps."""

    series: Series
    origin: int


def _quantiles_from_errors(point: np.ndarray, errors: np.ndarray) -> dict[float, np.ndarray]:
    """point[h] plus the empirical quantiles of errors[:, h] (actual - forecast); the median stays the point."""
    out: dict[float, np.ndarray] = {}
    for q in QUANTILES:
        if q == 0.5:
            out[q] = point.copy()
            continue
        if errors.shape[0] >= 8:
            shift = np.nanquantile(errors, q, axis=0)
            shift = np.where(np.isfinite(shift), shift, 0.0)
        else:  # too little history: a normal interval from the last differences
            spread = np.nanstd(errors) if errors.size else 0.0
            spread = spread if np.isfinite(spread) and spread > 0 else max(1.0, 0.1 * float(np.mean(point)))
            from scipy.stats import norm

            shift = np.full(point.shape, norm.ppf(q) * spread)
        out[q] = point + shift
    return out


def _naive_rule_matrix(
    y: np.ndarray, origins: np.ndarray, horizon: int, season: int, kind: str, cycles_back: int = 4
) -> np.ndarray:
    """Forecasts F[i, h-1] of the naive rule made at each origin (index of the last value used)."""
    h = np.arange(1, horizon + 1)
    cycles = (h - 1) // season + 1  # how many seasons back the most recent same-phase value is
    if kind == "seasonal_naive":
        idx = origins[:, None] + h[None, :] - season * cycles[None, :]
        return y[idx]
    total = np.zeros((len(origins), horizon))
    for k in range(cycles_back):
        idx = origins[:, None] + h[None, :] - season * (cycles[None, :] + k)
        total += y[np.maximum(idx, 0)]
    return total / cycles_back


def naive_forecast(task: Task, horizon: int, kind: str) -> tuple[np.ndarray, dict[float, np.ndarray]]:
    y = np.asarray(task.series.values[: task.origin + 1], dtype=np.float64)
    season = season_length(task.series)
    # the mean of the last 4 same weekdays; for monthly data, of the same month in the years there are (<= 4)
    cycles_back = 1 if kind == "seasonal_naive" else max(1, min(4, len(y) // season))
    need = season * cycles_back
    if len(y) < need:  # not enough history for the rule: repeat what there is
        y = np.concatenate([np.full(need - len(y), y[0] if len(y) else 0.0), y])
    origin = len(y) - 1
    point = _naive_rule_matrix(y, np.array([origin]), horizon, season, kind, cycles_back)[0]
    # past origins whose targets are all observed by now, and whose own rule had enough history
    past = np.arange(max(need - 1 + season * ((horizon - 1) // season), 0), origin - horizon + 1)
    past = past[-ERROR_WINDOW:]
    if len(past):
        fitted = _naive_rule_matrix(y, past, horizon, season, kind, cycles_back)
        actual = y[past[:, None] + np.arange(1, horizon + 1)[None, :]]
        errors = actual - fitted
    else:
        errors = np.zeros((0, horizon))
    return point, _quantiles_from_errors(point, errors)


STATS_WINDOW = 3 * 364  # AutoETS/AutoTheta see at most the last three years (fit time grows with length)


def statsforecast_forecast(
    task: Task, horizon: int, kind: str, *, window: int | None = None
) -> tuple[np.ndarray, dict[float, np.ndarray]]:
    """AutoETS or AutoTheta on the last `window` values (default STATS_WINDOW; shorter is faster)."""
    from statsforecast.models import AutoETS, AutoTheta

    y = np.asarray(task.series.values[: task.origin + 1], dtype=np.float64)[-(window or STATS_WINDOW) :]
    season = season_length(task.series)
    if len(y) < 2 * season + 2:
        season = 1
    model = AutoETS(season_length=season) if kind == "auto_ets" else AutoTheta(season_length=season)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        result = model.forecast(y=y, h=horizon, level=[80, 95])
    point = np.asarray(result["mean"], dtype=np.float64)
    quantiles = {
        0.025: np.asarray(result["lo-95"], dtype=np.float64),
        0.1: np.asarray(result["lo-80"], dtype=np.float64),
        0.5: point.copy(),
        0.9: np.asarray(result["hi-80"], dtype=np.float64),
        0.975: np.asarray(result["hi-95"], dtype=np.float64),
    }
    return point, quantiles


# ---- LightGBM: one direct model over (origin, horizon) rows -------------------------------------------------

LGB_LEVEL_WINDOW = {"D": 28, "M": 12}
LGB_LAGS = {"D": 28, "M": 12}
LGB_HOLDOUT = {"D": 91, "M": 6}  # steps held out to measure the errors behind the intervals


@dataclass
class LgbOptions:
    n_estimators: int = 300
    learning_rate: float = 0.05
    num_leaves: int = 31
    min_child_samples: int = 20
    max_rows: int = 30000  # rows of (origin, horizon) beyond this are sampled, recent ones likelier


def _lgb_rows(
    series: Series,
    origins: np.ndarray,
    horizon: int,
    calendar: HolidayCalendar,
    series_code: int,
    stop: int,
) -> np.ndarray:
    """Feature rows for each origin x horizon. Values are read only up to each origin (and never past `stop`)."""
    freq = series.freq
    season = season_length(series)
    y = np.asarray(series.values[: stop + 1], dtype=np.float64)
    level = trailing_level(y, LGB_LEVEL_WINDOW[freq])
    n_lags = LGB_LAGS[freq]
    n_days = stop + 1 + horizon
    cal = calendar_matrix(dates_between(series, 0, n_days), calendar, freq)
    known = known_matrix(series, 0, n_days)
    flags = known_is_flag(series)
    level_long = trailing_level(y, 4 * LGB_LEVEL_WINDOW[freq])
    rows = []
    for h in range(1, horizon + 1):
        o = origins
        lvl = level[o]
        lags = np.stack([y[np.maximum(o - k, 0)] for k in range(n_lags)], axis=1) / lvl[:, None]
        cycles = (h - 1) // season + 1
        same_phase = np.stack([y[np.maximum(o + h - season * (cycles + k), 0)] for k in range(4)], axis=1)
        same_phase = same_phase / lvl[:, None]
        yearly_lag = 364 if freq == "D" else 12
        last_year_idx = o + h - yearly_lag
        last_year = np.where(last_year_idx >= 0, y[np.maximum(last_year_idx, 0)] / lvl, np.nan)
        target = o + h
        kn = known[target].copy()
        if kn.shape[1]:
            kn[:, ~flags] = kn[:, ~flags] / lvl[:, None]
        block = np.column_stack(
            [
                np.full(len(o), h, dtype=np.float64),
                np.full(len(o), series_code, dtype=np.float64),
                np.log1p(lvl),
                lvl / level_long[o],
                lags,
                same_phase,
                same_phase.mean(axis=1),
                last_year,
                cal[target],
                kn,
            ]
        )
        rows.append(block)
    return np.stack(rows, axis=1)  # (origins, horizon, features)


def lightgbm_fit_predict(
    tasks: list[Task],
    horizon: int,
    calendar: HolidayCalendar,
    *,
    seed: int = 0,
    options: LgbOptions | None = None,
) -> tuple[list[tuple[np.ndarray, dict[float, np.ndarray]]], bytes]:
    """One model across all the tasks' series (a series code is a feature), trained on every past origin."""
    import lightgbm as lgb

    opts = options or LgbOptions()
    x_train, y_train, w_train, h_train, t_train = [], [], [], [], []
    x_pred, scale_pred = [], []
    holdout = LGB_HOLDOUT[tasks[0].series.freq]
    for code, task in enumerate(tasks):
        series, origin = task.series, task.origin
        y = np.asarray(series.values[: origin + 1], dtype=np.float64)
        level = trailing_level(y, LGB_LEVEL_WINDOW[series.freq])
        first = min(LGB_LAGS[series.freq], max(origin - horizon, 0))
        past = np.arange(first, origin)  # origins with at least one observed target
        if len(past):
            feats = _lgb_rows(series, past, horizon, calendar, code, origin)
            target_idx = past[:, None] + np.arange(1, horizon + 1)[None, :]
            observed = target_idx <= origin
            targets = np.where(observed, y[np.minimum(target_idx, origin)], np.nan) / level[past][:, None]
            x_train.append(feats[observed])
            y_train.append(targets[observed])
            age = (origin - past[:, None] + 0 * target_idx)[observed]
            w_train.append(0.5 ** (age / (3 * 364 if series.freq == "D" else 36)))
            h_train.append(np.broadcast_to(np.arange(1, horizon + 1)[None, :], target_idx.shape)[observed])
            # how far the target lies before the origin: rows whose target is in the last `holdout` steps
            # score the intervals, fitted by a model that saw nothing of those steps
            t_train.append((origin - target_idx)[observed])
        x_pred.append(_lgb_rows(series, np.array([origin]), horizon, calendar, code, origin)[0])
        scale_pred.append(level[origin])
    X = np.concatenate(x_train) if x_train else np.zeros((0, x_pred[0].shape[1]))
    Y = np.concatenate(y_train) if y_train else np.zeros(0)
    W = np.concatenate(w_train) if w_train else np.zeros(0)
    Hs = np.concatenate(h_train) if h_train else np.zeros(0, dtype=np.int64)
    before_origin = np.concatenate(t_train) if t_train else np.zeros(0, dtype=np.int64)
    if len(Y) > opts.max_rows:  # a sample, recent rows likelier, which then weigh the same
        rng = np.random.default_rng(seed)
        keep = np.sort(rng.choice(len(Y), size=opts.max_rows, replace=False, p=W / W.sum()))
        X, Y, Hs, before_origin = X[keep], Y[keep], Hs[keep], before_origin[keep]
        W = np.ones(len(Y))
    Xp = np.concatenate(x_pred)
    params: dict[str, Any] = {
        "objective": "l1",
        "n_estimators": opts.n_estimators,
        "learning_rate": opts.learning_rate,
        "num_leaves": opts.num_leaves,
        "min_child_samples": opts.min_child_samples,
        "subsample": 0.8,
        "subsample_freq": 1,
        "colsample_bytree": 0.8,
        "random_state": seed,
        "n_jobs": 1,
        "verbose": -1,
        "deterministic": True,
        "force_row_wise": True,
    }
    if len(Y) < 50:  # too little to learn from: fall back to the weekday mean of the last weeks
        results = [naive_forecast(task, horizon, "weekday_mean4") for task in tasks]
        return results, json.dumps({"model": "lightgbm", "fallback": "weekday_mean4"}).encode()

    def fit(rows: np.ndarray) -> Any:
        model = lgb.LGBMRegressor(**params)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            model.fit(X[rows], Y[rows], sample_weight=W[rows])
        return model

    model = fit(np.ones(len(Y), dtype=bool))
    point = np.asarray(model.predict(Xp), dtype=np.float64)
    # intervals: a second fit on the history before the last `holdout` steps, scored on those steps
    seen = before_origin >= holdout
    scored = (before_origin < holdout) & (before_origin >= 0)
    residuals = np.zeros(0)
    residual_h = np.zeros(0, dtype=np.int64)
    if seen.sum() >= 50 and scored.sum() >= 20:
        early = fit(seen)
        residuals = Y[scored] - np.asarray(early.predict(X[scored]), dtype=np.float64)
        residual_h = Hs[scored]
    else:  # too short for a holdout: the in-sample errors, which understate the spread
        residuals = Y - np.asarray(model.predict(X), dtype=np.float64)
        residual_h = Hs
    shifts = np.zeros((horizon, len(QUANTILES)))
    for h in range(1, horizon + 1):
        near = np.abs(residual_h - h) <= 2  # neighbouring horizons pooled: a few hundred residuals each
        pool = residuals[near] if near.sum() >= 20 else residuals
        shifts[h - 1] = np.quantile(pool, QUANTILES) - np.quantile(pool, 0.5)
    results = []
    offset = 0
    for scale in scale_pred:
        sl = slice(offset, offset + horizon)
        offset += horizon
        qs = {q: (point[sl] + shifts[:, j]) * scale for j, q in enumerate(QUANTILES)}
        results.append((point[sl] * scale, qs))
    artifact = {
        "model": "lightgbm",
        "features": int(X.shape[1]),
        "booster": model.booster_.model_to_string(),
        "interval_shifts": shifts.tolist(),
    }
    return results, json.dumps(artifact).encode()
