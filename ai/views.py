"""The alerts page: open alerts for the clinician's wards and patients, with the NEWS2 parameters, refreshed by htmx."""

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.shortcuts import redirect, render
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from ai import news2
from ai.models import Alert, News2Score
from ai.selectors import alert_get_for_user, alert_list, alert_title, news2_incomplete_list
from ai.services import alert_acknowledge
from emr.models import VitalSign
from hospital.core.services.access_log import access_log_record

REFRESH_SECONDS = 30


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
class AlertRow:
    """An alert with what the page shows, in the active language."""

    alert: Alert
    title: str
    taken_at: datetime | None
    parameters: list[Parameter]
    response: str
    monitoring: str


def _alert_row(alert: Alert) -> AlertRow:
    detail = alert.detail or {}
    taken_at = parse_datetime(detail.get("taken_at") or "")
    parameters, response, monitoring = [], "", ""
    if alert.kind == Alert.Kind.NEWS2:
        parameters = _parameters(detail.get("parameters") or {})
        advice = news2.RESPONSES.get(detail.get("risk") or "")
        if advice is not None:
            response, monitoring = str(advice.response), str(advice.monitoring)
    return AlertRow(alert, alert_title(kind=alert.kind, detail=detail), taken_at, parameters, response, monitoring)


@dataclass(frozen=True)
class IncompleteRow:
    score: News2Score
    parameters: list[Parameter]
    missing: list[str]


def _incomplete_row(score: News2Score) -> IncompleteRow:
    parameters = _parameters(score.parameter_scores or {})
    missing = [parameter.label for parameter in parameters if parameter.value is None]
    return IncompleteRow(score, parameters, missing)


@login_required
@require_GET
def alerts_page(request):
    """Open alerts of the wards the user is assigned to and of the patients they treat (PermissionDenied
    for non-clinicians), most severe and newest first, and the vital-sign sets that could not be scored.
    Under htmx only the list is rendered (every 30 seconds). One "read" access-log entry."""
    alerts = [_alert_row(alert) for alert in alert_list(fetched_by=request.user)]
    incomplete = [_incomplete_row(score) for score in news2_incomplete_list(fetched_by=request.user)]
    access_log_record(
        actor=request.user,
        action="read",
        object_type="ai.alert",
        detail={
            "alerts": len(alerts),
            "open": sum(1 for row in alerts if row.alert.status == Alert.Status.OPEN),
            "incomplete_news2": len(incomplete),
        },
    )
    context = {
        "alerts": alerts,
        "open_count": sum(1 for row in alerts if row.alert.status == Alert.Status.OPEN),
        "incomplete": incomplete,
        "refresh_seconds": REFRESH_SECONDS,
    }
    template = "ai/alerts_list.html" if request.htmx else "ai/alerts.html"
    return render(request, template, context)


@login_required
@require_POST
def alert_acknowledge_submit(request, external_id):
    """Acknowledge one alert the user may see (404 otherwise) and go back to the alerts page."""
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
    return redirect("ai:alerts")
