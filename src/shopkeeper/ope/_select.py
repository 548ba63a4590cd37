"""Choosing the estimator for one log: a simulation on the log itself.

No estimator is best on every log. IPW is unbiased but noisy where the
policy differs much from the logging one; the direct method (DM) is steady
but only as right as its reward model; DR, switch-DR and DRos sit between
them. Which trade wins depends on the log's size, its rewards and the
policy, so the choice is made per log, by a *semi-synthetic* check:

1. keep the log's contexts, actions, positions and propensities;
2. fit a simple reward function to the log (a logistic or ridge regression
   per position, fitted on every round) and multiply it by a log-normal
   factor per action and position (``spread``: interactions that no
   candidate's reward model can represent exactly), rescaled to the log's
   mean reward;
3. draw ``reps`` new reward columns from it (Bernoulli for 0/1 rewards,
   normal noise with the log's residual spread otherwise), compute the
   policy's true value under that function exactly, and let every
   candidate estimate it with the shop's reward model, as it would on the
   real log;
4. the candidate with the lowest root mean squared relative error wins.

Nothing of the evaluated policy's own outcomes is used: only the log and
the policy's action distribution. The check is kinder to DM than reality
may be when the real rewards are far from any regression (the simulated
truth starts from one); the table of errors per candidate is returned so
that the margin can be read, not only the winner.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from shopkeeper.errors import ConfigError
from shopkeeper.ope._estimators import ESTIMATORS
from shopkeeper.ope._feedback import FloatArray, LoggedFeedback, check_action_dist
from shopkeeper.ope._reward import RewardModel, fit_predict_rewards

#: What ``select_estimator`` chooses from by default: every estimator of the table.
SELECT_FROM = ("ipw", "snipw", "dm", "dr", "switch-dr", "dros")


@dataclass(frozen=True)
class Selection:
    """The estimator a simulation on the log chose, and every candidate's errors.

    ``rmse`` and ``bias`` are the root mean squared and mean signed relative
    errors over ``reps`` simulated reward columns, per candidate; ``chosen``
    has the lowest ``rmse``.
    """

    chosen: str
    rmse: dict[str, float]
    bias: dict[str, float]
    reps: int
    spread: float

    def to_dict(self) -> dict[str, object]:
        return {
            "chosen": self.chosen,
            "reps": self.reps,
            "spread": self.spread,
            "candidates": [
                {"estimator": n, "rmse": self.rmse[n], "bias": self.bias[n]}
                for n in sorted(self.rmse, key=self.rmse.__getitem__)
            ],
        }


def select_estimator(
    feedback: LoggedFeedback,
    action_dist: FloatArray,
    candidates: Sequence[str] = SELECT_FROM,
    reward_model: RewardModel | None = None,
    reps: int = 20,
    spread: float = 0.5,
    seed: int = 7,
    progress: Callable[[int, int], None] | None = None,
) -> Selection:
    """Choose among ``candidates`` for this log and policy (see the module doc).

    ``reward_model`` is the one the candidates will use on the real log
    (default :class:`RewardModel`); ``spread`` is the standard deviation of
    the log-normal factor per action and position. ``progress(done, total)``
    is called after each simulated draw.
    """
    from shopkeeper.ope._evaluate import evaluate_policy

    names = list(dict.fromkeys(candidates))
    if not names:
        raise ConfigError("select_estimator needs at least one candidate estimator")
    unknown = [n for n in names if n not in ESTIMATORS]
    if unknown:
        raise ConfigError(
            f"unknown estimator(s) {', '.join(unknown)}; known: {', '.join(ESTIMATORS)}"
        )
    if reps < 2:
        raise ConfigError(f"the simulation needs at least 2 draws, got reps={reps}")
    if spread < 0:
        raise ConfigError(f"spread must be >= 0, got {spread}")
    dist = check_action_dist(action_dist, feedback)
    model = reward_model or RewardModel()
    reward = feedback.reward
    binary = bool(np.isin(reward, (0.0, 1.0)).all())
    if binary and reward.sum() == 0:
        raise ConfigError("the log has no reward at all: there is nothing to simulate from")
    # The simulated world: a plain regression per position, fitted on every round.
    world = RewardModel(model.kind, per_position=True, n_folds=1, seed=model.seed, C=1.0)
    base = fit_predict_rewards(feedback, world)
    rounds = np.arange(feedback.n_rounds)
    at = feedback.position
    logged = base[rounds, feedback.action, at]
    noise = float(np.std(reward - logged)) if not binary else 0.0
    rng = np.random.default_rng(seed)
    errors: dict[str, list[float]] = {n: [] for n in names}
    for r in range(reps):
        factor = np.exp(rng.normal(0.0, spread, size=(feedback.n_actions, feedback.n_positions)))
        mean = base * factor[None]
        if binary:
            mean = np.clip(mean, 0.0, 1.0)
        scale = reward.mean() / mean[rounds, feedback.action, at].mean()
        mean = mean * scale if np.isfinite(scale) else mean
        if binary:
            mean = np.clip(mean, 0.0, 1.0)
        truth = float(np.einsum("ta,ta->t", dist[rounds, :, at], mean[rounds, :, at]).mean())
        if truth == 0:
            raise ConfigError("the simulated policy value is 0: no candidate can be scored")
        here = mean[rounds, feedback.action, at]
        drawn = (
            (rng.random(feedback.n_rounds) < here).astype(float)
            if binary
            else here + rng.normal(0.0, noise, size=feedback.n_rounds)
        )
        sim = dataclasses.replace(feedback, reward=drawn)
        result = evaluate_policy(sim, dist, names, reward_model=model, n_bootstrap=0)
        for e in result.estimates:
            errors[e.estimator].append((e.value - truth) / truth)
        if progress is not None:
            progress(r + 1, reps)
    rmse = {n: float(np.sqrt(np.mean(np.square(v)))) for n, v in errors.items()}
    bias = {n: float(np.mean(v)) for n, v in errors.items()}
    chosen = min(names, key=lambda n: (rmse[n], names.index(n)))
    return Selection(chosen=chosen, rmse=rmse, bias=bias, reps=reps, spread=spread)
