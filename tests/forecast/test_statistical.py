"""statsforecast's models behind the backtest: layout, intervals, intermittent demand."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from shopkeeper.errors import ConfigError
from shopkeeper.forecast._backtest import backtest
from shopkeeper.forecast._models import models_by_name
from shopkeeper.forecast._statistical import forecast_statistical, statistical_names


def _series(n: int = 60) -> pd.DataFrame:
    rng = np.random.default_rng(4)
    steady = 20 + rng.normal(0, 1.0, n)  # a level with a little noise
    rare = np.where(rng.random(n) < 0.2, rng.integers(1, 4, n), 0)  # sells one day in five
    return pd.DataFrame(
        {
            "series": ["steady"] * n + ["rare"] * n,
            "period": list(pd.date_range("2024-01-01", periods=n)) * 2,
            "y": np.r_[steady, rare].astype(float),
        }
    )


def test_every_model_forecasts_every_series_and_step() -> None:
    train = _series()
    assert set(statistical_names()) == {
        "AutoETS",
        "AutoTheta",
        "AutoARIMA",
        "Croston",
        "TSB",
        "ADIDA",
    }
    for name in ("AutoETS", "Croston"):
        out = forecast_statistical(name, train, 5)
        assert sorted(out["step"].unique()) == [1, 2, 3, 4, 5]
        assert set(out["series"]) == {"steady", "rare"} and (out["yhat"] >= 0).all()
    ets = forecast_statistical("AutoETS", train, 5).set_index(["series", "step"])
    # A steady level of 20: the forecast sits on it, inside intervals that widen with the level.
    assert ets.loc["steady", "yhat"].between(19, 21).all()
    assert (ets["lo-95"] <= ets["lo-80"]).all() and (ets["hi-80"] <= ets["hi-95"]).all()
    # Croston forecasts the mean rate of a rarely selling product, not its last sale.
    rare = train[train["series"] == "rare"]["y"]
    croston = forecast_statistical("Croston", train, 5).set_index(["series", "step"])
    assert croston.loc["rare", "yhat"].iloc[0] == pytest.approx(rare.mean(), rel=0.5)
    with pytest.raises(ConfigError, match="unknown model"):
        forecast_statistical("Prophet", train, 5)


def test_log_fit_maps_forecast_and_bounds_back_to_units() -> None:
    train = _series()
    logged = forecast_statistical("AutoETS", train, 3, log=True).set_index(["series", "step"])
    # exp(log(1 + 20)) - 1: back on the units scale, the median of a steady level.
    assert logged.loc["steady", "yhat"].between(19, 21).all()
    assert (logged["lo-80"] <= logged["yhat"]).all() and (logged["yhat"] <= logged["hi-80"]).all()


def test_short_names_in_a_backtest() -> None:
    result = backtest(_series(), models_by_name(["naive", "ets", "tsb", "ets-log"], 7, 1), 7)
    table = result.table.set_index("model")
    assert list(table.index) == ["naive", "AutoETS", "TSB", "AutoETS [log]"]
    assert table.loc["AutoETS", "wape"] < table.loc["naive", "wape"]
    with pytest.raises(ConfigError, match=r"unknown model.*prophet: choose from naive"):
        models_by_name(["prophet"], 7)
