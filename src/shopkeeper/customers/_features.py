"""Per-customer features at a reference date, and who bought in the days after it.

Everything is computed from the history *as known at the end of the
reference date*, so a model trained on features at one date and labels of
the following days never sees the future. The features are plain columns a
marketer can read: recency, frequency and spend over several windows, the
usual gap between orders, browse activity, the category mix of spend, age
and gender where the shop records them, the season of the date, and the
BG/NBD view of the customer (probability of still being active, expected
purchases over the horizon).
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd

from shopkeeper.customers._clv import BetaGeo, rfm_summary
from shopkeeper.customers._history import CustomerHistory
from shopkeeper.errors import ConfigError

DAY = pd.Timedelta(days=1)
TOP_CATEGORIES = 8
# Days of the big shopping festivals (618, Double 11) and Black Friday; a horizon
# that contains one sees more orders.
_FESTIVALS = ((6, 18), (11, 11))


def _black_friday(year: int) -> dt.date:
    nov1 = dt.date(year, 11, 1)
    first_friday = 1 + (4 - nov1.weekday()) % 7
    return dt.date(year, 11, first_friday + 21)


def festival_days(start: pd.Timestamp, days: int) -> int:
    """How many festival days fall in the ``days`` days after ``start``."""
    first = (start + DAY).date()
    last = (start + days * DAY).date()
    hits = 0
    for year in range(first.year, last.year + 1):
        dates = [dt.date(year, m, d) for m, d in _FESTIVALS] + [_black_friday(year)]
        hits += sum(first <= d <= last for d in dates)
    return hits


def population(history: CustomerHistory, as_of: pd.Timestamp) -> pd.Index:
    """Customers known by the end of ``as_of``: an account, an order or activity by then."""
    limit = as_of.normalize() + DAY
    people = history.customers
    created = people["created_at"]
    known = set(people.loc[created.notna() & (created < limit), "customer_id"])
    known |= set(history.orders.loc[history.orders["at"] < limit, "customer_id"])
    known |= set(history.activity.loc[history.activity["day"] < limit, "customer_id"])
    return pd.Index(sorted(known), name="customer_id")


def customer_features(
    history: CustomerHistory,
    as_of: pd.Timestamp | str,
    *,
    horizon_days: int = 30,
    categories: list[str] | None = None,
) -> pd.DataFrame:
    """One row per customer known at ``as_of`` (index customer_id), features only.

    ``categories``: the top-level categories whose spend shares become
    columns (default: the eight with the most spend up to ``as_of``); pass
    the training list when scoring so the columns match.
    """
    if horizon_days < 1:
        raise ConfigError(f"the horizon must be at least 1 day, got {horizon_days}")
    day = pd.Timestamp(as_of).normalize()
    known = history.until(day)
    if known.orders.empty:
        raise ConfigError(f"no orders on or before {day.date()}: nothing to learn from")
    who = population(history, day)
    end = day + DAY  # the first moment after the reference date
    orders = known.orders
    by = orders.groupby("customer_id")
    out = pd.DataFrame(index=who)
    out["orders"] = by.size().reindex(who, fill_value=0)
    out["spend"] = by["value"].sum().reindex(who, fill_value=0.0)
    out["avg_order_value"] = (out["spend"] / out["orders"].where(out["orders"] > 0)).fillna(0.0)
    last = by["at"].max().reindex(who)
    first = by["at"].min().reindex(who)
    out["recency_days"] = ((end - last) / DAY).fillna(-1.0)  # -1: never ordered
    out["has_ordered"] = (out["orders"] > 0).astype("int64")
    for window in (30, 90, 365):
        recent = orders[orders["at"] >= end - window * DAY].groupby("customer_id")
        out[f"orders_{window}d"] = recent.size().reindex(who, fill_value=0)
        if window != 30:
            out[f"spend_{window}d"] = recent["value"].sum().reindex(who, fill_value=0.0)
    span = (last - first) / DAY
    gaps = span / (out["orders"] - 1).where(out["orders"] > 1)
    out["mean_gap_days"] = gaps.fillna(-1.0)
    out["overdue_days"] = (out["recency_days"] - gaps).fillna(0.0)
    created = history.customers.set_index("customer_id")["created_at"].reindex(who)
    seen = pd.concat([created, first], axis=1).min(axis=1)
    out["tenure_days"] = ((end - seen) / DAY).fillna(0.0).clip(lower=0.0)
    _activity(out, known, end)
    _category_mix(out, known, categories)
    _people(out, history, day)
    out["month"] = day.month
    out["festival_days"] = festival_days(day, horizon_days)
    _repeat_model(out, known, day, horizon_days)
    return out


def _activity(out: pd.DataFrame, known: CustomerHistory, end: pd.Timestamp) -> None:
    act = known.activity
    who = out.index
    for window in (7, 30):
        recent = act[act["day"] >= end - window * DAY]
        counts = recent.pivot_table(
            index="customer_id", columns="event", values="count", aggfunc="sum", fill_value=0
        )
        for event, name in (("view", "views"), ("cart", "carts"), ("search", "searches")):
            column = counts[event] if event in counts else pd.Series(dtype="float64")
            out[f"{name}_{window}d"] = column.reindex(who, fill_value=0).astype("int64")
    recent = act[act["day"] >= end - 30 * DAY]
    out["active_days_30d"] = (
        recent.groupby("customer_id")["day"].nunique().reindex(who, fill_value=0).astype("int64")
    )
    last_seen = act.groupby("customer_id")["day"].max().reindex(who)
    out["days_since_visit"] = ((end - last_seen) / DAY).fillna(-1.0)


def top_categories(history: CustomerHistory, k: int = TOP_CATEGORIES) -> list[str]:
    """The ``k`` top-level categories with the most spend."""
    cats = history.categories
    if cats.empty:
        return []
    totals = cats.groupby("category")["value"].sum().sort_values(ascending=False, kind="stable")
    return [str(c) for c in totals.index[:k]]


def _category_mix(out: pd.DataFrame, known: CustomerHistory, cats: list[str] | None) -> None:
    chosen = top_categories(known) if cats is None else cats
    if not chosen:
        return
    mix = known.categories.pivot_table(
        index="customer_id", columns="category", values="value", aggfunc="sum", fill_value=0.0
    )
    total = mix.sum(axis=1).replace(0.0, np.nan)
    for cat in chosen:
        share = mix[cat] / total if cat in mix else pd.Series(dtype="float64")
        out[f"share_{_slug(cat)}"] = share.reindex(out.index).fillna(0.0)


def _slug(text: str) -> str:
    slug = "".join(ch.lower() if ch.isalnum() else "_" for ch in text).strip("_")
    return "_".join(part for part in slug.split("_") if part) or "other"


def _people(out: pd.DataFrame, history: CustomerHistory, day: pd.Timestamp) -> None:
    people = history.customers.set_index("customer_id").reindex(out.index)
    birth = pd.to_numeric(people["birth_year"], errors="coerce")
    out["age"] = (day.year - birth).astype("float64")  # NaN where unknown
    gender = people["gender"].astype("object").where(people["gender"].notna(), "unknown")
    out["gender"] = pd.Categorical(gender.astype("str").str.lower())


def _repeat_model(
    out: pd.DataFrame, known: CustomerHistory, day: pd.Timestamp, horizon_days: int
) -> None:
    """BG/NBD fitted on the history so far: P(active) and expected purchases per customer."""
    out["p_alive"] = 0.0
    out["expected_orders"] = 0.0
    summary = rfm_summary(known.orders, day, period_days=1.0)
    if not (summary["frequency"] > 0).any():
        return
    model = BetaGeo().fit_summary(summary)
    x, tx, big_t = summary["frequency"], summary["recency"], summary["T"]
    alive = pd.Series(model.p_alive(x, tx, big_t), index=summary.index)
    expected = pd.Series(model.expected_purchases(horizon_days, x, tx, big_t), index=summary.index)
    out["p_alive"] = alive.reindex(out.index).fillna(0.0)
    out["expected_orders"] = expected.reindex(out.index).fillna(0.0)


def bought_within(history: CustomerHistory, as_of: pd.Timestamp, horizon_days: int) -> pd.Series:
    """Whether each customer ordered in the ``horizon_days`` days after ``as_of``."""
    start = pd.Timestamp(as_of).normalize() + DAY
    stop = start + horizon_days * DAY
    window = history.orders[(history.orders["at"] >= start) & (history.orders["at"] < stop)]
    return pd.Series(True, index=pd.Index(window["customer_id"].unique(), name="customer_id"))


def labelled(
    history: CustomerHistory,
    as_of: pd.Timestamp,
    horizon_days: int,
    categories: list[str] | None = None,
) -> tuple[pd.DataFrame, np.ndarray]:
    """Features at ``as_of`` and whether each customer bought in the horizon after it."""
    features = customer_features(history, as_of, horizon_days=horizon_days, categories=categories)
    bought = bought_within(history, as_of, horizon_days)
    y = features.index.isin(bought.index)
    return features, y
