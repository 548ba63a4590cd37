"""Recommended prices: the markup rule, the guardrails' bounds and the margin floor."""

from __future__ import annotations

import math

import pandas as pd
import pytest

from shopkeeper.decide import PriceGuardrails
from shopkeeper.pricing import ElasticityResult, from_frame, optimal_price, recommend_prices


def _result(elasticities: dict[str, tuple[float, float, float]]) -> ElasticityResult:
    own = pd.DataFrame(
        [
            {
                "product_id": p,
                "title": p,
                "elasticity": e,
                "se": 0.1,
                "lo": lo,
                "hi": hi,
                "n": 50,
                "source": "product",
            }
            for p, (e, lo, hi) in elasticities.items()
        ]
    )
    empty = pd.DataFrame()
    return ElasticityResult(own, empty, empty, empty, empty, "location")


def _panel(prices: dict[str, float], costs: dict[str, float]):
    frame = pd.DataFrame(
        [
            (p, "s0", pd.Timestamp("2024-01-04") + pd.Timedelta(days=7 * t), 10.0, price)
            for p, price in prices.items()
            for t in range(4)
        ],
        columns=["product_id", "location_id", "period", "units", "price"],
    )
    products = pd.DataFrame(
        {
            "product_id": list(prices),
            "title": list(prices),
            "category": "",
            "price": list(prices.values()),
            "cost": [costs[p] for p in prices],
        }
    )
    return from_frame(frame, products=products)


def test_the_markup_rule() -> None:
    assert optimal_price(-2.0, 5.0) == pytest.approx(10.0)
    assert optimal_price(-3.0, 6.0) == pytest.approx(9.0)
    assert math.isinf(optimal_price(-1.0, 5.0)) and math.isinf(optimal_price(-0.5, 5.0))


def test_recommendations_respect_the_guardrails() -> None:
    prices = {"inside": 10.0, "high": 10.0, "low": 10.0, "inelastic": 10.0, "thin": 10.0}
    costs = {"inside": 5.5, "high": 8.0, "low": 2.0, "inelastic": 5.0, "thin": 9.0}
    elastic = {
        "inside": (-2.0, -2.4, -1.6),  # c e/(1+e) = 11.0: inside 8..12
        "high": (-2.0, -2.5, -1.5),  # 16.0: held at the ceiling 12
        "low": (-4.0, -4.5, -3.5),  # 2.67: raised to the floor 8
        "inelastic": (-0.7, -0.9, -0.5),  # no finite optimum: the ceiling
        "thin": (-5.0, -5.5, -4.5),  # 11.25, but the margin floor needs 9 / 0.95 = 9.47
    }
    rails = PriceGuardrails(floor=0.8, ceiling=1.2, margin_floor=0.05, max_change_per_day=0.1)
    recs = recommend_prices(_result(elastic), _panel(prices, costs), rails).set_index("product_id")
    assert recs.loc["inside", "recommended_price"] == pytest.approx(11.0)
    assert recs.loc["inside", "bound"] == ""
    assert recs.loc["high", "recommended_price"] == pytest.approx(12.0)
    assert recs.loc["high", "bound"] == "ceiling"
    assert recs.loc["low", "recommended_price"] == pytest.approx(8.0)
    assert recs.loc["low", "bound"] == "floor"
    assert recs.loc["inelastic", "bound"] == "ceiling"
    assert "inelastic" in recs.loc["inelastic", "why"]
    for pid in prices:
        price = recs.loc[pid, "recommended_price"]
        assert rails.allows(price, prices[pid], costs[pid])
        assert (price - costs[pid]) / price >= 0.05 - 1e-9
        # The daily step: at most 10% from today's price.
        assert abs(recs.loc[pid, "first_step"] / prices[pid] - 1) <= 0.1 + 1e-9
    # The expected changes follow the demand curve, the interval brackets them.
    r = recs.loc["inside"]
    assert r["units_change"] == pytest.approx(1.1**-2.0 - 1)
    assert r["revenue_change"] == pytest.approx(1.1**-1.0 - 1)
    assert r["profit_change"] == pytest.approx((11 - 5.5) * 1.1**-2 / 4.5 - 1)
    assert r["units_change_lo"] <= r["units_change"] <= r["units_change_hi"]
    assert r["price_lo"] <= r["recommended_price"] <= r["price_hi"]


def test_the_margin_floor_binds_and_no_allowed_price_is_explained() -> None:
    rails = PriceGuardrails(floor=0.8, ceiling=1.2, margin_floor=0.2, max_change_per_day=None)
    elastic = {"thin": (-6.0, -6.5, -5.5), "under": (-2.0, -2.5, -1.5)}
    prices = {"thin": 10.0, "under": 10.0}
    costs = {"thin": 8.0, "under": 11.0}  # thin: floor 8 / 0.8 = 10; under: needs 13.75 > 12
    recs = recommend_prices(_result(elastic), _panel(prices, costs), rails).set_index("product_id")
    assert recs.loc["thin", "recommended_price"] == pytest.approx(10.0)
    assert recs.loc["thin", "bound"] == "margin floor"
    assert math.isnan(recs.loc["under", "recommended_price"])
    assert "no price is allowed" in recs.loc["under", "why"]
