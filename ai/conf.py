"""Settings of the alerts, read with defaults so that a fresh install works without any of them set.

ALERT_REPEAT_WINDOW_MINUTES        a repeat within this long after an alert was resolved is merged into it
ALERT_CONFLICT_WINDOW_MINUTES      two readings this close in time are "the same measurement"
ALERT_CONFLICT_TOLERANCES          per code: {"absolute": x} or {"relative": fraction}; "*" for any other code
ALERT_DRIFT_LOOKBACK_HOURS         the stretch of a patient's series the drift detector looks at
ALERT_DRIFT_BASELINE_READINGS      the first readings of that stretch that make the patient's baseline
ALERT_DRIFT_THRESHOLD              CUSUM decision interval h (in robust standard deviations)
ALERT_DRIFT_ALLOWANCE              CUSUM reference value k (in robust standard deviations)
ALERT_DRIFT_CLIP                   a single standardised reading counts at most this much (outlier guard)
"""

from decimal import Decimal
from typing import Any

from django.conf import settings

# How far apart two readings of the same vital sign or test may be before they are "in conflict".
# Vital signs: about the accuracy of the bedside devices (pulse oximeters +-2-3 %, non-invasive blood
# pressure +-5-10 mmHg) plus what changes in a few minutes; laboratory results: 10 % unless named.
DEFAULT_CONFLICT_TOLERANCES: dict[str, dict[str, str]] = {
    "heart_rate": {"absolute": "10"},
    "respiratory_rate": {"absolute": "4"},
    "spo2": {"absolute": "3"},
    "temperature": {"absolute": "0.5"},
    "systolic_bp": {"absolute": "15"},
    "diastolic_bp": {"absolute": "10"},
    "*": {"relative": "0.10"},
}


def repeat_window_minutes() -> int:
    return int(getattr(settings, "ALERT_REPEAT_WINDOW_MINUTES", 60))


def conflict_window_minutes() -> int:
    return int(getattr(settings, "ALERT_CONFLICT_WINDOW_MINUTES", 15))


def conflict_tolerances() -> dict[str, dict[str, Decimal]]:
    """The tolerance table with the defaults under what the settings override, as Decimals."""
    table: dict[str, Any] = {**DEFAULT_CONFLICT_TOLERANCES, **getattr(settings, "ALERT_CONFLICT_TOLERANCES", {})}
    return {code: {kind: Decimal(str(value)) for kind, value in entry.items()} for code, entry in table.items()}


def drift_lookback_hours() -> int:
    return int(getattr(settings, "ALERT_DRIFT_LOOKBACK_HOURS", 72))


def drift_baseline_readings() -> int:
    return int(getattr(settings, "ALERT_DRIFT_BASELINE_READINGS", 6))


def drift_threshold() -> float:
    return float(getattr(settings, "ALERT_DRIFT_THRESHOLD", 6.0))


def drift_allowance() -> float:
    return float(getattr(settings, "ALERT_DRIFT_ALLOWANCE", 1.0))


def drift_clip() -> float:
    return float(getattr(settings, "ALERT_DRIFT_CLIP", 3.0))
