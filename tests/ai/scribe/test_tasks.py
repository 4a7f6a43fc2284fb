"""The scribe's Celery tasks: the job task's delivery options and route, and the retention purge."""

import os
from datetime import timedelta

import pytest
from django.utils import timezone

from ai.scribe import storage
from ai.scribe.models import ScribeJob
from ai.scribe.tasks import scribe_audio_purge_task, scribe_job_run_task
from hospital.celery import app
from hospital.core.models import AccessLog
from tests.ai.scribe.test_services_support import TURNS, outpatient_with_team, transcript_job

pytestmark = pytest.mark.django_db


@pytest.fixture
def team():
    return outpatient_with_team()


@pytest.fixture(autouse=True)
def audio_dir(settings, tmp_path):
    settings.SCRIBE_AUDIO_DIR = str(tmp_path)
    return tmp_path


def test_the_job_task_is_late_acknowledged_on_the_ai_queue_and_runs_the_pipeline(team):
    doctor, *_rest, encounter = team
    job = transcript_job(encounter, doctor, TURNS)

    assert scribe_job_run_task.acks_late and scribe_job_run_task.reject_on_worker_lost
    assert app.amqp.router.route({}, scribe_job_run_task.name)["queue"].name == "ai"
    assert app.amqp.router.route({}, scribe_audio_purge_task.name)["queue"].name == "ai"
    assert scribe_job_run_task.time_limit > scribe_job_run_task.soft_time_limit
    assert scribe_job_run_task.time_limit < app.conf.broker_transport_options["visibility_timeout"]

    outcome = scribe_job_run_task.apply(args=[job.pk], task_id="delivery-1").get()
    again = scribe_job_run_task.apply(args=[job.pk], task_id="delivery-1").get()

    job.refresh_from_db()
    assert (outcome, again) == ("ready", "skipped")
    assert job.status == "ready" and job.task_id == "delivery-1" and job.suggestions.exists()
    logged = AccessLog.objects.get(object_type="scribe.scribejob", action="create", actor_kind="task")
    assert logged.channel == "task"


def _job_with_audio(encounter, doctor, *, days_old: int) -> ScribeJob:
    from ai.scribe.services import scribe_job_create_from_audio

    job = scribe_job_create_from_audio(encounter=encounter, clinician=doctor, data=b"RIFF-recording")
    ScribeJob.objects.filter(pk=job.pk).update(
        created_at=timezone.now() - timedelta(days=days_old), transcript_text="kept words"
    )
    job.refresh_from_db()
    return job


def test_the_purge_deletes_recordings_past_retention_and_keeps_their_transcripts(
    team, settings, audio_dir, django_capture_on_commit_callbacks
):
    doctor, *_rest, patient, encounter = team
    settings.SCRIBE_AUDIO_RETENTION_DAYS = 30
    old = _job_with_audio(encounter, doctor, days_old=31)
    recent = _job_with_audio(encounter, doctor, days_old=29)
    orphan = storage.audio_write(b"left by a rolled-back upload", external_id="00000000-0000-4000-8000-000000000001")
    two_days_ago = (timezone.now() - timedelta(days=2)).timestamp()
    os.utime(audio_dir / orphan, (two_days_ago, two_days_ago))
    old_file = old.audio_path

    with django_capture_on_commit_callbacks(execute=True):  # files go once the rows say so
        purged = scribe_audio_purge_task()

    assert purged == 1
    old.refresh_from_db()
    recent.refresh_from_db()
    assert old.audio_path == "" and old.audio_deleted_at is not None
    assert old.transcript_text == "kept words" and len(old.audio_sha256) == 64
    assert not (audio_dir / old_file).exists() and not (audio_dir / orphan).exists()
    assert recent.has_audio and (audio_dir / recent.audio_path).exists()
    entry = AccessLog.objects.get(object_type="scribe.scribejob", action="delete")
    assert entry.object_id == str(old.external_id) and entry.patient_external_id == patient.external_id
    assert scribe_audio_purge_task() == 0  # nothing left to purge


def test_the_beat_entry_names_a_registered_task():
    assert "ai.scribe.tasks.scribe_audio_purge_task" in app.tasks


def _queued_on_ai() -> list[tuple[str, str]]:
    """(task name, args) of the messages waiting on the broker's "ai" queue."""
    import json

    import redis
    from django.conf import settings

    raw = redis.Redis.from_url(settings.CELERY_BROKER_URL).lrange("ai", 0, -1)
    return [(m["headers"]["task"], m["headers"]["argsrepr"]) for m in map(json.loads, raw)]


def test_jobs_whose_task_was_lost_are_enqueued_again_and_taken_over(team):
    from ai.scribe import services
    from ai.scribe.tasks import scribe_stale_jobs_task
    from tests.ai.scribe.test_services_support import purge_broker_queues

    purge_broker_queues()
    doctor, *_rest, encounter = team
    lost_in_queue = transcript_job(encounter, doctor)
    died_running = transcript_job(encounter, doctor)
    fresh = transcript_job(encounter, doctor)
    services.scribe_job_claim(job_id=died_running.pk, task_id="dead-delivery")
    services.scribe_job_claim(job_id=fresh.pk, task_id="live-delivery")
    an_hour_ago = timezone.now() - timedelta(hours=1)
    ScribeJob.objects.filter(pk=lost_in_queue.pk).update(created_at=an_hour_ago)
    ScribeJob.objects.filter(pk=died_running.pk).update(heartbeat_at=an_hour_ago)

    assert scribe_stale_jobs_task() == 2

    expected = [(scribe_job_run_task.name, f"[{job.pk}]") for job in (lost_in_queue, died_running)]
    assert sorted(_queued_on_ai()) == sorted(expected)
    purge_broker_queues()
    # the new delivery takes over the job the dead one left; the live one keeps its own
    assert services.scribe_job_claim(job_id=died_running.pk, task_id="requeued").attempt == 2
    assert services.scribe_job_claim(job_id=fresh.pk, task_id="requeued") is None
