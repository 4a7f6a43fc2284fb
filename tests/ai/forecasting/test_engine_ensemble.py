"""The ensemble: the average of the GRU, LSTM and LightGBM forecasts, in serving and in the backtest."""

import numpy as np
import pytest
import torch

from ai.forecasting.engine.backtest import backtest
from ai.forecasting.engine.models import ENSEMBLE_PARTS, fit_forecast, hyperparameters, load_artifact
from ai.forecasting.engine.types import QUANTILES

from .support import TINY_NET, weekly_series

torch.set_num_threads(1)
PARTS = {"gru": TINY_NET, "lstm": TINY_NET, "lightgbm": {"n_estimators": 20}}


def panel():
    return [weekly_series("A", days=200, seed=1), weekly_series("B", days=200, level=20, seed=2)]


def test_the_ensemble_forecast_is_the_average_of_its_parts_and_keeps_their_files():
    series = panel()
    forecasts, artifact = fit_forecast(series, "ensemble", seeds=2, options=PARTS)
    parts = {part: fit_forecast(series, part, seeds=2, options=PARTS[part]) for part in ENSEMBLE_PARTS}
    for i, forecast in enumerate(forecasts):
        expected = np.mean([parts[part][0][i].mean for part in ENSEMBLE_PARTS], axis=0)
        assert forecast.model == "ensemble"
        assert np.allclose(forecast.mean, expected)
        for q in QUANTILES:
            assert np.allclose(forecast.quantiles[q], np.mean([parts[p][0][i].quantiles[q] for p in parts], axis=0))
    stored = load_artifact(artifact)
    assert stored["model"] == "ensemble" and set(stored["parts"]) == set(ENSEMBLE_PARTS)
    assert load_artifact(stored["parts"]["gru"])["model"] == "gru"


def test_the_ensemble_takes_options_per_part_only():
    with pytest.raises(ValueError, match="per part"):
        fit_forecast(panel(), "ensemble", options={"epochs": 3})


def test_in_the_backtest_the_ensemble_averages_its_parts_forecasts_without_fitting_again():
    series = panel()
    result = backtest(
        series, horizon=7, n_origins=3, models=["seasonal_naive", *ENSEMBLE_PARTS, "ensemble"], seeds=2,
        options=PARTS,
    )  # fmt: skip
    points = result.details["points"]
    assert np.allclose(points["ensemble"], np.mean([points[p] for p in ENSEMBLE_PARTS], axis=0))
    assert np.allclose(
        result.details["quantiles"]["ensemble"], np.mean([result.details["quantiles"][p] for p in ENSEMBLE_PARTS], 0)
    )
    ensemble = result.scores["ensemble"]
    assert len(ensemble.extra["seed_mae"]) == 2
    assert ensemble.train_seconds == pytest.approx(sum(result.scores[p].train_seconds for p in ENSEMBLE_PARTS))
    # alone, it fits its parts itself: the same forecasts
    alone = backtest(series, horizon=7, n_origins=3, models=["seasonal_naive", "ensemble"], seeds=2,
                     options={"ensemble": PARTS})  # fmt: skip
    assert np.allclose(alone.details["points"]["ensemble"], points["ensemble"])


def test_the_registry_records_every_option_a_model_was_trained_with():
    gru = hyperparameters("gru", {"epochs": 5})
    assert gru["epochs"] == 5 and gru["hidden"] == 16 and gru["scope"] == "global"
    assert hyperparameters("lightgbm", None)["n_estimators"] == 300
    ensemble = hyperparameters("ensemble", {"lstm": {"hidden": 8}})
    assert set(ensemble) == set(ENSEMBLE_PARTS)
    assert ensemble["lstm"]["hidden"] == 8 and ensemble["gru"]["hidden"] == 16
    assert hyperparameters("auto_ets", {"window": 364}) == {"window": 364}
