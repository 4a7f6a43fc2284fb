"""Reads of the alerts, scoped to the clinician asking.

A doctor or nurse sees the alerts of the wards they are assigned to today (scheduling WardAssignment)
and of the patients they treat (emr.selectors.access.patients_visible_to); superusers see all; other
roles none. Each selector is one query; the caller writes the access-log entry.
"""

import uuid
from datetime import timedelta
from typing import Any

from django.core.exceptions import PermissionDenied
from django.db.models import Case, IntegerField, Q, Value, When
from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext as _

from ai import news2
from ai.models import Alert, News2Score
from emr.selectors.access import is_clinician, patients_visible_to
from hospital.core.models import User
from scheduling.models import WardAssignment

# Acknowledged alerts stay on the page this long, so the next shift sees what was taken care of.
ACKNOWLEDGED_SHOWN_FOR = timedelta(hours=12)
INCOMPLETE_SHOWN_FOR = timedelta(hours=24)
LIST_LIMIT = 200

SEVERITY_RANK = Case(
    When(severity=Alert.Severity.CRITICAL, then=Value(3)),
    When(severity=Alert.Severity.HIGH, then=Value(2)),
    default=Value(1),
    output_field=IntegerField(),
)
STATUS_RANK = Case(When(status=Alert.Status.OPEN, then=Value(0)), default=Value(1), output_field=IntegerField())


def _scope(user: User) -> Q:
    """The condition, on an Alert or News2Score row, that `user` is among the clinicians it is for."""
    if not is_clinician(user):
        raise PermissionDenied(_("Alerts are for doctors and nurses."))
    if user.is_superuser:
        return Q()
    today = timezone.localdate()
    wards = (
        WardAssignment.objects.filter(user=user, starts_on__lte=today)
        .filter(Q(ends_on__isnull=True) | Q(ends_on__gte=today))
        .values("ward_id")
    )
    return Q(ward_id__in=wards) | Q(patient__in=patients_visible_to(user))


def alert_list(*, fetched_by: User) -> list[Alert]:
    """The alerts for `fetched_by`: every open one, then those acknowledged in the last 12 hours.

    Open before acknowledged, then most severe first, then newest first; patient, ward and the
    acknowledging user are joined in (one query). PermissionDenied for users who are not clinicians.
    """
    recent = timezone.now() - ACKNOWLEDGED_SHOWN_FOR
    alerts = (
        Alert.objects.filter(_scope(fetched_by))
        .filter(Q(status=Alert.Status.OPEN) | Q(status=Alert.Status.ACKNOWLEDGED, acknowledged_at__gte=recent))
        .select_related("patient", "ward", "acknowledged_by")
        .order_by(STATUS_RANK, SEVERITY_RANK.desc(), "-created_at", "-id")
    )
    return list(alerts[:LIST_LIMIT])


def alert_get_for_user(*, user: User, external_id: uuid.UUID | str) -> Alert:
    """The alert with this external id if `user` may see it; Http404 otherwise (whether or not it exists),
    PermissionDenied for users who are not clinicians."""
    alert = Alert.objects.filter(_scope(user), external_id=external_id).select_related("patient").first()
    if alert is None:
        raise Http404(_("No such alert."))
    return alert


def news2_incomplete_list(*, fetched_by: User) -> list[News2Score]:
    """Vital-sign sets of the last 24 hours that could not be scored because a NEWS2 parameter is missing,
    newest first, for the clinicians they are for (the same scope as `alert_list`; one query)."""
    since = timezone.now() - INCOMPLETE_SHOWN_FOR
    scores = (
        News2Score.objects.filter(_scope(fetched_by), complete=False, taken_at__gte=since)
        .select_related("patient", "ward")
        .order_by("-taken_at", "-id")
    )
    return list(scores[:LIST_LIMIT])


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
    values = {"test": detail.get("test", ""), "value": detail.get("value", ""), "unit": detail.get("unit", "")}
    if detail.get("flag") == "LL":
        return (_("Critically low %(test)s: %(value)s %(unit)s") % values).strip()
    return (_("Critically high %(test)s: %(value)s %(unit)s") % values).strip()
