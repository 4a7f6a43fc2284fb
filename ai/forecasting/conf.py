"""Settings of the forecasting app, each read with its default (the notes of the settings table say why)."""

from pathlib import Path

from django.conf import settings


def horizon() -> int:
    """Days ahead each night forecasts."""
    return int(getattr(settings, "FORECAST_HORIZON_DAYS", 14))


def backtest_origins() -> int:
    """Weekly origins of the nightly backtest (the evaluation command runs the full 52)."""
    return int(getattr(settings, "FORECAST_BACKTEST_ORIGINS", 10))


def backtest_every_days() -> int:
    """A full backtest runs when the serving model's is this many days old (or the wards changed); the nights in
    between retrain the serving kind of model on the newest data. 1: a backtest every night."""
    return max(int(getattr(settings, "FORECAST_BACKTEST_EVERY_DAYS", 7)), 1)


def backtest_step() -> int:
    return int(getattr(settings, "FORECAST_BACKTEST_STEP_DAYS", 7))


def backtest_seeds() -> int:
    """Seeds each recurrent model is averaged over in the nightly backtest."""
    return int(getattr(settings, "FORECAST_BACKTEST_SEEDS", 3))


def candidate_models() -> list[str] | None:
    """Models the nightly backtest compares; None: every model the engine knows."""
    value = getattr(settings, "FORECAST_MODELS", None)
    if not value:
        return None
    return [value] if isinstance(value, str) else list(value)


def model_options() -> dict[str, dict]:
    """Per-model engine options, e.g. {"gru": {"epochs": 8}} for a cheaper nightly network."""
    return dict(getattr(settings, "FORECAST_MODEL_OPTIONS", {}) or {})


def history_days() -> int:
    """About this many days of census history are read (older days add little and cost training time): from
    the start of the quarter this many days back (training_data.history_start)."""
    return int(getattr(settings, "FORECAST_HISTORY_DAYS", 3 * 365))


def calendar_name() -> str:
    """The holiday calendar: "cn" (the default, Chinese public holidays), "none", or a CSV path."""
    return str(getattr(settings, "FORECAST_HOLIDAY_CALENDAR", "cn"))


def known_min_days() -> int:
    """A known-ahead feature (booked admissions, planned discharges) is used once it was recorded this long."""
    return int(getattr(settings, "FORECAST_KNOWN_FEATURE_MIN_DAYS", 180))


def plan_days() -> int:
    return int(getattr(settings, "FORECAST_PLAN_DAYS", 7))


def plan_quantile() -> float:
    """Which forecast quantile the bed plan provides for: 0.9 or 0.975."""
    value = float(getattr(settings, "FORECAST_PLAN_QUANTILE", 0.9))
    if value not in (0.9, 0.975):
        raise ValueError("FORECAST_PLAN_QUANTILE must be 0.9 or 0.975")
    return value


def plan_cross_specialty_penalty() -> float:
    """Cost of placing one patient in a ward of another specialty, against 1 for a ward of the same one."""
    return float(getattr(settings, "FORECAST_PLAN_CROSS_SPECIALTY_PENALTY", 5.0))


def plan_flexible_bed_cost() -> float:
    """Cost of opening one flexible bed (staff and space), against 1 for a same-specialty lend."""
    return float(getattr(settings, "FORECAST_PLAN_FLEXIBLE_BED_COST", 3.0))


def plan_flexible_bed_share() -> float:
    """Flexible (extra) beds a ward can open, as a share of its capacity, besides its closed beds."""
    return float(getattr(settings, "FORECAST_PLAN_FLEXIBLE_BED_SHARE", 0.1))


def plan_exclusive_specialties() -> tuple[str, ...]:
    """Specialties whose wards neither lend beds to nor borrow beds from other specialties."""
    return tuple(
        getattr(settings, "FORECAST_PLAN_EXCLUSIVE_SPECIALTIES", ("critical_care", "paediatrics", "obstetrics"))
    )


def artifact_dir() -> Path:
    """Where model files are written: VAR_DIR/models/forecasting unless FORECAST_ARTIFACT_DIR says otherwise."""
    configured = getattr(settings, "FORECAST_ARTIFACT_DIR", None)
    if configured:
        return Path(configured)
    return Path(settings.VAR_DIR) / "models" / "forecasting"


def run_soft_time_limit() -> int:
    """The job's soft time limit: a backtest night with the networks takes tens of minutes on two cores."""
    return int(getattr(settings, "FORECAST_RUN_SOFT_TIME_LIMIT", 4 * 3600))
