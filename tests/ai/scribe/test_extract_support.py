"""Helpers for the scribe language tests: the shared vocabulary and the check that a span supports its value."""

from __future__ import annotations

import re
from functools import cache

from ai.scribe.engine.lexicon import ALLERGENS, SYMPTOMS, compiled
from ai.scribe.engine.numbers import parse_number_en, parse_number_zh
from ai.scribe.engine.types import Suggestion, Transcript
from ai.scribe.engine.vocabulary import Vocabulary

_FUNCTION_WORDS = frozenset(
    [
        "the",
        "a",
        "an",
        "and",
        "or",
        "of",
        "to",
        "in",
        "on",
        "for",
        "with",
        "is",
        "are",
        "was",
        "were",
        "be",
        "been",
        "has",
        "have",
        "had",
        "he",
        "she",
        "his",
        "her",
        "him",
        "they",
        "their",
        "patient",
        "patient's",
        "i",
        "you",
        "your",
        "my",
        "me",
        "it",
        "its",
        "this",
        "that",
        "so",
        "at",
        "as",
        "by",
        "from",
        "not",
        "no",
    ]
)


@cache
def vocabulary_without_encoder() -> Vocabulary:
    """The default vocabulary (formulary, ICD-10, medwer drug names) with ICD ranking by aliases only."""
    default = Vocabulary.default()
    vocabulary = Vocabulary(
        default.drugs,
        list(default.icd.values()),
        context_drug_names=default.context_drug_names,
        use_encoder=False,
    )
    return vocabulary


def numbers_in(text: str, *, zh: bool = False) -> set[float]:
    """Every number in a text, written in digits or words."""
    from ai.scribe.engine.numbers import NUMBER_EN, NUMBER_ZH

    pattern = re.compile(NUMBER_ZH if zh else r"(?<![\w.])" + NUMBER_EN + r"(?![\w])")
    values = set()
    for match in pattern.finditer(text.lower()):
        value = parse_number_zh(match.group()) if zh else parse_number_en(match.group())
        if value is not None:
            values.add(value)
    # Compound words ("one forty") are also parsed piecewise by the pattern; add the digit runs too.
    values |= {float(m) for m in re.findall(r"\d+(?:\.\d+)?", text)}
    return values


def assert_supported(transcript: Transcript, suggestion: Suggestion, vocabulary: Vocabulary) -> None:
    """The suggestion's span lies in the transcript and holds the words its value rests on."""
    text = transcript.text
    assert 0 <= suggestion.span_start < suggestion.span_end <= len(text), suggestion
    span = text[suggestion.span_start : suggestion.span_end]
    low = span.lower()
    value = suggestion.value
    zh = transcript.language.startswith("zh")
    field = suggestion.field
    where = f"{field} {suggestion.text!r} from {span!r}"
    if field == "medication":
        if value.get("none"):
            assert re.search(r"medic|medicine|meds|pills|drugs|药", low), where
            return
        assert str(value["mention"]).lower() in low, where
        if value.get("dose"):
            assert float(str(value["dose"])) in numbers_in(span, zh=zh), where
    elif field == "allergy":
        if value.get("none"):
            assert re.search(r"allerg|nkda|intoleran|过敏", low), where
            return
        substance = str(value.get("substance_zh") or value["substance"]).lower()
        names = {substance} | {k for k, (v, _c) in ALLERGENS.items() if v == substance}
        drug = vocabulary.drug(substance)
        if drug is not None:
            names |= {drug.name_en.lower(), *(s.lower() for s in drug.synonyms)}
        assert any(name in low for name in names), where
        if value.get("reaction"):
            assert len(span) > len(substance), where
    elif field == "vital_sign":
        assert float(value["value"]) in numbers_in(span, zh=zh), where
    elif field == "history_present_illness" and not zh and value.get("kind") != "narrative":
        finding = str(value["finding"])
        patterns = SYMPTOMS.get(finding) or SYMPTOMS.get(finding.split()[-1], ())
        assert any(compiled(p).search(low) for p in patterns), where
        if suggestion.negated:
            assert re.search(r"\b(?:no|not|denies|denied|never|without|nope|n't|none|negative)\b|n't", low), where
    elif field == "diagnosis":
        assert str(value["mention"]).lower() in low, where
    elif field == "family_history" and not zh:
        assert re.search(
            r"mother|father|mom|dad|brother|sister|grand\w+|aunt|uncle|family|parents|son|daughter", low
        ), where
    elif (
        field in ("examination", "assessment")
        or (field == "plan" and value.get("kind") == "advice")
        or value.get("kind") in ("narrative", "social")
    ):
        if zh:
            assert suggestion.text in span, where
            return
        wanted = {w for w in re.findall(r"[a-z0-9]+(?:'[a-z]+)?", suggestion.text.lower()) if w not in _FUNCTION_WORDS}
        have = set(re.findall(r"[a-z0-9]+", low))
        missing = {w for w in wanted if w not in have and w.rstrip("s") not in have and w + "s" not in have}
        assert not missing, f"{where}: {missing}"
