"""Speech evaluation on PriMock57 dev: audio synthesised from the human transcripts, transcribed and scored.

PriMock57's recordings are not part of the dataset copy, so each consultation's audio is synthesised from
its human transcripts (one Praat TextGrid per speaker, utterance timings) with espeak-ng, one voice per
speaker: the doctor in espeak-ng's British English male voice ("en-gb"), the patient in its American
English female variant ("en-us+f2"), both at 160 words a minute. Utterances are placed in the order of
their reference timings, one after another with a 0.4 s pause (the synthetic voices speak at their own
rate, so the original timings cannot be kept without overlaps); a two-speaker recording on one channel,
like a phone on the desk. The WAV files and their timelines are cached under `cache_dir`, never in the
repository. Figures on this audio describe the engine on clean synthetic speech, not on real voices: say
so next to every figure.

Scores, micro-averaged over the consultations (total errors / total reference words):
- WER: jiwer on both sides normalised by Whisper's English text normaliser as medwer pins it
  (whisper-normalizer 0.1.12, number folding on). Tags are handled as in the transcripts' conventions:
  <UNSURE>…</UNSURE> keeps its words, <UNIN/> and <INAUDIBLE_SPEECH/> (unintelligible) are left out of
  both the reference and the synthesised audio.
- medical-term error rate: medwer's medical-WER (its fixed 19,373-entry term list, greedy longest match,
  phrases scored as one token).
- speaker attribution accuracy: the share of transcribed speech time (segment durations) given to the
  speaker who actually spoke there (the reference utterance overlapping the segment most); "unknown"
  counts as wrong, and its share is reported as well.
- real-time factor: transcription seconds / audio seconds (2 threads, int8, beam 1 unless told).

Vocabulary biasing, honestly: the hospital's formulary names in the order the production pipeline uses
(ai.scribe.engine.vocabulary.Vocabulary.hotwords: its most used drugs first, then the rest of the
formulary), and the patient's active problems and medications as a record would know them before the
visit. PriMock57's patients are actors with no prior record, so that part is empty here; nothing from the
reference note or the transcript is used. The variants (`biasing`):
- "none": no biasing.
- "hotwords": the production list (60 terms, cut to whole terms within 96 prompt tokens) before every
  30 s window (faster-whisper's `hotwords`).
- "prompt": the same list as the initial prompt only.
- "targeted": a first pass without biasing; each segment with a run of words that sounds like a
  formulary name (the production list and every generic name of the formulary) is decoded again with
  only those names as hotwords, and the new text is kept when the only change is that stretch now
  reading as one of them (asr.py).
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import re
import subprocess
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np

from ai.scribe.engine.audio import SAMPLE_RATE, Audio, _resample, speech_regions
from ai.scribe.engine.types import Speaker, Transcript

VOICES: dict[str, str] = {"doctor": "en-gb", "patient": "en-us+f2"}
WORDS_PER_MINUTE = 160
PAUSE_S = 0.4
SPLIT = "PriMock57 dev"
AUDIO_NOTE = (
    "audio synthesised from the human transcripts with espeak-ng "
    f"(doctor {VOICES['doctor']}, patient {VOICES['patient']}, {WORDS_PER_MINUTE} wpm, one channel)"
)
BIASING = ("none", "hotwords", "prompt", "targeted")


@dataclass
class Utterance:
    speaker: Speaker
    start: float
    end: float
    text: str


# --- the dataset ------------------------------------------------------------------------------------------

_INTERVAL = re.compile(r"xmin = ([\d.]+)\s*\n\s*xmax = ([\d.]+)\s*\n\s*text = \"(.*)\"")


def clean_text(text: str) -> str:
    """A transcript line as speech: the words of <UNSURE> spans kept, unintelligible marks removed."""
    text = text.replace('""', '"')
    text = re.sub(r"</?UNSURE>", "", text)
    text = re.sub(r"<[^>]*/>", " ", text)  # <UNIN/>, <INAUDIBLE_SPEECH/>
    text = re.sub(r"<[^>]*>", " ", text)
    return " ".join(text.split())


def read_textgrid(path: Path, speaker: Speaker) -> list[Utterance]:
    content = path.read_text(encoding="utf-8")
    out = []
    for start, end, text in _INTERVAL.findall(content):
        text = clean_text(text)
        if text and re.search(r"\w", text):
            out.append(Utterance(speaker, float(start), float(end), text))
    return out


def consultation_ids(datasets_dir: Path) -> list[str]:
    transcripts = datasets_dir / "primock57-dev" / "transcripts"
    return sorted(p.name.removesuffix("_doctor.TextGrid") for p in transcripts.glob("*_doctor.TextGrid"))


def consultation_utterances(datasets_dir: Path, cid: str) -> list[Utterance]:
    """Both speakers' utterances of a consultation, in the order they were spoken."""
    transcripts = datasets_dir / "primock57-dev" / "transcripts"
    utterances = read_textgrid(transcripts / f"{cid}_doctor.TextGrid", "doctor") + read_textgrid(
        transcripts / f"{cid}_patient.TextGrid", "patient"
    )
    return sorted(utterances, key=lambda u: (u.start, u.end))


