"""The learning policies: Thompson sampling, UCB1, epsilon-greedy, LinUCB, and a cap.

Every policy here follows the contract of :class:`~shopkeeper.decide._policy.Policy`.
The parts it leaves open are settled the same way for all of them:

- **Probabilities.** Deterministic rules (UCB1, LinUCB, the greedy part of
  epsilon-greedy and of the exploration cap) break ties between equal scores
  uniformly at random, and their table is exact: each of ``g`` tied actions
  gets ``1/g`` of the positions the tie spans. Thompson variants estimate the
  table from ``n_draws`` posterior draws of a fixed seed (``seed``), so one
  state and context always give one table. A logged Thompson probability is
  that table's entry, raised to ``1/draws`` where the draws never picked the
  action, since a chosen action cannot have had probability zero and an
  inverse-propensity weight must stay finite.
- **Slates.** ``choose_slate`` ranks one set of scores (one posterior draw
  for Thompson) and shows the top ``positions`` actions, so they are
  distinct; each :class:`Choice` carries the marginal chance of that action
  at that position.
- **Errors.** An unknown action index, a context of the wrong length, a
  reward that is not finite or lies outside a policy's range raise
  :class:`~shopkeeper.errors.ConfigError` naming the value and the rule.
- **State.** ``state()`` holds the kind, the action names, the settings and
  every learned number as lists, floats and ints; ``Policy.from_state``
  rebuilds a policy that gives the same probabilities and, for the same
  ``rng``, the same choices.

A deterministic policy's log carries probability 1 (or ``1/g`` in a tie) for
what it showed and 0 for everything else, so it cannot support off-policy
evaluation of any policy that would have shown something else: explore
(epsilon-greedy, Thompson, or the cap around UCB) where the log is meant for
evaluation later.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any, ClassVar

import numpy as np

from shopkeeper.decide._guardrails import PriceGuardrails
from shopkeeper.decide._policy import Choice, Policy
from shopkeeper.errors import ConfigError

STATE_FORMAT = 1
DEFAULT_DRAWS = 1000


# --- checks shared by every policy -------------------------------------------------------


def _action_names(actions: Sequence[str]) -> tuple[str, ...]:
    names = tuple(str(a) for a in actions)
    if not names:
        raise ConfigError("policy actions: at least one action is needed, got none")
    seen: set[str] = set()
    for name in names:
        if name in seen:
            raise ConfigError(f"policy action {name!r} appears twice: action names must be unique")
        seen.add(name)
    return names


def _per_action(
    name: str, value: float | Sequence[float], n: int, *, positive: bool = True
) -> np.ndarray:
    """A setting given once for all actions or once per action, as a float array."""
    arr = np.asarray(value, dtype=float)
    if arr.ndim == 0:
        arr = np.full(n, float(arr))
    if arr.shape != (n,):
        raise ConfigError(f"{name} has {arr.size} values: give one number, or one per action ({n})")
    bad = ~np.isfinite(arr) | (arr <= 0 if positive else np.zeros(n, dtype=bool))
    if bad.any():
        rule = "must be a finite number above 0" if positive else "must be finite"
        raise ConfigError(f"{name}={arr[np.argmax(bad)]!r}: {rule}")
    return arr


def _positive(name: str, value: float) -> float:
    if not (isinstance(value, int | float) and math.isfinite(value) and value > 0):
        raise ConfigError(f"{name}={value!r}: must be a finite number above 0")
    return float(value)


def _count(name: str, value: int, least: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int | np.integer) or value < least:
        raise ConfigError(f"{name}={value!r}: must be a whole number of at least {least}")
    return int(value)


def _finite_reward(reward: float) -> float:
    try:
        value = float(reward)
    except (TypeError, ValueError):
        raise ConfigError(f"reward {reward!r}: must be a finite number") from None
    if not math.isfinite(value):
        raise ConfigError(f"reward {reward!r}: must be a finite number (not NaN or infinite)")
    return value


def _tie_break_order(scores: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Indices by score, highest first; equal scores in a uniformly random order."""
    return np.lexsort((rng.random(len(scores)), -scores))


def _ranked_table(scores: np.ndarray, positions: int) -> np.ndarray:
    """Exact chance of each action at each position when ranking ``scores``.

    Ties are broken uniformly, so the ``g`` members of a tied group that spans
    positions ``s .. s + g - 1`` each hold every one of those positions with
    chance ``1/g``.
    """
    n = len(scores)
    table = np.zeros((n, positions))
    order = np.argsort(-scores, kind="stable")
    start = 0
    while start < min(n, positions):
        level = scores[order[start]]
        stop = start
        while stop < n and scores[order[stop]] == level:
            stop += 1
        group = order[start:stop]
        table[np.ix_(group, np.arange(start, min(stop, positions)))] = 1.0 / len(group)
        start = stop
    return table


