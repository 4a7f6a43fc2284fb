# ruff: noqa: E501 - each pattern stays on one line, so a reviewer reads it whole
"""A full clinical note from a consultation: subjective, objective exam, objective results, assessment and plan.

The note is built from the transcript's own words, in three steps:
1. The dialogue is cut into short chunks (a sentence, or a long spoken turn split at its pauses), each
   rewritten into note prose: the patient's "I" and the doctor's "you" become the third person, fillers go.
2. A learned selector scores every chunk for every section: one logistic model per section over hashed
   words and cues (speaker, position, question, exam/result/plan words, medical terms), trained on the
   ACI-BENCH train split (and MTS-Dialog train) to predict how much of a chunk's content the reference
   section contains. The best chunks fill each section up to a length budget, predicted from the
   dialogue's length by a line fitted on the same train split, and keep their order in the dialogue.
3. The structured extraction adds what a note states compactly: the chief complaint, a review of
   systems (symptoms endorsed and denied, by body system), the vital signs and the diagnoses.

Nothing is generated from outside the transcript. The trained model is a small .npz file under the
scribe cache folder, keyed by a hash of the training data; `NoteModel.default()` trains it once when the
datasets are present, and otherwise falls back to the rule features alone.
"""

from __future__ import annotations

import contextlib
import hashlib
import re
import zlib
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import numpy as np

from ai.scribe.engine import rewrite
from ai.scribe.engine.lexicon import compiled
from ai.scribe.engine.rewrite import infer_pronoun
from ai.scribe.engine.types import Suggestion, Transcript
from ai.scribe.engine.units import TranscriptUnits

SECTIONS = ("subjective", "objective_exam", "objective_results", "assessment_and_plan")
HEADERS = {
    "subjective": "CHIEF COMPLAINT",
    "objective_exam": "PHYSICAL EXAMINATION",
    "objective_results": "RESULTS",
    "assessment_and_plan": "ASSESSMENT AND PLAN",
}
DIMENSIONS = 1 << 17
MAX_CHUNK_WORDS = 32
MODEL_VERSION = "3"
AGREEMENT = "Patient Agreements: The patient understands and agrees with the recommended medical treatment plan."

