"""Every alert kind, and the alerts' history, in the admin: listed and shown, never added, changed or deleted."""

import uuid
from datetime import timedelta

import pytest
from django.utils import timezone
from django.utils.html import escape

from ai.models import Alert, AlertEvent
from ai.services import (
    alert_acknowledge,
    alert_raise,
    alert_resolve,
    conflict_check_set,
    drift_evaluate,
    news2_evaluate,
)
from emr.services.observations import vital_signs_record
from tests.ai.support import record_vitals, ward_with_inpatient
from tests.emr.test_access_support import assign, make_user
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def every_kind(db):
    ward, _doctor, nurse, patient, encounter = ward_with_inpatient()
    news2_evaluate(set_id=record_vitals(patient, nurse, encounter=encounter, spo2=85, respiratory_rate=26))
    monitor = make_user("monitor.w1", "nurse")
    assign(monitor, ward)
    now = timezone.now()
    vital_signs_record(
        patient=patient, recorded_by=monitor, encounter=encounter, heart_rate=130, source="device",
        taken_at=now - timedelta(minutes=8),
    )  # fmt: skip
    manual = vital_signs_record(
        patient=patient, recorded_by=nurse, encounter=encounter, heart_rate=82, taken_at=now - timedelta(minutes=4)
    )
    conflict_check_set(set_id=manual[0].set_id)
    for hours, heart_rate in enumerate([80, 81, 79, 80, 82, 80, 100, 104, 108, 112]):
        rows = vital_signs_record(
            patient=patient, recorded_by=nurse, encounter=encounter, heart_rate=heart_rate,
            taken_at=now - timedelta(hours=20 - hours),
        )  # fmt: skip
        drift_evaluate(set_id=rows[0].set_id)
    census = alert_raise(
        kind="census", dedup_key="census:ward", source_id=uuid.uuid4(), severity="high",
        detail={"ward": ward.code, "census": 31, "q025": "20", "q975": "28", "day": "2026-03-02", "direction": "above"},
        ward_id=ward.pk,
    ).alert  # fmt: skip
    alert_acknowledge(alert=census, user=nurse)
    alert_resolve(alert=census, user=nurse, note="Two extra beds opened.")
    return Alert.objects.all()


def test_every_kind_and_the_history_are_view_only_in_the_admin(client, settings, every_kind):
    settings.OTP_REQUIRED_FOR_ADMINS = False  # the second factor is tested in tests/core
    assert set(every_kind.values_list("kind", flat=True)) == {"news2", "conflicting_data", "vital_drift", "census"}
    client.force_login(UserFactory(username="root", is_staff=True, is_superuser=True))

    listing = client.get("/admin/ai/alert/").content.decode()
    for alert in every_kind:
        page = client.get(f"/admin/ai/alert/{alert.pk}/change/")
        assert page.status_code == 200, alert.kind
        assert 'name="_save"' not in page.content.decode()
        assert escape(alert.title) in listing
    census = every_kind.get(kind="census")
    assert "Two extra beds opened." in client.get(f"/admin/ai/alert/{census.pk}/change/").content.decode()
    events = client.get("/admin/ai/alertevent/")
    assert events.status_code == 200 and "Resolved" in events.content.decode()
    event = AlertEvent.objects.filter(action="resolved").get()
    assert client.get(f"/admin/ai/alertevent/{event.pk}/change/").status_code == 200
    assert client.get("/admin/ai/alertevent/add/").status_code == 403
    assert client.post(f"/admin/ai/alertevent/{event.pk}/delete/", {"post": "yes"}).status_code == 403
    assert AlertEvent.objects.filter(pk=event.pk).exists()
