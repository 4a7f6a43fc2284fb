"""NEWS2 evaluation, critical laboratory alerts, acknowledgement and SpO2 scale 2 orders."""

import uuid
from datetime import timedelta
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from ai.models import Alert, News2Score, Spo2Scale2Order
from ai.services import alert_acknowledge, alert_resolve, critical_lab_evaluate, news2_evaluate, spo2_scale2_order
from emr.services.observations import lab_result_record
from hospital.core.models import AccessLog
from tests.ai.support import record_vitals, ward_with_inpatient
from tests.emr.test_access_support import make_user

pytestmark = pytest.mark.django_db


@pytest.fixture
def inpatient(db):
    ward, doctor, nurse, patient, encounter = ward_with_inpatient()
    return {"ward": ward, "doctor": doctor, "nurse": nurse, "patient": patient, "encounter": encounter}


def _vitals(inpatient, **changes):
    return record_vitals(inpatient["patient"], inpatient["nurse"], encounter=inpatient["encounter"], **changes)


def test_a_set_scoring_7_raises_a_critical_alert_for_the_ward(inpatient):
    set_id = _vitals(inpatient, spo2=85, respiratory_rate=26, heart_rate=95)  # 3 + 3 + 1

    score = news2_evaluate(set_id=set_id)

    assert (score.complete, score.total, score.risk, score.spo2_scale) == (True, 7, "high", 1)
    assert score.parameter_scores["spo2"] == {"value": "85", "score": 3}
    assert score.parameter_scores["supplemental_oxygen"] == {"value": "no", "score": 0}
    assert score.ward == inpatient["ward"] and score.encounter == inpatient["encounter"]
    alert = Alert.objects.get()
    assert (alert.kind, alert.severity, alert.status) == ("news2", "critical", "open")
    assert (alert.patient, alert.ward, alert.source_id) == (inpatient["patient"], inpatient["ward"], score.external_id)
    assert alert.title == "NEWS2 7: emergency response"
    assert alert.detail["parameters"]["respiratory_rate"] == {"value": "26", "score": 3}
    entry = AccessLog.objects.filter(object_type="ai.news2score").get()
    assert (entry.action, entry.patient_external_id, entry.actor_id) == (
        "create",
        inpatient["patient"].external_id,
        None,
    )
    assert entry.detail["alert"] == str(alert.external_id)


@pytest.mark.parametrize(
    ("changes", "total", "severity"),
    [
        ({"consciousness": "C"}, 3, "medium"),  # a 3 in one parameter
        ({"respiratory_rate": 25, "temperature": Decimal("39.1")}, 5, "high"),
        ({"systolic_bp": 91, "heart_rate": 111, "temperature": Decimal("39.1")}, 6, "high"),
        ({"spo2": 91, "respiratory_rate": 25, "heart_rate": 91}, 7, "critical"),
    ],
)
def test_each_escalation_threshold_raises_its_alert(inpatient, changes, total, severity):
    score = news2_evaluate(set_id=_vitals(inpatient, **changes))

    assert score.total == total
    assert Alert.objects.get().severity == severity


def test_a_low_score_raises_no_alert(inpatient):
    score = news2_evaluate(set_id=_vitals(inpatient, respiratory_rate=21, heart_rate=111))

    assert (score.total, score.risk) == (4, "low")
    assert not Alert.objects.exists()


def test_an_incomplete_set_is_flagged_not_scored_and_raises_no_alert(inpatient):
    # Alarming readings, but no temperature and no oxygen answer: the set has no score at all.
    score = news2_evaluate(
        set_id=_vitals(inpatient, spo2=85, respiratory_rate=26, temperature=None, supplemental_oxygen=None)
    )

    assert score.complete is False
    assert score.total is None and score.risk == ""
    assert score.missing_parameters == ["supplemental_oxygen", "temperature"]
    assert score.parameter_scores["spo2"]["score"] == 3
    assert not Alert.objects.exists()


def test_evaluating_again_changes_nothing_and_keeps_the_acknowledgement(inpatient):
    set_id = _vitals(inpatient, spo2=85, respiratory_rate=26, heart_rate=95)
    first = news2_evaluate(set_id=set_id)
    alert_acknowledge(alert=Alert.objects.get(), user=inpatient["nurse"])

    again = news2_evaluate(set_id=set_id)

    assert again.pk == first.pk and News2Score.objects.count() == 1
    alert = Alert.objects.get()
    assert (alert.status, alert.acknowledged_by) == ("acknowledged", inpatient["nurse"])


def test_an_unknown_set_is_nothing_to_evaluate(inpatient):
    assert news2_evaluate(set_id=uuid.uuid4()) is None
    assert not News2Score.objects.exists()


def test_scale_2_is_used_once_a_doctor_orders_it(inpatient):
    patient, doctor = inpatient["patient"], inpatient["doctor"]
    before = news2_evaluate(set_id=_vitals(inpatient, spo2=88))
    assert (before.total, before.spo2_scale) == (3, 1)
    assert Alert.objects.count() == 1

    order = spo2_scale2_order(patient=patient, ordered_by=doctor, reason="COPD with type 2 respiratory failure")
    after = news2_evaluate(set_id=_vitals(inpatient, spo2=88))

    assert (after.total, after.risk, after.spo2_scale) == (0, "low", 2)
    assert Alert.objects.count() == 1  # no alert for a saturation in the patient's target range
    assert order.ordered_by == doctor
    entry = AccessLog.objects.filter(object_type="ai.spo2scale2order").get()
    assert (entry.action, entry.actor, entry.patient_external_id) == ("create", doctor, patient.external_id)


