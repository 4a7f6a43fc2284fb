"""The evaluation's measures on hand-made cases, the dataset readers, and the command on small slices."""

from __future__ import annotations

import csv
import io
import json
import sys

import pytest
from django.core.management import call_command

from ai.scribe.evaluation.datasets import aci_dialogue, default_datasets_dir, mts_dialogue, primock57
from ai.scribe.evaluation.text import (
    Counts,
    concepts,
    drug_entities,
    highlight_recalled,
    length_ratio,
    reference_allergens,
    rouge1,
    score_notes,
)
from tests.ai.scribe.test_extract_support import vocabulary_without_encoder


# ----- measures ------------------------------------------------------------------------------------------------
def test_rouge1_is_unigram_f_measure_with_stemming():
    assert rouge1("the patient has chest pain", "the patient has chest pain") == pytest.approx(1.0)
    assert rouge1("chest pain", "headache today") == 0.0
    assert rouge1("he was running daily", "he runs daily") == pytest.approx(2 * (3 / 3) * (3 / 4) / (3 / 3 + 3 / 4))
    assert rouge1("", "anything") == 0.0


def test_concepts_match_whole_words_longest_first():
    assert concepts("He has chest pain and hypertension.") == {"chest pain", "hypertension"}
    assert "pain" not in concepts("He asked for a painkiller.")
    assert concepts("Hypertensions") == set()
    assert concepts("") == set()


def test_counts_give_micro_precision_recall_f1():
    counts = Counts()
    counts.add({"a", "b"}, {"a", "c", "d"})
    counts.add({"e"}, {"e"})

    assert (counts.true_positive, counts.predicted, counts.reference, counts.documents) == (2, 3, 4, 2)
    assert counts.precision == pytest.approx(2 / 3)
    assert counts.recall == pytest.approx(0.5)
    assert counts.f1 == pytest.approx(2 * (2 / 3) * 0.5 / (2 / 3 + 0.5))
    assert Counts().f1 == 0.0


def test_length_ratio_sums_words_over_documents():
    assert length_ratio(
        ["one two three four", "five six"], ["one two", "three four five six seven eight"]
    ) == pytest.approx(8 / 6)
    assert length_ratio([""], ["words"]) == 0.0


def test_a_section_without_reference_counts_for_concepts_not_rouge():
    scores = score_notes(["chest pain", ""], ["chest pain", "cough"])

    assert scores.documents == 1
    assert scores.rouge1 == pytest.approx(100.0)
    assert (scores.concepts.true_positive, scores.concepts.predicted, scores.concepts.reference) == (1, 2, 1)
    assert scores.length_ratio == pytest.approx(3 / 2)


def test_drug_entities_resolve_brands_to_one_generic_name():
    vocabulary = vocabulary_without_encoder()

    assert drug_entities("Include Cipro and Flagyl.", vocabulary) == {"ciprofloxacin", "metronidazole"}
    assert drug_entities("His only medications are Ziac and Remeron.", vocabulary) == {
        "bisoprolol + hydrochlorothiazide",
        "mirtazapine",
    }


@pytest.mark.parametrize(
    ("reference", "entities"),
    [
        ("Sulfa (rash).", {"sulfonamides"}),
        ("Eggs and peanuts.", {"egg", "peanut"}),
        ("She is allergic to Lortab.", set()),  # a brand no list knows: not an entity on either side
        ("She is on benzoyl peroxide and Daypro.", set()),  # medicines taken, not allergies
        ("He has an allergy to penicillin and codeine.", {"penicillin", "codeine"}),
    ],
)
def test_reference_allergens_come_from_allergy_statements(reference, entities):
    assert reference_allergens(reference, vocabulary_without_encoder()) == entities


def test_a_highlight_is_recalled_by_its_concepts_or_its_words():
    note = "Three days of watery diarrhea with left lower quadrant pain. Impression: gastroenteritis."

    assert highlight_recalled("gastroenteritis", note)
    assert highlight_recalled("3/7 hx of diarrhea", note)
    assert highlight_recalled("LLQ pain", note)
    assert not highlight_recalled("Fever", note)


