"""The alert inbox: the alerts of the user's wards and patients with what each one needs, filters, acknowledge,
assign and resolve, refreshed by htmx; and the count badge of the menu."""

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpResponse, QueryDict
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_POST

from ai import news2
from ai.models import Alert, AlertEvent, News2Score
from ai.selectors import (
    RECIPIENT_LABELS,
    STATUS_FILTERS,
    AlertFilters,
    alert_filter_wards,
    alert_filters_parse,
    alert_get_for_user,
    alert_list,
    alert_open_count,
    alert_summary,
    alert_title,
    may_use_alerts,
    news2_escalation,
    news2_incomplete_list,
    ward_clinicians,
)
from ai.services import alert_acknowledge, alert_assign, alert_resolve
from emr.models import Observation, VitalSign
from hospital.core.models import User
from hospital.core.services.access_log import access_log_record
from scheduling.models import WardAssignment

REFRESH_SECONDS = 30
FILTER_KEYS = ("status", "kind", "ward", "mine")


@dataclass(frozen=True)
class Parameter:
    """One NEWS2 parameter as a row of the page: its name, the reading (or None when missing) and its points."""

    code: str
    label: str
    value: str | None
    score: int | None


def _reading(code: str, value: str) -> str:
    if code == news2.SUPPLEMENTAL_OXYGEN:
        return _("Oxygen") if value == "yes" else _("Air")
    return value


def _parameters(parameter_scores: dict[str, Any]) -> list[Parameter]:
    rows = []
    for code in news2.PARAMETERS:
        entry = parameter_scores.get(code)
        label = _("Air or oxygen") if code == news2.SUPPLEMENTAL_OXYGEN else str(VitalSign(code).label)
        if entry is None:
            rows.append(Parameter(code, label, None, None))
        else:
            rows.append(Parameter(code, label, _reading(code, entry.get("value", "")), entry.get("score")))
    return rows


@dataclass(frozen=True)
class ConflictReading:
    """One of the two readings of a conflicting-data alert, as a column of the side-by-side table."""

    observation: str
    value: str
    taken_at: datetime | None
    source: str
    recorded_by: str
    accepted: bool | None  # None until the alert is resolved


def _conflict_readings(alert: Alert) -> list[ConflictReading]:
    detail = alert.detail or {}
    accepted = ((alert.resolution or {}).get("accepted") or {}).get("observation")
    rows = []
    for reading in detail.get("readings") or []:
        source = reading.get("source", "")
        rows.append(
            ConflictReading(
                observation=reading.get("observation", ""),
                value=f"{reading.get('value', '')} {detail.get('unit_label', '')}".strip(),
                taken_at=parse_datetime(reading.get("taken_at") or ""),
                source=str(Observation.Source(source).label) if source in Observation.Source.values else source,
                recorded_by=reading.get("recorded_by_name") or reading.get("recorded_by", ""),
                accepted=(reading.get("observation") == accepted) if accepted else None,
            )
        )
    return rows


@dataclass(frozen=True)
class HistoryRow:
    event: AlertEvent
    text: str


def _history_text(event: AlertEvent) -> str:
    detail = event.detail or {}
    if event.action == AlertEvent.Action.ASSIGNED:
        return _("assigned to %(user)s") % {"user": detail.get("assignee", "")}
    if event.action == AlertEvent.Action.ESCALATED:
        return _("escalated from %(before)s to %(after)s") % {
            "before": Alert.Severity(detail.get("from_severity", "medium")).label,
            "after": Alert.Severity(event.severity).label,
        }
    return str(event.get_action_display())


@dataclass(frozen=True)
class AlertRow:
    """An alert with what the page shows, in the active language."""

    alert: Alert
    title: str
    summary: str
    taken_at: datetime | None
    parameters: list[Parameter]
    response: str
    monitoring: str
    recipients: list[str]
    escalation_label: str
    conflict: list[ConflictReading]
    latest_title: str
    assignees: list[User]
    history: list[HistoryRow]


