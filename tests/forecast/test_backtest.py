"""Baselines and backtests on series whose right answers are known."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pytest

from shopkeeper.errors import ConfigError
from shopkeeper.forecast._backtest import backtest, split
from shopkeeper.forecast._baselines import baselines, forecast_baseline


def _frame(n: int = 40, series: int = 30, seed: int = 3) -> pd.DataFrame:
    """Weekly series: a level per series, a 4-week cycle and Poisson noise."""
    rng = np.random.default_rng(seed)
    rows = []
    periods = pd.date_range("2024-01-04", periods=n, freq="7D")
    for s in range(series):
        level = rng.uniform(5, 50)
        cycle = 1 + 0.5 * np.sin(2 * np.pi * np.arange(n) / 4)
        y = rng.poisson(level * cycle)
        rows.append(pd.DataFrame({"series": f"s{s}", "period": periods, "y": y.astype(float)}))
    return pd.concat(rows, ignore_index=True)


def _models(season: int) -> list:
    return [
        (
            b.name,
            lambda train, future, levels, b=b: forecast_baseline(
                b, train, int(future["step"].max()), levels
            ),
        )
        for b in baselines(season)
    ]


def test_the_rules_forecast_what_they_say() -> None:
    train = pd.DataFrame({"series": ["a"] * 8, "y": [1.0, 2, 3, 4, 5, 6, 7, 8]})
    by_name = {b.name: b for b in baselines(4)}
    naive = forecast_baseline(by_name["naive"], train, 3)
    assert list(naive["yhat"]) == [8.0, 8.0, 8.0]
    seasonal = forecast_baseline(by_name["seasonal naive (4)"], train, 6)
    assert list(seasonal["yhat"]) == [5.0, 6.0, 7.0, 8.0, 5.0, 6.0]
    average = forecast_baseline(by_name["moving average (4)"], train, 2)
    assert list(average["yhat"]) == [6.5, 6.5]
    # Intervals hold the point forecast and widen (never shrink) with the level.
    assert (naive["lo-95"] <= naive["lo-80"]).all() and (naive["hi-80"] <= naive["hi-95"]).all()
    assert (naive["lo-80"] <= naive["yhat"]).all() and (naive["yhat"] <= naive["hi-80"]).all()


def test_last_observations_split_and_a_fixed_origin() -> None:
    frame = _frame(n=20, series=3)
    frame = frame.drop(index=frame.index[(frame["series"] == "s1") & (frame.index % 20 == 5)])
    (window,) = split(frame, 4)
    # Every series is tested on its own last four observations, gaps skipped.
    assert window.test.groupby("series").size().eq(4).all()
    assert list(window.test["step"].iloc[:4]) == [1, 2, 3, 4]
    assert len(window.train) == len(frame) - 12
    fixed = split(frame, 4, test_from=dt.date(2024, 3, 1))[0]
    assert (fixed.test["period"] >= pd.Timestamp("2024-03-01")).all()
    assert (fixed.train["period"] < pd.Timestamp("2024-03-01")).all()
    rolling = split(frame, 4, windows=3)
    assert len(rolling) == 3 and (rolling[2].test["period"] < rolling[1].test["period"].min()).all()
    with pytest.raises(ConfigError, match="no observation on or after"):
        split(frame, 4, test_from=dt.date(2030, 1, 1))
    with pytest.raises(ConfigError, match="horizon"):
        split(frame, 0)


def test_a_backtest_scores_every_model_and_the_seasonal_rule_wins_on_a_cycle() -> None:
    frame = _frame()
    result = backtest(frame, _models(4), 8, windows=2, season=1)
    table = result.table.set_index("model")
    assert result.windows == 2 and result.series == 30 and result.points == 2 * 30 * 8
    assert table.loc["seasonal naive (4)", "wape"] < table.loc["naive", "wape"]
    assert table.loc["seasonal naive (4)", "mase"] < table.loc["naive", "mase"]
    # The conformal intervals hold about their level on held-out weeks.
    for level in (80, 95):
        assert abs(table.loc["seasonal naive (4)", f"coverage_{level}"] - level / 100) < 0.08
    f = result.forecasts
    assert len(f) == 3 * 2 * 30 * 8 and set(f["window"]) == {0, 1}
    # WAPE is recomputed from the forecasts it scored.
    naive = f[f["model"] == "naive"]
    assert table.loc["naive", "wape"] == pytest.approx(
        np.abs(naive["y"] - naive["yhat"]).sum() / naive["y"].sum()
    )
