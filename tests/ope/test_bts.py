"""Thompson Sampling's simulated action distribution, and the ZOZOTOWN prior from obp."""

from __future__ import annotations

import importlib.util

import numpy as np
import pytest
from scipy import integrate, stats

from shopkeeper.errors import ConfigError
from shopkeeper.ope import bts_action_dist, obp_prior_file, zozotown_prior


def test_top1_probability_matches_the_beta_integral() -> None:
    a = np.array([3.0, 5.0])
    b = np.array([7.0, 9.0])
    # P(X0 > X1) = integral of f0(x) * F1(x) over [0, 1].
    exact, _ = integrate.quad(
        lambda x: stats.beta.pdf(x, a[0], b[0]) * stats.beta.cdf(x, a[1], b[1]), 0, 1
    )
    n_sim = 200_000
    dist = bts_action_dist(a, b, len_list=2, n_sim=n_sim, seed=1, n_rounds=5)
    assert dist.shape == (5, 2, 2)
    se = np.sqrt(exact * (1 - exact) / n_sim)
    assert abs(dist[0, 0, 0] - exact) < 4 * se
    # Two actions, two positions: the second slot holds the other one.
    np.testing.assert_allclose(dist[0, :, 1], dist[0, ::-1, 0])
    np.testing.assert_allclose(dist[0].sum(axis=0), 1.0)


def test_bad_priors_are_refused() -> None:
    with pytest.raises(ConfigError, match="positive"):
        bts_action_dist(np.array([1.0, 0.0]), np.array([1.0, 1.0]))
    with pytest.raises(ConfigError, match="len_list"):
        bts_action_dist(np.ones(2), np.ones(2), len_list=3)
    with pytest.raises(ConfigError, match="campaign"):
        zozotown_prior("kids")


def test_missing_obp_says_how_to_install(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(importlib.util, "find_spec", lambda name: None)
    with pytest.raises(ConfigError, match=r"pip install obp==0\.4\.1 --no-deps"):
        zozotown_prior("all")


@pytest.mark.skipif(
    importlib.util.find_spec("obp") is None,
    reason="obp is not installed (make install adds it: pip install obp==0.4.1 --no-deps)",
)
def test_zozotown_prior_is_read_from_the_installed_obp() -> None:
    assert obp_prior_file().name == "prior_bts.yaml"
    sizes = {c: zozotown_prior(c)[0].size for c in ("all", "men", "women")}
    assert sizes == {"all": 80, "men": 34, "women": 46}
    alpha, beta = zozotown_prior("men")
    assert (alpha > 0).all() and (beta > alpha).all()
