"""Scores of the scribe's language part: field extraction (MTS-Dialog), note generation (ACI-BENCH), and the
clinicians' highlighted terms (PriMock57).

Definitions, so the figures can be checked and compared:
- Medical concepts: the terms of the list that ships in the medwer package (19,373 drug-product and
  ICD-10-CM terms), matched as whole words, greedy longest match, on text normalised by medwer's pinned
  Whisper normaliser. A text's concepts are the set of terms found in it.
- Concept precision / recall / F1: micro-averaged over documents on those sets (true positives are the
  concepts found in both the generated and the reference text of the same document).
- ROUGE-1: F-measure of the rouge-score package with stemming on, averaged over documents, x100.
- Length ratio: generated words / reference words, summed over the documents (whitespace words).
- MTS-Dialog entities: drug names (the formulary's names, brands and synonyms, the known drugs outside it,
  and the medwer list's drug names) resolved to one generic name on both sides; allergens likewise (the
  allergen list, then drug names); an explicit "none" ("None.", "No known allergies") is the entity "none".
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from functools import cache
from typing import Any

from ai.scribe.engine.lexicon import ALLERGENS, alternation, lower_same_length
from ai.scribe.engine.types import Suggestion, Transcript
from ai.scribe.engine.vocabulary import TOKEN, Vocabulary

from .datasets import ACI_SECTIONS, AciItem, MtsItem, PrimockItem

MTS_FIELDS: dict[str, tuple[str, ...]] = {
    "allergies": ("ALLERGY",),
    "medications": ("MEDICATIONS",),
    "chief complaint": ("CC",),
    "history": ("GENHX", "PASTMEDICALHX", "PASTSURGICAL", "FAM/SOCHX"),
    "diagnoses": ("DIAGNOSIS", "ASSESSMENT"),
}
# Which suggested fields answer each reference section.
SECTION_FIELDS: dict[str, tuple[str, ...]] = {
    "ALLERGY": ("allergy",),
    "MEDICATIONS": ("medication",),
    "CC": ("chief_complaint",),
    "GENHX": ("chief_complaint", "history_present_illness"),
    "PASTMEDICALHX": ("past_history",),
    "PASTSURGICAL": ("past_history",),
    "FAM/SOCHX": ("family_history", "past_history"),
    "DIAGNOSIS": ("diagnosis",),
    "ASSESSMENT": ("diagnosis",),
}
_NONE_REFERENCE = re.compile(
    r"^\s*(?:none|nil|negative)\b|\bnone known\b|\bnkda\b|\bno known\b|"
    r"\bno (?:known )?(?:drug |medical |medication |medicine |food )?"
    r"(?:allergies|allergy|intolerances?|medications?)\b|"
    r"\bdenies any (?:drug |medication )?allergies\b|\bnot on any\b|\btakes no\b",
    re.IGNORECASE,
)
_ALLERGY_STATEMENT = re.compile(r"allerg|reaction|intoleran|sensitiv")
_CLAUSE_WORDS = re.compile(r"\b(?:is|are|was|were|has|have|had|on|takes?|taking|uses?|using|denies|reports)\b")


@dataclass
class Counts:
    true_positive: int = 0
    predicted: int = 0
    reference: int = 0
    documents: int = 0

    def add(self, predicted: set[str], reference: set[str]) -> None:
        self.true_positive += len(predicted & reference)
        self.predicted += len(predicted)
        self.reference += len(reference)
        self.documents += 1

    @property
    def precision(self) -> float:
        return self.true_positive / self.predicted if self.predicted else 0.0

    @property
    def recall(self) -> float:
        return self.true_positive / self.reference if self.reference else 0.0

    @property
    def f1(self) -> float:
        p, r = self.precision, self.recall
        return 2 * p * r / (p + r) if p + r else 0.0


# ----- basic measures ------------------------------------------------------------------------------------------
@cache
def _medwer() -> tuple[Any, frozenset[str], int]:
    from medwer import Normalizer, default_terms_path, load_terms

    entries, max_tokens = load_terms(default_terms_path())
    return Normalizer(), frozenset(entries), max_tokens


def concepts(text: str) -> set[str]:
    """The medical concepts (medwer terms, whole words, longest match) of a text."""
    from medwer import keep_medical

    normaliser, entries, max_tokens = _medwer()
    normalised = " ".join(normaliser(text).split())
    return (
        {term.replace("_", " ") for term in keep_medical(normalised, set(entries), max_tokens).split()}
        if normalised
        else set()
    )


@cache
def _rouge() -> Any:
    from rouge_score import rouge_scorer

    return rouge_scorer.RougeScorer(["rouge1"], use_stemmer=True)


def rouge1(reference: str, generated: str) -> float:
    """ROUGE-1 F-measure (rouge-score, stemming on), 0..1."""
    if not reference.strip() or not generated.strip():
        return 0.0
    return float(_rouge().score(reference, generated)["rouge1"].fmeasure)


def words(text: str) -> int:
    return len(text.split())


def length_ratio(references: Sequence[str], generated: Sequence[str]) -> float:
    total = sum(words(r) for r in references)
    return sum(words(g) for g in generated) / total if total else 0.0


# ----- MTS-Dialog: field extraction ----------------------------------------------------------------------------
def drug_entities(text: str, vocabulary: Vocabulary) -> set[str]:
    """Generic names of the drugs named in a text (formulary, brand, known and medwer drug names)."""
    low = lower_same_length(text)
    matches = vocabulary.drug_index_en.find(low)
    found = {str(getattr(drug, "name_en", "")).lower() for _s, _e, _p, drug in matches}
    for match in TOKEN.finditer(low):
        inside = any(s <= match.start() < e for s, e, _p, _d in matches)
        if not inside and match.group() in vocabulary.context_drug_names:
            found.add(match.group())
    return {f for f in found if f}


def allergen_entities(text: str, vocabulary: Vocabulary) -> set[str]:
    low = lower_same_length(text)
    found = {ALLERGENS[re.sub(r"\s+", " ", m.group())][0] for m in alternation(tuple(ALLERGENS)).finditer(low)}
    found |= drug_entities(text, vocabulary)
    if "penicillin" in found:
        found.discard("benzylpenicillin")
    return found


def reference_allergens(text: str, vocabulary: Vocabulary) -> set[str]:
    """Substances a reference names as allergies: in a sentence that states an allergy (allergic, allergy,
    reaction, intolerance, sensitivity) or in a bare list of substances ("Eggs and peanuts.")."""
    found: set[str] = set()
    for sentence in re.split(r"(?<=[.;])\s+", text):
        low = lower_same_length(sentence)
        statement = _ALLERGY_STATEMENT.search(low)
        bare_list = not _CLAUSE_WORDS.search(low)
        if statement or bare_list:
            found |= allergen_entities(sentence, vocabulary)
    return found


def _is_none(text: str) -> bool:
    return bool(_NONE_REFERENCE.search(text))


def mts_reference_entities(item: MtsItem, vocabulary: Vocabulary) -> set[str]:
    if item.section == "ALLERGY":
        entities = reference_allergens(item.reference, vocabulary)
    elif item.section == "MEDICATIONS":
        entities = drug_entities(item.reference, vocabulary)
    else:
        return concepts(item.reference)
    if not entities and _is_none(item.reference):
        entities = {"none"}
    return entities


def mts_predicted_entities(item: MtsItem, suggestions: list[Suggestion], vocabulary: Vocabulary) -> set[str]:
    fields = SECTION_FIELDS.get(item.section, ())
    chosen = [s for s in suggestions if s.field in fields]
    if item.section == "ALLERGY":
        out: set[str] = set()
        for s in chosen:
            if s.value.get("none"):
                out.add("none")
            elif not s.negated:
                substance = str(s.value.get("substance", ""))
                out |= allergen_entities(substance, vocabulary) or {substance.lower()}
        return out
    if item.section == "MEDICATIONS":
        out = set()
        for s in chosen:
            if s.value.get("none"):
                out.add("none")
            elif not s.negated:
                out.add(str(s.value.get("name", "")).lower())
        return out
    if item.section == "FAM/SOCHX":
        chosen = [s for s in chosen if s.field == "family_history" or s.value.get("kind") == "social"]
    elif item.section in ("PASTMEDICALHX", "PASTSURGICAL"):
        chosen = [s for s in chosen if s.value.get("kind") != "social"]
    text = "\n".join(_suggestion_text(s) for s in chosen if not (s.negated and s.field != "history_present_illness"))
    return concepts(text)


def _suggestion_text(suggestion: Suggestion) -> str:
    if suggestion.field == "diagnosis":
        return f"{suggestion.text}. {suggestion.value.get('mention', '')}"
    return suggestion.text


@dataclass
class MtsReport:
    fields: dict[str, Counts] = field(default_factory=dict)
    sections: dict[str, Counts] = field(default_factory=dict)
    examples: list[dict[str, Any]] = field(default_factory=list)


def evaluate_mts(
    items: Iterable[MtsItem], extract_fn: Callable[[Transcript], list[Suggestion]], vocabulary: Vocabulary
) -> MtsReport:
    report = MtsReport(fields={name: Counts() for name in MTS_FIELDS})
    for item in items:
        field_name = next((name for name, sections in MTS_FIELDS.items() if item.section in sections), None)
        if field_name is None:
            continue
        suggestions = extract_fn(item.transcript)
        predicted = mts_predicted_entities(item, suggestions, vocabulary)
        reference = mts_reference_entities(item, vocabulary)
        report.fields[field_name].add(predicted, reference)
        report.sections.setdefault(item.section, Counts()).add(predicted, reference)
        report.examples.append(
            {"id": item.id, "section": item.section, "predicted": sorted(predicted), "reference": sorted(reference)}
        )
    return report


# ----- ACI-BENCH: note generation ------------------------------------------------------------------------------
@dataclass
class NoteScores:
    rouge1: float  # x100, mean over documents with a reference
    concepts: Counts
    length_ratio: float
    documents: int


@dataclass
class AciReport:
    sections: dict[str, NoteScores]  # the four sections and "whole"
    baseline: dict[str, NoteScores] = field(default_factory=dict)


def score_notes(references: Sequence[str], generated: Sequence[str]) -> NoteScores:
    counts = Counts()
    rouge: list[float] = []
    for reference, text in zip(references, generated, strict=True):
        counts.add(concepts(text), concepts(reference))
        if reference.strip():
            rouge.append(rouge1(reference, text))
    return NoteScores(
        rouge1=100 * sum(rouge) / len(rouge) if rouge else 0.0,
        concepts=counts,
        length_ratio=length_ratio(references, generated),
        documents=len(rouge),
    )


def evaluate_aci(
    items: Sequence[AciItem], generate: Callable[[Transcript], dict[str, str]], *, baseline: bool = True
) -> AciReport:
    notes = [generate(item.transcript) for item in items]
    sections = {
        section: score_notes([i.sections[section] for i in items], [n.get(section, "") for n in notes])
        for section in ACI_SECTIONS
    }
    sections["whole"] = score_notes([i.note for i in items], [join_note(n) for n in notes])
    report = AciReport(sections)
    if baseline:
        cut = [doctor_turns_cut(i.transcript, words(i.note)) for i in items]
        report.baseline["whole"] = score_notes([i.note for i in items], cut)
    return report


def join_note(sections: dict[str, str]) -> str:
    return "\n\n".join(sections.get(s, "").strip() for s in ACI_SECTIONS if sections.get(s, "").strip())


def doctor_turns_cut(transcript: Transcript, length: int) -> str:
    """The orientation baseline: the doctor's words in order, cut to `length` words."""
    spoken = " ".join(s.text for s in transcript.segments if s.speaker == "doctor")
    return " ".join(spoken.split()[:length])


