"""Writes of forecasting: the nightly job (backtest, train, forecast, plan), the model registry, run requests.

The engine (torch, statsforecast, lightgbm) is imported inside the job's code path only, so a web process
that asks for a run never loads it.
"""

from __future__ import annotations

import hashlib
import logging
import math
import time
import traceback
from dataclasses import asdict, dataclass, field
from datetime import date, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Max
from django.utils import timezone

from ai.forecasting import conf
from ai.forecasting.models import BacktestPiece, BedPlanEntry, ForecastModel, ForecastRun, WardForecast
from ai.forecasting.plan import PlanCosts, PlanWard, recommendation_detail, solve_day
from hospital.core.models import User

if TYPE_CHECKING:
    import numpy as np

    from ai.forecasting.engine.types import BacktestResult, Forecast
    from ai.forecasting.training_data import WardHistory

logger = logging.getLogger(__name__)

NIGHTLY_TASK = "ai.forecasting.tasks.forecast_nightly_task"
REGISTRY_LOCK = 7_405_101  # pg_advisory_xact_lock key: model versions are handed out one at a time
OPTION_KEYS = {"origins": int, "seeds": int, "models": list, "history_days": int, "backtest": bool}

ORIGIN_WEEKDAY = 6  # weekly backtest origins fall on Sundays, so a week later all but one are shared
PIECE_KEEP_DAYS = 60  # backtest pieces unused this long are deleted
# Progress (percent) at the start of each stage.
STAGE_PROGRESS = {"data": 2, "backtest": 10, "train": 70, "forecast": 85, "plan": 92, "done": 100}


class TrainingFailed(Exception):
    """The winner's training raised: the previous model keeps serving."""


def forecast_options_clean(options: dict[str, Any] | None) -> dict[str, Any]:
    """Only the known option keys, with the right types (tasks receive JSON)."""
    cleaned: dict[str, Any] = {}
    for key, kind in OPTION_KEYS.items():
        value = (options or {}).get(key)
        if value is None:
            continue
        if kind is list:
            cleaned[key] = [str(item) for item in value]
        elif kind is bool:
            cleaned[key] = value if isinstance(value, bool) else str(value).lower() in ("1", "true", "yes")
        else:
            cleaned[key] = kind(value)
    return cleaned


def today() -> date:
    return timezone.localdate(timezone=timezone.get_default_timezone())


@transaction.atomic
def forecast_run_request(
    *, night: date | None = None, requested_by: User | None = None, options: dict[str, Any] | None = None
) -> tuple[ForecastRun, bool]:
    """Queue the nightly job for `night` (default today) unless that night already ran or is running.

    Returns (run, queued). Guarantees: one run row per night; a succeeded night is never queued again
    (the job is idempotent per date), nor one already queued or running (unless silent for longer than a run
    may take: its worker was lost); a failed night is queued again; the task is enqueued on commit.
    """
    night = night or today()
    run, _created = ForecastRun.objects.select_for_update().get_or_create(
        night=night, defaults={"requested_by": requested_by, "options": forecast_options_clean(options)}
    )
    if run.status == ForecastRun.Status.SUCCEEDED:
        return run, False
    waiting = (ForecastRun.Status.QUEUED, ForecastRun.Status.RUNNING)
    if not _created and run.status in waiting and not _stale(run):
        return run, False
    run.status, run.stage, run.progress = ForecastRun.Status.QUEUED, ForecastRun.Stage.QUEUED, 0
    run.requested_by = requested_by or run.requested_by
    if options is not None:
        run.options = forecast_options_clean(options)
    run.save()
    night_iso, run_options = night.isoformat(), run.options
    transaction.on_commit(lambda: _enqueue(night_iso, run_options))
    return run, True


def _enqueue(night_iso: str, options: dict[str, Any]) -> None:
    from hospital.celery import app

    app.send_task(NIGHTLY_TASK, args=[night_iso], kwargs={"options": options})


