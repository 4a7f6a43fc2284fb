"""The rolling-origin backtest and the rule that decides which model serves."""

from datetime import date

import numpy as np
import pytest
import torch

from ai.forecasting.engine.backtest import backtest, choose_model, origin_dates, series_model
from ai.forecasting.engine.types import BacktestResult, ModelScore, Series

from .support import TINY_NET, monthly_series, weekly_series

torch.set_num_threads(1)
OPTIONS = {"lightgbm": {"n_estimators": 30}, "gru": TINY_NET, "lstm": TINY_NET}


def test_origins_are_weekly_and_leave_the_horizon_observed():
    series = weekly_series(days=200)
    origins = origin_dates([series], horizon=14, n_origins=5, step=7)
    assert origins[-1] == series.dates[-15]
    assert [(b - a).days for a, b in zip(origins, origins[1:], strict=False)] == [7, 7, 7, 7]


def test_backtest_scores_every_model_per_horizon_and_compares_with_the_best_baseline():
    series = [weekly_series("A", days=220, seed=1), weekly_series("B", days=220, level=25, seed=2)]
    models = ["seasonal_naive", "weekday_mean4", "auto_ets", "lightgbm", "gru"]
    seen = []
    result = backtest(
        series, horizon=7, n_origins=3, models=models, seeds=2, options=OPTIONS, progress=lambda m, f: seen.append(f)
    )
    assert list(result.scores) == models
    assert len(result.origins) == 3 and result.horizon == 7
    assert seen[-1] == 1.0 and seen == sorted(seen)
    for score in result.scores.values():
        assert len(score.mae) == len(score.mase) == len(score.coverage80) == 7
        assert score.mae_overall > 0 and 0 <= score.extra["coverage95_overall"] <= 100
        assert score.extra["cases"] == 6  # 3 origins x 2 series
    assert result.best_baseline in models[:4]
    assert set(result.bootstrap_vs_best) == set(models) - {result.best_baseline}
    for low, high in result.bootstrap_vs_best.values():
        assert low <= high
    gru = result.scores["gru"].extra
    assert gru["seeds"] == 2 and len(gru["seed_mae"]) == 2
    assert result.winner in models and result.reason


def test_the_seasonal_naive_scores_are_those_computed_by_hand():
    series = weekly_series(days=120, seed=7)
    result = backtest([series], horizon=7, n_origins=2, models=["seasonal_naive"])
    y = series.values
    errors = []
    for origin in result.origins:
        i = series.dates.index(origin)
        errors.append(np.abs(y[i - 6 : i + 1] - y[i + 1 : i + 8]))
    assert result.scores["seasonal_naive"].mae_overall == pytest.approx(np.mean(errors))
    scale_first = np.mean(
        np.abs(y[7 : series.dates.index(result.origins[0]) + 1] - y[: series.dates.index(result.origins[0]) - 6])
    )
    assert result.scores["seasonal_naive"].mase[0] == pytest.approx(
        np.mean(
            [
                errors[0][0] / scale_first,
                errors[1][0]
                / np.mean(
                    np.abs(
                        y[7 : series.dates.index(result.origins[1]) + 1]
                        - y[: series.dates.index(result.origins[1]) - 6]
                    )
                ),
            ]
        )
    )


def test_the_backtest_uses_no_value_after_each_origin():
    series = weekly_series(days=200, seed=5)
    result = backtest(
        [series], horizon=7, n_origins=3, models=["weekday_mean4", "lightgbm", "gru"], seeds=1, options=OPTIONS
    )
    first = series.dates.index(result.origins[0])
    altered = Series(key=series.key, dates=series.dates, values=series.values.copy())
    altered.values[first + 1 :] += 50
    changed = backtest(
        [altered], horizon=7, n_origins=3, models=["weekday_mean4", "lightgbm", "gru"], seeds=1, options=OPTIONS
    )
    for model in ("weekday_mean4", "lightgbm", "gru"):
        before = result.details["points"][model]
        after = changed.details["points"][model]
        np.testing.assert_array_equal(before[0], after[0])  # the first origin saw the same history
        assert not np.array_equal(before[2], after[2])  # a later origin saw the change


