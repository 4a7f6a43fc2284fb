"""Bad recordings with a real Celery worker: each job fails with a reason a clinician understands, nothing of it
is half-written, the worker keeps running and the next good recording is transcribed; an oversized file never
becomes a job."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from ai.scribe import services
from ai.scribe.models import ScribeJob
from tests.ai.scribe.test_services_support import (
    espeak_wav,
    outpatient_with_team,
    purge_broker_queues,
    remove_job_audio,
    silent_wav,
    wait_for_job,
)

pytestmark = [pytest.mark.worker, pytest.mark.usefixtures("transactional_db")]


def test_bad_recordings_fail_with_reasons_and_the_worker_goes_on(celery_worker_process, tmp_path, api_client):
    purge_broker_queues()
    doctor, _outsider, _nurse, _patient, encounter = outpatient_with_team("bad")
    good_wav = espeak_wav(tmp_path / "good.wav").read_bytes()
    bad = {
        "not_audio": b"%PDF-1.7\n1 0 obj << /Type /Catalog >> endobj\n" * 20,
        "empty": b"",
        "silent": silent_wav(tmp_path / "silent.wav").read_bytes(),
        "corrupt": good_wav[:20] + b"\xff" * 24 + good_wav[44:5000],  # a WAV whose format chunk is overwritten
    }
    jobs = {}
    try:
        # when a doctor uploads each bad file, then a good one
        for code, data in bad.items():
            jobs[code] = services.scribe_job_create_from_audio(encounter=encounter, clinician=doctor, data=data)
        good = services.scribe_job_create_from_audio(encounter=encounter, clinician=doctor, data=good_wav)

        # then every bad job failed with its reason and kept nothing half-done
        for code, job in jobs.items():
            wait_for_job(job)
            assert (job.status, job.failure_code) == ("failed", code), job.failure_reason
            assert len(job.failure_reason) > 20 and "Traceback" not in job.failure_reason
            assert job.transcript_text == "" and job.summary == "" and not job.suggestions.exists()
            assert job.note is None
        assert "not a sound recording" in jobs["not_audio"].failure_reason
        assert "empty" in jobs["empty"].failure_reason
        assert "No speech" in jobs["silent"].failure_reason
        assert "damaged" in jobs["corrupt"].failure_reason

        # and the same worker, still running, transcribed the good recording
        wait_for_job(good)
        assert good.status == "ready", good.failure_reason
        assert "chest pain" in good.transcript_text.lower() and "aspirin" in good.transcript_text.lower()
        assert good.suggestions.filter(field_name="medication", text__icontains="aspirin").exists()
        assert celery_worker_process.poll() is None

        # a file over the size limit is refused at the door: no job, no file
        api_client.force_authenticate(doctor)
        from django.test import override_settings

        with override_settings(SCRIBE_MAX_UPLOAD_MB=0.01):
            upload = SimpleUploadedFile("long.wav", good_wav, content_type="audio/wav")
            response = api_client.post(
                "/api/v1/scribe/jobs/", {"encounter": str(encounter.external_id), "audio": upload}, format="multipart"
            )
        assert response.status_code == 413 and "larger than" in response.data["error"]["message"]
        assert ScribeJob.objects.count() == len(bad) + 1
    finally:
        remove_job_audio(*jobs.values(), *ScribeJob.objects.all())
