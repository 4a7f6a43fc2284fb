"""Speech to text: faster-whisper on the worker's CPU, then the hallucination guard and the speaker turns.

`transcribe(audio, ...)` runs Whisper (CTranslate2, int8, a few threads) on the speech regions that voice
activity detection found, streams progress as segments arrive, drops hallucinations (guard.py), cuts
the segments into doctor and patient turns (speakers.py), and returns a `Transcript` whose segments carry
character offsets into its text.

Languages. tiny.en only knows English. A consultation in Chinese (language "zh") needs a multilingual
model: when the requested model is English-only, the one named by the setting
SCRIBE_WHISPER_MULTILINGUAL_MODEL (default "base") is used instead and named in the transcript; with the
setting empty, `UnsupportedLanguage` is raised. For Chinese, a short Simplified-Chinese prompt keeps
Whisper from writing Traditional characters.

Vocabulary biasing. `hotwords` are the hospital's formulary names and the patient's active problems and
medications, most important first. Three ways to use them (`bias`):
- "hotwords": given to Whisper as a prompt of previous text before every 30 s window (faster-whisper's
  `hotwords`), so spellings it would not guess ("amlodipine", "bisoprolol") become likely. Whisper's
  prompt is limited (half of its 448-token context, shared with the previous window's text), so the list
  is cut, whole terms only, at `hotword_tokens` tokens.
- "prompt": the same, once, as the initial prompt (it steers the first window or two).
- "targeted": a first pass without biasing; then each segment holding a run of words that sounds like a
  term of the list (a spelling-independent sound key within 0.8 similarity: "met for in" ~ metformin)
  is decoded again with only those few terms as hotwords, and its new text is kept only when the single
  change from the first pass is that stretch (up to four words) now reading as one of them. A long
  prompt of names makes small Whisper models write names that were not said and imitate the list; this
  asks about a name only where the audio suggests one, and any length of vocabulary fits.
"targeted" is the default: on synthesised PriMock57 dev consultations the long prompt ("hotwords") roughly
doubled tiny.en's word error rate (see the evaluation in ai/scribe/evaluation/speech.py).

Whisper falls back to sampling at higher temperatures when greedy decoding loops; the random seed is fixed
so the same recording always gives the same transcript.
"""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any, Literal

import numpy as np

from ai.scribe.engine import whisper_models
from ai.scribe.engine.audio import SAMPLE_RATE, Audio, error_message, speech_regions
from ai.scribe.engine.guard import RawSegment, Word, apply_guard
from ai.scribe.engine.speakers import assign_speakers
from ai.scribe.engine.types import AudioError, Segment, Speaker, Transcript

if TYPE_CHECKING:
    from faster_whisper import WhisperModel

TARGET_SIMILARITY = 0.8  # sound-key similarity for a run of words to be a candidate for a vocabulary term
TARGET_MIN_LETTERS = 7  # shorter terms ("iron", "Keppra") sound like too many everyday words
TARGET_TERMS_PER_SEGMENT = 3
TARGET_PAD_S = 0.3
SEED = 2024
HOTWORD_TOKENS = 96  # leaves room in the 448-token context for the previous window's text and the new text
CHINESE_PROMPT = (
    "以下是普通话的句子。"  # "What follows are Mandarin sentences": Simplified characters in, Simplified out
)

_models: dict[tuple[str, str, int], WhisperModel] = {}
_models_lock = threading.Lock()


class UnsupportedLanguage(ValueError):
    """The requested language needs a multilingual model and none is configured."""


def get_model(path: str, compute_type: str = "int8", threads: int = 2) -> WhisperModel:
    """A loaded WhisperModel, kept for the life of the process per (path, compute type, threads)."""
    key = (path, compute_type, threads)
    model = _models.get(key)
    if model is None:
        with _models_lock:
            model = _models.get(key)
            if model is None:
                from faster_whisper import WhisperModel

                model = WhisperModel(path, device="cpu", compute_type=compute_type, cpu_threads=threads)
                _models[key] = model
    return model


