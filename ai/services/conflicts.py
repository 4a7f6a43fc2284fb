"""Conflicting-data alerts: a new reading checked against the other sources' readings of the same measurement
(the rules are in ai.conflicts). Runs on the `alerts` queue after a vital-sign set or a laboratory result is
committed; idempotent (the triggering observation is the alert's source)."""

import uuid
from datetime import timedelta
from decimal import Decimal
from typing import Any

from django.db import transaction

from ai import conf
from ai.conflicts import Reading, allowed_difference, find_conflict, tolerance_for
from ai.models import Alert
from ai.services.raising import alert_raise, care_context, decimal_text
from emr.models import VITAL_LIMITS, Observation
from hospital.core.services.access_log import access_log_record

UNIT_LABELS = {"/min": "/min", "%": "%", "Cel": "°C", "mm[Hg]": "mmHg"}


def _reading(row: Observation) -> Reading:
    assert row.value_numeric is not None
    return Reading(
        observation=str(row.external_id),
        code=row.code,
        value=row.value_numeric,
        unit=row.unit,
        taken_at=row.effective_at,
        source=row.source,
        recorded_by_id=row.recorded_by_id,
        set_id=str(row.set_id) if row.set_id else None,
    )


def _shown(row: Observation) -> dict[str, Any]:
    recorder = row.recorded_by
    return {
        "observation": str(row.external_id),
        "value": decimal_text(row.value_numeric),
        "taken_at": row.effective_at.isoformat(),
        "source": row.source,
        "recorded_by": recorder.get_username(),
        "recorded_by_name": str(recorder),
    }


def _numeric_rows(**filters) -> list[Observation]:
    return list(
        Observation.objects.filter(value_numeric__isnull=False, **filters)
        .select_related("recorded_by", "patient", "encounter")
        .order_by("effective_at", "id")
    )


def _check(new_rows: list[Observation]) -> list[Alert]:
    """Raise one alert per reading of `new_rows` that conflicts with another source's reading."""
    window = timedelta(minutes=conf.conflict_window_minutes())
    tolerances = conf.conflict_tolerances()
    alerts: list[Alert] = []
    comparable = [
        row
        for row in new_rows
        # consciousness and oxygen are not numbers to compare
        if row.category != Observation.Category.VITAL_SIGN or row.code in VITAL_LIMITS
    ]
    if not comparable:
        return alerts
    # One query for every reading the new ones could conflict with: same patient, category and codes, in the
    # window around any of them.
    candidates = _numeric_rows(
        patient_id=comparable[0].patient_id,
        category=comparable[0].category,
        code__in={row.code for row in comparable},
        effective_at__gte=min(row.effective_at for row in comparable) - window,
        effective_at__lte=max(row.effective_at for row in comparable) + window,
    )
    by_id = {str(row.external_id): row for row in candidates}
    readings = [_reading(row) for row in candidates]
    for new in comparable:
        match = find_conflict(_reading(new), readings, window=window, tolerances=tolerances)
        if match is None:
            continue
        other = by_id[match.observation]
        first, second = sorted((other, new), key=lambda row: (row.effective_at, row.pk))
        tolerance = tolerance_for(new.code, tolerances)
        assert first.value_numeric is not None and second.value_numeric is not None
        allowed = allowed_difference(first.value_numeric, second.value_numeric, tolerance)
        unit_label = UNIT_LABELS.get(new.unit, new.unit)
        detail: dict[str, Any] = {
            "code": new.code,
            "display": new.display,
            "category": new.category,
            "unit": new.unit,
            "unit_label": unit_label,
            "readings": [_shown(first), _shown(second)],
            "difference": decimal_text(abs(first.value_numeric - second.value_numeric)),
            "tolerance": {kind: str(value) for kind, value in tolerance.items()},
            "tolerance_label": f"{decimal_text(Decimal(allowed).quantize(Decimal('0.01')))} {unit_label}".strip(),
            "window_minutes": int(window.total_seconds() // 60),
            "taken_at": second.effective_at.isoformat(),
        }
        encounter, ward_id = care_context(patient_id=new.patient_id, encounter=new.encounter)
        raised = alert_raise(
            kind=Alert.Kind.CONFLICTING_DATA,
            dedup_key=f"conflicting_data:patient:{new.patient_id}:{new.category}:{new.code}",
            source_id=new.external_id,
            severity=Alert.Severity.MEDIUM,
            detail=detail,
            patient_id=new.patient_id,
            encounter=encounter,
            ward_id=ward_id,
            seen_at=second.effective_at,
        )
        access_log_record(
            actor=None,
            action="create",
            object_type="ai.alert",
            object_id=str(raised.alert.external_id),
            patient_external_id=new.patient.external_id,
            detail={
                "kind": Alert.Kind.CONFLICTING_DATA,
                "observations": [reading["observation"] for reading in detail["readings"]],
                "outcome": raised.outcome,
            },
        )
        alerts.append(raised.alert)
    return alerts


@transaction.atomic
def conflict_check_set(*, set_id: uuid.UUID | str) -> list[Alert]:
    """Check each numeric reading of the vital-sign set `set_id` against the other sources' readings of the
    same vital sign within ALERT_CONFLICT_WINDOW_MINUTES; raise a conflicting-data alert (medium) for each that
    disagrees beyond its tolerance, showing both readings. Returns the alerts raised or merged into (empty
    when nothing conflicts or the set does not exist). One "create" access-log entry per alert."""
    rows = _numeric_rows(set_id=uuid.UUID(str(set_id)), category=Observation.Category.VITAL_SIGN)
    return _check(rows)


@transaction.atomic
def conflict_check_lab(*, observation_id: int) -> list[Alert]:
    """The same check for one laboratory result (same test code and unit), with the tolerance of its code or
    the default relative one."""
    rows = _numeric_rows(pk=observation_id, category=Observation.Category.LABORATORY)
    return _check(rows)