# ----- readers -------------------------------------------------------------------------------------------------
def test_mts_dialogue_turns_split_even_on_one_line():
    transcript = mts_dialogue("Doctor: Any confusion? \nPatient: No. Doctor: Any hallucinations? \nGuest_family: No.")

    assert [(s.speaker, s.text) for s in transcript.segments] == [
        ("doctor", "Any confusion?"),
        ("patient", "No."),
        ("doctor", "Any hallucinations?"),
        ("patient", "No."),
    ]


def test_aci_dialogue_lines_become_turns():
    transcript = aci_dialogue("[doctor] hi brian how are you\n[patient] fine thanks\n and you\n[doctor] good")

    assert [(s.speaker, s.text) for s in transcript.segments] == [
        ("doctor", "hi brian how are you"),
        ("patient", "fine thanks and you"),
        ("doctor", "good"),
    ]


def _textgrid(name: str, intervals: list[tuple[float, float, str]]) -> str:
    lines = ['File type = "ooTextFile"', 'Object class = "TextGrid"', "item []:", f'    name = "{name}"']
    for i, (start, end, text) in enumerate(intervals, 1):
        lines += [
            f"        intervals [{i}]:",
            f"            xmin = {start} ",
            f"            xmax = {end} ",
            f'            text = "{text}" ',
        ]
    return "\n".join(lines) + "\n"


def write_small_datasets(root):
    """A few hand-made rows in each dataset's own format."""
    mts = root / "mts-dialog"
    mts.mkdir(parents=True)
    rows = [
        ("0", "ALLERGY", "No known drug allergies.", "Doctor: Any allergies?\nPatient: No."),
        (
            "1",
            "MEDICATIONS",
            "Cipro and Flagyl.",
            "Doctor: Let me write you a prescription for Cipro and Flagyl.\nPatient: Okay.",
        ),
        ("2", "CC", "Cough.", "Doctor: What brings you in?\nPatient: I have a cough."),
    ]
    for name in ("MTS-Dialog-ValidationSet.csv", "MTS-Dialog-TrainingSet.csv"):
        with (mts / name).open("w", newline="", encoding="utf-8") as handle:
            writer = csv.writer(handle)
            writer.writerow(["ID", "section_header", "section_text", "dialogue"])
            writer.writerows(rows)
    aci = root / "aci-bench"
    aci.mkdir()
    dialogue = (
        "[doctor] what brings you in today\n[patient] i have had a cough for three days and no fever\n"
        "[doctor] on exam your lungs are clear\n[doctor] i think you have bronchitis . rest and come back in two weeks"
    )
    note = {
        "subjective": "CHIEF COMPLAINT\n\nCough.\n\nHISTORY OF PRESENT ILLNESS\n\nCough for three days. Denies fever.",
        "objective_exam": "PHYSICAL EXAM\n\nLungs clear.",
        "objective_results": "#####EMPTY#####",
        "assessment_and_plan": "ASSESSMENT AND PLAN\n\nBronchitis. Rest, follow up in two weeks.",
    }
    for split, ids in (("train", ["T1", "T2", "T3"]), ("valid", ["V1", "V2"])):
        with (aci / f"{split}.csv").open("w", newline="", encoding="utf-8") as handle:
            writer = csv.writer(handle)
            writer.writerow(["dataset", "encounter_id", "dialogue", "note"])
            for encounter in ids:
                whole = "\n\n".join(v for v in note.values() if "EMPTY" not in v)
                writer.writerow(["aci", encounter, dialogue, whole])
        for section, text in note.items():
            data = [{"src": dialogue, "tgt": text, "file": f"{e}-aci-{section}"} for e in ids]
            (aci / f"{split}_{section}.json").write_text(json.dumps({"data": data}), encoding="utf-8")
    primock = root / "primock57-dev"
    (primock / "notes").mkdir(parents=True)
    (primock / "transcripts").mkdir()
    (primock / "notes" / "day1_consultation01.json").write_text(
        json.dumps(
            {
                "note": "3/7 cough. Imp: bronchitis",
                "highlights": ["cough", "bronchitis"],
                "presenting_complaint": "cough",
            }
        ),
        encoding="utf-8",
    )
    (primock / "transcripts" / "day1_consultation01_doctor.TextGrid").write_text(
        _textgrid(
            "Doctor", [(0.0, 1.0, ""), (1.0, 3.0, "What brings you in?"), (6.0, 8.0, "I think it is bronchitis.")]
        ),
        encoding="utf-8",
    )
    (primock / "transcripts" / "day1_consultation01_patient.TextGrid").write_text(
        _textgrid("Patient", [(3.0, 5.5, "<UNSURE>I have</UNSURE> a cough <UNIN/> for three days.")]), encoding="utf-8"
    )


