"""Reads of forecasting, scoped by role.

- Bed managers and administrators (and superusers) see everything: the models, the backtest, every ward's
  forecast, the bed plan, the runs; they may run the job on demand.
- Doctors and nurses see the forecasts of the wards they are assigned to today (the ward chart, the bed
  board's figures); not the models or the plan.
- Anyone else sees nothing (PermissionDenied).
Forecasts are counts per ward, never patient data, so reading them writes no access-log entry.
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from django.core.exceptions import PermissionDenied
from django.db.models import Q, QuerySet
from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext as _

from ai.forecasting import conf
from ai.forecasting.models import BedPlanEntry, ForecastModel, ForecastRun, WardForecast, model_label
from ai.forecasting.plan import explain
from hospital.core import roles
from scheduling.models import Ward, WardAssignment
from scheduling.selectors.census import census_daily

TABLE_HORIZONS = (1, 7, 14)
RUNS_SHOWN = 10
ACTUAL_DAYS_SHOWN = 56
PROMOTION_MARGIN = 0.02  # a recurrent model serves when its bootstrap interval's upper end is within +2 % MAE


def _is_user(user) -> bool:
    return bool(user and user.is_authenticated and user.is_active)


def may_manage(user) -> bool:
    """Bed managers and administrators: the models, the plan, every ward, and running the job."""
    return _is_user(user) and user.has_role(roles.BED_MANAGER, roles.ADMINISTRATOR)


def may_view_forecasts(user) -> bool:
    """Managers, and the doctors and nurses (of their wards)."""
    return _is_user(user) and user.has_role(roles.BED_MANAGER, roles.ADMINISTRATOR, roles.DOCTOR, roles.NURSE)


def _require_manager(user) -> None:
    if not may_manage(user):
        raise PermissionDenied(_("The forecasting models and the bed plan are for bed managers and administrators."))


def visible_wards(*, fetched_by) -> QuerySet[Ward]:
    """The wards whose forecasts `fetched_by` may see, in code order (PermissionDenied for other roles)."""
    if not may_view_forecasts(fetched_by):
        raise PermissionDenied(_("Bed forecasts are for bed managers, administrators and ward staff."))
    wards = Ward.objects.select_related("department").order_by("code")
    if may_manage(fetched_by):
        return wards
    today = timezone.localdate(timezone=timezone.get_default_timezone())
    assigned = (
        WardAssignment.objects.filter(user=fetched_by, starts_on__lte=today)
        .filter(Q(ends_on__isnull=True) | Q(ends_on__gte=today))
        .values("ward_id")
    )
    return wards.filter(pk__in=assigned)


def latest_run() -> ForecastRun | None:
    """The newest succeeded run: the forecasts and plan in use."""
    return ForecastRun.objects.filter(status=ForecastRun.Status.SUCCEEDED).select_related("model").first()


def run_list(*, fetched_by, limit: int = RUNS_SHOWN) -> list[ForecastRun]:
    """The latest runs, newest night first, with who asked for them (managers only)."""
    _require_manager(fetched_by)
    return list(ForecastRun.objects.select_related("requested_by", "model").order_by("-night")[:limit])


def run_get(*, fetched_by, night: date) -> ForecastRun:
    _require_manager(fetched_by)
    run = ForecastRun.objects.filter(night=night).first()
    if run is None:
        raise Http404(_("No forecast run for that night."))
    return run


def serving_model() -> ForecastModel | None:
    return ForecastModel.objects.filter(scope=ForecastModel.Scope.GLOBAL, status=ForecastModel.Status.SERVING).first()


@dataclass(frozen=True)
class BacktestRow:
    """One model of a backtest: its figures at the table's horizons, overall, and against the best baseline."""

    name: str
    label: str
    mae: list[float | None]
    smape: list[float | None]
    mase: list[float | None]
    coverage80: list[float | None]
    coverage95: list[float | None]
    mae_overall: float | None
    mase_overall: float | None
    bias_overall: float | None
    train_seconds: float | None
    bootstrap: tuple[float, float] | None
    serving: bool
    best_baseline: bool

    @property
    def bootstrap_percent(self) -> str:
        """The bootstrap interval as signed percentages, e.g. "-8.1% … +1.2%"; "" without one."""
        if self.bootstrap is None or self.best_baseline:
            return ""
        return f"{self.bootstrap[0] * 100:+.1f}% … {self.bootstrap[1] * 100:+.1f}%"


def _at(values: list | None, horizon: int) -> float | None:
    if not values or horizon > len(values):
        return None
    value = values[horizon - 1]
    return None if value is None else float(value)


