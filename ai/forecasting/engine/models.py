"""Every forecasting model behind one call: fit on the history up to an origin, forecast the next days.

`fit_forecast(series, model)` returns one Forecast per series and the bytes to keep as the model artifact
(a torch state dict for the recurrent models, JSON parameters otherwise). Models that learn across series
(lightgbm, gru, lstm) are trained once on all the series given (a global model); the classical baselines are
fitted per series. Quantiles never cross and never go below zero (counts).

"ensemble" is the average of the GRU, LSTM and LightGBM forecasts (each quantile averaged): the networks and
the trees err on different days, and on the UIHC series the average beat every single model
(docs/forecasting.md). It counts as a network model: it needs the networks' history and meets the same
promotion rule.
"""

from __future__ import annotations

import io
import json
import time
from collections.abc import Sequence
from dataclasses import asdict
from datetime import date
from typing import Any

import numpy as np

from .baselines import LgbOptions, Task, lightgbm_fit_predict, naive_forecast, statsforecast_forecast
from .calendar import HolidayCalendar, resolve
from .features import add_steps
from .types import QUANTILES, Forecast, Series

BASELINES = ("seasonal_naive", "weekday_mean4", "auto_ets", "auto_theta", "lightgbm")
CELLS = ("gru", "lstm")  # the recurrent networks proper
ENSEMBLE_PARTS = ("gru", "lstm", "lightgbm")
RECURRENT = (*CELLS, "ensemble")  # models with networks: seeds, MIN_HISTORY, the promotion rule
MODEL_NAMES = BASELINES + RECURRENT
MIN_HISTORY_DAYS = 60  # below this a series gets baselines only
MIN_HISTORY_MONTHS = 24  # the same rule for monthly series (two seasons)

LABELS = {
    "seasonal_naive": "Seasonal naive (same day last week)",
    "weekday_mean4": "Mean of the last 4 same weekdays",
    "auto_ets": "AutoETS (exponential smoothing)",
    "auto_theta": "AutoTheta",
    "lightgbm": "LightGBM (lags and calendar)",
    "gru": "GRU (recurrent network)",
    "lstm": "LSTM (recurrent network)",
    "ensemble": "Ensemble (GRU + LSTM + LightGBM)",
}


def min_history(series: Series) -> int:
    return MIN_HISTORY_MONTHS if series.freq == "M" else MIN_HISTORY_DAYS


def _finish(task: Task, model: str, horizon: int, point: np.ndarray, quantiles: dict[float, np.ndarray]) -> Forecast:
    """Sorted, non-negative quantiles with the median as the point forecast's neighbour; dated."""
    stacked = np.stack([np.asarray(quantiles[q], dtype=np.float64) for q in QUANTILES])
    stacked = np.nan_to_num(stacked, nan=float(np.nanmean(point)) if np.isfinite(point).any() else 0.0)
    stacked = np.maximum(np.sort(stacked, axis=0), 0.0)
    mean = np.maximum(np.nan_to_num(np.asarray(point, dtype=np.float64)), 0.0)
    origin_day = task.series.dates[0] if task.origin < 0 else _date_at(task.series, task.origin)
    return Forecast(
        key=task.series.key,
        model=model,
        origin=origin_day,
        dates=[add_steps(origin_day, h, task.series.freq) for h in range(1, horizon + 1)],
        quantiles={q: stacked[i] for i, q in enumerate(QUANTILES)},
        mean=mean,
    )


def _date_at(series: Series, index: int) -> date:
    if index < len(series.dates):
        return series.dates[index]
    return add_steps(series.dates[-1], index - len(series.dates) + 1, series.freq)


