"""Small presentation helpers shared by the EMR pages."""

from __future__ import annotations

from datetime import date, datetime
from typing import TYPE_CHECKING, TypedDict

from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from emr.models import Observation

if TYPE_CHECKING:
    # django-stubs-ext is a development dependency; the name is only needed by the type checker.
    from django_stubs_ext import StrOrPromise

# Order and units of the latest-vitals card; the stored unit "Cel" is UCUM for degrees Celsius.
VITAL_DISPLAY = (
    ("heart_rate", _("Heart rate"), "/min"),
    ("systolic_bp", _("Blood pressure"), "mmHg"),
    ("respiratory_rate", _("Respiratory rate"), "/min"),
    ("spo2", _("SpO2"), "%"),
    ("temperature", _("Temperature"), "°C"),
    ("consciousness", _("AVPU"), ""),
    ("supplemental_oxygen", _("Supplemental O2"), ""),
)

FLAG_BADGES: dict[str, str] = {
    Observation.Flag.NORMAL: "badge-ok",
    Observation.Flag.LOW: "badge-warn",
    Observation.Flag.HIGH: "badge-warn",
    Observation.Flag.ABNORMAL: "badge-warn",
    Observation.Flag.CRITICAL_LOW: "badge-danger",
    Observation.Flag.CRITICAL_HIGH: "badge-danger",
}


def age_in_years(birth_date: date, today: date | None = None) -> int:
    """Completed years on `today` (the hospital's calendar day by default)."""
    today = today or timezone.localdate()
    return today.year - birth_date.year - ((today.month, today.day) < (birth_date.month, birth_date.day))


def number(value) -> str:
    """A reading without trailing zeros: 37.2000 -> 37.2, 98.0000 -> 98."""
    if value is None:
        return ""
    text = f"{value:f}"
    return text.rstrip("0").rstrip(".") if "." in text else text


class VitalRow(TypedDict):
    """One row of the latest-vitals card."""

    code: str
    label: StrOrPromise
    value: StrOrPromise
    unit: str
    at: datetime


def latest_vitals_rows(latest: dict[str, Observation]) -> list[VitalRow]:
    """The latest-vitals card's rows: blood pressure joined as systolic/diastolic, missing signs left out."""
    rows: list[VitalRow] = []
    for code, label, unit in VITAL_DISPLAY:
        observation = latest.get(code)
        if observation is None:
            continue
        if code == "systolic_bp":
            diastolic = latest.get("diastolic_bp")
            text = number(observation.value_numeric) + (f"/{number(diastolic.value_numeric)}" if diastolic else "")
        elif observation.value_numeric is not None:
            text = number(observation.value_numeric)
        else:
            text = observation.value_text
        value: StrOrPromise = text
        if code == "supplemental_oxygen":
            value = _("Yes") if text.lower() in ("yes", "true", "y", "1") else _("No")
        rows.append({"code": code, "label": label, "value": value, "unit": unit, "at": observation.effective_at})
    return rows