def _top_k_table(draws: np.ndarray, positions: int) -> np.ndarray:
    """Share of rows of ``draws`` (draws x actions) that rank each action at each position."""
    n_draws, n = draws.shape
    if positions == 1:
        top = np.argmax(draws, axis=1)[:, None]
    elif positions < n:
        part = np.argpartition(-draws, positions - 1, axis=1)[:, :positions]
        inner = np.argsort(-np.take_along_axis(draws, part, axis=1), axis=1)
        top = np.take_along_axis(part, inner, axis=1)
    else:
        top = np.argsort(-draws, axis=1)
    table = np.empty((n, positions))
    for j in range(positions):
        table[:, j] = np.bincount(top[:, j], minlength=n)
    return table / n_draws


def _floats(values: np.ndarray) -> list[Any]:
    return list(np.asarray(values, dtype=float).tolist())


# --- the common base ----------------------------------------------------------------------


class Bandit(Policy):
    """What every concrete policy here shares: validation, slates, state.

    Subclasses either give deterministic scores (``_deterministic = True``:
    ``_scores``) or random ones (``_draw_scores``: ``size`` independent
    draws of every action's score). ``select`` is ``choose`` without the
    probability, for simulations that never log it.
    """

    _deterministic: ClassVar[bool] = False

    def __init__(
        self,
        actions: Sequence[str],
        n_features: int = 0,
        *,
        draws: int = DEFAULT_DRAWS,
        seed: int = 0,
    ) -> None:
        self.actions = _action_names(actions)
        self.n_features = _count("n_features", n_features, 0)
        self.draws = _count("draws", draws, 1)
        self.seed = _count("seed", seed, 0)
        self.counts = np.zeros(len(self.actions), dtype=np.int64)

    @property
    def n_actions(self) -> int:
        return len(self.actions)

    # Checks ------------------------------------------------------------------------

    def _context(self, context: np.ndarray | None) -> np.ndarray | None:
        if self.n_features == 0:
            if context is not None and np.size(context) > 0:
                raise ConfigError(
                    f"policy {self.kind!r} takes no context, got one of length {np.size(context)}"
                )
            return None
        if context is None:
            raise ConfigError(
                f"policy {self.kind!r} needs a context of {self.n_features} features, got none"
            )
        x = np.asarray(context, dtype=float)
        if x.ndim != 1 or len(x) != self.n_features:
            raise ConfigError(
                f"context of shape {x.shape}: policy {self.kind!r} needs a flat vector of "
                f"{self.n_features} features"
            )
        if not np.isfinite(x).all():
            raise ConfigError(f"context {x.tolist()!r}: every feature must be finite")
        return x

    def _action(self, action: int) -> int:
        if (
            isinstance(action, bool)
            or not isinstance(action, int | np.integer)
            or not 0 <= action < self.n_actions
        ):
            raise ConfigError(
                f"action {action!r}: must be an index from 0 to {self.n_actions - 1} "
                f"into the policy's {self.n_actions} actions"
            )
        return int(action)

    def _positions(self, positions: int) -> int:
        if (
            isinstance(positions, bool)
            or not isinstance(positions, int | np.integer)
            or not 1 <= positions <= self.n_actions
        ):
            raise ConfigError(
                f"positions={positions!r}: must be from 1 to the number of actions "
                f"({self.n_actions}), as a slate shows distinct actions"
            )
        return int(positions)

    # Scores -------------------------------------------------------------------------

    def _scores(self, context: np.ndarray | None) -> np.ndarray:
        raise NotImplementedError(f"policy {self.kind!r} has no deterministic scores")

    def _draw_scores(
        self, context: np.ndarray | None, rng: np.random.Generator, size: int
    ) -> np.ndarray:
        raise NotImplementedError(f"policy {self.kind!r} does not sample its scores")

    # The contract ---------------------------------------------------------------------

    def select(self, context: np.ndarray | None, rng: np.random.Generator) -> int:
        """The action ``choose`` would draw with this ``rng``, without its probability."""
        return self._rank(self._context(context), 1, rng)[0]

    def _rank(self, x: np.ndarray | None, positions: int, rng: np.random.Generator) -> list[int]:
        if self._deterministic:
            order = _tie_break_order(self._scores(x), rng)
        else:
            order = np.argsort(-self._draw_scores(x, rng, 1)[0])
        return [int(a) for a in order[:positions]]

    def choose(self, context: np.ndarray | None, rng: np.random.Generator) -> Choice:
        return self.choose_slate(context, 1, rng)[0]

    def choose_slate(
        self, context: np.ndarray | None, positions: int, rng: np.random.Generator
    ) -> list[Choice]:
        x = self._context(context)
        k = self._positions(positions)
        shown = self._rank(x, k, rng)
        table = self._table(x, k, self.draws)
        floor = 0.0 if self._deterministic else 1.0 / self.draws
        return [Choice(a, max(float(table[a, j]), floor)) for j, a in enumerate(shown)]

    def probabilities(
        self, context: np.ndarray | None, positions: int = 1, *, n_draws: int = 2000
    ) -> np.ndarray:
        return self._table(self._context(context), self._positions(positions), n_draws)

    def _table(self, x: np.ndarray | None, positions: int, n_draws: int) -> np.ndarray:
        if self._deterministic:
            return _ranked_table(self._scores(x), positions)
        n_draws = _count("n_draws", n_draws, 1)
        draws = self._draw_scores(x, np.random.default_rng(self.seed), n_draws)
        return _top_k_table(draws, positions)

    # State ----------------------------------------------------------------------------

    def _params(self) -> dict[str, Any]:
        """Settings beyond the shared ones, JSON-able."""
        return {}

    def _stats(self) -> dict[str, Any]:
        """Everything learned beyond ``counts``, JSON-able."""
        return {}

    def _load_stats(self, stats: dict[str, Any]) -> None:
        """Restore what ``_stats`` wrote."""

    def state(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "format": STATE_FORMAT,
            "actions": list(self.actions),
            "n_features": self.n_features,
            "draws": self.draws,
            "seed": self.seed,
            "params": self._params(),
            "counts": [int(c) for c in self.counts],
            "stats": self._stats(),
        }

    @classmethod
    def _from_state(cls, state: dict[str, Any]) -> Policy:
        if state.get("format") != STATE_FORMAT:
            raise ConfigError(
                f"policy state format {state.get('format')!r}: this version reads format "
                f"{STATE_FORMAT}"
            )
        try:
            shared: dict[str, Any] = {"draws": state["draws"], "seed": state["seed"]}
            if cls._takes_features():
                shared["n_features"] = state["n_features"]
            policy = cls(state["actions"], **shared, **state["params"])
            counts = np.asarray(state["counts"], dtype=np.int64)
            if counts.shape != policy.counts.shape:
                raise ConfigError(
                    f"policy state counts has {counts.size} values for {policy.n_actions} actions"
                )
            policy.counts = counts
            policy._load_stats(state["stats"])
        except (KeyError, TypeError, ValueError) as exc:
            raise ConfigError(f"policy state of kind {cls.kind!r} is incomplete: {exc}") from None
        return policy

    @classmethod
    def _takes_features(cls) -> bool:
        return False


