"""Vital-sign drift alerts: a sustained change of a patient's heart rate, respiratory rate, SpO2 or temperature
against their own baseline, evaluated as each vital-sign set arrives (the detector is ai.drift)."""

import uuid
from datetime import timedelta

from django.db import transaction

from ai import conf
from ai.drift import VITAL_DIRECTIONS, VITAL_SCALE_FLOORS, Cusum, level_drift
from ai.models import Alert
from ai.services.conflicts import UNIT_LABELS
from ai.services.raising import alert_raise, care_context, decimal_text
from emr.models import Observation
from hospital.core.services.access_log import access_log_record

SERIES_SHOWN = 24  # the readings the alert keeps to show the trend
SERIES_LIMIT = 500  # the most readings of one vital sign the detector looks at


@transaction.atomic
def drift_evaluate(*, set_id: uuid.UUID | str) -> list[Alert]:
    """Look for sustained drift in each watched vital sign of the set `set_id`.

    For each of heart rate, respiratory rate, SpO2 and temperature in the set, the patient's readings of
    the last ALERT_DRIFT_LOOKBACK_HOURS up to this set go through ai.drift.level_drift: the first
    ALERT_DRIFT_BASELINE_READINGS readings are the patient's baseline, and a CUSUM of clipped robust
    deviations above the threshold after this set's reading raises a medium alert (a rise or fall; SpO2
    only when falling). One reading far off never alarms on its own. Nothing happens with too few readings.
    Idempotent (the set's observation is the alert's source); a drift that goes on keeps one alert per
    vital sign and direction (ai.services.raising). One "create" access-log entry per alert.
    """
    rows = list(
        Observation.objects.filter(
            set_id=uuid.UUID(str(set_id)),
            category=Observation.Category.VITAL_SIGN,
            code__in=list(VITAL_DIRECTIONS),
            value_numeric__isnull=False,
        ).select_related("patient", "encounter")
    )
    if not rows:
        return []
    patient = rows[0].patient
    latest_at = max(row.effective_at for row in rows)
    since = latest_at - timedelta(hours=conf.drift_lookback_hours())
    history = Observation.objects.filter(
        patient=patient,
        category=Observation.Category.VITAL_SIGN,
        code__in=[row.code for row in rows],
        value_numeric__isnull=False,
        effective_at__gte=since,
        effective_at__lte=latest_at,
    ).order_by("-effective_at", "-id")
    series: dict[str, list[tuple]] = {}
    newest_first = history.values_list("code", "value_numeric", "effective_at")[: SERIES_LIMIT * len(rows)]
    for code, value, taken_at in reversed(newest_first):
        series.setdefault(code, []).append((taken_at, value))
    cusum = Cusum(allowance=conf.drift_allowance(), threshold=conf.drift_threshold(), clip=conf.drift_clip())
    baseline_size = conf.drift_baseline_readings()
    alerts = []
    encounter, ward_id = care_context(patient_id=patient.pk, encounter=rows[0].encounter)
    for row in rows:
        points = series.get(row.code, [])[-SERIES_LIMIT:]
        result = level_drift(
            [float(value) for _at, value in points],
            baseline_size=baseline_size,
            scale_floor=VITAL_SCALE_FLOORS[row.code],
            cusum=cusum,
            directions=VITAL_DIRECTIONS[row.code],
        )
        if result is None or result.direction is None or result.onset is None:
            continue
        unit_label = UNIT_LABELS.get(row.unit, row.unit)
        detail = {
            "code": row.code,
            "direction": result.direction,
            "unit": row.unit,
            "unit_label": unit_label,
            "latest": decimal_text(row.value_numeric),
            "baseline": f"{result.baseline.centre:.1f}",
            "baseline_spread": f"{result.baseline.scale:.1f}",
            "baseline_readings": baseline_size,
            "cusum": round(max(result.upper, result.lower), 2),
            "threshold": cusum.threshold,
            "onset_at": points[result.onset][0].isoformat(),
            "readings_in_run": len(points) - result.onset,
            "series": [
                {"at": taken_at.isoformat(), "value": decimal_text(value)} for taken_at, value in points[-SERIES_SHOWN:]
            ],
            "taken_at": row.effective_at.isoformat(),
        }
        raised = alert_raise(
            kind=Alert.Kind.VITAL_DRIFT,
            dedup_key=f"vital_drift:patient:{patient.pk}:{row.code}:{result.direction}",
            source_id=row.external_id,
            severity=Alert.Severity.MEDIUM,
            detail=detail,
            patient_id=patient.pk,
            encounter=encounter,
            ward_id=ward_id,
            seen_at=row.effective_at,
        )
        access_log_record(
            actor=None,
            action="create",
            object_type="ai.alert",
            object_id=str(raised.alert.external_id),
            patient_external_id=patient.external_id,
            detail={"kind": Alert.Kind.VITAL_DRIFT, "code": row.code, "outcome": raised.outcome},
        )
        alerts.append(raised.alert)
    return alerts
