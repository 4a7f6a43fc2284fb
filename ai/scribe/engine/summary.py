"""A short narrative of the encounter, written from the structured fields alone.

The summary only restates suggestions (their note text and values): it adds no finding, number or drug of
its own, so it carries the same provenance as the fields. Denied findings are said as denied, family
history as family history, uncertain diagnoses as possible. `llm.py` may rewrite it more fluently, under
a check that the rewrite says nothing these fields do not.
"""

from __future__ import annotations

from collections.abc import Iterable

from ai.scribe.engine.numbers import format_number
from ai.scribe.engine.types import Suggestion

MAX_EXAM_ITEMS = 3
MAX_HISTORY_ITEMS = 8


def summarise(suggestions: Iterable[Suggestion], *, language: str = "en") -> str:
    """The encounter in a few sentences, in English or Chinese ("zh"), from the suggestions given."""
    items = list(suggestions)
    if language.startswith("zh"):
        return _summarise_zh(items)
    return _summarise_en(items)


def _by_field(items: list[Suggestion], field: str) -> list[Suggestion]:
    return [s for s in items if s.field == field]


def _unique(texts: Iterable[str]) -> list[str]:
    out: list[str] = []
    for text in texts:
        text = text.strip().rstrip(".")
        if text and text.lower() not in (t.lower() for t in out):
            out.append(text)
    return out


def _join_en(parts: list[str]) -> str:
    if len(parts) <= 2:
        return " and ".join(parts)
    return ", ".join(parts[:-1]) + " and " + parts[-1]


def _sentence(text: str) -> str:
    text = text.strip()
    if not text:
        return ""
    return text[:1].upper() + text[1:] + ("" if text.endswith((".", "。")) else ".")


def _pressure(systolic: Suggestion, diastolic: Suggestion) -> str:
    return f"{format_number(float(systolic.value['value']))}/{format_number(float(diastolic.value['value']))} mmHg"


def _exam_without_vitals(items: list[Suggestion]) -> list[Suggestion]:
    # A sentence reading out the vital signs is already in the vital-signs part.
    vitals = [(s.span_start, s.span_end) for s in items if s.field == "vital_sign"]
    return [
        s
        for s in _by_field(items, "examination")
        if not any(a < s.span_end and s.span_start < b for a, b in vitals) or s.value.get("kind") == "result"
    ]


def _vitals_en(items: list[Suggestion]) -> list[str]:
    values = {str(s.value.get("kind")): s for s in items if s.value.get("kind")}
    parts = []
    systolic, diastolic = values.pop("systolic_bp", None), values.pop("diastolic_bp", None)
    if systolic and diastolic:
        parts.append(f"blood pressure {_pressure(systolic, diastolic)}")
    elif systolic or diastolic:
        one = systolic or diastolic
        assert one is not None
        parts.append(one.text)
    order = ("heart_rate", "respiratory_rate", "temperature", "spo2")
    parts += [values[k].text for k in order if k in values]
    return parts


def _summarise_en(items: list[Suggestion]) -> str:
    sentences: list[str] = []
    complaint = _by_field(items, "chief_complaint")
    if complaint:
        sentences.append(f"Presents with {complaint[0].text[:1].lower() + complaint[0].text[1:]}")
    history = [s for s in _by_field(items, "history_present_illness") if s.value.get("kind") != "narrative"]
    reported = _unique(s.text for s in history if not s.negated)[:MAX_HISTORY_ITEMS]
    denied = _unique(str(s.value.get("finding") or s.text) for s in history if s.negated)[:MAX_HISTORY_ITEMS]
    if reported:
        sentences.append(f"Reports {'; '.join(reported)}")
    if denied:
        sentences.append(f"Denies {_join_en(denied)}")
    past = _unique(
        s.text for s in _by_field(items, "past_history") if not s.negated and s.value.get("kind") != "social"
    )
    if past:
        sentences.append(f"Past history: {', '.join(past)}")
    family = _unique(s.text for s in _by_field(items, "family_history"))
    if family:
        sentences.append(f"Family history: {'; '.join(family)}")
    medications = _by_field(items, "medication")
    taken = _unique(
        s.text for s in medications if not s.negated and not s.value.get("none") and s.value.get("status") != "new"
    )
    if taken:
        sentences.append(f"Medications: {'; '.join(taken)}")
    elif any(s.value.get("none") for s in medications):
        sentences.append("No current medications")
    allergies = _by_field(items, "allergy")
    listed = _unique(s.text for s in allergies if not s.negated and not s.value.get("none"))
    if listed:
        sentences.append(f"Allergies: {'; '.join(listed)}")
    elif any(s.value.get("none") for s in allergies):
        sentences.append("No known drug allergies")
    vitals = _vitals_en(_by_field(items, "vital_sign"))
    if vitals:
        sentences.append(f"Vital signs: {', '.join(vitals)}")
    exam = _unique(s.text for s in _exam_without_vitals(items))[:MAX_EXAM_ITEMS]
    if exam:
        sentences.append("Examination: " + " ".join(_sentence(e) for e in exam).rstrip("."))
    diagnoses = _by_field(items, "diagnosis")
    named = _unique(
        ("possible " if s.uncertain else "") + s.text + (f" ({s.value.get('code')})" if s.value.get("code") else "")
        for s in sorted(diagnoses, key=lambda s: -s.confidence)
        if not s.negated and not s.family
    )
    if named:
        sentences.append(f"Assessment: {'; '.join(named)}")
    plan = _unique(s.text for s in _by_field(items, "plan"))
    if plan:
        sentences.append(f"Plan: {'; '.join(plan)}")
    return " ".join(_sentence(s) for s in sentences if s)


