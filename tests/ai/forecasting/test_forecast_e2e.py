"""End to end: the nightly job on a real Celery worker, and the pages in a real browser.

- A worker (another process, on the `ai` queue) runs a night on a small hospital of four wards with four months
  of census: it writes the forecast rows, the registry row and the plan; sending the same night again changes
  nothing. A ward with a month of history gets a baseline and says why.
- In Chromium a bed manager opens the forecasting page (the model in use and why, the backtest), follows a ward
  to its chart, which plotly draws as SVG, and finds the figures on the bed board.
"""

import time
from pathlib import Path

import pytest
from playwright.sync_api import expect

from ai.forecasting.models import BedPlanEntry, ForecastModel, ForecastRun, WardForecast
from ai.forecasting.services import artifact_full_path, forecast_nightly_run
from ai.forecasting.tasks import forecast_nightly_task
from tests.ai.forecasting.test_nightly_support import CHEAP, DEFAULT_WARDS, WardSpec, small_hospital, today
from tests.factories import TEST_PASSWORD, UserFactory

SCREENSHOTS = Path(__file__).resolve().parents[3] / "var" / "screenshots"


def _wait_for(condition, seconds: float = 120) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.2)
    return False


def _snapshot():
    return (
        list(ForecastRun.objects.values_list("id", "status", "attempts", "updated_at")),
        list(WardForecast.objects.order_by("id").values_list("id", "updated_at")),
        list(BedPlanEntry.objects.order_by("id").values_list("id", "updated_at")),
        list(ForecastModel.objects.order_by("id").values_list("id", "status", "updated_at")),
    )


@pytest.mark.worker
def test_the_nightly_job_runs_on_a_worker_and_a_second_run_of_the_night_changes_nothing(celery_worker_process):
    # given a small hospital: three wards with 120 days of census, one opened a month ago
    wards = small_hospital((*DEFAULT_WARDS, WardSpec("NEW", "cardiology", 10, 6.0, days=30)))
    night = today().isoformat()

    # when beat's task for tonight reaches the worker
    forecast_nightly_task.apply_async(args=[night], kwargs={"options": CHEAP})
    assert _wait_for(lambda: ForecastRun.objects.filter(night=night, status__in=["succeeded", "failed"]).exists())

    # then the forecasts, the serving model and the plan are there
    run = ForecastRun.objects.get(night=night)
    try:
        assert run.status == "succeeded", run.error
        assert (run.progress, run.stage) == (100, "done") and run.duration_seconds > 0
        model = ForecastModel.objects.get()
        assert model.status == "serving" and run.model == model and model.series_keys == ["CA1", "GM1", "GM2"]
        assert artifact_full_path(model).exists()
        assert WardForecast.objects.filter(run=run).count() == 4 * 14
        assert BedPlanEntry.objects.filter(run=run, ward=wards["GM1"], action="lend").exists()
        new = WardForecast.objects.filter(run=run, ward=wards["NEW"]).first()
        assert new.model is None and new.note.startswith("30 days of history")
        before = _snapshot()

        # and sending the same night again (a redelivery, a second beat) changes nothing
        forecast_nightly_task.apply_async(args=[night], kwargs={"options": CHEAP})
        forecast_nightly_task.apply_async(args=[today().replace(year=2000).isoformat()])  # a later job, queued behind
        assert _wait_for(lambda: ForecastRun.objects.filter(night=today().replace(year=2000)).exists())
        assert _snapshot()[1:] == before[1:]
        assert ForecastRun.objects.get(night=night).updated_at == run.updated_at
    finally:
        for model in ForecastModel.objects.exclude(artifact_path=""):
            artifact_full_path(model).unlink(missing_ok=True)


def _sign_in(page, username: str) -> None:
    page.goto("/accounts/login/")
    page.locator("input[name=username]").fill(username)
    page.locator("input[name=password]").fill(TEST_PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_test_id("user-name")).to_be_visible()


@pytest.mark.e2e
@pytest.mark.usefixtures("transactional_db")
def test_a_bed_manager_reads_the_model_in_use_and_a_wards_chart(page, settings, tmp_path):
    settings.FORECAST_ARTIFACT_DIR = str(tmp_path / "models")
    UserFactory(username="beds.liu", display_name="Liu Yang", roles=["bed_manager"])
    small_hospital()
    run = forecast_nightly_run(night=today(), options=CHEAP)
    assert run.status == "succeeded", run.error

    # given the bed manager on the forecasting page
    _sign_in(page, "beds.liu")
    page.goto("/forecasting/")
    expect(page.get_by_role("heading", level=1)).to_have_text("Bed forecasts")

    # then it says which model serves and why, with the backtest of every model
    expect(page.get_by_test_id("serving-reason")).to_contain_text("serves: over 2 weekly backtest origins")
    table = page.get_by_test_id("backtest-table")
    expect(table.locator("tbody tr")).to_have_count(2)
    expect(table.locator("tr.serving")).to_contain_text("serving")
    expect(page.get_by_test_id("forecast-runs")).to_contain_text("Succeeded")
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / "forecasting-overview.png"), full_page=True)

    # when she follows GM1 to its chart
    page.get_by_test_id("ward-outlook").get_by_role("link", name="GM1").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Forecast of GM1")

    # then plotly draws it: an SVG with the census, the forecast and both intervals
    chart = page.get_by_test_id("forecast-chart")
    expect(chart.locator("svg.main-svg").first).to_be_visible()
    expect(chart.locator("g.scatterlayer g.trace")).to_have_count(7)
    expect(chart.locator(".legend")).to_contain_text("95% interval")
    expect(page.get_by_test_id("forecast-table").locator("tbody tr")).to_have_count(14)
    page.screenshot(path=str(SCREENSHOTS / "forecasting-ward.png"), full_page=True)

    # and the bed board shows the next days' figures, loaded by htmx
    page.goto("/beds/board/")
    expect(page.get_by_test_id("bed-forecast").locator('tr[data-ward="GM1"]')).to_be_visible()
