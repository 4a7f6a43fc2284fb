"""Rolling-origin backtest: how each model would have done, forecasting from weekly origins over the last year.

At each origin every model is fitted on the history up to that day only (an expanding window) and forecasts
the next `horizon` days, which are then compared with what happened. Calendar and known-ahead features of the
forecast days are allowed (they are known at the origin); observed values after the origin never are.

Scores per model and horizon: MAE, sMAPE, MASE (scaled by the in-sample MAE of the seasonal naive forecast up
to the origin), bias (forecast - actual) and the coverage of the 80% and 95% intervals. Recurrent networks are
trained with `seeds` seeds; the forecast scored is their average (the ensemble that would serve) and the
single seeds' spread is reported. A paired bootstrap over origins gives a 95% interval for each model's MAE
relative to the best baseline.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

import numpy as np

from . import metrics
from .baselines import Task
from .calendar import HolidayCalendar, resolve
from .features import add_steps, season_length
from .models import (
    BASELINES,
    ENSEMBLE_PARTS,
    LABELS,
    MIN_HISTORY_DAYS,
    MIN_HISTORY_MONTHS,
    MODEL_NAMES,
    RECURRENT,
    combine,
    fit_tasks,
    min_history,
)
from .pieces import Piece, PieceStore, piece_dumps, piece_key, piece_loads
from .types import QUANTILES, BacktestResult, ModelScore, Series

PROMOTION_MARGIN = 0.02  # a network serves only if the upper end of its interval is within +2% MAE
Progress = Callable[[str, float], None]


@dataclass
class _Collected:
    point: np.ndarray  # (origins, series, horizon), NaN where the case is not scored
    quantiles: np.ndarray  # (origins, series, horizon, len(QUANTILES))
    seconds: list[float]
    member_points: list[np.ndarray]  # recurrent: one point array per seed


def origin_dates(
    series: Sequence[Series], *, horizon: int, n_origins: int, step: int, last_origin: date | None = None
) -> list[date]:
    """The last origin leaves `horizon` observed steps after it (or is `last_origin`, when that is earlier);
    earlier ones go back `step` steps each."""
    freq = series[0].freq
    last = max(s.dates[-1] for s in series)
    final = add_steps(last, -horizon, freq)
    if last_origin is not None and last_origin < final:
        final = last_origin
    return sorted(add_steps(final, -step * k, freq) for k in range(n_origins))


def backtest(
    series: list[Series],
    *,
    horizon: int = 14,
    n_origins: int = 52,
    step: int = 7,
    models: Sequence[str] | None = None,
    seeds: int = 3,
    calendar: HolidayCalendar | str | None = None,
    progress: Progress | None = None,
    options: dict[str, dict[str, Any]] | None = None,
    warm_start: bool = False,
    bootstrap_resamples: int = 2000,
    last_origin: date | None = None,
    store: PieceStore | None = None,
) -> BacktestResult:
    """Score `models` (default all) on rolling origins; see the module docstring.

    step: steps between origins (days; months for monthly series). options: per-model options passed to
    fit_forecast (e.g. {"gru": {"epochs": 8}} for a cheap run). warm_start: a network at one origin starts
    from its weights at the previous origin (trained on less data, so nothing leaks) when its options also
    say warm_start; faster, but it lost accuracy in our measurements (docs/forecasting.md).
    Series shorter than MIN_HISTORY_DAYS get only the baselines (the result's notes say which).
    last_origin: the newest origin, when it should be earlier than the data allows (origins anchored to a
    weekday, so that next week's backtest shares all but one origin with this one). store: where the forecasts
    of each model at each origin are kept and looked up (ai.forecasting.engine.pieces): a piece whose inputs
    have not changed is reused instead of fitted again; details["pieces"] counts both.
    """
    if not series:
        raise ValueError("no series to backtest")
    freqs = {s.freq for s in series}
    if len(freqs) > 1:
        raise ValueError("all series must have the same frequency (daily or monthly)")
    chosen = list(models or MODEL_NAMES)
    unknown = [m for m in chosen if m not in MODEL_NAMES]
    if unknown:
        raise ValueError(f"unknown model(s) {', '.join(unknown)}; choose from {', '.join(MODEL_NAMES)}")
    chosen = [m for m in MODEL_NAMES if m in chosen]  # baselines first, in a fixed order
    cal = resolve(calendar) if not isinstance(calendar, HolidayCalendar) else calendar
    report = progress or (lambda message, fraction: None)
    options = options or {}

    origins = origin_dates(series, horizon=horizon, n_origins=n_origins, step=step, last_origin=last_origin)
    notes: list[str] = []
    short = {s.key: len(s.values) for s in series if len(s.values) < min_history(s)}
    unit = "months" if series[0].freq == "M" else "days"
    for key, length in short.items():
        named = unit.removesuffix("s") if length == 1 else unit
        notes.append(
            f"{key}: {length} {named} of history, under the {min_history(series[0])} needed for the networks: "
            f"baselines only"
        )
    positions = [{d: i for i, d in enumerate(s.dates)} for s in series]

    def eligible(s_index: int, origin: date, model: str) -> int | None:
        s = series[s_index]
        idx = positions[s_index].get(origin)
        if idx is None or idx + horizon >= len(s.values):
            return None
        if s.key in short:
            if model in RECURRENT or idx + 1 < 2 * season_length(s):
                return None
            return idx
        return idx if idx + 1 >= min_history(s) else None

    n_o, n_s = len(origins), len(series)
    actual = np.full((n_o, n_s, horizon), np.nan)
    scale = np.full((n_o, n_s), np.nan)
    for o, origin in enumerate(origins):
        for s_index, s in enumerate(series):
            idx = eligible(s_index, origin, BASELINES[0])
            if idx is not None:
                actual[o, s_index] = s.values[idx + 1 : idx + 1 + horizon]
                scale[o, s_index] = metrics.mase_scale(s.values[: idx + 1], season_length(s))
    if np.isnan(scale).all():
        raise ValueError(
            f"no origin can be scored: the series need at least {min_history(series[0])} {unit} of history "
            f"before the first origin plus {horizon} after the last"
        )

    collected: dict[str, _Collected] = {}
    total_steps = len(chosen) * n_o
    done = 0
    counts = {"reused": 0, "computed": 0}
    for model in chosen:
        col = _Collected(
            point=np.full((n_o, n_s, horizon), np.nan),
            quantiles=np.full((n_o, n_s, horizon, len(QUANTILES)), np.nan),
            seconds=[],
            member_points=[np.full((n_o, n_s, horizon), np.nan) for _ in range(seeds if model in RECURRENT else 0)],
        )
        if model == "ensemble" and options.get(model) is None and all(p in collected for p in ENSEMBLE_PARTS):
            # the average of its parts' backtest forecasts, which are the forecasts it would have made
            collected[model] = _ensemble_of(collected, col)
            done += n_o
            continue
        previous: bytes | None = None
        for o, origin in enumerate(origins):
            done += 1
            report(f"{LABELS[model]}: origin {origin.isoformat()} ({o + 1}/{n_o})", done / total_steps)
            picked = [(s_index, eligible(s_index, origin, model)) for s_index in range(n_s)]
            tasks = [(s_index, Task(series=series[s_index], origin=idx)) for s_index, idx in picked if idx is not None]
            if not tasks:
                continue
            n_members = len(col.member_points)
            piece_id: str | None = None
            if store is not None and not (warm_start and model in RECURRENT):
                piece_id = piece_key(
                    model, [t for _, t in tasks], horizon=horizon, seeds=n_members or 1, calendar=cal,
                    options=options.get(model),
                )  # fmt: skip
                payload = store.get(piece_id)
                if payload is not None:
                    _place(col, o, [s_index for s_index, _ in tasks], piece_loads(payload))
                    counts["reused"] += 1
                    continue
            forecasts, artifact, info = fit_tasks(
                [t for _, t in tasks],
                model,
                horizon=horizon,
                seed=0,
                seeds=seeds,
                calendar=cal,
                options=options.get(model),
                init=previous if warm_start else None,
            )
            if model in RECURRENT:
                previous = artifact
            col.seconds.append(info["seconds"])
            for (s_index, _task), forecast in zip(tasks, forecasts, strict=True):
                col.point[o, s_index] = forecast.mean
                col.quantiles[o, s_index] = np.stack([forecast.quantiles[q] for q in QUANTILES], axis=-1)
            for m, member in enumerate(info.get("members", [])[: len(col.member_points)]):
                for (s_index, _task), point in zip(tasks, member, strict=True):
                    col.member_points[m][o, s_index] = point
            if piece_id is not None and store is not None:
                rows = [s_index for s_index, _ in tasks]
                piece = Piece(
                    point=col.point[o, rows],
                    quantiles=col.quantiles[o, rows],
                    members=np.stack([p[o, rows] for p in col.member_points])
                    if n_members
                    else np.zeros((0, len(rows), horizon)),
                    seconds=float(info["seconds"]),
                )
                store.put(piece_id, model=model, origin=origin, payload=piece_dumps(piece))
                counts["computed"] += 1
        if np.isnan(col.point).all():
            notes.append(
                f"{model}: nothing to score, no series has {min_history(series[0])} {unit} of history before an origin"
            )
            continue
        collected[model] = col
    chosen = [m for m in chosen if m in collected]
    if not chosen:
        raise ValueError(
            f"no origin can be scored: the networks need at least {min_history(series[0])} {unit} of history "
            f"before an origin, plus {horizon} after it"
        )
    report("scoring", 1.0)
    result = _score(
        series, origins, horizon, chosen, collected, actual, scale, notes, short, seeds, bootstrap_resamples
    )
    if store is not None:
        result.details["pieces"] = counts
    return result


def _ensemble_of(collected: dict[str, _Collected], col: _Collected) -> _Collected:
    """The ensemble's backtest from its parts': averaged forecasts and quantiles (NaN where a part has none), one
    ensemble per seed, and the parts' fitting time added up."""
    parts = [collected[p] for p in ENSEMBLE_PARTS]
    col.point = combine([p.point for p in parts])
    col.quantiles = combine([p.quantiles for p in parts])
    trees = collected["lightgbm"].point
    networks = [collected[p] for p in ENSEMBLE_PARTS if p != "lightgbm"]
    col.member_points = [
        combine([*(n.member_points[m] for n in networks), trees]) for m in range(len(col.member_points))
    ]
    col.seconds = [sum(float(np.mean(p.seconds)) if p.seconds else 0.0 for p in parts)]
    return col


def _place(col: _Collected, o: int, rows: list[int], piece: Piece) -> None:
    """A stored piece's forecasts into origin `o` of the collected arrays."""
    col.seconds.append(piece.seconds)
    col.point[o, rows] = piece.point
    col.quantiles[o, rows] = piece.quantiles
    for m, member in enumerate(col.member_points):
        member[o, rows] = piece.members[m]


def _score(
    series: list[Series],
    origins: list[date],
    horizon: int,
    chosen: list[str],
    collected: dict[str, _Collected],
    actual: np.ndarray,
    scale: np.ndarray,
    notes: list[str],
    short: dict[str, int],
    seeds: int,
    bootstrap_resamples: int,
) -> BacktestResult:
    q_index = {q: i for i, q in enumerate(QUANTILES)}
    scores: dict[str, ModelScore] = {}
    abs_errors: dict[str, np.ndarray] = {}
    for model in chosen:
        col = collected[model]
        err = col.point - actual
        abs_err = np.abs(err)
        abs_errors[model] = abs_err
        scaled = abs_err / scale[:, :, None]
        sm = metrics.smape_terms(np.nan_to_num(actual), np.nan_to_num(col.point))
        sm = np.where(np.isnan(err), np.nan, sm)
        lo80, hi80 = col.quantiles[..., q_index[0.1]], col.quantiles[..., q_index[0.9]]
        lo95, hi95 = col.quantiles[..., q_index[0.025]], col.quantiles[..., q_index[0.975]]
        inside80 = np.where(np.isnan(err), np.nan, (actual >= lo80) & (actual <= hi80))
        inside95 = np.where(np.isnan(err), np.nan, (actual >= lo95) & (actual <= hi95))

        def per_h(values: np.ndarray) -> list[float]:
            with np.errstate(all="ignore"):
                return [float(np.nanmean(values[:, :, h])) for h in range(horizon)]

        extra: dict[str, Any] = {
            "cases": int(np.sum(~np.isnan(err[:, :, 0]))),
            "smape_overall": float(np.nanmean(sm)),
            "bias_overall": float(np.nanmean(err)),
            "coverage80_overall": float(100 * np.nanmean(inside80)),
            "coverage95_overall": float(100 * np.nanmean(inside95)),
            "train_seconds_total": float(np.sum(col.seconds)),
        }
        if col.member_points:
            seed_mae = [float(np.nanmean(np.abs(p - actual))) for p in col.member_points]
            extra["seed_mae"] = seed_mae
            extra["seed_mae_sd"] = float(np.std(seed_mae, ddof=1)) if len(seed_mae) > 1 else 0.0
            extra["seeds"] = len(seed_mae)
        scores[model] = ModelScore(
            model=model,
            horizons=list(range(1, horizon + 1)),
            mae=per_h(abs_err),
            smape=per_h(sm),
            mase=per_h(scaled),
            bias=per_h(err),
            coverage80=[100 * v for v in per_h(inside80)],
            coverage95=[100 * v for v in per_h(inside95)],
            mae_overall=float(np.nanmean(abs_err)),
            mase_overall=float(np.nanmean(scaled)),
            train_seconds=float(np.mean(col.seconds)) if col.seconds else 0.0,
            extra=extra,
        )

    baselines_run = [m for m in chosen if m in BASELINES]
    pool = baselines_run or chosen
    best = min(pool, key=lambda m: scores[m].mae_overall)
    bootstrap: dict[str, tuple[float, float]] = {}
    for model in chosen:
        if model == best:
            continue
        a = abs_errors[model]
        b = abs_errors[best]
        both = ~(np.isnan(a) | np.isnan(b))
        if not both.any():
            continue
        a = np.where(both, a, np.nan).reshape(len(origins), -1)
        b = np.where(both, b, np.nan).reshape(len(origins), -1)
        keep = ~np.all(np.isnan(a), axis=1)
        estimate, low, high = metrics.paired_bootstrap(a[keep], b[keep], n_resamples=bootstrap_resamples, seed=0)
        bootstrap[model] = (low, high)
        scores[model].extra["relative_to_best"] = estimate

    result = BacktestResult(
        origins=origins,
        horizon=horizon,
        scores=scores,
        best_baseline=best,
        bootstrap_vs_best=bootstrap,
        winner="",
        reason="",
        notes=notes,
    )
    result.details = {
        "keys": [s.key for s in series],
        "short": dict(short),
        "freq": series[0].freq,
        "seeds": seeds,
        "points": {m: collected[m].point for m in chosen},
        "quantiles": {m: collected[m].quantiles for m in chosen},
        "actual": actual,
    }
    result.winner, result.reason = choose_model(result)
    return result


def _fmt(value: float) -> str:
    return f"{value:.1f}" if abs(value) >= 1 else f"{value:.2f}"


def choose_model(result: BacktestResult) -> tuple[str, str]:
    """The model that should serve, and why, in words a bed manager reads.

    The model with the lowest MAE serves, except that a recurrent network is promoted only when the upper end
    of the 95% bootstrap interval of its MAE difference is within +2% of the best baseline's MAE; otherwise the
    best baseline serves.
    """
    scores = result.scores
    best = result.best_baseline
    base = scores[best]
    n = len(result.origins)
    monthly = (result.details or {}).get("freq") == "M"
    frame = f"over {n} past forecasts of {result.horizon} {'months' if monthly else 'days'} each"
    per = "a month" if monthly else "a day"
    ranked = sorted(scores, key=lambda m: scores[m].mae_overall)
    top = ranked[0]
    if top == best or top not in RECURRENT:
        if top != best:  # a baseline that is not the best baseline cannot be on top; kept for safety
            best = top
            base = scores[top]
        runners = [m for m in ranked if m != best]
        reason = (
            f"{LABELS[best]} serves: {frame} it was off by {_fmt(base.mae_overall)} {per} on average, "
            f"the lowest of the models compared"
        )
        if runners:
            second = runners[0]
            reason += f" (next: {LABELS[second]}, {_fmt(scores[second].mae_overall)})"
        networks = [m for m in RECURRENT if m in scores]
        if networks:
            net = min(networks, key=lambda m: scores[m].mae_overall)
            gap = scores[net].mae_overall / base.mae_overall - 1
            reason += (
                f"; the best network, {LABELS[net]}, was {abs(gap) * 100:.0f}% {'worse' if gap >= 0 else 'better'}"
            )
        return best, reason + "."
    low, high = result.bootstrap_vs_best.get(top, (float("nan"), float("nan")))
    gap = scores[top].mae_overall / base.mae_overall - 1
    interval = f"95% interval {_pct(low)} to {_pct(high)}"
    if np.isfinite(high) and high <= PROMOTION_MARGIN:
        return top, (
            f"{LABELS[top]} serves: {frame} it was off by {_fmt(scores[top].mae_overall)} {per} on average, "
            f"against {_fmt(base.mae_overall)} for the best classical method, {LABELS[best]} "
            f"({abs(gap) * 100:.0f}% {'lower' if gap < 0 else 'higher'}; {interval}), which is within the "
            f"+{PROMOTION_MARGIN * 100:.0f}% a network must meet to be trusted."
        )
    return best, (
        f"{LABELS[best]} serves: {LABELS[top]} had a slightly lower average error {frame} "
        f"({_fmt(scores[top].mae_overall)} against {_fmt(base.mae_overall)} {per}), but the difference could be "
        f"chance ({interval}); a network is only put in use when it is at most "
        f"{PROMOTION_MARGIN * 100:.0f}% worse even at the upper end of that interval."
    )


def _pct(value: float) -> str:
    if not np.isfinite(value):
        return "n/a"
    return f"{value * 100:+.1f}%"


def series_model(result: BacktestResult, key: str) -> tuple[str, str]:
    """The model for one series: the overall choice, or the best baseline for a series too short for networks."""
    details = result.details
    short = details.get("short", {})
    winner, reason = choose_model(result)
    if key in short and winner in RECURRENT:
        unit = "months" if details.get("freq") == "M" else "days"
        return result.best_baseline, (
            f"{LABELS[result.best_baseline]} serves for {key}: it has only {short[key]} {unit} of history, under "
            f"the {MIN_HISTORY_MONTHS if details.get('freq') == 'M' else MIN_HISTORY_DAYS} the networks need."
        )
    return winner, reason
