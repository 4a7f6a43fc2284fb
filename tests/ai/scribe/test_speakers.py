"""Doctor and patient turns: by channel when the recording has two, by voice pitch when it has one."""

import shutil

import numpy as np
import pytest

from ai.scribe.engine.audio import SAMPLE_RATE
from ai.scribe.engine.guard import RawSegment
from ai.scribe.engine.speakers import assign_speakers, frame_pitch, name_groups
from ai.scribe.evaluation.speech import synthesize

pytestmark = pytest.mark.skipif(shutil.which("espeak-ng") is None, reason="espeak-ng synthesises the test speech")

TURNS = [
    ("doctor", "Good morning. What brings you in today?"),
    ("patient", "I have had a bad cough and a fever for three days."),
    ("doctor", "Are you taking any medicines at the moment?"),
    ("patient", "Only metformin for my diabetes."),
    ("doctor", "Do you have any allergies?"),
    ("patient", "Yes, penicillin gives me a rash."),
]
DOCTOR_VOICE, PATIENT_VOICE = "en-gb", "en-us+f2"  # a low male and a higher female voice


def render(turns, voices):
    """The turns spoken one after another (0.5 s apart): mono samples, a two-channel version, the segments."""
    gap = np.zeros(SAMPLE_RATE // 2, dtype=np.float32)
    mono, left, right, segments = [], [], [], []
    cursor = 0
    for speaker, text in turns:
        x = synthesize(text, voices[speaker])
        silent = np.zeros_like(x)
        mono += [x, gap]
        left += [x if speaker == "doctor" else silent, gap]
        right += [x if speaker == "patient" else silent, gap]
        segments.append(RawSegment(cursor / SAMPLE_RATE, (cursor + x.size) / SAMPLE_RATE, text))
        cursor += x.size + gap.size
    stereo = np.stack([np.concatenate(left), np.concatenate(right)])
    return np.concatenate(mono)[np.newaxis, :], stereo, segments


@pytest.fixture(scope="module")
def dialogue():
    return render(TURNS, {"doctor": DOCTOR_VOICE, "patient": PATIENT_VOICE})


def test_pitch_of_a_steady_tone_is_measured():
    t = np.arange(SAMPLE_RATE) / SAMPLE_RATE
    for f0 in (95.0, 140.0, 230.0):
        voice = (0.3 * np.sign(np.sin(2 * np.pi * f0 * t)) * np.hanning(t.size)).astype(np.float32)  # rich in harmonics
        measured = np.nanmedian(frame_pitch(voice))
        assert measured == pytest.approx(f0, rel=0.03)
    assert np.isnan(frame_pitch(np.zeros(SAMPLE_RATE, dtype=np.float32))).all()


def test_two_voices_of_different_pitch_on_one_channel_are_separated(dialogue):
    mono, _, segments = dialogue

    turns = assign_speakers(segments, mono)

    assert [speaker for _, speaker in turns] == [speaker for speaker, _ in TURNS]


def test_a_two_channel_recording_is_attributed_by_channel(dialogue):
    _, stereo, segments = dialogue
    # the same voice on both channels: only the channel can tell them apart
    same_voice_mono, same_voice_stereo, same_segments = render(TURNS, {"doctor": "en-gb", "patient": "en-gb"})

    turns = assign_speakers(same_segments, same_voice_stereo)
    assert [speaker for _, speaker in turns] == [speaker for speaker, _ in TURNS]

    turns = assign_speakers(segments, stereo, channel_roles=("patient", "doctor"))
    assert [speaker for _, speaker in turns] == ["patient" if s == "doctor" else "doctor" for s, _ in TURNS]

    # on one channel the same voice cannot be told apart: nobody is guessed
    assert {speaker for _, speaker in assign_speakers(same_segments, same_voice_mono)} == {"unknown"}


def test_a_recording_copied_to_both_channels_is_treated_as_one_channel(dialogue):
    mono, _, segments = dialogue
    duplicated = np.concatenate([mono, mono])

    assert [speaker for _, speaker in assign_speakers(segments, duplicated)] == [speaker for speaker, _ in TURNS]


def test_a_segment_holding_a_question_and_its_answer_is_cut_at_the_change(dialogue):
    from ai.scribe.engine.guard import Word

    mono, _, segments = dialogue
    # Whisper put turn 3 and 4 in one segment; its word timings show where each word was
    q, a = segments[2], segments[3]
    q_words, a_words = q.text.split(), a.text.split()
    words = [
        Word(
            q.start + i * (q.end - q.start) / len(q_words),
            q.start + (i + 1) * (q.end - q.start) / len(q_words),
            " " + w,
        )
        for i, w in enumerate(q_words)
    ] + [
        Word(
            a.start + i * (a.end - a.start) / len(a_words),
            a.start + (i + 1) * (a.end - a.start) / len(a_words),
            " " + w,
        )
        for i, w in enumerate(a_words)
    ]
    merged = RawSegment(q.start, a.end, q.text + " " + a.text, words=words)

    turns = assign_speakers([*segments[:2], merged, *segments[4:]], mono)

    assert [(seg.text, speaker) for seg, speaker in turns[2:4]] == [(q.text, "doctor"), (a.text, "patient")]


def test_a_dictation_is_the_doctor_throughout(dialogue):
    mono, _, segments = dialogue

    assert {speaker for _, speaker in assign_speakers(segments, mono, dictation=True)} == {"doctor"}


def test_the_doctor_is_the_group_that_asks_and_speaks_first():
    asks = ["How long have you had the pain?", "Do you take any tablets?", "I will prescribe ibuprofen."]
    answers = ["About a week.", "I take aspirin for my heart.", "My knee hurts when I walk."]

    assert name_groups({0: answers, 1: asks}, first_group=0) == {1: "doctor", 0: "patient"}
    assert name_groups({0: ["你哪里不舒服？", "给你开点药。"], 1: ["我头痛三天了。"]}, first_group=1) == {
        0: "doctor",
        1: "patient",
    }
