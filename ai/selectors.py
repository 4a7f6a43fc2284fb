"""Reads of the alerts, scoped to the user asking, and the words the pages and the API show for them.

Who sees which alerts (the inbox "per role and ward"):
- doctors and nurses: the alerts of the wards they are assigned to today (scheduling WardAssignment),
  census alerts of those wards included, and the alerts of the patients they treat
  (emr.selectors.access.patients_visible_to);
- bed managers: census alerts of every ward (they carry no patient data);
- superusers: all; every other role: none (PermissionDenied).
Each selector is one query; the caller writes the access-log entry.
"""

import uuid
from collections import defaultdict
from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal, InvalidOperation
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Case, Exists, IntegerField, OuterRef, Prefetch, Q, QuerySet, Value, When
from django.http import Http404
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from ai import news2
from ai.models import Alert, AlertEvent, News2Score
from emr.models import CareTeamMember, Encounter, VitalSign
from emr.selectors.access import is_clinician, patients_visible_to
from hospital.core import roles
from hospital.core.models import User
from scheduling.models import Ward, WardAssignment

INCOMPLETE_SHOWN_FOR = timedelta(hours=24)
LIST_LIMIT = 200

SEVERITY_RANKS: dict[str, int] = {Alert.Severity.MEDIUM: 1, Alert.Severity.HIGH: 2, Alert.Severity.CRITICAL: 3}
SEVERITY_RANK = Case(
    When(severity=Alert.Severity.CRITICAL, then=Value(3)),
    When(severity=Alert.Severity.HIGH, then=Value(2)),
    default=Value(1),
    output_field=IntegerField(),
)
STATUS_RANK = Case(
    When(status=Alert.Status.OPEN, then=Value(0)),
    When(status=Alert.Status.ACKNOWLEDGED, then=Value(1)),
    default=Value(2),
    output_field=IntegerField(),
)
# The inbox's status filter: "active" (the default) is what still needs someone; "all" is everything.
STATUS_FILTERS = ("active", "open", "acknowledged", "resolved", "all")


def _today():
    return timezone.localdate()


def _current_assignments(**filters) -> QuerySet[WardAssignment]:
    today = _today()
    return WardAssignment.objects.filter(starts_on__lte=today, **filters).filter(
        Q(ends_on__isnull=True) | Q(ends_on__gte=today)
    )


def may_use_alerts(user) -> bool:
    """Whether `user` has an alert inbox at all (clinicians, bed managers, superusers)."""
    return bool(
        user
        and user.is_authenticated
        and user.is_active
        and user.has_role(roles.DOCTOR, roles.NURSE, roles.BED_MANAGER)
    )


def _scope(user: User) -> Q:
    """The condition, on an Alert or News2Score row, that `user` is among those it is for (see the module)."""
    if not may_use_alerts(user):
        raise PermissionDenied(_("Alerts are for doctors, nurses and bed managers."))
    if user.is_superuser:
        return Q()
    condition = Q(pk__in=[])
    if is_clinician(user):
        wards = _current_assignments(user=user).values("ward_id")
        condition |= Q(ward_id__in=wards) | Q(patient__in=patients_visible_to(user))
    if user.has_role(roles.BED_MANAGER):
        condition |= Q(kind=Alert.Kind.CENSUS)
    return condition


def _news2_scope(user: User) -> Q:
    """The scope of NEWS2 scores: a clinician's wards and patients (bed managers see no vital signs)."""
    if not is_clinician(user):
        return Q(pk__in=[])
    if user.is_superuser:
        return Q()
    wards = _current_assignments(user=user).values("ward_id")
    return Q(ward_id__in=wards) | Q(patient__in=patients_visible_to(user))


@dataclass(frozen=True)
class AlertFilters:
    """The inbox's filters, validated: a status filter (STATUS_FILTERS), a kind, a ward, only mine."""

    status: str = "active"
    kind: str = ""
    ward: Ward | None = None
    mine: bool = False


