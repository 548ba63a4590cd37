"""The accuracy measures on cases worked by hand."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from shopkeeper.errors import ConfigError
from shopkeeper.forecast._metrics import bias, coverage, mase, mase_scales, wape


def test_wape_and_bias_pool_every_point() -> None:
    y = np.array([10.0, 0.0, 30.0])
    yhat = np.array([12.0, 1.0, 24.0])
    assert wape(y, yhat) == pytest.approx((2 + 1 + 6) / 40)
    assert bias(y, yhat) == pytest.approx((2 + 1 - 6) / 40)
    assert np.isnan(wape(np.zeros(2), np.ones(2)))


def test_coverage_counts_points_inside_their_interval() -> None:
    y = np.array([1.0, 5.0, 9.0, 4.0])
    assert coverage(y, y - 1, y + 1) == 1.0
    assert coverage(y, np.full(4, 2.0), np.full(4, 6.0)) == 0.5


def test_mase_scales_each_series_by_its_own_training_changes() -> None:
    train = pd.DataFrame(
        {
            "series": ["a"] * 4 + ["b"] * 3 + ["c"] * 3,
            "ds": [1, 2, 3, 4, 1, 2, 3, 1, 2, 3],
            "y": [1.0, 3.0, 2.0, 6.0, 5.0, 5.0, 5.0, 4.0, 0.0, 4.0],
        }
    )
    scales = mase_scales(train)
    assert scales["a"] == pytest.approx((2 + 1 + 4) / 3)
    assert np.isnan(scales["b"])  # never changes: no scale, left out
    assert scales["c"] == pytest.approx(4.0)
    seasonal = mase_scales(train, season=2)
    assert seasonal["a"] == pytest.approx((1 + 3) / 2)
    series = np.array(["a", "a", "b", "c"])
    y = np.array([4.0, 6.0, 5.0, 2.0])
    yhat = np.array([5.0, 3.0, 9.0, 4.0])
    # a: mean error 2 over scale 7/3; c: 2 over 4; b has no scale.
    assert mase(series, y, yhat, scales) == pytest.approx((2 / (7 / 3) + 2 / 4) / 2)


def test_bad_inputs_are_refused() -> None:
    with pytest.raises(ConfigError, match="differ in length"):
        wape(np.ones(3), np.ones(2))
    with pytest.raises(ConfigError, match="season"):
        mase_scales(pd.DataFrame({"series": [], "ds": [], "y": []}), season=0)
