"""One call from a log and a policy to every estimate with its bootstrap interval.

The interval resamples rounds with replacement. With ``refit`` (the default
whenever a model-based estimator is asked for) every resample refits the
reward model, with the folds of the original rounds, and re-tunes switch-DR
and DRos, so the interval carries the reward model's own uncertainty: with
the model held fixed a DM interval measures only the spread of its
predictions over contexts, which is nearly nothing, and misses the truth.
The interval is the percentile interval of the resampled estimates.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np

from shopkeeper.errors import ConfigError
from shopkeeper.ope._estimators import (
    ESTIMATORS,
    MODEL_BASED,
    TUNED,
    BiasEstimate,
    Pieces,
    estimate,
    pieces,
    tune,
)
from shopkeeper.ope._feedback import FloatArray, LoggedFeedback, check_action_dist
from shopkeeper.ope._reward import RewardModel, fit_predict_rewards

logger = logging.getLogger(__name__)

#: The fixed recommendation where no simulation chooses one (see ``select_estimator``).
RECOMMENDED = "dros"
DEFAULT_ESTIMATORS = ("ipw", "snipw", "dm", "dr", "switch-dr", "dros")


@dataclass(frozen=True)
class Estimate:
    """One estimator's value of the policy and its bootstrap interval.

    ``param`` is the hyper-parameter used (tau for switch-DR, lambda for
    DRos; None otherwise); ``lower``/``upper`` are None without a bootstrap.
    """

    estimator: str
    value: float
    lower: float | None = None
    upper: float | None = None
    param: float | None = None
    std_error: float | None = None

    def to_dict(self) -> dict[str, object]:
        return {
            "estimator": self.estimator,
            "estimate": self.value,
            "lower": self.lower,
            "upper": self.upper,
            "std_error": self.std_error,
            "param": None if self.param is None or not np.isfinite(self.param) else self.param,
        }


@dataclass(frozen=True)
class OPEResult:
    """Every estimate of one policy from one log, with the settings that produced them."""

    estimates: tuple[Estimate, ...]
    logged_value: float
    n_rounds: int
    n_bootstrap: int
    refit: bool
    alpha: float
    reward_model: RewardModel | None
    q_hat: FloatArray | None = field(default=None, repr=False)
    seconds: float = 0.0

    def get(self, estimator: str) -> Estimate:
        """The estimate of ``estimator``; KeyError if it was not computed."""
        for e in self.estimates:
            if e.estimator == estimator:
                return e
        raise KeyError(estimator)


def _all_estimates(
    names: Sequence[str],
    p: Pieces,
    params: dict[str, float | None],
    bias: BiasEstimate,
) -> tuple[dict[str, float], dict[str, float | None]]:
    values: dict[str, float] = {}
    used: dict[str, float | None] = {}
    for name in names:
        param = params.get(name)
        if name in TUNED and param is None:
            param = tune(name, p, bias=bias).param
        used[name] = param
        values[name] = estimate(name, p, param)
    return values, used


def evaluate_policy(
    feedback: LoggedFeedback,
    action_dist: FloatArray,
    estimators: Sequence[str] = DEFAULT_ESTIMATORS,
    reward_model: RewardModel | None = None,
    q_hat: FloatArray | None = None,
    n_bootstrap: int = 200,
    refit: bool = True,
    alpha: float = 0.05,
    seed: int = 0,
    tau: float | None = None,
    lambda_: float | None = None,
    bias: BiasEstimate = "debiased",
    progress: Callable[[int, int], None] | None = None,
) -> OPEResult:
    """Estimate the value of ``action_dist`` from ``feedback`` with each of ``estimators``.

    Model-based estimators use ``q_hat`` when given (then nothing is refitted,
    whatever ``refit`` says) or fit ``reward_model`` (default: cross-fitted
    logistic regression per position). ``tau`` and ``lambda_`` fix switch-DR's
    and DRos's hyper-parameter; when None they are tuned by estimated MSE
    (:func:`~shopkeeper.ope.tune` with ``bias``).
    ``n_bootstrap`` resamples give ``1 - alpha`` percentile intervals (0: no
    intervals). ``progress(done, total)`` is called after each resample.
    """
    started = time.perf_counter()
    names = list(dict.fromkeys(estimators))
    unknown = [n for n in names if n not in ESTIMATORS]
    if unknown or not names:
        raise ConfigError(
            f"unknown estimator(s) {', '.join(unknown) or '(none given)'}; "
            f"known: {', '.join(ESTIMATORS)}"
        )
    if not 0 < alpha < 1:
        raise ConfigError(f"alpha must lie in (0, 1), got {alpha}")
    if n_bootstrap < 0:
        raise ConfigError(f"the number of bootstrap resamples must be >= 0, got {n_bootstrap}")
    dist = check_action_dist(action_dist, feedback)
    needs_model = any(n in MODEL_BASED for n in names)
    model = (reward_model or RewardModel()) if needs_model and q_hat is None else None
    if needs_model and q_hat is None:
        q_hat = fit_predict_rewards(feedback, model)
    params: dict[str, float | None] = {"switch-dr": tau, "dros": lambda_}
    p = pieces(feedback, dist, q_hat if needs_model else None)
    values, used = _all_estimates(names, p, params, bias)

    refitting = refit and model is not None
    boot: dict[str, list[float]] = {n: [] for n in names}
    if n_bootstrap:
        rng = np.random.default_rng(seed)
        folds = _folds(feedback.n_rounds, model) if refitting else None
        for b in range(n_bootstrap):
            rows = rng.integers(0, feedback.n_rounds, size=feedback.n_rounds)
            if refitting and folds is not None:
                resample = feedback.take(rows)
                q_b = fit_predict_rewards(resample, model, folds=folds[rows])
                p_b = pieces(resample, dist[rows], q_b)
            else:
                p_b = p.take(rows)
            got, _ = _all_estimates(names, p_b, params, bias)
            for n in names:
                boot[n].append(got[n])
            if progress is not None:
                progress(b + 1, n_bootstrap)

    out = []
    for n in names:
        lower = upper = se = None
        if n_bootstrap:
            draws = np.asarray(boot[n])
            draws = draws[np.isfinite(draws)]
            if draws.size:
                lower = float(np.quantile(draws, alpha / 2))
                upper = float(np.quantile(draws, 1 - alpha / 2))
                se = float(draws.std(ddof=1)) if draws.size > 1 else 0.0
        out.append(Estimate(n, values[n], lower, upper, used[n], se))
    seconds = time.perf_counter() - started
    logger.debug(
        "evaluated %d estimators with %d resamples in %.2f s", len(names), n_bootstrap, seconds
    )
    return OPEResult(
        estimates=tuple(out),
        logged_value=float(feedback.reward.mean()),
        n_rounds=feedback.n_rounds,
        n_bootstrap=n_bootstrap,
        refit=refitting,
        alpha=alpha,
        reward_model=model,
        q_hat=q_hat,
        seconds=seconds,
    )


def _folds(n: int, model: RewardModel | None) -> np.ndarray:
    """Each original round's fold, shuffled like the main fit's ``KFold``."""
    from sklearn.model_selection import KFold

    folds = np.zeros(n, dtype=np.int64)
    if model is None or model.n_folds < 2:
        return folds
    splitter = KFold(n_splits=model.n_folds, shuffle=True, random_state=model.seed)
    for i, (_, test) in enumerate(splitter.split(np.zeros((n, 1)))):
        folds[test] = i
    return folds