# --- synthesis --------------------------------------------------------------------------------------------


def synthesize(text: str, voice: str, *, words_per_minute: int = WORDS_PER_MINUTE) -> np.ndarray:
    """`text` spoken by espeak-ng's `voice`, as 16 kHz float32 mono samples."""
    import soundfile as sf

    wav = subprocess.run(
        ["espeak-ng", "-v", voice, "-s", str(words_per_minute), "--stdout", text],
        capture_output=True,
        check=True,
        timeout=120,
    ).stdout
    x, rate = sf.read(io.BytesIO(wav), dtype="float32", always_2d=True)
    return _resample(np.ascontiguousarray(x.T[:1]), rate)[0]


def wav_bytes(samples: np.ndarray, rate: int = SAMPLE_RATE) -> bytes:
    """Samples ((n,) or (channels, n) float) as a 16-bit PCM WAV file."""
    import soundfile as sf

    x = np.asarray(samples, dtype=np.float32)
    buf = io.BytesIO()
    sf.write(buf, x.T if x.ndim == 2 else x, rate, format="WAV", subtype="PCM_16")
    return buf.getvalue()


def _espeak_version() -> str:
    try:
        out = subprocess.run(["espeak-ng", "--version"], capture_output=True, text=True, timeout=10).stdout
    except (OSError, subprocess.SubprocessError):
        return "?"
    return out.strip()


def render_dialogue(
    utterances: Sequence[Utterance], *, max_seconds: float | None = None, pause_s: float = PAUSE_S
) -> tuple[np.ndarray, list[Utterance]]:
    """Synthesise utterances one after another; returns the samples and the timeline as placed.

    With `max_seconds`, stops before the first utterance that would end after it (always keeps one).
    """
    pieces: list[np.ndarray] = []
    placed: list[Utterance] = []
    cursor = 0
    gap = np.zeros(int(pause_s * SAMPLE_RATE), dtype=np.float32)
    for u in utterances:
        x = synthesize(u.text, VOICES[u.speaker])
        if max_seconds is not None and placed and (cursor + x.size) / SAMPLE_RATE > max_seconds:
            break
        start = cursor
        pieces.extend([x, gap])
        cursor += x.size + gap.size
        placed.append(Utterance(u.speaker, start / SAMPLE_RATE, (start + x.size) / SAMPLE_RATE, u.text))
    samples = np.concatenate(pieces) if pieces else np.zeros(0, dtype=np.float32)
    return (0.9 * samples).astype(np.float32), placed


def consultation_audio(
    datasets_dir: Path, cid: str, cache_dir: Path, max_seconds: float | None = None
) -> tuple[Audio, list[Utterance]]:
    """The synthesised consultation (from the cache when it is there) and its timeline."""
    import soundfile as sf

    utterances = consultation_utterances(datasets_dir, cid)
    key = hashlib.sha256(
        json.dumps(
            [VOICES, WORDS_PER_MINUTE, PAUSE_S, max_seconds, _espeak_version(), [asdict(u) for u in utterances]]
        ).encode()
    ).hexdigest()[:12]
    folder = cache_dir / "primock57-dev"
    wav, timeline = folder / f"{cid}-{key}.wav", folder / f"{cid}-{key}.json"
    if wav.is_file() and timeline.is_file():
        samples, _ = sf.read(wav, dtype="float32")
        placed = [Utterance(**u) for u in json.loads(timeline.read_text())]
    else:
        samples, placed = render_dialogue(utterances, max_seconds=max_seconds)
        folder.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=folder, suffix=".wav")
        os.close(fd)
        sf.write(tmp, samples, SAMPLE_RATE, subtype="PCM_16")
        os.replace(tmp, wav)
        timeline.write_text(json.dumps([asdict(u) for u in placed]))
    audio = Audio.from_array(samples)
    audio.speech = speech_regions(audio.mono)
    return audio, placed


