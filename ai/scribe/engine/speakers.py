"""Who spoke: doctor and patient turns in a transcribed consultation.

Whisper's segments follow sentences and 30 s windows, not speakers, so a segment can hold a question and
its answer. Each segment is first cut into pieces at sentence ends and at pauses between words (word
timings from Whisper); every piece then gets a speaker, and neighbouring pieces of the same speaker in
a segment are joined again.

- Two-channel recordings (a microphone per speaker, or a telephone line) attribute each piece to the
  channel that is clearly louder over its time span (by at least 4 dB). A recording whose two channels
  carry the same signal is treated as one channel.
- One channel: the voices are told apart by pitch. The median fundamental frequency (F0, from a YIN-style
  estimate on voiced frames) of every piece is clustered into two groups. Two adult voices usually differ
  in pitch, but not always (two men of similar voice): when the two groups are not clearly apart
  (distance between the group means under 3.5 pooled standard deviations; splitting one voice at its
  median gives about 2.7) or one of them holds under 10%
  of the voiced time, every piece stays "unknown" rather than being guessed.
- Which group is the doctor: the one that asks more questions, addresses the other person ("you", "your";
  你) more than itself ("I", "my"; 我), uses more clinician vocabulary ("prescribe", "examine",
  "tablets", 检查, 开药 ...) and, as a tie-break, speaks first. The cues vote; each cue that
  separates the groups gives its vote to the group with the higher value.

A dictation (one clinician speaking) skips all of this: every piece is the doctor's.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import numpy as np

from ai.scribe.engine.guard import RawSegment, Word
from ai.scribe.engine.types import Speaker

SAMPLE_RATE = 16000
PAUSE_SPLIT_S = 0.3  # a pause between words this long may be a change of speaker
CHANNEL_DB = 4.0  # a piece belongs to a channel that is louder by this much
MIN_SEPARATION = 3.5  # distance between pitch groups, in pooled standard deviations (one voice split in two: ~2.7)
MIN_SHARE = 0.10  # each pitch group must hold this share of the voiced time
F0_MIN, F0_MAX = 60.0, 400.0
_FRAME, _HOP = 640, 160  # 40 ms analysis frames every 10 ms
_YIN_THRESHOLD = 0.25

_SENTENCE_END = re.compile(r"[.?!。？！]\s*$")
_QUESTION_END = re.compile(r"[?？]\s*$")
_QUESTION_START = re.compile(
    r"^\s*(how|what|when|where|why|which|who|do|does|did|have|has|had|are|is|was|were|can|could|would|"
    r"any|anything|so how|and how|and do|and have|and any|ok so|okay so)\b",
    re.IGNORECASE,
)
_YOU = re.compile(r"\b(you|your|you're|you've|yourself)\b", re.IGNORECASE)
_ME = re.compile(r"\b(i|i'm|i've|i'd|i'll|my|me|myself)\b", re.IGNORECASE)
_CLINICIAN = re.compile(
    r"\b(prescribe|prescribed|prescription|examine|examination|examined|history|symptoms?|medications?|"
    r"medicines?|tablets?|capsules?|milligrams?|mg|dose|doses|recommend|advise|refer|referral|tests?|"
    r"bloods?|blood tests?|x-ray|scan|diagnos\w*|allerg\w*|pharmacy|review|follow[- ]up|take a look|"
    r"any other|how long|on a scale|rate the pain|sounds like|it could be|likely)\b",
    re.IGNORECASE,
)
_CLINICIAN_ZH = re.compile(
    r"(检查|开药|处方|诊断|建议|复查|化验|验血|症状|过敏|剂量|每天|一次|多久|哪里|有没有|是不是)"
)


@dataclass
class Piece:
    start: float
    end: float
    text: str
    words: list[Word] = field(default_factory=list)
    segment: int = 0  # index of the segment it came from
    speaker: Speaker = "unknown"
    pitch: float | None = None  # median log2 F0 over voiced frames
    voiced: int = 0  # voiced frames


# --- splitting --------------------------------------------------------------------------------------------


def split_pieces(segments: list[RawSegment]) -> list[Piece]:
    """Cut segments at sentence ends and pauses between words (where a speaker may change)."""
    pieces: list[Piece] = []
    for idx, seg in enumerate(segments):
        if not seg.words:
            pieces.append(Piece(seg.start, seg.end, seg.text.strip(), [], idx))
            continue
        current: list[Word] = []
        for w in seg.words:
            if current and (_SENTENCE_END.search(current[-1].text) or w.start - current[-1].end >= PAUSE_SPLIT_S):
                pieces.append(_piece(current, idx))
                current = []
            current.append(w)
        if current:
            pieces.append(_piece(current, idx))
    return pieces


def _piece(words: list[Word], segment: int) -> Piece:
    return Piece(words[0].start, words[-1].end, "".join(w.text for w in words).strip(), list(words), segment)


def join_pieces(pieces: list[Piece], segments: list[RawSegment]) -> list[tuple[RawSegment, Speaker]]:
    """Neighbouring pieces of one segment with the same speaker become one segment again."""
    out: list[tuple[RawSegment, Speaker]] = []
    for p in pieces:
        src = segments[p.segment]
        if out and out[-1][1] == p.speaker and getattr(out[-1][0], "_origin", None) == p.segment:
            prev = out[-1][0]
            prev.end = p.end
            prev.words.extend(p.words)
            prev.text = "".join(w.text for w in prev.words).strip() if prev.words else f"{prev.text} {p.text}"
            continue
        seg = RawSegment(
            start=p.start,
            end=p.end,
            text=p.text,
            words=list(p.words),
            avg_logprob=src.avg_logprob,
            no_speech_prob=src.no_speech_prob,
            compression_ratio=src.compression_ratio,
        )
        seg._origin = p.segment  # type: ignore[attr-defined]
        out.append((seg, p.speaker))
    return out


# --- pitch ------------------------------------------------------------------------------------------------


def frame_pitch(x: np.ndarray) -> np.ndarray:
    """F0 in Hz of each 40 ms frame (hop 10 ms) of `x`, NaN where the frame is unvoiced or quiet.

    YIN (de Cheveigné and Kawahara, 2002): the difference function of the frame's first 23 ms against
    itself shifted by each candidate period, normalised by its cumulative mean; the first dip under the
    threshold within 60-400 Hz, walked down to its local minimum, is the period.
    """
    if x.shape[0] < _FRAME:
        return np.full(0, np.nan)
    n = 1 + (x.shape[0] - _FRAME) // _HOP
    idx = np.arange(_FRAME)[None, :] + _HOP * np.arange(n)[:, None]
    frames = x[idx].astype(np.float64)
    frames -= frames.mean(axis=1, keepdims=True)
    energy = np.sqrt(np.mean(frames**2, axis=1))
    loud = energy > max(energy.max() * 10 ** (-35 / 20), 1e-4)
    tau_max = int(SAMPLE_RATE / F0_MIN)
    tau_min = int(SAMPLE_RATE / F0_MAX)
    width = _FRAME - tau_max
    head = frames[:, :width]
    size = 1024
    cross = np.fft.irfft(np.conj(np.fft.rfft(head, size, axis=1)) * np.fft.rfft(frames, size, axis=1), size, axis=1)
    cross = cross[:, : tau_max + 1]  # sum_j head[j] * frame[j + tau]
    squares = np.concatenate([np.zeros((n, 1)), np.cumsum(frames**2, axis=1)], axis=1)
    taus = np.arange(tau_max + 1)
    shifted_energy = squares[:, taus + width] - squares[:, taus]
    diff = np.maximum(squares[:, width : width + 1] + shifted_energy - 2.0 * cross, 0.0)
    cum = np.cumsum(diff[:, 1:], axis=1)
    cmnd = np.ones_like(diff)
    cmnd[:, 1:] = diff[:, 1:] * taus[1:] / np.maximum(cum, 1e-12)
    window = cmnd[:, tau_min : tau_max + 1]
    below = window < _YIN_THRESHOLD
    has = below.any(axis=1)
    tau = np.argmax(below, axis=1)
    rows = np.arange(n)
    for _ in range(40):  # walk from the first dip under the threshold down to its local minimum
        nxt = np.minimum(tau + 1, window.shape[1] - 1)
        step = window[rows, nxt] < window[rows, tau]
        if not step.any():
            break
        tau = np.where(step, nxt, tau)
    f0 = SAMPLE_RATE / (tau + tau_min).astype(np.float64)
    return np.where(has & loud, f0, np.nan)


def piece_pitch(mono: np.ndarray, pieces: list[Piece]) -> None:
    """Set each piece's median log2 F0 and its number of voiced frames."""
    for p in pieces:
        a, b = int(p.start * SAMPLE_RATE), int(p.end * SAMPLE_RATE)
        f0 = frame_pitch(mono[max(a, 0) : b])
        f0 = f0[~np.isnan(f0)]
        p.voiced = int(f0.size)
        p.pitch = float(np.median(np.log2(f0))) if f0.size >= 10 else None


