"""The forecasting pages: who may open which, what they show, running the job on demand, plotly.js, the board."""

from datetime import timedelta

import pytest
from django.utils import translation

from ai.forecasting.models import ForecastRun, WardForecast
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
    run = forecast_nightly_run(night=today(), options=CHEAP)
    assert run.status == "succeeded", run.error
    return built


@pytest.fixture
def users(wards):
    nurse = UserFactory(username="nurse.wang", roles=["nurse"])
    assign(nurse, wards["GM1"])
    return {
        "manager": UserFactory(username="beds.liu", roles=["bed_manager"]),
        "admin": UserFactory(username="admin.zhao", roles=["administrator"]),
        "doctor": UserFactory(username="dr.li", roles=["doctor"]),
        "nurse": nurse,
        "pharmacist": UserFactory(username="ph.chen", roles=["pharmacist"]),
    }


@pytest.mark.parametrize(
    ("role", "expected"), [("manager", 200), ("admin", 200), ("doctor", 403), ("nurse", 403), ("pharmacist", 403)]
)
def test_the_overview_and_the_plan_are_for_bed_managers_and_administrators(client, users, role, expected):
    client.force_login(users[role])

    assert client.get("/forecasting/").status_code == expected
    assert client.get("/forecasting/plan/").status_code == expected


def test_anonymous_users_are_sent_to_sign_in(client, wards):
    for url in ("/forecasting/", "/forecasting/plan/", f"/forecasting/wards/{wards['GM1'].external_id}/"):
        response = client.get(url)
        assert response.status_code == 302 and response["Location"].startswith("/accounts/login/")


def test_the_overview_says_which_model_serves_why_and_shows_the_backtest_and_runs(client, users, wards):
    client.force_login(users["manager"])

    with translation.override("en"):
        html = client.get("/forecasting/").content.decode()

    run = ForecastRun.objects.get()
    assert "Model in use" in html and f"version {run.model.version}" in html
    assert "serves: over 2 weekly backtest origins" in html
    assert 'data-model="seasonal_naive"' in html and 'data-model="weekday_mean4"' in html
    assert f'data-night="{today():%Y-%m-%d}" data-status="succeeded"' in html
    assert f'href="/forecasting/wards/{wards["GM1"].external_id}/"' in html
    assert 'action="/forecasting/run/"' in html
    assert 'hx-get="/forecasting/runs/"' not in html  # nothing running: no polling


def test_the_ward_chart_is_for_managers_and_the_wards_own_staff(client, users, wards):
    gm1, gm2 = wards["GM1"].external_id, wards["GM2"].external_id
    client.force_login(users["nurse"])
    assert client.get(f"/forecasting/wards/{gm1}/").status_code == 200
    assert client.get(f"/forecasting/wards/{gm2}/").status_code == 404  # not her ward
    client.force_login(users["pharmacist"])
    assert client.get(f"/forecasting/wards/{gm1}/").status_code == 403
    client.force_login(users["manager"])
    response = client.get(f"/forecasting/wards/{gm2}/")
    assert response.status_code == 200
    html = response.content.decode()
    assert 'id="forecast-data"' in html and "/forecasting/plotly.min.js" in html
    rows = WardForecast.objects.filter(ward=wards["GM2"]).order_by("target_date")
    assert html.count("<tr data-date=") == 14
    assert f'data-date="{rows[0].target_date:%Y-%m-%d}"' in html


def test_the_plan_explains_each_recommendation(client, users, wards):
    client.force_login(users["manager"])

    with translation.override("en"):
        html = client.get("/forecasting/plan/").content.decode()

    assert html.count('data-testid="plan-day"') == 7
    assert 'data-action="lend" data-ward="GM1" data-to-ward="GM2"' in html
    assert "a ward of the same specialty" in html and "(90% upper bound)" in html


def test_pages_render_in_chinese(client, users, wards):
    client.force_login(users["manager"])
    for url in ("/forecasting/", "/forecasting/plan/", f"/forecasting/wards/{wards['GM1'].external_id}/"):
        response = client.get(url, HTTP_ACCEPT_LANGUAGE="zh-hans")
        assert response.status_code == 200 and '<html lang="zh-hans"' in response.content.decode()


