"""An optional hospital-hosted language model that rewrites the template summary more fluently.

Off by default: SCRIBE_LLM_URL empty means the template summary is used as it is. When set, the URL is an
OpenAI-compatible endpoint on the hospital's own network (".../v1" or the full ".../v1/chat/completions"),
called with urllib (no extra package) under SCRIBE_LLM_TIMEOUT seconds, with SCRIBE_LLM_MODEL and, if set,
SCRIBE_LLM_API_KEY as a bearer token.

A rewrite is held to the summary's provenance: every number and every clinical term in it (medical terms
of the medwer list, drug names of the formulary, condition names) must already be in the structured
fields, and a finding the fields mark as denied must stay denied. A rewrite that breaks any of these, or
any error or timeout, falls back to the template summary; `LlmResult.reason` says why.
"""

from __future__ import annotations

import json
import re
import urllib.error
import urllib.request
from collections.abc import Iterable
from dataclasses import dataclass

from ai.scribe.engine.lexicon import SYMPTOMS, lower_same_length
from ai.scribe.engine.summary import summarise
from ai.scribe.engine.types import Suggestion
from ai.scribe.engine.vocabulary import TOKEN, Vocabulary, medical_terms

TEMPLATE_MODEL = "scribe-template"
SYSTEM_PROMPT = (
    "You rewrite a clinical encounter summary so it reads as fluent clinical prose for a doctor's note. "
    "Use only the facts given. Do not add, infer or change any finding, diagnosis, drug, dose, number or "
    "instruction. Keep denied findings denied and possible diagnoses possible. Reply with the summary only."
)
SYSTEM_PROMPT_ZH = (
    "请把下面的门诊摘要改写成通顺的病历文字。只能使用给出的事实，不得增加、推断或改变任何症状、诊断、药物、剂量、"
    "数字或医嘱。否认的症状保持否认，可能的诊断保持可能。只回复改写后的摘要。"
)
_NUMBER = re.compile(r"\d+(?:\.\d+)?")
_NEGATION_EN = re.compile(r"\b(?:no|not|denies|denied|deny|without|negative|absent|none)\b")
_NEGATION_ZH = re.compile(r"否认|没有|无|未|不")
_COMMON = {"patient", "history", "pain", "the", "and", "with", "reports", "presents"}


@dataclass(frozen=True)
class LlmConfig:
    url: str = ""
    model: str = ""
    api_key: str = ""
    timeout: float = 20.0

    @property
    def enabled(self) -> bool:
        return bool(self.url.strip())

    @classmethod
    def from_settings(cls) -> LlmConfig:
        """SCRIBE_LLM_URL, SCRIBE_LLM_MODEL, SCRIBE_LLM_API_KEY, SCRIBE_LLM_TIMEOUT from Django settings."""
        from django.conf import settings

        return cls(
            url=str(getattr(settings, "SCRIBE_LLM_URL", "") or ""),
            model=str(getattr(settings, "SCRIBE_LLM_MODEL", "") or ""),
            api_key=str(getattr(settings, "SCRIBE_LLM_API_KEY", "") or ""),
            timeout=float(getattr(settings, "SCRIBE_LLM_TIMEOUT", 20.0) or 20.0),
        )


@dataclass(frozen=True)
class LlmResult:
    summary: str
    model: str  # TEMPLATE_MODEL or "llm:<model>"
    accepted: bool  # True when the language model's rewrite is the summary
    reason: str = ""  # why a rewrite was not used ("off", "timeout", "new number 5", ...)
    template: str = ""


def summarise_with_llm(
    suggestions: Iterable[Suggestion],
    *,
    language: str = "en",
    config: LlmConfig | None = None,
    vocabulary: Vocabulary | None = None,
) -> LlmResult:
    """The template summary, rewritten by the configured language model when that rewrite passes the checks."""
    items = list(suggestions)
    template = summarise(items, language=language)
    config = config if config is not None else LlmConfig.from_settings()
    if not config.enabled or not template:
        return LlmResult(template, TEMPLATE_MODEL, False, "off", template)
    try:
        rewrite = _call(config, template, language)
    except (urllib.error.URLError, TimeoutError, OSError, ValueError, KeyError, IndexError, TypeError) as error:
        return LlmResult(template, TEMPLATE_MODEL, False, f"error: {type(error).__name__}", template)
    problem = check_rewrite(rewrite, items, template, language=language, vocabulary=vocabulary)
    if problem:
        return LlmResult(template, TEMPLATE_MODEL, False, problem, template)
    return LlmResult(rewrite.strip(), f"llm:{config.model or 'default'}", True, "", template)


def _call(config: LlmConfig, template: str, language: str) -> str:
    url = config.url.rstrip("/")
    if not url.endswith("/chat/completions"):
        url += "/chat/completions"
    if not url.startswith(("http://", "https://")):
        raise ValueError("SCRIBE_LLM_URL must be an http(s) URL")
    body = {
        "model": config.model,
        "temperature": 0,
        "messages": [
            {"role": "system", "content": SYSTEM_PROMPT_ZH if language.startswith("zh") else SYSTEM_PROMPT},
            {"role": "user", "content": template},
        ],
    }
    headers = {"Content-Type": "application/json"}
    if config.api_key:
        headers["Authorization"] = f"Bearer {config.api_key}"
    request = urllib.request.Request(url, data=json.dumps(body).encode("utf-8"), headers=headers, method="POST")  # noqa: S310
    with urllib.request.urlopen(request, timeout=config.timeout) as response:  # noqa: S310 - the hospital's own endpoint
        payload = json.loads(response.read().decode("utf-8"))
    content = payload["choices"][0]["message"]["content"]
    if not isinstance(content, str) or not content.strip():
        raise ValueError("empty rewrite")
    return content