# ----- PriMock57: highlighted terms ----------------------------------------------------------------------------
_ABBREVIATIONS = {
    "hx": "history",
    "pmh": "past medical history",
    "dh": "drug history",
    "sh": "social history",
    "fh": "family history",
    "sob": "shortness of breath",
    "cp": "chest pain",
    "abdo": "abdominal",
    "llq": "left lower quadrant",
    "rlq": "right lower quadrant",
    "luq": "left upper quadrant",
    "ruq": "right upper quadrant",
    "uti": "urinary tract infection",
    "urti": "upper respiratory tract infection",
    "bp": "blood pressure",
    "n&v": "nausea vomiting",
    "d&v": "diarrhea vomiting",
    "otc": "over the counter",
    "gp": "general practitioner",
    "etoh": "alcohol",
    "imp": "impression",
    "ix": "investigations",
    "mx": "management",
    "wt": "weight",
    "pt": "patient",
    "pain": "pain",
}
_STOPWORDS = frozenset(
    [
        "a",
        "an",
        "the",
        "of",
        "in",
        "on",
        "at",
        "to",
        "for",
        "with",
        "and",
        "or",
        "no",
        "not",
        "nil",
        "is",
        "are",
        "was",
        "were",
        "be",
        "been",
        "has",
        "have",
        "had",
        "x",
        "per",
        "day",
        "days",
        "week",
        "weeks",
        "/7",
        "/52",
        "mainly",
        "some",
        "any",
        "also",
        "since",
    ]
)


