"""Reward models for the direct method and doubly robust estimators.

A reward model predicts ``q_hat(x, a, k)``, the expected reward of action
``a`` at position ``k`` in context ``x``, for every round, action and
position. The features of a (round, action) pair are the round's context
followed by the action's row of the item context (``action_context``, or a
one-hot of the action when the log has none), as in the Open Bandit
Pipeline's protocol. Positions get one model each (``per_position``), or
one model with the position one-hot as extra features.

Predictions are *cross-fitted*: the rounds are split into ``n_folds`` folds
(scikit-learn's shuffled ``KFold``) and each fold is predicted by models
fitted on the other folds, so a round's own reward never informs its
prediction. The models themselves are scikit-learn's: logistic regression
and histogram gradient boosting for 0/1 rewards, ridge regression and the
gradient boosting regressor otherwise.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
from sklearn.base import clone
from sklearn.model_selection import KFold

from shopkeeper.errors import ConfigError
from shopkeeper.ope._feedback import FloatArray, IntArray, LoggedFeedback

RewardModelKind = Literal["logistic", "gbm"]
REWARD_MODELS: tuple[str, ...] = ("logistic", "gbm")


@dataclass(frozen=True)
class RewardModel:
    """How ``q_hat`` is fitted: the model, positions, folds and seed.

    By default one model covers every position, with the position one-hot as
    features (``per_position=False``): a log with few rewards per position
    starves separate models. ``per_position=True`` is the Open Bandit
    Pipeline's protocol.

    ``kind`` "logistic" is ``LogisticRegression(C=C, max_iter=10000)``;
    "gbm" is ``HistGradientBoostingClassifier(max_iter=300,
    learning_rate=0.005, max_depth=5, min_samples_leaf=10)`` (the settings of
    the Open Bandit benchmark). Non-binary rewards use ``Ridge(alpha=1/C)`` and
    the gradient boosting regressor with the same settings.
    """

    kind: RewardModelKind = "logistic"
    per_position: bool = False
    n_folds: int = 3
    seed: int = 12345
    C: float = 100.0

    def __post_init__(self) -> None:
        if self.kind not in REWARD_MODELS:
            raise ConfigError(
                f"unknown reward model {self.kind!r}; known: {', '.join(REWARD_MODELS)}"
            )
        if self.n_folds < 1:
            raise ConfigError(f"n_folds must be at least 1, got {self.n_folds}")

    def base_model(self, binary: bool) -> Any:
        """A fresh, unfitted scikit-learn model for this kind of reward."""
        if self.kind == "logistic":
            if binary:
                from sklearn.linear_model import LogisticRegression

                return LogisticRegression(C=self.C, max_iter=10000)
            from sklearn.linear_model import Ridge

            return Ridge(alpha=1.0 / self.C)
        if binary:
            from sklearn.ensemble import HistGradientBoostingClassifier

            return HistGradientBoostingClassifier(
                max_iter=300, learning_rate=0.005, max_depth=5, min_samples_leaf=10
            )
        from sklearn.ensemble import HistGradientBoostingRegressor

        return HistGradientBoostingRegressor(
            max_iter=300, learning_rate=0.005, max_depth=5, min_samples_leaf=10
        )


def _action_features(feedback: LoggedFeedback) -> FloatArray:
    if feedback.action_context is not None:
        return feedback.action_context
    return np.eye(feedback.n_actions)


def _features(
    context: FloatArray,
    actions: IntArray,
    action_features: FloatArray,
    position: IntArray | None,
    n_positions: int,
) -> FloatArray:
    """``[context, action features, (position one-hot)]`` for each row."""
    parts = [context, action_features[actions]]
    if position is not None:
        parts.append(np.eye(n_positions)[position])
    return np.hstack(parts)


class _Constant:
    """Predicts one value: a training fold whose rewards are all equal (no click at all)."""

    def __init__(self, value: float) -> None:
        self.value = value

    def predict(self, x: FloatArray) -> FloatArray:
        return np.full(x.shape[0], self.value)


def _fit(model: Any, x: FloatArray, y: FloatArray) -> Any:
    if np.unique(y).size < 2:
        return _Constant(float(y.mean()) if y.size else 0.0)
    return clone(model).fit(x, y)


def _predict(model: Any, x: FloatArray) -> FloatArray:
    if hasattr(model, "predict_proba"):
        return np.asarray(model.predict_proba(x)[:, 1], dtype=float)
    return np.asarray(model.predict(x), dtype=float)


def fit_predict_rewards(
    feedback: LoggedFeedback, model: RewardModel | None = None, folds: IntArray | None = None
) -> FloatArray:
    """Cross-fitted ``q_hat`` of shape ``(n_rounds, n_actions, n_positions)``.

    ``folds`` gives each round's fold (0..n_folds-1); by default it follows
    ``KFold(n_folds, shuffle=True, random_state=seed)``. A bootstrap passes
    the folds of the original rounds, so that the copies of one round never
    sit on both sides of a split. ``n_folds=1`` fits on everything and
    predicts the same rounds (in-sample).
    """
    model = model or RewardModel()
    n = feedback.n_rounds
    if folds is None:
        folds = np.zeros(n, dtype=np.int64)
        if model.n_folds > 1:
            if n < model.n_folds:
                raise ConfigError(f"{n} rounds cannot be split into {model.n_folds} folds")
            splitter = KFold(n_splits=model.n_folds, shuffle=True, random_state=model.seed)
            for i, (_, test) in enumerate(splitter.split(np.zeros((n, 1)))):
                folds[test] = i
    reward = feedback.reward
    binary = bool(np.isin(reward, (0.0, 1.0)).all())
    base = model.base_model(binary)
    feats = _action_features(feedback)
    n_actions, n_positions = feedback.n_actions, feedback.n_positions
    q_hat = np.zeros((n, n_actions, n_positions))
    fold_ids = np.unique(folds)
    for fold in fold_ids:
        test = np.flatnonzero(folds == fold)
        train = np.flatnonzero(folds != fold) if fold_ids.size > 1 else test
        # Logs repeat contexts (one-hot user segments): predict each distinct one once.
        ctx_test, back = np.unique(feedback.context[test], axis=0, return_inverse=True)
        back = back.reshape(-1)
        n_ctx = ctx_test.shape[0]
        # Every distinct context paired with every action, in context-major order.
        rep_ctx = np.repeat(ctx_test, n_actions, axis=0)
        rep_act = np.tile(np.arange(n_actions), n_ctx)
        if model.per_position:
            for k in range(n_positions):
                rows = train[feedback.position[train] == k]
                if rows.size == 0:
                    raise ConfigError(f"no logged round at position {k} to fit a reward model on")
                x = _features(
                    feedback.context[rows], feedback.action[rows], feats, None, n_positions
                )
                fitted = _fit(base, x, reward[rows])
                grid = _features(rep_ctx, rep_act, feats, None, n_positions)
                q_hat[test, :, k] = _predict(fitted, grid).reshape(n_ctx, n_actions)[back]
        else:
            x = _features(
                feedback.context[train],
                feedback.action[train],
                feats,
                feedback.position[train],
                n_positions,
            )
            fitted = _fit(base, x, reward[train])
            for k in range(n_positions):
                pos = np.full(rep_act.size, k)
                grid = _features(rep_ctx, rep_act, feats, pos, n_positions)
                q_hat[test, :, k] = _predict(fitted, grid).reshape(n_ctx, n_actions)[back]
    return q_hat
