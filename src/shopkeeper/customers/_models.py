"""Purchase-propensity models: calibrated P(buy) from a table of customer or session features.

:class:`PropensityModel` is a binary classifier over a pandas data frame with
numeric and categorical columns. Three kinds share one cross-fitting scheme:

``logistic``
    One-hot categoricals, median-imputed and standardised numerics (skewed
    non-negative ones on a log1p scale), L2 logistic regression. Readable:
    :meth:`PropensityModel.coefficients` gives the weights and odds ratios.
``boosting``
    LightGBM with native categorical splits, small learning rate, shallow
    trees and the number of rounds chosen by inner cross-validation.
``blend``
    Both, stacked: a two-weight logistic regression on the inner
    out-of-fold logits of the two models.

Probabilities are calibrated on inner out-of-fold scores (never on rows a
model was trained on), so what :meth:`PropensityModel.predict_proba` reports
can be read as a probability. :func:`classification_report` and
:func:`cross_validate` score any model the same way; :func:`read_online_shoppers`
reads the UCI Online Shoppers Intention benchmark.
"""

from __future__ import annotations

import inspect
import math
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pandas as pd
from sklearn.compose import ColumnTransformer
from sklearn.impute import SimpleImputer
from sklearn.isotonic import IsotonicRegression
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import (
    average_precision_score,
    brier_score_loss,
    log_loss,
    roc_auc_score,
)
from sklearn.model_selection import StratifiedKFold
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import FunctionTransformer, OneHotEncoder, StandardScaler

from shopkeeper.errors import SourceError

Kind = Literal["logistic", "boosting", "blend"]
Calibration = Literal["isotonic", "sigmoid"]

MISSING = "(missing)"
# Base-model probabilities are kept this far from 0 and 1 before taking logits.
EPS = 1e-6

# LightGBM settings, fixed a priori rather than searched: a small learning rate
# with shallow trees (7 leaves), at least 50 rows per leaf, row and column
# subsampling and L2 shrinkage of leaf values. These are the usual
# "generalise first" choices for a few thousand to a few million rows; the
# one data-dependent setting, the number of rounds, is chosen by inner
# cross-validation in ``fit``.
BOOSTING_PARAMS: dict[str, Any] = {
    "learning_rate": 0.05,
    "num_leaves": 7,
    "min_child_samples": 50,
    "subsample": 0.8,
    "subsample_freq": 1,
    "colsample_bytree": 0.7,
    "reg_lambda": 5.0,
}
MAX_ROUNDS = 5000
PATIENCE = 100
# The final booster sees folds/(folds-1) times the rows of an inner one, which
# supports a few more rounds; we add 10 %, short of proportional scaling.
ROUNDS_GROWTH = 1.1
# A numeric column goes on a log1p scale in the logistic model when it is
# non-negative and this skewed: counts, durations and money usually are, and
# their effect on the log-odds is closer to linear in log(1 + x) than in x.
LOG_SKEW = 1.0


def _log1p_clipped(x: np.ndarray) -> np.ndarray:
    # Clipped at 0 so a negative value met after fitting cannot produce NaN.
    return np.log1p(np.clip(x, 0.0, None))


def _onehot_name(feature: str, category: Any) -> str:
    return f"{feature}={category}"


def _logit(p: np.ndarray) -> np.ndarray:
    p = np.clip(p, EPS, 1.0 - EPS)
    return np.log(p / (1.0 - p))


def _sigmoid(z: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-z))


class _CentredIsotonic:
    """Centred isotonic regression (Oron & Flournoy 2017) of y on a score.

    Plain isotonic regression is a step function: whole ranges of scores get
    one probability, which throws away the ranking inside each step (PR-AUC
    drops noticeably). The centred variant keeps the pooled-adjacent-violators
    fit but places each block's level at the block's mean score and
    interpolates linearly between them, so the map is strictly increasing
    between the first and last block centre and the ranking survives.
    """

    def fit(self, score: np.ndarray, y: np.ndarray) -> _CentredIsotonic:
        order = np.argsort(score, kind="mergesort")
        s, t = score[order], y[order].astype(float)
        fitted = IsotonicRegression(y_min=0.0, y_max=1.0).fit_transform(s, t)
        edges = np.r_[0, np.flatnonzero(np.diff(fitted) != 0) + 1, len(fitted)]
        self.centres_ = np.add.reduceat(s, edges[:-1]) / np.diff(edges)
        self.levels_ = fitted[edges[:-1]]
        return self

    def predict(self, score: np.ndarray) -> np.ndarray:
        return np.interp(score, self.centres_, self.levels_)


