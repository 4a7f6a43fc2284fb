"""A guard against Whisper's hallucinations, run on its segments before anything reads them.

Whisper was trained on subtitles from the web, and on silence, noise or an unclear stretch it sometimes
writes what subtitles say rather than what was said, or loops. Four rules, each recorded when it fires:

1. Stock phrases: a segment that is mostly a subtitle credit or a video outro ("Thanks for watching",
   "Subtitles by the Amara.org community", "please subscribe", 字幕由…提供, 谢谢观看, 请不吝点赞订阅…)
   is dropped. A consultation does not contain them; when one is only a small part of a longer
   segment the segment is kept untouched (the clinician reviews it).
2. Repetition loops inside a segment: the same word n-gram (n = 1..8; characters for Chinese without
   word timings) repeated back to back many times is collapsed to one occurrence. A few repeats
   ("no, no, no") are speech and stay.
3. Repeated segments: the same text in several consecutive segments (a loop across Whisper's 30 s
   windows) keeps the first and drops the rest.
4. Confidence: a segment Whisper itself thinks is not speech (no_speech_prob high and avg_logprob low), or
   whose text still compresses like a loop (zlib compression ratio above 2.4, Whisper's own threshold)
   after rule 2, is dropped.
5. Echoes: a segment repeating the previous segment's text over what Whisper thinks is not speech
   (no_speech_prob above 0.5), or spoken faster than people speak (over 8 words or 15 Chinese characters a
   second, for more than 3 words) where Whisper has doubts it is speech (no_speech_prob above 0.25), is
   dropped; Whisper fills a short tail of silence that way.
6. The prompt: a segment that only repeats the prompt Whisper was given (the Chinese style prompt, or a run
   of three or more of the biasing terms making up most of the segment) is dropped.

The guard never rewrites words; it only drops segments or removes repeated copies, so every kept word
is one Whisper heard.
"""

from __future__ import annotations

import re
import unicodedata
import zlib
from dataclasses import dataclass, field

# Thresholds (Whisper's own defaults for the confidence rule; the loop counts leave room for real speech).
NO_SPEECH_PROB = 0.6
LOW_LOGPROB = -1.0
MAX_COMPRESSION_RATIO = 2.4
MIN_REPEATS_WORD = 5  # "no no no no" is speech; five or more identical single words in a row is a loop
MIN_REPEATS_NGRAM = 4  # an n-gram (n >= 2) back to back four or more times
MIN_REPEATS_CHAR = 6  # one Chinese character six or more times (哈哈哈哈 is laughter)
MIN_REPEATED_SEGMENTS = 3  # the same segment text three or more times in a row
MAX_NGRAM = 8
ECHO_NO_SPEECH_PROB = 0.5
MAX_WORDS_PER_SECOND = 8.0
MAX_CJK_PER_SECOND = 15.0
MIN_PROMPT_TERMS = 3


@dataclass
class Word:
    start: float
    end: float
    text: str  # as Whisper wrote it, with its leading space
    probability: float = 1.0


@dataclass
class RawSegment:
    """A segment as Whisper produced it, before the guard and the speaker split."""

    start: float
    end: float
    text: str
    words: list[Word] = field(default_factory=list)
    avg_logprob: float | None = None
    no_speech_prob: float | None = None
    compression_ratio: float | None = None


_STOCK_PHRASES = [
    # English outros and subtitle credits
    r"thanks? (you )?(so much |very much )?for watching",
    r"thank you for (watching|listening|viewing)( and (see you|bye))?",
    r"(please |don'?t forget to )?(like,? )?(and |& )?(share,? )?(and |& )?subscribe( to (my|our|the) channel)?",
    r"please (like|share|comment)( and (share|subscribe|comment))*",
    r"^(subtitles?|captions?|captioning|transcription|subtitled|captioned|transcribed)( (is|are|was|were))? "
    r"(by|provided by|created by|made by|done by)\b.*",
    r"\b(amara\.org|www\.[a-z0-9-]+\.(com|org|net)|dotsub|opensubtitles)\b.*",
    r"(see you|i'?ll see you) (in|on) (the|my) next (video|episode)",
    r"hit the (like|bell|subscribe) button.*",
    # Chinese subtitle credits and outros (Simplified and Traditional)
    r"(中文)?字幕.*",
    r".*(字幕组|字幕組|字幕志愿者|字幕志願者).*",
    r"(谢谢|謝謝|感谢|感謝)(大家)?(的)?(观看|觀看|收看|收听|收聽)",
    r"请不吝点赞.*|請不吝點贊.*|请不吝點贊.*",
    r".*(点赞|點贊|点讚)(、|，|,)?\s*(订阅|訂閱)?.*",
    r"(欢迎|歡迎)?(订阅|訂閱)(我的|我们的|我們的)?(频道|頻道)?.*",
    r"(明镜与点点栏目|明鏡與點點欄目|优优独播剧场|優優獨播劇場).*",
    r"(本节目|本節目).*(提供|播出).*",
]
_STOCK_RE = [re.compile(p, re.IGNORECASE) for p in _STOCK_PHRASES]
_PUNCT = re.compile(r"[\s\W_]+", re.UNICODE)