# --- scoring ----------------------------------------------------------------------------------------------


def speaker_accuracy(transcript: Transcript, placed: Sequence[Utterance]) -> tuple[float, float, float]:
    """(seconds attributed right, seconds left unknown, seconds of segments)."""
    right = unknown = total = 0.0
    for seg in transcript.segments:
        length = max(seg.end - seg.start, 0.0)
        if length == 0:
            continue
        overlap: dict[str, float] = {}
        for u in placed:
            o = min(seg.end, u.end) - max(seg.start, u.start)
            if o > 0:
                overlap[u.speaker] = overlap.get(u.speaker, 0.0) + o
        total += length
        if seg.speaker == "unknown":
            unknown += length
        elif overlap and max(overlap, key=lambda k: overlap[k]) == seg.speaker:
            right += length
    return right, unknown, total


def bias_terms(patient_terms: Sequence[str] = (), limit: int = 60) -> list[str]:
    """The production biasing list: the patient's terms first, then the formulary by use, at most `limit`."""
    try:
        from ai.scribe.engine.vocabulary import Vocabulary

        return list(Vocabulary.default().hotwords(list(patient_terms), [], limit))
    except ImportError:
        from pharmacy.formulary_data import ESSENTIAL_MEDICINES

        names = dict.fromkeys([*patient_terms, *(row[0] for row in ESSENTIAL_MEDICINES)])
        return list(names)[:limit]


def formulary_terms() -> list[str]:
    """Every generic name of the formulary (English). Brand names are left out: many are short coinages
    ("Keppra", "Fortum") that sound like everyday words and would only bring false candidates."""
    from pharmacy.formulary_data import ESSENTIAL_MEDICINES

    return list(dict.fromkeys(row[0] for row in ESSENTIAL_MEDICINES))


def _score(scorer: Any, refs: list[str], hyps: list[str]) -> dict[str, Any]:
    import jiwer

    norm_refs = [scorer.norm(r) for r in refs]
    norm_hyps = [scorer.norm(h) for h in hyps]
    pairs = [(r, h) for r, h in zip(norm_refs, norm_hyps, strict=True) if r.strip()]
    wer = jiwer.wer([r for r, _ in pairs], [h for _, h in pairs]) if pairs else None
    med = scorer.corpus(refs, hyps)
    return {
        "wer": wer,
        "medical_wer": med["medical_wer"],
        "ref_words": med["ref_words"],
        "med_ref_words": med["med_ref_words"],
    }


