"""Note generation: chunks rewritten as note prose, a learned section selector, and the structured lines."""

from __future__ import annotations

import re

import numpy as np

from ai.scribe.engine.extract import extract
from ai.scribe.engine.notegen import (
    AGREEMENT,
    MAX_CHUNK_WORDS,
    SECTIONS,
    NoteModel,
    chunk_features,
    chunk_transcript,
    generate_note,
    infer_pronoun,
)
from ai.scribe.engine.types import Transcript
from tests.ai.scribe.test_extract import CONSULTATION
from tests.ai.scribe.test_extract_support import vocabulary_without_encoder

TEMPLATE_WORDS = set(
    re.findall(
        r"[a-z0-9]+",
        (
            "chief complaint history of present illness review of systems physical examination results assessment and "
            "plan constitutional heent cardiovascular respiratory gastrointestinal genitourinary musculoskeletal "
            "neurological psychiatric skin neck endorses denies or vitals patient agreements the patient "
            "understands and agrees with the recommended medical treatment plan he she his her him the patient's"
        ),
    )
)


def note_for(turns, model=None):
    transcript = Transcript.from_turns(turns)
    suggestions = extract(transcript, vocabulary=vocabulary_without_encoder(), use_encoder=False)
    return (
        transcript,
        suggestions,
        generate_note(transcript, model=model or NoteModel.untrained(), suggestions=suggestions),
    )


def test_the_note_has_four_sections_with_the_structured_lines():
    _transcript, _suggestions, note = note_for(CONSULTATION)

    assert set(note) == set(SECTIONS)
    assert note["subjective"].startswith("CHIEF COMPLAINT\n\nChest pain and cough.\n\nHISTORY OF PRESENT ILLNESS")
    assert "• Constitutional: Denies fever." in note["subjective"]
    assert "• Respiratory: Endorses cough." in note["subjective"]
    assert note["objective_exam"].startswith("PHYSICAL EXAMINATION")
    assert "• Vitals: systolic blood pressure 140 mmHg" in note["objective_exam"]
    assert note["assessment_and_plan"].startswith("ASSESSMENT AND PLAN\n\nPneumonia.")
    assert note["assessment_and_plan"].endswith(AGREEMENT)


def test_the_note_says_nothing_the_consultation_did_not():
    transcript, suggestions, note = note_for(CONSULTATION)

    said = set(re.findall(r"[a-z0-9]+", transcript.text.lower()))
    said |= {w for s in suggestions for w in re.findall(r"[a-z0-9]+", (s.text + " " + str(s.value)).lower())}
    written = set(re.findall(r"[a-z0-9]+", "\n".join(note.values()).lower()))
    unsaid = {
        w
        for w in written - said - TEMPLATE_WORDS
        if w.removesuffix("s") not in said and w.removesuffix("es") not in said
    }
    assert unsaid == set()


def test_speech_becomes_third_person_prose():
    chunks = chunk_transcript(
        Transcript.from_turns(
            [("patient", "Um, I've had, you know, pain in my knee for two weeks."), ("doctor", "Your knee is swollen.")]
        ),
        pronoun="she",
    )

    assert [c.text for c in chunks] == ["She has had pain in her knee for two weeks.", "Her knee is swollen."]


def test_long_unpunctuated_turns_are_cut_into_short_chunks():
    turn = " ".join(["okay so the pain started in my right wrist and it goes up my arm at night"] * 6)

    chunks = chunk_transcript(Transcript.from_turns([("patient", turn)]))

    assert len(chunks) > 2
    assert all(len(c.raw.split()) <= MAX_CHUNK_WORDS for c in chunks)
    assert " ".join(c.raw for c in chunks).split() == turn.split()


def test_the_pronoun_follows_how_the_doctor_speaks_of_the_patient():
    assert infer_pronoun(Transcript.from_turns([("doctor", "Brian is a 58 year old male with hypertension.")])) == "he"
    assert infer_pronoun(Transcript.from_turns([("doctor", "She is a 43-year-old female.")])) == "she"
    assert infer_pronoun(Transcript.from_turns([("doctor", "How are you today?")])) == "they"


def _tiny_training_set():
    pairs = []
    findings = ["mild swelling over the ankle", "a clear chest with no wheezes", "a soft abdomen without tenderness"]
    complaints = ["a headache for a week", "a cough for three days", "nausea since Monday"]
    for complaint, finding in zip(complaints * 3, findings * 3, strict=True):
        transcript = Transcript.from_turns(
            [
                ("doctor", "What brings you in today?"),
                ("patient", f"I have had {complaint}."),
                ("doctor", f"On exam you have {finding}."),
                ("doctor", "I want you to rest and come back in two weeks."),
            ]
        )
        references = {
            "subjective": f"Reports {complaint}.",
            "objective_exam": f"Exam shows {finding}.",
            "objective_results": "",
            "assessment_and_plan": "Rest and follow up in two weeks.",
        }
        pairs.append((transcript, references))
    return pairs


def test_the_selector_learns_which_chunks_feed_which_section():
    model = NoteModel.train(_tiny_training_set(), epochs=60)
    chunks = chunk_transcript(
        Transcript.from_turns(
            [
                ("patient", "I have had a sore throat for a month."),
                ("doctor", "On exam you have mild redness of the throat."),
                ("doctor", "I want you to rest and come back in two weeks."),
            ]
        )
    )
    scores = model.scores([chunk_features(c, None, frozenset()) for c in chunks])

    subjective, exam, _results, plan = range(4)
    assert scores[0, subjective] > scores[0, exam]
    assert scores[1, exam] > scores[1, subjective]
    assert scores[2, plan] > scores[2, exam]
    assert model.budget(100)[subjective] > 0


def test_a_trained_model_survives_a_round_trip(tmp_path):
    model = NoteModel.train(_tiny_training_set(), epochs=5, label="tiny")
    path = tmp_path / "notegen.npz"

    model.save(path)
    loaded = NoteModel.load(path)

    assert loaded.trained_on == "tiny"
    assert np.allclose(loaded.weights, model.weights)
    assert np.allclose(loaded.budget(500), model.budget(500))
