"""Evaluate the scribe on the public datasets and print one table, every figure beside its split.

    manage.py scribe_evaluate [--datasets DIR] [--only mts,aci,primock,speech] [--speech-limit N] [--markdown]

Needs no database: it reads the datasets, runs the engine in this process and prints. The language parts
(MTS-Dialog, ACI-BENCH, PriMock57) take a few minutes on two cores; the first run also computes the ICD-10
title embeddings and trains the note selector, both cached under SCRIBE_CACHE_DIR.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError

PARTS = ("mts", "aci", "primock", "speech")


class Command(BaseCommand):
    help = (
        "Evaluate the scribe on MTS-Dialog validation (field extraction), ACI-BENCH valid (note generation), "
        "PriMock57 dev (highlighted terms) and synthesised PriMock57 speech; print one table with each figure's split."
    )
    requires_system_checks: list[str] = []  # no database, no models: runnable with settings alone

    def add_arguments(self, parser):
        parser.add_argument(
            "--datasets", help="Folder of the datasets (default: settings.DATASETS_DIR or ../shared/datasets)."
        )
        parser.add_argument(
            "--only", default=",".join(PARTS), help=f"Comma-separated parts to run, of {', '.join(PARTS)}."
        )
        parser.add_argument(
            "--speech-limit", type=int, default=3, help="PriMock57 consultations to synthesise and transcribe."
        )
        parser.add_argument(
            "--speech-seconds",
            type=float,
            default=None,
            help="Seconds of each synthesised consultation (default: all).",
        )
        parser.add_argument(
            "--speech-model", default="", help="Whisper model for the speech part (default: SCRIBE_WHISPER_MODEL_EN)."
        )
        parser.add_argument(
            "--limit", type=int, default=None, help="Use only the first N items of each dataset (a quick look)."
        )
        parser.add_argument("--no-encoder", action="store_true", help="Rank ICD-10 codes without the sentence encoder.")
        parser.add_argument("--markdown", action="store_true", help="Print the table as Markdown.")

    def handle(self, *args, **options):
        from ai.scribe.evaluation.datasets import default_datasets_dir
        from ai.scribe.evaluation.table import render

        datasets_dir = Path(options["datasets"]) if options["datasets"] else default_datasets_dir()
        if not datasets_dir.is_dir():
            raise CommandError(f"No datasets folder at {datasets_dir}; pass --datasets or set DATASETS_DIR.")
        only = [part.strip() for part in options["only"].split(",") if part.strip()]
        unknown = [part for part in only if part not in PARTS]
        if unknown:
            raise CommandError(f"Unknown part(s) {', '.join(unknown)}; choose from {', '.join(PARTS)}.")
        started = time.monotonic()
        rows = evaluation_rows(
            datasets_dir,
            only=only,
            limit=options["limit"],
            use_encoder=not options["no_encoder"],
            speech_limit=options["speech_limit"],
            speech_seconds=options["speech_seconds"],
            speech_model=options["speech_model"],
            log=lambda message: self.stderr.write(message),
        )
        self.stdout.write(render(rows, markdown=options["markdown"]))
        self.stderr.write(f"scribe_evaluate: {time.monotonic() - started:.0f} s")


def evaluation_rows(
    datasets_dir: Path,
    *,
    only: list[str],
    limit: int | None = None,
    use_encoder: bool = True,
    speech_limit: int = 3,
    speech_seconds: float | None = None,
    speech_model: str = "",
    log: Any = None,
) -> list:
    from ai.scribe.engine.extract import extract
    from ai.scribe.engine.notegen import generate_note, model_for_datasets
    from ai.scribe.engine.vocabulary import Vocabulary
    from ai.scribe.evaluation import table
    from ai.scribe.evaluation.datasets import aci_bench, mts_dialog, primock57
    from ai.scribe.evaluation.text import evaluate_aci, evaluate_mts, evaluate_primock

    vocabulary = Vocabulary.default()
    if use_encoder and vocabulary.encoder is not None:
        import torch

        torch.set_num_threads(max(1, min(2, torch.get_num_threads())))

    extracted: dict[int, list] = {}

    def run_extract(transcript):
        # The note generator and the field scores read the same extraction of each transcript.
        key = id(transcript)
        if key not in extracted:
            extracted[key] = extract(transcript, vocabulary=vocabulary, use_encoder=use_encoder)
        return extracted[key]

    def cut(items: list) -> list:
        return items[:limit] if limit else items

    rows: list[table.Row] = []
    note_model = model_for_datasets(str(datasets_dir)) if {"aci", "primock"} & set(only) else None

    def run_note(transcript):
        return generate_note(transcript, model=note_model, suggestions=run_extract(transcript))

    if "mts" in only:
        started = time.monotonic()
        items = cut(mts_dialog(datasets_dir, "validation"))
        report = evaluate_mts(items, run_extract, vocabulary)
        kind = {"allergies": "entities", "medications": "entities"}
        for name, counts in report.fields.items():
            rows.append(
                table.Row(
                    "MTS-Dialog field extraction",
                    "validation",
                    name,
                    str(counts.documents),
                    f"P / R / F1 ({kind.get(name, 'concepts')})",
                    table.prf(counts.precision, counts.recall, counts.f1),
                )
            )
        if log:
            log(f"mts: {len(items)} dialogues, {time.monotonic() - started:.0f} s")
    if "aci" in only:
        started = time.monotonic()
        items = cut(aci_bench(datasets_dir, "valid"))
        report_aci = evaluate_aci(items, run_note)
        labels = {
            "subjective": "subjective",
            "objective_exam": "objective exam",
            "objective_results": "objective results",
            "assessment_and_plan": "assessment and plan",
            "whole": "whole note",
        }
        for section, scores in report_aci.sections.items():
            length = table.ratio(scores.length_ratio)
            rows.append(
                table.Row(
                    "ACI-BENCH note generation",
                    "valid",
                    labels[section],
                    str(scores.documents),
                    "ROUGE-1",
                    f"{scores.rouge1:.1f}",
                    length,
                )
            )
            counts = scores.concepts
            rows.append(
                table.Row(
                    "ACI-BENCH note generation",
                    "valid",
                    labels[section],
                    str(scores.documents),
                    "concepts P / R / F1",
                    table.prf(counts.precision, counts.recall, counts.f1),
                    length,
                )
            )
        for section, scores in report_aci.baseline.items():
            length = table.ratio(scores.length_ratio)
            item = f"{labels[section]}: baseline, doctor's turns cut to reference length"
            rows.append(
                table.Row(
                    "ACI-BENCH note generation",
                    "valid",
                    item,
                    str(scores.documents),
                    "ROUGE-1",
                    f"{scores.rouge1:.1f}",
                    length,
                )
            )
            counts = scores.concepts
            rows.append(
                table.Row(
                    "ACI-BENCH note generation",
                    "valid",
                    item,
                    str(scores.documents),
                    "concepts P / R / F1",
                    table.prf(counts.precision, counts.recall, counts.f1),
                    length,
                )
            )
        if log:
            log(f"aci: {len(items)} encounters, {time.monotonic() - started:.0f} s")
    if "primock" in only:
        started = time.monotonic()
        items = cut(primock57(datasets_dir))
        report_primock = evaluate_primock(items, run_note, run_extract)
        total = max(1, report_primock.highlights)
        rows.append(
            table.Row(
                "PriMock57 highlighted terms",
                "dev",
                "in the generated note",
                str(report_primock.highlights),
                "recall",
                f"{report_primock.recalled_note / total:.2f}",
                table.ratio(report_primock.length_ratio),
            )
        )
        rows.append(
            table.Row(
                "PriMock57 highlighted terms",
                "dev",
                "in the extracted fields",
                str(report_primock.highlights),
                "recall",
                f"{report_primock.recalled_fields / total:.2f}",
            )
        )
        if log:
            log(f"primock: {len(items)} consultations, {time.monotonic() - started:.0f} s")
    if "speech" in only:
        rows += speech_rows(datasets_dir, limit=speech_limit, seconds=speech_seconds, model=speech_model, log=log)
    return rows


def speech_rows(datasets_dir: Path, *, limit: int, seconds: float | None, model: str, log: Any = None) -> list:
    """The speech part, when the speech evaluation is installed; otherwise one row saying why it was skipped."""
    from ai.scribe.engine.encoder import default_cache_dir
    from ai.scribe.evaluation import table

    try:
        from ai.scribe.evaluation.speech import evaluate_speech
    except ImportError as error:
        return [table.Row("Speech", "PriMock57 dev", "skipped", "0", "", f"speech evaluation not available: {error}")]
    if not model:
        from django.conf import settings

        model = str(getattr(settings, "SCRIBE_WHISPER_MODEL_EN", "tiny.en"))
    try:
        report = evaluate_speech(
            datasets_dir,
            model=model,
            limit=limit,
            seconds_per_consultation=seconds,
            cache_dir=default_cache_dir() / "speech",
            log=log,
        )
    except (OSError, RuntimeError, ValueError) as error:
        return [table.Row("Speech", "PriMock57 dev", "skipped", "0", "", f"{type(error).__name__}: {error}")]
    split = f"{report.get('split', 'PriMock57 dev')}, synthesised audio"
    rows = []
    for biasing, result in report.get("results", {}).items():

        def pct(value: float | None) -> str:
            return "n/a" if value is None else f"{100 * value:.1f}%"

        rows.append(
            table.Row(
                "Speech recognition",
                split,
                f"{report.get('model', model)}, biasing: {biasing}",
                str(report.get("consultations", "")),
                "WER / medical-term error rate / real-time factor",
                f"{pct(result.get('wer'))} / {pct(result.get('medical_wer'))} / {result.get('rtf') or 0:.3f}",
            )
        )
    return rows