def test_run_now_queues_tonight_for_managers_only(client, users, monkeypatch, django_capture_on_commit_callbacks):
    sent = []
    monkeypatch.setattr(app, "send_task", lambda name, **options: sent.append((name, options["args"])))
    ForecastRun.objects.all().delete()  # tonight has not run yet
    client.force_login(users["doctor"])
    assert client.post("/forecasting/run/").status_code == 403
    client.force_login(users["manager"])

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post("/forecasting/run/", follow=True)

    assert sent == [("ai.forecasting.tasks.forecast_nightly_task", [today().isoformat()])]
    run = ForecastRun.objects.get()
    assert run.status == "queued" and run.requested_by == users["manager"]
    html = response.content.decode()
    assert "is queued" in html and 'hx-get="/forecasting/runs/"' in html  # the runs table follows the job
    assert 'data-status="queued"' in client.get("/forecasting/runs/").content.decode()


def test_run_now_on_a_night_that_ran_says_so_and_queues_nothing(client, users, monkeypatch):
    sent = []
    monkeypatch.setattr(app, "send_task", lambda name, **options: sent.append(name))
    client.force_login(users["admin"])

    with translation.override("en"):
        response = client.post("/forecasting/run/", follow=True)

    assert sent == [] and "has already run" in response.content.decode()


def test_the_bed_board_loads_the_forecast_strip_for_the_wards_one_may_see(client, users, wards):
    client.force_login(users["manager"])
    board = client.get("/beds/board/").content.decode()
    assert 'hx-get="/forecasting/board/"' in board

    strip = client.get("/forecasting/board/").content.decode()
    assert all(f'data-ward="{code}"' in strip for code in ("GM1", "GM2", "CA1"))
    gm1 = WardForecast.objects.get(ward=wards["GM1"], target_date=today())
    assert f"{gm1.mean:.0f} <span" in strip

    client.force_login(users["nurse"])
    strip = client.get("/forecasting/board/").content.decode()
    assert 'data-ward="GM1"' in strip and 'data-ward="GM2"' not in strip
    client.force_login(users["pharmacist"])
    assert client.get("/forecasting/board/").content == b""


def test_the_board_strip_takes_a_fixed_number_of_queries(client, users, django_assert_max_num_queries):
    client.force_login(users["manager"])
    client.get("/forecasting/board/")  # warm the session and the user's roles

    with django_assert_max_num_queries(8):  # session, user, roles, run, forecasts (+ session save)
        client.get("/forecasting/board/")


def test_plotly_is_served_from_the_installed_package_compressed_and_cached(client):
    response = client.get("/forecasting/plotly.min.js", HTTP_ACCEPT_ENCODING="gzip")

    assert response.status_code == 200 and response["Content-Encoding"] == "gzip"
    assert response["Content-Type"].startswith("text/javascript") and "max-age" in response["Cache-Control"]
    again = client.get("/forecasting/plotly.min.js", HTTP_IF_NONE_MATCH=response["ETag"])
    assert again.status_code == 304
    plain = client.get("/forecasting/plotly.min.js")
    assert b"plotly.js" in plain.content[:2000] and "Content-Encoding" not in plain


def test_the_admin_lists_runs_and_models_and_runs_tonight_on_demand(client, users, settings, monkeypatch):
    settings.OTP_REQUIRED_FOR_ADMINS = False
    sent = []
    monkeypatch.setattr(app, "send_task", lambda name, **options: sent.append(name))
    root = UserFactory(username="root", is_staff=True, is_superuser=True)
    client.force_login(root)
    ForecastRun.objects.filter(night=today()).update(status="failed", error="x")

    assert client.get("/admin/forecasting/forecastrun/").status_code == 200
    assert client.get("/admin/forecasting/forecastmodel/").status_code == 200
    assert 'data-testid="admin-run-now"' in client.get("/admin/forecasting/forecastrun/").content.decode()
    response = client.post("/admin/forecasting/forecastrun/run-now/")
    assert response.status_code == 302
    assert ForecastRun.objects.get(night=today()).status == "queued"
    assert client.get("/admin/forecasting/forecastrun/add/").status_code == 403


def test_a_day_without_forecasts_shows_the_empty_states(client, users):
    WardForecast.objects.all().delete()
    ForecastRun.objects.all().delete()
    client.force_login(users["manager"])

    with translation.override("en"):
        assert "has not succeeded once" in client.get("/forecasting/plan/").content.decode()
        assert client.get("/forecasting/board/").content.strip() == b""
    assert today() - timedelta(days=1)  # the census is still there for the chart