class _Platt:
    """Sigmoid calibration: P = 1/(1+e^-(a·score+b)), fitted by maximum likelihood."""

    def fit(self, score: np.ndarray, y: np.ndarray) -> _Platt:
        # Effectively unpenalised: two parameters on thousands of rows.
        self.model_ = LogisticRegression(C=1e6, max_iter=1000).fit(score[:, None], y)
        return self

    def predict(self, score: np.ndarray) -> np.ndarray:
        return self.model_.predict_proba(score[:, None])[:, 1]


def _binary_target(y: Any) -> np.ndarray:
    arr = np.asarray(y)
    if arr.ndim != 1:
        raise ValueError(f"y must be one-dimensional, got shape {arr.shape}")
    if arr.dtype == bool:
        return arr.astype(np.int64)
    values = set(pd.unique(arr).tolist())
    if not values <= {0, 1}:
        shown = sorted(map(str, values))[:5]
        raise ValueError(f"y must hold only 0/1 (or booleans); found {', '.join(shown)}")
    return arr.astype(np.int64)


def _positive_column(model: Any, p: Any) -> np.ndarray:
    """P(y=1) from a predict_proba result: 1-D as-is, 2-D the column of class 1."""
    arr = np.asarray(p, dtype=float)
    if arr.ndim == 1:
        return arr
    if arr.ndim == 2 and arr.shape[1] == 2:
        classes = list(getattr(model, "classes_", [0, 1]))
        return arr[:, classes.index(1) if 1 in classes else 1]
    raise ValueError(f"predict_proba returned shape {arr.shape}; expected (n,) or (n, 2)")


def _take(X: Any, idx: np.ndarray) -> Any:
    return X.iloc[idx] if isinstance(X, pd.DataFrame | pd.Series) else np.asarray(X)[idx]


def _supports_eval_x() -> bool:
    # LightGBM 4.6 renamed eval_set to eval_X/eval_y and deprecated the old name.
    from lightgbm import LGBMClassifier

    return "eval_X" in inspect.signature(LGBMClassifier.fit).parameters