def alert_filters_parse(*, params: Any) -> AlertFilters:
    """Read `status`, `kind`, `ward` (a ward's external id or code) and `mine` from a query dict.

    ValidationError with field errors for an unknown status, kind or ward; empty values mean no filter.
    """
    errors: dict[str, list[str]] = {}
    status = (params.get("status") or "active").strip()
    if status not in STATUS_FILTERS:
        errors["status"] = [_("Choose one of: %(choices)s.") % {"choices": ", ".join(STATUS_FILTERS)}]
    kind = (params.get("kind") or "").strip()
    if kind and kind not in Alert.Kind.values:
        errors["kind"] = [_("Choose one of: %(choices)s.") % {"choices": ", ".join(Alert.Kind.values)}]
    ward = None
    ward_ref = (params.get("ward") or "").strip()
    if ward_ref:
        try:
            ward = Ward.objects.filter(external_id=uuid.UUID(ward_ref)).first()
        except ValueError:
            ward = Ward.objects.filter(code=ward_ref).first()
        if ward is None:
            errors["ward"] = [_("No such ward.")]
    mine = str(params.get("mine") or "").lower() in ("1", "true", "yes", "on")
    if errors:
        raise ValidationError(errors)
    return AlertFilters(status=status, kind=kind, ward=ward, mine=mine)


def alert_queryset(*, fetched_by: User, filters: AlertFilters | None = None) -> QuerySet[Alert]:
    """The alerts for `fetched_by` matching `filters` (default: the active ones), in inbox order:
    open, then acknowledged, then resolved; most severe first; most recently seen first. Patient, ward and
    the users named on the alert are joined in; the history is prefetched (one more query).
    PermissionDenied for users without an inbox."""
    filters = filters or AlertFilters()
    alerts = Alert.objects.filter(_scope(fetched_by))
    if filters.status == "active":
        alerts = alerts.filter(status__in=Alert.ACTIVE_STATUSES)
    elif filters.status != "all":
        alerts = alerts.filter(status=filters.status)
    if filters.kind:
        alerts = alerts.filter(kind=filters.kind)
    if filters.ward is not None:
        alerts = alerts.filter(ward=filters.ward)
    if filters.mine:
        alerts = alerts.filter(assigned_to=fetched_by)
    return (
        alerts.select_related(
            "patient", "ward", "encounter__attending", "acknowledged_by", "assigned_to", "resolved_by"
        )
        .prefetch_related(Prefetch("events", queryset=AlertEvent.objects.select_related("actor")))
        .order_by(STATUS_RANK, SEVERITY_RANK.desc(), "-last_seen_at", "-id")
    )


def alert_list(*, fetched_by: User, filters: AlertFilters | None = None) -> list[Alert]:
    """`alert_queryset`, at most LIST_LIMIT rows."""
    return list(alert_queryset(fetched_by=fetched_by, filters=filters)[:LIST_LIMIT])


def alert_open_count(*, user) -> int:
    """How many open (not yet acknowledged) alerts are in `user`'s inbox: the menu badge. One COUNT query;
    0 for users without an inbox."""
    if not may_use_alerts(user):
        return 0
    return Alert.objects.filter(_scope(user), status=Alert.Status.OPEN).count()


def alert_get_for_user(*, user: User, external_id: uuid.UUID | str) -> Alert:
    """The alert with this external id if `user` may see it; Http404 otherwise (whether or not it exists),
    PermissionDenied for users without an inbox."""
    alert = (
        Alert.objects.filter(_scope(user), external_id=external_id)
        .select_related("patient", "ward", "encounter__attending", "acknowledged_by", "assigned_to", "resolved_by")
        .prefetch_related(Prefetch("events", queryset=AlertEvent.objects.select_related("actor")))
        .first()
    )
    if alert is None:
        raise Http404(_("No such alert."))
    return alert


def alert_visible_to(*, user: User, alert: Alert) -> bool:
    """Whether `alert` is in `user`'s inbox (False for users without one). One query."""
    if not may_use_alerts(user):
        return False
    return Alert.objects.filter(_scope(user), pk=alert.pk).exists()


def alert_assignable_users(*, alert: Alert) -> QuerySet[User]:
    """The clinicians an alert may be assigned to: active doctors and nurses with a current assignment to the
    alert's ward, and the attending and care team of the alert's encounter. Ordered by name."""
    condition = Q(pk__in=[])
    if alert.ward_id is not None:
        condition |= Q(Exists(_current_assignments(ward_id=alert.ward_id, user=OuterRef("pk"))))
    if alert.encounter_id is not None:
        condition |= Q(Exists(Encounter.objects.filter(pk=alert.encounter_id, attending=OuterRef("pk"))))
        condition |= Q(Exists(CareTeamMember.objects.filter(encounter_id=alert.encounter_id, user=OuterRef("pk"))))
    return (
        User.objects.filter(condition, is_active=True)
        .filter(Q(is_superuser=True) | Q(groups__name__in=[roles.DOCTOR, roles.NURSE]))
        .distinct()
        .order_by("display_name", "username")
    )


