"""The nightly job in process: forecasts, registry, plan, idempotency per night, progress, short histories."""

from datetime import timedelta

import pytest

from ai.forecasting import services
from ai.forecasting.models import BedPlanEntry, ForecastModel, ForecastRun, WardForecast
from ai.forecasting.selectors import forecast_interval
from ai.forecasting.services import forecast_nightly_run, forecast_run_request
from ai.forecasting.tasks import forecast_nightly_task
from hospital.celery import app
from tests.ai.forecasting.test_nightly_support import CHEAP, DEFAULT_WARDS, WardSpec, small_hospital, today

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _artifacts_in_tmp(settings, tmp_path):
    settings.FORECAST_ARTIFACT_DIR = str(tmp_path / "models")


def test_a_night_writes_14_days_per_ward_the_serving_model_and_the_plan():
    wards = small_hospital()
    night = today()

    run = forecast_nightly_run(night=night, options=CHEAP)

    assert run.status == "succeeded", run.error
    assert (run.progress, run.stage) == (100, "done")
    assert run.duration_seconds > 0
    assert {"data", "backtest", "train", "forecast", "plan"} <= set(run.stage_seconds)
    model = ForecastModel.objects.get()
    assert model.status == "serving" and run.model == model
    assert model.model_name in CHEAP["models"]
    assert set(model.metrics) == set(CHEAP["models"])  # every baseline's backtest is kept
    assert len(model.metrics[model.model_name]["mae"]) == 14
    assert model.window_end == night - timedelta(days=1)
    assert len(model.artifact_sha256) == 64
    rows = WardForecast.objects.filter(run=run)
    assert rows.count() == 3 * 14
    for ward in wards.values():
        dates = list(rows.filter(ward=ward).order_by("target_date").values_list("target_date", flat=True))
        assert dates == [night + timedelta(days=offset) for offset in range(14)]
    assert all(r.q025 <= r.q10 <= r.q50 <= r.q90 <= r.q975 for r in rows)
    # GM1 runs above its 20 beds: the plan places its overflow, first in GM2 (same specialty).
    entries = BedPlanEntry.objects.filter(run=run)
    assert entries.exists()
    assert set(entries.values_list("day", flat=True)) <= {night + timedelta(days=offset) for offset in range(7)}
    first = entries.filter(ward=wards["GM1"]).order_by("day", "id").first()
    assert first.action == "lend" and first.to_ward == wards["GM2"] and first.same_specialty is True


def test_a_second_run_of_the_same_night_changes_nothing():
    small_hospital()
    night = today()
    first = forecast_nightly_run(night=night, options=CHEAP)
    before = (
        list(WardForecast.objects.values_list("id", "updated_at")),
        list(BedPlanEntry.objects.values_list("id", "updated_at")),
        list(ForecastModel.objects.values_list("id", "status", "updated_at")),
    )

    again = forecast_nightly_run(night=night, options=CHEAP)

    assert again.pk == first.pk and again.updated_at == first.updated_at and again.attempts == 1
    after = (
        list(WardForecast.objects.values_list("id", "updated_at")),
        list(BedPlanEntry.objects.values_list("id", "updated_at")),
        list(ForecastModel.objects.values_list("id", "status", "updated_at")),
    )
    assert after == before


def test_a_ward_with_under_60_days_gets_a_baseline_with_the_reason():
    wards = small_hospital((*DEFAULT_WARDS, WardSpec("NEW", "cardiology", 10, 6.0, days=30)))

    run = forecast_nightly_run(night=today(), options=CHEAP)

    rows = WardForecast.objects.filter(run=run, ward=wards["NEW"])
    assert rows.count() == 14
    row = rows.first()
    assert row.model is None and row.model_name in ("seasonal_naive", "weekday_mean4", "auto_ets", "auto_theta")
    assert "30 days of history" in row.note and "60" in row.note
    assert any(note.startswith("NEW: 30 days of history") for note in run.note_texts)
    assert ForecastModel.objects.get().series_keys == ["CA1", "GM1", "GM2"]  # trained without it
    assert WardForecast.objects.filter(run=run, ward=wards["GM1"]).first().note == ""
    assert row.history_days == 30 and row.min_history_days == 60


def test_a_ward_without_any_census_is_named_and_skipped():
    small_hospital((*DEFAULT_WARDS, WardSpec("EMPTY", "cardiology", 10, 6.0, days=0)))

    run = forecast_nightly_run(night=today(), options=CHEAP)

    assert run.status == "succeeded"
    assert "EMPTY: no census history, no forecast." in run.note_texts
    assert not WardForecast.objects.filter(ward__code="EMPTY").exists()


