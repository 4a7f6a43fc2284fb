"""A worker killed in the middle of a transcription: the broker delivers the job again, a new worker restarts it
from the beginning, and it finishes exactly once (one set of suggestions, one result in the access log).

Slow on purpose (about a minute): it needs a recording long enough to be killed in the middle of, and two real
workers transcribing it with the real tiny.en model.
"""

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from django.conf import settings

from ai.scribe import services
from ai.scribe.models import ScribeJob
from hospital.core.models import AccessLog
from tests.ai.scribe.test_services_support import (
    espeak_wav,
    outpatient_with_team,
    purge_broker_queues,
    remove_job_audio,
    wait_for_job,
)
from tests.conftest import BASE_DIR, _test_database_url

pytestmark = [pytest.mark.worker, pytest.mark.usefixtures("transactional_db")]

CONSULTATION = " ".join(
    [
        "The patient complains of chest pain for two days.",
        "The pain is worse on exertion and gets better with rest.",
        "She takes aspirin 100 milligrams daily and metformin 500 milligrams twice a day.",
        "She is allergic to penicillin, which gave her a rash.",
        "Her mother had diabetes and her father had a heart attack at sixty.",
        "She denies shortness of breath, fever or cough.",
        "Blood pressure 150 over 90. Heart rate 88 beats per minute. Temperature 37.2 degrees.",
        "On examination the chest is clear and the heart sounds are normal.",
        "The plan is an electrocardiogram and troponin today, and review in one week.",
    ]
    * 2
)


def _start_worker(name: str) -> subprocess.Popen:
    """A real worker on the test database and Redis, as tests/conftest.py's fixture starts it."""
    from hospital.celery import app

    env = dict(os.environ, DATABASE_URL=_test_database_url(), REDIS_URL=settings.REDIS_URL)
    hostname = f"{name}-{os.getpid()}-{time.monotonic_ns()}@localhost"
    proc = subprocess.Popen(
        [
            str(Path(sys.executable).parent / "celery"), "-A", "hospital", "worker", "-Q", "ai", "--concurrency", "1",
            "--pool", "solo", "--loglevel", "WARNING", "-n", hostname, "--without-mingle", "--without-gossip",
        ],
        cwd=BASE_DIR, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            pytest.fail(f"celery worker {name} exited during start-up")
        if app.control.ping(destination=[hostname], timeout=0.5):
            return proc
    proc.kill()
    pytest.fail(f"celery worker {name} did not answer a ping within 90 s")


def _stop(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()


def _visibility_timeout_passes() -> None:
    """What the broker does once the visibility timeout of an unacknowledged message has passed: the message
    of the dead worker goes back on its queue (Redis keeps it in the unacked set until then)."""
    from hospital.celery import app

    with app.connection_for_write(transport_options={"visibility_timeout": 0}) as connection:
        connection.default_channel.qos.restore_visible(num=100, interval=1)


def test_a_job_whose_worker_is_killed_is_redelivered_and_finishes_once(tmp_path):
    purge_broker_queues()
    doctor, _outsider, _nurse, _patient, encounter = outpatient_with_team("kill")
    audio = espeak_wav(tmp_path / "consultation.wav", CONSULTATION, speed=175).read_bytes()
    first = _start_worker("scribe-first")
    second = None
    job = None
    try:
        # given a long consultation being transcribed
        job = services.scribe_job_create_from_audio(encounter=encounter, clinician=doctor, data=audio)
        deadline = time.monotonic() + 180
        while time.monotonic() < deadline:
            job.refresh_from_db()
            if job.status == "transcribing" and job.progress > 0 or job.status in ScribeJob.FINISHED:
                break
            time.sleep(0.1)
        assert (job.status, job.attempt) == ("transcribing", 1), "the job must be caught in the middle"
        assert 0 < job.progress < 100
        task_id = job.task_id

        # when its worker is killed outright
        first.send_signal(signal.SIGKILL)
        first.wait(timeout=20)
        job.refresh_from_db()
        assert job.status == "transcribing" and not job.suggestions.exists()  # nothing half-written

        # and the broker delivers the task again to a new worker
        _visibility_timeout_passes()
        second = _start_worker("scribe-second")
        wait_for_job(job, timeout=300)

        # then the same task restarted the job and finished it exactly once
        assert job.status == "ready", job.failure_reason
        assert (job.attempt, job.task_id) == (2, task_id)
        rows = list(job.suggestions.order_by("position"))
        assert rows and [row.position for row in rows] == list(range(1, len(rows) + 1))
        assert len({(row.field_name, row.span_start, row.span_end, row.text) for row in rows}) == len(rows)
        assert "aspirin" in job.transcript_text.lower()
        results = AccessLog.objects.filter(object_type="scribe.scribejob", object_id=str(job.external_id))
        assert results.filter(action="create", actor_kind="task").count() == 1

        # and a further delivery of the same task changes nothing
        from ai.scribe.pipeline import scribe_job_run

        assert scribe_job_run(job_id=job.pk, task_id=task_id) == "skipped"
        assert job.suggestions.count() == len(rows)
    finally:
        _stop(first)
        if second is not None:
            _stop(second)
        if job is not None:
            remove_job_audio(job)