def two_groups(values: np.ndarray, weights: np.ndarray) -> tuple[np.ndarray, float, float] | None:
    """1-D two-means; returns (labels 0/1 with 1 = higher, separation in pooled SDs, smaller group's share)."""
    if values.size < 2 or np.ptp(values) == 0:
        return None
    order = np.sort(values)
    # exhaustive best split of sorted values (1-D k-means optimum), weighted by voiced frames
    best = None
    for k in range(1, order.size):
        if order[k - 1] == order[k]:
            continue
        cut = (order[k - 1] + order[k]) / 2
        lo, hi = values <= cut, values > cut
        m0 = np.average(values[lo], weights=weights[lo])
        m1 = np.average(values[hi], weights=weights[hi])
        sse = np.sum(weights[lo] * (values[lo] - m0) ** 2) + np.sum(weights[hi] * (values[hi] - m1) ** 2)
        if best is None or sse < best[0]:
            best = (sse, cut, m0, m1)
    assert best is not None
    sse, cut, m0, m1 = best
    labels = (values > cut).astype(int)
    pooled = np.sqrt(sse / weights.sum())
    # a floor on the spread: 0.05 octave (a semitone is 0.083) is as steady as a voice's median pitch gets
    separation = float((m1 - m0) / max(pooled, 0.05))
    share = float(min(weights[labels == 0].sum(), weights[labels == 1].sum()) / weights.sum())
    return labels, separation, share


