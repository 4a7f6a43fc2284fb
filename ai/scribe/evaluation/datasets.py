"""Readers for the public clinical-conversation datasets under DATASETS_DIR (../shared/datasets).

Each reader turns a dataset's own format into the scribe's Transcript (speaker turns) and the reference
text it is scored against; nothing is copied into the project. The splits are the ones the datasets'
authors published: MTS-Dialog training/validation, ACI-BENCH train/valid (challenge data), PriMock57 dev.
"""

from __future__ import annotations

import csv
import json
import re
from dataclasses import dataclass, field
from pathlib import Path

from ai.scribe.engine.types import Speaker, Transcript

ACI_SECTIONS = ("subjective", "objective_exam", "objective_results", "assessment_and_plan")
MTS_SPEAKERS: dict[str, Speaker] = {
    "doctor": "doctor",
    "guest_clinician": "doctor",
    "patient": "patient",
    "guest_family": "patient",
}
_MTS_TURN = re.compile(
    r"(?:^|\s)(Doctor|Patient|Guest_family|Guest_clinician|Guest_family_\d|Guest_clinician_\d)\s*:\s*", re.IGNORECASE
)
_ACI_TURN = re.compile(r"^\s*\[(doctor|patient|patient_guest|guest_family|guest_clinician)\]\s*", re.IGNORECASE)


@dataclass
class MtsItem:
    id: str
    section: str  # GENHX, ALLERGY, MEDICATIONS, CC, PASTMEDICALHX, FAM/SOCHX, ...
    reference: str
    transcript: Transcript


@dataclass
class AciItem:
    id: str  # encounter id, e.g. D2N068
    source: str  # aci | virtassist | virtscribe
    transcript: Transcript
    note: str
    sections: dict[str, str] = field(default_factory=dict)  # section -> reference text ("" when the note has none)


@dataclass
class PrimockItem:
    id: str  # day1_consultation01
    transcript: Transcript
    note: str
    highlights: list[str]
    presenting_complaint: str = ""


def default_datasets_dir() -> Path:
    """DATASETS_DIR from Django settings when configured, else ../shared/datasets beside the project."""
    try:
        from django.conf import settings

        configured = str(getattr(settings, "DATASETS_DIR", "") or "") if settings.configured else ""
        if configured:
            return Path(configured)
        if settings.configured:
            return (Path(settings.BASE_DIR) / ".." / "shared" / "datasets").resolve()
    except ImportError:  # pragma: no cover
        pass
    return (Path(__file__).resolve().parents[3] / ".." / "shared" / "datasets").resolve()


def _speaker(label: str) -> Speaker:
    key = re.sub(r"_\d+$", "", label.lower())
    return MTS_SPEAKERS.get(key, "unknown")


def mts_dialogue(text: str) -> Transcript:
    """'Doctor: ... Patient: ...' as speaker turns (labels may share a line)."""
    parts = _MTS_TURN.split(text)
    turns: list[tuple[Speaker, str]] = []
    if parts[0].strip():
        turns.append(("unknown", parts[0].strip()))
    for i in range(1, len(parts) - 1, 2):
        speech = " ".join(parts[i + 1].split())
        if speech:
            turns.append((_speaker(parts[i]), speech))
    return Transcript.from_turns(turns, language="en")


def mts_dialog(datasets_dir: Path, split: str = "validation") -> list[MtsItem]:
    name = {"validation": "MTS-Dialog-ValidationSet.csv", "train": "MTS-Dialog-TrainingSet.csv"}[split]
    path = Path(datasets_dir) / "mts-dialog" / name
    with path.open(encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    return [
        MtsItem(
            id=str(row["ID"]),
            section=row["section_header"].strip().upper(),
            reference=" ".join(row["section_text"].split()),
            transcript=mts_dialogue(row["dialogue"]),
        )
        for row in rows
    ]


def aci_dialogue(text: str) -> Transcript:
    """'[doctor] ...' lines as speaker turns; a line without a label continues the previous turn."""
    turns: list[tuple[Speaker, str]] = []
    for line in text.splitlines():
        match = _ACI_TURN.match(line)
        speech = " ".join(line[match.end() :].split()) if match else " ".join(line.split())
        if not speech:
            continue
        if match:
            label = match.group(1).lower()
            speaker: Speaker = "doctor" if label in ("doctor", "guest_clinician") else "patient"
            turns.append((speaker, speech))
        elif turns:
            turns[-1] = (turns[-1][0], f"{turns[-1][1]} {speech}")
        else:
            turns.append(("unknown", speech))
    return Transcript.from_turns(turns, language="en")


def aci_bench(datasets_dir: Path, split: str = "valid") -> list[AciItem]:
    folder = Path(datasets_dir) / "aci-bench"
    with (folder / f"{split}.csv").open(encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    sections: dict[str, dict[str, str]] = {}
    for section in ACI_SECTIONS:
        path = folder / f"{split}_{section}.json"
        if not path.exists():
            continue
        for entry in json.loads(path.read_text(encoding="utf-8"))["data"]:
            encounter = entry["file"].split("-")[0]
            target = entry["tgt"].strip()
            sections.setdefault(encounter, {})[section] = "" if "#####EMPTY#####" in target else target
    return [
        AciItem(
            id=row["encounter_id"],
            source=row["dataset"],
            transcript=aci_dialogue(row["dialogue"]),
            note=row["note"].strip(),
            sections={s: sections.get(row["encounter_id"], {}).get(s, "") for s in ACI_SECTIONS},
        )
        for row in rows
    ]


_INTERVAL = re.compile(r"xmin = ([\d.]+)\s*\n\s*xmax = ([\d.]+)\s*\n\s*text = \"(.*)\"")


def _clean_primock(text: str) -> str:
    text = text.replace('""', '"')
    text = re.sub(r"</?UNSURE>", "", text)
    text = re.sub(r"<[^>]*/>", " ", text)
    text = re.sub(r"<[^>]*>", " ", text)
    return " ".join(text.split())


def primock_transcript(folder: Path, consultation: str) -> Transcript:
    """The doctor's and the patient's TextGrid utterances merged in time order, as speaker turns."""
    utterances: list[tuple[float, Speaker, str]] = []
    for speaker in ("doctor", "patient"):
        path = folder / "transcripts" / f"{consultation}_{speaker}.TextGrid"
        for start, _end, text in _INTERVAL.findall(path.read_text(encoding="utf-8")):
            text = _clean_primock(text)
            if text:
                utterances.append((float(start), speaker, text))
    utterances.sort(key=lambda u: u[0])
    turns: list[tuple[Speaker, str]] = []
    for _start, speaker, text in utterances:
        if turns and turns[-1][0] == speaker:
            turns[-1] = (speaker, f"{turns[-1][1]} {text}")
        else:
            turns.append((speaker, text))
    return Transcript.from_turns(turns, language="en")


def primock57(datasets_dir: Path) -> list[PrimockItem]:
    folder = Path(datasets_dir) / "primock57-dev"
    items = []
    for path in sorted((folder / "notes").glob("*.json")):
        data = json.loads(path.read_text(encoding="utf-8"))
        items.append(
            PrimockItem(
                id=path.stem,
                transcript=primock_transcript(folder, path.stem),
                note=data.get("note", ""),
                highlights=[h for h in data.get("highlights", []) if h.strip()],
                presenting_complaint=data.get("presenting_complaint", ""),
            )
        )
    return items
