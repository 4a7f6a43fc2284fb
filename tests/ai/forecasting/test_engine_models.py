"""fit_forecast: every model forecasts the days after the origin with ordered intervals, reproducibly, from the
history up to the origin only."""

from datetime import timedelta

import numpy as np
import pytest
import torch

from ai.forecasting.engine.models import BASELINES, MODEL_NAMES, RECURRENT, fit_forecast, load_artifact
from ai.forecasting.engine.types import QUANTILES, Series

from .support import TINY_NET, monthly_series, weekly_series

torch.set_num_threads(1)
FAST = {"lightgbm": {"n_estimators": 30}, "gru": TINY_NET, "lstm": TINY_NET}
FAST["ensemble"] = dict(FAST)


def test_model_names_are_the_baselines_then_the_networks():
    assert BASELINES == ("seasonal_naive", "weekday_mean4", "auto_ets", "auto_theta", "lightgbm")
    assert RECURRENT == ("gru", "lstm", "ensemble")  # the ensemble needs its networks' history and rule
    assert MODEL_NAMES == BASELINES + RECURRENT


@pytest.mark.parametrize("model", MODEL_NAMES)
def test_each_model_forecasts_the_days_after_the_origin_with_ordered_quantiles(model):
    series = weekly_series(days=150)
    [forecast], artifact = fit_forecast([series], model, horizon=10, origin_index=119, options=FAST.get(model))
    assert forecast.key == "W1" and forecast.model == model
    assert forecast.origin == series.dates[119]
    assert forecast.dates == [series.dates[119] + timedelta(days=h) for h in range(1, 11)]
    stacked = np.stack([forecast.quantiles[q] for q in QUANTILES])
    assert stacked.shape == (5, 10)
    assert np.all(np.diff(stacked, axis=0) >= 0) and np.all(stacked >= 0)
    assert np.all(np.abs(forecast.mean - 60) < 30)  # around the level of the series
    assert load_artifact(artifact)["model"] == model


@pytest.mark.parametrize("model", MODEL_NAMES)
def test_values_after_the_origin_change_nothing(model):
    """Leakage: a series whose future is wildly different gives the same forecast from the same origin."""
    series = weekly_series(days=150, seed=3)
    altered = Series(key=series.key, dates=series.dates, values=series.values.copy())
    altered.values[101:] = altered.values[101:] * 5 + 100
    [a], _ = fit_forecast([series], model, horizon=7, origin_index=100, options=FAST.get(model))
    [b], _ = fit_forecast([altered], model, horizon=7, origin_index=100, options=FAST.get(model))
    for q in QUANTILES:
        np.testing.assert_array_equal(a.quantiles[q], b.quantiles[q])


@pytest.mark.parametrize("cell", RECURRENT)
def test_networks_are_reproducible_with_a_seed_and_differ_across_seeds(cell):
    series = [weekly_series("A", days=120, seed=1), weekly_series("B", days=120, level=20, seed=2)]
    options = FAST[cell]
    first, artifact_1 = fit_forecast(series, cell, horizon=7, seed=5, options=options)
    again, artifact_2 = fit_forecast(series, cell, horizon=7, seed=5, options=options)
    other, _ = fit_forecast(series, cell, horizon=7, seed=6, options=options)
    for x, y, z in zip(first, again, other, strict=True):
        np.testing.assert_array_equal(x.mean, y.mean)
        assert not np.array_equal(x.mean, z.mean)
    assert artifact_1 == artifact_2


def test_a_seed_ensemble_keeps_every_member_and_warm_starts_from_them():
    series = [weekly_series("A", days=120), weekly_series("B", days=120, level=20, seed=4)]
    _, artifact = fit_forecast(series, "gru", horizon=7, seeds=2, options=TINY_NET)
    stored = load_artifact(artifact)
    assert stored["model"] == "gru"
    assert len(stored["groups"]["global"]["members"]) == 2
    assert stored["groups"]["global"]["keys"] == ["A", "B"]
    longer = [
        weekly_series("A", days=127),
        weekly_series("B", days=127, level=20, seed=4),
    ]
    warm, _ = fit_forecast(longer, "gru", horizon=7, seeds=2, options={**TINY_NET, "warm_start": True}, init=artifact)
    cold, _ = fit_forecast(longer, "gru", horizon=7, seeds=2, options=TINY_NET)
    assert not np.array_equal(warm[0].mean, cold[0].mean)  # it did start from the stored weights
    ignored, _ = fit_forecast(longer, "gru", horizon=7, seeds=2, options=TINY_NET, init=artifact)
    np.testing.assert_array_equal(ignored[0].mean, cold[0].mean)  # unless asked, it trains from scratch


def test_one_network_per_series_when_asked():
    series = [weekly_series("A", days=120), weekly_series("B", days=120, level=20, seed=4)]
    forecasts, artifact = fit_forecast(series, "lstm", horizon=7, options={**TINY_NET, "scope": "per_series"})
    assert [f.key for f in forecasts] == ["A", "B"]
    assert len(load_artifact(artifact)["groups"]) == 2
    assert forecasts[1].mean.mean() < forecasts[0].mean.mean()


@pytest.mark.parametrize("model", ["seasonal_naive", "auto_ets", "lightgbm", "gru"])
def test_monthly_series_are_forecast_by_month(model):
    series = monthly_series(months=36)
    [forecast], _ = fit_forecast([series], model, horizon=3, options=FAST.get(model))
    assert [d.month for d in forecast.dates] == [1, 2, 3]  # the series ends in December 2018
    assert forecast.dates[0].year == 2019


def test_bad_requests_are_refused():
    series = weekly_series(days=80)
    with pytest.raises(ValueError, match="unknown model"):
        fit_forecast([series], "prophet")
    with pytest.raises(ValueError, match="outside"):
        fit_forecast([series], "seasonal_naive", origin_index=500)
    with pytest.raises(ValueError, match="unknown recurrent option"):
        fit_forecast([series], "gru", options={"layers": 3})
