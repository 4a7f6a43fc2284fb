"""Backtest pieces: a repeated backtest reuses the forecasts whose inputs did not change, and only those."""

from dataclasses import replace
from datetime import timedelta

import numpy as np
import torch

from ai.forecasting.engine.backtest import backtest, origin_dates
from ai.forecasting.engine.pieces import MemoryPieceStore, Piece, piece_dumps, piece_loads

from .support import TINY_NET, weekly_series

torch.set_num_threads(1)
MODELS = ["seasonal_naive", "auto_theta", "lightgbm", "gru"]
OPTIONS = {"lightgbm": {"n_estimators": 20}, "gru": TINY_NET}


def panel(days: int):
    return [weekly_series("A", days=days, seed=1), weekly_series("B", days=days, level=25, seed=2)]


def run(series, store, **kwargs):
    kwargs = {"horizon": 7, "n_origins": 3, "models": MODELS, "seeds": 2, "options": OPTIONS, **kwargs}
    return backtest(series, store=store, **kwargs)


def figures(result):
    return {name: (s.mae_overall, s.extra["coverage80_overall"], s.extra.get("seed_mae")) for name, s in
            result.scores.items()}  # fmt: skip


def test_a_repeated_backtest_reuses_every_piece_and_scores_the_same():
    store = MemoryPieceStore()
    first = run(panel(230), store)
    assert first.details["pieces"] == {"reused": 0, "computed": len(MODELS) * 3}
    assert len(store.pieces) == len(MODELS) * 3
    second = run(panel(230), store)
    assert second.details["pieces"] == {"reused": len(MODELS) * 3, "computed": 0}
    assert figures(second) == figures(first)
    assert second.winner == first.winner and second.reason == first.reason
    # the reused pieces carry the seconds their fitting took
    assert second.scores["gru"].train_seconds == first.scores["gru"].train_seconds


def test_a_week_later_only_the_new_origin_is_fitted():
    store = MemoryPieceStore()
    run(panel(230), store)
    week_later = run(panel(237), store)  # the same days plus 7 more: the origins move by one week
    assert week_later.details["pieces"] == {"reused": len(MODELS) * 2, "computed": len(MODELS)}
    fresh = run(panel(237), MemoryPieceStore())
    assert figures(week_later) == figures(fresh)  # the same numbers as fitting every origin afresh


def test_a_corrected_day_refits_the_origins_after_it_and_a_new_actual_refits_nothing():
    store = MemoryPieceStore()
    series = panel(230)
    first = run(series, store)
    origins = first.origins
    # a value between the second and the third origin changes: the third origin's forecasts are fitted again
    changed = series[0].values.copy()
    changed[series[0].dates.index(origins[1]) + 1] += 5
    again = run([replace(series[0], values=changed), series[1]], store)
    assert again.details["pieces"] == {"reused": len(MODELS) * 2, "computed": len(MODELS)}
    # a value after the last origin is only an actual: nothing is fitted, but the scores use the new value
    later = series[0].values.copy()
    later[series[0].dates.index(origins[-1]) + 2] += 30
    scored = run([replace(series[0], values=later), series[1]], store)
    assert scored.details["pieces"]["computed"] == 0
    assert scored.scores["seasonal_naive"].mae_overall != first.scores["seasonal_naive"].mae_overall


def test_other_options_or_seeds_are_other_pieces():
    store = MemoryPieceStore()
    run(panel(230), store, models=["gru"])
    assert run(panel(230), store, models=["gru"], seeds=3).details["pieces"]["computed"] == 3
    other = {**OPTIONS, "gru": {**TINY_NET, "hidden": 4}}
    assert run(panel(230), store, models=["gru"], options=other).details["pieces"]["computed"] == 3
    assert run(panel(230), store, models=["gru"], calendar="none").details["pieces"]["computed"] == 3


def test_an_anchored_last_origin_is_used_when_it_is_earlier_than_the_data_allows():
    series = panel(230)
    free = origin_dates(series, horizon=7, n_origins=3, step=7)
    anchored = origin_dates(series, horizon=7, n_origins=3, step=7, last_origin=free[-1] - timedelta(days=2))
    assert anchored == [d - timedelta(days=2) for d in free]
    later = origin_dates(series, horizon=7, n_origins=3, step=7, last_origin=free[-1] + timedelta(days=7))
    assert later == free  # never later than the observed horizon allows


def test_a_piece_survives_its_round_trip():
    rng = np.random.default_rng(0)
    piece = Piece(rng.random((2, 7)), rng.random((2, 7, 5)), rng.random((3, 2, 7)), 1.25)
    back = piece_loads(piece_dumps(piece))
    assert np.array_equal(back.point, piece.point) and np.array_equal(back.quantiles, piece.quantiles)
    assert np.array_equal(back.members, piece.members) and back.seconds == 1.25