def _array(stats: dict[str, Any], key: str, shape: tuple[int, ...]) -> np.ndarray:
    arr = np.asarray(stats[key], dtype=float)
    if arr.shape != shape:
        raise ConfigError(f"policy state {key} has shape {arr.shape}, expected {shape}")
    return arr


# --- context-free policies -----------------------------------------------------------------


class BernoulliThompson(Bandit):
    """Thompson sampling with a Beta posterior on each action's chance of success.

    ``values[a]`` is what a success of action ``a`` pays (1 by default; a
    price's margin when the success is a purchase), so the policy ranks
    ``values * p`` and ``update`` takes rewards between 0 and ``values[a]``:
    a reward ``r`` counts as ``r / values[a]`` of a success and the rest a
    failure, which for 0/1 outcomes is the plain Beta update. ``alpha`` and
    ``beta`` are the prior counts, one number or one per action.
    """

    kind = "bernoulli-thompson"

    def __init__(
        self,
        actions: Sequence[str],
        *,
        alpha: float | Sequence[float] = 1.0,
        beta: float | Sequence[float] = 1.0,
        values: float | Sequence[float] = 1.0,
        draws: int = DEFAULT_DRAWS,
        seed: int = 0,
    ) -> None:
        super().__init__(actions, draws=draws, seed=seed)
        n = self.n_actions
        self.alpha = _per_action("alpha", alpha, n)
        self.beta = _per_action("beta", beta, n)
        self.values = _per_action("values", values, n)
        self.successes = np.zeros(n)
        self.failures = np.zeros(n)

    def _draw_scores(
        self, context: np.ndarray | None, rng: np.random.Generator, size: int
    ) -> np.ndarray:
        a = self.alpha + self.successes
        b = self.beta + self.failures
        return rng.beta(a, b, size=(size, self.n_actions)) * self.values

    def update(self, action: int, reward: float, context: np.ndarray | None = None) -> None:
        self._context(context)
        a = self._action(action)
        r = _finite_reward(reward)
        share = r / self.values[a]
        if not -1e-9 <= share <= 1 + 1e-9:
            raise ConfigError(
                f"reward {reward!r} for action {self.actions[a]!r}: must lie between 0 and "
                f"{self.values[a]:g}, what a success of it pays"
            )
        share = min(max(share, 0.0), 1.0)
        self.successes[a] += share
        self.failures[a] += 1.0 - share
        self.counts[a] += 1

    def means(self, context: np.ndarray | None = None) -> np.ndarray:
        self._context(context)
        a = self.alpha + self.successes
        return np.asarray(self.values * a / (a + self.beta + self.failures))

    def _params(self) -> dict[str, Any]:
        return {
            "alpha": _floats(self.alpha),
            "beta": _floats(self.beta),
            "values": _floats(self.values),
        }

    def _stats(self) -> dict[str, Any]:
        return {"successes": _floats(self.successes), "failures": _floats(self.failures)}

    def _load_stats(self, stats: dict[str, Any]) -> None:
        n = (self.n_actions,)
        self.successes = _array(stats, "successes", n)
        self.failures = _array(stats, "failures", n)


