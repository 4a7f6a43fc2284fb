"""The forecasting API: ward forecasts scoped by role, the plan, running a night; errors in the common format."""

from datetime import timedelta

import pytest
from rest_framework.test import APIClient

from ai.forecasting.models import ForecastRun
from ai.forecasting.services import forecast_nightly_run
from hospital.celery import app
from tests.ai.forecasting.test_nightly_support import CHEAP, small_hospital, today
from tests.emr.test_access_support import assign
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _artifacts_in_tmp(settings, tmp_path):
    settings.FORECAST_ARTIFACT_DIR = str(tmp_path / "models")


@pytest.fixture
def wards():
    built = small_hospital()
    forecast_nightly_run(night=today(), options=CHEAP)
    return built


def client_for(username: str, *roles: str) -> APIClient:
    client = APIClient()
    client.force_authenticate(UserFactory(username=username, roles=list(roles)))
    return client


def test_a_ward_forecast_has_14_days_with_both_intervals(wards):
    response = client_for("beds.liu", "bed_manager").get(
        f"/api/v1/forecasting/wards/{wards['GM1'].external_id}/forecasts/"
    )

    assert response.status_code == 200
    body = response.json()
    assert body["ward"] == "GM1" and body["night"] == today().isoformat() and body["note"] == ""
    assert body["origin"] == (today() - timedelta(days=1)).isoformat()
    assert body["model"] in CHEAP["models"] and body["model_version"] == 1
    assert len(body["days"]) == 14 and body["days"][0]["date"] == today().isoformat()
    day = body["days"][0]
    assert day["q025"] <= day["q10"] <= day["q50"] <= day["q90"] <= day["q975"] and day["capacity"] == 20


def test_ward_staff_read_only_their_wards_and_other_roles_nothing(wards):
    nurse = UserFactory(username="nurse.wang", roles=["nurse"])
    assign(nurse, wards["GM1"])
    client = APIClient()
    client.force_authenticate(nurse)

    assert [item["ward"] for item in client.get("/api/v1/forecasting/forecasts/").json()] == ["GM1"]
    assert client.get(f"/api/v1/forecasting/wards/{wards['GM2'].external_id}/forecasts/").status_code == 404
    assert client.get("/api/v1/forecasting/plan/").status_code == 403
    pharmacist = client_for("ph.chen", "pharmacist")
    response = pharmacist.get("/api/v1/forecasting/forecasts/")
    assert response.status_code == 403 and response.json()["error"]["code"] == "permission_denied"
    assert APIClient().get("/api/v1/forecasting/forecasts/").status_code in (401, 403)


def test_the_plan_lists_each_day_with_explained_recommendations(wards):
    response = client_for("beds.liu", "bed_manager").get("/api/v1/forecasting/plan/", HTTP_ACCEPT_LANGUAGE="en")

    body = response.json()
    assert response.status_code == 200 and body["quantile"] == 0.9 and len(body["days"]) == 7
    lends = [r for day in body["days"] for r in day["recommendations"] if r["action"] == "lend"]
    assert lends and lends[0]["ward"] == "GM1" and lends[0]["to_ward"] == "GM2" and lends[0]["same_specialty"]
    assert "GM1 expects" in lends[0]["explanation"] and lends[0]["detail"]["capacity"] == 20


def test_posting_a_run_queues_a_night_once(monkeypatch, django_capture_on_commit_callbacks, wards):
    sent = []
    monkeypatch.setattr(app, "send_task", lambda name, **options: sent.append(options["args"]))
    manager = client_for("beds.liu", "bed_manager")
    night = (today() - timedelta(days=3)).isoformat()

    with django_capture_on_commit_callbacks(execute=True):
        first = manager.post("/api/v1/forecasting/runs/", {"night": night}, format="json")
    second = manager.post("/api/v1/forecasting/runs/", {}, format="json")  # tonight already ran

    assert first.status_code == 202 and first.json()["queued"] is True and first.json()["status"] == "queued"
    assert sent == [[night]]
    assert second.status_code == 200 and second.json()["queued"] is False and second.json()["status"] == "succeeded"
    detail = manager.get(f"/api/v1/forecasting/runs/{today().isoformat()}/").json()
    assert detail["progress"] == 100 and detail["model_version"] == 1 and "backtest" in detail["stage_seconds"]


def test_bad_run_requests_get_field_errors(wards):
    manager = client_for("beds.liu", "bed_manager")

    future = manager.post("/api/v1/forecasting/runs/", {"night": (today() + timedelta(days=1)).isoformat()})
    garbage = manager.post("/api/v1/forecasting/runs/", {"night": "tomorrow"})

    assert future.status_code == 400 and "night" in future.json()["error"]["fields"]
    assert garbage.status_code == 400 and "night" in garbage.json()["error"]["fields"]
    assert manager.get("/api/v1/forecasting/runs/2020-13-01/").status_code == 400
    assert manager.get("/api/v1/forecasting/runs/2020-01-01/").status_code == 404
    assert client_for("dr.li", "doctor").post("/api/v1/forecasting/runs/", {}).status_code == 403
    assert ForecastRun.objects.count() == 1
