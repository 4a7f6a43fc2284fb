"""The model registry: the backtest's winner serves with its file and figures; a failed training leaves the
previous model serving."""

import hashlib
from datetime import date, timedelta

import pytest
from django.db import IntegrityError, transaction
from django.utils import timezone

from ai.forecasting import services
from ai.forecasting.models import BacktestPiece, ForecastModel, WardForecast
from ai.forecasting.services import artifact_full_path, forecast_nightly_run
from tests.ai.forecasting.test_nightly_support import CHEAP, WardSpec, small_hospital, today

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _artifacts_in_tmp(settings, tmp_path):
    settings.FORECAST_ARTIFACT_DIR = str(tmp_path / "models")


def test_the_winner_serves_with_its_file_figures_and_reason():
    small_hospital()

    run = forecast_nightly_run(night=today(), options=CHEAP)

    model = ForecastModel.objects.get()
    assert (model.version, model.scope, model.status, model.run) == (1, "global", "serving", run)
    data = artifact_full_path(model).read_bytes()
    assert hashlib.sha256(data).hexdigest() == model.artifact_sha256 and len(data) == model.artifact_size
    assert model.best_baseline in CHEAP["models"]
    assert model.reason.startswith(("Seasonal naive", "Mean of the last 4")) and "serves" in model.reason
    assert model.hyperparameters["horizon"] == 14 and model.hyperparameters["seeds"] == 1
    assert model.hyperparameters["options"] == {}  # the naive baselines have none
    assert len(model.backtest_origins) == 2
    for name in CHEAP["models"]:
        score = model.metrics[name]
        assert {"mae", "smape", "mase", "bias", "coverage80", "coverage95", "mae_overall"} <= set(score)
        assert len(score["coverage95"]) == 14
    assert set(model.bootstrap) <= set(CHEAP["models"])


def test_a_newer_night_retires_the_model_that_served_and_reuses_a_recent_backtest():
    small_hospital()
    forecast_nightly_run(night=today() - timedelta(days=1), options=CHEAP)

    run = forecast_nightly_run(night=today(), options=CHEAP)

    old, new = ForecastModel.objects.order_by("version")
    assert (old.status, new.status) == ("retired", "serving")
    assert old.retired_at is not None and new.version == old.version + 1
    # the backtest of yesterday still holds: the same winner is trained on one more day
    assert new.model_name == old.model_name and new.metrics == old.metrics
    assert new.backtest_night == old.backtest_night == today() - timedelta(days=1)
    assert new.window_end == old.window_end + timedelta(days=1)
    assert "backtest" not in run.stage_seconds
    assert run.note_texts == [
        f"The backtest of {today() - timedelta(days=1)} still holds: its winner was trained again on the newest data."
    ]


def test_a_backtest_runs_again_when_it_is_old_or_the_wards_changed(settings):
    settings.FORECAST_BACKTEST_EVERY_DAYS = 2
    small_hospital()
    forecast_nightly_run(night=today() - timedelta(days=2), options=CHEAP)

    run = forecast_nightly_run(night=today(), options=CHEAP)  # two days later

    assert "backtest" in run.stage_seconds
    assert ForecastModel.objects.get(status="serving").backtest_night == today()
    settings.FORECAST_BACKTEST_EVERY_DAYS = 7
    forecast_nightly_run(night=today() + timedelta(days=1), options=CHEAP)
    assert ForecastModel.objects.get(status="serving").backtest_night == today()  # reused
    small_hospital((WardSpec("GM3", "general_medicine", 20, 14.0),))  # a new ward with history
    run = forecast_nightly_run(night=today() + timedelta(days=2), options=CHEAP)
    model = ForecastModel.objects.get(status="serving")
    assert "backtest" in run.stage_seconds and "GM3" in model.series_keys


