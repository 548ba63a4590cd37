"""The straight line of sales on ad spend: least squares and honest intervals."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

from shopkeeper.errors import ConfigError
from shopkeeper.mmm import fit_simple


def test_line_equals_scipy_linregress() -> None:
    rng = np.random.default_rng(3)
    spend = rng.uniform(1000, 9000, 120)
    sales = 2000 + 1.2 * spend + rng.normal(0, 800, 120)
    line = fit_simple(spend, sales)
    ref = stats.linregress(spend, sales)
    assert line.slope == pytest.approx(ref.slope)
    assert line.intercept == pytest.approx(ref.intercept)
    assert line.r2 == pytest.approx(ref.rvalue**2)
    assert line.slope_se == pytest.approx(ref.stderr)
    assert line.intercept_se == pytest.approx(ref.intercept_stderr)
    # The example: sales = 1.2 × spend + 2,000 predicts about 8,000 at 5,000.
    assert line.predict(5000)["sales"] == pytest.approx(line.intercept + line.slope * 5000)


def test_prediction_interval_covers_new_periods_at_its_level() -> None:
    rng = np.random.default_rng(4)
    covered = 0
    trials = 400
    for _ in range(trials):
        spend = rng.uniform(0, 10, 30)
        line = fit_simple(spend, 5 + 2 * spend + rng.normal(0, 1, 30))
        new = 5 + 2 * 7.5 + rng.normal(0, 1)
        got = line.predict(7.5, level=0.9)
        covered += got["low"] <= new <= got["high"]
        assert got["mean_low"] > got["low"] and got["mean_high"] < got["high"]
    assert 0.86 <= covered / trials <= 0.94


def test_a_constant_spend_or_too_few_periods_is_refused() -> None:
    with pytest.raises(ConfigError, match="the same every period"):
        fit_simple(np.full(10, 5.0), np.arange(10.0))
    with pytest.raises(ConfigError, match="at least 3"):
        fit_simple(np.array([1.0, 2.0]), np.array([1.0, 2.0]))
    with pytest.raises(ConfigError, match="level"):
        fit_simple(np.arange(5.0), np.arange(5.0)).predict(1.0, level=1.5)
