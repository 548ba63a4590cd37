"""The budget split: optimal by the first-order conditions, within bounds, against the current."""

from __future__ import annotations

import numpy as np
import pytest

from shopkeeper.errors import ConfigError
from shopkeeper.mmm import MixModel, allocate, fit_mix
from tests.mmm.synthetic import planted_shop


@pytest.fixture(scope="module")
def model() -> MixModel:
    return fit_mix(planted_shop()[0])


def _marginals(model: MixModel, x: np.ndarray) -> np.ndarray:
    return np.array([c.marginal(v) for c, v in zip(model.channels, x, strict=True)])


def test_the_split_spends_the_budget_and_equalises_marginal_returns(model: MixModel) -> None:
    budget = float(model.current_spend().sum())
    result = allocate(model, budget)
    assert result.spend.sum() == pytest.approx(budget)
    assert (result.spend >= -1e-9).all()
    inside = result.spend > 1e-6 * budget
    m = _marginals(model, result.spend)
    # Where money goes, the next unit returns the same everywhere; where none goes,
    # the first unit returns no more than that.
    assert np.ptp(m[inside]) / m[inside].mean() < 0.01
    assert (m[~inside] <= m[inside].max() * 1.01).all()
    assert result.gain >= 0
    assert result.sales.sum() >= result.current_sales.sum()
    # No other split on a grid of the simplex does better.
    rng = np.random.default_rng(0)
    for share in rng.dirichlet(np.ones(len(result.spend)), 300):
        pairs = zip(model.channels, share, strict=True)
        other = sum(float(c.response(budget * s)[0]) for c, s in pairs)
        assert other <= result.sales.sum() + 1e-6 * result.sales.sum()


def test_bounds_are_kept(model: MixModel) -> None:
    names = model.channel_names
    budget = 6000.0
    bounds = {names[0]: (3000.0, None), names[1]: (None, 500.0)}
    result = allocate(model, budget, bounds=bounds)
    assert result.spend.sum() == pytest.approx(budget)
    assert result.spend[0] >= 3000.0 - 1e-6 and result.spend[1] <= 500.0 + 1e-6
    out = result.as_dict(periods=30)
    assert out["budget"] == pytest.approx(budget * 30)
    assert sum(c["spend"] for c in out["channels"]) == pytest.approx(budget * 30)


def test_profit_may_leave_money_unspent(model: MixModel) -> None:
    budget = 50_000.0  # far past saturation of every channel
    result = allocate(model, budget, objective="profit", margin=0.3)
    assert result.spend.sum() < budget
    m = _marginals(model, result.spend)
    spent = result.spend > 1.0
    # Each channel is pushed to where 30% of the next unit's sales pays for the unit.
    assert np.allclose(0.3 * m[spent], 1.0, rtol=0.05)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"budget": -1.0}, "must be positive"),
        ({"budget": 100.0, "objective": "reach"}, "objective must be"),
        ({"budget": 100.0, "objective": "profit"}, "needs a margin"),
        ({"budget": 100.0, "bounds": {"radio": (0.0, 1.0)}}, "no fitted channel"),
        ({"budget": 100.0, "bounds": {"search": (50.0, 10.0)}}, "least <= most"),
        ({"budget": 100.0, "bounds": {"search": (80.0, None), "social": (80.0, None)}}, "allow"),
    ],
)
def test_bad_requests_are_refused(model: MixModel, kwargs: dict, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        allocate(model, **kwargs)