def test_primock_textgrids_merge_into_turns_in_time_order(tmp_path):
    write_small_datasets(tmp_path)

    [item] = primock57(tmp_path)

    assert [(s.speaker, s.text) for s in item.transcript.segments] == [
        ("doctor", "What brings you in?"),
        ("patient", "I have a cough for three days."),
        ("doctor", "I think it is bronchitis."),
    ]
    assert item.highlights == ["cough", "bronchitis"]


# ----- the command ---------------------------------------------------------------------------------------------
def run_command(*args: str) -> str:
    out, err = io.StringIO(), io.StringIO()
    call_command("scribe_evaluate", *args, stdout=out, stderr=err)
    return out.getvalue()


def test_the_command_prints_one_table_with_every_split(tmp_path, monkeypatch):
    write_small_datasets(tmp_path / "datasets")
    monkeypatch.setenv("SCRIBE_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setitem(sys.modules, "ai.scribe.evaluation.speech", None)  # the speech part reports why it is skipped

    table = run_command("--datasets", str(tmp_path / "datasets"), "--no-encoder", "--markdown")

    lines = table.splitlines()
    assert lines[0] == "| evaluation | split | item | n | metric | value | length ratio |"
    assert (
        "| MTS-Dialog field extraction | validation | allergies | 1 | P / R / F1 (entities) | 1.00 / 1.00 / 1.00 |  |"
        in lines
    )
    assert (
        "| MTS-Dialog field extraction | validation | medications | 1 | P / R / F1 (entities) | 1.00 / 1.00 / 1.00 |  |"
        in lines
    )
    assert any(line.startswith("| ACI-BENCH note generation | valid | whole note | 2 | ROUGE-1 |") for line in lines)
    assert any("| valid | whole note: baseline, doctor's turns cut to reference length |" in line for line in lines)
    assert any(
        line.startswith("| PriMock57 highlighted terms | dev | in the generated note | 2 | recall |") for line in lines
    )
    assert any(line.startswith("| Speech | PriMock57 dev | skipped |") for line in lines)


def test_the_command_refuses_an_unknown_part(tmp_path):
    from django.core.management.base import CommandError

    with pytest.raises(CommandError, match="Unknown part"):
        run_command("--datasets", str(tmp_path), "--only", "mts,tts")


@pytest.mark.skipif(
    not (default_datasets_dir() / "aci-bench" / "valid.csv").exists(), reason="the shared datasets are not here"
)
def test_the_command_on_a_slice_of_the_real_datasets(tmp_path, monkeypatch):
    # Slower than the rest (seconds, not minutes): the note selector is trained on the full train splits first.
    monkeypatch.setenv("SCRIBE_CACHE_DIR", str(tmp_path / "cache"))

    table = run_command("--only", "mts,aci,primock", "--limit", "2", "--no-encoder")

    assert "MTS-Dialog field extraction  validation" in table
    assert "ACI-BENCH note generation    valid" in table
    assert "PriMock57 highlighted terms  dev" in table