def ward_clinicians(*, ward_ids: list[int]) -> dict[int, list[tuple[User, str]]]:
    """The doctors and nurses assigned to each ward today, as (user, assignment role), doctors first; one query.
    What the inbox offers for assignment and names as the recipients of an escalation."""
    rows = (
        _current_assignments(ward_id__in=ward_ids, role__in=[WardAssignment.Role.DOCTOR, WardAssignment.Role.NURSE])
        .filter(user__is_active=True)
        .select_related("user")
        .order_by("ward_id", "role", "user__display_name", "user__username")
    )
    staff: dict[int, list[tuple[User, str]]] = defaultdict(list)
    for row in rows:
        if all(user.pk != row.user_id for user, _role in staff[row.ward_id]):
            staff[row.ward_id].append((row.user, row.role))
    return dict(staff)


def alert_filter_wards(*, user: User) -> list[Ward]:
    """The wards the inbox's filter offers: a clinician's wards today; every ward for bed managers and
    superusers (their inbox spans all wards)."""
    if user.is_superuser or not is_clinician(user):
        return list(Ward.objects.order_by("code"))
    return list(Ward.objects.filter(pk__in=_current_assignments(user=user).values("ward_id")).order_by("code"))


def news2_incomplete_list(*, fetched_by: User) -> list[News2Score]:
    """Vital-sign sets of the last 24 hours that could not be scored because a NEWS2 parameter is missing,
    newest first, for the clinicians they are for (one query; none for bed managers)."""
    since = timezone.now() - INCOMPLETE_SHOWN_FOR
    scores = (
        News2Score.objects.filter(_news2_scope(fetched_by), complete=False, taken_at__gte=since)
        .select_related("patient", "ward")
        .order_by("-taken_at", "-id")
    )
    return list(scores[:LIST_LIMIT])


# --- words ------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Escalation:
    """Whom a NEWS2 alert goes to and what they do, per the RCP 2017 chart 3 (clinical response)."""

    level: str  # a stable key, also stored in the alert's detail
    label: Any
    recipients: tuple[str, ...]  # keys of RECIPIENT_LABELS
    action: Any


RECIPIENT_LABELS = {
    "ward_nurses": gettext_lazy("the ward's registered nurses"),
    "ward_doctors": gettext_lazy("the medical team caring for the patient (the ward's doctors)"),
    "critical_care_outreach": gettext_lazy("the critical care outreach team"),
    "critical_care_team": gettext_lazy("a team with critical care competencies, including airway management"),
}

NEWS2_ESCALATIONS: dict[str, Escalation] = {
    news2.RISK_LOW_MEDIUM: Escalation(
        "urgent_ward_review",
        gettext_lazy("Urgent ward-based review"),
        ("ward_nurses", "ward_doctors"),
        gettext_lazy("A registered nurse informs the medical team, who review the patient urgently."),
    ),
    news2.RISK_MEDIUM: Escalation(
        "urgent_response",
        gettext_lazy("Urgent response"),
        ("ward_nurses", "ward_doctors", "critical_care_outreach"),
        gettext_lazy(
            "A registered nurse immediately informs the medical team; urgent assessment by a clinician "
            "competent in acute illness."
        ),
    ),
    news2.RISK_HIGH: Escalation(
        "emergency_response",
        gettext_lazy("Emergency response"),
        ("ward_nurses", "ward_doctors", "critical_care_team"),
        gettext_lazy(
            "A registered nurse immediately informs the medical team (at least a specialist registrar); "
            "emergency assessment; consider transfer to a higher level of care."
        ),
    ),
}


def news2_escalation(risk: str | None) -> Escalation | None:
    """The escalation of a NEWS2 clinical risk (None for a low score, which raises no alert)."""
    return NEWS2_ESCALATIONS.get(risk or "")


def _measurement_label(code: str, fallback: str = "") -> str:
    if code in VitalSign.values:
        return str(VitalSign(code).label)
    return fallback or code


def _number(text: Any) -> str:
    # Values are stored as text ("85", "37.8"); shown as they are, or rounded to one decimal when long.
    try:
        value = Decimal(str(text))
    except (InvalidOperation, ValueError):
        return str(text or "")
    if value == value.to_integral_value():
        return f"{value.quantize(Decimal('1')):f}"
    return f"{value.quantize(Decimal('0.1')).normalize():f}"