def test_progress_is_recorded_as_the_job_goes(monkeypatch):
    small_hospital()
    seen = []
    original = services._Progress.set

    def spy(self, percent, *, force=False):
        original(self, percent, force=force)
        row = ForecastRun.objects.get(pk=self.run.pk)
        seen.append((row.stage, row.progress))

    monkeypatch.setattr(services._Progress, "set", spy)

    forecast_nightly_run(night=today(), options=CHEAP)

    stages = [stage for stage, _percent in seen]
    assert stages.index("data") < stages.index("backtest") < stages.index("train") < stages.index("plan")
    percents = [percent for _stage, percent in seen]
    assert percents == sorted(percents) and percents[0] < 10 and percents[-1] == 100
    assert any(10 < percent < 70 for stage, percent in seen if stage == "backtest")  # inside the backtest


def test_a_failing_job_marks_the_run_failed_writes_nothing_and_may_be_requested_again(
    monkeypatch, django_capture_on_commit_callbacks
):
    small_hospital()

    def broken(**kwargs):
        raise RuntimeError("census unreadable")

    monkeypatch.setattr("ai.forecasting.training_data.ward_histories", broken)
    run = forecast_nightly_run(night=today(), options=CHEAP)

    assert run.status == "failed" and "census unreadable" in run.error and run.finished_at is not None
    assert not WardForecast.objects.exists() and not ForecastModel.objects.exists()
    sent = []
    monkeypatch.setattr(app, "send_task", lambda name, **options: sent.append((name, options)))
    with django_capture_on_commit_callbacks(execute=True):
        again, queued = forecast_run_request(night=today())
    assert queued and again.pk == run.pk and again.status == "queued"
    # The night keeps the options it first ran with.
    assert sent == [(services.NIGHTLY_TASK, {"args": [today().isoformat()], "kwargs": {"options": CHEAP}})]


def test_a_request_for_a_night_that_ran_queues_nothing(monkeypatch, django_capture_on_commit_callbacks):
    small_hospital()
    forecast_nightly_run(night=today(), options=CHEAP)
    sent = []
    monkeypatch.setattr(app, "send_task", lambda name, **options: sent.append(name))

    with django_capture_on_commit_callbacks(execute=True):
        run, queued = forecast_run_request(night=today())

    assert not queued and run.status == "succeeded" and sent == []


def test_the_task_is_named_late_acknowledged_time_limited_and_routed_to_the_ai_queue():
    assert forecast_nightly_task.name == "ai.forecasting.tasks.forecast_nightly_task"
    assert forecast_nightly_task.acks_late is True
    assert 0 < forecast_nightly_task.soft_time_limit < forecast_nightly_task.time_limit
    assert app.amqp.router.route({}, forecast_nightly_task.name)["queue"].name == "ai"


def test_the_forecast_interval_is_the_latest_run_made_before_the_day():
    wards = small_hospital()
    night = today()
    forecast_nightly_run(night=night, options=CHEAP)
    row = WardForecast.objects.get(ward=wards["GM1"], target_date=night + timedelta(days=2))

    assert forecast_interval(ward_id=wards["GM1"].pk, day=night + timedelta(days=2)) == (row.mean, row.q025, row.q975)
    assert forecast_interval(ward_id=wards["GM1"].pk, day=night - timedelta(days=1)) is None  # made after it
    assert forecast_interval(ward_id=wards["GM1"].pk, day=night + timedelta(days=30)) is None  # beyond the horizon


def test_a_night_already_queued_is_queued_once_until_its_worker_is_presumed_lost(
    monkeypatch, django_capture_on_commit_callbacks
):
    sent = []
    monkeypatch.setattr(app, "send_task", lambda name, **options: sent.append(name))

    with django_capture_on_commit_callbacks(execute=True):
        first, queued_first = forecast_run_request(night=today())
        _again, queued_again = forecast_run_request(night=today())

    assert (queued_first, queued_again) == (True, False) and len(sent) == 1
    # a run silent for longer than the task may take is queued again
    ForecastRun.objects.filter(pk=first.pk).update(status="running", updated_at=first.updated_at - timedelta(hours=5))
    with django_capture_on_commit_callbacks(execute=True):
        _run, queued = forecast_run_request(night=today())
    assert queued and len(sent) == 2