class PropensityModel:
    """Calibrated P(y=1) over a data frame of named numeric and categorical features.

    ``kind`` picks the model (see the module docstring). ``categorical`` names
    the categorical columns; ``None`` takes every object, string, category and
    bool column. Every other column must be numeric; NaN is allowed anywhere.

    ``fit`` splits the rows into ``folds`` stratified inner folds (shuffled
    with ``seed``). On each split the base models are fitted on the other
    folds and score the held-out one, which gives an out-of-fold score for
    every row. For boosting, the held-out log-loss curves also choose one
    number of rounds (the minimum of their mean). The calibrator
    (``calibration``: centred isotonic regression or a sigmoid) and, for the
    blend, the two stacking weights are fitted on those out-of-fold scores;
    the models used for prediction are then refitted on all rows. No row's
    label ever calibrates a score the model trained on it produced.

    ``n_jobs`` is passed to LightGBM (whose own default would use every core);
    the logistic part is single-threaded. The fitted model pickles.
    """

    def __init__(
        self,
        kind: Kind = "blend",
        *,
        categorical: Sequence[str] | None = None,
        calibration: Calibration = "isotonic",
        folds: int = 5,
        seed: int = 0,
        n_jobs: int = 1,
    ) -> None:
        if kind not in ("logistic", "boosting", "blend"):
            raise ValueError(f"kind must be 'logistic', 'boosting' or 'blend', not {kind!r}")
        if calibration not in ("isotonic", "sigmoid"):
            raise ValueError(f"calibration must be 'isotonic' or 'sigmoid', not {calibration!r}")
        if folds < 2:
            raise ValueError(f"folds must be at least 2, got {folds}")
        self.kind: Kind = kind
        self.categorical = None if categorical is None else list(categorical)
        self.calibration: Calibration = calibration
        self.folds = folds
        self.seed = seed
        self.n_jobs = n_jobs

    def __repr__(self) -> str:
        return (
            f"PropensityModel({self.kind!r}, calibration={self.calibration!r}, "
            f"folds={self.folds}, seed={self.seed})"
        )

    # ---- columns ---------------------------------------------------------------------------

    def _learn_columns(self, X: pd.DataFrame) -> None:
        if not isinstance(X, pd.DataFrame):
            raise TypeError(f"X must be a pandas DataFrame, got {type(X).__name__}")
        unnamed = [c for c in X.columns if not isinstance(c, str)]
        if unnamed:
            # Names are how drivers and coefficients report features, and how
            # predict-time frames are matched to the fitted columns.
            raise TypeError(f"X's columns must be named by strings; got {unnamed[:3]!r}")
        if self.categorical is None:
            cats = [
                c
                for c in X.columns
                if isinstance(X[c].dtype, pd.CategoricalDtype)
                or pd.api.types.is_bool_dtype(X[c])
                or pd.api.types.is_object_dtype(X[c])
                or pd.api.types.is_string_dtype(X[c])
            ]
        else:
            missing = [c for c in self.categorical if c not in X.columns]
            if missing:
                raise ValueError(f"categorical columns not in X: {', '.join(map(str, missing))}")
            cats = list(self.categorical)
        numeric = [c for c in X.columns if c not in cats]
        bad = [c for c in numeric if not pd.api.types.is_numeric_dtype(X[c])]
        if bad:
            raise ValueError(
                f"columns {', '.join(map(str, bad))} are neither numeric nor categorical; "
                "convert them or name them in categorical="
            )
        self.categorical_ = list(cats)
        self.numeric_ = list(numeric)
        self.features_ = list(X.columns)
        self.categories_ = {c: sorted(self._as_text(X[c]).unique()) for c in self.categorical_}

    @staticmethod
    def _as_text(col: pd.Series) -> pd.Series:
        # One spelling per category for both models: the text of the value.
        text = col.astype(object).where(col.notna(), MISSING)
        return text.map(str)

    def _frame(self, X: pd.DataFrame) -> pd.DataFrame:
        """X restricted to the fitted columns, categoricals as text, numerics as float."""
        if not isinstance(X, pd.DataFrame):
            raise TypeError(f"X must be a pandas DataFrame, got {type(X).__name__}")
        missing = [c for c in self.features_ if c not in X.columns]
        if missing:
            raise ValueError(f"X lacks the columns the model was fitted on: {', '.join(missing)}")
        out = {c: self._as_text(X[c]) for c in self.categorical_}
        out.update({c: pd.to_numeric(X[c], errors="raise").astype(float) for c in self.numeric_})
        return pd.DataFrame(out, index=X.index)[self.features_]

    def _boosting_frame(self, frame: pd.DataFrame) -> pd.DataFrame:
        # Fixed category lists, so codes mean the same at fit and predict time and
        # a category never seen in training becomes NaN (LightGBM's "other" side).
        out = frame.copy()
        for c in self.categorical_:
            known = out[c].where(out[c].isin(self.categories_[c]))
            out[c] = pd.Categorical(known, categories=self.categories_[c])
        return out

    # ---- base models -----------------------------------------------------------------------

    def _logistic(self, frame: pd.DataFrame) -> Pipeline:
        """An unfitted logistic pipeline; which numerics go on log1p is decided on ``frame``."""
        logged: list[str] = []
        linear: list[str] = []
        for c in self.numeric_:
            col = frame[c].dropna()
            skewed = len(col) > 2 and col.min() >= 0 and float(col.skew()) > LOG_SKEW
            (logged if skewed else linear).append(c)
        parts: list[tuple[str, Any, list[str]]] = []
        if self.categorical_:
            # Sparse output: dense one-hot blocks make lbfgs several times slower.
            onehot = OneHotEncoder(handle_unknown="ignore", feature_name_combiner=_onehot_name)
            parts.append(("cat", onehot, self.categorical_))
        if logged:
            steps = [
                ("impute", SimpleImputer(strategy="median")),
                ("log1p", FunctionTransformer(_log1p_clipped, feature_names_out="one-to-one")),
                ("scale", StandardScaler()),
            ]
            parts.append(("log", Pipeline(steps), logged))
        if linear:
            steps = [("impute", SimpleImputer(strategy="median")), ("scale", StandardScaler())]
            parts.append(("num", Pipeline(steps), linear))
        columns = ColumnTransformer(parts, verbose_feature_names_out=False)
        return Pipeline([("columns", columns), ("model", LogisticRegression(max_iter=5000))])

    def _booster(self, n_estimators: int) -> Any:
        from lightgbm import LGBMClassifier

        return LGBMClassifier(
            n_estimators=n_estimators,
            random_state=self.seed,
            n_jobs=self.n_jobs,
            verbose=-1,
            **BOOSTING_PARAMS,
        )

    def _fit_booster_with_curve(
        self, train: pd.DataFrame, y_train: np.ndarray, valid: pd.DataFrame, y_valid: np.ndarray
    ) -> tuple[Any, list[float]]:
        from lightgbm import early_stopping

        model = self._booster(MAX_ROUNDS)
        stop = [early_stopping(PATIENCE, first_metric_only=True, verbose=False)]
        if _supports_eval_x():
            model.fit(train, y_train, eval_X=(valid,), eval_y=(y_valid,), callbacks=stop)
        else:  # pragma: no cover - LightGBM < 4.6
            model.fit(train, y_train, eval_set=[(valid, y_valid)], callbacks=stop)
        curve = next(iter(model.evals_result_.values()))["binary_logloss"]
        return model, list(curve)

    # ---- fit / predict ---------------------------------------------------------------------

    def fit(self, X: pd.DataFrame, y: Any) -> PropensityModel:
        """Fit on ``X`` (a data frame) and ``y`` (0/1 or booleans, one per row); return self.

        Needs at least ``folds`` rows of each class (the inner folds are stratified).
        """
        target = _binary_target(y)
        if len(target) != len(X):
            raise ValueError(f"X has {len(X)} rows but y has {len(target)}")
        counts = np.bincount(target, minlength=2)
        if counts.min() < self.folds:
            raise ValueError(
                f"need at least {self.folds} rows of each class for {self.folds} inner folds; "
                f"got {counts[0]} negatives and {counts[1]} positives"
            )
        self._learn_columns(X)
        frame = self._frame(X)
        use_lr = self.kind in ("logistic", "blend")
        use_gb = self.kind in ("boosting", "blend")
        gb_frame = self._boosting_frame(frame) if use_gb else frame

        splits = list(
            StratifiedKFold(self.folds, shuffle=True, random_state=self.seed).split(frame, target)
        )
        oof_lr = np.zeros(len(target))
        boosters, curves = [], []
        for train, valid in splits:
            if use_lr:
                lr = self._logistic(frame.iloc[train]).fit(frame.iloc[train], target[train])
                oof_lr[valid] = lr.predict_proba(frame.iloc[valid])[:, 1]
            if use_gb:
                booster, curve = self._fit_booster_with_curve(
                    gb_frame.iloc[train], target[train], gb_frame.iloc[valid], target[valid]
                )
                boosters.append(booster)
                curves.append(curve)

        scores: list[np.ndarray] = []
        if use_lr:
            scores.append(_logit(oof_lr))
            self.logistic_ = self._logistic(frame).fit(frame, target)
        if use_gb:
            # One round count for every fold: the minimum of the mean held-out curve
            # (curves are cut to the shortest, which early stopping ended past its best).
            shortest = min(len(c) for c in curves)
            mean_curve = np.mean([c[:shortest] for c in curves], axis=0)
            self.rounds_ = int(np.argmin(mean_curve)) + 1
            oof_gb = np.zeros(len(target))
            for (_, valid), booster in zip(splits, boosters, strict=True):
                p = booster.predict_proba(gb_frame.iloc[valid], num_iteration=self.rounds_)
                oof_gb[valid] = p[:, 1]
            scores.append(_logit(oof_gb))
            final_rounds = max(1, math.ceil(self.rounds_ * ROUNDS_GROWTH))
            self.booster_ = self._booster(final_rounds).fit(gb_frame, target)

        oof_score = self._learn_stack(np.column_stack(scores), target)
        calibrator = _CentredIsotonic() if self.calibration == "isotonic" else _Platt()
        self.calibrator_ = calibrator.fit(oof_score, target)
        # No finite sample supports a probability of exactly 0 or 1 (and one such
        # wrong claim makes log-loss unbounded): stay half a row away from both.
        self.floor_ = 0.5 / len(target)
        self.oof_proba_ = self._bounded(self.calibrator_.predict(oof_score))
        self.n_train_ = len(target)
        return self

    def _learn_stack(self, logits: np.ndarray, target: np.ndarray) -> np.ndarray:
        """Weights that turn the base models' logits into one score; return the OOF score."""
        if logits.shape[1] == 1:
            self.stack_weights_ = np.array([1.0])
            return logits[:, 0]
        stack = LogisticRegression(C=1e6, max_iter=1000).fit(logits, target)
        weights = stack.coef_[0]
        # A negative weight means one model only corrects the other's noise; drop
        # it rather than ship a blend that rewards the wrong direction.
        if (weights < 0).any():
            weights = np.where(weights == weights.max(), 1.0, 0.0)
        self.stack_weights_ = weights
        return logits @ weights

    def _score(self, X: pd.DataFrame) -> np.ndarray:
        if not hasattr(self, "calibrator_"):
            raise RuntimeError("the model is not fitted; call fit(X, y) first")
        frame = self._frame(X)
        logits = []
        if self.kind in ("logistic", "blend"):
            logits.append(_logit(self.logistic_.predict_proba(frame)[:, 1]))
        if self.kind in ("boosting", "blend"):
            logits.append(_logit(self.booster_.predict_proba(self._boosting_frame(frame))[:, 1]))
        return np.column_stack(logits) @ self.stack_weights_

    def _bounded(self, p: np.ndarray) -> np.ndarray:
        return np.clip(p, self.floor_, 1.0 - self.floor_)

    def predict_proba(self, X: pd.DataFrame) -> np.ndarray:
        """Calibrated P(y=1) for each row of ``X``, as a 1-D float array.

        Values lie in [0.5/n, 1 - 0.5/n] for ``n`` training rows, never exactly 0 or 1.
        """
        return self._bounded(self.calibrator_.predict(self._score(X)))

    # ---- explanation -----------------------------------------------------------------------

    def coefficients(self) -> pd.DataFrame:
        """The logistic part's weights: feature, weight, odds_ratio; the intercept first.

        The model is P(y=1) = 1/(1+e^-(b + w·x)) with each numeric ``x`` median-imputed,
        on log1p scale where the feature is named ``log1p(col)``, and standardised
        (weight = change in log-odds per standard deviation); categoricals are
        one-hot, named ``col=value``. These are the probabilities before
        calibration, which only re-maps them monotonically. Only for the
        ``logistic`` and ``blend`` kinds.
        """
        if not hasattr(self, "logistic_"):
            if self.kind == "boosting":
                raise ValueError("a boosting model has no coefficients; use drivers() instead")
            raise RuntimeError("the model is not fitted; call fit(X, y) first")
        columns = self.logistic_.named_steps["columns"]
        model = self.logistic_.named_steps["model"]
        logged = set()
        for name, _, cols in columns.transformers_:
            if name == "log":
                logged.update(cols)
        names = [f"log1p({n})" if n in logged else str(n) for n in columns.get_feature_names_out()]
        weights = np.r_[model.intercept_[0], model.coef_[0]]
        table = pd.DataFrame({"feature": ["(intercept)", *names], "weight": weights})
        table["odds_ratio"] = np.exp(table["weight"])
        return table

    def drivers(self, X: pd.DataFrame, y: Any, n_repeats: int = 5) -> pd.DataFrame:
        """Permutation importance on ROC-AUC over ``X``/``y``, most important first.

        For each feature, its column is shuffled ``n_repeats`` times (seeded by the
        model's ``seed``) and the drop in ROC-AUC from the unshuffled score is
        recorded: columns ``feature``, ``importance_mean``, ``importance_std``.
        Use held-out rows to measure what generalises; on training rows it shows
        what the model relies on. ``attrs['baseline_roc_auc']`` holds the unshuffled AUC.
        """
        target = _binary_target(y)
        if len(np.unique(target)) < 2:
            raise ValueError("drivers needs both classes in y to compute ROC-AUC")
        if n_repeats < 1:
            raise ValueError(f"n_repeats must be at least 1, got {n_repeats}")
        base = X[self.features_].reset_index(drop=True)
        baseline = roc_auc_score(target, self.predict_proba(base))
        rng = np.random.default_rng(self.seed)
        rows = []
        for feature in self.features_:
            drops = []
            for _ in range(n_repeats):
                shuffled = base.copy()
                shuffled[feature] = base[feature].to_numpy()[rng.permutation(len(base))]
                drops.append(baseline - roc_auc_score(target, self.predict_proba(shuffled)))
            rows.append((feature, float(np.mean(drops)), float(np.std(drops))))
        table = pd.DataFrame(rows, columns=["feature", "importance_mean", "importance_std"])
        table = table.sort_values("importance_mean", ascending=False, kind="mergesort")
        table = table.reset_index(drop=True)
        table.attrs["baseline_roc_auc"] = float(baseline)
        return table


