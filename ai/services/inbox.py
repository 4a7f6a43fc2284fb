"""What people do with alerts in the inbox: acknowledge, assign, resolve. Each change is audited twice: a row
of the alert's own history (AlertEvent: who, what, when, from which status) and an access-log entry."""

from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from ai.models import Alert, AlertEvent
from ai.selectors import alert_assignable_users, alert_visible_to
from hospital.core.models import User
from hospital.core.services.access_log import access_log_record

NOTE_MAX_LENGTH = 2000


def _check_may_act(user: User, alert: Alert) -> None:
    if not alert_visible_to(user=user, alert=alert):
        raise PermissionDenied(_("You can act only on the alerts of your wards and patients."))


def _locked(alert: Alert) -> Alert:
    return (
        Alert.objects.select_for_update(of=("self",))
        .select_related("patient", "acknowledged_by", "assigned_to", "resolved_by")
        .get(pk=alert.pk)
    )


def _audit(alert: Alert, *, user: User, action: str, from_status: str, note: str = "", detail: dict[str, Any]) -> None:
    AlertEvent.objects.create(
        alert=alert,
        action=action,
        actor=user,
        from_status=from_status,
        to_status=alert.status,
        severity=alert.severity,
        note=note,
        detail=detail,
    )
    access_log_record(
        actor=user,
        action="write",
        object_type="ai.alert",
        object_id=str(alert.external_id),
        patient_external_id=alert.patient.external_id if alert.patient is not None else None,
        detail={"action": action, "status": alert.status, "kind": alert.kind, **detail},
    )


@transaction.atomic
def alert_acknowledge(*, alert: Alert, user: User) -> Alert:
    """Mark an open alert as acknowledged by `user`, now.

    Idempotent: an alert someone has already acknowledged is returned as it is (the first person stays
    recorded, nothing is written). A resolved alert cannot be acknowledged (ValidationError); a user whose
    inbox does not hold the alert gets PermissionDenied. One AlertEvent and one "write" access-log entry
    when the alert changes.
    """
    _check_may_act(user, alert)
    locked = _locked(alert)
    if locked.status == Alert.Status.RESOLVED:
        raise ValidationError({"status": [_("The alert is already resolved.")]})
    if locked.status == Alert.Status.ACKNOWLEDGED:
        return locked
    locked.status = Alert.Status.ACKNOWLEDGED
    locked.acknowledged_by = user
    locked.acknowledged_at = timezone.now()
    locked.save(update_fields=["status", "acknowledged_by", "acknowledged_at", "updated_at"])
    _audit(locked, user=user, action=AlertEvent.Action.ACKNOWLEDGED, from_status=Alert.Status.OPEN, detail={})
    return locked


@transaction.atomic
def alert_assign(*, alert: Alert, user: User, assignee: User, note: str = "") -> Alert:
    """Make `assignee` responsible for an open or acknowledged alert; `user` is who assigns it.

    Guarantees: the assignee is an active doctor or nurse assigned to the alert's ward today, or the
    attending or a care-team member of its encounter (ai.selectors.alert_assignable_users), otherwise
    ValidationError on "assignee"; a resolved alert is not assigned (ValidationError on "status");
    PermissionDenied when the alert is not in `user`'s inbox. The status does not change. Assigning to
    the person already assigned changes nothing. One AlertEvent and one "write" access-log entry.
    """
    _check_may_act(user, alert)
    note = (note or "").strip()
    if len(note) > NOTE_MAX_LENGTH:
        raise ValidationError({"note": [_("Keep the note under %(max)s characters.") % {"max": NOTE_MAX_LENGTH}]})
    locked = _locked(alert)
    if locked.status == Alert.Status.RESOLVED:
        raise ValidationError({"status": [_("The alert is already resolved.")]})
    if not alert_assignable_users(alert=locked).filter(pk=assignee.pk).exists():
        raise ValidationError(
            {"assignee": [_("Assign the alert to a doctor or nurse of its ward or of the patient's care team.")]}
        )
    if locked.assigned_to_id == assignee.pk:
        return locked
    previous = locked.assigned_to
    locked.assigned_to = assignee
    locked.assigned_at = timezone.now()
    locked.save(update_fields=["assigned_to", "assigned_at", "updated_at"])
    _audit(
        locked,
        user=user,
        action=AlertEvent.Action.ASSIGNED,
        from_status=locked.status,
        note=note,
        detail={
            "assignee": assignee.get_username(),
            "previous_assignee": previous.get_username() if previous is not None else None,
        },
    )
    return locked


def _conflict_decision(alert: Alert, accepted: str | None) -> dict[str, Any]:
    readings = (alert.detail or {}).get("readings") or []
    if not accepted:
        raise ValidationError({"accepted": [_("Choose the reading that is right.")]})
    chosen = [reading for reading in readings if reading.get("observation") == str(accepted)]
    if not chosen:
        raise ValidationError({"accepted": [_("Choose one of the two readings of this alert.")]})
    rejected = [reading for reading in readings if reading.get("observation") != str(accepted)]
    # The EMR has no "entered in error" status for an observation: the decision is kept here, on the alert,
    # and neither reading is changed or deleted.
    return {"accepted": chosen[0], "rejected": rejected[0] if rejected else None}


@transaction.atomic
def alert_resolve(*, alert: Alert, user: User, note: str, accepted: str | None = None) -> Alert:
    """Close an open or acknowledged alert with a note saying how it was resolved.

    Guarantees: a note is given (ValidationError on "note"); a conflicting-data alert also names the
    reading that is right (`accepted`: the external id of one of its two observations, ValidationError on
    "accepted" otherwise), and the decision (accepted and rejected reading) is stored in the alert's
    `resolution`; other kinds take no `accepted`. A resolved alert is not resolved again (ValidationError
    on "status"); PermissionDenied when the alert is not in `user`'s inbox. Nothing is written on error.
    A repeat of the condition within ALERT_REPEAT_WINDOW_MINUTES is merged into the resolved alert
    (ai.services.raising). One AlertEvent and one "write" access-log entry.
    """
    _check_may_act(user, alert)
    note = (note or "").strip()
    errors: dict[str, list[str]] = {}
    if not note:
        errors["note"] = [_("Say how the alert was resolved.")]
    elif len(note) > NOTE_MAX_LENGTH:
        errors["note"] = [_("Keep the note under %(max)s characters.") % {"max": NOTE_MAX_LENGTH}]
    locked = _locked(alert)
    if locked.status == Alert.Status.RESOLVED:
        errors["status"] = [_("The alert is already resolved.")]
    resolution: dict[str, Any] = {}
    if locked.kind == Alert.Kind.CONFLICTING_DATA:
        try:
            resolution = _conflict_decision(locked, accepted)
        except ValidationError as exc:
            errors.update(exc.message_dict)
    elif accepted:
        errors["accepted"] = [_("Only a conflicting-data alert asks which reading is right.")]
    if errors:
        raise ValidationError(errors)
    from_status = locked.status
    locked.status = Alert.Status.RESOLVED
    locked.resolved_by = user
    locked.resolved_at = timezone.now()
    locked.resolution_note = note
    locked.resolution = resolution
    locked.save(update_fields=["status", "resolved_by", "resolved_at", "resolution_note", "resolution", "updated_at"])
    detail = {}
    if resolution:
        detail = {
            "accepted": resolution["accepted"].get("observation"),
            "rejected": (resolution["rejected"] or {}).get("observation"),
        }
    _audit(locked, user=user, action=AlertEvent.Action.RESOLVED, from_status=from_status, note=note, detail=detail)
    return locked