def _stale(run: ForecastRun) -> bool:
    # A running job bumps updated_at with its progress; one silent for longer than the task may run is dead.
    return run.updated_at < timezone.now() - timedelta(seconds=conf.run_soft_time_limit() + 120)


def _claim(night: date, options: dict[str, Any]) -> ForecastRun | None:
    """Mark the night's run as running (creating it), or None when it succeeded or another worker runs it."""
    with transaction.atomic():
        run, created = ForecastRun.objects.select_for_update().get_or_create(night=night, defaults={"options": options})
        if run.status == ForecastRun.Status.SUCCEEDED:
            return None
        if run.status == ForecastRun.Status.RUNNING and not _stale(run):
            return None
        run.status, run.stage, run.progress = ForecastRun.Status.RUNNING, ForecastRun.Stage.DATA, 0
        run.started_at, run.finished_at, run.duration_seconds = timezone.now(), None, None
        run.stage_seconds, run.notes, run.error = {}, [], ""
        run.attempts += 1
        if options and not run.options:
            run.options = options
        run.save()
        return run


@dataclass
class _Progress:
    """Writes stage and percent to the run row in its own statement (committed at once under autocommit)."""

    run: ForecastRun
    stage: str = "data"
    started: float = field(default_factory=time.monotonic)
    stage_started: float = field(default_factory=time.monotonic)
    seconds: dict[str, float] = field(default_factory=dict)
    last_percent: int = -1

    def enter(self, stage: str) -> None:
        now = time.monotonic()
        self.seconds[self.stage] = round(self.seconds.get(self.stage, 0.0) + now - self.stage_started, 3)
        self.stage, self.stage_started = stage, now
        self.set(STAGE_PROGRESS[stage], force=True)

    def within(self, fraction: float) -> None:
        """Progress inside the current stage (0..1), between its start and the next stage's."""
        stages = list(STAGE_PROGRESS)
        low = STAGE_PROGRESS[self.stage]
        high = STAGE_PROGRESS[stages[min(stages.index(self.stage) + 1, len(stages) - 1)]]
        self.set(int(low + (high - low) * min(max(fraction, 0.0), 1.0)))

    def set(self, percent: int, *, force: bool = False) -> None:
        percent = min(percent, 99 if self.stage != "done" else 100)
        if percent == self.last_percent and not force:
            return
        self.last_percent = percent
        ForecastRun.objects.filter(pk=self.run.pk).update(
            stage=self.stage, progress=percent, stage_seconds=self.seconds, updated_at=timezone.now()
        )


@dataclass
class _Outcome:
    """What the job computed, written in one transaction at the end."""

    # (ward, forecast, (history days, minimum) when a baseline stands in for a short history)
    forecasts: list[tuple[WardHistory, Forecast, tuple[int, int] | None]] = field(default_factory=list)
    trained: dict[str, Any] | None = None  # the new serving model's registry fields
    failed: dict[str, Any] | None = None  # a failed training's registry fields
    served_by: ForecastModel | None = None  # previous serving model, when training failed
    notes: list[dict[str, Any]] = field(default_factory=list)  # codes with their numbers (ForecastRun.notes)


def forecast_nightly_run(*, night: date, options: dict[str, Any] | None = None) -> ForecastRun:
    """Run the night's job: read the history up to the day before `night`, backtest the candidates, train the
    winner, write every ward's forecast for the next days and the bed plan. Returns the run row.

    Guarantees: idempotent per night (a succeeded night returns at once and changes nothing; a night running
    elsewhere is left alone); progress and stage are recorded as it goes; forecasts, plan and registry
    change commit together; a failed training is recorded in the registry and leaves the previous model
    serving (its forecasts then come from that model); any other failure marks the run failed with the error
    and writes nothing else.
    """
    options = forecast_options_clean(options)
    run = _claim(night, options)
    if run is None:
        return ForecastRun.objects.get(night=night)
    progress = _Progress(run)
    try:
        outcome = _compute(run, night, {**options, **run.options}, progress)
        rows = _forecast_rows(run, outcome)
        progress.enter("plan")
        entries = _plan_entries(run, rows)
        _commit(run, night, outcome, rows, entries, progress)
    except Exception as exc:
        logger.exception("forecast run %s failed", night)
        ForecastRun.objects.filter(pk=run.pk).update(
            status=ForecastRun.Status.FAILED,
            error=f"{type(exc).__name__}: {exc}"[:4000],
            finished_at=timezone.now(),
            duration_seconds=round(time.monotonic() - progress.started, 3),
            stage_seconds=progress.seconds,
            updated_at=timezone.now(),
        )
    run.refresh_from_db()
    return run


