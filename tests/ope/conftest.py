"""Small synthetic bandits with a known value of the policy to evaluate."""

from __future__ import annotations

import numpy as np

from shopkeeper.ope import LoggedFeedback


def synthetic_bandit(
    n: int, seed: int, n_actions: int = 4, n_positions: int = 2
) -> tuple[LoggedFeedback, np.ndarray, float, np.ndarray]:
    """A log from a non-uniform context-free behaviour policy, a target policy and its value.

    Clicks are Bernoulli with a rate per (action, position); the target
    policy's true value is sum over positions of pi_e * rate, averaged over
    positions (each round shows one position, drawn uniformly).
    Returns (log, target action distribution (1, A, K), true value, rates).
    """
    rng = np.random.default_rng(seed)
    rates = np.linspace(0.05, 0.4, n_actions)[:, None] * np.linspace(1.0, 0.6, n_positions)
    behaviour = np.linspace(1.0, 2.0, n_actions)
    behaviour /= behaviour.sum()
    target = np.linspace(3.0, 1.0, n_actions)
    target /= target.sum()
    position = rng.integers(0, n_positions, size=n)
    action = rng.choice(n_actions, size=n, p=behaviour)
    reward = (rng.random(n) < rates[action, position]).astype(float)
    log = LoggedFeedback(
        action=action,
        position=position,
        reward=reward,
        propensity=behaviour[action],
        n_actions=n_actions,
        n_positions=n_positions,
        context=np.zeros((n, 0)),
    )
    dist = np.repeat(target[None, :, None], n_positions, axis=2)
    truth = float((target[:, None] * rates).sum(axis=0).mean())
    return log, dist, truth, rates
