"""Celery entry points of the alerts: look up by id, call a service, nothing else.

The EMR enqueues these by name on the `alerts` queue when it commits vital signs or a laboratory result
(it never imports this app). Both are idempotent, so a redelivery after a lost worker is harmless.
"""

from celery import shared_task
from django.db import OperationalError

from ai.services import critical_lab_evaluate, news2_evaluate
from hospital.core.request_context import RequestContext, reset_request_context, set_request_context

ALERTS_TASK_OPTIONS = {
    "acks_late": True,
    "ignore_result": True,
    "queue": "alerts",
    # A dropped database connection is worth another try; anything else is a defect to see in the log.
    "autoretry_for": (OperationalError,),
    "max_retries": 3,
    "retry_backoff": True,
    "soft_time_limit": 30,
    "time_limit": 60,
}


@shared_task(name="ai.tasks.news2_evaluate_task", **ALERTS_TASK_OPTIONS)
def news2_evaluate_task(set_id: str) -> None:
    """Score the vital-sign set `set_id` on NEWS2 and raise its alert (ai.services.news2_evaluate)."""
    token = set_request_context(RequestContext(channel="task"))
    try:
        news2_evaluate(set_id=set_id)
    finally:
        reset_request_context(token)


@shared_task(name="ai.tasks.critical_lab_evaluate_task", **ALERTS_TASK_OPTIONS)
def critical_lab_evaluate_task(observation_id: int) -> None:
    """Raise a critical alert for the laboratory result `observation_id` if it is flagged LL or HH."""
    token = set_request_context(RequestContext(channel="task"))
    try:
        critical_lab_evaluate(observation_id=observation_id)
    finally:
        reset_request_context(token)