def _compute(run: ForecastRun, night: date, options: dict[str, Any], progress: _Progress) -> _Outcome:
    from ai.forecasting.engine import calendar as engine_calendar
    from ai.forecasting.engine.backtest import backtest, choose_model
    from ai.forecasting.engine.models import MIN_HISTORY_DAYS, hyperparameters
    from ai.forecasting.training_data import ward_histories

    horizon = conf.horizon()
    seeds = options.get("seeds", conf.backtest_seeds())
    model_options = conf.model_options()
    calendar = engine_calendar.resolve(conf.calendar_name())
    outcome = _Outcome()

    progress.enter("data")
    histories = ward_histories(
        until=night - timedelta(days=1), horizon=horizon, history_days=options.get("history_days")
    )
    for history in histories:
        if history.days == 0:
            outcome.notes.append({"code": "no_history", "ward": history.ward.code})
    with_history = [history for history in histories if history.days > 0]
    eligible = [history for history in with_history if history.days >= MIN_HISTORY_DAYS]
    short = [history for history in with_history if history.days < MIN_HISTORY_DAYS]

    maes: dict[str, float] = {}  # each candidate's backtest MAE, for the short wards' baseline
    if eligible:
        serving = _serving()
        if _backtest_is_recent(serving, night, eligible, options):
            # A recent backtest over the same wards still holds: retrain its winner on the newest data.
            assert serving is not None and serving.backtest_night is not None
            winner = serving.model_name
            registry = _registry_fields_reused(serving, eligible)
            maes = {name: float(score["mae_overall"]) for name, score in serving.metrics.items()}
            best_baseline = serving.best_baseline
            outcome.notes.append({"code": "backtest_reused", "night": serving.backtest_night.isoformat()})
        else:
            progress.enter("backtest")
            store = _PieceStore()
            # Every ward with history takes part: the short ones are scored on the baselines only.
            result = backtest(
                [history.series for history in with_history],
                horizon=horizon,
                n_origins=options.get("origins", conf.backtest_origins()),
                step=conf.backtest_step(),
                models=options.get("models") or conf.candidate_models(),
                seeds=seeds,
                calendar=calendar,
                progress=lambda _message, fraction: progress.within(fraction),
                options=model_options,
                last_origin=_last_origin(night - timedelta(days=1), horizon, conf.backtest_step()),
                store=store,
            )
            store.finish()
            outcome.notes.append({"code": "backtest_pieces", **result.details["pieces"]})
            winner, reason = choose_model(result)
            registry = _registry_fields(result, winner, reason, eligible, horizon, seeds, calendar, night)
            registry["hyperparameters"]["options"] = hyperparameters(winner, _options_for(winner, model_options))
            maes = {name: score.mae_overall for name, score in result.scores.items()}
            best_baseline = result.best_baseline

        progress.enter("train")
        training_started = time.monotonic()
        try:
            forecasts, artifact = _train(
                eligible, winner, horizon, seeds, calendar, _options_for(winner, model_options), _warm_start(winner)
            )
        except Exception as exc:
            logger.exception("forecast training of %s failed", winner)
            outcome.failed = {**registry, "error": f"{type(exc).__name__}: {exc}\n{traceback.format_exc()}"[:8000]}
            forecasts, served_by = _forecast_with_serving(eligible, best_baseline, horizon, calendar, model_options)
            outcome.served_by = served_by
            outcome.notes.append(
                {
                    "code": "training_failed",
                    "model": winner,
                    "version": served_by.version if served_by else None,
                    "serving": served_by.model_name if served_by else None,
                    "baseline": forecasts[0].model,
                }
            )
        else:
            trained_in = round(time.monotonic() - training_started, 3)
            outcome.trained = {**registry, **_artifact_save(artifact, night, winner), "train_seconds": trained_in}
        by_key = {forecast.key: forecast for forecast in forecasts}
        outcome.forecasts.extend((history, by_key[history.series.key], None) for history in eligible)

    progress.enter("forecast")
    for history in short:
        model, forecast = _short_history_forecast(history, maes, horizon, calendar)
        outcome.forecasts.append((history, forecast, (history.days, MIN_HISTORY_DAYS)))
        outcome.notes.append(
            {"code": "short_history", "ward": history.ward.code, "days": history.days, "minimum": MIN_HISTORY_DAYS,
             "model": model}
        )  # fmt: skip
    return outcome


