"""The narrative summary says only what the structured fields say."""

from __future__ import annotations

import re

from ai.scribe.engine.extract import extract
from ai.scribe.engine.summary import summarise
from ai.scribe.engine.types import Suggestion, Transcript
from tests.ai.scribe.test_extract import CONSULTATION
from tests.ai.scribe.test_extract_support import vocabulary_without_encoder


def suggestions() -> list[Suggestion]:
    return extract(Transcript.from_turns(CONSULTATION), vocabulary=vocabulary_without_encoder())


def test_the_summary_states_the_extracted_facts_in_order():
    summary = summarise(suggestions())

    assert summary.startswith("Presents with chest pain and cough.")
    assert "Denies fever." in summary
    assert "Medications: Metformin 500 mg twice daily; Paracetamol as needed." in summary
    assert "Allergies: penicillin (urticaria)." in summary
    assert "blood pressure 140/90 mmHg" in summary
    assert "Assessment: pneumonia (J18.9)" in summary
    assert "Plan: start Amoxicillin 500 mg oral three times daily; chest X-ray; follow-up in two weeks." in summary


def test_every_number_and_word_of_the_summary_comes_from_the_fields():
    fields = suggestions()
    summary = summarise(fields)

    source = " ".join([s.text for s in fields] + [str(v) for s in fields for v in s.value.values()])
    source_words = {w.strip(".") for w in re.findall(r"[a-z0-9.]+", source.lower())}
    frame = {
        "presents",
        "with",
        "reports",
        "denies",
        "past",
        "history",
        "family",
        "medications",
        "allergies",
        "vital",
        "signs",
        "examination",
        "assessment",
        "plan",
        "and",
        "possible",
        "blood",
        "pressure",
        "mmhg",
        "no",
        "known",
        "drug",
        "current",
    }
    stray = {w.strip(".") for w in re.findall(r"[a-z0-9.]+", summary.lower())} - source_words - frame - {""}
    assert not stray, stray


def test_a_summary_of_edited_fields_follows_the_edit():
    fields = suggestions()
    for suggestion in fields:
        if suggestion.field == "allergy":
            suggestion.text = "penicillin (anaphylaxis)"

    assert "Allergies: penicillin (anaphylaxis)." in summarise(fields)


def test_family_history_and_denials_are_not_stated_as_the_patients_findings():
    summary = summarise(suggestions())

    assert "Family history: mother: diabetes mellitus." in summary
    assert "diabetes" not in summary.split("Family history:")[0]
    assert "fever" not in summary.split("Denies")[0]


def test_nothing_to_say_is_an_empty_summary():
    assert summarise([]) == ""
    assert summarise([], language="zh") == ""
