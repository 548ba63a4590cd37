"""The price bandit on the demo shop's planted price response."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from shopkeeper.decide._guardrails import PriceGuardrails
from shopkeeper.decide._pricing_sim import (
    PriceBanditResult,
    PricedProduct,
    buy_chance,
    demo_products,
    price_environment,
    simulate_price_bandit,
)
from shopkeeper.demo import DemoConfig, generate
from shopkeeper.errors import ConfigError


@pytest.fixture(scope="module")
def products() -> list[PricedProduct]:
    return demo_products(generate(DemoConfig.preset("small")), count=6)


@pytest.fixture(scope="module")
def result(products: list[PricedProduct]) -> PriceBanditResult:
    return simulate_price_bandit(
        products, days=90, seeds=(0, 1, 2), policies=("fixed", "greedy", "thompson")
    )


def test_demo_products_carry_the_planted_response(products: list[PricedProduct]) -> None:
    shop = generate(DemoConfig.preset("small"))
    truth = shop.truth["elasticity_by_top_category"]
    catalog = shop.tables["products"].set_index("product_id")
    assert len(products) == 6
    units = [p.daily_units for p in products]
    assert units == sorted(units, reverse=True) and units[-1] > 1
    for p in products:
        row = catalog.loc[p.product_id]
        assert p.reference == row["price"] and p.cost == row["cost"]
        assert p.elasticity == truth[row["category"].split(" > ")[0]]


def test_environment_is_the_planted_model() -> None:
    product = PricedProduct("p", reference=100.0, cost=50.0, elasticity=-3.0, daily_units=4.0)
    env = price_environment(product, seed=1, days=30, conversion=0.04)
    assert np.allclose(env.prices, PriceGuardrails().grid(100.0, 50.0))
    assert buy_chance(product, np.array([100.0]), 0.04)[0] == pytest.approx(0.04)
    assert np.allclose(env.buy_chance, 0.04 * (env.prices / 100.0) ** -3.0)
    # With elasticity -3 the best price is 1.5 x cost = 75: the grid's floor of 80 wins.
    fine = np.linspace(env.prices[0], env.prices[-1], 1001)
    best = fine[np.argmax((fine - 50.0) * fine**-3.0)]
    assert env.prices[env.best] == pytest.approx(best, abs=0.01)
    assert env.list_expected == pytest.approx(50.0 * 0.04)
    assert env.visitors.mean() == pytest.approx(100.0, rel=0.1)
    assert len(env.uniforms) == env.visitors.sum()
    # The same seed, the same visitors; another seed, others.
    again = price_environment(product, seed=1, days=30, conversion=0.04)
    assert np.array_equal(again.uniforms, env.uniforms)
    other = price_environment(product, seed=2, days=30, conversion=0.04)
    assert not np.array_equal(other.visitors, env.visitors)
    # The best arm has no regret; every other arm has some.
    assert env.daily_regret(np.full(len(env.uniforms), env.best)).sum() == 0
    assert env.best == 0
    assert env.daily_regret(np.full(len(env.uniforms), 6)).sum() > 0


def test_thompson_beats_the_fixed_price_and_greedy(result: PriceBanditResult) -> None:
    summary = result.summary
    assert summary.days == 90 and summary.seeds == (0, 1, 2)
    thompson = summary.regret("thompson")
    assert thompson < summary.regret("fixed")
    assert thompson < summary.regret("greedy")
    assert summary.best() == "thompson"
    # Regret is what was lost against the best price: less than what it earns.
    assert 0 < summary.final.loc["thompson", "share"] < 0.5


def test_the_table_is_tidy_and_consistent(result: PriceBanditResult) -> None:
    daily = result.daily
    assert list(daily.columns) == [
        "seed",
        "policy",
        "product_id",
        "day",
        "visitors",
        "regret",
        "cumulative_regret",
        "reward",
        "optimal",
    ]
    assert len(daily) == 3 * 3 * 6 * 90
    assert (daily["regret"] >= -1e-9).all()
    one = daily[(daily["policy"] == "thompson") & (daily["seed"] == 0)]
    for _, rows in one.groupby("product_id"):
        assert np.allclose(rows["cumulative_regret"], rows["regret"].cumsum())
    # Every policy met the same visitors.
    visitors = daily.groupby(["seed", "product_id", "policy"])["visitors"].sum().unstack()
    assert (visitors.nunique(axis=1) == 1).all()
    curve = result.curve()
    assert set(curve.columns) == {"policy", "day", "mean", "std"}
    last = curve[curve["day"] == 89].set_index("policy")["mean"]
    assert last["thompson"] == pytest.approx(result.summary.regret("thompson"))


def test_deterministic_for_a_seed(products: list[PricedProduct]) -> None:
    kwargs = {"days": 20, "seeds": (5,), "policies": ("thompson", "ucb", "epsilon-greedy")}
    a = simulate_price_bandit(products[:2], **kwargs)  # type: ignore[arg-type]
    b = simulate_price_bandit(products[:2], **kwargs)  # type: ignore[arg-type]
    pd.testing.assert_frame_equal(a.daily, b.daily)


def test_bad_settings_are_refused(products: list[PricedProduct]) -> None:
    with pytest.raises(ConfigError, match="unknown price policy 'best'"):
        simulate_price_bandit(products, policies=("best",))
    with pytest.raises(ConfigError, match=r"conversion=1\.5: must be a share in \(0, 1\]"):
        price_environment(products[0], 0, conversion=1.5)
    with pytest.raises(ConfigError, match="at least one product"):
        simulate_price_bandit([])
    with pytest.raises(ConfigError, match="daily units"):
        PricedProduct("p", reference=10.0, cost=5.0, elasticity=-1.0, daily_units=0.0)