def _options_for(model: str, model_options: dict[str, Any]) -> dict[str, Any] | None:
    """A model's FORECAST_MODEL_OPTIONS; the ensemble, unless given its own, takes its parts' (as its backtest
    did, which averaged the parts' backtest forecasts)."""
    from ai.forecasting.engine.models import ENSEMBLE_PARTS

    if model == "ensemble" and model not in model_options:
        return {part: model_options[part] for part in ENSEMBLE_PARTS if part in model_options} or None
    return model_options.get(model)


def _last_origin(until: date, horizon: int, step: int) -> date | None:
    """The newest backtest origin: the last ORIGIN_WEEKDAY that leaves `horizon` observed days after it (weekly
    steps only), so that backtests a week apart share all origins but the newest and reuse their pieces."""
    latest = until - timedelta(days=horizon)
    if step % 7:
        return None
    return latest - timedelta(days=(latest.weekday() - ORIGIN_WEEKDAY) % 7)


class _PieceStore:
    """Backtest pieces in the database (BacktestPiece), each saved as soon as it is computed."""

    def __init__(self) -> None:
        self.used: list[str] = []

    def get(self, key: str) -> bytes | None:
        payload = BacktestPiece.objects.filter(key=key).values_list("payload", flat=True).first()
        if payload is None:
            return None
        self.used.append(key)
        return bytes(payload)

    def put(self, key: str, *, model: str, origin: date, payload: bytes) -> None:
        BacktestPiece.objects.update_or_create(
            key=key, defaults={"model_name": model, "origin": origin, "payload": payload, "used_at": timezone.now()}
        )

    def finish(self) -> None:
        """Mark the reused pieces as used; delete those nobody used for PIECE_KEEP_DAYS."""
        now = timezone.now()
        BacktestPiece.objects.filter(key__in=self.used).update(used_at=now)
        BacktestPiece.objects.filter(used_at__lt=now - timedelta(days=PIECE_KEEP_DAYS)).delete()


# Baselines fitted on one series alone (LightGBM learns across wards and needs their history).
PER_SERIES_BASELINES = ("seasonal_naive", "weekday_mean4", "auto_ets", "auto_theta")


def _short_history_forecast(history: WardHistory, maes: dict[str, float], horizon: int, calendar):
    """A ward with too little history: the per-ward baseline that did best in the backtest (the same day last
    week when there was none), falling back to the same day last week if it cannot fit."""
    scored = [name for name in PER_SERIES_BASELINES if name in maes]
    candidates = sorted(scored, key=lambda name: maes[name])[:1]
    for model in [*candidates, "seasonal_naive"]:
        try:
            forecasts, _artifact = _fit_models([history.series], model, horizon, 1, calendar)
        except Exception:  # e.g. a few days are too few for ETS
            if model == "seasonal_naive":
                raise
            logger.warning("baseline %s failed for %s; using seasonal naive", model, history.ward.code)
            continue
        return model, forecasts[0]
    raise RuntimeError("unreachable")


