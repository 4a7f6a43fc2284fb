"""Extraction of record fields from English consultations: flags, medicines, allergies, vitals, spans."""

from __future__ import annotations

import pytest

from ai.scribe.engine.extract import extract
from ai.scribe.engine.types import Suggestion, Transcript
from tests.ai.scribe.test_extract_support import assert_supported, vocabulary_without_encoder

CONSULTATION = [
    ("doctor", "Good morning, what brings you in today?"),
    ("patient", "I've had chest pain and a cough for three days. My mother had diabetes."),
    ("doctor", "Any fever?"),
    ("patient", "No."),
    ("doctor", "Do you have any allergies?"),
    ("patient", "I'm allergic to penicillin, it gives me hives."),
    ("doctor", "What medications are you taking?"),
    ("patient", "I take metformin 500 mg twice a day and Tylenol as needed. I have high blood pressure."),
    ("doctor", "Okay, let me examine you. Your blood pressure is 140 over 90, heart rate 88, temperature 101.2 F."),
    ("doctor", "Your lungs have some crackles at the right base."),
    (
        "doctor",
        "I think you have pneumonia, possibly a viral infection. I'm going to prescribe amoxicillin 500 mg by mouth "
        "three times a day. We'll get a chest x-ray, and follow up in two weeks.",
    ),
]


def run(turns, **kwargs) -> tuple[Transcript, list[Suggestion]]:
    transcript = Transcript.from_turns(turns)
    return transcript, extract(transcript, vocabulary=vocabulary_without_encoder(), **kwargs)


def of(suggestions: list[Suggestion], field: str) -> list[Suggestion]:
    return [s for s in suggestions if s.field == field]


def finding(suggestions: list[Suggestion], name: str) -> Suggestion:
    matches = [s for s in of(suggestions, "history_present_illness") if s.value.get("finding") == name]
    assert matches, f"no {name!r} in {[s.text for s in of(suggestions, 'history_present_illness')]}"
    return matches[0]


def test_a_consultation_fills_every_field_with_supported_spans():
    transcript, suggestions = run(CONSULTATION)

    fields = {s.field for s in suggestions}
    assert {
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
    } <= fields
    for suggestion in suggestions:
        assert 0.0 < suggestion.confidence <= 1.0
        assert suggestion.model_name
        assert_supported(transcript, suggestion, vocabulary_without_encoder())


def test_chief_complaint_is_the_patients_answer_to_the_opening_question():
    _transcript, suggestions = run(CONSULTATION)

    [complaint] = of(suggestions, "chief_complaint")
    assert complaint.value["terms"] == ["chest pain", "cough"]
    assert complaint.text == "Chest pain and cough"


@pytest.mark.parametrize(
    ("sentence", "name"),
    [
        ("She denies chest pain.", "chest pain"),
        ("No fever, chills, or night sweats.", "night sweats"),
        ("I haven't had any vomiting.", "vomiting"),
        ("He is negative for shortness of breath.", "shortness of breath"),
        ("I don't have a headache.", "headache"),
    ],
)
def test_negation_cues_deny_the_finding(sentence, name):
    _transcript, suggestions = run([("patient", sentence)])

    assert finding(suggestions, name).negated
    assert finding(suggestions, name).text == f"denies {name}"


def test_negation_stops_at_but():
    _transcript, suggestions = run([("patient", "No fever but I have a cough.")])

    assert finding(suggestions, "fever").negated
    assert not finding(suggestions, "cough").negated


def test_a_question_answered_no_denies_and_answered_yes_affirms():
    transcript, suggestions = run(
        [("doctor", "Any nausea?"), ("patient", "No."), ("doctor", "Any diarrhea?"), ("patient", "Yeah, a little.")]
    )

    nausea = finding(suggestions, "nausea")
    assert nausea.negated
    assert transcript.text[nausea.span_start : nausea.span_end] == "nausea?\nNo"
    assert not finding(suggestions, "diarrhea").negated


def test_a_question_without_an_answer_suggests_nothing():
    _transcript, suggestions = run([("doctor", "Any chest pain?"), ("patient", "Well, let me think about the dates.")])

    assert not of(suggestions, "history_present_illness")


@pytest.mark.parametrize(
    "sentence",
    ["Possible pneumonia.", "We need to rule out pneumonia.", "It might be pneumonia.", "Maybe it is pneumonia."],
)
def test_uncertainty_cues_mark_the_diagnosis_uncertain(sentence):
    _transcript, suggestions = run([("doctor", sentence)])

    [diagnosis] = of(suggestions, "diagnosis")
    assert diagnosis.value["code"] == "J18.9"
    assert diagnosis.uncertain


def test_family_history_is_not_the_patients_own():
    _transcript, suggestions = run(
        [("doctor", "Anything in the family?"), ("patient", "My father had a heart attack and my sister has asthma.")]
    )

    family = {s.value["condition"]: s for s in of(suggestions, "family_history")}
    assert family["myocardial infarction"].value["relative"] == "father"
    assert family["asthma"].value["relative"] == "sister"
    assert all(s.family for s in family.values())
    assert not of(suggestions, "diagnosis")
    assert not of(suggestions, "past_history")