# ---- scoring ---------------------------------------------------------------------------------


def classification_report(y: Any, p: Any, bins: int = 10) -> dict[str, Any]:
    """How good and how honest a probability score ``p`` is for outcomes ``y`` (0/1).

    Returns ``roc_auc``, ``pr_auc`` (average precision), ``brier``, ``log_loss``
    (scikit-learn's, ``p`` unclipped), ``prevalence``, ``n``; ``ece`` (count-weighted
    mean |mean_predicted - observed_rate| over the calibration bins) and
    ``brier_gap`` = brier - mean(p·(1-p)), whose expectation is 0 when ``p`` is
    calibrated (positive: over-confident or mis-ranked; negative: under-confident).
    ROC-AUC and PR-AUC are ``None`` when ``y`` holds one class only.

    ``calibration``: ``bins`` quantile bins of ``p`` (equal counts, ties split by
    row order), each {mean_predicted, observed_rate, count}. ``deciles``: the rows
    ranked by ``p``, highest first, in ten near-equal groups, each {decile (1 =
    highest scores), customers, mean_score, observed_rate, lift = observed_rate /
    prevalence}.
    """
    target = _binary_target(y)
    prob = np.asarray(p, dtype=float)
    if prob.shape != target.shape:
        raise ValueError(f"y has shape {target.shape} but p has shape {prob.shape}")
    if len(target) == 0:
        raise ValueError("classification_report needs at least one row")
    if np.isnan(prob).any() or (prob < 0).any() or (prob > 1).any():
        raise ValueError("p must be probabilities in [0, 1] without NaN")
    both = len(np.unique(target)) == 2
    prevalence = float(target.mean())

    calibration = []
    order = np.argsort(prob, kind="mergesort")
    for chunk in np.array_split(order, min(bins, len(order))):
        calibration.append(
            {
                "mean_predicted": float(prob[chunk].mean()),
                "observed_rate": float(target[chunk].mean()),
                "count": len(chunk),
            }
        )
    ece = sum(b["count"] * abs(b["mean_predicted"] - b["observed_rate"]) for b in calibration)

    deciles = []
    ranked = np.argsort(-prob, kind="mergesort")
    for i, chunk in enumerate(np.array_split(ranked, 10), start=1):
        if len(chunk) == 0:
            continue
        rate = float(target[chunk].mean())
        deciles.append(
            {
                "decile": i,
                "customers": len(chunk),
                "mean_score": float(prob[chunk].mean()),
                "observed_rate": rate,
                "lift": rate / prevalence if prevalence > 0 else None,
            }
        )
    brier = float(brier_score_loss(target, prob))
    return {
        "n": len(target),
        "prevalence": prevalence,
        "roc_auc": float(roc_auc_score(target, prob)) if both else None,
        "pr_auc": float(average_precision_score(target, prob)) if both else None,
        "brier": brier,
        "log_loss": float(log_loss(target, prob, labels=[0, 1])),
        "ece": float(ece / len(target)),
        "brier_gap": brier - float(np.mean(prob * (1 - prob))),
        "calibration": calibration,
        "deciles": deciles,
    }