# --- naming the groups ------------------------------------------------------------------------------------


def doctor_score(texts: list[str]) -> dict[str, float]:
    """Per-group cues that a clinician is speaking (rates, so groups of any size compare)."""
    joined = " ".join(texts)
    words = max(len(joined.split()) + sum(1 for c in joined if "\u4e00" <= c <= "\u9fff"), 1)
    n = max(len(texts), 1)
    questions = sum(1 for t in texts if _QUESTION_END.search(t) or _QUESTION_START.search(t) or "吗" in t[-3:])
    you = len(_YOU.findall(joined)) + joined.count("你") + joined.count("您")
    me = len(_ME.findall(joined)) + joined.count("我")
    clinical = len(_CLINICIAN.findall(joined)) + len(_CLINICIAN_ZH.findall(joined))
    return {
        "questions": questions / n,
        "you_vs_me": (you - me) / words,
        "clinical": clinical / words,
    }


def name_groups(group_texts: dict[int, list[str]], first_group: int | None) -> dict[int, Speaker]:
    """Which of two groups (0/1) is the doctor, by the cues' votes; the first speaker breaks a tie."""
    scores = {g: doctor_score(t) for g, t in group_texts.items()}
    votes = {0: 0.0, 1: 0.0}
    for cue in ("questions", "you_vs_me", "clinical"):
        a, b = scores.get(0, {}).get(cue, 0.0), scores.get(1, {}).get(cue, 0.0)
        if a != b:
            votes[0 if a > b else 1] += 1.0
    if first_group is not None:
        votes[first_group] += 0.5
    doctor = 0 if votes[0] >= votes[1] else 1
    return {doctor: "doctor", 1 - doctor: "patient"}