def test_the_backtest_is_reproducible():
    series = [weekly_series(days=160, seed=9)]
    a = backtest(series, horizon=7, n_origins=2, models=["lstm"], seeds=2, options=OPTIONS)
    b = backtest(series, horizon=7, n_origins=2, models=["lstm"], seeds=2, options=OPTIONS)
    np.testing.assert_array_equal(a.details["quantiles"]["lstm"], b.details["quantiles"]["lstm"])


def test_interval_coverage_is_near_nominal_on_a_series_with_known_noise():
    series = [weekly_series("A", days=300, level=80, seed=11), weekly_series("B", days=300, level=40, seed=12)]
    result = backtest(series, horizon=7, n_origins=12, models=["weekday_mean4", "gru"], seeds=1, options=OPTIONS)
    for model, score in result.scores.items():
        assert 65 <= score.extra["coverage80_overall"] <= 95, model
        assert 85 <= score.extra["coverage95_overall"] <= 100, model


def test_a_short_series_gets_only_baselines_and_the_note_names_it():
    series = [weekly_series("LONG", days=200), weekly_series("NEW", days=45, start=date(2023, 6, 6), seed=3)]
    assert series[1].dates[-1] == series[0].dates[-1]
    result = backtest(series, horizon=7, n_origins=3, models=["weekday_mean4", "gru"], seeds=1, options=OPTIONS)
    assert any(note.startswith("NEW: 45 days of history") and "baselines only" in note for note in result.notes)
    assert result.scores["weekday_mean4"].extra["cases"] == 6
    assert result.scores["gru"].extra["cases"] == 3  # the long series only
    model, reason = series_model(result, "NEW")
    assert model == "weekday_mean4"
    if result.winner == "gru":
        assert "45 days" in reason


def test_monthly_panel_backtest():
    panel = [monthly_series("T1", seed=1), monthly_series("T2", level=500, seed=2)]
    result = backtest(
        panel, horizon=3, n_origins=4, step=1, models=["seasonal_naive", "auto_ets", "gru"], seeds=1, options=OPTIONS
    )
    assert result.origins[-1] == date(2019, 1, 1)  # 40 months from 2016-01 end in 2019-04: 3 months after it
    assert result.scores["gru"].extra["cases"] == 8
    assert "past forecasts of 3 months each" in result.reason and " a month " in result.reason
    assert " a day" not in result.reason


def test_a_backtest_with_nothing_to_score_says_why():
    with pytest.raises(ValueError, match="at least 60 days"):
        backtest([weekly_series(days=30)], horizon=14, n_origins=52, models=["gru"])


def score(model, mae):
    return ModelScore(
        model=model,
        horizons=[1],
        mae=[mae],
        smape=[0],
        mase=[0],
        bias=[0],
        coverage80=[80],
        coverage95=[95],
        mae_overall=mae,
        mase_overall=0.7,
        train_seconds=1,
    )


def result_with(gru_mae, interval):
    return BacktestResult(
        origins=[date(2024, 1, 1)] * 52,
        horizon=14,
        scores={"auto_ets": score("auto_ets", 11.9), "lightgbm": score("lightgbm", 11.6), "gru": score("gru", gru_mae)},
        best_baseline="lightgbm",
        bootstrap_vs_best={"gru": interval, "auto_ets": (0.0, 0.05)},
        winner="",
        reason="",
    )


def test_a_network_serves_when_its_interval_stays_within_two_percent():
    model, reason = choose_model(result_with(11.0, (-0.09, -0.01)))
    assert model == "gru"
    assert "11.0" in reason and "11.6" in reason and "-9.0% to -1.0%" in reason


def test_a_network_that_is_better_on_average_but_not_surely_does_not_serve():
    model, reason = choose_model(result_with(11.5, (-0.05, 0.03)))
    assert model == "lightgbm"
    assert "could be chance" in reason and "+3.0%" in reason


def test_a_baseline_that_wins_serves_and_the_reason_says_how_far_the_network_was():
    model, reason = choose_model(result_with(12.5, (0.03, 0.12)))
    assert model == "lightgbm"
    assert "11.6" in reason and "GRU" in reason and "8% worse" in reason