ROS_SYSTEMS: dict[str, tuple[str, ...]] = {
    "Constitutional": (
        "fever",
        "chills",
        "fatigue",
        "weakness",
        "weight loss",
        "weight gain",
        "night sweats",
        "loss of appetite",
        "sweating",
    ),
    "HEENT": (
        "sore throat",
        "runny nose",
        "nasal congestion",
        "earache",
        "sneezing",
        "hearing loss",
        "blurred vision",
        "headache",
    ),
    "Cardiovascular": ("chest pain", "palpitations", "leg swelling", "fainting"),
    "Respiratory": ("cough", "shortness of breath", "wheezing", "sputum", "hemoptysis"),
    "Gastrointestinal": (
        "abdominal pain",
        "nausea",
        "vomiting",
        "diarrhea",
        "constipation",
        "heartburn",
        "blood in stool",
        "bloating",
        "difficulty swallowing",
    ),
    "Genitourinary": ("painful urination", "urinary frequency", "blood in urine"),
    "Musculoskeletal": ("joint pain", "back pain", "neck pain", "muscle pain"),
    "Neurological": ("dizziness", "numbness", "seizure", "tremor", "confusion", "memory loss"),
    "Psychiatric": ("anxiety", "low mood", "insomnia", "hallucinations"),
    "Skin": ("rash", "itching", "bruising", "wound"),
}
EXAM_SYSTEMS: tuple[tuple[str, str], ...] = (
    ("Neck", r"neck|jugular|jvd|thyroid|carotid|lymph nodes?"),
    ("Respiratory", r"lungs?|breath sounds|wheez\w*|crackles|rales|rhonchi|respiratory"),
    ("Cardiovascular", r"heart|murmurs?|rhythm|pulses?|cardiac|gallops?|rubs?"),
    ("Gastrointestinal", r"abdomen|abdominal|belly|bowel sounds|liver|spleen"),
    (
        "Musculoskeletal",
        r"knee|shoulder|hip|ankle|wrist|elbow|back|spine|joint|range of motion|swelling|edema|extremit\w+|tender\w*",
    ),
    ("Neurological", r"reflexes|sensation|strength|cranial nerves|gait|alert|oriented|neuro\w*|tinel"),
    ("Skin", r"skin|rash|lesion|wound|incision|bruis\w*|erythema"),
    ("HEENT", r"throat|ears?|eyes?|pupils?|nose|sinus\w*|tonsils?|mouth|tympanic"),
)
_CHUNK_BOUNDARY = re.compile(
    r"(?<=[,;])\s+|\s+(?=\b(?:okay|ok|so|alright|all right|and then|um|uh|now|but|because|and i|and you|and we)\b)",
    re.IGNORECASE,
)
_STOP = frozenset(
    [
        "the",
        "a",
        "an",
        "and",
        "or",
        "of",
        "to",
        "in",
        "on",
        "for",
        "with",
        "is",
        "are",
        "was",
        "were",
        "be",
        "been",
        "am",
        "i",
        "you",
        "he",
        "she",
        "it",
        "that",
        "this",
        "these",
        "those",
        "my",
        "your",
        "his",
        "her",
        "we",
        "they",
        "me",
        "him",
        "them",
        "our",
        "so",
        "okay",
        "ok",
        "yeah",
        "yes",
        "um",
        "uh",
        "just",
        "like",
        "know",
        "do",
        "does",
        "did",
        "have",
        "has",
        "had",
        "not",
        "no",
        "but",
        "at",
        "as",
        "if",
        "what",
        "how",
        "there",
        "here",
        "then",
        "well",
        "right",
        "now",
        "also",
        "very",
        "really",
        "just",
        "gon",
        "na",
        "wan",
        "go",
        "going",
        "get",
        "got",
        "would",
        "could",
        "should",
        "will",
        "can",
        "can't",
        "don't",
        "it's",
        "i'm",
        "that's",
        "mm",
        "hmm",
        "mhm",
        "oh",
    ]
)
CUES: dict[str, re.Pattern[str]] = {
    "exam": compiled(
        r"exam\w*|look(?:ing)? at|listen|feel|press|tender\w*|swell\w*|lungs?|heart|murmur|clear|reflexes|range of motion|palpat\w*"
    ),
    "result": compiled(
        r"x-?rays?|ct|mri|ultrasound|echo\w*|ekg|ecg|labs?|blood work|results?|a1c|hemoglobin|ejection fraction|showed|shows|revealed|scan"
    ),
    "assessment": compiled(r"i think|diagnos\w*|assessment|impression|consistent with|likely|problem|issue"),
    "plan": compiled(
        r"i'?m going to|i will|we'?ll|let'?s|i want you to|i'?d like|prescri\w*|order\w*|refer\w*|follow up|come back|recommend\w*|continue|start|increase|schedule|plan"
    ),
    "history": compiled(r"history|years? old|year-old|presents?|here for|since|ago|weeks?|months?|days?|started|began"),
    "dictation": compiled(r"dragon|dax|show me|vital signs"),
    "number": re.compile(r"\d"),
}
RESULT_READING = re.compile(
    r"\b(?:x-?rays?|ct|mri|ultrasound|echo(?:cardiogram)?|ekg|ecg|labs?|blood work|a1c|hemoglobin|results?|scan|"
    r"urinalysis|culture|ejection fraction|cholesterol|creatinine|potassium|glucose)\b.{0,80}?\b(?:shows?|showed|"
    r"revealed?|reveals|demonstrates?|demonstrated|came back|was|were|is|are|looks?|looked|seen|noted|consistent)\b"
)
_COMMAND = re.compile(r"\s*(?:hey\s+)?(?:dragon|dax)\b|\s*show me (?:the|his|her|your)\b", re.IGNORECASE)
_SMALL_TALK = compiled(
    r"how are you|nice to (?:see|meet)|good to see|weather|weekend|vacation|halloween|christmas|thank you|thanks|bye"
)


