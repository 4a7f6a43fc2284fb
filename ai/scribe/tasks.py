"""Celery entry points of the scribe: look up by id, call the pipeline or a service, nothing else.

`scribe_job_run_task` runs on the `ai` queue (the "ai.*" route). It is safe to deliver more than once:
acks_late with reject_on_worker_lost puts the message back when a worker dies mid-job, the redelivery
restarts the job from the beginning, a delivery for a finished job does nothing, and results are fenced
on the job's attempt so exactly one set of suggestions is written (see ai.scribe.services).
"""

from celery import shared_task
from django.db import InterfaceError, OperationalError

from ai.scribe import conf
from ai.scribe.pipeline import scribe_job_run
from ai.scribe.services import scribe_audio_purge, scribe_jobs_requeue_stale
from hospital.core.request_context import RequestContext, reset_request_context, set_request_context


@shared_task(
    name="ai.scribe.tasks.scribe_job_run_task",
    bind=True,
    acks_late=True,
    reject_on_worker_lost=True,
    ignore_result=True,
    queue="ai",
    # A dropped database connection is worth another try (the retry restarts the job); the pipeline turns
    # everything else into a failed job with a reason.
    autoretry_for=(OperationalError, InterfaceError),
    max_retries=3,
    retry_backoff=True,
    soft_time_limit=conf.task_soft_time_limit(),
    time_limit=conf.task_time_limit(),
)
def scribe_job_run_task(self, job_id: int) -> str:
    """Transcribe and structure the scribe job `job_id` (ai.scribe.pipeline.scribe_job_run)."""
    token = set_request_context(RequestContext(channel="task"))
    try:
        return scribe_job_run(job_id=int(job_id), task_id=self.request.id or "")
    finally:
        reset_request_context(token)


@shared_task(name="ai.scribe.tasks.scribe_audio_purge_task", acks_late=True, ignore_result=True, queue="ai")
def scribe_audio_purge_task() -> int:
    """Delete recordings past SCRIBE_AUDIO_RETENTION_DAYS (transcripts stay); returns how many. For beat."""
    token = set_request_context(RequestContext(channel="task"))
    try:
        return scribe_audio_purge()
    finally:
        reset_request_context(token)


@shared_task(name="ai.scribe.tasks.scribe_stale_jobs_task", acks_late=True, ignore_result=True, queue="ai")
def scribe_stale_jobs_task() -> int:
    """Enqueue again the jobs whose task was lost (ai.scribe.services.scribe_jobs_requeue_stale). For beat."""
    return len(scribe_jobs_requeue_stale())
