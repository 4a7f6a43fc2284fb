"""Raising an alert: one alert per condition, repeats merged and suppressed, escalations never suppressed.

Every evaluation (NEWS2, critical laboratory values, conflicting data, vital-sign drift, the census check)
raises through `alert_raise`, so the same rules hold for every kind:

- a condition has a key (`dedup_key`: kind, patient or ward, and what is abnormal);
- while an alert with that key is open or acknowledged, or was resolved less than
  ALERT_REPEAT_WINDOW_MINUTES ago, a repeat adds one to its `occurrences`, moves `last_seen_at` and keeps
  the latest data in `detail["latest"]`; nobody is alerted again;
- a repeat at a higher severity is never suppressed: an open or acknowledged alert is escalated in place
  (new severity, title and detail, back to open so that it shows and counts in the badge again); a
  resolved one is followed by a new alert;
- the data that raised or repeated an alert is remembered (Alert.source_id, AlertEvent.source_id), so a
  redelivered task changes nothing.
"""

from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone

from ai import conf
from ai.models import Alert, AlertEvent
from ai.selectors import SEVERITY_RANKS, STATUS_RANK, alert_title
from emr.models import Encounter

TITLE_LENGTH = Alert._meta.get_field("title").max_length or 200

RAISED = "raised"
REPEATED = "repeated"
ESCALATED = "escalated"
UNCHANGED = "unchanged"


@dataclass(frozen=True)
class RaiseOutcome:
    """The alert a condition now has, and what raising did: RAISED (a new alert), REPEATED (merged into an
    existing one), ESCALATED (an existing one at a higher severity) or UNCHANGED (this data was seen before)."""

    alert: Alert
    outcome: str


def decimal_text(value: Decimal | None) -> str:
    """A stored measurement as measured ("85", "37.8"), never in exponent form; "" for None."""
    if value is None:
        return ""
    return f"{value.normalize():f}"


def care_context(*, patient_id: int, encounter: Encounter | None) -> tuple[Encounter | None, int | None]:
    """The encounter and ward an alert goes to: the data's own encounter, else the patient's in-progress
    inpatient stay (vital signs charted without an encounter still reach the ward's staff)."""
    if encounter is None:
        encounter = (
            Encounter.objects.filter(
                patient_id=patient_id,
                encounter_class=Encounter.EncounterClass.INPATIENT,
                status=Encounter.Status.IN_PROGRESS,
            )
            .order_by("-started_at", "-id")
            .first()
        )
    return encounter, (encounter.ward_id if encounter is not None else None)


def _mergeable(dedup_key: str, now: datetime) -> Alert | None:
    """The alert a repeat of `dedup_key` belongs to, locked: the active one, else the one resolved last
    within the repeat window."""
    window_start = now - timedelta(minutes=conf.repeat_window_minutes())
    return (
        Alert.objects.select_for_update()
        .filter(dedup_key=dedup_key)
        .filter(Q(status__in=Alert.ACTIVE_STATUSES) | Q(status=Alert.Status.RESOLVED, resolved_at__gte=window_start))
        .order_by(STATUS_RANK, "-resolved_at", "-id")
        .first()
    )


def _seen(kind: str, source_id) -> Alert | None:
    """The alert this data already raised or was merged into, if any."""
    alert = Alert.objects.filter(kind=kind, source_id=source_id).first()
    if alert is None:
        event = AlertEvent.objects.filter(alert__kind=kind, source_id=source_id).select_related("alert").first()
        alert = event.alert if event is not None else None
    return alert


def _event(alert: Alert, action: str, *, from_status: str, source_id, detail: dict[str, Any]) -> None:
    AlertEvent.objects.create(
        alert=alert,
        action=action,
        actor=None,
        from_status=from_status,
        to_status=alert.status,
        severity=alert.severity,
        source_id=source_id,
        detail=detail,
    )


def alert_raise(
    *,
    kind: str,
    dedup_key: str,
    source_id,
    severity: str,
    detail: dict[str, Any],
    patient_id: int | None = None,
    encounter: Encounter | None = None,
    ward_id: int | None = None,
    seen_at: datetime | None = None,
) -> RaiseOutcome:
    """Raise the alert for a condition, or merge this occurrence into the alert it already has (see the module).

    `source_id` is the external id of the data that shows the condition (a NEWS2 score, an observation, a
    census row); `seen_at` when the data was taken (default: now). Runs in the caller's transaction and
    locks the alert it merges into; two evaluations racing to raise the same condition end with one alert
    (the partial unique constraint on active keys, retried once as a merge). Writes one AlertEvent for
    every change; the caller writes the access log.
    """
    now = timezone.now()
    seen_at = seen_at or now
    title = alert_title(kind=kind, detail=detail)[:TITLE_LENGTH]
    with transaction.atomic():
        for attempt in range(2):
            seen = _seen(kind, source_id)
            if seen is not None:
                return RaiseOutcome(seen, UNCHANGED)
            target = _mergeable(dedup_key, now)
            escalates = target is not None and SEVERITY_RANKS[severity] > SEVERITY_RANKS[target.severity]
            if target is None or (escalates and target.status == Alert.Status.RESOLVED):
                try:
                    with transaction.atomic():
                        alert = Alert.objects.create(
                            kind=kind,
                            dedup_key=dedup_key,
                            source_id=source_id,
                            severity=severity,
                            title=title,
                            detail=detail,
                            patient_id=patient_id,
                            encounter=encounter,
                            ward_id=ward_id,
                            first_seen_at=seen_at,
                            last_seen_at=seen_at,
                        )
                except IntegrityError:
                    if attempt:
                        raise
                    continue  # raised by another evaluation meanwhile: merge into that one (or it was this data)
                after = {"after": str(target.external_id)} if target is not None else {}
                _event(alert, AlertEvent.Action.RAISED, from_status="", source_id=source_id, detail=after)
                return RaiseOutcome(alert, RAISED)
            assert target is not None
            from_status = target.status
            target.occurrences += 1
            target.last_seen_at = max(target.last_seen_at, seen_at)
            if escalates:
                previous = target.severity
                target.severity = severity
                target.title = title
                target.detail = detail
                target.status = Alert.Status.OPEN
                target.acknowledged_by = None
                target.acknowledged_at = None
                if ward_id is not None:
                    target.ward_id = ward_id
                    target.encounter = encounter
                target.save()
                _event(
                    target,
                    AlertEvent.Action.ESCALATED,
                    from_status=from_status,
                    source_id=source_id,
                    detail={"from_severity": previous},
                )
                return RaiseOutcome(target, ESCALATED)
            target.detail = {**target.detail, "latest": {**detail, "seen_at": seen_at.isoformat()}}
            target.save(update_fields=["occurrences", "last_seen_at", "detail", "updated_at"])
            _event(
                target,
                AlertEvent.Action.REPEATED,
                from_status=from_status,
                source_id=source_id,
                detail={"severity": severity},
            )
            return RaiseOutcome(target, REPEATED)
    raise AssertionError("unreachable")  # pragma: no cover