def _local_minute(text: Any) -> str:
    moment = parse_datetime(str(text or ""))
    if moment is None:
        return ""
    return timezone.localtime(moment).strftime("%Y-%m-%d %H:%M") if timezone.is_aware(moment) else str(text)


def alert_title(*, kind: str, detail: dict[str, Any]) -> str:
    """The alert's headline in the active language, from its kind and detail."""
    if kind == Alert.Kind.NEWS2:
        total = detail.get("total")
        risk = detail.get("risk")
        if risk == news2.RISK_LOW_MEDIUM:
            return _("NEWS2 %(total)s with a 3 in one parameter: urgent ward-based response") % {"total": total}
        if risk == news2.RISK_MEDIUM:
            return _("NEWS2 %(total)s: key threshold for an urgent response") % {"total": total}
        return _("NEWS2 %(total)s: emergency response") % {"total": total}
    if kind == Alert.Kind.CONFLICTING_DATA:
        readings = detail.get("readings") or [{}, {}]
        return (
            _("Conflicting %(measurement)s: %(first)s and %(second)s %(unit)s")
            % {
                "measurement": _measurement_label(detail.get("code", ""), detail.get("display", "")),
                "first": readings[0].get("value", ""),
                "second": readings[-1].get("value", ""),
                "unit": detail.get("unit_label", ""),
            }
        ).strip()
    if kind == Alert.Kind.CENSUS:
        values = {
            "ward": detail.get("ward", ""),
            "census": detail.get("census"),
            "low": _number(detail.get("q025")),
            "high": _number(detail.get("q975")),
            "day": detail.get("day", ""),
        }
        if detail.get("direction") == "below":
            return (
                _("%(ward)s census %(census)s on %(day)s below the forecast's 95%% interval (%(low)s-%(high)s)")
                % values
            )
        return _("%(ward)s census %(census)s on %(day)s above the forecast's 95%% interval (%(low)s-%(high)s)") % values
    if kind == Alert.Kind.VITAL_DRIFT:
        values = {
            "vital": _measurement_label(detail.get("code", "")),
            "value": _number(detail.get("latest")),
            "baseline": _number(detail.get("baseline")),
            "unit": detail.get("unit_label", ""),
        }
        if detail.get("direction") == "down":
            return (_("%(vital)s drifting down: %(value)s from a baseline of %(baseline)s %(unit)s") % values).strip()
        return (_("%(vital)s drifting up: %(value)s from a baseline of %(baseline)s %(unit)s") % values).strip()
    values = {"test": detail.get("test", ""), "value": detail.get("value", ""), "unit": detail.get("unit", "")}
    if detail.get("flag") == "LL":
        return (_("Critically low %(test)s: %(value)s %(unit)s") % values).strip()
    return (_("Critically high %(test)s: %(value)s %(unit)s") % values).strip()


def alert_summary(*, kind: str, detail: dict[str, Any]) -> str:
    """One sentence under the title, in the active language: what the alert asks of its reader."""
    if kind == Alert.Kind.NEWS2:
        escalation = news2_escalation(detail.get("risk"))
        if escalation is None:
            return ""
        recipients = [str(RECIPIENT_LABELS[key]) for key in escalation.recipients]
        return _("%(level)s. Goes to %(recipients)s. %(action)s") % {
            "level": escalation.label,
            "recipients": _(", ").join(recipients),
            "action": escalation.action,
        }
    if kind == Alert.Kind.CONFLICTING_DATA:
        return _(
            "Two sources recorded the same measurement within %(minutes)s minutes and disagree by more than "
            "%(tolerance)s. Choose the reading that is right and give the reason."
        ) % {"minutes": detail.get("window_minutes", ""), "tolerance": detail.get("tolerance_label", "")}
    if kind == Alert.Kind.CENSUS:
        return _(
            "The midnight census is outside the 95%% interval of the bed-demand forecast (mean %(mean)s). "
            "Check the ward's beds and staffing, and whether the forecast still fits."
        ) % {"mean": _number(detail.get("mean"))}
    if kind == Alert.Kind.VITAL_DRIFT:
        return _(
            "A sustained change over %(count)s readings since %(since)s, not a single reading: review the "
            "trend and the patient."
        ) % {"count": detail.get("readings_in_run", ""), "since": _local_minute(detail.get("onset_at"))}
    limit = detail.get("limit")
    if limit:
        return _("Beyond the critical limit of %(limit)s %(unit)s: inform the responsible doctor now.") % {
            "limit": limit,
            "unit": detail.get("unit", ""),
        }
    return _("Flagged critical by the laboratory: inform the responsible doctor now.")
