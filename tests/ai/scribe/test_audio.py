"""load_audio: what clinicians send is decoded to 16 kHz; what cannot be used is refused with a clear code."""

import io
import os
import random
import shutil

import numpy as np
import pytest

from ai.scribe.engine.audio import SAMPLE_RATE, Audio, error_message, load_audio, sniff_format
from ai.scribe.engine.types import AudioError
from ai.scribe.evaluation.speech import synthesize, wav_bytes

pytestmark = pytest.mark.skipif(shutil.which("espeak-ng") is None, reason="espeak-ng synthesises the test speech")

LIMITS = {"max_bytes": 20 * 1024 * 1024, "max_seconds": 120.0}


@pytest.fixture(scope="module")
def speech() -> np.ndarray:
    return synthesize("The patient has had a cough for three days.", "en-gb")


def encode(samples: np.ndarray, container: str, codec: str, rate: int = 48000) -> bytes:
    """Compress mono 16 kHz samples the way phones and browsers deliver recordings."""
    import av

    buf = io.BytesIO()
    with av.open(buf, "w", format=container) as out:
        stream = out.add_stream(codec, rate=rate)
        stream.layout = "mono"
        frame = av.AudioFrame.from_ndarray(samples[np.newaxis, :].astype(np.float32), format="fltp", layout="mono")
        frame.sample_rate = SAMPLE_RATE
        fmt = stream.codec_context.format.name if stream.codec_context.format else "fltp"
        for f in av.AudioResampler(format=fmt, layout="mono", rate=rate).resample(frame):
            for packet in stream.encode(f):
                out.mux(packet)
        for packet in stream.encode(None):
            out.mux(packet)
    return buf.getvalue()


def refused(data: bytes, **limits) -> AudioError:
    with pytest.raises(AudioError) as info:
        load_audio(data, **{**LIMITS, **limits})
    assert info.value.message  # every refusal says something a clinician can act on
    return info.value


def test_a_mono_wav_is_decoded_to_16_khz_with_its_speech_regions(speech):
    audio = load_audio(wav_bytes(speech), **LIMITS)

    assert audio.channels == 1
    assert audio.samples.shape == (1, speech.size)
    assert audio.samples.dtype == np.float32
    assert audio.sample_rate == SAMPLE_RATE
    assert audio.duration_s == pytest.approx(speech.size / SAMPLE_RATE)
    assert audio.source_format == "wav"
    assert audio.speech and audio.speech[0]["start"] < audio.speech[-1]["end"]


def test_a_wav_at_another_rate_is_resampled(speech):
    import soundfile as sf

    buf = io.BytesIO()
    x44 = np.interp(np.arange(0, speech.size, 16000 / 44100), np.arange(speech.size), speech).astype(np.float32)
    sf.write(buf, x44, 44100, format="WAV", subtype="PCM_16")

    audio = load_audio(buf.getvalue(), **LIMITS)

    assert audio.duration_s == pytest.approx(speech.size / SAMPLE_RATE, abs=0.01)


def test_a_stereo_recording_keeps_its_two_channels(speech):
    silence = np.zeros_like(speech)
    audio = load_audio(wav_bytes(np.stack([speech, silence])), **LIMITS)

    assert audio.channels == 2
    assert audio.samples.shape == (2, speech.size)
    assert np.abs(audio.samples[0]).max() > 0.1
    assert np.abs(audio.samples[1]).max() < 1e-3
    assert audio.mono.shape == (speech.size,)


@pytest.mark.parametrize(
    ("container", "codec", "kind"),
    [("ogg", "libopus", "ogg"), ("webm", "libopus", "webm"), ("mp3", "libmp3lame", "mp3"), ("ipod", "aac", "mp4")],
)
def test_browser_and_phone_formats_decode(speech, container, codec, kind):
    data = encode(speech, container, codec)
    assert sniff_format(data) == kind

    audio = load_audio(data, **LIMITS)

    assert audio.source_format == kind
    assert audio.duration_s == pytest.approx(speech.size / SAMPLE_RATE, abs=0.15)
    assert audio.speech


def test_flac_decodes(speech):
    import soundfile as sf

    buf = io.BytesIO()
    sf.write(buf, speech, SAMPLE_RATE, format="FLAC")

    assert load_audio(buf.getvalue(), **LIMITS).source_format == "flac"


def test_a_pdf_is_not_audio():
    assert refused(b"%PDF-1.7\n1 0 obj << /Type /Catalog >> endobj\n" + os.urandom(2000)).code == "not_audio"


@pytest.mark.parametrize(
    "data",
    [
        b"Patient notes: cough for three days.\n" * 50,
        "患者咳嗽三天。".encode() * 100,
        b"PK\x03\x04" + os.urandom(3000),
        # fixed bytes: random ones sometimes begin with an MP3 frame sync (0xFFE...) and read as a damaged MP3
        b"\x00" + random.Random(135).randbytes(4000),
    ],
    ids=["english-text", "chinese-text", "zip", "random-bytes"],
)
def test_other_files_are_not_audio(data):
    assert refused(data).code == "not_audio"


def test_zero_bytes_are_empty():
    assert refused(b"").code == "empty"


def test_a_wav_without_samples_is_empty():
    assert refused(wav_bytes(np.zeros(0, dtype=np.float32))).code == "empty"


def test_two_seconds_of_silence_are_silent():
    assert refused(wav_bytes(np.zeros(2 * SAMPLE_RATE, dtype=np.float32))).code == "silent"


def test_noise_without_speech_is_silent():
    rng = np.random.default_rng(7)
    hum = 0.05 * np.sin(2 * np.pi * 50 * np.arange(2 * SAMPLE_RATE) / SAMPLE_RATE)
    noise = (hum + 0.01 * rng.standard_normal(2 * SAMPLE_RATE)).astype(np.float32)

    assert refused(wav_bytes(noise)).code == "silent"


def test_a_truncated_wav_header_is_corrupt(speech):
    assert refused(wav_bytes(speech)[:30]).code == "corrupt"


def test_a_wav_cut_short_in_its_data_keeps_what_was_recorded(speech):
    data = wav_bytes(speech)
    audio = load_audio(data[: len(data) // 2], **LIMITS)

    assert audio.duration_s == pytest.approx(speech.size / SAMPLE_RATE / 2, abs=0.05)


def test_a_damaged_webm_is_corrupt(speech):
    data = encode(speech, "webm", "libopus")
    assert refused(data[:60]).code == "corrupt"


def test_an_oversize_file_is_refused_before_decoding():
    # random bytes would be "not_audio" if they were decoded: the size check comes first
    error = refused(os.urandom(3000), max_bytes=2000)

    assert error.code == "too_large"
    assert "MB" in error.message


def test_a_recording_over_the_length_limit_is_too_long(speech):
    assert refused(wav_bytes(speech), max_seconds=1.0).code == "too_long"
    assert refused(encode(speech, "webm", "libopus"), max_seconds=1.0).code == "too_long"


def test_every_code_has_a_message():
    for code in ("not_audio", "empty", "silent", "corrupt"):
        assert error_message(code)
    assert "12" in error_message("too_large", size="12", limit="10")


def test_audio_from_an_array_is_resampled_to_16_khz():
    audio = Audio.from_array(np.zeros(8000, dtype=np.float32), 8000)

    assert audio.samples.shape == (1, 16000)
    assert audio.duration_s == pytest.approx(1.0)
