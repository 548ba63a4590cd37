"""Double machine learning recovers a planted interaction of elasticity and a store attribute."""

from __future__ import annotations

import pytest

from shopkeeper.errors import ConfigError
from shopkeeper.pricing import elasticity_by_location, from_frame
from tests.pricing.synthetic import panel


def test_dml_recovers_a_planted_income_interaction() -> None:
    slope = 0.6  # elasticity rises 0.6 per unit of income (income ~ N(0, 1) across stores)
    data = panel(stores=60, weeks=30, seed=11, slope=slope, own={"a": -2.0, "b": -2.0})
    result = elasticity_by_location(data, folds=3, trees=150, seed=1)
    coef = result.coefficients.set_index("term")
    sd = float(result.scale.loc["income", "sd"])
    # The coefficient is per standard deviation of income.
    planted = slope * sd
    assert coef.loc["income", "lo"] <= planted <= coef.loc["income", "hi"], coef
    assert coef.loc["income", "p_value"] < 0.01
    assert coef.loc["elasticity", "coef"] == pytest.approx(-2.0, abs=0.3)
    by_loc = result.by_location.set_index("location_id")
    richest = by_loc["income"].idxmax()
    poorest = by_loc["income"].idxmin()
    assert by_loc.loc[richest, "elasticity"] > by_loc.loc[poorest, "elasticity"]
    assert (by_loc["lo"] <= by_loc["elasticity"]).all()


def test_dml_needs_location_attributes() -> None:
    bare = from_frame(panel(stores=6, weeks=8).frame)
    with pytest.raises(ConfigError, match="numeric location attributes"):
        elasticity_by_location(bare)
    with pytest.raises(ConfigError, match="folds"):
        elasticity_by_location(panel(stores=6, weeks=8), folds=1)
