"""Celery entry points of the core app."""

import logging

from celery import shared_task
from django.core.cache import cache
from django.utils import timezone

logger = logging.getLogger(__name__)


@shared_task(acks_late=True, ignore_result=True, soft_time_limit=10, time_limit=20)
def worker_heartbeat_task() -> str:
    """Beat sends this every 30 s; the timestamp shows beat and a worker are both alive."""
    now = timezone.now().isoformat()
    cache.set("core:last_heartbeat", now, timeout=300)
    return now


@shared_task(acks_late=True, ignore_result=True, soft_time_limit=1800, time_limit=2000)
def audit_verify_task() -> None:
    """Nightly: verify the access log's hash chain and log the first broken link, if any."""
    from hospital.core.services.access_log import access_log_verify

    result = access_log_verify()
    if result.ok:
        logger.info("access log chain intact: %s rows", result.rows_checked)
    else:
        logger.error("access log chain broken at row %s: %s", result.first_broken_id, result.reason)
