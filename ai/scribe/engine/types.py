"""The scribe's data between its stages: audio -> transcript -> suggested fields.

Plain dataclasses with no Django and no model imports, so the web process, the worker, the evaluation
command and the tests all speak the same shapes. Offsets are character offsets into `Transcript.text`.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any, Literal

Speaker = Literal["doctor", "patient", "unknown"]

# The fields a suggestion can fill; they map onto emr.ClinicalNote's structured fields, vital signs
# (Observations) and coded diagnoses (NoteDiagnosis).
FIELDS = (
    "chief_complaint",
    "history_present_illness",
    "past_history",
    "family_history",
    "medication",
    "allergy",
    "vital_sign",
    "examination",
    "assessment",
    "diagnosis",
    "plan",
)
Field = Literal[
    "chief_complaint",
    "history_present_illness",
    "past_history",
    "family_history",
    "medication",
    "allergy",
    "vital_sign",
    "examination",
    "assessment",
    "diagnosis",
    "plan",
]


class AudioError(ValueError):
    """Audio the scribe cannot use. `code` is stable (for tests and the API); `message` is for a clinician."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code  # not_audio | empty | silent | corrupt | too_large | too_long
        self.message = message


@dataclass
class Segment:
    start: float  # seconds
    end: float
    text: str
    speaker: Speaker = "unknown"
    char_start: int = 0  # offsets of this segment's text in Transcript.text
    char_end: int = 0
    avg_logprob: float | None = None
    no_speech_prob: float | None = None


@dataclass
class Transcript:
    text: str
    segments: list[Segment]
    language: str  # "en", "zh", ...
    duration_s: float = 0.0
    model_name: str = ""
    model_version: str = ""
    transcribe_seconds: float = 0.0  # wall time of transcription alone (real-time factor = this / duration_s)
    # segments removed by the hallucination guard, with the reason
    dropped: list[str] = dataclasses.field(default_factory=list)

    @classmethod
    def from_turns(cls, turns: list[tuple[Speaker, str]], language: str = "en") -> Transcript:
        """A ready transcript (typed or from another system) as speaker turns, one segment each."""
        parts: list[str] = []
        segments: list[Segment] = []
        offset = 0
        for speaker, text in turns:
            text = text.strip()
            if not text:
                continue
            if parts:
                offset += 1  # the newline between turns
            segments.append(Segment(0.0, 0.0, text, speaker, offset, offset + len(text)))
            parts.append(text)
            offset += len(text)
        return cls(text="\n".join(parts), segments=segments, language=language)


@dataclass
class Suggestion:
    """One suggested item of the record, with where in the transcript it came from and how sure the model is."""

    field: Field
    text: str  # the item as it would read in the note ("amoxicillin 500 mg oral three times a day")
    span_start: int  # source span in Transcript.text; text[span_start:span_end] supports the suggestion
    span_end: int
    confidence: float  # 0..1
    value: dict[str, Any] = dataclasses.field(default_factory=dict)
    # value by field: medication {"name", "drug_code" (formulary code or ""), "dose", "unit", "route", "frequency"};
    # allergy {"substance", "reaction"}; vital_sign {"kind" (emr vital kind), "value", "unit"};
    # diagnosis {"code", "title", "candidates": [{"code", "title", "confidence"}, ...] (top 3)}
    negated: bool = False  # "denies chest pain": kept so the reviewer sees it, never filled as a positive finding
    uncertain: bool = False  # "maybe", "possible", "rule out"
    family: bool = False  # "mother had diabetes": family history, not the patient's
    model_name: str = "rules"
    model_version: str = ""


@dataclass
class ScribeResult:
    transcript: Transcript
    suggestions: list[Suggestion]
    summary: str = ""
    summary_model: str = ""
    timings: dict[str, float] = dataclasses.field(default_factory=dict)  # stage -> seconds
