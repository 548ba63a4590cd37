"""Late-delivery risk: features known when an order is placed, the model, and its reasons.

:func:`order_features` turns an :class:`~shopkeeper.orders._data.OrderBook`
into one row of features per order, each known at the moment the order was
placed (nothing about its own shipment):

- ``carrier``, ``ship_city``, ``country`` (the customer's), ``location_id``
  (where it ships from), ``top_category`` (the basket's main category);
- ``weekday`` and ``hour`` on the shop's clock; ``promised_days`` (deadline
  minus ordered_at, in days);
- ``lines``, ``units``, ``value``, ``categories`` (the basket);
- ``festival``: the shop festival of the local day (618, Double 11,
  Black Friday, Spring Festival, ... as in the marketing mix's calendar),
  ``none`` on other days; ``day_load``: the shop's orders that local day over
  the median of the 28 days before (festival peaks overload warehouses and
  carriers; the current day is counted as far as it has gone);
- ``carrier_late_rate``: the carrier's late share over the orders whose
  deadline passed in the 28 days before this order was placed, shrunk
  towards the shop's rate over the same days (20 orders' worth), so a
  carrier with few parcels is not judged on three of them.

:class:`LateRiskModel` is LightGBM with native categorical splits; the
number of rounds is chosen by early stopping on a random fifth of the
training orders, and a sigmoid fitted on that fifth's scores turns them into
calibrated probabilities. The final booster is refitted on every training order.
:meth:`LateRiskModel.reasons` words the largest positive contributions
(LightGBM ``pred_contrib``, on the calibrated log-odds scale) of each order.
:func:`evaluate_risk` compares it on held-out later orders with the naive
rule (each carrier's historic late rate), a logistic regression and a
LightGBM with default settings.
"""

from __future__ import annotations

import inspect
import math
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from shopkeeper.orders._data import DAY, OrderBook

CATEGORICAL = ("carrier", "ship_city", "country", "location_id", "top_category", "festival")
NUMERIC = (
    "weekday",
    "hour",
    "promised_days",
    "lines",
    "units",
    "value",
    "categories",
    "day_load",
    "carrier_late_rate",
)
FEATURES = CATEGORICAL + NUMERIC
RATE_WINDOW_DAYS = 28
RATE_PRIOR_ORDERS = 20.0
MISSING = "(none)"
WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")

# Fixed a priori (as in customer propensity): a small learning rate, shallow trees
# (7 leaves), at least 100 orders a leaf (late parcels are a tenth of them, and
# most lateness is chance), subsampling and L2 shrinkage; only the number of rounds
# is data-dependent (early stopping on the validation period). On the demo shops
# 15 leaves and 40 orders a leaf scored lower on held-out orders (small shop
# ROC-AUC 0.758 against 0.764) and fitted four times slower.
BOOSTING_PARAMS: dict[str, Any] = {
    "learning_rate": 0.05,
    "num_leaves": 7,
    "min_child_samples": 100,
    "subsample": 0.8,
    "subsample_freq": 1,
    "colsample_bytree": 0.8,
    "reg_lambda": 5.0,
    "cat_smooth": 20.0,
    "min_data_per_group": 40,
}
MAX_ROUNDS = 3000
PATIENCE = 100
VALIDATION_SHARE = 0.2
EPS = 1e-6


# -- features ---------------------------------------------------------------------------


def order_features(book: OrderBook) -> pd.DataFrame:
    """One row of features per order of ``book`` (index order_id); see the module doc."""
    o = book.orders
    local = o["local_at"]
    day = local.dt.normalize()
    out = pd.DataFrame(index=pd.Index(o["order_id"], name="order_id"))
    for column in ("carrier", "ship_city", "country", "location_id", "top_category"):
        out[column] = _text(o[column]).to_numpy()
    out["festival"] = festival_of(day).to_numpy()
    out["weekday"] = local.dt.weekday.to_numpy().astype(float)
    out["hour"] = (local.dt.hour + local.dt.minute / 60.0).to_numpy()
    out["promised_days"] = ((o["deadline"] - o["ordered_at"]) / DAY).to_numpy()
    for column in ("lines", "units", "value", "categories"):
        out[column] = o[column].to_numpy().astype(float)
    out["day_load"] = _day_load(day, o["deadline"].notna()).to_numpy()
    out["carrier_late_rate"] = _carrier_late_rate(book).to_numpy()
    return out


