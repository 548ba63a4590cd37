"""Who will buy in the next N days: a purchase-propensity model per customer.

Training examples are snapshots: the features of every known customer at a
reference date, labelled by whether they ordered in the ``horizon_days``
after it. Several reference dates, one horizon apart, are stacked so the
model sees different seasons and every stage of a customer's life.

The check is out of time: the last labelled reference date (the data's end
minus one horizon) is the test; the models learn from the dates before it
only, whose labels were all known by then. The model kind with the lowest
Brier score on that test is then refitted on every labelled date, the test
date included, and scores customers at the data's end.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, cast

import numpy as np
import pandas as pd

from shopkeeper.customers._features import DAY, customer_features, labelled, top_categories
from shopkeeper.customers._history import CustomerHistory
from shopkeeper.customers._models import Kind, PropensityModel, classification_report
from shopkeeper.errors import ConfigError

logger = logging.getLogger(__name__)

KINDS = ("logistic", "boosting", "blend")
# The blend is left out by default: on the demo shop and on the online-shoppers
# sessions its stack gives the logistic part no weight, so it only costs time.
DEFAULT_KINDS = ("logistic", "boosting")
DRIVER_ROWS = 5_000
Progress = Callable[[str, int, int], None]


@dataclass
class CustomerPropensity:
    """A fitted customer propensity model and how it did out of time."""

    horizon_days: int
    kind: str
    categories: list[str]
    features: list[str]
    model: PropensityModel
    trained_on: list[str]  # reference dates
    test_date: str
    evaluation: dict[str, dict[str, Any]] = field(default_factory=dict)  # per kind
    drivers: list[dict[str, Any]] = field(default_factory=list)
    coefficients: list[dict[str, Any]] = field(default_factory=list)
    # Test-date scores of every kind and whether the customer bought (index customer_id).
    test_predictions: pd.DataFrame = field(default_factory=pd.DataFrame)

    def features_at(self, history: CustomerHistory, as_of: pd.Timestamp) -> pd.DataFrame:
        frame = customer_features(
            history, as_of, horizon_days=self.horizon_days, categories=self.categories
        )
        return frame[self.features]

    def score(self, history: CustomerHistory, as_of: pd.Timestamp | None = None) -> pd.Series:
        """P(order within the horizon after ``as_of``) for every customer known then."""
        day = history.end if as_of is None else pd.Timestamp(as_of).normalize()
        frame = self.features_at(history, day)
        return pd.Series(self.model.predict_proba(frame), index=frame.index, name="propensity")

    def summary(self) -> dict[str, Any]:
        return {
            "horizon_days": self.horizon_days,
            "kind": self.kind,
            "trained_on": self.trained_on,
            "test_date": self.test_date,
            "evaluation": self.evaluation,
            "drivers": self.drivers[:15],
            "coefficients": self.coefficients[:20],
        }


def reference_dates(history: CustomerHistory, horizon_days: int, count: int) -> list[pd.Timestamp]:
    """``count`` labelled reference dates one horizon apart, the latest first.

    The latest is the data's end minus one horizon (its labels are the last
    ``horizon_days`` of the data). Dates before the first order are dropped.
    """
    if count < 2:
        raise ConfigError(f"need at least 2 reference dates (one to test), got {count}")
    end = history.end
    dates = [end - horizon_days * k * DAY for k in range(1, count + 1)]
    usable = [d for d in dates if d > history.start + horizon_days * DAY]
    if len(usable) < 2:
        span = (end - history.start).days
        raise ConfigError(
            f"the orders span {span} days: a {horizon_days}-day horizon needs at least "
            f"{3 * horizon_days} days of history (two training dates and a test)"
        )
    return usable


def _stack(
    history: CustomerHistory, dates: Sequence[pd.Timestamp], horizon: int, cats: list[str]
) -> tuple[pd.DataFrame, np.ndarray]:
    frames, labels = [], []
    for day in dates:
        X, y = labelled(history, day, horizon, categories=cats)
        frames.append(X)
        labels.append(y)
    X = pd.concat(frames, axis=0)
    X["gender"] = pd.Categorical(X["gender"].astype("str"))
    return X, np.concatenate(labels)


def train_customer_propensity(
    history: CustomerHistory,
    *,
    horizon_days: int = 30,
    reference_count: int = 5,
    kinds: Sequence[str] = DEFAULT_KINDS,
    seed: int = 0,
    progress: Progress | None = None,
) -> CustomerPropensity:
    """Fit, test out of time, choose the best kind and refit it; see the module doc."""
    for kind in kinds:
        if kind not in KINDS:
            raise ConfigError(f"unknown propensity model {kind!r}; use {', '.join(KINDS)}")
    dates = reference_dates(history, horizon_days, reference_count)
    test_day, train_days = dates[0], dates[1:]
    cats = top_categories(history.until(test_day))
    steps = len(kinds) + 2
    say = progress or (lambda _m, _i, _n: None)
    say("features", 0, steps)
    X_train, y_train = _stack(history, train_days, horizon_days, cats)
    X_test, y_test = _stack(history, [test_day], horizon_days, cats)
    if y_train.all() or not y_train.any():
        raise ConfigError("every customer (or none) bought in the training horizons: no contrast")
    features = list(X_train.columns)
    evaluation: dict[str, dict[str, Any]] = {}
    fitted: dict[str, PropensityModel] = {}
    predictions = pd.DataFrame({"bought": y_test}, index=X_test.index)
    for i, kind in enumerate(kinds, start=1):
        say(f"fit {kind}", i, steps)
        started = time.perf_counter()
        model = PropensityModel(kind=cast(Kind, kind), seed=seed).fit(X_train, y_train)
        p = model.predict_proba(X_test)
        report = classification_report(y_test, p)
        predictions[kind] = p
        report["fit_s"] = round(time.perf_counter() - started, 2)
        evaluation[kind] = report
        fitted[kind] = model
        logger.info("propensity %s: AUC %.4f, Brier %.4f", kind, report["roc_auc"], report["brier"])
    best = min(evaluation, key=lambda k: evaluation[k]["brier"])
    say("drivers", len(kinds) + 1, steps)
    # Permutation importance on a sample: its cost grows with rows × features × repeats.
    rows = np.random.default_rng(seed).permutation(len(X_test))[:DRIVER_ROWS]
    drivers = fitted[best].drivers(X_test.iloc[rows], y_test[rows], n_repeats=3)
    coefficients: list[dict[str, Any]] = []
    if "logistic" in fitted:
        coefficients = fitted["logistic"].coefficients().to_dict(orient="records")
    X_all, y_all = _stack(history, dates, horizon_days, cats)
    final = PropensityModel(kind=cast(Kind, best), seed=seed).fit(X_all, y_all)
    say("done", steps, steps)
    return CustomerPropensity(
        horizon_days=horizon_days,
        kind=best,
        categories=cats,
        features=features,
        model=final,
        trained_on=[str(d.date()) for d in dates],
        test_date=str(test_day.date()),
        evaluation=evaluation,
        drivers=drivers.to_dict(orient="records"),
        coefficients=coefficients,
        test_predictions=predictions,
    )
