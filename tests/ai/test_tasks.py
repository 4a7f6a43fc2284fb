"""The alert tasks: names, routing to the `alerts` queue, and the EMR's enqueue-on-commit with a real worker."""

import time
from datetime import timedelta

import pytest
from django.db import transaction
from django.utils import timezone

from ai import tasks
from ai.models import Alert, News2Score
from emr.services.observations import lab_result_record
from hospital.celery import app
from hospital.core.models import AccessLog
from tests.ai.support import record_vitals, ward_with_inpatient


def _wait_for(condition, seconds: float = 30) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.1)
    return False


@pytest.mark.parametrize(
    "task", [tasks.news2_evaluate_task, tasks.critical_lab_evaluate_task], ids=["news2", "critical_lab"]
)
def test_tasks_are_named_late_acknowledged_time_limited_and_routed_to_alerts(task):
    name = task.name.split(".")[-1]

    assert task.name == f"ai.tasks.{name}"
    assert task.acks_late is True
    assert 0 < task.soft_time_limit < task.time_limit
    # The "ai.*" route sends training jobs to the slow "ai" queue; these two go to "alerts".
    assert app.amqp.router.route({}, task.name)["queue"].name == "alerts"


def test_training_tasks_still_go_to_the_ai_queue():
    assert app.amqp.router.route({}, "ai.tasks.forecast_train_task")["queue"].name == "ai"


def test_nothing_is_enqueued_when_the_vitals_are_refused(db, django_capture_on_commit_callbacks):
    _ward, _doctor, nurse, patient, encounter = ward_with_inpatient()

    with django_capture_on_commit_callbacks() as callbacks, pytest.raises(Exception, match="SpO2"):
        record_vitals(patient, nurse, encounter=encounter, spo2=150)

    assert callbacks == []


def test_recording_vitals_enqueues_its_evaluations_after_commit(db, django_capture_on_commit_callbacks, monkeypatch):
    _ward, _doctor, nurse, patient, encounter = ward_with_inpatient()
    sent = []
    monkeypatch.setattr(app, "send_task", lambda name, **options: sent.append((name, options)))

    with django_capture_on_commit_callbacks(execute=True):
        set_id = record_vitals(patient, nurse, encounter=encounter)

    assert sent == [
        (f"ai.tasks.{name}", {"args": [str(set_id)], "queue": "alerts"})
        for name in ("news2_evaluate_task", "conflict_check_task", "drift_evaluate_task")
    ]


@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
def test_a_vital_set_scoring_high_becomes_an_alert_on_a_real_worker(celery_worker_process):
    ward, _doctor, nurse, patient, encounter = ward_with_inpatient()

    # SpO2 85 (3) and respiratory rate 26 (3), pulse 95 (1): NEWS2 7
    set_id = record_vitals(patient, nurse, encounter=encounter, spo2=85, respiratory_rate=26, heart_rate=95)

    assert _wait_for(lambda: Alert.objects.filter(patient=patient).exists())
    alert = Alert.objects.get()
    assert (alert.kind, alert.severity, alert.ward_id) == ("news2", "critical", ward.pk)
    assert News2Score.objects.get(set_id=set_id).total == 7
    entry = AccessLog.objects.get(object_type="ai.news2score")
    assert (entry.channel, entry.actor_kind) == ("task", "task")

    # Delivered again (acks_late): still one score and one alert.
    tasks.news2_evaluate_task.delay(str(set_id))
    assert _wait_for(lambda: AccessLog.objects.filter(object_type="ai.news2score").count() == 2)
    assert (News2Score.objects.count(), Alert.objects.count()) == (1, 1)


@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
def test_a_critical_laboratory_value_becomes_an_alert_on_a_real_worker(celery_worker_process):
    ward, doctor, _nurse, patient, encounter = ward_with_inpatient()

    with transaction.atomic():
        observation = lab_result_record(
            patient=patient,
            encounter=encounter,
            code="K",
            display="Potassium",
            unit="mmol/L",
            value_numeric="7.1",
            effective_at=timezone.now() - timedelta(minutes=2),
            recorded_by=doctor,
        )

    assert _wait_for(lambda: Alert.objects.filter(source_id=observation.external_id).exists())
    alert = Alert.objects.get()
    assert (alert.kind, alert.severity, alert.ward_id, alert.detail["limit"]) == (
        "critical_lab",
        "critical",
        ward.pk,
        "6.2",
    )