def _fit_models(series: list, model: str, horizon: int, seeds: int, calendar, options=None, init=None):
    from ai.forecasting.engine.models import fit_forecast

    return fit_forecast(
        series, model, horizon=horizon, seed=0, seeds=seeds, calendar=calendar, options=options, init=init
    )


def _train(
    eligible: list[WardHistory], model: str, horizon: int, seeds: int, calendar, options=None, init=None
) -> tuple[list[Forecast], bytes]:
    """Train `model` on every eligible ward (a global model for those that learn across wards) and forecast."""
    return _fit_models([history.series for history in eligible], model, horizon, seeds, calendar, options, init)


def _serving() -> ForecastModel | None:
    return ForecastModel.objects.filter(scope=ForecastModel.Scope.GLOBAL, status=ForecastModel.Status.SERVING).first()


def _backtest_is_recent(
    serving: ForecastModel | None, night: date, eligible: list[WardHistory], options: dict[str, Any]
) -> bool:
    """Whether the serving model's backtest may stand for tonight: it is younger than FORECAST_BACKTEST_EVERY_DAYS,
    over the same wards, tonight does not ask for one (option "backtest"), and its winner is still a candidate."""
    if options.get("backtest") or serving is None or serving.backtest_night is None:
        return False
    candidates = options.get("models") or conf.candidate_models()
    return (
        0 <= (night - serving.backtest_night).days < conf.backtest_every_days()
        and sorted(serving.series_keys) == sorted(history.series.key for history in eligible)
        and (candidates is None or serving.model_name in candidates)
    )


def _warm_start(model: str) -> bytes | None:
    """The serving model's file when it is the same kind and intact: training continues from its weights."""
    serving = _serving()
    if serving is None or serving.model_name != model:
        return None
    try:
        data = artifact_full_path(serving).read_bytes()
    except OSError:
        return None
    return data if hashlib.sha256(data).hexdigest() == serving.artifact_sha256 else None


def _forecast_with_serving(
    eligible: list[WardHistory], best_baseline: str, horizon: int, calendar, model_options: dict[str, Any]
) -> tuple[list[Forecast], ForecastModel | None]:
    """After a failed training: forecasts from the serving model (continuing from its file), else from the best
    baseline of the backtest. Returns the forecasts and the serving model row when it made them."""
    serving = _serving()
    candidates = ([serving.model_name] if serving else []) + [best_baseline, "seasonal_naive"]
    last_error: Exception | None = None
    for name in dict.fromkeys(candidates):
        init = _warm_start(name) if serving and name == serving.model_name else None
        try:
            forecasts, _artifact = _train(eligible, name, horizon, 1, calendar, _options_for(name, model_options), init)
        except Exception as exc:  # the serving kind may fail the same way: fall back to a baseline
            last_error = exc
            continue
        return forecasts, serving if serving and serving.model_name == name else None
    raise RuntimeError(f"no model could forecast after the training failed: {last_error}")


def _score_json(score) -> dict[str, Any]:
    data = asdict(score)
    extra = data.pop("extra", {}) or {}
    data.pop("model", None)
    return {**data, **{key: value for key, value in extra.items() if _jsonable(value)}}


def _jsonable(value) -> bool:
    return isinstance(value, str | int | float | bool | list | dict | type(None))


def _registry_fields(
    result: BacktestResult,
    winner: str,
    reason: str,
    eligible: list[WardHistory],
    horizon: int,
    seeds: int,
    calendar,
    night: date,
) -> dict[str, Any]:
    winner_score = result.scores.get(winner)
    hyper = dict((winner_score.extra or {}).get("hyperparameters", {})) if winner_score else {}
    known = sorted({name for history in eligible for name in history.series.known})
    hyper.update(horizon=horizon, seeds=seeds, calendar=str(getattr(calendar, "label", "") or calendar), known=known)
    return {
        "model_name": winner,
        "window_start": min(history.series.dates[0] for history in eligible),
        "window_end": max(history.series.dates[-1] for history in eligible),
        "horizon": horizon,
        "series_keys": [history.series.key for history in eligible],
        "hyperparameters": hyper,
        "backtest_origins": [origin.isoformat() for origin in result.origins],
        "metrics": {name: _score_json(score) for name, score in result.scores.items()},
        "bootstrap": {name: [float(low), float(high)] for name, (low, high) in result.bootstrap_vs_best.items()},
        "best_baseline": result.best_baseline,
        "reason": reason,
        "backtest_night": night,
    }