class GaussianThompson(Bandit):
    """Thompson sampling for rewards of any size (revenue, margin) with an unknown mean.

    Before any data each action's mean is ``prior_mean`` give or take
    ``prior_sd``. With ``noise_sd`` given, one reward's spread is known and
    the posterior of the mean is normal. Without it the spread is learned
    too, by a Normal-Gamma prior whose precision has shape 1 and rate
    ``noise_guess**2`` (``noise_guess`` defaults to ``prior_sd``) and whose
    mean carries ``(noise_guess / prior_sd)**2`` pseudo-observations: the
    mean's prior is then Student-t with 2 degrees of freedom, centred on
    ``prior_mean`` with scale ``prior_sd``, and its posterior is Student-t.
    """

    kind = "gaussian-thompson"

    def __init__(
        self,
        actions: Sequence[str],
        *,
        prior_mean: float = 0.0,
        prior_sd: float = 1.0,
        noise_sd: float | None = None,
        noise_guess: float | None = None,
        draws: int = DEFAULT_DRAWS,
        seed: int = 0,
    ) -> None:
        super().__init__(actions, draws=draws, seed=seed)
        if not math.isfinite(prior_mean):
            raise ConfigError(f"prior_mean={prior_mean!r}: must be finite")
        self.prior_mean = float(prior_mean)
        self.prior_sd = _positive("prior_sd", prior_sd)
        self.noise_sd = None if noise_sd is None else _positive("noise_sd", noise_sd)
        self.noise_guess = (
            self.prior_sd if noise_guess is None else _positive("noise_guess", noise_guess)
        )
        n = self.n_actions
        self.mean = np.zeros(n)  # running mean of the rewards (Welford)
        self.m2 = np.zeros(n)  # running sum of squared deviations

    def _posterior(self) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
        """Centre and scale of each mean's posterior, and its Student-t degrees of freedom."""
        n = self.counts.astype(float)
        if self.noise_sd is not None:
            precision = 1.0 / self.prior_sd**2 + n / self.noise_sd**2
            centre = (self.prior_mean / self.prior_sd**2 + n * self.mean / self.noise_sd**2) / (
                precision
            )
            return centre, 1.0 / np.sqrt(precision), None
        kappa0 = (self.noise_guess / self.prior_sd) ** 2
        kappa = kappa0 + n
        centre = (kappa0 * self.prior_mean + n * self.mean) / kappa
        alpha = 1.0 + n / 2.0
        rate = (
            self.noise_guess**2
            + 0.5 * self.m2
            + kappa0 * n * (self.mean - self.prior_mean) ** 2 / (2.0 * kappa)
        )
        return centre, np.sqrt(rate / (alpha * kappa)), 2.0 * alpha

    def _draw_scores(
        self, context: np.ndarray | None, rng: np.random.Generator, size: int
    ) -> np.ndarray:
        centre, scale, dof = self._posterior()
        shape = (size, self.n_actions)
        noise = rng.standard_normal(shape) if dof is None else rng.standard_t(dof, shape)
        return np.asarray(centre + scale * noise)

    def update(self, action: int, reward: float, context: np.ndarray | None = None) -> None:
        self._context(context)
        a = self._action(action)
        r = _finite_reward(reward)
        self.counts[a] += 1
        delta = r - self.mean[a]
        self.mean[a] += delta / self.counts[a]
        self.m2[a] += delta * (r - self.mean[a])

    def means(self, context: np.ndarray | None = None) -> np.ndarray:
        self._context(context)
        return self._posterior()[0]

    def _params(self) -> dict[str, Any]:
        return {
            "prior_mean": self.prior_mean,
            "prior_sd": self.prior_sd,
            "noise_sd": self.noise_sd,
            "noise_guess": self.noise_guess,
        }

    def _stats(self) -> dict[str, Any]:
        return {"mean": _floats(self.mean), "m2": _floats(self.m2)}

    def _load_stats(self, stats: dict[str, Any]) -> None:
        n = (self.n_actions,)
        self.mean = _array(stats, "mean", n)
        self.m2 = _array(stats, "m2", n)