def test_past_history_and_surgery_from_the_patient():
    _transcript, suggestions = run(
        [
            ("doctor", "Any medical problems?"),
            ("patient", "I have high blood pressure and asthma. I had an appendectomy in 2010."),
        ]
    )

    past = {s.text: s for s in of(suggestions, "past_history")}
    assert past["hypertension"].value == {"kind": "condition", "condition": "hypertension", "code": "I10"}
    assert past["asthma"].value["code"] == "J45.9"
    assert past["appendectomy"].value["kind"] == "surgery"


# ----- medicines -----------------------------------------------------------------------------------------------
def medication(suggestions: list[Suggestion], name: str) -> Suggestion:
    matches = [s for s in of(suggestions, "medication") if s.value.get("name") == name]
    assert matches, [s.value.get("name") for s in of(suggestions, "medication")]
    return matches[0]


@pytest.mark.parametrize(
    ("sentence", "name", "code", "dose", "unit", "route", "frequency"),
    [
        ("I take metformin 500 mg twice a day.", "Metformin", "A10BA02", "500", "mg", "", "bid"),
        ("I'm on lisinopril 20 milligrams once daily.", "lisinopril", "", "20", "mg", "", "qd"),
        ("She uses her albuterol inhaler two puffs as needed.", "Salbutamol", "R03AC02", "2", "puff", "inhaled", "prn"),
        ("Take Tylenol 1000 mg by mouth every 6 hours.", "Paracetamol", "N02BE01", "1000", "mg", "oral", "q6h"),
        (
            "Let me add Flagyl intravenously. It will be five hundred M G every eight hours.",
            "Metronidazole",
            "P01AB01",
            "500",
            "mg",
            "iv",
            "q8h",
        ),
        ("He injects insulin glargine 20 units at bedtime.", "Insulin glargine", "A10AE04", "20", "unit", "", "qn"),
    ],
)
def test_medication_regimen_is_parsed_and_matched_to_the_formulary(sentence, name, code, dose, unit, route, frequency):
    transcript, suggestions = run([("patient", sentence)])

    found = medication(suggestions, name)
    assert found.value["drug_code"] == code
    assert found.value["in_formulary"] == bool(code)
    assert (found.value["dose"], found.value["unit"], found.value["route"], found.value["frequency"]) == (
        dose,
        unit,
        route,
        frequency,
    )
    assert_supported(transcript, found, vocabulary_without_encoder())


def test_brand_and_synonym_names_resolve_to_the_generic():
    _transcript, suggestions = run([("patient", "I take Lipitor and Zoloft, and Advil sometimes.")])

    names = {s.value["name"]: s.value["mention"] for s in of(suggestions, "medication")}
    assert names == {"Atorvastatin": "Lipitor", "Sertraline": "Zoloft", "Ibuprofen": "Advil"}


def test_a_new_prescription_is_also_a_plan_item():
    _transcript, suggestions = run(CONSULTATION)

    assert medication(suggestions, "Amoxicillin").value["status"] == "new"
    assert medication(suggestions, "Metformin").value["status"] == "current"
    plans = [s for s in of(suggestions, "plan") if s.value["kind"] == "medication"]
    assert [p.text for p in plans] == ["start Amoxicillin 500 mg oral three times daily"]


def test_no_medicines_is_an_explicit_none():
    _transcript, suggestions = run(
        [("doctor", "Are you taking any medications?"), ("patient", "No."), ("doctor", "Okay.")]
    )

    [none] = of(suggestions, "medication")
    assert none.value["none"] is True


def test_a_drug_word_in_another_sense_is_not_a_medicine():
    _transcript, suggestions = run([("doctor", "Your oxygen saturation is 97 percent.")])

    assert not of(suggestions, "medication")


# ----- allergies -----------------------------------------------------------------------------------------------
def test_allergy_with_substance_and_reaction():
    _transcript, suggestions = run(CONSULTATION)

    [allergy] = of(suggestions, "allergy")
    assert allergy.value == {"substance": "penicillin", "category": "drug", "reaction": "urticaria", "none": False}
    assert allergy.text == "penicillin (urticaria)"


@pytest.mark.parametrize(
    "turns",
    [
        [("patient", "No known drug allergies.")],
        [("doctor", "NKDA.")],
        [("doctor", "Are you allergic to anything, food or medicines?"), ("patient", "No allergies that I know of.")],
        [("doctor", "Any medication intolerances?"), ("patient", "No.")],
    ],
)
def test_no_known_allergies_is_an_explicit_none(turns):
    _transcript, suggestions = run(turns)

    [allergy] = of(suggestions, "allergy")
    assert allergy.value["none"] is True
    assert allergy.text == "No known drug allergies"


def test_a_denied_single_allergy_is_kept_as_denied():
    _transcript, suggestions = run([("doctor", "Are you allergic to latex?"), ("patient", "No.")])

    [allergy] = of(suggestions, "allergy")
    assert allergy.negated
    assert allergy.value["substance"] == "latex"


