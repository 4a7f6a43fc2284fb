"""The speech evaluation: PriMock57 dev transcripts -> espeak-ng audio -> transcripts -> WER, medical WER, speakers."""

import shutil
from pathlib import Path

import pytest
from django.conf import settings

from ai.scribe.evaluation.speech import (
    clean_text,
    consultation_audio,
    consultation_ids,
    consultation_utterances,
    evaluate_speech,
    markdown_table,
)

DATASETS = Path(getattr(settings, "DATASETS_DIR", Path(settings.BASE_DIR).parent / "shared" / "datasets"))

pytestmark = [
    pytest.mark.skipif(shutil.which("espeak-ng") is None, reason="espeak-ng synthesises the audio"),
    pytest.mark.skipif(not (DATASETS / "primock57-dev").is_dir(), reason="the PriMock57 dev split is not here"),
]


def test_transcript_tags_become_speech():
    assert clean_text("<UNSURE>Hello how</UNSURE> um. Good morning") == "Hello how um. Good morning"
    assert clean_text("<UNIN/> Sorry to hear that.") == "Sorry to hear that."
    assert clean_text("<INAUDIBLE_SPEECH/>") == ""


def test_a_consultation_reads_as_both_speakers_in_time_order():
    cid = consultation_ids(DATASETS)[0]

    utterances = consultation_utterances(DATASETS, cid)

    assert {u.speaker for u in utterances} == {"doctor", "patient"}
    assert [u.start for u in utterances] == sorted(u.start for u in utterances)
    assert all("<" not in u.text for u in utterances)


def test_synthesised_audio_is_cached_outside_the_repository(tmp_path):
    cid = consultation_ids(DATASETS)[0]

    audio, placed = consultation_audio(DATASETS, cid, tmp_path, max_seconds=12)

    wavs = list((tmp_path / "primock57-dev").glob("*.wav"))
    assert len(wavs) == 1
    assert 4 < audio.duration_s <= 12.5
    assert placed[-1].end <= audio.duration_s
    assert all(a.end <= b.start for a, b in zip(placed, placed[1:], strict=False))  # one after another
    cached_at = wavs[0].stat().st_mtime_ns
    again, placed_again = consultation_audio(DATASETS, cid, tmp_path, max_seconds=12)
    assert wavs[0].stat().st_mtime_ns == cached_at
    assert placed_again == placed and again.samples.shape == audio.samples.shape


def test_evaluate_speech_on_one_short_consultation(tmp_path):
    report = evaluate_speech(
        DATASETS,
        model="tiny.en",
        limit=1,
        seconds_per_consultation=25,
        cache_dir=tmp_path,
        biasing=("none", "hotwords"),
        threads=1,
    )

    assert report["split"] == "PriMock57 dev" and "espeak-ng" in report["audio"]
    assert report["consultations"] == 1 and 15 < report["audio_seconds"] <= 26
    assert set(report["results"]) == {"none", "hotwords"}
    plain = report["results"]["none"]
    assert 0 <= plain["wer"] < 0.5  # clean synthetic speech: most words are heard
    assert plain["speaker_accuracy"] >= 0.8  # two voices of different pitch
    assert 0 < plain["rtf"] < 5
    assert report["per_consultation"][0]["none"]["ref_words"] > 20
    assert "Paracetamol" in report["hotwords"]
    table = markdown_table([report])
    assert "| tiny.en | none | 1 |" in table and "| tiny.en | hotwords | 1 |" in table