def choose_model(model: str, language: str | None) -> str:
    """The model that can transcribe `language`: `model` itself, or the configured multilingual one."""
    if language in (None, "en") or not whisper_models.is_english_only(model):
        return model
    fallback = whisper_models.setting("SCRIBE_WHISPER_MULTILINGUAL_MODEL", "base")
    if not fallback:
        raise UnsupportedLanguage(
            f"The speech model {model} only understands English; set SCRIBE_WHISPER_MULTILINGUAL_MODEL "
            f"to a multilingual model to transcribe language '{language}'."
        )
    return str(fallback)


def prompt_terms(terms: Iterable[str], count_tokens: Callable[[str], int], budget: int = HOTWORD_TOKENS) -> str:
    """The terms, de-duplicated and in order, joined by commas and cut (whole terms) to `budget` tokens."""
    seen: set[str] = set()
    chosen: list[str] = []
    used = 0
    for term in terms:
        term = " ".join(str(term).split())
        key = term.casefold()
        if not term or key in seen:
            continue
        cost = count_tokens(" " + term + ",")
        if used + cost > budget:
            continue  # a shorter term further down may still fit
        seen.add(key)
        chosen.append(term)
        used += cost
    return ", ".join(chosen)


_VOWELS = re.compile(r"[aeiouy]+")


def sound_key(text: str) -> str:
    """A rough spelling-independent key of how a Latin-script term sounds: "panicellin" and "penicillin"
    share one ("panasalan"). Lower case letters only; c/k/q, s/z, ph/f, x/ks unified; doubled letters
    collapsed; every vowel run is "a"."""
    t = re.sub(r"[^a-z]", "", text.lower())
    for a, b in (("ph", "f"), ("ck", "k"), ("qu", "kw"), ("x", "ks"), ("th", "t"), ("gh", "g"), ("wh", "w")):
        t = t.replace(a, b)
    t = re.sub(r"c(?=[eiy])", "s", t).replace("c", "k").replace("q", "k").replace("z", "s")
    t = re.sub(r"(?<=[^aeiouy])h", "", t)
    t = re.sub(r"(.)\1+", r"\1", t)
    return _VOWELS.sub("a", t)


def find_candidates(
    segments: list[RawSegment], terms: Iterable[str], *, min_similarity: float = TARGET_SIMILARITY
) -> dict[int, list[str]]:
    """Per segment index, the vocabulary terms that sound like a run of 1-4 of its words but are not
    written there: where Whisper probably misheard a drug or condition name ("met for in" ~ metformin)."""
    from rapidfuzz.distance import Levenshtein
    from rapidfuzz.process import extract

    keyed: dict[str, str] = {}
    known: set[str] = set()
    for term in terms:
        if not term.isascii():
            continue
        known.update(_words(term))
        if len(re.sub(r"[^a-z]", "", term.lower())) >= TARGET_MIN_LETTERS:
            keyed.setdefault(sound_key(term), term)
    if not keyed:
        return {}
    keys = list(keyed)
    found: dict[int, list[str]] = {}
    for idx, seg in enumerate(segments):
        words = _words(seg.text)
        low = seg.text.lower()
        scores: dict[str, float] = {}
        for n in range(1, 5):
            for i in range(len(words) - n + 1):
                if any(w in known for w in words[i : i + n]):
                    continue  # a name heard right is not another name misheard
                window = "".join(words[i : i + n])
                key = sound_key(window)
                if len(key) < TARGET_MIN_LETTERS - 1:
                    continue
                for _, score, j in extract(
                    key, keys, scorer=Levenshtein.normalized_similarity, score_cutoff=min_similarity, limit=3
                ):
                    term = keyed[keys[j]]
                    if re.search(rf"\b{re.escape(term.lower())}\b", low):
                        continue  # already heard right
                    scores[term] = max(scores.get(term, 0.0), float(score))
        if scores:
            found[idx] = sorted(scores, key=lambda t: -scores[t])[:TARGET_TERMS_PER_SEGMENT]
    return found


def _words(text: str) -> list[str]:
    return re.findall(r"[a-z0-9\u4e00-\u9fff]+(?:'[a-z]+)?", text.lower())


def only_change_is_term(old: str, new: str, term: str) -> bool:
    """Whether `new` differs from `old` in one stretch of at most four words, now holding `term`."""
    import difflib

    a, b, t = _words(old), _words(new), _words(term)
    changes = [op for op in difflib.SequenceMatcher(a=a, b=b, autojunk=False).get_opcodes() if op[0] != "equal"]
    if len(changes) != 1:
        return False
    _, i1, i2, j1, j2 = changes[0]
    replaced = b[j1:j2]
    holds = any(replaced[k : k + len(t)] == t for k in range(len(replaced) - len(t) + 1))
    return holds and 0 < i2 - i1 <= 4 and len(replaced) <= len(t) + 2


