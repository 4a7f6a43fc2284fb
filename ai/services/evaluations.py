"""NEWS2 scores of vital-sign sets, critical laboratory alerts and SpO2 scale 2 orders.

The evaluations run in the `alerts` Celery queue (ai.tasks) when the EMR records vital signs or a
laboratory result; they are idempotent, so a task delivered twice changes nothing the second time.
Alerts are raised through ai.services.raising.alert_raise (one alert per condition, repeats merged).
"""

import uuid
from decimal import Decimal

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from ai import news2
from ai.models import Alert, News2Score, Spo2Scale2Order
from ai.selectors import news2_escalation
from ai.services.raising import alert_raise, care_context, decimal_text
from emr.lab_limits import critical_limit
from emr.models import Observation, Patient
from hospital.core import roles
from hospital.core.models import User
from hospital.core.services.access_log import access_log_record

# The alert each NEWS2 clinical risk raises; a low score raises none.
NEWS2_ALERT_SEVERITY = {
    news2.RISK_LOW_MEDIUM: Alert.Severity.MEDIUM,
    news2.RISK_MEDIUM: Alert.Severity.HIGH,
    news2.RISK_HIGH: Alert.Severity.CRITICAL,
}
CRITICAL_FLAGS = (Observation.Flag.CRITICAL_LOW, Observation.Flag.CRITICAL_HIGH)


def _parameter_values(rows: list[Observation]) -> dict[str, Decimal | str | bool]:
    values: dict[str, Decimal | str | bool] = {}
    # Oldest first, so that a parameter charted twice in one set counts with its last reading.
    for row in sorted(rows, key=lambda row: (row.effective_at, row.pk)):
        if row.code == news2.CONSCIOUSNESS:
            values[row.code] = row.value_text
        elif row.code == news2.SUPPLEMENTAL_OXYGEN:
            values[row.code] = bool(row.value_numeric)
        elif row.code in news2.PARAMETERS and row.value_numeric is not None:
            values[row.code] = row.value_numeric
    return values


def _shown(value: Decimal | str | bool) -> str:
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, Decimal):
        return decimal_text(value)
    return value


@transaction.atomic
def news2_evaluate(*, set_id: uuid.UUID | str) -> News2Score | None:
    """Score the vital-sign set `set_id` on NEWS2 and raise the matching alert; None if the set does not exist.

    Guarantees: one News2Score per set (updated in place when evaluated again); SpO2 on scale 2 when the
    patient has a Spo2Scale2Order, else scale 1; an incomplete set is stored with `complete` False, no
    total and its missing parameters, and raises no alert. A complete set with a 3 in one parameter
    raises a medium alert (urgent ward-based review), 5-6 a high one (urgent response), 7 or more a critical
    one (emergency response); the detail names the escalation and whom it goes to (the ward's nurses and
    doctors, and for 5 or more the critical care team). One NEWS2 alert per patient is active at a time:
    a later set at the same or a lower risk is merged into it (ai.services.raising), a higher risk
    escalates it. Evaluating a set again changes nothing (an acknowledged alert keeps its status). The
    alert goes to the ward of the set's encounter, or of the patient's current inpatient stay. One
    "create" access-log entry.
    """
    set_id = uuid.UUID(str(set_id))
    rows = list(Observation.objects.filter(set_id=set_id, category=Observation.Category.VITAL_SIGN))
    if not rows:
        return None
    first = rows[0]
    encounter, ward_id = care_context(patient_id=first.patient_id, encounter=first.encounter)
    scale = news2.SCALE_2 if Spo2Scale2Order.objects.filter(patient_id=first.patient_id).exists() else news2.SCALE_1
    values = _parameter_values(rows)
    numbers = {code: value for code, value in values.items() if isinstance(value, Decimal)}
    consciousness = values.get(news2.CONSCIOUSNESS)
    on_oxygen = values.get(news2.SUPPLEMENTAL_OXYGEN)
    result = news2.news2_score(
        respiratory_rate=numbers.get(news2.RESPIRATORY_RATE),
        spo2=numbers.get(news2.SPO2),
        on_oxygen=on_oxygen if isinstance(on_oxygen, bool) else None,
        systolic_bp=numbers.get(news2.SYSTOLIC_BP),
        pulse=numbers.get(news2.PULSE),
        consciousness=consciousness if isinstance(consciousness, str) else None,
        temperature=numbers.get(news2.TEMPERATURE),
        spo2_scale=scale,
    )
    parameter_scores = {
        code: {"value": _shown(values[code]), "score": result.scores.get(code)}
        for code in news2.PARAMETERS
        if code in values
    }
    score, _created = News2Score.objects.update_or_create(
        set_id=set_id,
        defaults={
            "patient_id": first.patient_id,
            "encounter": encounter,
            "ward_id": ward_id,
            "taken_at": max(row.effective_at for row in rows),
            "total": result.total,
            "parameter_scores": parameter_scores,
            "complete": result.complete,
            "missing_parameters": list(result.missing),
            "spo2_scale": scale,
            "risk": result.risk or "",
        },
    )
    alert = None
    outcome = None
    severity = NEWS2_ALERT_SEVERITY.get(result.risk or "")
    escalation = news2_escalation(result.risk)
    if severity is not None and escalation is not None:
        detail = {
            "set_id": str(set_id),
            "total": result.total,
            "risk": result.risk,
            "spo2_scale": scale,
            "parameters": parameter_scores,
            "taken_at": score.taken_at.isoformat(),
            "escalation": {"level": escalation.level, "recipients": list(escalation.recipients)},
        }
        raised = alert_raise(
            kind=Alert.Kind.NEWS2,
            dedup_key=f"news2:patient:{first.patient_id}",
            source_id=score.external_id,
            severity=severity,
            detail=detail,
            patient_id=first.patient_id,
            encounter=encounter,
            ward_id=ward_id,
            seen_at=score.taken_at,
        )
        alert, outcome = raised.alert, raised.outcome
    patient_external_id = Patient.objects.filter(pk=first.patient_id).values_list("external_id", flat=True).get()
    access_log_record(
        actor=None,
        action="create",
        object_type="ai.news2score",
        object_id=str(score.external_id),
        patient_external_id=patient_external_id,
        detail={
            "set_id": str(set_id),
            "total": result.total,
            "complete": result.complete,
            "alert": str(alert.external_id) if alert else None,
            "alert_outcome": outcome,
        },
    )
    return score


