"""One scribe job from start to end, in the worker: decrypt -> load audio -> transcribe -> extract -> summarise.

The engine (ai.scribe.engine) is imported inside the functions that use it, so importing this module loads
neither faster-whisper nor torch. Failures end the job, never the worker: a recording the engine cannot use
(AudioError) fails with the engine's message, a recording that is gone or does not decrypt with a reason
that says so, and anything unexpected with a generic reason while the traceback goes to the log. Database
errors are left to the task, which retries them.
"""

import logging
import time
from collections.abc import Callable

from celery.exceptions import SoftTimeLimitExceeded
from django.db import DatabaseError, InterfaceError, OperationalError
from django.utils.translation import gettext as _
from django.utils.translation import override

from ai.scribe import conf, storage
from ai.scribe.engine import types
from ai.scribe.models import ScribeJob
from ai.scribe.selectors import scribe_vocabulary_context
from ai.scribe.services import (
    Claim,
    JobSuperseded,
    scribe_job_claim,
    scribe_job_complete,
    scribe_job_fail,
    scribe_job_progress,
    scribe_job_transcript,
)

logger = logging.getLogger(__name__)

# The outcome of one delivery, for the log and the tests.
READY, FAILED, SKIPPED, SUPERSEDED = "ready", "failed", "skipped", "superseded"


class Refused(Exception):
    """The job cannot be done, for a reason a clinician can act on (`code`, `reason`)."""

    def __init__(self, code: str, reason: str):
        super().__init__(reason)
        self.code = code
        self.reason = reason


class ProgressReporter:
    """The `progress` callback of transcription: writes "transcribing n%" at most every
    SCRIBE_PROGRESS_INTERVAL_SECONDS and only when the percentage moved, so a long recording costs a few
    dozen small UPDATEs. Raises JobSuperseded (out of the transcription) when the job was taken over."""

    def __init__(self, claim: Claim, *, clock: Callable[[], float] = time.monotonic):
        self.claim = claim
        self.clock = clock
        self.last_percent = -1
        self.last_at = float("-inf")
        self.writes = 0

    def __call__(self, fraction: float) -> None:
        percent = max(0, min(99, int(float(fraction) * 100)))
        now = self.clock()
        if percent <= self.last_percent or now - self.last_at < conf.progress_interval_seconds():
            return
        scribe_job_progress(claim=self.claim, status=ScribeJob.Status.TRANSCRIBING, progress=percent)
        self.last_percent, self.last_at = percent, now
        self.writes += 1


def _hotwords(job: ScribeJob, vocabulary) -> list[str]:
    """The terms that bias transcription (SCRIBE_VOCABULARY_BIAS), most important first: the patient's active
    problems and medications with the drugs' other names; with "formulary" the formulary's drug names after
    them (for targeted biasing every Latin-script name and synonym, which it can afford)."""
    mode = conf.vocabulary_bias()
    if mode == "off":
        return []
    problems, medications = scribe_vocabulary_context(job=job)
    ranked = [str(word) for word in vocabulary.hotwords(problems, medications, conf.hotword_limit()) or []]
    if mode == "patient":
        own = {term.lower() for term in (*problems, *medications)}
        for name in medications:
            drug = vocabulary.drug(name)
            if drug is not None:
                own.update(term.lower() for term in (drug.name_en, *drug.synonyms))
        return [word for word in ranked if word.lower() in own]
    if conf.whisper_bias() != "targeted":
        return ranked
    words = {term.lower(): term for term in reversed(ranked)}
    for drug in vocabulary.drugs:
        for term in (drug.name_en, *drug.synonyms):
            if term and term.isascii():
                words.setdefault(term.lower(), term)
    return sorted(words.values(), key=lambda term: (0, ranked.index(term)) if term in ranked else (1, 0))


def _transcribe(job: ScribeJob, claim: Claim, vocabulary, timings: dict[str, float]) -> tuple[types.Transcript, list]:
    from ai.scribe.engine.asr import UnsupportedLanguage, transcribe
    from ai.scribe.engine.audio import load_audio

    started = time.monotonic()
    data = storage.audio_read(job.audio_path, external_id=job.external_id)
    audio = load_audio(data, max_bytes=conf.max_upload_bytes(), max_seconds=conf.max_audio_seconds())
    del data
    timings["decode"] = time.monotonic() - started
    started = time.monotonic()
    hotwords = _hotwords(job, vocabulary)
    timings["vocabulary"] = time.monotonic() - started
    started = time.monotonic()
    try:
        transcript = transcribe(
            audio,
            model=conf.whisper_model(job.language),
            language=job.language,
            hotwords=hotwords,
            compute_type=conf.whisper_compute_type(),
            threads=conf.whisper_threads(),
            beam_size=conf.whisper_beam_size(),
            vad=True,
            progress=ProgressReporter(claim),
            bias=conf.whisper_bias(),
        )
    except UnsupportedLanguage as exc:
        logger.warning("scribe job %s: %s", job.pk, exc)
        raise Refused(
            "language", _("The speech model for this language is not installed. Ask the administrator.")
        ) from exc
    timings["transcribe"] = time.monotonic() - started
    if not transcript.text.strip():
        raise Refused("no_speech", _("No speech was recognised in the recording. Record again closer to the speakers."))
    return transcript, hotwords