def backtest_table(model: ForecastModel) -> list[BacktestRow]:
    """The model's backtest, one row per candidate, best overall MAE first (at horizons 1, 7 and 14)."""
    rows = []
    for name, score in (model.metrics or {}).items():
        interval = (model.bootstrap or {}).get(name)
        bias = score.get("bias") or []
        rows.append(
            BacktestRow(
                name=name,
                label=model_label(name),
                mae=[_at(score.get("mae"), h) for h in TABLE_HORIZONS],
                smape=[_at(score.get("smape"), h) for h in TABLE_HORIZONS],
                mase=[_at(score.get("mase"), h) for h in TABLE_HORIZONS],
                coverage80=[_at(score.get("coverage80"), h) for h in TABLE_HORIZONS],
                coverage95=[_at(score.get("coverage95"), h) for h in TABLE_HORIZONS],
                mae_overall=score.get("mae_overall"),
                mase_overall=score.get("mase_overall"),
                bias_overall=sum(bias) / len(bias) if bias else None,
                train_seconds=score.get("train_seconds"),
                bootstrap=(float(interval[0]), float(interval[1])) if interval else None,
                serving=name == model.model_name,
                best_baseline=name == model.best_baseline,
            )
        )
    return sorted(rows, key=lambda row: (row.mae_overall is None, row.mae_overall or 0.0, row.name))


def serving_reason(model: ForecastModel) -> str:
    """Why the model serves, in the reader's language, from its backtest figures."""
    metrics = model.metrics or {}
    mine = metrics.get(model.model_name, {})
    baseline = metrics.get(model.best_baseline, {})
    numbers: dict[str, Any] = {
        "model": model_label(model.model_name),
        "baseline": model_label(model.best_baseline),
        "mae": _fmt(mine.get("mae_overall")),
        "baseline_mae": _fmt(baseline.get("mae_overall")),
        "origins": len(model.backtest_origins or []),
        "horizon": model.horizon,
        "margin": f"{PROMOTION_MARGIN * 100:g}",
    }
    interval = (model.bootstrap or {}).get(model.model_name)
    if model.model_name == model.best_baseline or not interval:
        return (
            _(
                "%(model)s serves: over %(origins)s weekly backtest origins it had the lowest mean absolute error "
                "(%(mae)s beds over 1 to %(horizon)s days ahead), and no recurrent model was at least as good: "
                "a recurrent model serves only when the upper end of the bootstrap interval of its MAE "
                "difference is within +%(margin)s%% of the best baseline."
            )
            % numbers
        )
    numbers.update(low=f"{interval[0] * 100:+.1f}", high=f"{interval[1] * 100:+.1f}")
    return (
        _(
            "%(model)s serves: over %(origins)s weekly backtest origins its mean absolute error was %(mae)s beds "
            "(1 to %(horizon)s days ahead) against %(baseline_mae)s for the best baseline, %(baseline)s; the 95%% "
            "bootstrap interval of the difference is %(low)s%% to %(high)s%%, within the +%(margin)s%% a model "
            "must meet to serve."
        )
        % numbers
    )


def _fmt(value) -> str:
    return "-" if value is None else f"{float(value):.2f}"


@dataclass
class Overview:
    serving: ForecastModel | None
    reason: str
    table: list[BacktestRow]
    runs: list[ForecastRun]
    latest: ForecastRun | None
    failed_models: list[ForecastModel] = field(default_factory=list)


def forecast_overview(*, fetched_by) -> Overview:
    """What the forecasting page shows: the serving model and why, its backtest, the recent runs and the last
    failed trainings (managers only). Five queries."""
    _require_manager(fetched_by)
    model = serving_model()
    return Overview(
        serving=model,
        reason=serving_reason(model) if model else "",
        table=backtest_table(model) if model else [],
        runs=run_list(fetched_by=fetched_by),
        latest=latest_run(),
        failed_models=list(ForecastModel.objects.filter(status=ForecastModel.Status.FAILED).order_by("-version")[:3]),
    )


@dataclass
class WardChart:
    ward: Ward
    run: ForecastRun | None
    forecasts: list[WardForecast]
    actual_dates: list[date]
    actual_values: list[int]
    capacity: int | None
    note: str

    def plot_data(self) -> dict[str, Any]:
        """The chart's numbers as JSON-ready lists (the page draws them with plotly)."""
        return {
            "actual": {"x": [d.isoformat() for d in self.actual_dates], "y": self.actual_values},
            "forecast": {
                "x": [row.target_date.isoformat() for row in self.forecasts],
                "mean": [row.mean for row in self.forecasts],
                "q025": [row.q025 for row in self.forecasts],
                "q10": [row.q10 for row in self.forecasts],
                "q90": [row.q90 for row in self.forecasts],
                "q975": [row.q975 for row in self.forecasts],
            },
            "capacity": self.capacity,
        }


def _ward_visible(fetched_by, external_id: uuid.UUID | str) -> Ward:
    ward = visible_wards(fetched_by=fetched_by).filter(external_id=external_id).first()
    if ward is None:
        raise Http404(_("No such ward."))
    return ward