# --- entry point ------------------------------------------------------------------------------------------


def _channel_db(samples: np.ndarray, p: Piece) -> float:
    a, b = int(p.start * SAMPLE_RATE), max(int(p.end * SAMPLE_RATE), int(p.start * SAMPLE_RATE) + 1)
    rms = np.sqrt(np.mean(np.square(samples[:, a:b], dtype=np.float64), axis=1)) + 1e-9
    return float(20 * np.log10(rms[0] / rms[1]))


def channels_differ(samples: np.ndarray) -> bool:
    """Whether a two-channel recording carries two different signals (not one signal copied twice)."""
    if samples.shape[0] < 2:
        return False
    left, right = samples[0].astype(np.float64), samples[1].astype(np.float64)
    denom = np.sqrt(np.dot(left, left) * np.dot(right, right))
    if denom == 0:
        return False
    return float(np.dot(left, right) / denom) < 0.95


def _fill_gaps(pieces: list[Piece]) -> None:
    """Pieces without a reading (too short, no voice) take the speaker of a neighbour in their segment."""
    for i, p in enumerate(pieces):
        if p.speaker != "unknown":
            continue
        for j in (i - 1, i + 1):
            if 0 <= j < len(pieces) and pieces[j].segment == p.segment and pieces[j].speaker != "unknown":
                p.speaker = pieces[j].speaker
                break


def assign_speakers(
    segments: list[RawSegment],
    samples: np.ndarray,
    *,
    dictation: bool = False,
    channel_roles: tuple[Speaker, Speaker] | None = None,
) -> list[tuple[RawSegment, Speaker]]:
    """Segments cut where the speaker changes, each with "doctor", "patient" or "unknown".

    `samples` is the audio shaped (channels, n) at 16 kHz. `channel_roles` names the speakers of a
    two-channel recording's channels when known (e.g. ("doctor", "patient")); otherwise they are named by
    the cues in the module doc.
    """
    if not segments:
        return []
    if dictation:
        return [(s, "doctor") for s in segments]
    pieces = split_pieces(segments)
    if samples.shape[0] >= 2 and channels_differ(samples):
        groups: list[int | None] = []
        for p in pieces:
            db = _channel_db(samples, p)
            groups.append(0 if db >= CHANNEL_DB else 1 if db <= -CHANNEL_DB else None)
        if channel_roles is not None:
            names: dict[int, Speaker] = {0: channel_roles[0], 1: channel_roles[1]}
        else:
            texts: dict[int, list[str]] = {0: [], 1: []}
            for p, g in zip(pieces, groups, strict=True):
                if g is not None:
                    texts[g].append(p.text)
            first = next((g for g in groups if g is not None), None)
            names = name_groups(texts, first)
        for p, g in zip(pieces, groups, strict=True):
            p.speaker = names[g] if g is not None else "unknown"
        _fill_gaps(pieces)
        return join_pieces(pieces, segments)

    mono = samples[0] if samples.shape[0] == 1 else samples.mean(axis=0)
    piece_pitch(mono, pieces)
    measured = [p for p in pieces if p.pitch is not None]
    if len(measured) >= 2:
        values = np.array([p.pitch for p in measured], dtype=np.float64)
        weights = np.array([p.voiced for p in measured], dtype=np.float64)
        split = two_groups(values, weights)
        if split is not None:
            labels, separation, share = split
            if separation >= MIN_SEPARATION and share >= MIN_SHARE:
                texts = {0: [], 1: []}
                for p, g in zip(measured, labels, strict=True):
                    texts[int(g)].append(p.text)
                first = int(labels[0])
                names = name_groups(texts, first)
                for p, g in zip(measured, labels, strict=True):
                    p.speaker = names[int(g)]
                _fill_gaps(pieces)
    return join_pieces(pieces, segments)
