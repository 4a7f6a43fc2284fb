"""Conflicting data: the same measurement recorded by two sources that disagree beyond a tolerance.

"The same measurement" is the same patient and code (a vital sign, or a laboratory test in the same unit)
taken within a short window (ALERT_CONFLICT_WINDOW_MINUTES). "Two sources" is two different origins of
the data: a different `Observation.source` (a monitor's reading and a nurse's hand entry) or a different
person or system recording it; a nurse re-measuring her own reading is a new measurement, not a conflict,
and the readings of one vital-sign set never conflict with each other. "Disagree beyond a tolerance"
is a difference strictly greater than the tolerance of the code (ai.conf: an absolute amount, or a
fraction of the larger value).

Pure functions on plain values; ai.services.conflicts reads the observations and raises the alert.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal

ANY_CODE = "*"


@dataclass(frozen=True)
class Reading:
    """One numeric observation as the conflict check sees it."""

    observation: str  # external id
    code: str
    value: Decimal
    unit: str
    taken_at: datetime
    source: str
    recorded_by_id: int
    set_id: str | None = None


def tolerance_for(code: str, tolerances: dict[str, dict[str, Decimal]]) -> dict[str, Decimal]:
    """The tolerance of `code`: its own entry, else the "*" entry, else no tolerance at all (exact match)."""
    return tolerances.get(code) or tolerances.get(ANY_CODE) or {"absolute": Decimal(0)}


def allowed_difference(first: Decimal, second: Decimal, tolerance: dict[str, Decimal]) -> Decimal:
    """How far apart two readings may be: the absolute tolerance, or the relative one times the larger size
    (when both are given, the larger of the two)."""
    allowed = tolerance.get("absolute", Decimal(0))
    if "relative" in tolerance:
        allowed = max(allowed, tolerance["relative"] * max(abs(first), abs(second)))
    return allowed


def disagree(first: Decimal, second: Decimal, tolerance: dict[str, Decimal]) -> bool:
    """Whether two readings differ by strictly more than the tolerance allows."""
    return abs(first - second) > allowed_difference(first, second, tolerance)


def different_sources(first: Reading, second: Reading) -> bool:
    """Two origins: another kind of source (device, hand entry, interface, dictation) or another recorder."""
    return first.source != second.source or first.recorded_by_id != second.recorded_by_id


def find_conflict(
    new: Reading,
    others: Iterable[Reading],
    *,
    window: timedelta,
    tolerances: dict[str, dict[str, Decimal]],
) -> Reading | None:
    """The reading of another source that `new` conflicts with, or None.

    Candidates measure the same code in the same unit within `window` of `new` (either side), come from
    another source (`different_sources`), are not of the same vital-sign set, and disagree with `new`
    beyond the code's tolerance. Of several, the one closest in time wins (then the larger difference).
    """
    tolerance = tolerance_for(new.code, tolerances)
    conflicting = [
        other
        for other in others
        if other.observation != new.observation
        and other.code == new.code
        and other.unit == new.unit
        and not (new.set_id and other.set_id == new.set_id)
        and abs(other.taken_at - new.taken_at) <= window
        and different_sources(new, other)
        and disagree(new.value, other.value, tolerance)
    ]
    if not conflicting:
        return None
    return min(conflicting, key=lambda other: (abs(other.taken_at - new.taken_at), -abs(other.value - new.value)))