def _registry_fields_reused(serving: ForecastModel, eligible: list[WardHistory]) -> dict[str, Any]:
    """The serving model's backtest figures for its retrained successor, with the new training window."""
    return {
        "model_name": serving.model_name,
        "window_start": min(history.series.dates[0] for history in eligible),
        "window_end": max(history.series.dates[-1] for history in eligible),
        "horizon": serving.horizon,
        "series_keys": [history.series.key for history in eligible],
        "hyperparameters": serving.hyperparameters,
        "backtest_origins": serving.backtest_origins,
        "metrics": serving.metrics,
        "bootstrap": serving.bootstrap,
        "best_baseline": serving.best_baseline,
        "reason": serving.reason,
        "backtest_night": serving.backtest_night,
    }


def _artifact_save(artifact: bytes, night: date, model: str) -> dict[str, Any]:
    """Write the model file (named by night, model and content hash, so a rerun rewrites the same file)."""
    digest = hashlib.sha256(artifact).hexdigest()
    directory = conf.artifact_dir()
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / f"{night.isoformat()}-{model}-{digest[:16]}.bin"
    temporary = path.with_suffix(".part")
    temporary.write_bytes(artifact)
    temporary.replace(path)
    var_dir = Path(settings.VAR_DIR).resolve()
    stored = path.resolve()
    relative = str(stored.relative_to(var_dir)) if stored.is_relative_to(var_dir) else str(stored)
    return {"artifact_path": relative, "artifact_sha256": digest, "artifact_size": len(artifact)}


def artifact_full_path(model: ForecastModel) -> Path:
    path = Path(model.artifact_path)
    return path if path.is_absolute() else Path(settings.VAR_DIR) / path


def _next_version() -> int:
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_xact_lock(%s)", [REGISTRY_LOCK])
    return (ForecastModel.objects.aggregate(top=Max("version"))["top"] or 0) + 1


def model_register(*, run: ForecastRun | None, fields: dict[str, Any], serve: bool) -> ForecastModel:
    """Add a model to the registry. Serving (`serve`): it becomes the global serving model and the one serving
    before it is retired, in the same transaction; otherwise it is recorded as failed (fields hold `error`).
    """
    with transaction.atomic():
        version = _next_version()
        now = timezone.now()
        if serve:
            ForecastModel.objects.filter(scope=ForecastModel.Scope.GLOBAL, status=ForecastModel.Status.SERVING).update(
                status=ForecastModel.Status.RETIRED, retired_at=now, updated_at=now
            )
        model = ForecastModel(
            version=version,
            scope=ForecastModel.Scope.GLOBAL,
            run=run,
            status=ForecastModel.Status.SERVING if serve else ForecastModel.Status.FAILED,
            serving_since=now if serve else None,
            **fields,
        )
        model.full_clean()
        model.save()
        return model


def _quantile_rows(forecast: Forecast) -> tuple[np.ndarray, np.ndarray]:
    """The quantiles as a (days, 5) array, clipped at zero and ordered, and the mean clipped at zero."""
    import numpy as np  # the job's path only: pages never load numpy

    from ai.forecasting.engine.types import QUANTILES

    columns = np.column_stack([np.asarray(forecast.quantiles[q], dtype=float) for q in QUANTILES])
    columns = np.maximum.accumulate(np.clip(np.nan_to_num(columns), 0, None), axis=1)
    return columns, np.clip(np.nan_to_num(np.asarray(forecast.mean, dtype=float)), 0, None)


