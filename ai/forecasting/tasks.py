"""Celery entry points of forecasting: look up by id (here: the night), call a service, nothing else.

Beat sends `forecast_nightly_task` every night without arguments (the night is then today in the
hospital's time zone); the forecasting page and the admin send it for a given night. The route "ai.*"
puts it on the `ai` queue. Idempotent per night, so a redelivery after a lost worker is harmless.
"""

from datetime import date

from celery import shared_task

from ai.forecasting import conf
from hospital.core.request_context import RequestContext, reset_request_context, set_request_context


@shared_task(
    name="ai.forecasting.tasks.forecast_nightly_task",
    acks_late=True,
    ignore_result=True,
    soft_time_limit=conf.run_soft_time_limit(),
    time_limit=conf.run_soft_time_limit() + 300,
)
def forecast_nightly_task(night: str | None = None, options: dict | None = None) -> str:
    """Run the forecasting job of `night` (YYYY-MM-DD, default today); returns the run's status."""
    from ai.forecasting.services import forecast_nightly_run, today

    token = set_request_context(RequestContext(channel="task"))
    try:
        run = forecast_nightly_run(night=date.fromisoformat(night) if night else today(), options=options)
    finally:
        reset_request_context(token)
    return run.status
