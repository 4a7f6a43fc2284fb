"""Real-time factor of the scribe's speech models and the pipeline's overhead beyond transcription.

Synthesises a ~60 s clinical dictation with espeak-ng (British English male voice, 160 words a minute),
encodes it as WebM/Opus (what browsers' MediaRecorder uploads), then for tiny.en and base (int8, 2 threads,
beam 1, the defaults) measures, as the median of `--runs` runs after one warm-up:

- transcription: faster-whisper on the VAD's speech regions, with word timings (the speaker split needs
  them); the real-time factor is transcription seconds / audio seconds,
- decode: load_audio on the WebM bytes (decode, resample to 16 kHz, Silero VAD for the silence check,
  whose speech regions transcription reuses),
- guard + speakers: everything transcribe() does after the recogniser (hallucination guard, pitch and
  turn split, transcript assembly),
- overhead: (decode + guard + speakers) / transcription,
- word timings: what the word-level alignment adds to transcription (a run with speakers off).

    python bench/scribe_asr.py [--runs 3] [--threads 2]
"""

from __future__ import annotations

import argparse
import io
import os
import statistics
import sys
import time
from pathlib import Path

BENCH_DIR = Path(__file__).resolve().parent
BASE_DIR = BENCH_DIR.parent
sys.path.insert(0, str(BENCH_DIR))
sys.path.insert(0, str(BASE_DIR))
from _machine import machine_line, table  # noqa: E402

DICTATION = (
    "This is a dictation for a sixty two year old man seen in the medical clinic today. He presents with three "
    "days of productive cough, fever and shortness of breath on exertion. He denies chest pain or haemoptysis. "
    "His past history includes type two diabetes, hypertension and chronic kidney disease stage three. Current "
    "medications are metformin five hundred milligrams twice daily, amlodipine five milligrams once daily and "
    "atorvastatin twenty milligrams at night. He is allergic to penicillin, which gave him a rash. On "
    "examination his temperature is thirty eight point four degrees, pulse ninety eight, blood pressure one "
    "hundred and forty over eighty five, respiratory rate twenty two and oxygen saturation ninety four percent "
    "on room air. There are crackles at the right lung base. The impression is community acquired pneumonia. "
    "Plan: chest X-ray, full blood count, C reactive protein and renal function. Start doxycycline one hundred "
    "milligrams twice daily for five days, paracetamol for fever, and review in the clinic in one week."
)


def webm_opus(samples, rate: int = 16000) -> bytes:
    import av
    import numpy as np

    buf = io.BytesIO()
    with av.open(buf, "w", format="webm") as out:
        stream = out.add_stream("libopus", rate=48000)
        stream.layout = "mono"
        frame = av.AudioFrame.from_ndarray(samples[np.newaxis, :].astype(np.float32), format="fltp", layout="mono")
        frame.sample_rate = rate
        fmt = stream.codec_context.format.name if stream.codec_context.format else "fltp"
        for f in av.AudioResampler(format=fmt, layout="mono", rate=48000).resample(frame):
            for packet in stream.encode(f):
                out.mux(packet)
        for packet in stream.encode(None):
            out.mux(packet)
    return buf.getvalue()


def median_time(fn, runs: int) -> tuple[float, object]:
    times, result = [], None
    for _ in range(runs):
        started = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - started)
    return statistics.median(times), result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--models", default="tiny.en,base")
    args = parser.parse_args()

    from ai.scribe.engine.asr import transcribe
    from ai.scribe.engine.audio import load_audio, speech_regions
    from ai.scribe.evaluation.speech import synthesize

    samples = synthesize(DICTATION, "en-gb")
    data = webm_opus(samples)
    limits = {"max_bytes": 50 * 1024 * 1024, "max_seconds": 1800}
    decode_s, audio = median_time(lambda: load_audio(data, **limits), args.runs)
    vad_s, _ = median_time(lambda: speech_regions(audio.mono), args.runs)
    duration = audio.duration_s

    rows = [("model", "audio s", "transcription s", "RTF", "decode s", "guard+speakers s", "overhead", "word timings")]
    for model in args.models.split(","):
        options = {"model": model, "language": "en", "threads": args.threads, "compute_type": "int8", "beam_size": 1}
        transcribe(audio, **options)  # warm-up: model load (and, for base, joining its two halves once)
        walls, transcribing = [], []
        for _ in range(args.runs):
            started = time.perf_counter()
            tr = transcribe(audio, **options)
            walls.append(time.perf_counter() - started)
            transcribing.append(tr.transcribe_seconds)
        plain = [transcribe(audio, speakers=False, **options).transcribe_seconds for _ in range(args.runs)]
        t_s = statistics.median(transcribing)
        after_s = statistics.median(w - t for w, t in zip(walls, transcribing, strict=True))
        overhead = (decode_s + after_s) / t_s
        words = statistics.median(transcribing) / statistics.median(plain) - 1
        rows.append(
            (
                model,
                f"{duration:.1f}",
                f"{t_s:.2f}",
                f"{t_s / duration:.3f}",
                f"{decode_s:.3f}",
                f"{after_s:.3f}",
                f"{100 * overhead:.1f}%",
                f"{100 * words:+.0f}%",
            )
        )
    print(table(rows))
    print(
        f"WebM/Opus input {len(data) / 1024:.0f} KiB; decode includes Silero VAD ({vad_s:.3f} s), which "
        f"transcription then reuses; int8, {args.threads} threads, beam 1; median of {args.runs} runs"
    )
    load = os.getloadavg()
    print(f"{machine_line()}; load average at the end {load[0]:.1f} {load[1]:.1f} {load[2]:.1f}")


if __name__ == "__main__":
    main()
