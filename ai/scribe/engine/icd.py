"""ICD-10 suggestions for a diagnosis as it was said: the top three codes with a confidence each.

Exact and synonym matches come first ("high blood pressure" -> I10, "心衰" -> I50.9); the remaining places,
and every place for a phrase no alias knows ("fluid overload from the heart"), are ranked by the MiniLM
sentence encoder: cosine similarity between the phrase and each recordable code's title. The title
embeddings are computed once and cached in a file (see encoder.SentenceEncoder.matrix). Codes that the
hospital uses often (those with a Chinese title or a lay synonym) get a small prior, so a common condition
outranks a rare one with a similar title.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

import numpy as np

from ai.scribe.engine.vocabulary import Vocabulary

EXACT_CONFIDENCE = 0.95
SYNONYM_CONFIDENCE = 0.9
COMMON_PRIOR = 0.04  # cosine bonus for codes in common use


@dataclass(frozen=True)
class IcdCandidate:
    code: str
    title: str
    confidence: float
    method: str  # "exact" | "synonym" | "encoder"

    def as_dict(self) -> dict[str, object]:
        return {"code": self.code, "title": self.title, "confidence": round(self.confidence, 3), "method": self.method}


class IcdRanker:
    """Ranks ICD-10 codes for a spoken diagnosis; one per vocabulary (it holds the title embeddings)."""

    def __init__(self, vocabulary: Vocabulary) -> None:
        self.vocabulary = vocabulary

    @cached_property
    def _codes(self) -> list[str]:
        return sorted(c.code for c in self.vocabulary.leaf_codes())

    @cached_property
    def _common(self) -> np.ndarray:
        common = {c.code for c in self.vocabulary.icd.values() if c.title_zh}
        common |= {code for _name, code in self.vocabulary.condition_synonyms.values()}
        return np.array([COMMON_PRIOR if code in common else 0.0 for code in self._codes], dtype=np.float32)

    def _matrix(self) -> np.ndarray | None:
        encoder = self.vocabulary.encoder
        if encoder is None:
            return None
        titles = [self.vocabulary.icd[code].title for code in self._codes]
        return encoder.matrix(titles, label="icd10-titles")

    def exact(self, phrase: str, *, language: str = "en") -> IcdCandidate | None:
        """The code an alias names exactly (title, plain title or lay synonym), or None."""
        key = " ".join(phrase.lower().split()) if language == "en" else phrase.strip()
        aliases = self.vocabulary.icd_aliases_zh if language.startswith("zh") else self.vocabulary.icd_aliases_en
        code = aliases.get(key)
        if code is None or code not in self.vocabulary.icd:
            return None
        synonyms = self.vocabulary.condition_synonyms
        method = "synonym" if (key in synonyms or language.startswith("zh")) else "exact"
        confidence = SYNONYM_CONFIDENCE if method == "synonym" else EXACT_CONFIDENCE
        return IcdCandidate(code, self.vocabulary.icd[code].title, confidence, method)

    def rank(self, phrase: str, k: int = 3, *, exclude: frozenset[str] = frozenset()) -> list[IcdCandidate]:
        """The k codes whose titles are nearest to `phrase` by the sentence encoder ([] without the encoder)."""
        matrix = self._matrix()
        encoder = self.vocabulary.encoder
        if matrix is None or encoder is None or not phrase.strip():
            return []
        query = encoder.embed_phrase(phrase)
        scores = matrix @ query + self._common
        order = np.argsort(-scores)
        out: list[IcdCandidate] = []
        for index in order[: k + len(exclude) + 2]:
            code = self._codes[int(index)]
            if code in exclude:
                continue
            cosine = float(scores[index])
            out.append(IcdCandidate(code, self.vocabulary.icd[code].title, _confidence(cosine), "encoder"))
            if len(out) == k:
                break
        return out

    def suggest(self, phrase: str, *, language: str = "en", k: int = 3, encoder_query: str = "") -> list[IcdCandidate]:
        """Top-k candidates: the exact or synonym match first, then encoder-ranked codes, best first."""
        first = self.exact(phrase, language=language)
        out = [first] if first else []
        query = encoder_query or (self.vocabulary.icd[first.code].title if first else phrase)
        if language.startswith("zh") and not first:
            return out  # the English encoder cannot rank Chinese phrases; only aliases name Chinese diagnoses
        for candidate in self.rank(query, k, exclude=frozenset(c.code for c in out)):
            if len(out) >= k:
                break
            if first:
                # Ranked after an exact match: never above it, and scaled down as alternatives.
                candidate = IcdCandidate(
                    candidate.code, candidate.title, min(candidate.confidence, first.confidence) * 0.6, "encoder"
                )
            out.append(candidate)
        return out[:k]


def _confidence(cosine: float) -> float:
    # Cosine of MiniLM between a lay phrase and an ICD title: ~0.45 loosely related, ~0.8 the same condition.
    return float(min(0.85, max(0.05, (cosine - 0.3) / 0.6)))
