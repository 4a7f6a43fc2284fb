"""The scribe's settings, read from django.conf.settings at every call (so override_settings works).

Every name here is optional in settings.py; the defaults make a fresh install work offline on a laptop.
"""

from pathlib import Path
from typing import Literal

from django.conf import settings

MB = 1024 * 1024


def _get(name: str, default):
    return getattr(settings, name, default)


def audio_dir() -> Path:
    """Where encrypted recordings live (SCRIBE_AUDIO_DIR, default <VAR_DIR>/scribe-audio)."""
    configured = _get("SCRIBE_AUDIO_DIR", "")
    if configured:
        return Path(configured)
    return Path(_get("VAR_DIR", Path(settings.BASE_DIR) / "var")) / "scribe-audio"


def audio_retention_days() -> int:
    """Days a recording is kept after its job was created (SCRIBE_AUDIO_RETENTION_DAYS, default 30)."""
    return int(_get("SCRIBE_AUDIO_RETENTION_DAYS", 30))


def max_upload_bytes() -> int:
    """The largest recording accepted (SCRIBE_MAX_UPLOAD_MB, default 50 MB)."""
    return int(float(_get("SCRIBE_MAX_UPLOAD_MB", 50)) * MB)


def max_audio_seconds() -> int:
    """The longest recording transcribed (SCRIBE_MAX_AUDIO_SECONDS, default 1800: half an hour)."""
    return int(_get("SCRIBE_MAX_AUDIO_SECONDS", 1800))


def max_transcript_chars() -> int:
    """The longest ready transcript accepted (SCRIBE_MAX_TRANSCRIPT_CHARS, default 200 000 characters)."""
    return int(_get("SCRIBE_MAX_TRANSCRIPT_CHARS", 200_000))


def whisper_model(language: str) -> str:
    """The faster-whisper model for a language: a model name (tiny.en, base, small, ...) or a local directory.

    SCRIBE_WHISPER_MODEL_EN (default "tiny.en") for English, SCRIBE_WHISPER_MODEL_ZH (default "base") for Chinese.
    """
    if language == "zh":
        return str(_get("SCRIBE_WHISPER_MODEL_ZH", "base"))
    return str(_get("SCRIBE_WHISPER_MODEL_EN", "tiny.en"))


def whisper_compute_type() -> str:
    return str(_get("SCRIBE_WHISPER_COMPUTE_TYPE", "int8"))


def whisper_threads() -> int:
    return int(_get("SCRIBE_WHISPER_THREADS", 2))


def whisper_beam_size() -> int:
    return int(_get("SCRIBE_WHISPER_BEAM_SIZE", 1))


def vocabulary_bias() -> str:
    """Which terms bias the recogniser (SCRIBE_VOCABULARY_BIAS): "formulary" (default) the patient's active
    problems and medications with their other names, then the formulary's drug names; "patient" only the
    patient's own; "off" none."""
    value = str(_get("SCRIBE_VOCABULARY_BIAS", "formulary")).strip().lower()
    return value if value in ("formulary", "patient", "off") else "formulary"


def whisper_bias() -> Literal["targeted", "hotwords", "prompt"]:
    """How the terms bias Whisper (SCRIBE_WHISPER_BIAS, see ai.scribe.engine.asr): "targeted" (default) decodes
    again, with only the few names it sounds like, a segment that sounds like a name of the list; "hotwords"
    repeats the list (cut to SCRIBE_HOTWORD_LIMIT) before every 30 s window; "prompt" gives it once. With
    tiny.en a long repeated list pulled ordinary words towards drug names (penicillin heard as "paracetylin",
    "blood" as "Lud"); targeted did not."""
    value = str(_get("SCRIBE_WHISPER_BIAS", "targeted")).strip().lower()
    if value == "hotwords":
        return "hotwords"
    if value == "prompt":
        return "prompt"
    return "targeted"


def hotword_limit() -> int:
    """How many vocabulary terms bias the recogniser (SCRIBE_HOTWORD_LIMIT, default 60)."""
    return int(_get("SCRIBE_HOTWORD_LIMIT", 60))


def task_soft_time_limit() -> int:
    """Seconds a job may run before it fails as too long (SCRIBE_TASK_SOFT_TIME_LIMIT, default 1500).

    Keep SCRIBE_TASK_TIME_LIMIT below the broker's visibility timeout (3600 s), or a job still running is
    delivered a second time.
    """
    return int(_get("SCRIBE_TASK_SOFT_TIME_LIMIT", 1500))


def task_time_limit() -> int:
    return int(_get("SCRIBE_TASK_TIME_LIMIT", 1800))


def stale_claim_seconds() -> int:
    """A running job whose worker has not reported progress for this long is taken over by another delivery
    of its task (SCRIBE_STALE_CLAIM_SECONDS, default 600)."""
    return int(_get("SCRIBE_STALE_CLAIM_SECONDS", 600))


def progress_interval_seconds() -> float:
    """The least time between two progress writes of a running job (SCRIBE_PROGRESS_INTERVAL_SECONDS, 1.0)."""
    return float(_get("SCRIBE_PROGRESS_INTERVAL_SECONDS", 1.0))


def poll_seconds() -> float:
    """How often the job page asks for the job's status while it runs (SCRIBE_POLL_SECONDS, default 2)."""
    return max(0.2, float(_get("SCRIBE_POLL_SECONDS", 2)))
