"""Celery entry points of the alerts: look up by id, call a service, nothing else.

The EMR enqueues the evaluations by name on the `alerts` queue when it commits vital signs or a laboratory
result, and the scheduling app enqueues the census check once a day's census is written (neither imports
this app). Every task is idempotent, so a redelivery after a lost worker is harmless.
"""

from datetime import date

from celery import shared_task
from django.db import OperationalError

from ai.services import (
    census_check,
    conflict_check_lab,
    conflict_check_set,
    critical_lab_evaluate,
    drift_evaluate,
    news2_evaluate,
)
from hospital.core.request_context import RequestContext, reset_request_context, set_request_context

ALERTS_QUEUE = "alerts"
ALERTS_TASK_OPTIONS = {
    "acks_late": True,
    "ignore_result": True,
    # Named here as well as in CELERY_TASK_ROUTES: "ai.*" routes to the slow "ai" queue otherwise.
    "queue": ALERTS_QUEUE,
    # A dropped database connection is worth another try; anything else is a defect to see in the log.
    "autoretry_for": (OperationalError,),
    "max_retries": 3,
    "retry_backoff": True,
    "soft_time_limit": 30,
    "time_limit": 60,
}


def _as_task(function, **kwargs) -> None:
    token = set_request_context(RequestContext(channel="task"))
    try:
        function(**kwargs)
    finally:
        reset_request_context(token)


@shared_task(name="ai.tasks.news2_evaluate_task", **ALERTS_TASK_OPTIONS)
def news2_evaluate_task(set_id: str) -> None:
    """Score the vital-sign set `set_id` on NEWS2 and raise its alert (ai.services.news2_evaluate)."""
    _as_task(news2_evaluate, set_id=set_id)


@shared_task(name="ai.tasks.critical_lab_evaluate_task", **ALERTS_TASK_OPTIONS)
def critical_lab_evaluate_task(observation_id: int) -> None:
    """Raise a critical alert for the laboratory result `observation_id` if it is flagged LL or HH."""
    _as_task(critical_lab_evaluate, observation_id=observation_id)


@shared_task(name="ai.tasks.conflict_check_task", **ALERTS_TASK_OPTIONS)
def conflict_check_task(set_id: str) -> None:
    """Check the vital-sign set `set_id` against other sources' readings (ai.services.conflict_check_set)."""
    _as_task(conflict_check_set, set_id=set_id)


@shared_task(name="ai.tasks.lab_conflict_check_task", **ALERTS_TASK_OPTIONS)
def lab_conflict_check_task(observation_id: int) -> None:
    """Check the laboratory result `observation_id` against other sources' results of the same test."""
    _as_task(conflict_check_lab, observation_id=observation_id)


@shared_task(name="ai.tasks.drift_evaluate_task", **ALERTS_TASK_OPTIONS)
def drift_evaluate_task(set_id: str) -> None:
    """Look for sustained drift of the patient's vital signs up to the set `set_id` (ai.services.drift_evaluate)."""
    _as_task(drift_evaluate, set_id=set_id)


@shared_task(name="ai.tasks.census_check_task", **ALERTS_TASK_OPTIONS)
def census_check_task(ward_id: int, day: str) -> None:
    """Compare ward `ward_id`'s midnight census on `day` (YYYY-MM-DD) with its forecast's 95 % interval."""
    _as_task(census_check, ward_id=ward_id, day=date.fromisoformat(day))