def redecode_targeted(
    whisper: WhisperModel,
    mono: np.ndarray,
    segments: list[RawSegment],
    candidates: dict[int, list[str]],
    *,
    language: str | None,
    beam_size: int,
    word_timestamps: bool,
) -> tuple[list[RawSegment], list[str]]:
    """Decode again, with only its candidate terms as hotwords, each segment that seems to hold a misheard
    term; keep the new text only when the one thing that changed is a stretch of up to four words that now
    reads as a candidate (so a prompt word cannot replace something else that was said, nor change other
    words). Returns the segments and a note per replacement."""
    notes: list[str] = []
    out = list(segments)
    for idx, terms in candidates.items():
        seg = segments[idx]
        a = max(0, int((seg.start - TARGET_PAD_S) * SAMPLE_RATE))
        b = min(mono.size, int((seg.end + TARGET_PAD_S) * SAMPLE_RATE))
        if b - a < SAMPLE_RATE // 4:
            continue
        pieces, _ = whisper.transcribe(
            mono[a:b],
            language=language,
            beam_size=beam_size,
            vad_filter=False,
            word_timestamps=word_timestamps,
            condition_on_previous_text=False,
            temperature=0.0,
            hotwords=", ".join(terms),
        )
        new = list(_raw_segments(pieces))
        text = " ".join(p.text.strip() for p in new).strip()
        if not any(only_change_is_term(seg.text, text, t) for t in terms):
            continue
        offset = a / SAMPLE_RATE
        words = [Word(w.start + offset, w.end + offset, w.text, w.probability) for p in new for w in p.words]
        out[idx] = RawSegment(
            start=words[0].start if words else seg.start,
            end=words[-1].end if words else seg.end,
            text=" " + text,
            words=words,
            avg_logprob=seg.avg_logprob,
            no_speech_prob=seg.no_speech_prob,
            compression_ratio=seg.compression_ratio,
        )
        notes.append(f"{seg.start:.1f}–{seg.end:.1f} s: “{seg.text.strip()}” → “{text}”")
    return out, notes


def _token_counter(model: WhisperModel) -> Callable[[str], int]:
    tokenizer = model.hf_tokenizer

    def count(text: str) -> int:
        return len(tokenizer.encode(text, add_special_tokens=False).ids)

    return count


def _raw_segments(segments: Iterable[Any]) -> Iterable[RawSegment]:
    for s in segments:
        words = [Word(float(w.start), float(w.end), w.word, float(w.probability)) for w in (s.words or [])]
        yield RawSegment(
            start=float(s.start),
            end=float(s.end),
            text=s.text,
            words=words,
            avg_logprob=float(s.avg_logprob),
            no_speech_prob=float(s.no_speech_prob),
            compression_ratio=float(s.compression_ratio),
        )


def build_transcript(turns: list[tuple[RawSegment, Speaker]], language: str) -> tuple[str, list[Segment]]:
    """The transcript text (a new line where the speaker changes) and its segments with char offsets."""
    parts: list[str] = []
    segments: list[Segment] = []
    offset = 0
    previous: Speaker | None = None
    for raw, speaker in turns:
        text = raw.text.strip()
        if not text:
            continue
        if parts:
            sep = "\n" if speaker != previous else ("" if language == "zh" else " ")
            parts.append(sep)
            offset += len(sep)
        segments.append(
            Segment(
                start=round(raw.start, 2),
                end=round(raw.end, 2),
                text=text,
                speaker=speaker,
                char_start=offset,
                char_end=offset + len(text),
                avg_logprob=raw.avg_logprob,
                no_speech_prob=raw.no_speech_prob,
            )
        )
        parts.append(text)
        offset += len(text)
        previous = speaker
    return "".join(parts), segments