def _tasks(series: Sequence[Series], origin_index: int | None, origin: date | None) -> list[Task]:
    tasks = []
    for s in series:
        if origin is not None:
            if origin not in s.dates:
                raise ValueError(f"series {s.key}: the origin {origin} is not one of its dates")
            idx = s.dates.index(origin)
        elif origin_index is None:
            idx = len(s.values) - 1
        else:
            idx = origin_index if origin_index >= 0 else len(s.values) + origin_index
        if not 0 <= idx < len(s.values):
            raise ValueError(f"series {s.key}: origin index {origin_index} is outside its {len(s.values)} values")
        tasks.append(Task(series=s, origin=idx))
    return tasks


def fit_forecast(
    series: list[Series],
    model: str,
    *,
    horizon: int = 14,
    seed: int = 0,
    seeds: int = 1,
    calendar: HolidayCalendar | str | None = None,
    origin_index: int | None = None,
    origin: date | None = None,
    options: dict[str, Any] | None = None,
    init: bytes | None = None,
) -> tuple[list[Forecast], bytes]:
    """Fit `model` on each series' values up to the origin and forecast the `horizon` steps after it.

    origin_index: position of the last value to use in every series (negative counts from the end; default
    the last value); `origin` (a date) instead picks the same day in every series. For the recurrent models
    `seeds` networks seeded seed, seed+1, ... are trained and their quantiles averaged (a seed ensemble), and
    `init` (a previous artifact of the same model) starts training from its weights, which takes fewer epochs.
    `options` tunes the model (e.g. {"epochs": 10} for the recurrent models; see recurrent.RecurrentOptions).
    """
    if model not in MODEL_NAMES:
        raise ValueError(f"unknown model {model!r}; choose from {', '.join(MODEL_NAMES)}")
    if not series:
        raise ValueError("no series to forecast")
    cal = resolve(calendar) if not isinstance(calendar, HolidayCalendar) else calendar
    tasks = _tasks(series, origin_index, origin)
    forecasts, artifact, _info = fit_tasks(
        tasks, model, horizon=horizon, seed=seed, seeds=seeds, calendar=cal, options=options, init=init
    )
    return forecasts, artifact


def fit_tasks(
    tasks: list[Task],
    model: str,
    *,
    horizon: int,
    seed: int = 0,
    seeds: int = 1,
    calendar: HolidayCalendar,
    options: dict[str, Any] | None = None,
    init: bytes | None = None,
) -> tuple[list[Forecast], bytes, dict[str, Any]]:
    """fit_forecast on explicit (series, origin) pairs; also returns facts about the fit (seconds, members)."""
    started = time.perf_counter()
    info: dict[str, Any] = {}
    if model in ("seasonal_naive", "weekday_mean4"):
        results = [naive_forecast(task, horizon, model) for task in tasks]
        artifact = json.dumps({"model": model, "horizon": horizon}).encode()
    elif model in ("auto_ets", "auto_theta"):
        unknown = set(options or {}) - {"window"}
        if unknown:
            raise ValueError(f"unknown {model} option(s): {', '.join(sorted(unknown))}")
        window = (options or {}).get("window")
        results = [statsforecast_forecast(task, horizon, model, window=window) for task in tasks]
        artifact = json.dumps({"model": model, "horizon": horizon}).encode()
    elif model == "lightgbm":
        try:
            lgb_options = LgbOptions(**(options or {}))
        except TypeError as exc:
            raise ValueError(f"unknown lightgbm option: {exc}") from None
        results, artifact = lightgbm_fit_predict(tasks, horizon, calendar, seed=seed, options=lgb_options)
    elif model == "ensemble":
        return _ensemble_fit(tasks, horizon, seed, seeds, calendar, options, init, started)
    else:
        from .recurrent import recurrent_fit_predict

        results, artifact, info = recurrent_fit_predict(
            tasks, horizon, calendar, cell=model, seed=seed, seeds=seeds, options=options, init=init
        )
    info["seconds"] = time.perf_counter() - started
    forecasts = [_finish(task, model, horizon, point, qs) for task, (point, qs) in zip(tasks, results, strict=True)]
    return forecasts, artifact, info


