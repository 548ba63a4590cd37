"""The interface every learning policy implements, and the registry of kinds.

A policy chooses among a fixed, ordered list of actions (price points, ads,
products) and says with what probability it chose: that probability goes
into the decision log, and it is what makes off-policy evaluation of any
other policy possible later. Its whole learned state is a JSON-able dict, so
the service can persist it, version it and load it in another process.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np

from shopkeeper.errors import ConfigError


@dataclass(frozen=True)
class Choice:
    """One chosen action: its index in the policy's actions and the chance of it.

    For a slate (several positions), ``probability`` is the marginal chance
    that this action is shown at this position.
    """

    action: int
    probability: float


class Policy(ABC):
    """A bandit policy over ``actions``; context-free unless ``n_features`` > 0."""

    kind: ClassVar[str]
    _kinds: ClassVar[dict[str, type[Policy]]] = {}

    actions: tuple[str, ...]
    n_features: int = 0

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        kind = cls.__dict__.get("kind")
        if isinstance(kind, str):
            Policy._kinds[kind] = cls

    @abstractmethod
    def choose(self, context: np.ndarray | None, rng: np.random.Generator) -> Choice:
        """Draw one action for a decision with this context."""

    @abstractmethod
    def choose_slate(
        self, context: np.ndarray | None, positions: int, rng: np.random.Generator
    ) -> list[Choice]:
        """Distinct actions for ``positions`` slots, best slot first."""

    @abstractmethod
    def probabilities(
        self, context: np.ndarray | None, positions: int = 1, *, n_draws: int = 2000
    ) -> np.ndarray:
        """Chance of each action at each position: shape (n_actions, positions).

        Exact where the policy has a closed form; estimated from ``n_draws``
        draws of a fixed seed otherwise, so the same state gives the same table.
        """

    @abstractmethod
    def update(self, action: int, reward: float, context: np.ndarray | None = None) -> None:
        """Learn from one outcome of ``action``."""

    @abstractmethod
    def means(self, context: np.ndarray | None = None) -> np.ndarray:
        """The current estimate of each action's expected reward."""

    @abstractmethod
    def state(self) -> dict[str, Any]:
        """Everything learned and configured, JSON-able; ``from_state`` reverses it."""

    @classmethod
    @abstractmethod
    def _from_state(cls, state: dict[str, Any]) -> Policy: ...

    @staticmethod
    def from_state(state: dict[str, Any]) -> Policy:
        """Rebuild a policy of any registered kind from its ``state()``."""
        _register_builtin()
        kind = state.get("kind")
        if kind not in Policy._kinds:
            raise ConfigError(f"unknown policy kind {kind!r}; known: {sorted(Policy._kinds)}")
        return Policy._kinds[str(kind)]._from_state(state)

    @staticmethod
    def kinds() -> list[str]:
        """Every registered kind (the built-in bandits and any subclass defined since)."""
        _register_builtin()
        return sorted(Policy._kinds)


def _register_builtin() -> None:
    # Importing the module defines (and so registers) the built-in kinds; it is
    # imported on first use so that the interface carries no numerical code.
    import shopkeeper.decide._bandits  # noqa: F401
