"""Celery entry points of the scheduling app."""

import logging
from datetime import date, timedelta

from celery import shared_task
from django.utils import timezone

logger = logging.getLogger(__name__)


@shared_task(acks_late=True, ignore_result=True, soft_time_limit=300, time_limit=360)
def census_snapshot_task(day_iso: str | None = None) -> int:
    """Take the census of `day_iso` (YYYY-MM-DD; default: yesterday in the hospital's time zone).

    Idempotent: existing rows of the day are kept (census_snapshot_take's overwrite=False), so a
    redelivered or repeated task changes nothing. Returns the number of ward rows stored for the day.
    """
    from scheduling.services.census import census_snapshot_take

    if day_iso:
        day = date.fromisoformat(day_iso)
    else:
        day = timezone.localdate(timezone=timezone.get_default_timezone()) - timedelta(days=1)
    rows = census_snapshot_take(day=day)
    logger.info("census snapshot %s: %s ward rows", day.isoformat(), len(rows))
    return len(rows)
