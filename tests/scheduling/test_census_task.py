"""The nightly census task on a real Celery worker, and its beat entry."""

import time
from datetime import date, timedelta

import pytest
from django.conf import settings

from scheduling.models import WardDailyCensus
from scheduling.tasks import census_snapshot_task
from tests.scheduling.census_support import at, bed, make_encounter, make_ward, stay

DAY = date(2025, 4, 2)


def _wait_for(condition, seconds: float = 30) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.2)
    return False


@pytest.mark.django_db(transaction=True)
def test_worker_takes_the_census_of_the_given_day(celery_worker_process):
    ward = make_ward("W", beds=3)
    encounter = make_encounter(at(DAY, 9), ward)
    stay(encounter, bed(ward, "01"), at(DAY, 9))

    census_snapshot_task.delay(DAY.isoformat())

    assert _wait_for(lambda: WardDailyCensus.objects.filter(ward=ward, date=DAY).exists())
    row = WardDailyCensus.objects.get(ward=ward, date=DAY)
    assert (row.admissions, row.occupied_at_midnight, row.capacity) == (1, 1, 3)

    # Delivered again (acks_late): the row stays one and unchanged.
    census_snapshot_task.delay(DAY.isoformat())
    census_snapshot_task.delay((DAY + timedelta(days=1)).isoformat())
    assert _wait_for(lambda: WardDailyCensus.objects.filter(ward=ward).count() == 2)
    assert WardDailyCensus.objects.get(ward=ward, date=DAY).updated_at == row.updated_at


def test_beat_takes_yesterdays_census_after_midnight():
    entry = settings.CELERY_BEAT_SCHEDULE["census-snapshot-nightly"]

    assert entry["task"] == census_snapshot_task.name == "scheduling.tasks.census_snapshot_task"
    assert entry["schedule"].hour == {0} and entry["schedule"].minute == {15}
    assert census_snapshot_task.acks_late is True
