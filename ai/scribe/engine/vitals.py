# ruff: noqa: E501 - each pattern stays on one line, so a reviewer reads it whole
"""Vital signs said aloud, with their units: "blood pressure one forty over ninety", "temp 101.2 F", "sats 97%".

The kinds are the EMR's vital-sign codes (emr.models.observations.VitalSign) and the units their UCUM codes
("mm[Hg]", "/min", "%", "Cel", "[degF]"). A value keeps the unit it was said in; a temperature said in
Fahrenheit also carries `value_si` in Celsius, which is what the EMR stores. Where no unit was said the
unit is inferred from the number's range and `unit_inferred` says so. Values outside the EMR's possible
range are dropped, not suggested.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from ai.scribe.engine.numbers import NUMBER_EN, NUMBER_ZH, format_number, parse_number_en, parse_number_zh
from ai.scribe.engine.types import Suggestion
from ai.scribe.engine.units import TranscriptUnits

# Possible ranges, as emr.models.observations.VITAL_LIMITS (in the EMR's units).
LIMITS: dict[str, tuple[float, float, str]] = {
    "heart_rate": (20, 300, "/min"),
    "respiratory_rate": (2, 80, "/min"),
    "spo2": (40, 100, "%"),
    "temperature": (25, 45, "Cel"),
    "systolic_bp": (30, 300, "mm[Hg]"),
    "diastolic_bp": (10, 200, "mm[Hg]"),
}
LABELS_EN = {
    "heart_rate": "heart rate",
    "respiratory_rate": "respiratory rate",
    "spo2": "SpO2",
    "temperature": "temperature",
    "systolic_bp": "systolic blood pressure",
    "diastolic_bp": "diastolic blood pressure",
}
LABELS_ZH = {
    "heart_rate": "心率",
    "respiratory_rate": "呼吸",
    "spo2": "血氧饱和度",
    "temperature": "体温",
    "systolic_bp": "收缩压",
    "diastolic_bp": "舒张压",
}
UNIT_DISPLAY = {"mm[Hg]": "mmHg", "/min": "/min", "%": "%", "Cel": "°C", "[degF]": "°F"}

_N = r"(" + NUMBER_EN + r")"
_GAP = r"[^.?!;\d]{0,30}?"
EN_PATTERNS: tuple[tuple[str, re.Pattern[str]], ...] = (
    (
        "bp",
        re.compile(
            r"\b(?:blood pressure|bp|b\.p\.)\b"
            + _GAP
            + r"\b"
            + _N
            + r"\s*(?:/|over)\s*"
            + _N
            + r"(?:\s*(?:mm\s?hg|millimeters of mercury))?"
        ),
    ),
    (
        "heart_rate",
        re.compile(
            r"\b(?:heart rate|pulse(?: rate)?|hr)\b"
            + _GAP
            + r"\b"
            + _N
            + r"(?:\s*(?:beats per minute|beats a minute|bpm|per minute|/min))?"
        ),
    ),
    (
        "respiratory_rate",
        re.compile(
            r"\b(?:respiratory rate|respiration rate|respirations|breathing rate|rr|resp rate)\b"
            + _GAP
            + r"\b"
            + _N
            + r"(?:\s*(?:breaths per minute|per minute|/min))?"
        ),
    ),
    (
        "spo2",
        re.compile(
            r"\b(?:oxygen saturation|o2 sat(?:uration)?s?|sats?|saturations?|saturating|spo2|sp o2|pulse ox(?:imetry)?|oxygen (?:level|sat|sats|saturation)|pulse oximetry)\b"
            + _GAP
            + r"\b"
            + _N
            + r"(?:\s*(?:%|percent))?"
        ),
    ),
    (
        "temperature",
        re.compile(
            r"\b(?:temperature|temp|fever of|febrile to|t max|tmax)\b"
            + _GAP
            + r"\b"
            + _N
            + r"(?:\s*(?:°|degrees?|deg)?\s*(celsius|centigrade|fahrenheit|c|f)\b|\s*°\s*(c|f)\b|\s*(°|degrees?))?"
        ),
    ),
)
_NZ = r"(" + NUMBER_ZH + r")"
ZH_PATTERNS: tuple[tuple[str, re.Pattern[str]], ...] = (
    (
        "bp",
        re.compile(
            r"血压[^，。,.\d零〇一二两三四五六七八九十]{0,6}"
            + _NZ
            + r"\s*(?:/|／|比|over)\s*"
            + _NZ
            + r"(?:\s*(?:毫米汞柱|mmhg))?"
        ),
    ),
    (
        "heart_rate",
        re.compile(
            r"(?:心率|脉搏|心跳)[^，。,.\d零〇一二两三四五六七八九十]{0,6}"
            + _NZ
            + r"(?:\s*(?:次(?:每分钟|/分|／分|每分|一分钟)?|bpm))?"
        ),
    ),
    (
        "respiratory_rate",
        re.compile(
            r"呼吸(?:频率)?[^，。,.\d零〇一二两三四五六七八九十]{0,6}" + _NZ + r"(?:\s*次(?:每分钟|/分|／分|每分)?)"
        ),
    ),
    (
        "spo2",
        re.compile(
            r"(?:血氧饱和度|血氧|氧饱和度|指脉氧)[^，。,.\d零〇一二两三四五六七八九十]{0,6}(?:百分之)?"
            + _NZ
            + r"(?:\s*(?:%|％))?"
        ),
    ),
    (
        "temperature",
        re.compile(
            r"(?:体温|发烧到|烧到|发热到|温度)[^，。,.\d零〇一二两三四五六七八九十]{0,6}"
            + _NZ
            + r"(?:\s*(度|摄氏度|℃|°c|华氏度|℉))?"
        ),
    ),
)


@dataclass
class Reading:
    kind: str
    value: float
    unit: str
    start: int
    end: int
    unit_inferred: bool = False
    value_si: float | None = None


def extract_vitals(units: TranscriptUnits) -> list[Suggestion]:
    """One suggestion per reading (a blood pressure gives two, systolic and diastolic, on the same span)."""
    readings = _readings_zh(units) if units.zh else _readings_en(units)
    labels = LABELS_ZH if units.zh else LABELS_EN
    suggestions = []
    seen: set[tuple[str, float]] = set()
    for reading in readings:
        key = (reading.kind, reading.value)
        if key in seen:
            continue
        seen.add(key)
        value: dict[str, object] = {
            "kind": reading.kind,
            "value": reading.value,
            "unit": reading.unit,
            "unit_inferred": reading.unit_inferred,
        }
        if reading.value_si is not None:
            value["value_si"] = reading.value_si
            value["unit_si"] = LIMITS[reading.kind][2]
        separator = "" if units.zh else " "
        unit = UNIT_DISPLAY.get(reading.unit, reading.unit)
        unit = unit if unit.startswith(("/", "%", "°")) else f" {unit}"
        shown = f"{labels[reading.kind]}{separator}{format_number(reading.value)}{unit}"
        suggestions.append(
            Suggestion(
                field="vital_sign",
                text=shown,
                span_start=reading.start,
                span_end=reading.end,
                confidence=0.8 if reading.unit_inferred else 0.92,
                value=value,
            )
        )
    return suggestions


def _readings_en(units: TranscriptUnits) -> list[Reading]:
    out: list[Reading] = []
    low = units.low
    for kind, pattern in EN_PATTERNS:
        for match in pattern.finditer(low):
            if kind == "bp":
                systolic, diastolic = parse_number_en(match.group(1)), parse_number_en(match.group(2))
                if systolic is None or diastolic is None or not systolic > diastolic:
                    continue
                for sub, pressure in (("systolic_bp", systolic), ("diastolic_bp", diastolic)):
                    if _in_range(sub, pressure):
                        out.append(Reading(sub, pressure, "mm[Hg]", match.start(), match.end()))
                continue
            parsed = parse_number_en(match.group(1))
            if parsed is None:
                continue
            number = parsed
            if kind == "temperature":
                reading = _temperature(
                    number, (match.group(2) or match.group(3) or "").lower(), match.start(), match.end()
                )
                if reading:
                    out.append(reading)
                continue
            if _in_range(kind, number):
                out.append(Reading(kind, number, LIMITS[kind][2], match.start(), match.end()))
    return sorted(out, key=lambda r: r.start)


def _readings_zh(units: TranscriptUnits) -> list[Reading]:
    out: list[Reading] = []
    for kind, pattern in ZH_PATTERNS:
        for match in pattern.finditer(units.low):
            if kind == "bp":
                systolic, diastolic = parse_number_zh(match.group(1)), parse_number_zh(match.group(2))
                if systolic is None or diastolic is None or not systolic > diastolic:
                    continue
                for sub, pressure in (("systolic_bp", systolic), ("diastolic_bp", diastolic)):
                    if _in_range(sub, pressure):
                        out.append(Reading(sub, pressure, "mm[Hg]", match.start(), match.end()))
                continue
            parsed = parse_number_zh(match.group(1))
            if parsed is None:
                continue
            number = parsed
            if kind == "temperature":
                unit = match.group(2) or ""
                said = "f" if unit in ("华氏度", "℉") else ("c" if unit else "")
                reading = _temperature(number, said, match.start(), match.end())
                if reading:
                    out.append(reading)
                continue
            if _in_range(kind, number):
                out.append(Reading(kind, number, LIMITS[kind][2], match.start(), match.end()))
    return sorted(out, key=lambda r: r.start)


def _temperature(number: float, said: str, start: int, end: int) -> Reading | None:
    said = said.strip("°").strip()
    if said in ("f", "fahrenheit"):
        unit, inferred = "[degF]", False
    elif said in ("c", "celsius", "centigrade"):
        unit, inferred = "Cel", False
    else:
        inferred = True
        if 30 <= number <= 45:
            unit = "Cel"
        elif 86 <= number <= 113:
            unit = "[degF]"
        else:
            return None
    celsius = round((number - 32) * 5 / 9, 1) if unit == "[degF]" else number
    if not _in_range("temperature", celsius):
        return None
    return Reading("temperature", number, unit, start, end, inferred, celsius if unit == "[degF]" else None)


def _in_range(kind: str, number: float) -> bool:
    low, high, _unit = LIMITS[kind]
    return low <= number <= high
