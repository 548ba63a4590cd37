"""Adstock and saturation against their definitions."""

from __future__ import annotations

import numpy as np
import pytest

from shopkeeper.mmm import _transforms as tf


def test_geometric_adstock_is_the_recursion_started_in_steady_state() -> None:
    rng = np.random.default_rng(1)
    spend = rng.gamma(2.0, 100.0, 200)
    decay = 0.6
    expected = np.empty_like(spend)
    carry = spend[0]  # the steady state of the first day's spend
    for t, x in enumerate(spend):
        carry = (1 - decay) * x + decay * carry
        expected[t] = carry
    assert np.allclose(tf.geometric(spend, decay), expected)
    # Normalised: a steady spend has that spend as its adstock.
    assert np.allclose(tf.geometric(np.full(50, 7.0), decay), 7.0)
    with pytest.raises(ValueError, match="decay"):
        tf.geometric(spend, 1.0)


def test_weibull_weights_sum_to_one_and_peak_where_the_shape_says() -> None:
    fast = tf.weibull_weights(0.8, 3.0)
    late = tf.weibull_weights(3.0, 8.0)
    assert fast.sum() == pytest.approx(1.0) and late.sum() == pytest.approx(1.0)
    assert np.all(np.diff(fast) <= 0)  # shape below one: strongest at once
    assert 4 <= int(np.argmax(late)) <= 10  # shape above one: the effect comes later
    assert np.allclose(tf.weibull(np.full(60, 3.0), 3.0, 8.0), 3.0)
    pulse = np.zeros(60)
    pulse[10] = 1.0
    spread = tf.weibull(pulse, 3.0, 8.0)
    assert spread[:10].sum() == 0 and spread.sum() == pytest.approx(1.0)
    assert np.allclose(spread[10 : 10 + tf.WEIBULL_LAGS], late)


def test_hill_is_zero_at_no_spend_half_at_its_half_point_and_rising() -> None:
    a = np.linspace(0, 1000, 101)
    h = tf.hill(a, 2.0, 300.0)
    assert h[0] == 0 and tf.hill(np.array([300.0]), 2.0, 300.0)[0] == pytest.approx(0.5)
    assert np.all(np.diff(h) > 0) and h[-1] < 1
    # Shape above one is S-shaped: slow at first, then faster.
    assert h[2] - h[1] > h[1] - h[0]
