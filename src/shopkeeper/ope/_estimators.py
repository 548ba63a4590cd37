"""The estimators: the value of a policy from a log another policy wrote.

Notation (per round ``t``, logged action ``a_t`` at position ``k_t``):
``w_t = pi_e(a_t | x_t, k_t) / propensity_t`` the importance weight,
``q_t = q_hat(x_t, a_t, k_t)`` the reward model at the logged action and
``m_t = sum_a pi_e(a | x_t, k_t) q_hat(x_t, a, k_t)`` the model's value of the
evaluation policy at the logged position. Then

- IPW:   mean(w r)
- SNIPW: mean(w r) / mean(w)
- DM:    mean(m)
- DR:    mean(m + w (r - q))
- switch-DR (tau):  mean(m + w 1[w <= tau] (r - q))
- DRos (lambda):    mean(m + lambda w / (w^2 + lambda) (r - q))

Switch-DR and DRos move from DR (tau or lambda infinite) to DM (zero). Their
hyper-parameter can be chosen by the estimated mean squared error of Su et
al. (2020), ``var / n + bias^2``, where the bias of a shrunk weight ``v`` is
estimated by ``mean((w - v)(r - q))`` (DR being unbiased when the
propensities are right); :func:`tune` does that over a grid.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np

from shopkeeper.errors import ConfigError
from shopkeeper.ope._feedback import FloatArray, LoggedFeedback, check_action_dist

#: Every estimator by short name; the ones marked in MODEL_BASED need a reward model.
ESTIMATORS = ("ipw", "snipw", "dm", "dr", "switch-dr", "dros")
MODEL_BASED = frozenset({"dm", "dr", "switch-dr", "dros"})
TUNED = frozenset({"switch-dr", "dros"})


@dataclass(frozen=True)
class Pieces:
    """The per-round quantities every estimator is a function of (see the module doc).

    ``q`` and ``m`` are None when no reward model was given.
    """

    reward: FloatArray
    w: FloatArray
    q: FloatArray | None
    m: FloatArray | None

    def take(self, rows: np.ndarray) -> Pieces:
        """The pieces at ``rows`` (a bootstrap resample)."""
        return Pieces(
            self.reward[rows],
            self.w[rows],
            None if self.q is None else self.q[rows],
            None if self.m is None else self.m[rows],
        )


def pieces(
    feedback: LoggedFeedback, action_dist: FloatArray, q_hat: FloatArray | None = None
) -> Pieces:
    """Importance weights and reward-model terms of ``feedback`` for ``action_dist``.

    ``q_hat`` is the reward model's prediction for every round, action and
    position, shape ``(n_rounds, n_actions, n_positions)``.
    """
    dist = check_action_dist(action_dist, feedback)
    rounds = np.arange(feedback.n_rounds)
    pos = feedback.position
    w = dist[rounds, feedback.action, pos] / feedback.propensity
    if q_hat is None:
        return Pieces(feedback.reward, w, None, None)
    q_hat = np.asarray(q_hat, dtype=float)
    if q_hat.shape != (feedback.n_rounds, feedback.n_actions, feedback.n_positions):
        raise ConfigError(f"estimated rewards must have shape {dist.shape}, got {q_hat.shape}")
    q = q_hat[rounds, feedback.action, pos]
    m = np.einsum("ta,ta->t", dist[rounds, :, pos], q_hat[rounds, :, pos])
    return Pieces(feedback.reward, w, q, m)


def shrunk_weight(name: str, w: FloatArray, param: float) -> FloatArray:
    """The weight switch-DR (``param`` = tau) or DRos (``param`` = lambda) puts on the residual."""
    if name == "switch-dr":
        return np.where(w <= param, w, 0.0)
    if name == "dros":
        if np.isinf(param):
            return w
        if param <= 0:
            return np.zeros_like(w)
        return param * w / (w * w + param)
    raise ConfigError(f"{name!r} has no hyper-parameter")


def round_values(name: str, p: Pieces, param: float | None = None) -> FloatArray:
    """Per-round terms whose mean is the estimate (for SNIPW: before normalising)."""
    if name in ("ipw", "snipw"):
        return p.w * p.reward
    if p.q is None or p.m is None:
        raise ConfigError(f"{name} needs a reward model (estimated rewards)")
    if name == "dm":
        return p.m
    residual = p.reward - p.q
    if name == "dr":
        return p.m + p.w * residual
    if param is None:
        raise ConfigError(f"{name} needs its hyper-parameter")
    return p.m + shrunk_weight(name, p.w, param) * residual


def estimate(name: str, p: Pieces, param: float | None = None) -> float:
    """The estimate of estimator ``name`` (one of :data:`ESTIMATORS`) from ``p``."""
    if name not in ESTIMATORS:
        raise ConfigError(f"unknown estimator {name!r}; known: {', '.join(ESTIMATORS)}")
    values = round_values(name, p, param)
    if name == "snipw":
        mean_w = float(p.w.mean())
        # No weight on any logged action: the policy is never seen in the log.
        return float(values.mean() / mean_w) if mean_w > 0 else float("nan")
    return float(values.mean())


def default_grid(name: str, w: FloatArray) -> list[float]:
    """Candidate hyper-parameters: DM and DR at the ends, the weights' scale between.

    Switch-DR's tau runs over quantiles of the positive weights (every
    distinct cut-off the data allows, thinned); DRos's lambda over a geometric
    grid around the squared weights.
    """
    positive = w[w > 0]
    if positive.size == 0:
        return [0.0, float("inf")]
    if name == "switch-dr":
        cuts = np.unique(np.quantile(positive, np.linspace(0.0, 1.0, 41)))
        return [0.0, *cuts.tolist(), float("inf")]
    scale = float(np.mean(positive**2))
    return [0.0, *(scale * np.geomspace(1e-4, 1e4, 33)).tolist(), float("inf")]


@dataclass(frozen=True)
class Tuning:
    """The hyper-parameter chosen and the estimated MSE of each candidate."""

    param: float
    grid: tuple[float, ...]
    mse: tuple[float, ...]


BiasEstimate = Literal["debiased", "plugin", "upper"]
BIAS_ESTIMATES = ("debiased", "plugin", "upper")


def tune(
    name: str, p: Pieces, grid: Sequence[float] | None = None, bias: BiasEstimate = "debiased"
) -> Tuning:
    """Choose tau (switch-DR) or lambda (DRos) by the estimated MSE (Su et al. 2020).

    MSE(param) = sample variance of the round values / n + bias^2. The bias
    of a shrunk weight ``v`` is ``E[(w - v)(r - q)]``, estimated from
    ``g = (w - v)(r - q)``: "plugin" squares ``mean(g)``, which overstates
    bias^2 by ``var(g) / n`` on average (noise read as bias, pushing the
    choice towards DR); "debiased" (the default) subtracts that, giving an
    unbiased estimate of bias^2 (clipped at 0); "upper" squares
    ``|mean(g)| + 1.96 sd(g) / sqrt(n)``, a pessimistic bound in the spirit
    of obp's high-probability bias bound. Ties go to the larger parameter
    (less bias).
    """
    if bias not in BIAS_ESTIMATES:
        raise ConfigError(f"unknown bias estimate {bias!r}; known: {', '.join(BIAS_ESTIMATES)}")
    if name not in TUNED:
        raise ConfigError(f"{name!r} has no hyper-parameter to tune")
    if p.q is None:
        raise ConfigError(f"{name} needs a reward model (estimated rewards)")
    candidates = list(grid) if grid is not None else default_grid(name, p.w)
    n = p.w.shape[0]
    residual = p.reward - p.q
    scores = []
    for param in candidates:
        values = round_values(name, p, param)
        gap = (p.w - shrunk_weight(name, p.w, param)) * residual
        mean = abs(float(gap.mean()))
        noise = float(gap.var(ddof=1)) / n if n > 1 else 0.0
        if bias == "plugin":
            bias2 = mean * mean
        elif bias == "upper":
            bias2 = (mean + 1.96 * np.sqrt(noise)) ** 2
        else:
            bias2 = max(mean * mean - noise, 0.0)
        variance = float(values.var(ddof=1)) / n if n > 1 else 0.0
        scores.append(variance + bias2)
    best = min(scores)
    # The largest parameter among the (near-)minimal scores: least bias for the same MSE.
    chosen = max(c for c, s in zip(candidates, scores, strict=True) if s <= best * (1 + 1e-12))
    return Tuning(float(chosen), tuple(float(c) for c in candidates), tuple(scores))