def _recipient_names(alert: Alert, staff: dict[int, list[tuple[User, str]]]) -> list[str]:
    """The people a NEWS2 escalation goes to: the ward's nurses and doctors today and the attending."""
    names = []
    for user, role in staff.get(alert.ward_id or 0, []):
        label = _("nurse") if role == WardAssignment.Role.NURSE else _("doctor")
        names.append(f"{user} ({label})")
    attending = alert.encounter.attending if alert.encounter is not None else None
    if attending is not None and all(attending.pk != user.pk for user, _role in staff.get(alert.ward_id or 0, [])):
        label = _("attending doctor")
        names.append(f"{attending} ({label})")
    return names


def _assignees(alert: Alert, staff: dict[int, list[tuple[User, str]]]) -> list[User]:
    users = [user for user, _role in staff.get(alert.ward_id or 0, [])]
    attending = alert.encounter.attending if alert.encounter is not None else None
    if attending is not None and all(attending.pk != user.pk for user in users):
        users.append(attending)
    return users


def _alert_row(alert: Alert, staff: dict[int, list[tuple[User, str]]]) -> AlertRow:
    detail = alert.detail or {}
    taken_at = parse_datetime(detail.get("taken_at") or "")
    parameters: list[Parameter] = []
    response = monitoring = ""
    recipients: list[str] = []
    escalation_label = ""
    if alert.kind == Alert.Kind.NEWS2:
        parameters = _parameters(detail.get("parameters") or {})
        advice = news2.RESPONSES.get(detail.get("risk") or "")
        if advice is not None:
            response, monitoring = str(advice.response), str(advice.monitoring)
        escalation = news2_escalation(detail.get("risk"))
        if escalation is not None:
            escalation_label = str(escalation.label)
            recipients = [str(RECIPIENT_LABELS[key]) for key in escalation.recipients]
        recipients += _recipient_names(alert, staff)
    latest = detail.get("latest")
    return AlertRow(
        alert=alert,
        title=alert_title(kind=alert.kind, detail=detail),
        summary=alert_summary(kind=alert.kind, detail=detail),
        taken_at=taken_at,
        parameters=parameters,
        response=response,
        monitoring=monitoring,
        recipients=recipients,
        escalation_label=escalation_label,
        conflict=_conflict_readings(alert) if alert.kind == Alert.Kind.CONFLICTING_DATA else [],
        latest_title=alert_title(kind=alert.kind, detail=latest) if isinstance(latest, dict) else "",
        assignees=_assignees(alert, staff) if alert.status != Alert.Status.RESOLVED else [],
        history=[HistoryRow(event, _history_text(event)) for event in alert.events.all()],
    )


@dataclass(frozen=True)
class IncompleteRow:
    score: News2Score
    parameters: list[Parameter]
    missing: list[str]


def _incomplete_row(score: News2Score) -> IncompleteRow:
    parameters = _parameters(score.parameter_scores or {})
    missing = [parameter.label for parameter in parameters if parameter.value is None]
    return IncompleteRow(score, parameters, missing)


def _filter_query(params: QueryDict) -> str:
    """The inbox's filters of `params` as a query string (other keys dropped), to come back to after a POST."""
    kept = QueryDict(mutable=True)
    for key in FILTER_KEYS:
        value = (params.get(key) or "").strip()
        if value:
            kept[key] = value
    return kept.urlencode()


def _inbox_url(query: str) -> str:
    url = reverse("ai:alerts")
    return f"{url}?{query}" if query else url


