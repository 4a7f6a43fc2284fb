"""One alert per condition: repeats merged while open and within the window after resolution, escalations never
suppressed, redelivered data never counted twice, every change in the alert's history."""

import uuid
from datetime import timedelta
from decimal import Decimal
from types import SimpleNamespace

import pytest
from django.db import IntegrityError, transaction
from django.utils import timezone

from ai.models import Alert, AlertEvent
from ai.services import alert_acknowledge, alert_raise, alert_resolve, news2_evaluate, raising
from tests.ai.support import record_vitals, ward_with_inpatient

pytestmark = pytest.mark.django_db

KEY = "test:condition"


@pytest.fixture
def inpatient(db):
    ward, doctor, nurse, patient, encounter = ward_with_inpatient()
    return SimpleNamespace(ward=ward, doctor=doctor, nurse=nurse, patient=patient, encounter=encounter)


def _raise(inpatient, severity="medium", *, source=None, key=KEY, total=3):
    return alert_raise(
        kind=Alert.Kind.NEWS2,
        dedup_key=key,
        source_id=source or uuid.uuid4(),
        severity=severity,
        detail={"total": total, "risk": {"medium": "low_medium", "high": "medium", "critical": "high"}[severity]},
        patient_id=inpatient.patient.pk,
        encounter=inpatient.encounter,
        ward_id=inpatient.ward.pk,
    )


def _frozen(monkeypatch, now):
    monkeypatch.setattr(raising, "timezone", SimpleNamespace(now=lambda: now))


def test_a_new_condition_raises_an_alert_with_its_first_event(inpatient):
    outcome = _raise(inpatient)

    alert = outcome.alert
    assert outcome.outcome == "raised"
    assert (alert.occurrences, alert.status, alert.dedup_key) == (1, "open", KEY)
    assert alert.first_seen_at == alert.last_seen_at
    event = AlertEvent.objects.get()
    assert (event.action, event.actor, event.from_status, event.to_status, event.source_id) == (
        "raised",
        None,
        "",
        "open",
        alert.source_id,
    )


def test_a_repeat_while_open_is_merged_not_raised_again(inpatient):
    first = _raise(inpatient).alert

    second = _raise(inpatient, total=4)

    assert second.outcome == "repeated" and second.alert.pk == first.pk
    assert Alert.objects.count() == 1
    first.refresh_from_db()
    assert first.occurrences == 2 and first.last_seen_at >= first.first_seen_at
    assert first.detail["latest"]["total"] == 4 and first.detail["total"] == 3
    assert list(first.events.values_list("action", "from_status", "to_status")) == [
        ("raised", "", "open"),
        ("repeated", "open", "open"),
    ]


def test_a_repeat_while_acknowledged_is_merged_and_keeps_the_acknowledgement(inpatient):
    alert = _raise(inpatient).alert
    alert_acknowledge(alert=alert, user=inpatient.nurse)

    outcome = _raise(inpatient)

    alert.refresh_from_db()
    assert outcome.outcome == "repeated"
    assert (alert.status, alert.acknowledged_by, alert.occurrences) == ("acknowledged", inpatient.nurse, 2)


def test_the_same_data_delivered_twice_counts_once(inpatient):
    source = uuid.uuid4()
    first = _raise(inpatient).alert
    _raise(inpatient, source=source)

    again = _raise(inpatient, source=source)

    assert again.outcome == "unchanged" and again.alert.pk == first.pk
    first.refresh_from_db()
    assert first.occurrences == 2
    assert _raise(inpatient, source=first.source_id).outcome == "unchanged"


@pytest.mark.parametrize(
    ("resolved_minutes_ago", "merged"),
    [
        (timedelta(minutes=59), True),
        (timedelta(minutes=60), True),  # the window's end is included
        (timedelta(minutes=60, microseconds=1), False),
        (timedelta(hours=5), False),
    ],
    ids=["59min", "60min", "just-after-60min", "5h"],
)
def test_after_resolution_a_repeat_is_suppressed_only_within_the_window(
    inpatient, settings, monkeypatch, resolved_minutes_ago, merged
):
    settings.ALERT_REPEAT_WINDOW_MINUTES = 60
    alert = _raise(inpatient).alert
    alert_resolve(alert=alert, user=inpatient.nurse, note="Reviewed; expected after surgery.")
    now = timezone.now()
    Alert.objects.filter(pk=alert.pk).update(resolved_at=now - resolved_minutes_ago)
    _frozen(monkeypatch, now)

    outcome = _raise(inpatient)

    alert.refresh_from_db()
    if merged:
        assert outcome.outcome == "repeated" and outcome.alert.pk == alert.pk
        assert (alert.status, alert.occurrences) == ("resolved", 2)  # stays resolved: nobody is alerted again
        assert Alert.objects.count() == 1
    else:
        assert outcome.outcome == "raised" and outcome.alert.pk != alert.pk
        assert outcome.alert.status == "open" and alert.occurrences == 1
        assert Alert.objects.count() == 2


