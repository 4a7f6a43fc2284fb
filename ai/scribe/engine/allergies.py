"""Allergies in an English consultation: substance and reaction, or an explicit "no known drug allergies".

"I'm allergic to penicillin, it gives me hives" -> substance penicillin (drug), reaction urticaria.
"No allergies that I know of", "NKDA", or "Any allergies?" answered "No." -> one suggestion with
value {"none": True}. "Not allergic to latex" is kept as a denied allergy (negated).
"""

from __future__ import annotations

import re

from ai.scribe.engine.lexicon import ALLERGENS, REACTIONS, alternation, compiled
from ai.scribe.engine.medications import find_drug_mentions
from ai.scribe.engine.negation import NO_ANSWER, YES_ANSWER
from ai.scribe.engine.types import Suggestion
from ai.scribe.engine.units import TranscriptUnits, Unit
from ai.scribe.engine.vocabulary import Vocabulary

CUE = compiled(
    r"allergic (?:reaction )?to|allergy to|allergies to|allergic|allerg(?:y|ies)|intoleran(?:t|ce|ces) (?:of|to)|"
    r"intoleran(?:t|ce|ces)|reaction to|react(?:ed)? (?:badly )?to|sensitive to|sensitivity to"
)
NONE = compiled(
    r"no known (?:drug |medication |medicine |food )?(?:allergies|allergy|intolerances?)|nkda|nka|"
    r"no (?:drug |medication |medicine |food |known )?(?:allergies|allergy|intolerances?)|"
    r"(?:not|n't) allergic to (?:anything|any (?:medications?|medicines?|drugs|foods?))|"
    r"(?:don'?t|do not|doesn'?t|does not) have any (?:known )?(?:\w+ )?allergies|"
    r"allergies:? (?:none|nil|no)|none known"
)
ALLERGY_QUESTION = compiled(
    r"allerg(?:y|ies|ic)|intoleran(?:t|ce|ces)|reactions? to (?:any|a) (?:medications?|medicines?|drugs)"
)
_ALLERGEN = alternation(tuple(ALLERGENS))
_REACTION = alternation(tuple(REACTIONS))
_NEGATED = re.compile(
    r"(?:not|n't|never been|no longer) (?:be )?(?:allergic|sensitive)|no (?:allergy|allergies|reaction) to"
)
_WEAK_OBJECTS = {"anything", "that", "it", "this", "something", "them", "those", "these", "any", "what", "which"}


def extract_allergies(units: TranscriptUnits, vocabulary: Vocabulary) -> list[Suggestion]:
    suggestions: list[Suggestion] = []
    seen: set[tuple[str, bool]] = set()
    none_found: Suggestion | None = None
    for unit in units.units:
        sentence = units.low[unit.start : unit.end]
        none_match = NONE.search(sentence)
        if none_match and not unit.question and none_found is None:
            none_found = _none(unit.start + none_match.start(), unit.start + none_match.end())
            continue
        if unit.question and unit.speaker != "patient" and ALLERGY_QUESTION.search(sentence):
            answer = units.answer_to(unit)
            if answer is not None:
                answer_low = units.low[answer.start : answer.end]
                cue = ALLERGY_QUESTION.search(sentence)
                assert cue is not None
                no = NO_ANSWER.match(answer_low)
                if no and none_found is None and not _ALLERGEN.search(answer_low):
                    substances = _substances(units, vocabulary, unit.start, unit.end)
                    if substances:
                        # "Are you allergic to penicillin?" "No." denies that one substance.
                        for start, _end, substance, category in substances:
                            key = (substance, True)
                            if key not in seen:
                                seen.add(key)
                                suggestions.append(
                                    _allergy(
                                        substance,
                                        category,
                                        "",
                                        start,
                                        answer.start + no.end(),
                                        negated=True,
                                        confidence=0.8,
                                    )
                                )
                    else:
                        none_found = _none(unit.start + cue.start(), answer.start + no.end())
                    continue
                if YES_ANSWER.match(answer_low):
                    for start, end, substance, category in _substances(units, vocabulary, unit.start, unit.end):
                        reaction, reaction_end = _reaction(units, answer)
                        key = (substance, False)
                        if key not in seen:
                            seen.add(key)
                            suggestions.append(
                                _allergy(
                                    substance,
                                    category,
                                    reaction,
                                    start,
                                    max(answer.end if reaction else answer.start + 3, end),
                                    confidence=0.8,
                                )
                            )
                    continue
        for cue in CUE.finditer(sentence):
            cue_start = unit.start + cue.start()
            cue_end = unit.start + cue.end()
            region_start, region_end = _object_region(units, unit, cue_start, cue_end)
            substances = _substances(units, vocabulary, region_start, region_end)
            if not substances:
                phrase = _free_object(units, cue_end, unit.end) if cue.group().endswith("to") else None
                if phrase:
                    substances = [phrase]
            negated = bool(_NEGATED.search(sentence))
            for start, end, substance, category in substances:
                key = (substance, negated)
                if key in seen:
                    continue
                seen.add(key)
                reaction, reaction_end = _reaction(units, unit)
                span_start = min(start, cue_start)
                span_end = max(end, cue_end, reaction_end if reaction else 0)
                if negated:
                    negation = _NEGATED.search(sentence)
                    assert negation is not None
                    span_start = min(span_start, unit.start + negation.start())
                suggestions.append(_allergy(substance, category, reaction, span_start, span_end, negated=negated))
    if none_found is not None and not any(not s.negated for s in suggestions):
        suggestions.append(none_found)
    return suggestions