def test_scale_2_order_needs_a_doctor_and_a_reason(inpatient):
    with pytest.raises(PermissionDenied):
        spo2_scale2_order(patient=inpatient["patient"], ordered_by=inpatient["nurse"], reason="COPD")
    with pytest.raises(ValidationError) as error:
        spo2_scale2_order(patient=inpatient["patient"], ordered_by=inpatient["doctor"], reason="  ")

    assert "reason" in error.value.message_dict
    assert not Spo2Scale2Order.objects.exists()
    assert not AccessLog.objects.filter(object_type="ai.spo2scale2order").exists()


def test_vitals_charted_without_an_encounter_reach_the_ward_of_the_current_stay(inpatient):
    set_id = record_vitals(inpatient["patient"], inpatient["nurse"], spo2=85, respiratory_rate=26, heart_rate=95)

    news2_evaluate(set_id=set_id)

    alert = Alert.objects.get()
    assert (alert.ward, alert.encounter) == (inpatient["ward"], inpatient["encounter"])


def _lab(inpatient, value, **kwargs):
    return lab_result_record(
        patient=inpatient["patient"],
        encounter=inpatient["encounter"],
        code="2823-3",
        display="Potassium",
        unit="mmol/L",
        value_numeric=value,
        reference_low="3.5",
        reference_high="5.1",
        effective_at=timezone.now() - timedelta(minutes=5),
        recorded_by=inpatient["doctor"],
        **kwargs,
    )


def test_a_critically_high_potassium_raises_a_critical_alert_naming_the_limit(inpatient):
    observation = _lab(inpatient, "6.8")

    alert = critical_lab_evaluate(observation_id=observation.pk)
    again = critical_lab_evaluate(observation_id=observation.pk)

    assert again.pk == alert.pk and Alert.objects.count() == 1
    assert (alert.kind, alert.severity, alert.ward, alert.source_id) == (
        "critical_lab",
        "critical",
        inpatient["ward"],
        observation.external_id,
    )
    assert alert.title == "Critically high Potassium: 6.8 mmol/L"
    assert (alert.detail["flag"], alert.detail["limit"]) == ("HH", "6.2")


def test_a_critically_low_value_is_named_low(inpatient):
    alert = critical_lab_evaluate(observation_id=_lab(inpatient, "2.5").pk)

    assert alert.title == "Critically low Potassium: 2.5 mmol/L"
    assert alert.detail["limit"] == "2.8"


@pytest.mark.parametrize("value", ["5.9", "3.0", "4.2"])
def test_abnormal_but_not_critical_results_raise_nothing(inpatient, value):
    assert critical_lab_evaluate(observation_id=_lab(inpatient, value).pk) is None
    assert not Alert.objects.exists()


def test_a_vital_sign_observation_is_not_a_laboratory_result(inpatient):
    set_id = _vitals(inpatient)
    from emr.models import Observation

    observation = Observation.objects.filter(set_id=set_id).first()

    assert critical_lab_evaluate(observation_id=observation.pk) is None


def test_acknowledging_records_who_and_when_once(inpatient):
    news2_evaluate(set_id=_vitals(inpatient, consciousness="V"))
    alert = Alert.objects.get()

    acknowledged = alert_acknowledge(alert=alert, user=inpatient["nurse"])
    second = alert_acknowledge(alert=alert, user=inpatient["doctor"])

    assert (acknowledged.status, acknowledged.acknowledged_by) == ("acknowledged", inpatient["nurse"])
    assert acknowledged.acknowledged_at is not None
    assert second.acknowledged_by == inpatient["nurse"]
    entries = AccessLog.objects.filter(object_type="ai.alert", action="write")
    assert [(e.actor, e.patient_external_id) for e in entries] == [
        (inpatient["nurse"], inpatient["patient"].external_id)
    ]


def test_only_clinicians_acknowledge_and_never_a_resolved_alert(inpatient):
    news2_evaluate(set_id=_vitals(inpatient, consciousness="V"))
    alert = Alert.objects.get()

    with pytest.raises(PermissionDenied):
        alert_acknowledge(alert=alert, user=make_user("bm.zhou", "bed_manager"))
    alert_resolve(alert=alert, user=inpatient["doctor"], note="Reviewed at the bedside; stable.")
    with pytest.raises(ValidationError):
        alert_acknowledge(alert=alert, user=inpatient["nurse"])

    assert Alert.objects.get().acknowledged_by is None


def test_the_database_refuses_a_second_alert_for_the_same_source(inpatient):
    from django.db import IntegrityError, transaction

    news2_evaluate(set_id=_vitals(inpatient, consciousness="V"))
    alert = Alert.objects.get()

    with pytest.raises(IntegrityError), transaction.atomic():
        Alert.objects.create(
            kind=alert.kind,
            patient=alert.patient,
            severity="high",
            title="again",
            source_id=alert.source_id,
            dedup_key="another condition",
            first_seen_at=alert.first_seen_at,
            last_seen_at=alert.last_seen_at,
        )