@dataclass
class Chunk:
    text: str  # note prose
    raw: str
    speaker: str
    start: int
    end: int
    position: float  # 0..1 in the dialogue
    question: bool
    answer: str  # the patient's answer when this is a doctor's question ("no", "yes", "")


# ----- chunks --------------------------------------------------------------------------------------------------
def chunk_transcript(transcript: Transcript, pronoun: str | None = None) -> list[Chunk]:
    """Short pieces of the dialogue, each rewritten as note prose in the third person."""
    units = TranscriptUnits(transcript)
    pronoun = pronoun or infer_pronoun(transcript)
    total = max(1, len(transcript.text))
    out: list[Chunk] = []
    for unit in units.units:
        answer = ""
        if unit.question and unit.speaker == "doctor":
            reply = units.answer_to(unit)
            if reply is not None:
                first = units.low[reply.start : reply.end].lstrip(" ,.")
                answer = (
                    "no"
                    if re.match(r"(?:no|nope|nah|not really|never|none)\b", first)
                    else ("yes" if re.match(r"(?:yes|yeah|yep|mm-hmm|uh-huh|i do|i have|sometimes)\b", first) else "")
                )
        for start, end in _split(transcript.text, unit.start, unit.end):
            raw = transcript.text[start:end]
            text = rewrite.third_person(raw, unit.speaker, pronoun)
            if not text or _COMMAND.match(raw):
                continue  # "hey Dragon, show me the chest X-ray" speaks to the recorder, not about the patient
            out.append(Chunk(text, raw, unit.speaker, start, end, start / total, unit.question, answer))
    return out


def _split(text: str, start: int, end: int) -> list[tuple[int, int]]:
    if len(text[start:end].split()) <= MAX_CHUNK_WORDS:
        return [(start, end)]
    pieces: list[tuple[int, int]] = []
    cursor = start
    current_start = start
    for match in _CHUNK_BOUNDARY.finditer(text, start, end):
        if len(text[current_start : match.start()].split()) >= MAX_CHUNK_WORDS // 2:
            pieces.append((current_start, match.start()))
            current_start = match.end()
        cursor = match.end()
    del cursor
    pieces.append((current_start, end))
    out: list[tuple[int, int]] = []
    for a, b in pieces:
        # A piece still too long is cut every MAX_CHUNK_WORDS words.
        words = list(re.finditer(r"\S+", text[a:b]))
        for i in range(0, len(words), MAX_CHUNK_WORDS):
            group = words[i : i + MAX_CHUNK_WORDS]
            out.append((a + group[0].start(), a + group[-1].end()))
    return [(a, b) for a, b in out if b > a]


def content_words(text: str) -> set[str]:
    return {_stem(w) for w in re.findall(r"[a-z0-9]+", text.lower()) if w not in _STOP and len(w) > 1}


def _stem(word: str) -> str:
    for suffix in ("ing", "ed", "es", "s", "ly"):
        if word.endswith(suffix) and len(word) - len(suffix) >= 3:
            return word[: -len(suffix)]
    return word


# ----- features ------------------------------------------------------------------------------------------------
def _hash(token: str) -> int:
    return zlib.crc32(token.encode("utf-8")) % DIMENSIONS