def test_an_allergen_no_list_knows_is_taken_as_said():
    _transcript, suggestions = run([("patient", "I'm allergic to shrimp.")])

    [allergy] = of(suggestions, "allergy")
    assert allergy.value["substance"] == "shrimp"


# ----- vital signs ---------------------------------------------------------------------------------------------
def vitals(suggestions: list[Suggestion]) -> dict[str, dict]:
    return {s.value["kind"]: s.value for s in of(suggestions, "vital_sign")}


def test_vital_signs_with_their_units():
    _transcript, suggestions = run(
        [
            (
                "doctor",
                "Blood pressure one forty over ninety. Pulse is 72 beats per minute, respiratory rate 16, "
                "sats 97% on room air, temperature 38.5 degrees Celsius.",
            )
        ]
    )

    found = vitals(suggestions)
    assert found["systolic_bp"] == {"kind": "systolic_bp", "value": 140.0, "unit": "mm[Hg]", "unit_inferred": False}
    assert found["diastolic_bp"]["value"] == 90.0
    assert found["heart_rate"]["value"] == 72.0
    assert found["respiratory_rate"]["value"] == 16.0
    assert found["spo2"] == {"kind": "spo2", "value": 97.0, "unit": "%", "unit_inferred": False}
    assert found["temperature"] == {"kind": "temperature", "value": 38.5, "unit": "Cel", "unit_inferred": False}


def test_fahrenheit_keeps_its_unit_and_carries_celsius():
    _transcript, suggestions = run([("doctor", "Her temperature is 101.2 F.")])

    assert vitals(suggestions)["temperature"] == {
        "kind": "temperature",
        "value": 101.2,
        "unit": "[degF]",
        "unit_inferred": False,
        "value_si": 38.4,
        "unit_si": "Cel",
    }


def test_a_temperature_without_a_unit_says_the_unit_was_inferred():
    _transcript, suggestions = run([("doctor", "Temp of 98.6 today.")])

    temperature = vitals(suggestions)["temperature"]
    assert (temperature["unit"], temperature["unit_inferred"], temperature["value_si"]) == ("[degF]", True, 37.0)


def test_impossible_readings_are_dropped():
    _transcript, suggestions = run([("doctor", "Heart rate is 880 and the oxygen saturation 140 percent.")])

    assert not of(suggestions, "vital_sign")


# ----- plan, exam, assessment ----------------------------------------------------------------------------------
def test_plan_items_are_tests_and_follow_up():
    _transcript, suggestions = run(CONSULTATION)

    plan = {(s.value["kind"], s.text) for s in of(suggestions, "plan")}
    assert ("test", "chest X-ray") in plan
    assert ("follow_up", "follow-up in two weeks") in plan


def test_examination_and_assessment_read_as_note_prose():
    _transcript, suggestions = run(CONSULTATION)

    exam = [s.text for s in of(suggestions, "examination")]
    assert "The patient's lungs have some crackles at the right base." in exam
    [assessment] = of(suggestions, "assessment")
    assert assessment.text.startswith("I think the patient has pneumonia")
    assert assessment.uncertain


def test_diagnoses_from_the_assessment_rank_above_history():
    _transcript, suggestions = run(CONSULTATION)

    diagnoses = {s.value["code"]: s for s in of(suggestions, "diagnosis")}
    assert diagnoses["J18.9"].confidence > diagnoses["I10"].confidence
    assert diagnoses["J18.9"].value["candidates"][0]["code"] == "J18.9"


def test_plain_text_with_speaker_labels_is_read_as_a_dialogue():
    transcript = Transcript(
        text="Doctor: Any chest pain?\nPatient: No.\nDoctor: Any cough?\nPatient: Yes.", segments=[], language="en"
    )

    suggestions = extract(transcript, vocabulary=vocabulary_without_encoder())

    assert finding(suggestions, "chest pain").negated
    assert not finding(suggestions, "cough").negated


def test_an_empty_transcript_suggests_nothing():
    assert extract(Transcript(text="", segments=[], language="en"), vocabulary=vocabulary_without_encoder()) == []


def test_the_patients_history_is_also_kept_as_note_sentences():
    _transcript, suggestions = run(
        [
            ("doctor", "What happened?"),
            ("patient", "I have had pain in my lower back since I fell four days ago."),
            ("doctor", "Do you smoke?"),
            ("patient", "I smoke about ten cigarettes a day and I work as a landscaper."),
            ("patient", "My mother has asthma."),
            ("doctor", "She is a 26 year old female with back pain."),
        ]
    )

    narrative = [s.text for s in of(suggestions, "history_present_illness") if s.value["kind"] == "narrative"]
    social = [s.text for s in of(suggestions, "past_history") if s.value["kind"] == "social"]
    assert narrative == ["She has had pain in her lower back since she fell four days ago."]
    assert social == ["She smokes about ten cigarettes a day and she works as a landscaper."]