METRICS = ("roc_auc", "pr_auc", "brier", "log_loss")


def cross_validate(
    make_model: Callable[[], Any], X: Any, y: Any, folds: int = 5, seed: int = 42
) -> dict[str, Any]:
    """Score a model family by stratified k-fold: ``make_model()`` gives a fresh unfitted model.

    Folds are ``StratifiedKFold(folds, shuffle=True, random_state=seed)``, so every
    model cross-validated with the same ``X``, ``y``, ``folds`` and ``seed`` sees the
    same splits. The model needs ``fit(X, y)`` and ``predict_proba(X)`` returning
    P(y=1) as 1-D, or two columns in scikit-learn's layout. ``X`` may be a data
    frame (rows taken with ``iloc``) or an array.

    Returns ``per_fold`` (list of {fold, n_train, n_test, fit_seconds,
    predict_seconds, roc_auc, pr_auc, brier, log_loss}); ``mean`` and ``sd``
    (sample standard deviation over folds) of those four metrics; ``pooled``:
    :func:`classification_report` of all out-of-fold predictions together;
    ``fit_seconds`` (mean per fold) and ``fit_seconds_total``; and the arrays
    ``oof`` (each row's out-of-fold P(y=1)) and ``fold`` (each row's test fold).
    """
    target = _binary_target(y)
    if len(target) != len(X):
        raise ValueError(f"X has {len(X)} rows but y has {len(target)}")
    splitter = StratifiedKFold(n_splits=folds, shuffle=True, random_state=seed)
    oof = np.full(len(target), np.nan)
    fold_of = np.full(len(target), -1, dtype=np.int64)
    per_fold = []
    for k, (train, test) in enumerate(splitter.split(np.zeros(len(target)), target)):
        model = make_model()
        t0 = time.perf_counter()
        model.fit(_take(X, train), target[train])
        fit_s = time.perf_counter() - t0
        t0 = time.perf_counter()
        p = _positive_column(model, model.predict_proba(_take(X, test)))
        predict_s = time.perf_counter() - t0
        oof[test] = p
        fold_of[test] = k
        report = classification_report(target[test], p)
        row: dict[str, Any] = {
            "fold": k,
            "n_train": len(train),
            "n_test": len(test),
            "fit_seconds": fit_s,
            "predict_seconds": predict_s,
        }
        row.update({m: report[m] for m in METRICS})
        per_fold.append(row)
    table = pd.DataFrame(per_fold)
    return {
        "folds": folds,
        "seed": seed,
        "per_fold": per_fold,
        "mean": {m: float(table[m].mean()) for m in METRICS},
        "sd": {m: float(table[m].std(ddof=1)) for m in METRICS},
        "pooled": classification_report(target, oof),
        "fit_seconds": float(table["fit_seconds"].mean()),
        "fit_seconds_total": float(table["fit_seconds"].sum()),
        "predict_seconds": float(table["predict_seconds"].mean()),
        "oof": oof,
        "fold": fold_of,
    }