class _Averages(Bandit):
    """Running sums per action: what UCB1 and epsilon-greedy learn."""

    def __init__(
        self, actions: Sequence[str], *, draws: int = DEFAULT_DRAWS, seed: int = 0
    ) -> None:
        super().__init__(actions, draws=draws, seed=seed)
        self.sums = np.zeros(self.n_actions)

    def update(self, action: int, reward: float, context: np.ndarray | None = None) -> None:
        self._context(context)
        a = self._action(action)
        self.sums[a] += _finite_reward(reward)
        self.counts[a] += 1

    def means(self, context: np.ndarray | None = None) -> np.ndarray:
        """Average reward so far; 0 for an action never tried."""
        self._context(context)
        return np.asarray(self.sums / np.maximum(self.counts, 1))

    def _stats(self) -> dict[str, Any]:
        return {"sums": _floats(self.sums)}

    def _load_stats(self, stats: dict[str, Any]) -> None:
        self.sums = _array(stats, "sums", (self.n_actions,))

    def _greedy_scores(self) -> np.ndarray:
        # Untried actions come first, so each is tried once before any repeats.
        return np.where(self.counts > 0, self.means(), np.inf)


class UCB1(_Averages):
    """UCB1 (Auer et al. 2002): the highest ``mean + scale * sqrt(2 ln N / n)`` wins.

    Untried actions score infinity, so each is tried once first. ``scale`` is
    the range of one reward (UCB1's bound assumes rewards in [0, 1]; margins
    in currency need their largest value here). Deterministic: equal scores
    are broken uniformly, and the probabilities are exact (1, or ``1/g``
    among ``g`` tied actions): see the module's note on evaluating from such logs.
    """

    kind = "ucb"
    _deterministic = True

    def __init__(
        self,
        actions: Sequence[str],
        *,
        scale: float = 1.0,
        draws: int = DEFAULT_DRAWS,
        seed: int = 0,
    ) -> None:
        super().__init__(actions, draws=draws, seed=seed)
        self.scale = _positive("scale", scale)

    def _scores(self, context: np.ndarray | None) -> np.ndarray:
        total = max(int(self.counts.sum()), 1)
        n = np.maximum(self.counts, 1)
        bonus = self.scale * np.sqrt(2.0 * math.log(total) / n)
        return np.asarray(np.where(self.counts > 0, self.sums / n + bonus, np.inf))

    def _params(self) -> dict[str, Any]:
        return {"scale": self.scale}


class EpsilonGreedy(_Averages):
    """With chance ``epsilon`` any action uniformly, otherwise the best average.

    The greedy part tries every action once before it repeats one and breaks
    ties uniformly; the probabilities are exact: ``epsilon / K`` plus
    ``1 - epsilon`` shared among the greedy choices (per position for slates,
    the exploring slate being a uniformly random ordering).
    """

    kind = "epsilon-greedy"
    _deterministic = True  # its table is exact; the coin is drawn in _rank

    def __init__(
        self,
        actions: Sequence[str],
        *,
        epsilon: float = 0.1,
        draws: int = DEFAULT_DRAWS,
        seed: int = 0,
    ) -> None:
        super().__init__(actions, draws=draws, seed=seed)
        if not (isinstance(epsilon, int | float) and 0 <= epsilon <= 1):
            raise ConfigError(f"epsilon={epsilon!r}: must be a share in [0, 1]")
        self.epsilon = float(epsilon)

    def _rank(self, x: np.ndarray | None, positions: int, rng: np.random.Generator) -> list[int]:
        if rng.random() < self.epsilon:
            return [int(a) for a in rng.permutation(self.n_actions)[:positions]]
        order = _tie_break_order(self._greedy_scores(), rng)
        return [int(a) for a in order[:positions]]

    def _table(self, x: np.ndarray | None, positions: int, n_draws: int) -> np.ndarray:
        greedy = _ranked_table(self._greedy_scores(), positions)
        return np.asarray((1 - self.epsilon) * greedy + self.epsilon / self.n_actions)

    def _params(self) -> dict[str, Any]:
        return {"epsilon": self.epsilon}