def festival_of(days: pd.Series) -> pd.Series:
    """The shop festival each local day falls in (the first day-level match), else ``none``."""
    from shopkeeper.mmm._calendar import festival_days

    valid = days.dropna()
    names: dict[pd.Timestamp, str] = {}
    if len(valid):
        years = range(valid.min().year - 1, valid.max().year + 2)
        spans = festival_days(list(years))
        # Single days first: "Double 11" wins over its pre-sale window.
        ordered = sorted(spans.items(), key=lambda kv: kv[1][0][1] is not None)
        for name, items in ordered:
            for first, last in items:
                for k in range(((last or first) - first).days + 1):
                    names.setdefault(pd.Timestamp(first) + pd.Timedelta(days=k), name)
    return days.map(lambda d: names.get(d, "none") if pd.notna(d) else "none")


def _text(column: pd.Series) -> pd.Series:
    return column.astype(object).where(column.notna(), MISSING).map(str)


def _day_load(day: pd.Series, promised: pd.Series) -> pd.Series:
    """Each order's local day: orders that day over the median of the 28 days before."""
    counts = day[promised].value_counts().sort_index()
    if counts.empty:
        return pd.Series(1.0, index=day.index)
    full = counts.reindex(pd.date_range(counts.index.min(), counts.index.max()), fill_value=0)
    before = full.shift(1).rolling(RATE_WINDOW_DAYS, min_periods=7).median()
    ratio = (full / before.clip(lower=1.0)).where(before.notna(), 1.0)
    return day.map(ratio).astype(float).fillna(1.0)