def _is_cjk(ch: str) -> bool:
    return "\u3400" <= ch <= "\u9fff" or "\uf900" <= ch <= "\ufaff"


def _content_len(text: str) -> int:
    return len(_PUNCT.sub("", text))


def stock_phrase(text: str) -> str | None:
    """The stock phrase that makes up most of `text`, or None."""
    plain = unicodedata.normalize("NFKC", text).strip().lower()
    total = _content_len(plain)
    if total == 0:
        return None
    for rx in _STOCK_RE:
        covered = 0
        first = None
        for m in rx.finditer(plain):
            covered += _content_len(m.group(0))
            first = first or m.group(0)
        if first is not None and covered >= 0.6 * total:
            return first.strip()
    return None


def _token_key(token: str) -> str:
    return _PUNCT.sub("", unicodedata.normalize("NFKC", token).lower())


def _tokens(seg: RawSegment) -> list[str]:
    if seg.words:
        return [w.text for w in seg.words]
    text = seg.text
    if sum(_is_cjk(c) for c in text) > len(text) / 3:
        return [c for c in text if not c.isspace()]
    return text.split()


def find_loop(keys: list[str]) -> tuple[int, int, int] | None:
    """The longest back-to-back repetition over the loop thresholds: (start, n, repeats), or None."""
    best: tuple[int, int, int] | None = None
    best_span = 0
    size = len(keys)
    for n in range(1, min(MAX_NGRAM, size // 2) + 1):
        i = 0
        while i + 2 * n <= size:
            unit = keys[i : i + n]
            if not any(unit):
                i += 1
                continue
            r = 1
            while keys[i + r * n : i + (r + 1) * n] == unit:
                r += 1
            cjk_char = n == 1 and len(unit[0]) == 1 and _is_cjk(unit[0])
            needed = MIN_REPEATS_CHAR if cjk_char else MIN_REPEATS_WORD if n == 1 else MIN_REPEATS_NGRAM
            if r >= needed and r * n > best_span:
                best, best_span = (i, n, r), r * n
            i += max(1, (r - 1) * n) if r > 1 else 1
    return best


def _join(tokens: list[str], from_words: bool, cjk: bool) -> str:
    if from_words:
        return "".join(tokens).strip()
    return ("" if cjk else " ").join(tokens).strip()


def collapse_loops(seg: RawSegment) -> tuple[RawSegment, list[str]]:
    """Collapse every loop inside `seg` to one occurrence; returns the segment and what was removed."""
    notes: list[str] = []
    tokens = _tokens(seg)
    from_words = bool(seg.words)
    cjk = not from_words and " " not in seg.text.strip() and any(_is_cjk(c) for c in seg.text)
    words = list(seg.words)
    changed = False
    for _ in range(10):  # a segment rarely holds more than one loop
        keys = [_token_key(t) for t in tokens]
        loop = find_loop(keys)
        if loop is None:
            break
        i, n, r = loop
        unit = _join(tokens[i : i + n], from_words, cjk)
        notes.append(f"repetition loop collapsed: “{unit}” × {r}")
        del tokens[i + n : i + r * n]
        if from_words:
            del words[i + n : i + r * n]
        changed = True
    if not changed:
        return seg, notes
    text = _join(tokens, from_words, cjk)
    out = RawSegment(
        start=seg.start,
        end=words[-1].end if from_words and words else seg.end,
        text=text,
        words=words,
        avg_logprob=seg.avg_logprob,
        no_speech_prob=seg.no_speech_prob,
    )
    return out, notes


def compression_ratio(text: str) -> float:
    data = text.encode("utf-8")
    return len(data) / len(zlib.compress(data)) if data else 0.0


def _describe(seg: RawSegment, reason: str) -> str:
    text = seg.text.strip()
    if len(text) > 120:
        text = text[:117] + "…"
    return f"{seg.start:.1f}–{seg.end:.1f} s, {reason}: “{text}”"


def too_fast(seg: RawSegment) -> bool:
    """Whether the segment's text could not have been spoken in its time span."""
    duration = max(seg.end - seg.start, 0.05)
    cjk = sum(_is_cjk(c) for c in seg.text)
    if cjk > 3:
        return cjk / duration > MAX_CJK_PER_SECOND
    words = len(seg.text.split())
    return words > 3 and words / duration > MAX_WORDS_PER_SECOND


def repeats_prompt(text: str, prompts: list[str], terms: set[str]) -> bool:
    """Whether `text` is only the prompt again: a piece of a prompt, or mostly a run of biasing terms."""
    key = _token_key(text)
    if len(key) >= 4 and any(key in _token_key(p) for p in prompts):
        return True
    if not terms:
        return False
    parts = [_token_key(p) for p in re.split(r"[,，、;；.。]", text)]
    parts = [p for p in parts if p]
    listed = sum(1 for p in parts if p in terms)
    return listed >= MIN_PROMPT_TERMS and listed >= 0.6 * len(parts)


def apply_guard(
    segments: list[RawSegment], *, prompts: list[str] | None = None, terms: list[str] | None = None
) -> tuple[list[RawSegment], list[str]]:
    """The segments worth keeping (loops collapsed) and a line per removal saying what and why.

    `prompts`: texts given to Whisper as prompts; `terms`: the biasing terms (rule 6).
    """
    dropped: list[str] = []
    kept: list[RawSegment] = []
    prompt_list = [p for p in (prompts or []) if p]
    term_keys = {_token_key(t) for t in (terms or []) if _token_key(t)}
    previous_key = ""
    for seg in segments:
        if not seg.text.strip():
            continue
        key = _token_key(seg.text)
        echo = key == previous_key and (seg.no_speech_prob or 0.0) > ECHO_NO_SPEECH_PROB
        previous_key = key
        if echo:
            dropped.append(_describe(seg, "echo of the previous segment over silence"))
            continue
        if too_fast(seg) and (seg.no_speech_prob or 0.0) > ECHO_NO_SPEECH_PROB / 2:
            dropped.append(_describe(seg, "faster than speech (a hallucinated tail)"))
            continue
        if repeats_prompt(seg.text, prompt_list, term_keys):
            dropped.append(_describe(seg, "repeats the prompt given to the recogniser"))
            continue
        if (
            seg.no_speech_prob is not None
            and seg.avg_logprob is not None
            and seg.no_speech_prob > NO_SPEECH_PROB
            and seg.avg_logprob < LOW_LOGPROB
        ):
            dropped.append(_describe(seg, "probably not speech (no-speech probability high, confidence low)"))
            continue
        phrase = stock_phrase(seg.text)
        if phrase is not None:
            dropped.append(_describe(seg, f"stock subtitle phrase “{phrase}”"))
            continue
        fixed, notes = collapse_loops(seg)
        dropped.extend(_describe(seg, note) for note in notes)
        if compression_ratio(fixed.text) > MAX_COMPRESSION_RATIO:
            dropped.append(_describe(fixed, "repetitive text (compression ratio above 2.4)"))
            continue
        kept.append(fixed)

    # rule 3: the same text in consecutive segments
    result: list[RawSegment] = []
    i = 0
    while i < len(kept):
        key = _token_key(kept[i].text)
        j = i + 1
        while j < len(kept) and _token_key(kept[j].text) == key:
            j += 1
        run = j - i
        limit = MIN_REPEATED_SEGMENTS + (1 if len(_tokens(kept[i])) <= 1 else 0)
        result.append(kept[i])
        if run >= limit:
            dropped.extend(
                _describe(seg, f"repeated segment (the same text {run} times in a row)") for seg in kept[i + 1 : j]
            )
        else:
            result.extend(kept[i + 1 : j])
        i = j
    return result, dropped