# --- contextual policies -------------------------------------------------------------------


class _Linear(Bandit):
    """One ridge regression per action on the context: ``A = ridge * I + sum x x'``.

    The inverse of ``A`` is kept up to date (Sherman-Morrison) and stored in
    the state, so a reloaded policy scores bit for bit the same. Include a
    constant feature in the context for a per-action intercept.
    """

    def __init__(
        self,
        actions: Sequence[str],
        n_features: int,
        *,
        ridge: float = 1.0,
        draws: int = DEFAULT_DRAWS,
        seed: int = 0,
    ) -> None:
        super().__init__(actions, n_features, draws=draws, seed=seed)
        if self.n_features < 1:
            raise ConfigError(f"n_features={n_features!r}: a contextual policy needs at least 1")
        self.ridge = _positive("ridge", ridge)
        k, d = self.n_actions, self.n_features
        self.a_inv = np.tile(np.eye(d) / self.ridge, (k, 1, 1))
        self.b = np.zeros((k, d))

    @classmethod
    def _takes_features(cls) -> bool:
        return True

    def _theta(self) -> np.ndarray:
        return np.asarray(np.einsum("kij,kj->ki", self.a_inv, self.b))

    def _spread(self, x: np.ndarray) -> np.ndarray:
        """``sqrt(x' A^-1 x)`` per action."""
        return np.sqrt(np.maximum(np.einsum("i,kij,j->k", x, self.a_inv, x), 0.0))

    def update(self, action: int, reward: float, context: np.ndarray | None = None) -> None:
        x = self._context(context)
        assert x is not None  # _context refuses a missing one
        a = self._action(action)
        r = _finite_reward(reward)
        ax = self.a_inv[a] @ x
        self.a_inv[a] -= np.outer(ax, ax) / (1.0 + x @ ax)
        self.b[a] += r * x
        self.counts[a] += 1

    def means(self, context: np.ndarray | None = None) -> np.ndarray:
        x = self._context(context)
        assert x is not None
        return self._theta() @ x

    def _params(self) -> dict[str, Any]:
        return {"ridge": self.ridge}

    def _stats(self) -> dict[str, Any]:
        return {"a_inv": self.a_inv.tolist(), "b": self.b.tolist()}

    def _load_stats(self, stats: dict[str, Any]) -> None:
        k, d = self.n_actions, self.n_features
        self.a_inv = _array(stats, "a_inv", (k, d, d))
        self.b = _array(stats, "b", (k, d))


class LinUCB(_Linear):
    """LinUCB with a separate linear model per action (Li et al. 2010, the disjoint form).

    Scores ``theta_a' x + alpha * sqrt(x' A_a^-1 x)``; deterministic, with
    ties broken uniformly and exact probabilities, as for UCB1.
    """

    kind = "linucb"
    _deterministic = True

    def __init__(
        self,
        actions: Sequence[str],
        n_features: int,
        *,
        alpha: float = 1.0,
        ridge: float = 1.0,
        draws: int = DEFAULT_DRAWS,
        seed: int = 0,
    ) -> None:
        super().__init__(actions, n_features, ridge=ridge, draws=draws, seed=seed)
        if not (isinstance(alpha, int | float) and math.isfinite(alpha) and alpha >= 0):
            raise ConfigError(f"alpha={alpha!r}: must be a finite number of at least 0")
        self.alpha = float(alpha)

    def _scores(self, context: np.ndarray | None) -> np.ndarray:
        assert context is not None
        return np.asarray(self._theta() @ context + self.alpha * self._spread(context))

    def _params(self) -> dict[str, Any]:
        return {**super()._params(), "alpha": self.alpha}


class LinearThompson(_Linear):
    """Thompson sampling on a Bayesian linear regression per action.

    Each action's weights have the posterior ``N(A^-1 b, noise_sd**2 A^-1)``
    (a normal prior of variance ``noise_sd**2 / ridge``, rewards with known
    spread ``noise_sd``; Agrawal & Goyal 2013 use the same form). Actions
    are independent, so one context's scores are independent normals, which
    makes a draw cost ``O(K d^2)`` with no factorisation.
    """

    kind = "linear-thompson"

    def __init__(
        self,
        actions: Sequence[str],
        n_features: int,
        *,
        noise_sd: float = 1.0,
        ridge: float = 1.0,
        draws: int = DEFAULT_DRAWS,
        seed: int = 0,
    ) -> None:
        super().__init__(actions, n_features, ridge=ridge, draws=draws, seed=seed)
        self.noise_sd = _positive("noise_sd", noise_sd)

    def _draw_scores(
        self, context: np.ndarray | None, rng: np.random.Generator, size: int
    ) -> np.ndarray:
        assert context is not None
        centre = self._theta() @ context
        scale = self.noise_sd * self._spread(context)
        return np.asarray(centre + scale * rng.standard_normal((size, self.n_actions)))

    def _params(self) -> dict[str, Any]:
        return {**super()._params(), "noise_sd": self.noise_sd}