def _carrier_late_rate(book: OrderBook) -> pd.Series:
    """Per order, its carrier's shrunk late share over deadlines passed in the prior 28 days."""
    o = book.orders
    settled = o[o["known"] & o["deadline"].notna() & (o["deadline"] <= book.as_of)]
    out = pd.Series(np.nan, index=o.index)
    if settled.empty:
        return out
    start = min(o["ordered_at"].min(), settled["deadline"].min()).normalize()
    days = int((max(o["ordered_at"].max(), settled["deadline"].max()) - start) / DAY) + 2
    due = ((settled["deadline"] - start) // DAY).astype(int).to_numpy()

    def window(late: np.ndarray, idx: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        # Cumulative counts per day: sums over [day - 28, day) by differences.
        n = np.bincount(idx, minlength=days).astype(float)
        k = np.bincount(idx, late.astype(float), minlength=days)
        cn, ck = np.r_[0.0, np.cumsum(n)], np.r_[0.0, np.cumsum(k)]
        return cn, ck

    at = ((o["ordered_at"] - start) // DAY).astype(int).to_numpy()
    lo = np.maximum(at - RATE_WINDOW_DAYS, 0)
    cn, ck = window(settled["late"].to_numpy(), due)
    shop_n, shop_k = cn[at] - cn[lo], ck[at] - ck[lo]
    prior = np.where(shop_n > 0, shop_k / np.maximum(shop_n, 1.0), np.nan)
    carrier = _text(o["carrier"]).to_numpy()
    settled_carrier = _text(settled["carrier"]).to_numpy()
    rate = np.full(len(o), np.nan)
    for name in np.unique(carrier):
        mine = settled_carrier == name
        cn_c, ck_c = window(settled["late"].to_numpy()[mine], due[mine])
        rows = carrier == name
        n = cn_c[at[rows]] - cn_c[lo[rows]]
        k = ck_c[at[rows]] - ck_c[lo[rows]]
        p = prior[rows]
        rate[rows] = (k + RATE_PRIOR_ORDERS * p) / (n + RATE_PRIOR_ORDERS)
    return pd.Series(rate, index=o.index)


# -- the model ----------------------------------------------------------------------------


def _logit(p: np.ndarray) -> np.ndarray:
    p = np.clip(p, EPS, 1.0 - EPS)
    return np.log(p / (1.0 - p))


def _sigmoid(z: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-z))


class LateRiskModel:
    """Calibrated P(late) per order from :func:`order_features` rows (see the module doc).

    ``fit(X, y)`` takes the features of orders and their 0/1 late labels; a
    seeded random ``VALIDATION_SHARE`` of them stops the boosting and fits the
    sigmoid. ``n_jobs`` goes to LightGBM. Fitted state:
    ``rounds_``, ``booster_``, ``slope_`` and ``intercept_`` (the sigmoid),
    ``categories_``, ``base_rate_``.
    """

    def __init__(self, *, seed: int = 0, n_jobs: int = 1) -> None:
        self.seed = seed
        self.n_jobs = n_jobs

    def _booster(self, rounds: int) -> Any:
        from lightgbm import LGBMClassifier

        return LGBMClassifier(
            n_estimators=rounds,
            random_state=self.seed,
            n_jobs=self.n_jobs,
            verbose=-1,
            **BOOSTING_PARAMS,
        )

    def _frame(self, X: pd.DataFrame) -> pd.DataFrame:
        missing = [c for c in FEATURES if c not in X.columns]
        if missing:
            raise ValueError(f"X lacks the feature columns {', '.join(missing)}")
        out = X[list(FEATURES)].copy()
        for c in CATEGORICAL:
            # Fixed category lists: an unseen carrier or city becomes NaN, not a new code.
            text = _text(out[c])
            out[c] = pd.Categorical(text.where(text.isin(self.categories_[c])), self.categories_[c])
        for c in NUMERIC:
            out[c] = pd.to_numeric(out[c]).astype(float)
        return out

    def fit(self, X: pd.DataFrame, y: Any) -> LateRiskModel:
        """Fit on orders oldest first; returns self. Needs late and on-time orders in both parts."""
        from lightgbm import early_stopping

        target = np.asarray(y).astype(int)
        if len(target) != len(X):
            raise ValueError(f"X has {len(X)} rows but y has {len(target)}")
        self.categories_ = {c: sorted(_text(X[c]).unique()) for c in CATEGORICAL}
        frame = self._frame(X)
        # A random (seeded) fifth for early stopping and calibration: it shares the
        # training period's mix of seasons, so the sigmoid does not carry one late
        # festival's level into every later score. Out-of-time checks are the
        # caller's (evaluate_risk holds the latest orders out).
        rng = np.random.default_rng(self.seed)
        is_valid = rng.random(len(frame)) < VALIDATION_SHARE
        fit_y, valid_y = target[~is_valid], target[is_valid]
        for part, name in ((fit_y, "fitting"), (valid_y, "validation")):
            if len(np.unique(part)) < 2:
                raise ValueError(f"the {name} part needs late and on-time orders")
        first = self._booster(MAX_ROUNDS)
        stop = [early_stopping(PATIENCE, verbose=False)]
        train, valid = frame[~is_valid], frame[is_valid]
        if "eval_X" in inspect.signature(first.fit).parameters:
            first.fit(train, fit_y, eval_X=(valid,), eval_y=(valid_y,), callbacks=stop)
        else:  # pragma: no cover - LightGBM < 4.6
            first.fit(train, fit_y, eval_set=[(valid, valid_y)], callbacks=stop)
        self.rounds_ = max(1, int(first.best_iteration_ or MAX_ROUNDS))
        raw = first.predict(valid, raw_score=True, num_iteration=self.rounds_)
        self._calibrate(np.asarray(raw, dtype=float), valid_y)
        # Refitted on every order, with rounds grown in proportion to the rows.
        grown = max(1, math.ceil(self.rounds_ * len(frame) / max(len(train), 1)))
        self.booster_ = self._booster(grown).fit(frame, target)
        self.base_rate_ = float(target.mean())
        self.n_train_ = len(target)
        return self

    def _calibrate(self, raw: np.ndarray, y: np.ndarray) -> None:
        from sklearn.linear_model import LogisticRegression

        platt = LogisticRegression(C=1e6, max_iter=1000).fit(raw[:, None], y)
        self.slope_ = float(platt.coef_[0, 0])
        self.intercept_ = float(platt.intercept_[0])

    def raw_score(self, X: pd.DataFrame) -> np.ndarray:
        return np.asarray(self.booster_.predict(self._frame(X), raw_score=True), dtype=float)

    def predict_proba(self, X: pd.DataFrame) -> np.ndarray:
        """Calibrated P(late) per row, as a 1-D array."""
        return _sigmoid(self.slope_ * self.raw_score(X) + self.intercept_)

    def contributions(self, X: pd.DataFrame) -> pd.DataFrame:
        """Each feature's push on the calibrated log-odds of each row (columns: features).

        ``pred_contrib`` splits the raw score exactly into per-feature parts and
        a bias; the sigmoid scales them by its slope, so the parts plus the bias
        column ``(base)`` add up to the calibrated log-odds.
        """
        parts = np.asarray(self.booster_.predict(self._frame(X), pred_contrib=True), dtype=float)
        parts = parts * self.slope_
        parts[:, -1] += self.intercept_
        return pd.DataFrame(parts, index=X.index, columns=[*FEATURES, "(base)"])

    def reasons(self, X: pd.DataFrame, top: int = 3) -> list[list[str]]:
        """The ``top`` features pushing each row's risk up most, in words."""
        parts = self.contributions(X).drop(columns="(base)")
        # The carrier and its recent late rate are one reason to a reader.
        parts["carrier"] += parts.pop("carrier_late_rate")
        names = list(parts.columns)
        values = parts.to_numpy()
        out: list[list[str]] = []
        rows = X.to_dict(orient="records")
        for i, row in enumerate(rows):
            order = np.argsort(-values[i], kind="stable")
            words = [
                describe(names[j], row, float(values[i, j]))
                for j in order[:top]
                if values[i, j] > 0.05
            ]
            out.append(words)
        return out

    def importance(self) -> pd.DataFrame:
        """Total gain per feature, largest first: feature, gain, share."""
        gain = self.booster_.booster_.feature_importance(importance_type="gain")
        table = pd.DataFrame({"feature": list(FEATURES), "gain": gain.astype(float)})
        table["share"] = table["gain"] / max(table["gain"].sum(), 1e-12)
        return table.sort_values("gain", ascending=False, kind="stable").reset_index(drop=True)


#: How a feature's value reads in a reason, where one format says it.
_REASONS = {
    "ship_city": "ships to {v}",
    "country": "customer in {v}",
    "location_id": "ships from {v}",
    "top_category": "mostly {v}",
    "festival": "ordered on {v}",
    "day_load": "the shop took {v:.1f}x a normal day's orders that day",
    "promised_days": "promised within {v:.1f} days",
    "value": "basket worth {v:,.2f}",
}


def describe(feature: str, row: dict[str, Any], push: float) -> str:
    """One feature's value of one order, worded as a reason for its risk."""
    v: Any = row.get(feature)
    odds = f"×{math.exp(push):.1f} odds"
    if feature == "carrier":
        rate = row.get("carrier_late_rate")
        known = isinstance(rate, float) and not math.isnan(rate)
        tail = f", {rate:.0%} of its parcels late lately" if known else ""
        return f"carrier {v}{tail} ({odds})"
    if feature == "carrier_late_rate":
        return f"the carrier delivered {v:.0%} late in the last {RATE_WINDOW_DAYS} days ({odds})"
    if feature == "festival" and v == "none":
        return f"ordered on a normal day ({odds})"
    if feature in _REASONS:
        return f"{_REASONS[feature].format(v=v)} ({odds})"
    if feature == "weekday":
        return f"ordered on a {WEEKDAYS[int(v) % 7]} ({odds})"
    if feature == "hour":
        return f"ordered at {int(v):02d}:{round((v % 1) * 60) % 60:02d} ({odds})"
    if feature in ("lines", "units", "categories"):
        return f"{int(v)} {feature} in the basket ({odds})"
    return f"{feature} = {v} ({odds})"


# -- the held-out comparison -------------------------------------------------------------


@dataclass
class RiskEvaluation:
    """Held-out scores of every model: ``table`` (one row per model), the split and rates."""

    table: pd.DataFrame
    train_orders: int
    test_orders: int
    test_from: str
    train_late_rate: float
    test_late_rate: float

    def to_dict(self) -> dict[str, Any]:
        return {
            "train_orders": self.train_orders,
            "test_orders": self.test_orders,
            "test_from": self.test_from,
            "train_late_rate": round(self.train_late_rate, 4),
            "test_late_rate": round(self.test_late_rate, 4),
            "models": [
                {k: (round(v, 4) if isinstance(v, float) else v) for k, v in row.items()}
                for row in self.table.to_dict(orient="records")
            ],
        }


def carrier_rule(X: pd.DataFrame, y: np.ndarray) -> Callable[[pd.DataFrame], np.ndarray]:
    """The naive rule: each carrier's late share in ``X``/``y`` (the shop's for others)."""
    carrier = _text(X["carrier"])
    rates = pd.Series(y, index=X.index).groupby(carrier.to_numpy()).mean()
    overall = float(np.mean(y))
    return lambda Z: _text(Z["carrier"]).map(rates).fillna(overall).to_numpy(dtype=float)


def logistic_model(X: pd.DataFrame, y: np.ndarray) -> Callable[[pd.DataFrame], np.ndarray]:
    """A plain logistic regression: one-hot categories, log1p of skewed counts, standardised."""
    from sklearn.compose import ColumnTransformer
    from sklearn.impute import SimpleImputer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import Pipeline
    from sklearn.preprocessing import FunctionTransformer, OneHotEncoder, StandardScaler

    logged = ["lines", "units", "value", "categories", "day_load"]
    linear = [c for c in NUMERIC if c not in logged]
    columns = ColumnTransformer(
        [
            ("cat", OneHotEncoder(handle_unknown="ignore", min_frequency=20), list(CATEGORICAL)),
            (
                "log",
                Pipeline(
                    [
                        ("impute", SimpleImputer(strategy="median")),
                        ("log1p", FunctionTransformer(lambda a: np.log1p(np.clip(a, 0, None)))),
                        ("scale", StandardScaler()),
                    ]
                ),
                logged,
            ),
            (
                "num",
                Pipeline(
                    [("impute", SimpleImputer(strategy="median")), ("scale", StandardScaler())]
                ),
                linear,
            ),
        ]
    )
    pipe = Pipeline([("columns", columns), ("model", LogisticRegression(max_iter=2000))])
    pipe.fit(_plain(X), y)
    return lambda Z: pipe.predict_proba(_plain(Z))[:, 1]


def default_lightgbm(
    X: pd.DataFrame, y: np.ndarray, n_jobs: int = 1, seed: int = 0
) -> Callable[[pd.DataFrame], np.ndarray]:
    """LightGBM with its default settings (100 rounds, 31 leaves) on the same features."""
    from lightgbm import LGBMClassifier

    cats = {c: sorted(_text(X[c]).unique()) for c in CATEGORICAL}

    def frame(Z: pd.DataFrame) -> pd.DataFrame:
        out = Z[list(FEATURES)].copy()
        for c in CATEGORICAL:
            text = _text(out[c])
            out[c] = pd.Categorical(text.where(text.isin(cats[c])), cats[c])
        return out

    model = LGBMClassifier(verbose=-1, n_jobs=n_jobs, random_state=seed).fit(frame(X), y)
    return lambda Z: np.asarray(model.predict_proba(frame(Z)))[:, 1]


def _plain(X: pd.DataFrame) -> pd.DataFrame:
    out = X[list(FEATURES)].copy()
    for c in CATEGORICAL:
        out[c] = _text(out[c])
    return out


def scores(y: np.ndarray, p: np.ndarray) -> dict[str, float]:
    """ROC-AUC, PR-AUC (average precision), Brier score and log-loss of ``p`` against ``y``."""
    from sklearn.metrics import average_precision_score, brier_score_loss, roc_auc_score

    p = np.clip(np.asarray(p, dtype=float), EPS, 1 - EPS)
    return {
        "roc_auc": float(roc_auc_score(y, p)),
        "pr_auc": float(average_precision_score(y, p)),
        "brier": float(brier_score_loss(y, p)),
        "log_loss": float(-np.mean(y * np.log(p) + (1 - y) * np.log(1 - p))),
    }


def evaluate_risk(
    features: pd.DataFrame,
    late: np.ndarray,
    ordered_at: pd.Series,
    *,
    holdout: float = 0.2,
    seed: int = 0,
    n_jobs: int = 1,
    models: tuple[str, ...] = ("carrier rule", "logistic", "lightgbm default", "shopkeeper"),
) -> RiskEvaluation:
    """Fit every model on the earlier orders and score the last ``holdout`` share of them.

    ``features``, ``late`` and ``ordered_at`` describe labelled orders oldest
    first. ``fit_seconds`` in the table is each model's fitting time.
    """
    if not 0 < holdout < 1:
        raise ValueError(f"holdout must be between 0 and 1, got {holdout}")
    y = np.asarray(late).astype(int)
    cut = int(len(y) * (1 - holdout))
    X_train, X_test = features.iloc[:cut], features.iloc[cut:]
    y_train, y_test = y[:cut], y[cut:]
    if len(np.unique(y_test)) < 2 or len(np.unique(y_train)) < 2:
        raise ValueError("the training and the held-out orders both need late and on-time ones")
    makers: dict[str, Callable[[], Callable[[pd.DataFrame], np.ndarray]]] = {
        "carrier rule": lambda: carrier_rule(X_train, y_train),
        "logistic": lambda: logistic_model(X_train, y_train),
        "lightgbm default": lambda: default_lightgbm(X_train, y_train, n_jobs, seed),
        "shopkeeper": lambda: (
            LateRiskModel(seed=seed, n_jobs=n_jobs).fit(X_train, y_train).predict_proba
        ),
    }
    rows = []
    for name in models:
        started = time.perf_counter()
        predict = makers[name]()
        seconds = time.perf_counter() - started
        rows.append({"model": name, **scores(y_test, predict(X_test)), "fit_seconds": seconds})
    return RiskEvaluation(
        table=pd.DataFrame(rows),
        train_orders=len(y_train),
        test_orders=len(y_test),
        test_from=str(pd.Timestamp(ordered_at.iloc[cut]).date()),
        train_late_rate=float(y_train.mean()),
        test_late_rate=float(y_test.mean()),
    )
