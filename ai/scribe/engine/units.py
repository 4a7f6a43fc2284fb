# ruff: noqa: E501 - each pattern stays on one line, so a reviewer reads it whole
"""A transcript cut into sentences that know who said them, where they are, and what answered them.

Every later stage works on these units, so each offset it produces points into `Transcript.text`. Speaker
turns come from the transcript's segments (the speech stage or a typed dialogue) or, for plain text, from
labels at the start of a line ("Doctor:", "[patient]"); without either every sentence is "unknown".
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from ai.scribe.engine.lexicon import lower_same_length
from ai.scribe.engine.types import Speaker, Transcript

LABELS: dict[str, Speaker] = {
    "doctor": "doctor",
    "dr": "doctor",
    "clinician": "doctor",
    "physician": "doctor",
    "nurse": "doctor",
    "guest_clinician": "doctor",
    "patient": "patient",
    "pt": "patient",
    "guest_family": "patient",
    "family": "patient",
    "parent": "patient",
    "mother": "patient",
    "father": "patient",
    "医生": "doctor",
    "大夫": "doctor",
    "患者": "patient",
    "病人": "patient",
    "家属": "patient",
}
LABEL_LINE = re.compile(
    r"^[ \t]*(?:\[(?P<bracket>[A-Za-z_]+)\]|(?P<plain>[A-Za-z_]+|医生|大夫|患者|病人|家属)[ \t]*[:：])[ \t]*",
    re.MULTILINE,
)
_ABBREVIATIONS = {"dr", "mr", "mrs", "ms", "st", "vs", "e.g", "i.e", "approx", "no", "fig", "etc"}
_SENTENCE_END_EN = re.compile(r"[.?!]+(?=\s|$)|\n+")
_SENTENCE_END_ZH = re.compile(r"[。？！?!；;]+|\n+")
QUESTION_START = re.compile(
    r"^(?:(?:and|so|okay|ok|alright|all right|now|um|uh)[, ]+)*(?:do|does|did|are|is|was|were|have|has|had|any|anything|can|could|"
    r"would|will|how|what|when|where|which|who|why|ever)\b"
)


@dataclass
class Unit:
    """One sentence of one speaker's turn; start/end are offsets into the transcript text."""

    start: int
    end: int
    speaker: Speaker
    turn: int  # index of the speaker turn (consecutive sentences of one speaker share it)
    index: int  # position in the unit list
    question: bool = False


class TranscriptUnits:
    """The units of a transcript, with the lower-case text they index into."""

    def __init__(self, transcript: Transcript) -> None:
        self.transcript = transcript
        self.text = transcript.text
        self.low = lower_same_length(transcript.text)
        self.zh = transcript.language.startswith("zh")
        self.units: list[Unit] = []
        for start, end, speaker in self._turn_ranges():
            self._add_turn(start, end, speaker)
        self.has_speakers = any(u.speaker != "unknown" for u in self.units)

    # ----- building ----------------------------------------------------------------------------------------
    def _turn_ranges(self) -> list[tuple[int, int, Speaker]]:
        text = self.text
        segments = self.transcript.segments
        ranges: list[tuple[int, int, Speaker]] = []
        if segments:
            cursor = 0
            for segment in segments:
                start, end = segment.char_start, segment.char_end
                if not (0 <= start < end <= len(text)) or text[start:end].strip() != segment.text.strip():
                    found = text.find(segment.text.strip(), cursor)
                    if found < 0:
                        continue
                    start, end = found, found + len(segment.text.strip())
                cursor = end
                ranges.append((start, end, segment.speaker))
            if ranges and any(speaker != "unknown" for *_, speaker in ranges):
                return ranges
            if ranges and not LABEL_LINE.search(text):
                return ranges
        labels = list(LABEL_LINE.finditer(text))
        if not labels:
            return [(0, len(text), "unknown")]
        ranges = []
        if labels[0].start() > 0 and text[: labels[0].start()].strip():
            ranges.append((0, labels[0].start(), "unknown"))
        for i, label in enumerate(labels):
            name = (label.group("bracket") or label.group("plain") or "").lower()
            end = labels[i + 1].start() if i + 1 < len(labels) else len(text)
            ranges.append((label.end(), end, LABELS.get(name, "unknown")))
        return ranges

    def _add_turn(self, start: int, end: int, speaker: Speaker) -> None:
        previous = self.units[-1] if self.units else None
        turn = previous.turn + (previous.speaker != speaker or speaker == "unknown") if previous else 0
        pattern = _SENTENCE_END_ZH if self.zh else _SENTENCE_END_EN
        cursor = start
        for match in pattern.finditer(self.text, start, end):
            if not self.zh and match.group().startswith(".") and self._is_abbreviation(match.start()):
                continue
            self._add_unit(cursor, match.end(), speaker, turn)
            cursor = match.end()
        self._add_unit(cursor, end, speaker, turn)

    def _is_abbreviation(self, dot: int) -> bool:
        word = re.search(r"([A-Za-z.]+)$", self.text[max(0, dot - 8) : dot])
        return bool(word and word.group(1).lower() in _ABBREVIATIONS and word.group(1).lower() != "no")

    def _add_unit(self, start: int, end: int, speaker: Speaker, turn: int) -> None:
        while start < end and self.text[start].isspace():
            start += 1
        while end > start and self.text[end - 1].isspace():
            end -= 1
        if end <= start or not re.search(r"\w", self.text[start:end]):
            return
        sentence = self.low[start:end]
        question = sentence.rstrip().endswith(("?", "？")) or (
            not self.zh and speaker != "patient" and bool(QUESTION_START.match(sentence)) and len(sentence) < 200
        )
        if self.zh and re.search(r"(?:吗|呢|么|没有)[？?]?$", sentence):
            question = True
        self.units.append(Unit(start, end, speaker, turn, len(self.units), question))

    # ----- reading -----------------------------------------------------------------------------------------
    def unit_at(self, offset: int) -> Unit | None:
        for unit in self.units:
            if unit.start <= offset < unit.end:
                return unit
        return None

    def answer_to(self, unit: Unit) -> Unit | None:
        """The first sentence of the next turn by another speaker, when the transcript has speakers."""
        if not self.has_speakers:
            return None
        for later in self.units[unit.index + 1 : unit.index + 6]:
            if later.turn != unit.turn:
                return later if later.speaker != unit.speaker else None
        return None

    def turn_units(self, unit: Unit) -> list[Unit]:
        return [u for u in self.units if u.turn == unit.turn]

    def sentence(self, unit: Unit) -> str:
        return self.text[unit.start : unit.end]

    def sentence_low(self, unit: Unit) -> str:
        return self.low[unit.start : unit.end]

    @property
    def doctor_speaks(self) -> bool:
        return any(u.speaker == "doctor" for u in self.units)