def _content_words(text: str) -> list[str]:
    from nltk.stem.porter import PorterStemmer  # rouge-score's own dependency

    stemmer = _stemmer(PorterStemmer)
    out = []
    for token in re.findall(r"[a-z0-9&]+(?:/[0-9]+)?", lower_same_length(text)):
        expanded = _ABBREVIATIONS.get(token, token)
        for word in expanded.split():
            if word in _STOPWORDS or re.fullmatch(r"\d+(?:/\d+)?", word):
                continue
            out.append(stemmer.stem(word))
    return out


@cache
def _stemmer(factory: Any) -> Any:
    return factory()


def highlight_recalled(highlight: str, output: str) -> bool:
    """A highlight is found when its medical concepts (or, without any, all its content words) are in the output."""
    wanted = concepts(highlight)
    if wanted:
        return wanted <= concepts(output)
    words_wanted = set(_content_words(highlight))
    return bool(words_wanted) and words_wanted <= set(_content_words(output))


@dataclass
class PrimockReport:
    highlights: int
    recalled_note: int
    recalled_fields: int
    length_ratio: float
    consultations: int


def evaluate_primock(
    items: Sequence[PrimockItem],
    generate: Callable[[Transcript], dict[str, str]],
    extract_fn: Callable[[Transcript], list[Suggestion]],
) -> PrimockReport:
    highlights = recalled_note = recalled_fields = 0
    notes: list[str] = []
    for item in items:
        note = join_note(generate(item.transcript))
        notes.append(note)
        fields = "\n".join(
            s.text for s in extract_fn(item.transcript) if not s.negated or s.field == "history_present_illness"
        )
        for highlight in item.highlights:
            highlights += 1
            recalled_note += highlight_recalled(highlight, note)
            recalled_fields += highlight_recalled(highlight, fields)
    return PrimockReport(
        highlights, recalled_note, recalled_fields, length_ratio([i.note for i in items], notes), len(items)
    )
