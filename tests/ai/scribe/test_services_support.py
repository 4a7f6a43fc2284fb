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
