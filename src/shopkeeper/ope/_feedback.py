"""The decision log an estimate is computed from, and the policies it can evaluate.

A log is one row per *round*: the context the shop saw, the action (item)
shown, the slot (position) it was shown in, the reward that followed and the
probability with which the logging (behaviour) policy chose that action at
that position, its *propensity*. A policy to evaluate is an *action
distribution*: an array of shape ``(n_rounds, n_actions, n_positions)``
whose ``[t, a, k]`` entry is the probability that the policy shows action
``a`` at position ``k`` in round ``t`` (each ``[t, :, k]`` sums to one).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from shopkeeper.errors import ConfigError

FloatArray = np.ndarray
IntArray = np.ndarray


@dataclass(frozen=True)
class LoggedFeedback:
    """Logged bandit feedback as numpy arrays, checked once on construction.

    ``context`` is ``(n_rounds, n_features)`` floats (``n_features`` may be 0);
    ``action`` and ``position`` are 0-based integer indices; ``reward`` is a
    float per round; ``propensity`` is the behaviour policy's probability of
    the logged action at the logged position, in (0, 1]. ``action_context``
    is ``(n_actions, n_action_features)`` floats describing each action (the
    item context); when absent, reward models use a one-hot of the action.
    Raises ConfigError naming the first inconsistent array.
    """

    action: IntArray
    position: IntArray
    reward: FloatArray
    propensity: FloatArray
    n_actions: int
    n_positions: int = 1
    context: FloatArray = field(default_factory=lambda: np.zeros((0, 0)))
    action_context: FloatArray | None = None

    def __post_init__(self) -> None:
        action = np.asarray(self.action)
        n = action.shape[0] if action.ndim == 1 else -1
        if n <= 0:
            raise ConfigError("action must be a non-empty one-dimensional array")
        if not np.issubdtype(action.dtype, np.integer):
            raise ConfigError(f"action must hold integers, got dtype {action.dtype}")
        position = np.asarray(self.position)
        reward = np.asarray(self.reward, dtype=float)
        propensity = np.asarray(self.propensity, dtype=float)
        context = np.asarray(self.context, dtype=float)
        if context.size == 0 and context.shape[0] != n:
            context = np.zeros((n, 0))
        for name, values in (
            ("position", position),
            ("reward", reward),
            ("propensity", propensity),
        ):
            if values.shape != (n,):
                raise ConfigError(f"{name} must have shape ({n},), got {values.shape}")
        if not np.issubdtype(position.dtype, np.integer):
            raise ConfigError(f"position must hold integers, got dtype {position.dtype}")
        if context.ndim != 2 or context.shape[0] != n:
            raise ConfigError(f"context must have shape ({n}, n_features), got {context.shape}")
        if self.n_actions < 1 or self.n_positions < 1:
            raise ConfigError("n_actions and n_positions must be at least 1")
        if action.min() < 0 or action.max() >= self.n_actions:
            raise ConfigError(f"action indices must lie in 0..{self.n_actions - 1}")
        if position.min() < 0 or position.max() >= self.n_positions:
            raise ConfigError(f"position indices must lie in 0..{self.n_positions - 1}")
        if not np.isfinite(reward).all():
            raise ConfigError("reward must be finite in every round")
        if not ((propensity > 0) & (propensity <= 1)).all():
            raise ConfigError("propensity must lie in (0, 1] in every round")
        if not np.isfinite(context).all():
            raise ConfigError("context must be finite")
        action_context = self.action_context
        if action_context is not None:
            action_context = np.asarray(action_context, dtype=float)
            if action_context.ndim != 2 or action_context.shape[0] != self.n_actions:
                raise ConfigError(
                    f"action_context must have shape ({self.n_actions}, n_features), "
                    f"got {action_context.shape}"
                )
        # Frozen dataclass: store the normalised arrays in place of the inputs.
        for name, value in (
            ("action", action.astype(np.int64)),
            ("position", position.astype(np.int64)),
            ("reward", reward),
            ("propensity", propensity),
            ("context", context),
            ("action_context", action_context),
        ):
            object.__setattr__(self, name, value)

    @property
    def n_rounds(self) -> int:
        """Number of logged rounds."""
        return int(self.action.shape[0])

    def take(self, rows: IntArray) -> LoggedFeedback:
        """The log restricted to (or resampled at) ``rows``, in that order."""
        return LoggedFeedback(
            action=self.action[rows],
            position=self.position[rows],
            reward=self.reward[rows],
            propensity=self.propensity[rows],
            n_actions=self.n_actions,
            n_positions=self.n_positions,
            context=self.context[rows],
            action_context=self.action_context,
        )


def check_action_dist(action_dist: FloatArray, feedback: LoggedFeedback) -> FloatArray:
    """``action_dist`` as floats, or ConfigError unless it fits ``feedback`` and sums to one.

    A distribution of shape ``(1, n_actions, n_positions)`` (a context-free
    policy) is broadcast to every round.
    """
    dist = np.asarray(action_dist, dtype=float)
    want = (feedback.n_rounds, feedback.n_actions, feedback.n_positions)
    if dist.ndim != 3 or dist.shape[1:] != want[1:] or dist.shape[0] not in (1, want[0]):
        raise ConfigError(f"action distribution must have shape {want}, got {dist.shape}")
    if (dist < 0).any() or not np.allclose(dist.sum(axis=1), 1.0, atol=1e-6):
        raise ConfigError(
            "action distribution must be non-negative and sum to one over actions "
            "at every round and position"
        )
    if dist.shape[0] == 1 and want[0] != 1:
        dist = np.broadcast_to(dist, want)
    return dist


def uniform_action_dist(n_actions: int, n_positions: int = 1, n_rounds: int = 1) -> FloatArray:
    """The uniformly random policy: every action equally likely at every position."""
    return np.full((n_rounds, n_actions, n_positions), 1.0 / n_actions)
