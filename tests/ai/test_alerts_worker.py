"""With a real Celery worker: a vital-sign set scoring 7 posted to the EMR's API becomes an alert for that ward,
and the follow-up checks (conflicting readings) reach the `alerts` queue and run there too."""

import time
from datetime import timedelta

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from ai import tasks
from ai.models import Alert
from emr.services.observations import vital_signs_record
from hospital.celery import app
from tests.ai.support import ward_with_inpatient
from tests.emr.test_access_support import assign, make_user


def _wait_for(condition, seconds: float = 30) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.05)
    return False


@pytest.mark.parametrize(
    "task",
    [tasks.conflict_check_task, tasks.lab_conflict_check_task, tasks.drift_evaluate_task, tasks.census_check_task],
    ids=["conflict", "lab_conflict", "drift", "census"],
)
def test_the_new_tasks_are_named_late_acknowledged_and_sent_to_the_alerts_queue(task):
    assert task.name == f"ai.tasks.{task.__name__}"
    assert task.acks_late is True and 0 < task.soft_time_limit < task.time_limit
    assert task.queue == "alerts"
    # Sent by name (as the EMR does), the explicit queue wins over the "ai.*" route of the slow queue.
    assert app.amqp.router.route({"queue": "alerts"}, task.name)["queue"].name == "alerts"


@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
def test_posting_a_set_scoring_7_raises_an_alert_for_the_ward_and_a_conflicting_reading_another(
    celery_worker_process,
):
    ward, _doctor, nurse, patient, encounter = ward_with_inpatient("W7")
    client = APIClient()
    client.force_authenticate(nurse)

    # when the ward's nurse posts a set scoring 7 (SpO2 85: 3, respiratory rate 26: 3, pulse 95: 1)
    response = client.post(
        f"/api/v1/emr/patients/{patient.external_id}/vitals/",
        {
            "encounter": str(encounter.external_id),
            "respiratory_rate": 26,
            "spo2": 85,
            "supplemental_oxygen": False,
            "systolic_bp": 120,
            "diastolic_bp": 70,
            "heart_rate": 95,
            "consciousness": "A",
            "temperature": "37.0",
        },
        format="json",
    )
    assert response.status_code == 201

    # then the worker raises a critical NEWS2 alert for that ward
    assert _wait_for(lambda: Alert.objects.filter(kind="news2").exists())
    alert = Alert.objects.get(kind="news2")
    assert (alert.severity, alert.ward_id, alert.patient_id, alert.detail["total"]) == (
        "critical",
        ward.pk,
        patient.pk,
        7,
    )
    assert alert.detail["escalation"]["recipients"] == ["ward_nurses", "ward_doctors", "critical_care_team"]

    # and a monitor's pulse of 140 a few minutes later conflicts with the nurse's 95
    monitor = make_user("monitor.w7", "nurse")
    assign(monitor, ward)
    vital_signs_record(
        patient=patient,
        recorded_by=monitor,
        encounter=encounter,
        heart_rate=140,
        source="device",
        taken_at=timezone.now() - timedelta(seconds=5),
    )
    assert _wait_for(lambda: Alert.objects.filter(kind="conflicting_data").exists())
    conflict = Alert.objects.get(kind="conflicting_data")
    assert sorted(r["value"] for r in conflict.detail["readings"]) == ["140", "95"]