def _forecast_rows(run: ForecastRun, outcome: _Outcome) -> list[WardForecast]:
    """Unsaved forecast rows; the serving model is set on them when the registry is written."""
    rows = []
    for history, forecast, short in outcome.forecasts:
        quantiles, mean = _quantile_rows(forecast)
        for index, target in enumerate(forecast.dates):
            q025, q10, q50, q90, q975 = (round(float(value), 3) for value in quantiles[index])
            rows.append(
                WardForecast(
                    run=run,
                    ward=history.ward,
                    model_name=forecast.model,
                    origin=forecast.origin,
                    target_date=target,
                    horizon=(target - forecast.origin).days,
                    mean=round(float(mean[index]), 3),
                    q025=q025,
                    q10=q10,
                    q50=q50,
                    q90=q90,
                    q975=q975,
                    capacity=history.capacity,
                    history_days=short[0] if short else None,
                    min_history_days=short[1] if short else None,
                )
            )
    return rows


def _plan_entries(run: ForecastRun, rows: list[WardForecast]) -> list[BedPlanEntry]:
    from scheduling.selectors.outlook import closed_beds_by_ward

    quantile = conf.plan_quantile()
    closed = closed_beds_by_ward()
    share = conf.plan_flexible_bed_share()
    costs = PlanCosts(
        cross_specialty_penalty=conf.plan_cross_specialty_penalty(),
        flexible_bed_cost=conf.plan_flexible_bed_cost(),
        exclusive_specialties=conf.plan_exclusive_specialties(),
    )
    by_day: dict[date, list[WardForecast]] = {}
    for row in rows:
        by_day.setdefault(row.target_date, []).append(row)
    entries = []
    for day in sorted(by_day)[: conf.plan_days()]:
        wards = {
            row.ward.pk: PlanWard(
                key=row.ward.pk,
                code=row.ward.code,
                specialty=row.ward.specialty,
                capacity=row.capacity,
                upper=row.q90 if quantile == 0.9 else row.q975,
                expected=row.mean,
                flexible=closed.get(row.ward.pk, 0) + math.floor(share * row.capacity),
            )
            for row in by_day[day]
        }
        for recommendation in solve_day(list(wards.values()), costs):
            entries.append(
                BedPlanEntry(
                    run=run,
                    day=day,
                    action=recommendation.action,
                    ward_id=recommendation.ward,
                    to_ward_id=recommendation.to_ward,
                    patients=recommendation.patients,
                    same_specialty=recommendation.same_specialty,
                    detail=recommendation_detail(recommendation, wards, quantile=quantile),
                )
            )
    return entries


def _commit(
    run: ForecastRun,
    night: date,
    outcome: _Outcome,
    rows: list[WardForecast],
    entries: list[BedPlanEntry],
    progress: _Progress,
) -> None:
    with transaction.atomic():
        locked = ForecastRun.objects.select_for_update().get(pk=run.pk)
        if locked.status != ForecastRun.Status.RUNNING:  # taken over meanwhile: leave it to the other worker
            raise RuntimeError(f"run of {night} is {locked.status}, not running")
        served = outcome.served_by
        if outcome.trained is not None:
            served = model_register(run=run, fields=outcome.trained, serve=True)
        if outcome.failed is not None:
            model_register(run=run, fields=outcome.failed, serve=False)
        for row in rows:
            row.model = None if row.history_days is not None else served
        WardForecast.objects.bulk_create(rows)
        BedPlanEntry.objects.bulk_create(entries)
        progress.enter("done")
        finished = timezone.now()
        locked.status, locked.stage, locked.progress = ForecastRun.Status.SUCCEEDED, ForecastRun.Stage.DONE, 100
        locked.finished_at = finished
        locked.duration_seconds = round(time.monotonic() - progress.started, 3)
        locked.stage_seconds = progress.seconds
        locked.notes = outcome.notes
        locked.model = served
        locked.save()