def transcribe(
    audio: Audio,
    *,
    model: str = "tiny.en",
    language: str | None = None,
    hotwords: list[str] | None = None,
    compute_type: str = "int8",
    threads: int = 2,
    beam_size: int = 1,
    vad: bool = True,
    progress: Callable[[float], None] | None = None,
    bias: Literal["hotwords", "prompt", "targeted"] = "targeted",
    hotword_tokens: int = HOTWORD_TOKENS,
    speakers: bool = True,
    dictation: bool = False,
    channel_roles: tuple[Speaker, Speaker] | None = None,
    guard: bool = True,
    details: dict[str, Any] | None = None,
) -> Transcript:
    """Transcribe `audio` into a `Transcript` (see the module doc for languages and biasing).

    `model`: "tiny.en", "base" or a CTranslate2 model directory. `language`: "en", "zh", ... or None to
    detect (English-only models: "en"). `progress(fraction)` is called as segments arrive, with the share
    of the audio processed. `speakers`: attribute doctor/patient turns (needs Whisper's word timings);
    `dictation`: one clinician speaking, every segment is the doctor's. Raises `AudioError("silent")`
    when voice-activity detection finds no speech, `UnsupportedLanguage` as described above.
    """
    name = choose_model(model, language)
    path = whisper_models.resolve_model(name)
    whisper = get_model(path, compute_type, threads)
    english_only = whisper_models.is_english_only(name)
    if english_only:
        language = "en"

    import ctranslate2

    # Whisper falls back to sampling when greedy decoding loops; a fixed seed makes the same recording give
    # the same transcript every time (reviewable, testable, comparable).
    ctranslate2.set_random_seed(SEED)
    started = time.perf_counter()
    mono = audio.mono
    chunks = None
    if vad:
        chunks = audio.speech if audio.speech is not None else speech_regions(mono)
        if not chunks:
            raise AudioError("silent", error_message("silent"))
        from faster_whisper.vad import collect_chunks

        pieces, _ = collect_chunks(mono, chunks, sampling_rate=SAMPLE_RATE)
        samples = np.concatenate(pieces).astype(np.float32, copy=False)
    else:
        samples = mono

    prompt = (
        prompt_terms(hotwords or [], _token_counter(whisper), hotword_tokens) if hotwords and bias != "targeted" else ""
    )
    initial_prompt: str | None = None
    if language == "zh":
        initial_prompt = CHINESE_PROMPT
    options: dict[str, Any] = {}
    if prompt and bias == "hotwords":
        options["hotwords"] = prompt
    elif prompt:
        initial_prompt = f"{initial_prompt} {prompt}" if initial_prompt else prompt

    segments_iter, info = whisper.transcribe(
        samples,
        language=language,
        beam_size=beam_size,
        vad_filter=False,
        word_timestamps=speakers and not dictation,
        initial_prompt=initial_prompt,
        **options,
    )
    if chunks:
        from faster_whisper.transcribe import restore_speech_timestamps

        segments_iter = restore_speech_timestamps(segments_iter, chunks, SAMPLE_RATE)
    duration = max(audio.duration_s, 1e-6)
    raw: list[RawSegment] = []
    for seg in _raw_segments(segments_iter):
        raw.append(seg)
        if progress is not None:
            progress(min(1.0, seg.end / duration))
    transcribe_seconds = time.perf_counter() - started

    detected = language or info.language
    dropped: list[str] = []
    if guard:
        raw, dropped = apply_guard(
            raw, prompts=[p for p in (initial_prompt, options.get("hotwords")) if p], terms=prompt.split(", ")
        )
    if hotwords and bias == "targeted":
        started = time.perf_counter()
        candidates = find_candidates(raw, hotwords)
        raw, replaced = redecode_targeted(
            whisper,
            mono,
            raw,
            candidates,
            language=language or info.language,
            beam_size=beam_size,
            word_timestamps=speakers and not dictation,
        )
        transcribe_seconds += time.perf_counter() - started
        if details is not None:
            details["candidates"] = dict(candidates)
            details["replaced"] = replaced
    if progress is not None:
        progress(1.0)
    if speakers:
        turns = assign_speakers(raw, audio.samples, dictation=dictation, channel_roles=channel_roles)
    else:
        turns = [(s, "unknown") for s in raw]
    text, segments = build_transcript(turns, detected)
    return Transcript(
        text=text,
        segments=segments,
        language=detected,
        duration_s=audio.duration_s,
        model_name=name,
        model_version=whisper_models.model_version(name),
        transcribe_seconds=transcribe_seconds,
        dropped=dropped,
    )