def test_the_window_comes_from_the_setting(inpatient, settings):
    settings.ALERT_REPEAT_WINDOW_MINUTES = 5
    alert = _raise(inpatient).alert
    alert_resolve(alert=alert, user=inpatient.nurse, note="Checked.")
    Alert.objects.filter(pk=alert.pk).update(resolved_at=timezone.now() - timedelta(minutes=10))

    assert _raise(inpatient).outcome == "raised"


def test_an_escalation_of_an_open_alert_is_never_suppressed(inpatient):
    alert = _raise(inpatient, "medium").alert

    outcome = _raise(inpatient, "critical", total=8)

    alert.refresh_from_db()
    assert outcome.outcome == "escalated" and outcome.alert.pk == alert.pk
    assert (alert.severity, alert.status, alert.occurrences, alert.detail["total"]) == ("critical", "open", 2, 8)
    assert alert.title == "NEWS2 8: emergency response"
    event = alert.events.get(action="escalated")
    assert (event.severity, event.detail["from_severity"]) == ("critical", "medium")


def test_an_escalation_reopens_an_acknowledged_alert(inpatient):
    alert = _raise(inpatient, "high", total=5).alert
    alert_acknowledge(alert=alert, user=inpatient.nurse)

    _raise(inpatient, "critical", total=7)

    alert.refresh_from_db()
    assert (alert.status, alert.severity, alert.acknowledged_by) == ("open", "critical", None)
    event = alert.events.get(action="escalated")
    assert (event.from_status, event.to_status) == ("acknowledged", "open")


def test_an_escalation_after_resolution_raises_a_new_alert_even_within_the_window(inpatient):
    alert = _raise(inpatient, "medium").alert
    alert_resolve(alert=alert, user=inpatient.nurse, note="Reviewed.")

    outcome = _raise(inpatient, "critical", total=9)

    assert outcome.outcome == "raised" and outcome.alert.pk != alert.pk
    assert (outcome.alert.severity, outcome.alert.status) == ("critical", "open")
    assert outcome.alert.events.get().detail == {"after": str(alert.external_id)}


def test_a_lower_severity_repeat_keeps_the_higher_severity(inpatient):
    alert = _raise(inpatient, "critical", total=7).alert

    outcome = _raise(inpatient, "medium")

    alert.refresh_from_db()
    assert outcome.outcome == "repeated"
    assert (alert.severity, alert.occurrences) == ("critical", 2)


def test_other_conditions_are_not_merged(inpatient):
    first = _raise(inpatient, key="a").alert

    second = _raise(inpatient, key="b").alert

    assert first.pk != second.pk


def test_the_database_allows_one_active_alert_per_condition(inpatient):
    alert = _raise(inpatient).alert

    with pytest.raises(IntegrityError), transaction.atomic():
        Alert.objects.create(
            kind=alert.kind,
            patient=alert.patient,
            severity="medium",
            title="twin",
            source_id=uuid.uuid4(),
            dedup_key=alert.dedup_key,
            first_seen_at=alert.first_seen_at,
            last_seen_at=alert.last_seen_at,
        )


def test_a_race_to_raise_the_same_condition_ends_in_one_alert(inpatient, monkeypatch):
    # Another evaluation committed the alert between this one's look-up and its insert.
    other = _raise(inpatient).alert
    calls = []
    real = raising._mergeable

    def stale_then_real(key, now):
        calls.append(key)
        return None if len(calls) == 1 else real(key, now)

    monkeypatch.setattr(raising, "_mergeable", stale_then_real)

    outcome = _raise(inpatient)

    assert outcome.outcome == "repeated" and outcome.alert.pk == other.pk
    assert Alert.objects.count() == 1 and len(calls) == 2


def test_news2_sets_of_one_patient_share_one_alert_and_escalate_it(inpatient):
    def vitals(**changes):
        return news2_evaluate(
            set_id=record_vitals(inpatient.patient, inpatient.nurse, encounter=inpatient.encounter, **changes)
        )

    vitals(consciousness="C")  # 3 in one parameter: medium alert
    vitals(consciousness="C")  # the same again: merged
    vitals(respiratory_rate=25, temperature=Decimal("39.1"))  # 5: escalates to high

    alert = Alert.objects.get()
    assert (alert.severity, alert.occurrences, alert.detail["total"]) == ("high", 3, 5)
    assert list(alert.events.values_list("action", flat=True)) == ["raised", "repeated", "escalated"]
