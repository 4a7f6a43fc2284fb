"""Audio in: bytes from an upload or the browser's recorder -> 16 kHz float samples, or a clear refusal.

`load_audio` accepts what clinicians actually send: WAV and FLAC (decoded by soundfile), and the compressed
formats of phones and browsers, OGG/Opus, WebM/Opus (MediaRecorder), MP3 and M4A (decoded by PyAV, the
FFmpeg binding faster-whisper already depends on). Everything is resampled to the 16 kHz Whisper expects,
keeping up to two channels so that a two-channel recording (one microphone per speaker) can attribute
turns by channel later.

Anything else is refused with an `AudioError` whose `code` is stable and whose message a clinician
understands: not_audio, empty, silent, corrupt, too_large, too_long. The size limit is checked before any
decoding and the length limit while decoding, so an oversized or very long file costs nothing.

The speech regions found by voice-activity detection (Silero VAD, shipped with faster-whisper) are kept on
the `Audio`, so transcription reuses them instead of running the detector a second time.
"""

from __future__ import annotations

import io
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ai.scribe.engine.types import AudioError

SAMPLE_RATE = 16000
MAX_CHANNELS = 2

# A 30 ms frame louder than this (dBFS) somewhere in the recording means there is sound at all; digital
# silence and a muted microphone stay far below it, room noise usually too.
SOUND_FLOOR_DBFS = -55.0
_FRAME = 480  # 30 ms at 16 kHz
_DECODE_BLOCK_S = 30  # resample in blocks of this many seconds, so memory stays flat for long files
_FIFO_SAMPLES = 480_000  # 10 s at 48 kHz


def _(message: str) -> str:
    """gettext when Django is configured (the worker, the web process), the English text otherwise."""
    try:
        from django.conf import settings

        if settings.configured:
            from django.utils.translation import gettext

            return gettext(message)
    except Exception:  # noqa: S110 - no Django or no translation machinery: the English text is the answer
        pass
    return message


def error_message(code: str, **params: Any) -> str:
    """The clinician-facing message of an `AudioError` code, in the active language.

    Kept apart from `load_audio` so that a page can render a stored code in the viewer's language.
    """
    messages = {
        "not_audio": _(
            "This file is not a sound recording. Please upload the recording of the consultation "
            "(for example WAV, MP3, M4A, OGG or WebM)."
        ),
        "empty": _("The recording is empty. Please record the consultation again."),
        "silent": _(
            "No speech could be heard in the recording. Check that the microphone was switched on and record again."
        ),
        "corrupt": _(
            "The recording is damaged and cannot be played. Please upload it again or record the consultation again."
        ),
        "too_large": _(
            "The file is too large (%(size)s MB; the limit is %(limit)s MB). Please upload a shorter recording."
        ),
        "too_long": _(
            "The recording is too long (%(minutes)s minutes; the limit is %(limit)s minutes). Please split it "
            "into shorter recordings."
        ),
    }
    text = messages.get(code, _("The recording cannot be used."))
    return text % params if params else text


def _fail(code: str, **params: Any) -> AudioError:
    return AudioError(code, error_message(code, **params))


@dataclass
class Audio:
    """Decoded audio: `samples` is float32 in [-1, 1], shaped (channels, n), at 16 kHz."""

    samples: np.ndarray
    sample_rate: int = SAMPLE_RATE
    duration_s: float = 0.0
    channels: int = 1
    # speech regions from voice-activity detection, in samples: [{"start": s, "end": e}, ...]; None = not run
    speech: list[dict[str, int]] | None = None
    source_format: str = ""  # wav, flac, ogg, webm, mp3, mp4, ... (what the bytes were)
    _mono: np.ndarray | None = field(default=None, repr=False, compare=False)

    @property
    def mono(self) -> np.ndarray:
        """The channels mixed down to one (what Whisper hears)."""
        if self._mono is None:
            self._mono = (
                self.samples[0] if self.channels == 1 else self.samples.mean(axis=0, dtype=np.float32)
            ).astype(np.float32, copy=False)
        return self._mono

    @property
    def speech_seconds(self) -> float:
        if self.speech is None:
            return self.duration_s
        return sum(c["end"] - c["start"] for c in self.speech) / self.sample_rate

    @classmethod
    def from_array(cls, samples: np.ndarray, sample_rate: int = SAMPLE_RATE) -> Audio:
        """Wrap samples already decoded (1-D mono or (channels, n)); resampled to 16 kHz when needed."""
        x = np.asarray(samples, dtype=np.float32)
        if x.ndim == 1:
            x = x[np.newaxis, :]
        if sample_rate != SAMPLE_RATE:
            x = _resample(x, sample_rate)
        return cls(samples=x, duration_s=x.shape[1] / SAMPLE_RATE, channels=x.shape[0])


# --- format sniffing -------------------------------------------------------------------------------------

_NOT_AUDIO_MAGIC = (
    b"%PDF",
    b"PK\x03\x04",  # zip, docx, xlsx
    b"\x89PNG",
    b"\xff\xd8\xff",  # JPEG
    b"GIF8",
    b"BM",  # bitmap
    b"\xd0\xcf\x11\xe0",  # old Office documents
    b"{\\rtf",
    b"\x7fELF",
    b"MZ",
)


