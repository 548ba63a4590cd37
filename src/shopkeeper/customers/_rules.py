"""Readable rules for who the high-value customers are: a shallow tree, priced against boosting.

A depth-limited scikit-learn decision tree is fit on the customer features and
each leaf becomes one rule in plain words ("age ≤ 30 and orders ≥ 4 → high
value, 82% of 1,240 customers"). The same folds also score a LightGBM model,
so the accuracy given up for readability is on the page next to the rules.

Features: numeric columns are used as they are; every other column (text,
categorical, boolean) is one-hot encoded, one indicator per observed value,
so a split reads "gender = f" or "gender ≠ f". Missing categorical values
become the value "unknown"; missing numbers are refused, because a rule
cannot say where they went.

Numbers are rendered so the rule stays true on the data: the tree splits at
midpoints (x ≤ 30.5), which for a column holding only whole numbers means
"x ≤ 30" on one side and "x ≥ 31" on the other. Other columns keep the strict
side ("x > 1.25") and show two decimals, or two significant digits below 1.
Repeated conditions on one feature merge into one: the tighter bound on each
side ("18 ≤ age ≤ 30"), and one value or a list of excluded values for a
categorical.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from sklearn.metrics import accuracy_score, balanced_accuracy_score, roc_auc_score
from sklearn.model_selection import StratifiedKFold
from sklearn.tree import DecisionTreeClassifier

from shopkeeper.errors import ConfigError

HIGH = "high value"
NOT_HIGH = "not high value"
UNKNOWN = "unknown"
METRICS = ("accuracy", "balanced_accuracy", "roc_auc")


@dataclass(frozen=True)
class Rule:
    """One tree leaf: the conditions that lead to it and what it holds.

    ``share_high`` is the share of the leaf's customers who are high value
    (the leaf's precision); ``label`` is "high value" when that share is
    above one half, the tree's own prediction.
    """

    conditions: list[str]
    customers: int
    share_high: float
    label: str

    @property
    def high(self) -> bool:
        """True for a leaf that predicts high value."""
        return self.label == HIGH

    def text(self) -> str:
        """The rule on one line, e.g. "orders ≥ 4 → high value, 82% of 1,240 customers".

        The percentage is the share of the leaf that has its label: high value
        for a high-value leaf, not high value for the others.
        """
        when = " and ".join(self.conditions) if self.conditions else "every customer"
        agree = self.share_high if self.high else 1.0 - self.share_high
        return f"{when} → {self.label}, {agree:.0%} of {self.customers:,} customers"

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-ready fields plus the rendered line."""
        return {
            "conditions": list(self.conditions),
            "customers": self.customers,
            "share_high": self.share_high,
            "label": self.label,
            "text": self.text(),
        }


@dataclass(frozen=True)
class HighValueRules:
    """The rules of the fitted tree, high-value leaves first, and the cross-validation.

    ``cv`` is ``{"tree": {...}, "boosting": {...}, "folds": k, "base_rate":
    share high}`` where each model holds the mean ``accuracy``,
    ``balanced_accuracy`` and ``roc_auc`` over the same stratified folds and
    ``per_fold`` lists of each.
    """

    rules: list[Rule]
    cv: dict[str, Any]
    features: list[str] = field(default_factory=list)

    def text(self, *, high_only: bool = False) -> str:
        """One line per rule (only the high-value ones when ``high_only``)."""
        return "\n".join(r.text() for r in self.rules if r.high or not high_only)

    def to_dict(self) -> dict[str, Any]:
        """Rules, cross-validation and feature names as plain data."""
        return {
            "rules": [r.to_dict() for r in self.rules],
            "cv": self.cv,
            "features": list(self.features),
        }


@dataclass(frozen=True)
class _Column:
    """One column of the design matrix: a numeric feature or one value of a categorical."""

    feature: str
    value: str | None  # None for a numeric feature
    integer: bool = False


def _design(X: pd.DataFrame) -> tuple[np.ndarray, list[_Column]]:
    parts: list[np.ndarray] = []
    columns: list[_Column] = []
    for name in X.columns:
        s = X[name]
        if pd.api.types.is_numeric_dtype(s) and not pd.api.types.is_bool_dtype(s):
            values = s.to_numpy(dtype=np.float64, na_value=np.nan)
            if np.isnan(values).any():
                raise ConfigError(
                    f"feature {name!r} has {int(np.isnan(values).sum()):,} missing values: "
                    "numeric features must be complete (fill them, or drop the column)"
                )
            if not np.isfinite(values).all():
                raise ConfigError(f"feature {name!r} has infinite values: numbers must be finite")
            parts.append(values[:, None])
            columns.append(_Column(str(name), None, bool((values == np.round(values)).all())))
        else:
            text = s.astype(object).where(s.notna(), UNKNOWN).astype(str)
            for value in sorted(text.unique()):
                parts.append((text.to_numpy() == value).astype(np.float64)[:, None])
                columns.append(_Column(str(name), value))
    matrix = np.hstack(parts) if parts else np.zeros((len(X), 0))
    return matrix, columns


def _number(value: float, extra: int = 0) -> str:
    """Two decimals, or two significant digits below 1; no trailing zeros."""
    if value == 0:
        return "0"
    if abs(value) >= 1:
        text = f"{value:,.{2 + extra}f}"
    else:
        digits = 1 - math.floor(math.log10(abs(value))) + extra
        text = f"{value:.{digits}f}"
    return text.rstrip("0").rstrip(".") if "." in text else text


def _interval(lower: float, upper: float) -> tuple[str, str]:
    """Both bounds, with more digits when rounding would make them look equal."""
    for extra in range(8):
        lo, hi = _number(lower, extra), _number(upper, extra)
        if lo != hi:
            break
    return lo, hi


def _whole(value: int) -> str:
    return f"{value:,}"


@dataclass
class _Bounds:
    """Tightest bounds seen on one feature along a path."""

    upper: float = math.inf  # x <= upper
    lower: float = -math.inf  # x > lower
    equals: str | None = None
    excluded: list[str] = field(default_factory=list)


def _render(feature: str, b: _Bounds, integer: bool, known: list[str]) -> str:
    if b.equals is not None:
        return f"{feature} = {b.equals}"
    if b.excluded:
        left = [v for v in known if v not in b.excluded]
        if len(left) == 1:
            # Every other observed value is ruled out, so say what remains.
            return f"{feature} = {left[0]}"
        out = [v for v in known if v in b.excluded] or b.excluded
        if len(out) == 1:
            return f"{feature} ≠ {out[0]}"
        return f"{feature} not in {{{', '.join(out)}}}"
    if integer:
        hi = math.floor(b.upper) if b.upper < math.inf else None
        lo = math.floor(b.lower) + 1 if b.lower > -math.inf else None
        if lo is not None and hi is not None:
            if lo == hi:
                return f"{feature} = {_whole(lo)}"
            return f"{_whole(lo)} ≤ {feature} ≤ {_whole(hi)}"
        if lo is None:
            return f"{feature} ≤ {_whole(math.floor(b.upper))}"
        return f"{feature} ≥ {_whole(lo)}"
    if b.lower > -math.inf and b.upper < math.inf:
        lo_text, hi_text = _interval(b.lower, b.upper)
        return f"{lo_text} < {feature} ≤ {hi_text}"
    if b.upper < math.inf:
        return f"{feature} ≤ {_number(b.upper)}"
    return f"{feature} > {_number(b.lower)}"


def _leaf_paths(tree: DecisionTreeClassifier) -> dict[int, list[tuple[int, bool]]]:
    """For each leaf id, the (node, went_left) steps from the root."""
    t = tree.tree_
    paths: dict[int, list[tuple[int, bool]]] = {}
    stack: list[tuple[int, list[tuple[int, bool]]]] = [(0, [])]
    while stack:
        node, path = stack.pop()
        left, right = int(t.children_left[node]), int(t.children_right[node])
        if left == -1:
            paths[node] = path
            continue
        stack.append((right, [*path, (node, False)]))
        stack.append((left, [*path, (node, True)]))
    return paths


def _conditions(
    path: list[tuple[int, bool]],
    tree: DecisionTreeClassifier,
    columns: list[_Column],
    known: dict[str, list[str]],
) -> list[str]:
    t = tree.tree_
    bounds: dict[str, _Bounds] = {}
    for node, went_left in path:
        col = columns[int(t.feature[node])]
        threshold = float(t.threshold[node])
        b = bounds.setdefault(col.feature, _Bounds())
        if col.value is not None:
            # Indicator split at 0.5: left is "not this value", right is "this value".
            if went_left:
                if col.value not in b.excluded:
                    b.excluded.append(col.value)
            else:
                b.equals = col.value
        elif went_left:
            b.upper = min(b.upper, threshold)
        else:
            b.lower = max(b.lower, threshold)
    integer = {c.feature: c.integer for c in columns}
    return [_render(name, b, integer[name], known.get(name, [])) for name, b in bounds.items()]


def _check(X: pd.DataFrame, y: np.ndarray, max_depth: int, min_share: float, folds: int) -> None:
    if not isinstance(X, pd.DataFrame) or X.shape[1] == 0:
        raise ConfigError("X must be a data frame with at least one feature column")
    if len(y) != len(X):
        raise ConfigError(f"y has {len(y):,} values for {len(X):,} rows of X: they must match")
    if isinstance(max_depth, bool) or not isinstance(max_depth, int) or max_depth < 1:
        raise ConfigError(f"max_depth {max_depth!r}: must be a whole number, at least 1")
    if not 0 < min_share < 0.5:
        raise ConfigError(f"min_share {min_share!r}: must be above 0 and below 0.5")
    if isinstance(folds, bool) or not isinstance(folds, int) or folds < 2:
        raise ConfigError(f"folds {folds!r}: must be a whole number, at least 2")


def _labels(y: np.ndarray) -> np.ndarray:
    arr = np.asarray(y)
    if arr.dtype == bool:
        return arr
    if arr.dtype.kind in "iuf" and np.isin(arr, (0, 1)).all():
        return arr.astype(bool)
    raise ConfigError(f"y of dtype {arr.dtype}: must be boolean (or 0 and 1), True = high value")


def _tree(n: int, max_depth: int, min_share: float, seed: int) -> DecisionTreeClassifier:
    return DecisionTreeClassifier(
        max_depth=max_depth,
        min_samples_leaf=max(1, math.ceil(min_share * n)),
        class_weight=None,
        random_state=seed,
    )


def _cross_validate(
    matrix: np.ndarray, y: np.ndarray, *, max_depth: int, min_share: float, seed: int, folds: int
) -> dict[str, Any]:
    # Imported here so the rest of shopkeeper does not pay for LightGBM's import.
    from lightgbm import LGBMClassifier

    splitter = StratifiedKFold(n_splits=folds, shuffle=True, random_state=seed)
    scores: dict[str, dict[str, list[float]]] = {
        model: {m: [] for m in METRICS} for model in ("tree", "boosting")
    }
    sizes: list[int] = []
    for train, test in splitter.split(matrix, y):
        sizes.append(len(test))
        models = {
            "tree": _tree(len(train), max_depth, min_share, seed),
            "boosting": LGBMClassifier(n_jobs=1, verbose=-1, random_state=seed),
        }
        for name, model in models.items():
            model.fit(matrix[train], y[train])
            proba = model.predict_proba(matrix[test])[:, 1]
            pred = model.predict(matrix[test]).astype(bool)
            scores[name]["accuracy"].append(float(accuracy_score(y[test], pred)))
            scores[name]["balanced_accuracy"].append(float(balanced_accuracy_score(y[test], pred)))
            scores[name]["roc_auc"].append(float(roc_auc_score(y[test], proba)))
    out: dict[str, Any] = {
        name: {
            **{m: float(np.mean(v)) for m, v in per.items()},
            "per_fold": per,
        }
        for name, per in scores.items()
    }
    out["folds"] = folds
    out["fold_sizes"] = sizes
    out["base_rate"] = float(y.mean())
    return out


def high_value_rules(
    X: pd.DataFrame,
    y: np.ndarray,
    *,
    max_depth: int = 3,
    min_share: float = 0.02,
    seed: int = 0,
    folds: int = 5,
) -> HighValueRules:
    """Fit a shallow tree on ``X`` (one row per customer) for ``y`` (True = high value).

    Every leaf holds at least ``ceil(min_share * n)`` customers, so no rule
    speaks for a handful. Cross-validation uses ``StratifiedKFold(folds,
    shuffle=True, random_state=seed)``; in each fold the tree's leaf minimum
    is recomputed from the training part. Raises ConfigError for mismatched
    lengths, a non-boolean ``y``, a class with fewer than ``folds`` customers,
    missing numeric values or out-of-range settings.
    """
    y_arr = _labels(np.asarray(y))
    _check(X, y_arr, max_depth, min_share, folds)
    minority = int(min(y_arr.sum(), (~y_arr).sum()))
    if minority < folds:
        raise ConfigError(
            f"y has {minority:,} customers in its smaller class: {folds} folds need at least "
            f"{folds} high-value and {folds} other customers"
        )
    matrix, columns = _design(X)
    tree = _tree(len(X), max_depth, min_share, seed).fit(matrix, y_arr)
    leaves = tree.apply(matrix)
    known: dict[str, list[str]] = {}
    for c in columns:
        if c.value is not None:
            known.setdefault(c.feature, []).append(c.value)
    rules = []
    for leaf, path in _leaf_paths(tree).items():
        members = leaves == leaf
        count = int(members.sum())
        share = float(y_arr[members].mean()) if count else 0.0
        rules.append(
            Rule(
                conditions=_conditions(path, tree, columns, known),
                customers=count,
                share_high=share,
                label=HIGH if share > 0.5 else NOT_HIGH,
            )
        )
    rules.sort(key=lambda r: (not r.high, -r.share_high if r.high else r.share_high, -r.customers))
    cv = _cross_validate(
        matrix, y_arr, max_depth=max_depth, min_share=min_share, seed=seed, folds=folds
    )
    return HighValueRules(rules=rules, cv=cv, features=[str(c) for c in X.columns])
