"""The Celery configuration and a real worker round trip."""

import time

import pytest
from django.core.cache import cache
from django.db import transaction

from hospital.celery import app
from hospital.core.tasks import worker_heartbeat_task


def test_celery_is_json_only_with_late_acks_and_prefetch_one():
    conf = app.conf
    assert conf.accept_content == ["json"]
    assert conf.task_serializer == "json"
    assert conf.task_acks_late is True
    assert conf.worker_prefetch_multiplier == 1
    assert conf.task_time_limit and conf.task_soft_time_limit < conf.task_time_limit
    assert {q.name for q in conf.task_queues} == {"default", "ai", "alerts"}
    assert "worker-heartbeat" in conf.beat_schedule


def test_pickle_payloads_are_refused():
    from kombu.exceptions import ContentDisallowed
    from kombu.serialization import loads

    with pytest.raises(ContentDisallowed):
        loads(b"\x80\x04K\x01.", "application/x-python-serialize", "binary", accept=app.conf.accept_content)


@pytest.mark.worker
def test_task_enqueued_on_commit_runs_on_a_real_worker(celery_worker_process):
    cache.delete("core:last_heartbeat")

    with transaction.atomic():
        transaction.on_commit(worker_heartbeat_task.delay)
        # Not sent before commit: nothing can have run yet.
        assert cache.get("core:last_heartbeat") is None

    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and cache.get("core:last_heartbeat") is None:
        time.sleep(0.2)
    assert cache.get("core:last_heartbeat") is not None