def hyperparameters(model: str, options: dict[str, Any] | None) -> dict[str, Any]:
    """The options `model` is trained with: its defaults with `options` applied (for the model registry)."""
    if model in CELLS:
        from .recurrent import RecurrentOptions

        return asdict(RecurrentOptions.from_dict(options))
    if model == "lightgbm":
        return asdict(LgbOptions(**(options or {})))
    if model == "ensemble":
        return {part: hyperparameters(part, part_options) for part, part_options in ensemble_options(options).items()}
    return dict(options or {})


def ensemble_options(options: dict[str, Any] | None) -> dict[str, dict[str, Any] | None]:
    """The ensemble's options: {part: that part's options} for parts among ENSEMBLE_PARTS."""
    unknown = set(options or {}) - set(ENSEMBLE_PARTS)
    if unknown:
        raise ValueError(
            f"ensemble options are per part ({', '.join(ENSEMBLE_PARTS)}), not {', '.join(sorted(unknown))}"
        )
    return {part: (options or {}).get(part) for part in ENSEMBLE_PARTS}


def combine(parts: list[np.ndarray]) -> np.ndarray:
    """The ensemble of the parts' forecasts (points or quantiles, any shape): their plain average."""
    return np.mean(np.stack(parts), axis=0)


def _ensemble_fit(
    tasks: list[Task],
    horizon: int,
    seed: int,
    seeds: int,
    calendar: HolidayCalendar,
    options: dict[str, Any] | None,
    init: bytes | None,
    started: float,
) -> tuple[list[Forecast], bytes, dict[str, Any]]:
    """Fit every part and average their forecasts; the artifact holds each part's artifact."""
    per_part = ensemble_options(options)
    previous = _ensemble_parts(init) if init else {}
    fitted = {
        part: fit_tasks(
            tasks, part, horizon=horizon, seed=seed, seeds=seeds, calendar=calendar, options=per_part[part],
            init=previous.get(part),
        )
        for part in ENSEMBLE_PARTS
    }  # fmt: skip
    forecasts = []
    for i, task in enumerate(tasks):
        point = combine([fitted[part][0][i].mean for part in ENSEMBLE_PARTS])
        quantiles = {q: combine([fitted[part][0][i].quantiles[q] for part in ENSEMBLE_PARTS]) for q in QUANTILES}
        forecasts.append(_finish(task, "ensemble", horizon, point, quantiles))
    # one ensemble per seed: seed m of each network with the trees
    trees = [forecast.mean for forecast in fitted["lightgbm"][0]]
    members = [
        [combine([fitted["gru"][2]["members"][m][i], fitted["lstm"][2]["members"][m][i], trees[i]])
         for i in range(len(tasks))]
        for m in range(seeds)
    ]  # fmt: skip
    buffer = io.BytesIO()
    import torch

    torch.save({"model": "ensemble", "parts": {part: fitted[part][1] for part in ENSEMBLE_PARTS}}, buffer)
    return forecasts, buffer.getvalue(), {"members": members, "seconds": time.perf_counter() - started}


def _ensemble_parts(artifact: bytes) -> dict[str, bytes]:
    try:
        stored = load_artifact(artifact)
    except Exception:  # noqa: BLE001 - an unreadable artifact only means training from scratch
        return {}
    return dict(stored.get("parts", {})) if stored.get("model") == "ensemble" else {}


def load_artifact(artifact: bytes) -> dict[str, Any]:
    """What an artifact holds, for display and audit: the model, its options and, for networks, the weights.

    Artifacts are JSON (baselines, LightGBM's trees as text) or a torch archive of tensors and plain values
    (networks), so loading one never runs code.
    """
    if artifact[:2] == b"PK":  # a torch zip archive
        import torch

        return dict(torch.load(io.BytesIO(artifact), map_location="cpu", weights_only=True))
    return dict(json.loads(artifact.decode()))