def test_a_backtest_a_week_later_fits_only_its_new_origin(settings):
    small_hospital()
    first = forecast_nightly_run(night=today() - timedelta(days=7), options=CHEAP)
    fitted = {"code": "backtest_pieces", "reused": 0, "computed": 2 * 2}  # 2 models x 2 origins
    assert fitted in first.notes
    assert BacktestPiece.objects.count() == 4
    origins = ForecastModel.objects.get().backtest_origins
    assert {date.fromisoformat(d).weekday() for d in origins} == {services.ORIGIN_WEEKDAY}

    run = forecast_nightly_run(night=today(), options={**CHEAP, "backtest": True})

    assert {"code": "backtest_pieces", "reused": 2, "computed": 2} in run.notes
    assert "Backtest: 2 forecasts fitted, 2 reused from earlier nights." in run.note_texts
    model = ForecastModel.objects.get(status="serving")
    later = [date.fromisoformat(d) for d in model.backtest_origins]
    assert later == [date.fromisoformat(d) + timedelta(days=7) for d in origins]
    assert BacktestPiece.objects.count() == 6
    # pieces nobody used for PIECE_KEEP_DAYS go
    BacktestPiece.objects.filter(origin=min(later) - timedelta(days=7)).update(
        used_at=timezone.now() - timedelta(days=services.PIECE_KEEP_DAYS + 1)
    )
    forecast_nightly_run(night=today() + timedelta(days=1), options={**CHEAP, "backtest": True})
    assert not BacktestPiece.objects.filter(origin=min(later) - timedelta(days=7)).exists()


def test_a_night_cut_short_in_its_backtest_keeps_what_it_fitted_and_the_next_attempt_resumes(monkeypatch):
    from ai.forecasting.engine import backtest as engine_backtest

    small_hospital()
    real_fit = engine_backtest.fit_tasks
    calls = []

    def fit_that_dies_on_the_fourth(*args, **kwargs):
        calls.append(args[1])
        if len(calls) == 4:
            raise MemoryError("worker killed")
        return real_fit(*args, **kwargs)

    monkeypatch.setattr(engine_backtest, "fit_tasks", fit_that_dies_on_the_fourth)
    first = forecast_nightly_run(night=today(), options=CHEAP)
    assert first.status == "failed" and BacktestPiece.objects.count() == 3

    again = forecast_nightly_run(night=today(), options=CHEAP)

    assert again.status == "succeeded" and again.attempts == 2
    assert {"code": "backtest_pieces", "reused": 3, "computed": 1} in again.notes
    assert len(calls) == 4 + 1


def test_a_failed_training_leaves_the_previous_model_serving(monkeypatch):
    wards = small_hospital()
    forecast_nightly_run(night=today() - timedelta(days=1), options=CHEAP)
    previous = ForecastModel.objects.get()
    real_train = services._train
    calls = []

    def train_that_fails_first(*args, **kwargs):
        calls.append(args[1])
        if len(calls) == 1:
            raise RuntimeError("out of memory while training")
        return real_train(*args, **kwargs)

    monkeypatch.setattr(services, "_train", train_that_fails_first)

    run = forecast_nightly_run(night=today(), options=CHEAP)

    assert run.status == "succeeded", run.error
    previous.refresh_from_db()
    assert previous.status == "serving" and run.model == previous
    failed = ForecastModel.objects.get(status="failed")
    assert failed.version == previous.version + 1 and "out of memory while training" in failed.error
    assert failed.artifact_sha256 == "" and failed.metrics  # its backtest is kept for the record
    assert calls[1] == previous.model_name  # the forecasts come from the serving model's kind
    rows = WardForecast.objects.filter(run=run, ward=wards["GM1"])
    assert rows.count() == 14 and {row.model_id for row in rows} == {previous.pk}
    assert any("keeps serving" in note for note in run.note_texts)


def test_the_database_refuses_two_serving_models():
    fields = {"scope": "global", "model_name": "seasonal_naive", "horizon": 14, "artifact_sha256": "a" * 64}
    ForecastModel.objects.create(version=1, status="serving", serving_since="2026-01-01T00:00Z", **fields)

    with pytest.raises(IntegrityError), transaction.atomic():
        ForecastModel.objects.create(version=2, status="serving", serving_since="2026-01-02T00:00Z", **fields)


def test_the_database_refuses_a_serving_model_without_its_file_and_a_failed_one_without_error():
    with pytest.raises(IntegrityError), transaction.atomic():
        ForecastModel.objects.create(
            version=1, status="serving", scope="global", model_name="gru", horizon=14, serving_since="2026-01-01T00:00Z"
        )
    with pytest.raises(IntegrityError), transaction.atomic():
        ForecastModel.objects.create(version=2, status="failed", scope="global", model_name="gru", horizon=14)
