"""The engine on a real series: daily emergency-department arrivals of the University of Iowa Hospitals & Clinics
(development split), restricted to a few origins so the test stays fast."""

from pathlib import Path

import numpy as np
import pytest
import torch
from django.conf import settings

from ai.forecasting.engine.backtest import backtest
from ai.forecasting.engine.csvdata import read_csv

from .support import TINY_NET

torch.set_num_threads(1)


def dataset(relative: str) -> Path:
    base = Path(getattr(settings, "DATASETS_DIR", "") or Path(settings.BASE_DIR).parent / "shared" / "datasets")
    path = base / relative
    if not path.exists():
        pytest.skip(f"dataset {relative} is not available here")
    return path


def test_uihc_arrivals_backtest_on_a_few_origins():
    [series] = read_csv(dataset("uihc-ed-arrivals/daily_dev.csv"), known_columns="auto")
    assert series.dates[0].isoformat() == "2013-07-01" and len(series.values) == 1096
    assert "game_day" in series.known and "temp_f" not in series.known  # temperature is not known ahead
    result = backtest(
        [series], horizon=14, n_origins=3, step=28, models=["seasonal_naive", "auto_ets", "gru"], seeds=1,
        calendar="none", options={"gru": TINY_NET},
    )  # fmt: skip
    naive, ets = result.scores["seasonal_naive"], result.scores["auto_ets"]
    assert 8 < naive.mae_overall < 30  # arrivals a day, around 160 on average
    assert ets.mase_overall < 1.0  # better than copying last week
    assert np.isfinite(result.scores["gru"].mae_overall)
    assert 50 <= ets.extra["coverage95_overall"] <= 100
