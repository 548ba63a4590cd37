"""The estimators' formulas against hand computations, and their statistical contracts."""

from __future__ import annotations

import numpy as np
import pytest

from shopkeeper.errors import ConfigError
from shopkeeper.ope import (
    LoggedFeedback,
    RewardModel,
    estimate,
    evaluate_policy,
    fit_predict_rewards,
    pieces,
    tune,
)
from tests.ope.conftest import synthetic_bandit


@pytest.fixture
def tiny() -> tuple[LoggedFeedback, np.ndarray, np.ndarray]:
    # Three rounds, two actions, one position.
    log = LoggedFeedback(
        action=np.array([0, 1, 1]),
        position=np.array([0, 0, 0]),
        reward=np.array([1.0, 0.0, 1.0]),
        propensity=np.array([0.5, 0.5, 0.25]),
        n_actions=2,
    )
    dist = np.array([[[0.8], [0.2]], [[0.5], [0.5]], [[0.0], [1.0]]])
    q_hat = np.array([[[0.6], [0.2]], [[0.5], [0.1]], [[0.3], [0.7]]])
    return log, dist, q_hat


def test_formulas_by_hand(tiny: tuple[LoggedFeedback, np.ndarray, np.ndarray]) -> None:
    log, dist, q_hat = tiny
    p = pieces(log, dist, q_hat)
    # w = 0.8/0.5, 0.5/0.5, 1/0.25
    np.testing.assert_allclose(p.w, [1.6, 1.0, 4.0])
    assert estimate("ipw", p) == pytest.approx((1.6 + 0 + 4.0) / 3)
    assert estimate("snipw", p) == pytest.approx((1.6 + 4.0) / 6.6)
    m = [0.8 * 0.6 + 0.2 * 0.2, 0.5 * 0.5 + 0.5 * 0.1, 0.7]
    assert estimate("dm", p) == pytest.approx(np.mean(m))
    dr = [m[0] + 1.6 * (1 - 0.6), m[1] + 1.0 * (0 - 0.1), m[2] + 4.0 * (1 - 0.7)]
    assert estimate("dr", p) == pytest.approx(np.mean(dr))
    sw = [dr[0], dr[1], m[2]]  # tau = 2 drops the third correction
    assert estimate("switch-dr", p, 2.0) == pytest.approx(np.mean(sw))
    lam = 4.0
    shrunk = [lam * w / (w * w + lam) for w in (1.6, 1.0, 4.0)]
    res = [0.4, -0.1, 0.3]
    dros = [mi + s * r for mi, s, r in zip(m, shrunk, res, strict=True)]
    assert estimate("dros", p, lam) == pytest.approx(np.mean(dros))
    # The ends of the shrinkage: DM at zero, DR at infinity.
    assert estimate("dros", p, 0.0) == pytest.approx(estimate("dm", p))
    assert estimate("dros", p, float("inf")) == pytest.approx(estimate("dr", p))
    assert estimate("switch-dr", p, float("inf")) == pytest.approx(estimate("dr", p))


def test_snipw_equals_ipw_when_weights_average_one() -> None:
    log = LoggedFeedback(
        action=np.array([0, 1, 0, 1]),
        position=np.zeros(4, dtype=int),
        reward=np.array([1.0, 0.0, 0.0, 1.0]),
        propensity=np.full(4, 0.5),
        n_actions=2,
    )
    # Weights 1.5, 0.5, 1.5, 0.5: mean one.
    dist = np.tile(np.array([[[0.75], [0.25]]]), (4, 1, 1))
    p = pieces(log, dist)
    assert p.w.mean() == pytest.approx(1.0)
    assert estimate("snipw", p) == pytest.approx(estimate("ipw", p))


def test_model_based_estimators_need_a_model(
    tiny: tuple[LoggedFeedback, np.ndarray, np.ndarray],
) -> None:
    log, dist, _ = tiny
    with pytest.raises(ConfigError, match="reward model"):
        estimate("dr", pieces(log, dist))
    with pytest.raises(ConfigError, match="unknown estimator"):
        evaluate_policy(log, dist, ["magic"], n_bootstrap=0)
    with pytest.raises(ConfigError, match="shape"):
        pieces(log, dist[:, :, :0])


def test_ipw_and_dr_are_unbiased_on_a_synthetic_bandit() -> None:
    # Mean over independent logs: within 3 standard errors of the true value.
    ipw, dr = [], []
    for seed in range(40):
        log, dist, truth, _ = synthetic_bandit(1500, seed)
        p = pieces(log, dist)
        ipw.append(estimate("ipw", p))
        # A deliberately wrong reward model: DR stays unbiased, DM does not.
        q_bad = np.full((log.n_rounds, log.n_actions, log.n_positions), 0.1)
        dr.append(estimate("dr", pieces(log, dist, q_bad)))
    for values in (ipw, dr):
        mean, se = np.mean(values), np.std(values, ddof=1) / np.sqrt(len(values))
        assert abs(mean - truth) < 3 * se + 1e-9, (mean, truth, se)
    assert abs(estimate("dm", pieces(log, dist, q_bad)) - truth) > 0.02


def test_cross_fitted_reward_model_recovers_the_rates() -> None:
    log, dist, truth, rates = synthetic_bandit(6000, 1)
    for per_position in (True, False):
        q = fit_predict_rewards(log, RewardModel("logistic", per_position=per_position))
        assert q.shape == (log.n_rounds, log.n_actions, log.n_positions)
        assert np.abs(q.mean(axis=0) - rates).max() < 0.05
    result = evaluate_policy(log, dist, ["dm", "dr"], n_bootstrap=0)
    assert abs(result.get("dm").value - truth) < 0.02
    assert abs(result.get("dr").value - truth) < 0.02


def test_tuning_picks_dr_with_a_biased_model_and_much_data() -> None:
    log, dist, truth, _ = synthetic_bandit(20000, 3)
    q_bad = np.full((log.n_rounds, log.n_actions, log.n_positions), 0.05)
    p = pieces(log, dist, q_bad)
    for name in ("switch-dr", "dros"):
        chosen = tune(name, p)
        assert len(chosen.grid) == len(chosen.mse)
        assert abs(estimate(name, p, chosen.param) - truth) < 0.01
    # A perfect model: the correction is noise, so the MSE leans to DM.
    _, _, _, rates = synthetic_bandit(10, 3)
    q_true = np.broadcast_to(rates[None], q_bad.shape)
    assert tune("dros", pieces(log, dist, q_true)).param < float("inf")
    with pytest.raises(ConfigError, match="bias estimate"):
        tune("dros", p, bias="guess")  # type: ignore[arg-type]
