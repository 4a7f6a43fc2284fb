"""Accuracy measures on cases worked out by hand."""

import numpy as np
import pytest

from ai.forecasting.engine import metrics


def test_mae_bias_and_smape_on_a_hand_computed_case():
    actual = np.array([10.0, 20.0, 0.0, 5.0])
    forecast = np.array([12.0, 15.0, 0.0, 5.0])
    assert metrics.mae(actual, forecast) == pytest.approx((2 + 5 + 0 + 0) / 4)
    assert metrics.bias(actual, forecast) == pytest.approx((2 - 5 + 0 + 0) / 4)  # forecast minus actual
    # 200*|f-a|/(|a|+|f|): 200*2/22, 200*5/35, 0 where both are 0, 0
    assert metrics.smape(actual, forecast) == pytest.approx((400 / 22 + 1000 / 35) / 4)


def test_coverage_counts_the_interval_ends_as_inside():
    actual = np.array([1.0, 2.0, 3.0, 4.0])
    assert metrics.coverage(actual, np.array([1, 3, 0, 5]), np.array([1, 4, 3, 6])) == pytest.approx(50.0)


def test_mase_scales_by_the_in_sample_seasonal_naive_error():
    history = np.array([1, 2, 3, 4, 5, 6, 7, 3, 2, 3, 4, 5, 6, 7], dtype=float)  # lag-7 errors: 2,0,0,0,0,0,0
    assert metrics.mase_scale(history, 7) == pytest.approx(2 / 7)
    assert metrics.mase(np.array([10.0]), np.array([11.0]), history, 7) == pytest.approx(1 / (2 / 7))


def test_mase_scale_falls_back_when_the_series_repeats_exactly():
    assert metrics.mase_scale(np.array([5.0] * 7 + [5.0] * 7), 7) == 1.0
    assert metrics.mase_scale(np.array([1.0, 2.0, 3.0]), 7) == pytest.approx(1.0)  # lag-1 naive


def test_paired_bootstrap_is_zero_for_identical_errors_and_exact_for_a_constant_ratio():
    rng = np.random.default_rng(1)
    errors = rng.uniform(1, 10, size=(40, 14))
    assert metrics.paired_bootstrap(errors, errors) == pytest.approx((0.0, 0.0, 0.0))
    estimate, low, high = metrics.paired_bootstrap(errors * 0.9, errors)
    assert (estimate, low, high) == pytest.approx((-0.1, -0.1, -0.1))


def test_paired_bootstrap_interval_contains_the_estimate_and_clears_zero_for_a_real_gain():
    rng = np.random.default_rng(2)
    reference = rng.uniform(5, 15, size=(52, 14))
    better = reference * rng.uniform(0.85, 0.95, size=(52, 14))
    estimate, low, high = metrics.paired_bootstrap(better, reference, seed=3)
    assert low < estimate < high < 0


def test_paired_bootstrap_refuses_unpaired_cases():
    with pytest.raises(ValueError, match="same cases"):
        metrics.paired_bootstrap(np.ones((3, 2)), np.ones((4, 2)))