def check_rewrite(
    rewrite: str,
    suggestions: list[Suggestion],
    template: str,
    *,
    language: str = "en",
    vocabulary: Vocabulary | None = None,
) -> str:
    """ "" when the rewrite says nothing the structured fields do not; otherwise the first problem found."""
    if not rewrite.strip():
        return "empty"
    if len(rewrite) > 2 * len(template) + 200:
        return "too long"
    facts = "\n".join([template, *(s.text for s in suggestions), *(_value_text(s) for s in suggestions)])
    fact_numbers = {_canonical_number(n) for n in _NUMBER.findall(facts)}
    for number in _NUMBER.findall(rewrite):
        if _canonical_number(number) not in fact_numbers:
            return f"new number {number}"
    if language.startswith("zh"):
        return _check_terms_zh(rewrite, facts, suggestions, vocabulary)
    return _check_terms_en(rewrite, facts, suggestions, vocabulary)


def _value_text(suggestion: Suggestion) -> str:
    parts = []
    for value in suggestion.value.values():
        if isinstance(value, (str, int, float)) and not isinstance(value, bool):
            parts.append(str(value))
    return " ".join(parts)


def _canonical_number(text: str) -> str:
    value = float(text)
    return str(int(value)) if value.is_integer() else f"{value:g}"


def _stem(word: str) -> str:
    for suffix in ("ies", "es", "s"):
        if word.endswith(suffix) and len(word) - len(suffix) >= 3:
            return word[: -len(suffix)] + ("y" if suffix == "ies" else "")
    return word


def _known(word: str, fact_words: set[str]) -> bool:
    """The word, or a word of the same family ("allergic" for "allergies"), is among the facts' words."""
    stem = _stem(word)
    if stem in fact_words:
        return True
    prefix = stem[: max(6, len(stem) - 3)]
    return len(prefix) >= 6 and any(w.startswith(prefix) for w in fact_words)


def _clinical_terms_en(vocabulary: Vocabulary | None) -> set[str]:
    terms = set(medical_terms())
    terms |= set(SYMPTOMS)
    if vocabulary is not None:
        terms |= set(vocabulary.drug_names_en)
        terms |= set(vocabulary.condition_synonyms)
    return {t for t in terms if t not in _COMMON}


def _check_terms_en(rewrite: str, facts: str, suggestions: list[Suggestion], vocabulary: Vocabulary | None) -> str:
    fact_low = lower_same_length(facts)
    fact_words = {_stem(w) for w in TOKEN.findall(fact_low)}
    terms = _clinical_terms_en(vocabulary)
    max_words = 4
    words = TOKEN.findall(lower_same_length(rewrite))
    i = 0
    while i < len(words):
        for size in range(max_words, 0, -1):
            phrase = " ".join(words[i : i + size])
            if len(words[i : i + size]) == size and phrase in terms:
                missing = [w for w in words[i : i + size] if not _known(w, fact_words)]
                if missing:
                    return f"new clinical term {phrase!r}"
                i += size
                break
        else:
            i += 1
    # A denied finding must not come back as present.
    low = lower_same_length(rewrite)
    for suggestion in suggestions:
        if not suggestion.negated:
            continue
        finding = str(suggestion.value.get("finding") or "").lower()
        if not finding:
            continue
        for sentence in re.split(r"(?<=[.;!?])\s+", low):
            if finding in sentence and not _NEGATION_EN.search(sentence[: sentence.find(finding)]):
                return f"denied finding stated as present: {finding!r}"
    return ""


def _check_terms_zh(rewrite: str, facts: str, suggestions: list[Suggestion], vocabulary: Vocabulary | None) -> str:
    from ai.scribe.engine.zh import CONDITION_SYNONYMS_ZH, SYMPTOMS_ZH

    names: set[str] = set(CONDITION_SYNONYMS_ZH)
    for canonical, (_english, words) in SYMPTOMS_ZH.items():
        names.add(canonical)
        names.update(w for w in words if len(w) >= 2)
    if vocabulary is not None:
        names.update(n for n in vocabulary.drug_names_zh if len(n) >= 2)
        names.update(n for n in vocabulary.icd_aliases_zh if len(n) >= 2)
    for name in sorted(names, key=len, reverse=True):
        if name in rewrite and name not in facts:
            return f"new clinical term {name!r}"
    for suggestion in suggestions:
        finding = str(suggestion.value.get("finding") or "") if suggestion.negated else ""
        if finding and finding in rewrite:
            for sentence in re.split(r"[。；;！!]", rewrite):
                position = sentence.find(finding)
                if position >= 0 and not _NEGATION_ZH.search(sentence[:position]):
                    return f"denied finding stated as present: {finding!r}"
    return ""
