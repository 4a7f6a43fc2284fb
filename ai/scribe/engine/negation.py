# ruff: noqa: E501 - each pattern stays on one line, so a reviewer reads it whole
"""Is a finding denied, uncertain, or about a relative? NegEx-style cues in the sentence, plus the dialogue:
a doctor's question ("Any chest pain?") takes its polarity from the patient's answer ("No.").

`assertion()` returns the flags and the span that supports them: the cue word and the finding, or the
finding in the question through the answer, so a reviewer sees why a finding was marked as denied.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from ai.scribe.engine.lexicon import (
    FAMILY_MEMBERS,
    NEGATION_POST,
    NEGATION_PRE,
    SCOPE_TERMINATORS,
    UNCERTAINTY,
    alternation,
)
from ai.scribe.engine.units import TranscriptUnits, Unit

_NEG_PRE = alternation(tuple(t for t in NEGATION_PRE if t != "any"))
_NEG_POST = alternation(NEGATION_POST)
_UNCERTAIN = alternation(UNCERTAINTY)
_FAMILY = alternation(FAMILY_MEMBERS)
_TERMINATOR = alternation((*SCOPE_TERMINATORS, "reports", "reported", "complains", "endorses", "admits", "because"))
# Words that may stand between a negation cue and the finding it negates ("no fever, chills, or cough").
_LIST_FILLER = re.compile(
    r"^(?:[\s,/]|\b(?:or|and|any|other|significant|known|history|of|recent|new|real|really|problems?|issues?|"
    r"symptoms?|signs?|the|a|an|some|kind|sort|much|more|further|episodes?|complaints?|such|as|like|had|have|has|"
    r"been|having|experienced|experiencing|noticed|felt|feeling|getting|got|in|my|his|her|your|their|"
    r"\w+(?=\s*,))\b)*$"
)
NO_ANSWER = re.compile(
    r"^(?:(?:um+|uh+|well|oh|hmm+|actually|honestly)[, ]+)*(?:no\b|nope|nah|not really|not at all|not that i (?:know|can think)|"
    r"never|none|nothing|i don'?t|i do not|i haven'?t|i have not|i didn'?t|i did not|i'm not|i am not|he doesn'?t|she doesn'?t|"
    r"he hasn'?t|she hasn'?t|negative|没有|没|不|无|否)"
)
YES_ANSWER = re.compile(
    r"^(?:(?:um+|uh+|well|oh|hmm+)[, ]+)*(?:yes|yeah|yep|yup|uh-huh|mm-hmm|mhm|i do|i have|i am|i did|sometimes|a little|a bit|"
    r"definitely|correct|that's right|right|sure|he does|she does|he has|she has|有|是|对)\b"
)
FAMILY_QUESTION = re.compile(
    r"family history|in (?:your|the) family|your (?:parents|mother|father|mom|dad|siblings)|runs in"
)


@dataclass
class Assertion:
    negated: bool = False
    uncertain: bool = False
    family: bool = False
    confirmed: bool = True  # False: asked about but neither affirmed nor denied (suggest nothing)
    span_start: int = 0
    span_end: int = 0
    relative: str = ""


def assertion(units: TranscriptUnits, unit: Unit, start: int, end: int) -> Assertion:
    """The flags of the finding at low[start:end] inside `unit`, with the span that supports them."""
    low = units.low
    result = Assertion(span_start=start, span_end=end)
    scope_start = _scope_start(low, unit.start, start)
    before = low[scope_start:start]
    after = low[end : _scope_end(low, end, unit.end)]

    # A question takes its answer's polarity.
    if unit.question and unit.speaker != "patient":
        answer = units.answer_to(unit)
        if answer is not None:
            answer_text = low[answer.start : answer.end]
            finding = low[start:end]
            if NO_ANSWER.match(answer_text):
                match = NO_ANSWER.match(answer_text)
                assert match is not None
                result.negated = True
                result.span_end = answer.start + match.end()
            elif YES_ANSWER.match(answer_text) or finding in answer_text:
                match = YES_ANSWER.match(answer_text)
                result.span_end = answer.start + (match.end() if match else len(answer_text))
            else:
                result.confirmed = False
            if FAMILY_QUESTION.search(low[unit.start : unit.end]) and not result.negated:
                result.family = True
            return result
        result.confirmed = False
        return result

    negation = None
    for match in _NEG_PRE.finditer(before):
        between = before[match.end() :]
        if _LIST_FILLER.match(between):
            negation = match
    if negation is not None:
        result.negated = True
        result.span_start = scope_start + negation.start()
    else:
        post = _NEG_POST.match(after.lstrip(" ,")) if after.strip() else None
        if post is not None or re.match(
            r"^\s*(?:is|was|has been|have been)\s+(?:ruled out|negative|normal|resolved)", after
        ):
            result.negated = True
            result.span_end = (
                end + len(after) - len(after.lstrip(" ,")) + (post.end() if post else len(after.split(".")[0]))
            )
            result.span_end = min(result.span_end, unit.end)

    sentence_before = low[unit.start : start]
    uncertain = list(_UNCERTAIN.finditer(sentence_before))
    if uncertain and not _TERMINATOR.search(sentence_before[uncertain[-1].end() :]):
        result.uncertain = True
        result.span_start = min(result.span_start, unit.start + uncertain[-1].start())
    elif re.match(r"^\s*(?:is|was|seems)?\s*(?:possible|likely|probable|suspected|unlikely)\b", after):
        result.uncertain = True
    if re.search(r"\b(?:rule out|r/o)\s*$", sentence_before):
        result.uncertain = True

    family = list(_FAMILY.finditer(sentence_before))
    if family and len(sentence_before[family[-1].end() :].split()) <= 8:
        result.family = True
        result.relative = family[-1].group()
        result.span_start = min(result.span_start, unit.start + family[-1].start())
    elif re.match(r"^\s*(?:runs|run|ran) in (?:the|my|our|his|her) family", after):
        result.family = True
        result.relative = "family"
    elif units.has_speakers and unit.speaker == "patient":
        question = _previous_question(units, unit)
        if question is not None and FAMILY_QUESTION.search(low[question.start : question.end]):
            result.family = True
            result.relative = "family"
    return result


def _scope_start(low: str, unit_start: int, start: int) -> int:
    # The scope of a cue ends at a clause break of another kind: ";", ":" or a terminator word.
    window = low[unit_start:start]
    cut = max(window.rfind(";"), window.rfind(":"))
    base = unit_start + cut + 1 if cut >= 0 else unit_start
    terminators = list(_TERMINATOR.finditer(low, base, start))
    if terminators:
        base = terminators[-1].end()
    return max(base, start - 120)


def _scope_end(low: str, end: int, unit_end: int) -> int:
    window = low[end:unit_end]
    cut = re.search(r"[;:,]|\b(?:but|however|and)\b", window)
    return end + (cut.start() if cut else len(window))


def _previous_question(units: TranscriptUnits, unit: Unit) -> Unit | None:
    for earlier in reversed(units.units[max(0, unit.index - 4) : unit.index]):
        if earlier.speaker != unit.speaker:
            return earlier if earlier.question else None
    return None