def sniff_format(data: bytes) -> str:
    """What the bytes are, from their first bytes: an audio container name, "other", or "not_audio"."""
    head = data[:64]
    if head.startswith(b"RIFF") and head[8:12] == b"WAVE" or head.startswith(b"RIFF") and len(data) < 12:
        return "wav"
    if head.startswith(b"RIFF") and head[8:12] == b"AVI ":
        return "other"
    if head.startswith(b"RIFF") and head[8:12] == b"WEBP":
        return "not_audio"
    if head.startswith(b"fLaC"):
        return "flac"
    if head.startswith(b"FORM") and head[8:12] in (b"AIFF", b"AIFC"):
        return "aiff"
    if head.startswith(b"OggS"):
        return "ogg"
    if head.startswith(b"\x1a\x45\xdf\xa3"):
        return "webm"  # Matroska/WebM, what Chrome's and Firefox's MediaRecorder produce
    if head[4:8] == b"ftyp":
        return "mp4"  # M4A, MP4, 3GP (Safari's and phones' recorders)
    if head.startswith(b"ID3") or (len(head) > 1 and head[0] == 0xFF and head[1] & 0xE0 == 0xE0):
        return "mp3"  # an ID3 tag or an MPEG audio frame sync (also ADTS AAC)
    if head.startswith(b"#!AMR"):
        return "amr"
    if any(head.startswith(m) for m in _NOT_AUDIO_MAGIC):
        return "not_audio"
    if _looks_like_text(data[:4096]):
        return "not_audio"
    return "other"


def _looks_like_text(head: bytes) -> bool:
    if not head:
        return False
    try:
        text = head.decode("utf-8")
    except UnicodeDecodeError:
        # a multi-byte character cut at the end of the sample is still text
        try:
            text = head[:-3].decode("utf-8")
        except UnicodeDecodeError:
            return False
    printable = sum(ch.isprintable() or ch in "\r\n\t" for ch in text)
    return printable >= 0.95 * len(text)


# --- decoding --------------------------------------------------------------------------------------------


def _resample(x: np.ndarray, rate: int) -> np.ndarray:
    """(channels, n) at `rate` -> (channels, m) at 16 kHz, through libswresample (fast, good quality)."""
    import av

    if rate == SAMPLE_RATE:
        return x
    layout = "mono" if x.shape[0] == 1 else "stereo"
    resampler = av.AudioResampler(format="fltp", layout=layout, rate=SAMPLE_RATE)
    out: list[np.ndarray] = []
    step = rate * _DECODE_BLOCK_S
    for i in range(0, x.shape[1], step):
        frame = av.AudioFrame.from_ndarray(np.ascontiguousarray(x[:, i : i + step]), format="fltp", layout=layout)
        frame.sample_rate = rate
        out.extend(f.to_ndarray() for f in resampler.resample(frame))
    out.extend(f.to_ndarray() for f in resampler.resample(None))
    if not out:
        return np.zeros((x.shape[0], 0), dtype=np.float32)
    return np.concatenate(out, axis=1).astype(np.float32, copy=False)


def _decode_soundfile(data: bytes, max_seconds: float) -> np.ndarray:
    import soundfile as sf

    try:
        with sf.SoundFile(io.BytesIO(data)) as f:
            if f.frames and f.samplerate and f.frames / f.samplerate > max_seconds:
                raise _fail("too_long", minutes=_minutes(f.frames / f.samplerate), limit=_minutes(max_seconds))
            x = f.read(dtype="float32", always_2d=True)
            rate = f.samplerate
    except AudioError:
        raise
    except (sf.LibsndfileError, RuntimeError, ValueError, TypeError, EOFError) as exc:
        raise _fail("corrupt") from exc
    x = x[:, :MAX_CHANNELS].T if x.shape[1] <= MAX_CHANNELS else _downmix(x.T)
    return _resample(np.ascontiguousarray(x), rate)


def _downmix(x: np.ndarray) -> np.ndarray:
    """More than two channels (a conference microphone array): one mixed channel."""
    return x.mean(axis=0, keepdims=True, dtype=np.float32)