# ---- the UCI Online Shoppers Intention data set ----------------------------------------------

ONLINE_SHOPPERS_NUMERIC = (
    "Administrative",
    "Administrative_Duration",
    "Informational",
    "Informational_Duration",
    "ProductRelated",
    "ProductRelated_Duration",
    "BounceRates",
    "ExitRates",
    "PageValues",
    "SpecialDay",
)
ONLINE_SHOPPERS_CATEGORICAL = (
    "Month",
    "OperatingSystems",
    "Browser",
    "Region",
    "TrafficType",
    "VisitorType",
    "Weekend",
)
_CODED = ("OperatingSystems", "Browser", "Region", "TrafficType")
_FLAGS = ("Weekend", "Revenue")
_COLUMNS = (
    *ONLINE_SHOPPERS_NUMERIC,
    "Month",
    *_CODED,
    "VisitorType",
    "Weekend",
    "Revenue",
)


def read_online_shoppers(path: Path) -> tuple[pd.DataFrame, np.ndarray]:
    """Read the UCI Online Shoppers Intention CSV: features and the ``Revenue`` target.

    Expects the published layout: a header row with the 17 feature columns and
    ``Revenue`` (TRUE/FALSE). Returns ``(X, y)``: ``X`` has the 10 numeric columns
    as numbers and Month, OperatingSystems, Browser, Region, TrafficType,
    VisitorType and Weekend as pandas ``category`` columns of the file's text
    (Weekend as ``TRUE``/``FALSE``), in file order; ``y`` is 0/1 (int64).

    Raises :class:`~shopkeeper.errors.SourceError` naming the file (and the line,
    the header being line 1) when it is missing, empty, not UTF-8, lacks a
    column or holds a value that does not fit its column.
    """
    source = str(path)
    path = Path(path)
    if not path.is_file():
        raise SourceError(source, "file not found")
    try:
        raw = pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8")
    except pd.errors.EmptyDataError as exc:
        raise SourceError(source, "is empty; expected a CSV with a header row") from exc
    except UnicodeDecodeError as exc:
        raise SourceError(source, f"is not UTF-8 text ({exc.reason})") from exc
    except pd.errors.ParserError as exc:
        raise SourceError(source, f"is not a well-formed CSV ({exc})") from exc
    raw.columns = [str(c).strip() for c in raw.columns]
    missing = [c for c in _COLUMNS if c not in raw.columns]
    if missing:
        raise SourceError(
            source,
            f"missing column{'s' if len(missing) > 1 else ''} {', '.join(missing)} "
            "(expected the UCI Online Shoppers Intention layout)",
            line=1,
        )
    if raw.empty:
        raise SourceError(source, "has a header but no data rows", line=1)

    def bad(column: str, mask: np.ndarray, what: str) -> SourceError:
        row = int(np.flatnonzero(mask)[0])
        value = raw[column].iloc[row]
        return SourceError(source, f"{column} value {value!r} is not {what}", line=row + 2)

    out: dict[str, Any] = {}
    for c in ONLINE_SHOPPERS_NUMERIC:
        values = pd.to_numeric(raw[c].str.strip(), errors="coerce")
        if values.isna().any():
            raise bad(c, values.isna().to_numpy(), "a number")
        out[c] = values
    for c in _CODED:
        text = raw[c].str.strip()
        invalid = ~text.str.fullmatch(r"\d+")
        if invalid.any():
            raise bad(c, invalid.to_numpy(), "a whole-number code")
        out[c] = text.str.lstrip("0").replace("", "0")
    for c in ("Month", "VisitorType"):
        text = raw[c].str.strip()
        if (text == "").any():
            raise bad(c, (text == "").to_numpy(), "a non-empty label")
        out[c] = text
    flags = {}
    for c in _FLAGS:
        text = raw[c].str.strip().str.upper()
        invalid = ~text.isin(["TRUE", "FALSE"])
        if invalid.any():
            raise bad(c, invalid.to_numpy(), "TRUE or FALSE")
        flags[c] = text
    out["Weekend"] = flags["Weekend"]
    features = [c for c in _COLUMNS if c != "Revenue"]
    X = pd.DataFrame({c: out[c] for c in features})
    for c in ONLINE_SHOPPERS_CATEGORICAL:
        X[c] = X[c].astype("category")
    y = (flags["Revenue"] == "TRUE").to_numpy().astype(np.int64)
    return X, y
