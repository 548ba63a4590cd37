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


def test_the_rest_of_the_plan_is_read_per_location_and_across_locations() -> None:
    from shopkeeper.forecast._global import _elsewhere

    # Two locations, three products, one period; product a is on discount in l1 only.
    both = pd.DataFrame(
        {
            "product_id": ["a", "b", "c", "a", "b", "c"],
            "location_id": ["l1", "l1", "l1", "l2", "l2", "l2"],
            "period": pd.Timestamp("2024-01-04"),
            "discount": [1.0, 0.0, 0.0, 0.0, 1.0, 1.0],
        }
    )
    logp = np.log([2.0, 4.0, 8.0, 2.0, 2.0, 2.0])
    got = _elsewhere(both, logp)
    # The other products of the location: b and c in l1 see one rival of two on discount.
    assert got["peers_discount"].tolist() == [0.0, 0.5, 0.5, 1.0, 0.5, 0.5]
    assert got["price_vs_cheapest_peer"] == pytest.approx(np.log([1, 2, 4, 1, 1, 1]))
    assert got["price_rank_among_peers"][:3].tolist() == pytest.approx([1 / 3, 2 / 3, 1])
    # The same product across locations: a is on discount in one of its two.
    assert got["chain_discount"].tolist() == [0.5, 0.5, 0.5, 0.5, 0.5, 0.5]
    assert got["price_vs_chain"] == pytest.approx(
        np.log([1, 4 / np.sqrt(8), 2, 1, 1 / 2**0.5, 0.5])
    )
    # One location and one product: nothing can vary, so nothing is added.
    assert _elsewhere(both.iloc[:1], logp[:1]) == {}


def test_a_rivals_promotion_lowers_the_forecast() -> None:
    # Product b sells 60 a week, 25 in weeks when product a is on deal at the same store.
    rng = np.random.default_rng(3)
    periods = pd.date_range("2024-01-04", periods=80, freq="7D")
    rows = []
    for store in range(12):
        deal = (rng.random(80) < 0.25).astype(float)
        for product, mean in (("a", np.where(deal > 0, 90.0, 40.0)), ("b", 60 - 35 * deal)):
            rows.append(
                pd.DataFrame(
                    {
                        "series": f"{product}@{store}",
                        "product_id": product,
                        "location_id": f"l{store}",
                        "period": periods,
                        "y": rng.poisson(mean).astype(float),
                        "price": 3.0,
                        "discount": deal if product == "a" else 0.0,
                    }
                )
            )
    (window,) = split(pd.concat(rows, ignore_index=True), 10)
    out = forecast_global(window.train, window.test.drop(columns="y"), ())
    joined = window.test.merge(out, on=["series", "step"])
    b = joined[joined["product_id"] == "b"]
    rival = b["series"].str.split("@").str[1].map("a@{}".format)
    on_deal = joined.set_index(["series", "step"])["discount"]
    mask = on_deal.reindex(list(zip(rival, b["step"], strict=True))).to_numpy() > 0
    assert mask.any() and (~mask).any()
    ratio = b.loc[mask, "yhat"].mean() / b.loc[~mask, "yhat"].mean()
    assert ratio < 0.6  # the truth: 25 / 60 = 0.42