@login_required
@require_GET
def alerts_page(request):
    """The alert inbox of the user's wards and patients (PermissionDenied for roles without one): open alerts
    first, most severe and most recently seen first, filtered by status, kind, ward and "assigned to me",
    and the vital-sign sets that could not be scored. Under htmx only the list is rendered (every 30
    seconds). One "read" access-log entry."""
    if not may_use_alerts(request.user):
        raise PermissionDenied(_("Alerts are for doctors, nurses and bed managers."))
    try:
        filters = alert_filters_parse(params=request.GET)
        filter_errors: dict[str, list[str]] = {}
    except ValidationError as exc:
        filters, filter_errors = AlertFilters(), exc.message_dict
    alerts = alert_list(fetched_by=request.user, filters=filters)
    staff = ward_clinicians(ward_ids=sorted({alert.ward_id for alert in alerts if alert.ward_id is not None}))
    rows = [_alert_row(alert, staff) for alert in alerts]
    incomplete = [_incomplete_row(score) for score in news2_incomplete_list(fetched_by=request.user)]
    open_count = sum(1 for row in rows if row.alert.status == Alert.Status.OPEN)
    access_log_record(
        actor=request.user,
        action="read",
        object_type="ai.alert",
        detail={
            "alerts": len(rows),
            "open": open_count,
            "incomplete_news2": len(incomplete),
            "filters": {"status": filters.status, "kind": filters.kind, "mine": filters.mine},
        },
    )
    query = _filter_query(request.GET)
    context = {
        "alerts": rows,
        "open_count": open_count,
        "incomplete": incomplete,
        "refresh_seconds": REFRESH_SECONDS,
        "filters": filters,
        "filter_errors": filter_errors,
        "status_choices": [(value, _status_filter_label(value)) for value in STATUS_FILTERS],
        "kind_choices": Alert.Kind.choices,
        "wards": alert_filter_wards(user=request.user),
        "query": query,
        "list_url": _inbox_url(query),
    }
    if request.htmx:
        response = render(request, "ai/alerts_list.html", context)
        response["HX-Trigger"] = "badge-refresh"  # the menu's count follows the refreshed list
        return response
    return render(request, "ai/alerts.html", context)


def _status_filter_label(value: str) -> str:
    labels = {
        "active": _("Open and acknowledged"),
        "open": _("Open"),
        "acknowledged": _("Acknowledged"),
        "resolved": _("Resolved"),
        "all": _("All"),
    }
    return labels[value]


def _back(request):
    return redirect(_inbox_url(_filter_query(QueryDict(request.POST.get("query", "")))))


@login_required
@require_POST
def alert_acknowledge_submit(request, external_id):
    """Acknowledge one alert the user may see (404 otherwise) and go back to the inbox."""
    alert = alert_get_for_user(user=request.user, external_id=external_id)
    was_open = alert.status == Alert.Status.OPEN
    try:
        alert = alert_acknowledge(alert=alert, user=request.user)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        if was_open and alert.acknowledged_by_id == request.user.pk:
            messages.success(request, _("Alert acknowledged."))
        else:
            messages.info(
                request,
                _("%(user)s had already acknowledged this alert.") % {"user": alert.acknowledged_by},
            )
    return _back(request)


@login_required
@require_POST
def alert_assign_submit(request, external_id):
    """Assign one alert the user may see (404 otherwise) to a clinician of its ward, named by external id."""
    alert = alert_get_for_user(user=request.user, external_id=external_id)
    assignee = User.objects.filter(external_id=_uuid_or_none(request.POST.get("assignee"))).first()
    try:
        if assignee is None:
            raise ValidationError({"assignee": [_("Choose whom to assign the alert to.")]})
        alert = alert_assign(alert=alert, user=request.user, assignee=assignee, note=request.POST.get("note", ""))
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(request, _("Alert assigned to %(user)s.") % {"user": alert.assigned_to})
    return _back(request)


@login_required
@require_POST
def alert_resolve_submit(request, external_id):
    """Resolve one alert the user may see (404 otherwise) with a note (and for conflicting data, the reading
    that is right)."""
    alert = alert_get_for_user(user=request.user, external_id=external_id)
    try:
        alert_resolve(
            alert=alert,
            user=request.user,
            note=request.POST.get("note", ""),
            accepted=request.POST.get("accepted") or None,
        )
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(request, _("Alert resolved."))
    return _back(request)


def _uuid_or_none(value: str | None) -> uuid.UUID | None:
    try:
        return uuid.UUID(str(value))
    except ValueError:
        return None


@never_cache
@require_GET
def alert_badge(request):
    """The menu's count of open alerts in the user's inbox, as a small fragment (empty when there are none or
    the user has no inbox). Counts only, no patient data: not access-logged."""
    if not request.user.is_authenticated:
        return HttpResponse("", status=204)
    count = alert_open_count(user=request.user)
    return render(request, "ai/alert_badge.html", {"count": count})
