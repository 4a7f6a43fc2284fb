# ruff: noqa: E501 - each pattern stays on one line, so a reviewer reads it whole
"""Medicines named in an English consultation: matched to the formulary, with dose, unit, route and frequency.

A name is a formulary drug (generic name, brand or spoken synonym: "Tylenol" -> Paracetamol, ATC N02BE01),
a known drug outside it (EXTRA_DRUG_NAMES, then the medwer list's drug names where the sentence is about
medicines), and the dose, route and frequency are read from the words after it in the same turn. "I don't
take any medicines" becomes an explicit none.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from ai.scribe.engine.lexicon import DOSE_UNITS, FREQUENCIES, ROUTES, compiled
from ai.scribe.engine.negation import NO_ANSWER, assertion
from ai.scribe.engine.numbers import NUMBER_EN, format_number, parse_number_en
from ai.scribe.engine.types import Suggestion
from ai.scribe.engine.units import TranscriptUnits, Unit
from ai.scribe.engine.vocabulary import Drug, Vocabulary

ROUTE_LABELS = {
    "oral": "oral",
    "iv": "IV",
    "im": "IM",
    "sc": "subcutaneous",
    "inhaled": "inhaled",
    "topical": "topical",
    "rectal": "rectal",
    "sublingual": "sublingual",
    "other": "",
}
FREQUENCY_LABELS = {
    "once": "once",
    "qd": "once daily",
    "bid": "twice daily",
    "tid": "three times daily",
    "qid": "four times daily",
    "q4h": "every 4 hours",
    "q6h": "every 6 hours",
    "q8h": "every 8 hours",
    "q12h": "every 12 hours",
    "qn": "at night",
    "prn": "as needed",
    "weekly": "weekly",
}
MEDICATION_CUES = compiled(
    r"tak(?:e|es|ing)|took|on|prescri(?:be|bed|ption)|start(?:ed|ing)?|add(?:ed|ing)?|continue|increase|decrease|"
    r"stop(?:ped)?|tried|try|us(?:e|ing)|medications?|medicines?|meds|dose|tablets?|pills?|inhaler|cream|mg|"
    r"milligrams?|antibiotics?|refill|give you|put you on|switch"
)
NEW_CUES = compiled(
    r"prescrib(?:e|ing)|prescription|start(?:ing)? (?:you|him|her|on)|put (?:you|him|her) on|give (?:you|him|her)|add|"
    r"begin|i'?m going to (?:give|start|put|prescribe|order)|let'?s (?:start|try|add|put)|we'?ll (?:start|try|add|put)|"
    r"i'?d like (?:you )?to (?:start|try)|i want (?:you )?to (?:start|try)|recommend|send (?:in|over) a"
)
CHANGE_CUES = compiled(
    r"increas(?:e|ing)|decreas(?:e|ing)|reduc(?:e|ing)|doubl(?:e|ing)|halv(?:e|ing)|adjust|switch|chang(?:e|ing)|bump"
)
STOP_CUES = compiled(
    r"stop(?:ped|ping)?|discontinu(?:e|ed)|came off|come off|no longer|quit|hold(?:ing)?|don'?t take it anymore"
)
# A drug's name used for something else: "oxygen saturation", "insulin resistance", "iron levels".
NOT_A_MEDICINE_AFTER = re.compile(
    r"^\s*(?:saturations?|sats?|levels?|resistance|deficiency|studies|study|stores|overload|sensitivity|tolerance|test|therapy clinic)\b"
)
ALLERGY_NEAR = re.compile(r"allerg|intoleran|reaction to|react to|rash from")
NONE_PATTERNS = compiled(
    r"(?:not|n't) (?:taking|on|using) any (?:\w+ )?(?:medications?|medicines?|meds|pills|drugs|tablets)|"
    r"no (?:regular |current |other |daily )?(?:medications?|medicines?|meds)|"
    r"(?:don'?t|do not|doesn'?t|does not) take any (?:\w+ )?(?:medications?|medicines?|meds|pills|drugs|tablets)|"
    r"(?:not|n't) on any (?:\w+ )?(?:medications?|medicines?|meds)|no (?:prescription|over the counter) (?:drugs|medications?)"
)
MEDICATION_QUESTION = compiled(r"medications?|medicines?|meds|pills|taking anything|take anything|drugs|prescriptions?")
_DOSE_UNIT = (
    r"(?:" + "|".join(sorted((re.escape(u).replace(r"\ ", r"\s?") for u in DOSE_UNITS), key=len, reverse=True)) + r")"
)
DOSE_AFTER = re.compile(r"(?<![\w.])(" + NUMBER_EN + r")\s*-?\s*(" + _DOSE_UNIT + r")(?![\w])")
DOSE_BEFORE = re.compile(r"(?<![\w.])(" + NUMBER_EN + r")\s*-?\s*(" + _DOSE_UNIT + r")\s+(?:of\s+)?$")


@dataclass
class DrugMention:
    start: int
    end: int
    drug: Drug
    mention: str


def find_drug_mentions(
    units: TranscriptUnits, vocabulary: Vocabulary, start: int = 0, end: int | None = None
) -> list[DrugMention]:
    """Drug names in low[start:end]: formulary and known names anywhere, medwer-only names where the sentence
    is about medicines."""
    end = len(units.low) if end is None else end
    found = [
        DrugMention(s, e, drug, units.text[s:e])
        for s, e, _phrase, drug in vocabulary.drug_index_en.find(units.low, start, end)
        if isinstance(drug, Drug)
    ]
    if vocabulary.context_drug_names:
        taken = [(m.start, m.end) for m in found]
        for match in re.finditer(r"[a-z]{4,}", units.low[start:end]):
            s, e = start + match.start(), start + match.end()
            if match.group() not in vocabulary.context_drug_names or any(a <= s < b for a, b in taken):
                continue
            unit = units.unit_at(s)
            if unit is None:
                continue
            sentence = units.low[unit.start : unit.end]
            if MEDICATION_CUES.search(sentence) or DOSE_AFTER.match(units.low[e : e + 25].lstrip()):
                found.append(DrugMention(s, e, vocabulary.context_drug(units.text[s:e]), units.text[s:e]))
        found.sort(key=lambda m: m.start)
    return found


def parse_regimen(units: TranscriptUnits, mention: DrugMention, limit: int) -> dict[str, object]:
    """Dose, unit, route and frequency said after (or, for the dose, just before) a drug name, up to `limit`."""
    low = units.low
    window = low[mention.end : limit]
    value: dict[str, object] = {"dose": "", "unit": "", "route": "", "frequency": ""}
    span_end = mention.end
    span_start = mention.start
    for match in DOSE_AFTER.finditer(window):
        number = parse_number_en(match.group(1))
        if number is None or number <= 0:
            continue
        value["dose"] = format_number(number)
        value["unit"] = DOSE_UNITS.get(re.sub(r"\s+", " ", match.group(2)), match.group(2))
        span_end = max(span_end, mention.end + match.end())
        break
    if not value["dose"]:
        before = low[max(0, mention.start - 30) : mention.start]
        prefix = DOSE_BEFORE.search(before)
        number = parse_number_en(prefix.group(1)) if prefix else None
        if prefix and number:
            value["dose"] = format_number(number)
            value["unit"] = DOSE_UNITS.get(re.sub(r"\s+", " ", prefix.group(2)), prefix.group(2))
            span_start = mention.start - (len(before) - prefix.start())
    route_text = low[mention.start : limit]
    best_route = None
    for pattern, code in ROUTES:
        route = compiled(pattern).search(route_text)
        if route and (best_route is None or route.start() < best_route[0].start()):
            best_route = (route, code)
    if best_route:
        value["route"] = best_route[1]
        span_end = max(span_end, mention.start + best_route[0].end())
    best_frequency = None
    for pattern, code in FREQUENCIES:
        said = compiled(pattern).search(window)
        if said and (
            best_frequency is None
            or said.start() < best_frequency[0].start()
            or (said.start() == best_frequency[0].start() and said.end() > best_frequency[0].end())
        ):
            best_frequency = (said, code)
    if best_frequency:
        value["frequency"] = best_frequency[1]
        span_end = max(span_end, mention.end + best_frequency[0].end())
    value["_span"] = (span_start, span_end)
    return value


def medication_text(name: str, value: dict[str, object]) -> str:
    parts = [name]
    if value.get("dose"):
        parts.append(f"{value['dose']} {value.get('unit', '')}".strip())
    route = ROUTE_LABELS.get(str(value.get("route", "")), "")
    if route:
        parts.append(route)
    frequency = FREQUENCY_LABELS.get(str(value.get("frequency", "")), "")
    if frequency:
        parts.append(frequency)
    return " ".join(parts)


def _status(sentence: str, speaker: str) -> str:
    if STOP_CUES.search(sentence):
        return "stopped"
    if CHANGE_CUES.search(sentence):
        return "changed"
    if speaker != "patient" and NEW_CUES.search(sentence):
        return "new"
    return "current"


def extract_medications(units: TranscriptUnits, vocabulary: Vocabulary) -> list[Suggestion]:
    """One suggestion per drug named (the mention with the most detail), and an explicit none when the patient
    takes no medicines and none is named."""
    mentions = find_drug_mentions(units, vocabulary)
    by_drug: dict[str, Suggestion] = {}
    for i, mention in enumerate(mentions):
        unit = units.unit_at(mention.start)
        if unit is None:
            continue
        sentence = units.low[unit.start : unit.end]
        around = units.low[max(unit.start, mention.start - 40) : min(unit.end, mention.end + 25)]
        if ALLERGY_NEAR.search(around) or NOT_A_MEDICINE_AFTER.match(units.low[mention.end : mention.end + 20]):
            continue  # "allergic to penicillin" is an allergy, not a medicine taken
        flags = assertion(units, unit, mention.start, mention.end)
        if not flags.confirmed or flags.family:
            continue
        limit = _regimen_limit(units, unit, mentions[i + 1].start if i + 1 < len(mentions) else None)
        value = parse_regimen(units, mention, limit)
        regimen_span: tuple[int, int] = value.pop("_span")  # type: ignore[assignment]
        span_start = min(regimen_span[0], flags.span_start)
        span_end = max(regimen_span[1], flags.span_end)
        drug = mention.drug
        status = "stopped" if flags.negated and STOP_CUES.search(sentence) else _status(sentence, unit.speaker)
        display = drug.name_en if drug.in_formulary else _display_name(mention.mention, drug)
        value.update(
            {
                "name": display,
                "name_zh": drug.name_zh,
                "mention": mention.mention,
                "drug_code": drug.atc_code,
                "in_formulary": drug.in_formulary,
                "formulary_routes": list(drug.routes),
                "high_alert": drug.high_alert,
                "status": status,
            }
        )
        detail = sum(bool(value[k]) for k in ("dose", "route", "frequency"))
        confidence = (0.9 if drug.in_formulary else 0.7) + 0.03 * detail
        if unit.question and not flags.negated:
            confidence -= 0.1
        suggestion = Suggestion(
            field="medication",
            text=medication_text(display, value) if not flags.negated else f"not taking {display}",
            span_start=span_start,
            span_end=span_end,
            confidence=round(min(confidence, 0.99), 3),
            value=value,
            negated=flags.negated,
            uncertain=flags.uncertain,
        )
        key = display.lower()
        previous = by_drug.get(key)
        if previous is None or _richness(suggestion) >= _richness(previous):
            by_drug[key] = suggestion
    suggestions = sorted(by_drug.values(), key=lambda s: s.span_start)
    if not any(not s.negated for s in suggestions):
        none = _no_medications(units)
        if none is not None:
            suggestions.append(none)
    return suggestions


def _display_name(mention: str, drug: Drug) -> str:
    name = drug.name_en
    return name if name.lower() != mention.lower() else mention.strip().lower()


def _richness(suggestion: Suggestion) -> tuple[int, int]:
    value = suggestion.value
    return (0 if suggestion.negated else 1, sum(bool(value.get(k)) for k in ("dose", "route", "frequency")))


def _regimen_limit(units: TranscriptUnits, unit: Unit, next_mention: int | None) -> int:
    # The regimen may run on into the next sentence of the same turn ("Flagyl IV. It will be 500 mg every
    # 8 hours"), never past the next drug named.
    limit = unit.end
    following = units.units[unit.index + 1] if unit.index + 1 < len(units.units) else None
    if following is not None and following.turn == unit.turn and following.end - unit.end < 160:
        limit = following.end
    if next_mention is not None:
        limit = min(limit, next_mention)
    return limit


def _no_medications(units: TranscriptUnits) -> Suggestion | None:
    for unit in units.units:
        sentence = units.low[unit.start : unit.end]
        match = NONE_PATTERNS.search(sentence)
        if match and not unit.question:
            return _none(unit.start + match.start(), unit.start + match.end())
        if (
            unit.question
            and unit.speaker != "patient"
            and MEDICATION_QUESTION.search(sentence)
            and not ALLERGY_NEAR.search(sentence)
        ):
            answer = units.answer_to(unit)
            if answer is None:
                continue
            no = NO_ANSWER.match(units.low[answer.start : answer.end])
            if no:
                cue = MEDICATION_QUESTION.search(sentence)
                assert cue is not None
                return _none(unit.start + cue.start(), answer.start + no.end())
    return None


def _none(start: int, end: int) -> Suggestion:
    return Suggestion(
        field="medication",
        text="No current medications",
        span_start=start,
        span_end=end,
        confidence=0.85,
        value={"none": True, "name": "", "drug_code": "", "dose": "", "unit": "", "route": "", "frequency": ""},
    )