def _summarise_zh(items: list[Suggestion]) -> str:
    parts: list[str] = []
    complaint = _by_field(items, "chief_complaint")
    if complaint:
        parts.append(f"主诉：{complaint[0].text}")
    history = [s for s in _by_field(items, "history_present_illness") if s.value.get("kind") != "narrative"]
    reported = _unique(s.text for s in history if not s.negated)[:MAX_HISTORY_ITEMS]
    denied = _unique(str(s.value.get("finding") or s.text) for s in history if s.negated)[:MAX_HISTORY_ITEMS]
    if reported:
        parts.append(f"现病史：{'、'.join(reported)}")
    if denied:
        parts.append(f"否认{'、'.join(denied)}")
    past = _unique(
        s.text for s in _by_field(items, "past_history") if not s.negated and s.value.get("kind") != "social"
    )
    if past:
        parts.append(f"既往史：{'、'.join(past)}")
    family = _unique(s.text for s in _by_field(items, "family_history"))
    if family:
        parts.append(f"家族史：{'、'.join(family)}")
    medications = _by_field(items, "medication")
    taken = _unique(
        s.text for s in medications if not s.negated and not s.value.get("none") and s.value.get("status") != "new"
    )
    if taken:
        parts.append(f"用药：{'；'.join(taken)}")
    elif any(s.value.get("none") for s in medications):
        parts.append("目前未服用药物")
    allergies = _by_field(items, "allergy")
    listed = _unique(s.text for s in allergies if not s.negated and not s.value.get("none"))
    if listed:
        parts.append(f"过敏史：{'、'.join(listed)}")
    elif any(s.value.get("none") for s in allergies):
        parts.append("无已知药物过敏")
    vitals = _by_field(items, "vital_sign")
    if vitals:
        values = {str(s.value.get("kind")): s for s in vitals}
        shown = []
        if "temperature" in values:
            shown.append(values.pop("temperature").text)
        systolic, diastolic = values.pop("systolic_bp", None), values.pop("diastolic_bp", None)
        if systolic and diastolic:
            shown.append(f"血压{_pressure(systolic, diastolic)}")
        shown += [s.text for s in values.values()]
        parts.append(f"生命体征：{'，'.join(shown)}")
    exam = _unique(s.text for s in _exam_without_vitals(items))[:MAX_EXAM_ITEMS]
    if exam:
        parts.append(f"查体：{'；'.join(exam)}")
    diagnoses = _unique(
        ("可能" if s.uncertain else "") + s.text + (f"（{s.value.get('code')}）" if s.value.get("code") else "")
        for s in sorted(_by_field(items, "diagnosis"), key=lambda s: -s.confidence)
        if not s.negated and not s.family
    )
    if diagnoses:
        parts.append(f"诊断：{'；'.join(diagnoses)}")
    plan = _unique(s.text for s in _by_field(items, "plan"))
    if plan:
        parts.append(f"计划：{'；'.join(plan)}")
    return "。".join(parts) + ("。" if parts else "")