def evaluate_speech(
    datasets_dir: Path,
    *,
    model: str = "tiny.en",
    limit: int | None = None,
    seconds_per_consultation: float | None = None,
    cache_dir: Path,
    biasing: Sequence[str] = ("none", "targeted"),
    threads: int = 2,
    compute_type: str = "int8",
    beam_size: int = 1,
    log: Callable[[str], None] | None = None,
) -> dict[str, Any]:
    """Transcribe synthesised PriMock57 dev consultations with and without vocabulary biasing and score them.

    `biasing`: any of "none", "targeted" (what production does; the default pair is without and with it),
    "hotwords" (the list repeated before every 30 s window) and "prompt" (the list as the initial prompt
    only). Returns {"split", "audio", "model", "consultations", "audio_seconds",
    "seconds_per_consultation", "hotwords", "results": {biasing: {"wer", "medical_wer", "speaker_accuracy",
    "speaker_unknown", "rtf", ...}}, "per_consultation": [...]} with rates as fractions.
    """
    from medwer import Scorer

    from ai.scribe.engine.asr import transcribe

    datasets_dir, cache_dir = Path(datasets_dir), Path(cache_dir)
    ids = consultation_ids(datasets_dir)
    if not ids:
        raise FileNotFoundError(f"no PriMock57 transcripts under {datasets_dir / 'primock57-dev' / 'transcripts'}")
    if limit is not None:
        ids = ids[:limit]
    unknown = [b for b in biasing if b not in BIASING]
    if unknown:
        raise ValueError(f"unknown biasing {unknown}; choose from {BIASING}")
    scorer = Scorer()
    terms = bias_terms()
    every_term = list(dict.fromkeys([*terms, *formulary_terms()]))
    refs: list[str] = []
    hyps: dict[str, list[str]] = {b: [] for b in biasing}
    sums: dict[str, dict[str, float]] = {
        b: {
            "right": 0.0,
            "unknown": 0.0,
            "spoken": 0.0,
            "transcribe_s": 0.0,
            "dropped": 0,
            "redecoded": 0,
            "replaced": 0,
        }
        for b in biasing
    }
    per: list[dict[str, Any]] = []
    audio_seconds = 0.0
    for cid in ids:
        audio, placed = consultation_audio(datasets_dir, cid, cache_dir, seconds_per_consultation)
        reference = " ".join(u.text for u in placed)
        refs.append(reference)
        audio_seconds += audio.duration_s
        row: dict[str, Any] = {
            "consultation": cid,
            "audio_seconds": round(audio.duration_s, 1),
            "utterances": len(placed),
        }
        for b in biasing:
            started = time.perf_counter()
            details: dict[str, Any] = {}
            tr = transcribe(
                audio,
                model=model,
                language="en",
                hotwords=None if b == "none" else every_term if b == "targeted" else terms,
                bias="hotwords" if b == "none" else b,  # type: ignore[arg-type]
                threads=threads,
                compute_type=compute_type,
                beam_size=beam_size,
                details=details,
            )
            wall = time.perf_counter() - started
            hyps[b].append(tr.text)
            right, unk, spoken = speaker_accuracy(tr, placed)
            s = sums[b]
            s["right"] += right
            s["unknown"] += unk
            s["spoken"] += spoken
            s["transcribe_s"] += tr.transcribe_seconds
            s["dropped"] += len(tr.dropped)
            s["redecoded"] += len(details.get("candidates", {}))
            s["replaced"] += len(details.get("replaced", []))
            one = _score(scorer, [reference], [tr.text])
            row[b] = {
                "wer": one["wer"],
                "medical_wer": one["medical_wer"],
                "ref_words": one["ref_words"],
                "med_ref_words": one["med_ref_words"],
                "speaker_accuracy": right / spoken if spoken else None,
                "rtf": tr.transcribe_seconds / audio.duration_s,
                "segments": len(tr.segments),
                "dropped": len(tr.dropped),
                "redecoded": len(details.get("candidates", {})),
                "replaced": details.get("replaced", []),
                "wall_seconds": round(wall, 2),
            }
            if log:
                log(
                    f"{cid} {model} {b}: WER {row[b]['wer']:.3f} medWER {row[b]['medical_wer'] or 0:.3f} "
                    f"speaker {row[b]['speaker_accuracy'] or 0:.2f} RTF {row[b]['rtf']:.3f}"
                )
        per.append(row)

    results: dict[str, Any] = {}
    for b in biasing:
        total = _score(scorer, refs, hyps[b])
        s = sums[b]
        results[b] = {
            **total,
            "speaker_accuracy": s["right"] / s["spoken"] if s["spoken"] else None,
            "speaker_unknown": s["unknown"] / s["spoken"] if s["spoken"] else None,
            "rtf": s["transcribe_s"] / audio_seconds if audio_seconds else None,
            "transcribe_seconds": round(s["transcribe_s"], 1),
            "dropped": int(s["dropped"]),
            "redecoded_segments": int(s["redecoded"]),
            "replaced_segments": int(s["replaced"]),
        }
    return {
        "split": SPLIT,
        "audio": AUDIO_NOTE,
        "model": model,
        "compute_type": compute_type,
        "threads": threads,
        "beam_size": beam_size,
        "consultations": len(ids),
        "audio_seconds": round(audio_seconds, 1),
        "seconds_per_consultation": seconds_per_consultation,
        "hotwords": terms,
        "results": results,
        "per_consultation": per,
    }


def markdown_table(reports: Sequence[dict[str, Any]]) -> str:
    """One row per (model, biasing) of `evaluate_speech` reports."""

    def pct(v: float | None) -> str:
        return "n/a" if v is None else f"{100 * v:.1f}%"

    lines = [
        "| model | biasing | consultations | audio (min) | WER | medical-term error rate | speaker attribution "
        "| unknown speaker | real-time factor |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for rep in reports:
        for b, r in rep["results"].items():
            lines.append(
                f"| {rep['model']} | {b} | {rep['consultations']} | {rep['audio_seconds'] / 60:.1f} | {pct(r['wer'])} "
                f"| {pct(r['medical_wer'])} | {pct(r['speaker_accuracy'])} | {pct(r['speaker_unknown'])} "
                f"| {r['rtf']:.3f} |"
            )
    return "\n".join(lines)