def _sigmoid(z: np.ndarray | float) -> Any:
    return 0.5 * (1.0 + np.tanh(0.5 * np.asarray(z)))


class LogisticThompson(Bandit):
    """Thompson sampling on a logistic regression per action, by Laplace approximation.

    Each action's weights are approximately ``N(m, S)``, starting from
    ``N(0, prior_var * I)``. An outcome ``y`` in [0, 1] (``reward /
    values[a]``) moves ``m`` to the mode of prior times likelihood, which
    lies on the line ``m + t S x`` and is found by a scalar Newton solve,
    and adds ``p (1 - p) x x'`` to the precision at that mode: the online,
    one-outcome-at-a-time form of the Laplace update that Chapelle & Li
    (2011) run in batches, here with the full covariance rather than its
    diagonal. A draw scores ``values[a] * sigmoid(w' x)``; ``means`` uses the
    probit approximation of the predictive chance.
    """

    kind = "logistic-thompson"

    def __init__(
        self,
        actions: Sequence[str],
        n_features: int,
        *,
        prior_var: float = 1.0,
        values: float | Sequence[float] = 1.0,
        draws: int = DEFAULT_DRAWS,
        seed: int = 0,
    ) -> None:
        super().__init__(actions, n_features, draws=draws, seed=seed)
        if self.n_features < 1:
            raise ConfigError(f"n_features={n_features!r}: a contextual policy needs at least 1")
        self.prior_var = _positive("prior_var", prior_var)
        self.values = _per_action("values", values, self.n_actions)
        k, d = self.n_actions, self.n_features
        self.m = np.zeros((k, d))
        self.cov = np.tile(np.eye(d) * self.prior_var, (k, 1, 1))

    @classmethod
    def _takes_features(cls) -> bool:
        return True

    def _logit_moments(self, x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        centre = self.m @ x
        var = np.maximum(np.einsum("i,kij,j->k", x, self.cov, x), 0.0)
        return centre, var

    def _draw_scores(
        self, context: np.ndarray | None, rng: np.random.Generator, size: int
    ) -> np.ndarray:
        assert context is not None
        centre, var = self._logit_moments(context)
        z = centre + np.sqrt(var) * rng.standard_normal((size, self.n_actions))
        return np.asarray(self.values * _sigmoid(z))

    def update(self, action: int, reward: float, context: np.ndarray | None = None) -> None:
        x = self._context(context)
        assert x is not None
        a = self._action(action)
        r = _finite_reward(reward)
        y = r / self.values[a]
        if not -1e-9 <= y <= 1 + 1e-9:
            raise ConfigError(
                f"reward {reward!r} for action {self.actions[a]!r}: must lie between 0 and "
                f"{self.values[a]:g}, what a success of it pays"
            )
        y = min(max(y, 0.0), 1.0)
        sx = self.cov[a] @ x
        s = float(x @ sx)
        z0 = float(self.m[a] @ x)

        # The mode's logit z solves z = z0 + s (y - sigmoid(z)); the left side
        # minus the right grows strictly in z, so Newton from z0 converges.
        z = z0
        for _ in range(50):
            p = float(_sigmoid(z))
            step = (z - z0 - s * (y - p)) / (1.0 + s * p * (1.0 - p))
            z -= step
            if abs(step) < 1e-10:
                break
        p = float(_sigmoid(z))
        self.m[a] += (y - p) * sx
        w = p * (1.0 - p)
        self.cov[a] -= np.outer(sx, sx) * (w / (1.0 + w * s))
        self.counts[a] += 1

    def means(self, context: np.ndarray | None = None) -> np.ndarray:
        x = self._context(context)
        assert x is not None
        centre, var = self._logit_moments(x)
        return np.asarray(self.values * _sigmoid(centre / np.sqrt(1.0 + math.pi * var / 8.0)))

    def _params(self) -> dict[str, Any]:
        return {"prior_var": self.prior_var, "values": _floats(self.values)}

    def _stats(self) -> dict[str, Any]:
        return {"m": self.m.tolist(), "cov": self.cov.tolist()}

    def _load_stats(self, stats: dict[str, Any]) -> None:
        k, d = self.n_actions, self.n_features
        self.m = _array(stats, "m", (k, d))
        self.cov = _array(stats, "cov", (k, d, d))


# --- the exploration cap -------------------------------------------------------------------


class ExplorationCap(Policy):
    """At most ``share`` of decisions explore; the rest get the inner policy's best.

    Each decision flips a coin: with chance ``1 - share`` it shows the action
    (or slate) with the highest ``inner.means(context)``, ties broken
    uniformly; otherwise it defers to ``inner``. Every outcome trains the
    inner policy. The probabilities are the same mixture,
    ``(1 - share) * greedy + share * inner``, exact where the inner
    policy's are. :meth:`from_guardrails` takes ``share`` from
    :attr:`PriceGuardrails.exploration_share`.
    """

    kind = "exploration-cap"

    def __init__(self, inner: Policy, share: float) -> None:
        if isinstance(inner, ExplorationCap):
            raise ConfigError("an exploration cap around another cap: cap the inner policy once")
        if not (isinstance(share, int | float) and 0 <= share <= 1):
            raise ConfigError(f"exploration share={share!r}: must be a share in [0, 1]")
        self.inner = inner
        self.share = float(share)
        self.actions = inner.actions
        self.n_features = inner.n_features

    @classmethod
    def from_guardrails(cls, inner: Policy, guardrails: PriceGuardrails) -> ExplorationCap:
        """The cap an operator set in ``guardrails.exploration_share``."""
        return cls(inner, guardrails.exploration_share)

    def _greedy(self, context: np.ndarray | None, positions: int) -> np.ndarray:
        n = len(self.actions)
        if isinstance(positions, bool) or not isinstance(positions, int | np.integer):
            positions = -1
        if not 1 <= positions <= n:
            raise ConfigError(
                f"positions={positions!r}: must be from 1 to the number of actions ({n}), "
                "as a slate shows distinct actions"
            )
        return _ranked_table(np.asarray(self.inner.means(context), dtype=float), positions)

    def probabilities(
        self, context: np.ndarray | None, positions: int = 1, *, n_draws: int = 2000
    ) -> np.ndarray:
        greedy = self._greedy(context, positions)
        inner = self.inner.probabilities(context, positions, n_draws=n_draws)
        return np.asarray((1 - self.share) * greedy + self.share * inner)

    def select(self, context: np.ndarray | None, rng: np.random.Generator) -> int:
        """The action ``choose`` would draw with this ``rng``, without its probability."""
        if rng.random() >= self.share:
            return int(_tie_break_order(np.asarray(self.inner.means(context)), rng)[0])
        if isinstance(self.inner, Bandit):
            return self.inner.select(context, rng)
        return self.inner.choose(context, rng).action

    def choose(self, context: np.ndarray | None, rng: np.random.Generator) -> Choice:
        return self.choose_slate(context, 1, rng)[0]

    def choose_slate(
        self, context: np.ndarray | None, positions: int, rng: np.random.Generator
    ) -> list[Choice]:
        explore = rng.random() < self.share
        greedy = self._greedy(context, positions)
        if explore:
            picked = self.inner.choose_slate(context, positions, rng)
            shown = [c.action for c in picked]
            # The inner policy's own logged chance (floored where it is estimated).
            inner_p = [c.probability for c in picked]
        else:
            scores = np.asarray(self.inner.means(context), dtype=float)
            shown = [int(a) for a in _tie_break_order(scores, rng)[:positions]]
            table = self.inner.probabilities(
                context, positions, n_draws=getattr(self.inner, "draws", 2000)
            )
            inner_p = [float(table[a, j]) for j, a in enumerate(shown)]
        return [
            Choice(a, (1 - self.share) * float(greedy[a, j]) + self.share * inner_p[j])
            for j, a in enumerate(shown)
        ]

    def update(self, action: int, reward: float, context: np.ndarray | None = None) -> None:
        self.inner.update(action, reward, context)

    def means(self, context: np.ndarray | None = None) -> np.ndarray:
        return self.inner.means(context)

    def state(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "format": STATE_FORMAT,
            "actions": list(self.actions),
            "share": self.share,
            "inner": self.inner.state(),
        }

    @classmethod
    def _from_state(cls, state: dict[str, Any]) -> Policy:
        try:
            return cls(Policy.from_state(state["inner"]), state["share"])
        except (KeyError, TypeError) as exc:
            raise ConfigError(f"policy state of kind {cls.kind!r} is incomplete: {exc}") from None