def chunk_features(chunk: Chunk, previous: Chunk | None, concept_terms: frozenset[str]) -> list[int]:
    low = chunk.text.lower()
    tokens = re.findall(r"[a-z0-9]+", low)
    feats = [f"w:{t}" for t in tokens] + [f"b:{a}_{b}" for a, b in zip(tokens, tokens[1:], strict=False)]
    feats.append(f"speaker:{chunk.speaker}")
    feats.append(f"position:{int(chunk.position * 10)}")
    feats.append(f"speaker_position:{chunk.speaker}:{int(chunk.position * 5)}")
    length = len(tokens)
    feats.append(f"length:{min(length // 4, 8)}")
    content = content_words(low)
    feats.append(f"content:{min(len(content) // 2, 8)}")
    concepts = sum(1 for t in tokens if t in concept_terms)
    feats.append(f"concepts:{min(concepts, 5)}")
    feats.append(f"concept_density:{int(10 * concepts / max(1, length))}")
    if chunk.question:
        feats.append(f"question:{chunk.speaker}:{chunk.answer}")
    for name, pattern in CUES.items():
        if pattern.search(low):
            feats.append(f"cue:{name}")
            feats.append(f"cue:{name}:{chunk.speaker}:{int(chunk.position * 5)}")
    if _SMALL_TALK.search(low):
        feats.append("small_talk")
    if previous is not None:
        feats.append(f"previous_speaker:{previous.speaker}:{previous.question}")
        for name, pattern in CUES.items():
            if pattern.search(previous.text.lower()):
                feats.append(f"previous_cue:{name}")
    feats.append("bias")
    return sorted({_hash(f) for f in feats})


