"""The global LightGBM model and per-series selection, on series whose answers are known."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from shopkeeper.errors import ConfigError
from shopkeeper.forecast._backtest import backtest, split
from shopkeeper.forecast._global import forecast_global
from shopkeeper.forecast._models import NAMES, forecaster, model_label, models_by_name
from shopkeeper.forecast._select import forecast_selected


def _priced(series: int = 40, n: int = 70, seed: int = 5) -> pd.DataFrame:
    """Weekly units that answer to price (elasticity -2.5) and to a feature promotion (x1.8)."""
    rng = np.random.default_rng(seed)
    periods = pd.date_range("2024-01-04", periods=n, freq="7D")
    rows = []
    for s in range(series):
        base = rng.uniform(20, 200)
        usual = rng.uniform(2, 6)
        cut = rng.random(n) < 0.25
        price = usual * np.where(cut, rng.uniform(0.6, 0.85, n), 1.0)
        feature = (rng.random(n) < 0.15).astype(float)
        mean = base * (price / usual) ** -2.5 * np.where(feature > 0, 1.8, 1.0)
        rows.append(
            pd.DataFrame(
                {
                    "series": f"s{s}",
                    "product_id": f"p{s % 8}",
                    "location_id": f"l{s // 8}",
                    "period": periods,
                    "y": rng.poisson(mean).astype(float),
                    "price": price,
                    "discount": cut.astype(float),
                    "feature": feature,
                }
            )
        )
    return pd.concat(rows, ignore_index=True)


def test_the_global_model_reads_price_and_promotion_as_known_inputs() -> None:
    frame = _priced()
    (window,) = split(frame, 8)
    future = window.test.drop(columns="y")
    out = forecast_global(window.train, future, (0.8,))
    joined = window.test.merge(out, on=["series", "step"])
    # A price cut or a feature lifts the forecast the way it lifts the truth.
    cut = joined["discount"] > 0
    ratio = joined.loc[cut, "yhat"].mean() / joined.loc[~cut, "yhat"].mean()
    truth = joined.loc[cut, "y"].mean() / joined.loc[~cut, "y"].mean()
    assert ratio == pytest.approx(truth, rel=0.25) and ratio > 1.5
    # Same future with every price back at its usual level: the forecast falls.
    usual = future.copy()
    usual["price"] = window.train.groupby("series")["price"].max().reindex(usual["series"]).values
    usual["discount"] = 0.0
    flat = forecast_global(window.train, usual, ())
    assert flat["yhat"].sum() < 0.85 * out["yhat"].sum()
    # Against a moving average that cannot see prices, a far better backtest.
    table = backtest(frame, models_by_name(["ma", "lgbm"], 4), 8).table.set_index("model")
    assert table.loc["LightGBM global", "wape"] < 0.7 * table.loc["moving average (4)", "wape"]
    assert (out["lo-80"] <= out["yhat"]).all() and (out["yhat"] <= out["hi-80"]).all()


def test_global_intervals_cover_about_what_they_state() -> None:
    frame = _priced(series=150, n=50, seed=2)
    result = backtest(frame, models_by_name(["lgbm"], 4), 6, levels=(0.8, 0.95))
    row = result.table.iloc[0]
    # Exchangeable errors (the same process throughout): split conformal holds its level
    # (seeds 0-3 gave 0.76-0.81 and 0.94-0.95 on 900 points).
    assert row["coverage_80"] == pytest.approx(0.8, abs=0.06)
    assert row["coverage_95"] == pytest.approx(0.95, abs=0.03)


def test_the_global_model_refuses_too_little_history_and_unknown_series() -> None:
    tiny = _priced(series=2, n=6)
    (window,) = split(tiny, 2)
    with pytest.raises(ConfigError, match="too little history"):
        forecast_global(window.train, window.test.drop(columns="y"), ())
    frame = _priced(series=3, n=30)
    (window,) = split(frame, 4)
    stranger = window.test.drop(columns="y").assign(series="nobody")
    with pytest.raises(ConfigError, match="nobody has no history"):
        forecast_global(window.train, stranger, ())
    # Rows ahead without an input the history has would read it as missing: refused.
    blind = window.test.drop(columns=["y", "product_id"])
    with pytest.raises(ConfigError, match=r"lack the known input\(s\) product_id"):
        forecast_global(window.train, blind, ())


def test_selection_gives_each_series_the_model_that_suits_it() -> None:
    rng = np.random.default_rng(2)
    n = 80
    periods = pd.date_range("2024-01-01", periods=n)
    steady = [
        pd.DataFrame({"series": f"flat{i}", "period": periods, "y": rng.poisson(30, n) * 1.0})
        for i in range(6)
    ]
    # A trend only a model with a trend follows; the moving average lags behind it.
    trend = [
        pd.DataFrame(
            {
                "series": f"up{i}",
                "period": periods,
                "y": 10 + 2.0 * np.arange(n) + rng.normal(0, 1, n),
            }
        )
        for i in range(6)
    ]
    frame = pd.concat(steady + trend, ignore_index=True)
    (window,) = split(frame, 7)
    candidates = [("naive", forecaster("naive", 7)), ("ma", forecaster("ma", 7))]
    out = forecast_selected(window.train, window.test.drop(columns="y"), (0.8,), candidates)
    chosen = out.groupby("series")["model"].first()
    assert (chosen[chosen.index.str.startswith("up")] == "naive").all()
    assert (chosen[chosen.index.str.startswith("flat")] == "ma").mean() >= 0.5
    assert {"lo-80", "hi-80"} <= set(out.columns) and (out["hi-80"] >= out["lo-80"]).all()
    with pytest.raises(ConfigError, match="at least one candidate"):
        forecast_selected(window.train, window.test.drop(columns="y"), (), [])


def test_every_short_name_has_a_label_and_unknown_names_are_refused() -> None:
    assert {model_label(n, 4) for n in NAMES} >= {"AutoETS [log]", "LightGBM global", "naive"}
    with pytest.raises(ConfigError, match="unknown model 'prophet'"):
        forecaster("prophet", 7)
    with pytest.raises(ConfigError, match="auto cannot choose from auto"):
        forecaster("auto", 7, candidates=["ma", "auto"])