def _decode_av(data: bytes, max_seconds: float) -> np.ndarray:
    import av

    try:
        container = av.open(io.BytesIO(data), mode="r", metadata_errors="ignore")
    except (av.error.FFmpegError, ValueError, OSError) as exc:
        raise _fail("not_audio") from exc
    with container:
        streams = [s for s in container.streams if s.type == "audio"]
        if not streams:
            raise _fail("not_audio")
        stream = streams[0]
        if container.duration and container.duration / 1_000_000 > max_seconds:
            seconds = container.duration / 1_000_000
            raise _fail("too_long", minutes=_minutes(seconds), limit=_minutes(max_seconds))
        channels = getattr(stream.codec_context, "channels", 1) or 1
        layout = "mono" if channels == 1 else "stereo"
        resampler = av.AudioResampler(format="fltp", layout=layout, rate=SAMPLE_RATE)
        # decoded frames are short (20 ms for Opus); resampling them in large batches is several times faster
        fifo = av.AudioFifo()
        out: list[np.ndarray] = []
        n = 0
        limit = int(max_seconds * SAMPLE_RATE)
        decode_errors = 0

        def drain(final: bool = False) -> None:
            nonlocal n
            batch = fifo.read() if final else fifo.read(_FIFO_SAMPLES)
            frames = resampler.resample(batch) if batch is not None else []
            if final:
                frames = [*frames, *resampler.resample(None)]
            for f in frames:
                arr = f.to_ndarray()
                out.append(arr)
                n += arr.shape[1]

        try:
            for packet in container.demux(stream):
                try:
                    frames = packet.decode()
                except (av.error.InvalidDataError, av.error.FFmpegError):
                    decode_errors += 1  # a damaged packet: skip it, as players do
                    continue
                for frame in frames:
                    if not isinstance(frame, av.AudioFrame):
                        continue
                    frame.pts = None
                    fifo.write(frame)
                    while fifo.samples >= _FIFO_SAMPLES:
                        drain()
                if n > limit:
                    raise _fail("too_long", minutes=f"> {_minutes(max_seconds)}", limit=_minutes(max_seconds))
            drain(final=True)
        except AudioError:
            raise
        except (av.error.FFmpegError, ValueError, OSError) as exc:
            if not out and not fifo.samples:
                raise _fail("corrupt") from exc
            # a recording cut short (a browser tab closed mid-upload): keep what decodes
            if fifo.samples:
                drain(final=True)
        if not out:
            if decode_errors:
                raise _fail("corrupt")
            return np.zeros((1, 0), dtype=np.float32)
    return np.concatenate(out, axis=1).astype(np.float32, copy=False)


def _minutes(seconds: float) -> str:
    return f"{seconds / 60:.1f}".rstrip("0").rstrip(".")


def _megabytes(n: int | float) -> str:
    return f"{n / (1024 * 1024):.3g}"  # MiB, as the upload limit setting counts them


# --- silence and speech ----------------------------------------------------------------------------------


def peak_level_dbfs(mono: np.ndarray) -> float:
    """The level of the loudest 30 ms frame, in dB relative to full scale."""
    n = mono.shape[0] // _FRAME
    if n == 0:
        rms = float(np.sqrt(np.mean(np.square(mono)))) if mono.size else 0.0
    else:
        frames = mono[: n * _FRAME].reshape(n, _FRAME)
        rms = float(np.sqrt(np.mean(np.square(frames), axis=1)).max())
    return 20.0 * np.log10(max(rms, 1e-10))


def speech_regions(mono: np.ndarray) -> list[dict[str, int]]:
    """Speech regions (sample ranges) by Silero VAD, with faster-whisper's default options."""
    from faster_whisper.vad import VadOptions, get_speech_timestamps

    return [{"start": int(c["start"]), "end": int(c["end"])} for c in get_speech_timestamps(mono, VadOptions())]


# --- entry point -----------------------------------------------------------------------------------------


def load_audio(data: bytes, *, max_bytes: int, max_seconds: float, detect_speech: bool = True) -> Audio:
    """Decode a recording to 16 kHz float samples (up to two channels), or raise `AudioError`.

    Checks, in order: empty (0 bytes), too_large (before decoding), not_audio (a PDF, a text, an image, or
    bytes no decoder accepts), corrupt (a known audio container that does not decode), too_long (while
    decoding), empty (no samples), silent (no sound above the floor, or VAD finds no speech). With
    `detect_speech` the VAD's speech regions are kept on the result for transcription to reuse.
    """
    if not data:
        raise _fail("empty")
    if len(data) > max_bytes:
        raise _fail("too_large", size=_megabytes(len(data)), limit=_megabytes(max_bytes))
    kind = sniff_format(data)
    if kind == "not_audio":
        raise _fail("not_audio")
    if kind in ("wav", "flac", "aiff"):
        samples = _decode_soundfile(data, max_seconds)
    else:
        try:
            samples = _decode_av(data, max_seconds)
        except AudioError as exc:
            # an unknown container no decoder accepts is "not audio"; a known one that fails is "corrupt"
            if exc.code == "not_audio" and kind != "other":
                raise _fail("corrupt") from exc
            raise
    if samples.shape[1] == 0:
        raise _fail("empty")
    duration = samples.shape[1] / SAMPLE_RATE
    if duration > max_seconds:
        raise _fail("too_long", minutes=_minutes(duration), limit=_minutes(max_seconds))
    np.clip(samples, -1.0, 1.0, out=samples)
    audio = Audio(
        samples=samples,
        duration_s=duration,
        channels=samples.shape[0],
        source_format=kind if kind != "other" else "",
    )
    if peak_level_dbfs(audio.mono) < SOUND_FLOOR_DBFS:
        raise _fail("silent")
    if detect_speech:
        audio.speech = speech_regions(audio.mono)
        if not audio.speech:
            raise _fail("silent")
    return audio