# ----- the model -----------------------------------------------------------------------------------------------
@dataclass
class NoteModel:
    """One logistic scorer per section over hashed features, and each section's length line."""

    weights: np.ndarray  # (sections, DIMENSIONS)
    length_intercept: np.ndarray  # (sections,)
    length_slope: np.ndarray  # (sections,) words of reference per word of dialogue
    trained_on: str = ""

    def scores(self, features: list[list[int]]) -> np.ndarray:
        """(chunks, sections) predicted share of each chunk's content that the section would contain."""
        rows = (
            np.array([self.weights[:, f].sum(axis=1) for f in features]) if features else np.zeros((0, len(SECTIONS)))
        )
        return 1.0 / (1.0 + np.exp(-rows))

    def budget(self, dialogue_words: int) -> np.ndarray:
        return np.maximum(0.0, self.length_intercept + self.length_slope * dialogue_words)

    def save(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        temporary = path.with_suffix(".tmp.npz")
        np.savez_compressed(
            temporary,
            weights=self.weights.astype(np.float32),
            length_intercept=self.length_intercept,
            length_slope=self.length_slope,
            trained_on=np.array(self.trained_on),
        )
        temporary.replace(path)

    @classmethod
    def load(cls, path: Path) -> NoteModel:
        data = np.load(path)
        return cls(data["weights"], data["length_intercept"], data["length_slope"], str(data["trained_on"]))

    @classmethod
    def untrained(cls) -> NoteModel:
        """Rule features only: a fallback where no training data is available."""
        weights = np.zeros((len(SECTIONS), DIMENSIONS), dtype=np.float32)
        rules = {
            "subjective": ("speaker:patient", "cue:history"),
            "objective_exam": ("cue:exam",),
            "objective_results": ("cue:result",),
            "assessment_and_plan": ("cue:plan", "cue:assessment"),
        }
        for i, section in enumerate(SECTIONS):
            weights[i, _hash("bias")] = -2.0
            weights[i, _hash("small_talk")] = -2.0
            for feature in rules[section]:
                weights[i, _hash(feature)] = 1.5
        return cls(weights, np.array([120.0, 40.0, 20.0, 120.0]), np.array([0.1, 0.02, 0.02, 0.1]), "rules")

    @classmethod
    def train(
        cls,
        dialogues: Sequence[tuple[Transcript, dict[str, str]]],
        *,
        concept_terms: frozenset[str] = frozenset(),
        extra: Sequence[tuple[Transcript, dict[str, str]]] = (),
        extra_weight: float = 0.3,
        epochs: int = 30,
        l2: float = 1e-4,
        label: str = "",
    ) -> NoteModel:
        """Fit the section scorers on (transcript, {section: reference text}) pairs and the length lines on
        the main pairs only (the extra pairs, e.g. MTS-Dialog's single sections, teach the scorers)."""
        rows: list[list[int]] = []
        targets: list[list[float]] = []
        masks: list[list[float]] = []
        sample_weight: list[float] = []
        for weight, group in ((1.0, dialogues), (extra_weight, extra)):
            for transcript, references in group:
                reference_words = {s: content_words(references.get(s, "")) for s in SECTIONS}
                chunks = chunk_transcript(transcript)
                previous = None
                for chunk in chunks:
                    words = content_words(chunk.text)
                    if len(words) < 2:
                        previous = chunk
                        continue
                    rows.append(chunk_features(chunk, previous, concept_terms))
                    targets.append([len(words & reference_words[s]) / len(words) for s in SECTIONS])
                    masks.append([1.0 if (s in references) else 0.0 for s in SECTIONS])
                    sample_weight.append(weight)
                    previous = chunk
        weights = _fit(rows, np.array(targets), np.array(masks), np.array(sample_weight), epochs=epochs, l2=l2)
        dialogue_words = np.array([len(t.text.split()) for t, _r in dialogues], dtype=float)
        intercepts, slopes = [], []
        for section in SECTIONS:
            lengths = np.array([len(r.get(section, "").split()) for _t, r in dialogues], dtype=float)
            if len(dialogues) >= 2 and dialogue_words.std() > 0:
                slope, intercept = np.polyfit(dialogue_words, lengths, 1)
            else:
                slope, intercept = 0.0, float(lengths.mean()) if len(lengths) else 0.0
            intercepts.append(intercept)
            slopes.append(slope)
        return cls(weights, np.array(intercepts), np.array(slopes), label)

    @classmethod
    def default(cls) -> NoteModel:
        """The model trained on ACI-BENCH train and MTS-Dialog train under DATASETS_DIR (cached), or the rule
        fallback."""
        return _default_model()


def _fit(
    rows: list[list[int]], targets: np.ndarray, masks: np.ndarray, sample_weight: np.ndarray, *, epochs: int, l2: float
) -> np.ndarray:
    """Logistic regression with soft targets, one output per section, by Adagrad over sparse binary rows."""
    from scipy import sparse

    n = len(rows)
    weights = np.zeros((len(SECTIONS), DIMENSIONS), dtype=np.float64)
    if n == 0:
        return weights.astype(np.float32)
    indptr = np.cumsum([0] + [len(r) for r in rows])
    indices = np.concatenate([np.array(r, dtype=np.int64) for r in rows])
    x = sparse.csr_matrix((np.ones(len(indices)), indices, indptr), shape=(n, DIMENSIONS))
    xt = x.T.tocsr()
    accumulated = np.full_like(weights, 1e-8)
    step = 0.5
    total_weight = float((sample_weight[:, None] * masks).sum(axis=0).clip(min=1.0).mean())
    for _epoch in range(epochs):
        logits = (x @ weights.T).clip(-30, 30)
        predictions = 1.0 / (1.0 + np.exp(-logits))
        error = (predictions - targets) * masks * sample_weight[:, None]
        gradient = (xt @ error).T / total_weight + l2 * weights
        accumulated += gradient**2
        weights -= step * gradient / np.sqrt(accumulated)
    return weights.astype(np.float32)


def _default_model() -> NoteModel:
    from ai.scribe.evaluation.datasets import default_datasets_dir

    return model_for_datasets(str(default_datasets_dir()))


@cache
def model_for_datasets(datasets_dir: str) -> NoteModel:
    """The model trained on the train splits under `datasets_dir`, cached in a file keyed by their hash; the
    rule fallback when the ACI-BENCH train split is not there."""
    from ai.scribe.engine.encoder import default_cache_dir
    from ai.scribe.engine.vocabulary import medical_terms

    folder = Path(datasets_dir)
    aci_train = folder / "aci-bench" / "train.csv"
    mts_train = folder / "mts-dialog" / "MTS-Dialog-TrainingSet.csv"
    if not aci_train.exists():
        return NoteModel.untrained()
    try:
        digest = hashlib.sha256(MODEL_VERSION.encode())
        # The code that cuts and describes chunks is part of the model: a change to it trains afresh.
        for source in (Path(__file__), Path(rewrite.__file__)):
            digest.update(source.read_bytes())
        for path in (aci_train, mts_train, *sorted((folder / "aci-bench").glob("train_*.json"))):
            if path.exists():
                digest.update(path.read_bytes())
        path = default_cache_dir() / f"notegen-{digest.hexdigest()[:16]}.npz"
        if path.exists():
            return NoteModel.load(path)
        model = train_default(folder, medical_terms())
        with contextlib.suppress(OSError):  # a read-only cache only costs the training again next time
            model.save(path)
        return model
    except (OSError, ValueError, KeyError):
        return NoteModel.untrained()


def train_default(datasets_dir: Path, concept_terms: frozenset[str]) -> NoteModel:
    """Train on ACI-BENCH train (all four sections) and MTS-Dialog train (each dialogue's one section)."""
    from ai.scribe.evaluation.datasets import aci_bench, mts_dialog

    pairs = [(item.transcript, dict(item.sections)) for item in aci_bench(datasets_dir, "train")]
    extra = []
    mts_path = datasets_dir / "mts-dialog" / "MTS-Dialog-TrainingSet.csv"
    if mts_path.exists():
        for item in mts_dialog(datasets_dir, "train"):
            section = MTS_TO_SECTION.get(item.section)
            if section:
                extra.append((item.transcript, {section: item.reference}))
    return NoteModel.train(pairs, concept_terms=concept_terms, extra=extra, label="aci-bench train + mts-dialog train")


MTS_TO_SECTION = {
    "GENHX": "subjective",
    "CC": "subjective",
    "PASTMEDICALHX": "subjective",
    "PASTSURGICAL": "subjective",
    "FAM/SOCHX": "subjective",
    "ROS": "subjective",
    "ALLERGY": "subjective",
    "MEDICATIONS": "subjective",
    "GYNHX": "subjective",
    "EXAM": "objective_exam",
    "LABS": "objective_results",
    "IMAGING": "objective_results",
    "ASSESSMENT": "assessment_and_plan",
    "PLAN": "assessment_and_plan",
    "DIAGNOSIS": "assessment_and_plan",
    "DISPOSITION": "assessment_and_plan",
}


# ----- generation ----------------------------------------------------------------------------------------------
def generate_note(
    transcript: Transcript,
    *,
    model: NoteModel | None = None,
    suggestions: list[Suggestion] | None = None,
    budget_scale: float = 1.0,
) -> dict[str, str]:
    """The note's four sections as text (a section with nothing to say is "")."""
    from ai.scribe.engine.vocabulary import Vocabulary, medical_terms

    model = model or NoteModel.default()
    concept_terms = medical_terms()
    if suggestions is None:
        from ai.scribe.engine.extract import extract

        suggestions = extract(transcript, vocabulary=Vocabulary.default(), use_encoder=False)
    pronoun = infer_pronoun(transcript)
    chunks = chunk_transcript(transcript, pronoun)
    features = []
    previous = None
    for chunk in chunks:
        features.append(chunk_features(chunk, previous, concept_terms))
        previous = chunk
    scores = model.scores(features)
    for i, chunk in enumerate(chunks):
        # A test result read out is what the results section holds, however rarely the training notes had one.
        if chunk.speaker == "doctor" and not chunk.question and RESULT_READING.search(chunk.text.lower()):
            scores[i, SECTIONS.index("objective_results")] = max(scores[i, SECTIONS.index("objective_results")], 0.6)
    budgets = model.budget(len(transcript.text.split())) * budget_scale
    extras = _structured(suggestions, pronoun)
    chosen: dict[str, list[int]] = {s: [] for s in SECTIONS}
    used: dict[str, int] = {s: sum(len(t.split()) for t in extras[s]) + len(HEADERS[s].split()) for s in SECTIONS}
    taken: set[int] = set()
    # Best chunks first, each into the section that wants it most, while that section has room.
    order = sorted(
        ((float(scores[i, j]), i, j) for i in range(len(chunks)) for j in range(len(SECTIONS))), reverse=True
    )
    seen_text: set[str] = set()
    for score, i, j in order:
        section = SECTIONS[j]
        chunk = chunks[i]
        if i in taken or score < 0.2:
            continue
        if int(np.argmax(scores[i])) != j and scores[i].max() - score > 0.15:
            continue
        words = len(chunk.text.split())
        first = not chosen[section]  # a section always has room for its best chunk
        if (
            len(content_words(chunk.text)) < 2
            or chunk.question
            or (used[section] + words > budgets[j] + 8 and not first)
        ):
            continue
        key = chunk.text.lower()
        if key in seen_text:
            continue
        seen_text.add(key)
        chosen[section].append(i)
        used[section] += words
        taken.add(i)
    return {
        section: _compose(section, [chunks[i] for i in sorted(chosen[section])], extras[section])
        for section in SECTIONS
    }


def _structured(suggestions: list[Suggestion], pronoun: str) -> dict[str, list[str]]:
    """Compact lines from the extraction: complaint, review of systems, vitals, diagnoses."""
    out: dict[str, list[str]] = {s: [] for s in SECTIONS}
    complaint = next((s for s in suggestions if s.field == "chief_complaint"), None)
    if complaint:
        out["subjective"].append(complaint.text.rstrip(".") + ".")
    endorsed: dict[str, list[str]] = {}
    denied: dict[str, list[str]] = {}
    for suggestion in suggestions:
        if suggestion.field != "history_present_illness":
            continue
        finding = str(suggestion.value.get("finding", ""))
        system = next((name for name, members in ROS_SYSTEMS.items() if finding in members), None)
        if system is None and finding.endswith(("pain", "swelling")):
            system = "Musculoskeletal"
        if system is None:
            continue
        target = denied if suggestion.negated else endorsed
        if finding not in target.setdefault(system, []):
            target[system].append(finding)
    lines = []
    for system in ROS_SYSTEMS:
        parts = []
        if endorsed.get(system):
            parts.append("Endorses " + _join(endorsed[system]) + ".")
        if denied.get(system):
            parts.append("Denies " + _join(denied[system]) + ".")
        if parts:
            lines.append(f"• {system}: {' '.join(parts)}")
    if lines:
        out["subjective"].append("REVIEW OF SYSTEMS")
        out["subjective"].extend(lines)
    vitals = [s.text for s in suggestions if s.field == "vital_sign"]
    if vitals:
        out["objective_exam"].append("• Vitals: " + ", ".join(dict.fromkeys(vitals)) + ".")
    diagnoses = [
        s for s in suggestions if s.field == "diagnosis" and not s.negated and not s.family and s.confidence >= 0.8
    ]
    for diagnosis in diagnoses[:4]:
        out["assessment_and_plan"].append(diagnosis.text[:1].upper() + diagnosis.text[1:] + ".")
    out["assessment_and_plan"].append(AGREEMENT)
    return out


def _join(items: list[str]) -> str:
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " or " + items[-1]


def _compose(section: str, chunks: list[Chunk], extras: list[str]) -> str:
    texts = [c.text.rstrip(",;") + ("" if c.text.endswith((".", "?", "!")) else ".") for c in chunks]
    if section == "subjective":
        complaint = extras[:1] if extras and not extras[0].startswith("REVIEW") else []
        rest = extras[len(complaint) :]
        parts = [HEADERS[section], *complaint, "HISTORY OF PRESENT ILLNESS", " ".join(texts), *rest]
        return "\n\n".join(p for p in parts if p)
    if section == "objective_exam":
        if not chunks and not extras:
            return ""
        lines = [*extras]
        for chunk, text in zip(chunks, texts, strict=True):
            system = next((name for name, pattern in EXAM_SYSTEMS if compiled(pattern).search(chunk.text.lower())), "")
            lines.append(f"• {system}: {text}" if system else f"• {text}")
        return HEADERS[section] + "\n\n" + "\n".join(lines)
    if section == "objective_results":
        return HEADERS[section] + "\n\n" + " ".join(texts) if texts else ""
    diagnoses = [e for e in extras if e != AGREEMENT]
    parts = [HEADERS[section], *diagnoses, " ".join(texts), AGREEMENT]
    return "\n\n".join(p for p in parts if p)