def _process(job: ScribeJob, claim: Claim) -> tuple[types.ScribeResult, list | None]:
    from ai.scribe.engine.extract import extract
    from ai.scribe.engine.llm import summarise_with_llm
    from ai.scribe.engine.vocabulary import Vocabulary

    timings: dict[str, float] = {}
    started = time.monotonic()
    vocabulary = Vocabulary.default()
    timings["vocabulary_load"] = time.monotonic() - started
    hotwords: list | None = None
    if job.source == ScribeJob.Source.TRANSCRIPT:
        transcript = scribe_job_transcript(job)
    else:
        transcript, hotwords = _transcribe(job, claim, vocabulary, timings)
    scribe_job_progress(claim=claim, status=ScribeJob.Status.EXTRACTING, progress=0)
    started = time.monotonic()
    suggestions = extract(transcript, vocabulary=vocabulary)
    timings["extract"] = time.monotonic() - started
    started = time.monotonic()
    # The template summary of the fields; a hospital LLM (SCRIBE_LLM_URL, off by default) may rewrite it.
    summary = summarise_with_llm(suggestions, language=job.language, vocabulary=vocabulary)
    timings["summary"] = time.monotonic() - started
    result = types.ScribeResult(
        transcript=transcript, suggestions=suggestions, summary=summary.summary, summary_model=summary.model,
        timings=timings,
    )  # fmt: skip
    return result, hotwords


def _fail(claim: Claim, code: str, reason: str) -> str:
    return FAILED if scribe_job_fail(claim=claim, code=code, reason=reason) else SUPERSEDED


def scribe_job_run(*, job_id: int, task_id: str) -> str:
    """Run the job for this delivery of its task; returns ready, failed, skipped (nothing to do) or superseded.

    Claims the job first (ai.scribe.services.scribe_job_claim: a finished job or one another live delivery
    holds is skipped; a job left running by a dead worker restarts from the beginning), then writes the
    whole result in one transaction. Reasons are written in the language of the job.
    """
    claim = scribe_job_claim(job_id=job_id, task_id=task_id)
    if claim is None:
        return SKIPPED
    job = ScribeJob.objects.select_related("patient", "encounter").get(pk=job_id)
    language = "zh-hans" if job.language == ScribeJob.Language.CHINESE else "en"
    with override(language):
        return _run_claimed(job, claim)


def _run_claimed(job: ScribeJob, claim: Claim) -> str:
    try:
        result, hotwords = _process(job, claim)
    except JobSuperseded:
        logger.info("scribe job %s attempt %s was taken over; its work is dropped", job.pk, claim.attempt)
        return SUPERSEDED
    except types.AudioError as exc:
        return _fail(claim, exc.code, exc.message)
    except Refused as exc:
        return _fail(claim, exc.code, exc.reason)
    except storage.AudioDecryptionError:
        logger.exception("scribe job %s: the stored recording does not decrypt", job.pk)
        return _fail(claim, "unreadable", _("The stored recording could not be opened. Upload it again."))
    except storage.AudioStorageError:
        return _fail(claim, "audio_missing", _("The recording is no longer stored. Upload it again."))
    except SoftTimeLimitExceeded:
        return _fail(claim, "timeout", _("The recording took too long to process. Try a shorter recording."))
    except (OperationalError, InterfaceError):
        raise  # the database went away: the task retries, and the retry restarts the job
    except DatabaseError:
        logger.exception("scribe job %s failed on a database error", job.pk)
        return _fail(claim, "internal", _generic_reason())
    except Exception:
        logger.exception("scribe job %s failed", job.pk)
        return _fail(claim, "internal", _generic_reason())
    if scribe_job_complete(claim=claim, result=result, hotwords=hotwords):
        return READY
    return SUPERSEDED


def _generic_reason() -> str:
    return _(
        "The scribe could not process this recording because of an internal error. "
        "Try again, or write the note by hand."
    )  # fmt: skip