def _object_region(units: TranscriptUnits, unit: Unit, cue_start: int, cue_end: int) -> tuple[int, int]:
    # "allergic to X" looks after the cue; "penicillin allergy" looks just before it.
    if re.match(r"allerg(?:y|ies)$|intoleran", units.low[cue_start:cue_end]) and not units.low[cue_end:].startswith(
        " to"
    ):
        return max(unit.start, cue_start - 40), cue_end
    return cue_start, min(unit.end, cue_end + 80)


def _substances(
    units: TranscriptUnits, vocabulary: Vocabulary, start: int, end: int
) -> list[tuple[int, int, str, str]]:
    found: list[tuple[int, int, str, str]] = []
    for match in _ALLERGEN.finditer(units.low, start, end):
        substance, category = ALLERGENS[re.sub(r"\s+", " ", match.group())]
        found.append((match.start(), match.end(), substance, category))
    for mention in find_drug_mentions(units, vocabulary, start, end):
        if any(a <= mention.start < b for a, b, *_ in found):
            continue
        found.append((mention.start, mention.end, mention.drug.name_en.lower(), "drug"))
    return sorted(found)


def _free_object(units: TranscriptUnits, start: int, end: int) -> tuple[int, int, str, str] | None:
    # An allergen no list knows ("allergic to shrimp"): the words after "to", up to a pause or a conjunction.
    match = re.match(
        r"\s+((?:[a-z][a-z'-]*\s?){1,3}?)(?=[,.;!?]|\s(?:and|but|which|that|so|it|they|he|she|i)\b|$)",
        units.low[start:end],
    )
    if not match:
        return None
    phrase = match.group(1).strip()
    words = phrase.split()
    if not words or words[0] in _WEAK_OBJECTS or words[-1] in _WEAK_OBJECTS or words[0] in ("the", "a", "my"):
        return None
    s = start + match.start(1)
    return s, s + len(phrase), phrase, "other"


def _reaction(units: TranscriptUnits, unit: Unit) -> tuple[str, int]:
    turn = [u for u in units.units[unit.index : unit.index + 3] if u.turn == unit.turn]
    for candidate in turn:
        match = _REACTION.search(units.low, candidate.start, candidate.end)
        if match:
            return REACTIONS[re.sub(r"\s+", " ", match.group())], match.end()
    return "", 0


def _allergy(
    substance: str,
    category: str,
    reaction: str,
    start: int,
    end: int,
    *,
    negated: bool = False,
    confidence: float = 0.88,
) -> Suggestion:
    text = f"{substance} ({reaction})" if reaction else substance
    if negated:
        text = f"not allergic to {substance}"
    return Suggestion(
        field="allergy",
        text=text,
        span_start=start,
        span_end=end,
        confidence=confidence,
        value={"substance": substance, "category": category, "reaction": reaction, "none": False},
        negated=negated,
    )


def _none(start: int, end: int) -> Suggestion:
    return Suggestion(
        field="allergy",
        text="No known drug allergies",
        span_start=start,
        span_end=end,
        confidence=0.9,
        value={"substance": "", "category": "", "reaction": "", "none": True},
    )
