"""Builders shared by the scribe tests (no tests here): a doctor's outpatient, other clinicians, dictations."""

import shutil
import subprocess
from pathlib import Path

from ai.scribe import services
from ai.scribe.engine import types
from ai.scribe.models import ScribeJob
from tests.emr.test_access_support import make_patient, make_user, start_outpatient

DICTATION = (
    "The patient complains of chest pain for two days. She takes aspirin 100 milligrams daily. "
    "She is allergic to penicillin. Blood pressure 150 over 90."
)
TURNS = [
    ("doctor", "What brings you in today?"),
    ("patient", "I have had chest pain for two days."),
    ("doctor", "Do you take any medicines?"),
    ("patient", "Aspirin 100 milligrams daily. I am allergic to penicillin."),
    ("doctor", "Your blood pressure is 150 over 90."),
]


def outpatient_with_team(suffix: str = "1"):
    """A doctor attending an outpatient encounter, a doctor outside the care team, and a nurse on the team.

    Returns (doctor, outsider, nurse, patient, encounter)."""
    from emr.services.encounters import care_team_add

    doctor = make_user(f"dr.scribe{suffix}", "doctor")
    outsider = make_user(f"dr.other{suffix}", "doctor")
    nurse = make_user(f"nurse.scribe{suffix}", "nurse")
    patient = make_patient("Li", f"Mei{suffix}")
    encounter = start_outpatient(patient, doctor, reason="chest pain")
    care_team_add(encounter=encounter, user=nurse, role="nurse", added_by=doctor)
    return doctor, outsider, nurse, patient, encounter


def transcript_job(encounter, doctor, turns=TURNS, language="en") -> ScribeJob:
    return services.scribe_job_create_from_transcript(
        encounter=encounter, clinician=doctor, turns=list(turns), language=language
    )


def suggestion(field, text, transcript: str, phrase: str, **kwargs) -> types.Suggestion:
    """A Suggestion whose span is where `phrase` is in `transcript`."""
    start = transcript.index(phrase)
    confidence = kwargs.pop("confidence", 0.9)
    return types.Suggestion(field, text, start, start + len(phrase), confidence, **kwargs)


def espeak_wav(path: Path, text: str = DICTATION, *, speed: int = 160, voice: str = "en-us") -> Path:
    """A WAV of `text` spoken by espeak-ng (needs the espeak-ng program)."""
    program = shutil.which("espeak-ng")
    assert program, "espeak-ng is not installed (apt-get install espeak-ng)"
    subprocess.run([program, "-v", voice, "-s", str(speed), "-w", str(path), text], check=True, capture_output=True)
    return path


def silent_wav(path: Path, seconds: float = 3.0, rate: int = 16000) -> Path:
    import wave

    with wave.open(str(path), "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(rate)
        out.writeframes(b"\x00\x00" * int(seconds * rate))
    return path


def wait_for_job(job: ScribeJob, statuses=("ready", "failed"), timeout: float = 180.0) -> ScribeJob:
    """Poll the job until its status is one of `statuses` (a real worker runs it in another process)."""
    import time

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        job.refresh_from_db()
        if job.status in statuses:
            return job
        time.sleep(0.2)
    raise AssertionError(f"scribe job stayed {job.status} ({job.progress}%) for {timeout:.0f} s")


def purge_broker_queues() -> None:
    """Drop messages an earlier test run left on the test Redis, so a worker only sees this test's jobs."""
    from hospital.celery import app

    with app.connection_for_write() as connection:
        for queue in ("ai", "default", "alerts"):
            connection.default_channel.queue_purge(queue)


def remove_job_audio(*jobs: ScribeJob) -> None:
    """Delete the encrypted recordings that jobs of a worker test left in SCRIBE_AUDIO_DIR."""
    from ai.scribe import storage

    for job in jobs:
        storage.audio_delete(storage.audio_file_name(job.external_id))
