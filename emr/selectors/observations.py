"""Reads of observations: vital-sign series for charts, the latest vital signs, laboratory results.

Each selector is one query whatever the number of patients or rows. The caller has checked that the
user may read the patients' clinical content (emr.selectors.access) and writes the access-log entry.
"""

from collections import defaultdict
from collections.abc import Iterable
from datetime import datetime
from decimal import Decimal

from emr.models import Observation

VITAL = Observation.Category.VITAL_SIGN
LABORATORY = Observation.Category.LABORATORY


def vital_series(
    *, patient_ids: Iterable[int], since: datetime | None = None
) -> dict[int, dict[str, list[tuple[datetime, Decimal | str]]]]:
    """Vital signs as time series for charts: {patient id: {code: [(taken at, value), ...]}}, oldest first.

    Numeric vitals give their Decimal value, consciousness its ACVPU letter, supplemental oxygen 1/0.
    `since` keeps readings taken at or after that time.
    """
    rows = Observation.objects.filter(patient_id__in=list(patient_ids), category=VITAL)
    if since is not None:
        rows = rows.filter(effective_at__gte=since)
    series: dict[int, dict[str, list[tuple[datetime, Decimal | str]]]] = defaultdict(lambda: defaultdict(list))
    for patient_id, code, taken_at, number, text in rows.order_by("patient_id", "effective_at", "id").values_list(
        "patient_id", "code", "effective_at", "value_numeric", "value_text"
    ):
        series[patient_id][code].append((taken_at, number if number is not None else text))
    return {patient_id: dict(codes) for patient_id, codes in series.items()}


def vital_readings(*, patient_ids: Iterable[int], since: datetime | None = None, limit: int = 500) -> list[Observation]:
    """Vital-sign observations, newest first (at most `limit`), with encounter, note and recorder joined."""
    rows = Observation.objects.filter(patient_id__in=list(patient_ids), category=VITAL).select_related(
        "encounter", "note", "recorded_by"
    )
    if since is not None:
        rows = rows.filter(effective_at__gte=since)
    return list(rows.order_by("-effective_at", "-id")[:limit])


def latest_vitals(*, patient_ids: Iterable[int]) -> dict[int, dict[str, Observation]]:
    """The newest reading of each vital sign per patient: {patient id: {code: Observation}} (one query)."""
    rows = (
        Observation.objects.filter(patient_id__in=list(patient_ids), category=VITAL)
        .order_by("patient_id", "code", "-effective_at", "-id")
        .distinct("patient_id", "code")
    )
    latest: dict[int, dict[str, Observation]] = defaultdict(dict)
    for row in rows:
        latest[row.patient_id][row.code] = row
    return dict(latest)


def lab_results(*, patient_ids: Iterable[int], limit: int = 200) -> list[Observation]:
    """Laboratory results of these patients, newest first (at most `limit`), with the encounter joined."""
    rows = Observation.objects.filter(patient_id__in=list(patient_ids), category=LABORATORY).select_related(
        "encounter", "recorded_by"
    )
    return list(rows.order_by("-effective_at", "-id")[:limit])
