"""The policy's formulas against textbook values worked by hand."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

from shopkeeper.errors import ConfigError
from shopkeeper.inventory import (
    count_quantile,
    economic_order_quantity,
    fill_rate_factor,
    lead_time_demand_sigma,
    normal_loss,
    safety_stock_normal,
)
from shopkeeper.inventory._policy import PolicySettings, orders_for, parameters


def test_eoq_of_the_textbook_example() -> None:
    # D = 1,200 a year, K = 100 an order, c = 24, h = 25%: sqrt(2·1200·100 / 6) = 200.
    assert economic_order_quantity(1200, 100, 24, 0.25) == pytest.approx(200.0)
    # Nothing sells, or ordering is free: no order size; free holding: unbounded.
    assert economic_order_quantity(0, 100, 24, 0.25) == 0.0
    assert np.isinf(economic_order_quantity(1200, 100, 0, 0.25))
    with pytest.raises(ConfigError, match="must be >= 0"):
        economic_order_quantity(-1, 100, 24, 0.25)


def test_normal_safety_stock_for_a_cycle_service_level() -> None:
    # z(0.95) = 1.6449, z(0.99) = 2.3263, z(0.5) = 0.
    got = safety_stock_normal(np.array([10.0, 10.0, 10.0]), np.array([0.95, 0.99, 0.5]))
    assert got == pytest.approx([16.449, 23.263, 0.0], abs=1e-3)
    with pytest.raises(ConfigError, match="strictly between 0 and 1, got 1"):
        safety_stock_normal(10.0, 1.0)


def test_lead_time_demand_sigma_fixed_and_variable() -> None:
    # d = 20/day, σ_d = 4, L = 9 days: fixed lead time 4·3 = 12.
    assert lead_time_demand_sigma(20, 4, 9) == pytest.approx(12.0)
    # σ_L = 2 days: sqrt(9·16 + 400·4) = sqrt(1744) = 41.76.
    assert lead_time_demand_sigma(20, 4, 9, 2) == pytest.approx(np.sqrt(1744.0))


def test_the_loss_function_and_the_fill_rate_factor() -> None:
    # G(0) = φ(0) = 0.39894; G(1) = 0.08332 (standard tables).
    assert normal_loss(np.array([0.0, 1.0])) == pytest.approx([0.39894, 0.08332], abs=1e-5)
    # Q = 100, σ = 20, fill rate 98%: G(k) = 0.02·100/20 = 0.1, so k = 0.902
    # (tables: G(0.90) = 0.1004).
    k = fill_rate_factor(0.98, 20.0, 100.0)
    assert normal_loss(k) == pytest.approx(0.1, abs=1e-9)
    assert k == pytest.approx(0.902, abs=1e-3)
    # No spread: nothing to cover.
    assert fill_rate_factor(0.98, 0.0, 100.0) == 0.0


def test_count_quantiles_for_slow_movers() -> None:
    # Poisson(3): P(X <= 5) = 0.916, P(X <= 6) = 0.966, so the 95% quantile is 6.
    assert count_quantile(3.0, np.sqrt(3.0), 0.95) == 6.0
    # Overdispersed: the negative binomial of that mean and variance, as scipy has it.
    mean, var = 3.0, 12.0
    want = stats.nbinom.ppf(0.95, mean**2 / (var - mean), mean / var)
    assert count_quantile(mean, np.sqrt(var), 0.95) == want > 6.0
    assert count_quantile(0.0, 0.0, 0.95) == 0.0


def test_continuous_and_periodic_parameters_and_orders() -> None:
    one = np.ones(1)
    # 10 a day over a fixed 4-day lead time, σ = 8: s = 40 + 1.6449·8 = 53.2.
    common = {
        "per_day": 10 * one,
        "mean": 40 * one,
        "sigma": 8 * one,
        "lead_time": 4 * one,
        "levels": 0.95 * one,
        "order_cost": 50 * one,
        "unit_cost": 10 * one,
        "holding_cost_rate": 0.25 * one,
    }
    cfg = PolicySettings()
    p = parameters(cfg, **common)
    assert p.reorder_point == pytest.approx([40 + 1.64485 * 8], abs=1e-3)
    # EOQ: sqrt(2·3650·50/2.5) = 382.1, rounded up to whole units.
    assert p.order_quantity == pytest.approx([383.0])
    # At or below s: the smallest multiple of Q lifting the position above s.
    assert orders_for(cfg, p, np.array([53.0])) == pytest.approx([383.0])
    assert orders_for(cfg, p, np.array([-400.0])) == pytest.approx([766.0])
    assert orders_for(cfg, p, np.array([54.0])) == pytest.approx([0.0])
    # A lead time varying by 25% adds d²·σ_L² = 100·1 to σ².
    varying = parameters(PolicySettings(lead_time_cv=0.25), **common)
    assert varying.sigma == pytest.approx([np.sqrt(64 + 100)])
    # Periodic: order up to S on review days only.
    periodic = PolicySettings(review="periodic", review_days=7)
    s = parameters(periodic, **{**common, "mean": 110 * one})
    assert orders_for(periodic, s, np.array([50.0])) == pytest.approx(np.ceil(s.reorder_point - 50))
    assert orders_for(periodic, s, np.array([50.0]), review_day=False) == 0.0


def test_slow_movers_take_the_count_quantile() -> None:
    one = np.ones(1)
    p = parameters(
        PolicySettings(),
        per_day=0.5 * one,
        mean=3 * one,
        sigma=np.sqrt(3) * one,
        lead_time=6 * one,
        levels=0.95 * one,
        order_cost=50 * one,
        unit_cost=10 * one,
        holding_cost_rate=0.25 * one,
    )
    assert p.reorder_point == pytest.approx([6.0]) and p.safety_stock == pytest.approx([3.0])


def test_bad_settings_are_refused_by_name() -> None:
    with pytest.raises(ConfigError, match="review must be continuous or periodic"):
        PolicySettings(review="sometimes")
    with pytest.raises(ConfigError, match="target must be cycle or fill_rate"):
        PolicySettings(target="profit")
    with pytest.raises(ConfigError, match="unknown inventory parameters"):
        PolicySettings.from_params({"speed": 1})
