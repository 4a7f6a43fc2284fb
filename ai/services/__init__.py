"""Writes of the alerts, one module per concern; everything is importable from `ai.services`.

evaluations  NEWS2 scores of vital-sign sets, critical laboratory values, SpO2 scale 2 orders
conflicts    the same measurement recorded by two sources that disagree
drift        sustained vital-sign drift against the patient's own baseline
census       a ward's midnight census outside its forecast's 95 % interval
raising      one alert per condition: repeats merged and suppressed, escalations never suppressed
inbox        acknowledge, assign, resolve, each audited
"""

from ai.services.census import census_check
from ai.services.conflicts import conflict_check_lab, conflict_check_set
from ai.services.drift import drift_evaluate
from ai.services.evaluations import critical_lab_evaluate, news2_evaluate, spo2_scale2_order
from ai.services.inbox import alert_acknowledge, alert_assign, alert_resolve
from ai.services.raising import RaiseOutcome, alert_raise

__all__ = [
    "RaiseOutcome",
    "alert_acknowledge",
    "alert_assign",
    "alert_raise",
    "alert_resolve",
    "census_check",
    "conflict_check_lab",
    "conflict_check_set",
    "critical_lab_evaluate",
    "drift_evaluate",
    "news2_evaluate",
    "spo2_scale2_order",
]