@transaction.atomic
def critical_lab_evaluate(*, observation_id: int) -> Alert | None:
    """Raise a critical alert for a laboratory result flagged critically low (LL) or high (HH).

    The flag is set when the result is recorded, from the configurable critical limits of
    emr.lab_limits; the alert names the test, the value and the limit it crossed. Idempotent: one
    alert per observation (an acknowledged one keeps its status); a repeat of the same test beyond the
    same limit while the alert is active, or shortly after it was resolved, is merged into it. None for a
    result that is not critical or does not exist. One "create" access-log entry when an alert is written.
    """
    observation = (
        Observation.objects.select_related("patient", "encounter")
        .filter(pk=observation_id, category=Observation.Category.LABORATORY)
        .first()
    )
    if observation is None or observation.flag not in CRITICAL_FLAGS:
        return None
    encounter, ward_id = care_context(patient_id=observation.patient_id, encounter=observation.encounter)
    limit = critical_limit(observation.code, observation.unit)
    low = observation.flag == Observation.Flag.CRITICAL_LOW
    crossed = None
    if limit is not None:
        crossed = limit.low if low else limit.high
    detail = {
        "code": observation.code,
        "test": observation.display or observation.code,
        "value": decimal_text(observation.value_numeric) or observation.value_text,
        "unit": observation.unit,
        "flag": observation.flag,
        "limit": decimal_text(crossed) if crossed is not None else None,
        "taken_at": observation.effective_at.isoformat(),
    }
    raised = alert_raise(
        kind=Alert.Kind.CRITICAL_LAB,
        dedup_key=f"critical_lab:patient:{observation.patient_id}:{observation.code}:{observation.flag}",
        source_id=observation.external_id,
        severity=Alert.Severity.CRITICAL,
        detail=detail,
        patient_id=observation.patient_id,
        encounter=encounter,
        ward_id=ward_id,
        seen_at=observation.effective_at,
    )
    alert = raised.alert
    access_log_record(
        actor=None,
        action="create",
        object_type="ai.alert",
        object_id=str(alert.external_id),
        patient_external_id=observation.patient.external_id,
        detail={
            "kind": Alert.Kind.CRITICAL_LAB,
            "observation": str(observation.external_id),
            "outcome": raised.outcome,
        },
    )
    return alert


@transaction.atomic
def spo2_scale2_order(*, patient: Patient, ordered_by: User, reason: str) -> Spo2Scale2Order:
    """Record a doctor's decision that `patient` has hypercapnic respiratory failure: from now on NEWS2 scores
    the patient's SpO2 on scale 2 (target 88-92 %).

    Guarantees: a reason is given (ValidationError otherwise, nothing written); only a doctor decides
    (PermissionDenied). A patient has one order: ordering again replaces the reason and the doctor.
    Sets already scored keep their scale. One "create" (or "write") access-log entry.
    """
    if not (ordered_by.is_active and ordered_by.has_role(roles.DOCTOR)):
        raise PermissionDenied(_("Only a doctor decides that SpO2 scale 2 applies."))
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": [_("Give the reason for SpO2 scale 2 (hypercapnic respiratory failure).")]})
    order, created = Spo2Scale2Order.objects.update_or_create(
        patient=patient, defaults={"ordered_by": ordered_by, "reason": reason}
    )
    access_log_record(
        actor=ordered_by,
        action="create" if created else "write",
        object_type="ai.spo2scale2order",
        object_id=str(order.external_id),
        patient_external_id=patient.external_id,
        detail={"spo2_scale": news2.SCALE_2},
    )
    return order