def ward_forecast_chart(*, fetched_by, ward_external_id: uuid.UUID | str) -> WardChart:
    """A ward's latest forecast (mean, 80 % and 95 % intervals) and its last eight weeks of census, for a user who
    may see the ward (Http404 otherwise, PermissionDenied for other roles). Four queries."""
    ward = _ward_visible(fetched_by, ward_external_id)
    run = latest_run()
    forecasts = list(WardForecast.objects.filter(run=run, ward=ward).order_by("target_date")) if run else []
    end = forecasts[0].origin if forecasts else timezone.localdate(timezone=timezone.get_default_timezone())
    census = list(
        census_daily(wards=[ward], start=end - timedelta(days=ACTUAL_DAYS_SHOWN - 1), end=end).values_list(
            "date", "occupied_at_midnight", "capacity"
        )
    )
    capacity = forecasts[0].capacity if forecasts else (census[-1][2] if census else None)
    return WardChart(
        ward=ward,
        run=run,
        forecasts=forecasts,
        actual_dates=[row[0] for row in census],
        actual_values=[row[1] for row in census],
        capacity=capacity,
        note=forecasts[0].note if forecasts else "",
    )


def ward_forecast_list(*, fetched_by, ward_external_id: uuid.UUID | str) -> tuple[Ward, list[WardForecast]]:
    """A visible ward's forecast rows of the latest succeeded run (empty before any), by date."""
    ward = _ward_visible(fetched_by, ward_external_id)
    run = latest_run()
    rows = (
        WardForecast.objects.filter(run=run, ward=ward).select_related("run", "model").order_by("target_date")
        if run
        else []
    )
    return ward, list(rows)


@dataclass
class PlanDay:
    day: date
    entries: list[tuple[BedPlanEntry, str]]  # with the explanation in the active language
    over: list[WardForecast]  # wards whose upper quantile exceeds their beds that day


@dataclass
class BedPlan:
    run: ForecastRun | None
    quantile: float
    days: list[PlanDay]


def bed_plan(*, fetched_by, run: ForecastRun | None = None) -> BedPlan:
    """The plan of the latest succeeded run (or `run`), day by day, each recommendation with its explanation
    (managers only). Two queries."""
    _require_manager(fetched_by)
    run = run or latest_run()
    quantile = conf.plan_quantile()
    if run is None:
        return BedPlan(None, quantile, [])
    entries = BedPlanEntry.objects.filter(run=run).select_related("ward", "to_ward").order_by("day", "id")
    by_day: dict[date, list[tuple[BedPlanEntry, str]]] = defaultdict(list)
    for entry in entries:
        text = explain(
            action=entry.action, patients=entry.patients, same_specialty=entry.same_specialty, detail=entry.detail
        )
        by_day[entry.day].append((entry, text))
    plan_days = sorted(set(WardForecast.objects.filter(run=run).values_list("target_date", flat=True)))
    plan_days = plan_days[: conf.plan_days()]
    over: dict[date, list[WardForecast]] = defaultdict(list)
    upper_field = "q90" if quantile == 0.9 else "q975"
    for row in WardForecast.objects.filter(run=run, target_date__in=plan_days).select_related("ward"):
        if getattr(row, upper_field) > row.capacity:
            over[row.target_date].append(row)
    return BedPlan(run, quantile, [PlanDay(day, by_day.get(day, []), over.get(day, [])) for day in plan_days])


@dataclass
class OutlookWard:
    ward: Ward
    capacity: int
    days: list[tuple[date, float, float]]  # (day, expected, upper)
    note: str = ""

    @property
    def at_risk(self) -> bool:
        return any(upper > self.capacity for _day, _expected, upper in self.days)


def board_outlook(*, fetched_by, days: int = 3) -> tuple[ForecastRun | None, list[OutlookWard]]:
    """Expected census and upper bound for the next `days` days of each ward `fetched_by` may see (two queries)."""
    wards = visible_wards(fetched_by=fetched_by)
    run = latest_run()
    if run is None:
        return None, []
    quantile = conf.plan_quantile()
    today = timezone.localdate(timezone=timezone.get_default_timezone())
    rows = (
        WardForecast.objects.filter(run=run, ward__in=wards, target_date__gte=today)
        .select_related("ward")
        .order_by("ward__code", "target_date")
    )
    result: dict[int, OutlookWard] = {}
    for row in rows:
        item = result.setdefault(row.ward_id, OutlookWard(row.ward, row.capacity, [], row.note))
        if len(item.days) < days:
            item.days.append((row.target_date, row.mean, row.q90 if quantile == 0.9 else row.q975))
    return run, list(result.values())


def forecast_interval(*, ward_id: int, day: date) -> tuple[float, float, float] | None:
    """(mean, q025, q975) of the ward's census on `day` from the latest succeeded run made before `day`
    (its history ended before `day`), or None when no run forecast that day. One query; no user scope:
    for the alerting code, which compares the day's census with the forecast's 95 % interval."""
    row = (
        WardForecast.objects.filter(
            ward_id=ward_id, target_date=day, run__status=ForecastRun.Status.SUCCEEDED, run__night__lte=day
        )
        .order_by("-run__night")
        .values_list("mean", "q025", "q975")
        .first()
    )
    return (float(row[0]), float(row[1]), float(row[2])) if row else None
