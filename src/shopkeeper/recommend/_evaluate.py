"""Offline evaluation: split by time, tune on validation, rank all items, one table.

Splits (all hold out *purchases*; browse events only ever train):

- :func:`split_by_time`: train on everything before ``test_from``; a customer's
  ground truth is the set of products they bought from ``test_from`` on.
- :func:`split_last_fraction`: each customer's last ``fraction`` of purchase
  occasions (orders) by time is the test (at least one when they have two or
  more); everything else trains.

Every model ranks every candidate item (items with at least one training
interaction, plus every catalog item for models that serve new ones); none
is scored against sampled negatives. Tuning uses a validation fold carved out
of the training part by the same rule, so the test period is touched once.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
import scipy.sparse as sp

from shopkeeper.errors import ConfigError
from shopkeeper.recommend._base import Recommender, top_n
from shopkeeper.recommend._data import Interactions
from shopkeeper.recommend._metrics import exposure_metrics, ranking_metrics

REPEATS = ("allow", "exclude", "rules")


@dataclass
class Fold:
    """Training interactions and, per user code, the items bought afterwards."""

    train: Interactions
    truth: list[set[int]]
    description: str

    @property
    def candidates(self) -> np.ndarray:
        return self.train.item_popularity() > 0

    @property
    def n_truth_users(self) -> int:
        return sum(1 for t in self.truth if t)


def _truth(data: Interactions, mask: np.ndarray) -> list[set[int]]:
    truth: list[set[int]] = [set() for _ in range(data.n_users)]
    held = data.log[mask]
    for u, i in zip(held["user"].to_numpy(), held["item"].to_numpy(), strict=True):
        truth[int(u)].add(int(i))
    return truth


def default_test_from(data: Interactions, share: float = 0.1) -> pd.Timestamp:
    """The start of the day from which about ``share`` of purchase occasions remain."""
    bought = data.log[data.log["purchase"]]
    if bought.empty:
        raise ConfigError("evaluation needs purchases; the data holds none")
    times = bought.drop_duplicates("occasion")["at"]
    return pd.Timestamp(times.quantile(1.0 - share)).normalize()


def split_by_time(data: Interactions, test_from: pd.Timestamp | str) -> Fold:
    """Train on everything before ``test_from``; test on purchases from then on."""
    cut = pd.Timestamp(test_from)
    if cut.tzinfo is not None:
        cut = cut.tz_convert("UTC").tz_localize(None)
    at = data.log["at"].to_numpy()
    before = at < np.datetime64(cut)
    after = ~before & data.log["purchase"].to_numpy()
    if not before.any():
        raise ConfigError(f"nothing happened before {cut.date()}: no training data")
    if not after.any():
        raise ConfigError(f"no purchases on or after {cut.date()}: nothing to test on")
    # Only customers known before the cut are evaluated: new customers are a
    # cold-start question, answered by the non-personal lists.
    known = np.zeros(data.n_users, dtype=bool)
    known[data.log["user"].to_numpy()[before]] = True
    after &= known[data.log["user"].to_numpy()]
    return Fold(data.select(before), _truth(data, after), f"by time: test from {cut.date()}")


def split_last_fraction(data: Interactions, fraction: float) -> Fold:
    """Hold out each customer's last ``fraction`` of purchase occasions by time."""
    if not 0.0 < fraction < 1.0:
        raise ConfigError(f"test-last fraction must lie strictly between 0 and 1, not {fraction}")
    log = data.log
    bought = log[log["purchase"]].drop_duplicates("occasion")
    bought = bought.sort_values(["user", "at", "occasion"], kind="stable")
    n = bought.groupby("user")["occasion"].transform("size").to_numpy()
    pos = bought.groupby("user").cumcount().to_numpy()
    n_test = np.where(n >= 2, np.maximum(1, np.floor(n * fraction + 1e-9)), 0).astype(np.int64)
    held = set(bought["occasion"].to_numpy()[pos >= n - n_test].tolist())
    is_held = log["occasion"].isin(held).to_numpy()
    # Browse events after a customer's first held-out order are in the future too.
    first_held = bought[pos >= n - n_test].groupby("user")["at"].min().reindex(range(data.n_users))
    limit = first_held.to_numpy()[log["user"].to_numpy()]
    future = ~pd.isna(limit) & (log["at"].to_numpy() >= limit)
    train = ~is_held & ~future
    return Fold(
        data.select(train),
        _truth(data, is_held),
        f"last {fraction:.0%} of each customer's orders",
    )


def validation_fold(fold: Fold, how: str, value: Any, span: pd.Timedelta | None = None) -> Fold:
    """A fold inside ``fold.train`` made by the same rule, for tuning.

    ``how="time"``: ``value`` is the test's start and ``span`` its length; the
    validation test is the span of the same length just before it.
    ``how="last"``: ``value`` is the fraction, applied again to the training part.
    """
    if how == "time":
        length = span if span is not None and span > pd.Timedelta(0) else pd.Timedelta(days=7)
        return split_by_time(fold.train, (pd.Timestamp(value) - length).normalize())
    return split_last_fraction(fold.train, float(value))


def exclusion(
    train: Interactions, repeats: str, durable: np.ndarray | None
) -> sp.csr_matrix | None:
    """What may not be recommended to whom: nothing, anything bought, or durables bought."""
    if repeats not in REPEATS:
        raise ConfigError(f"repeats must be one of {', '.join(REPEATS)}, not {repeats!r}")
    if repeats == "allow":
        return None
    bought = train.select(train.log["purchase"].to_numpy()).binary()
    if repeats == "exclude":
        return bought
    if durable is None or not durable.any():
        return None
    ruled = sp.csr_matrix(bought.multiply(durable[None, :].astype(np.float32)))
    ruled.eliminate_zeros()
    return ruled


@dataclass
class Candidate:
    """A model to evaluate: a label, a factory and a grid of parameters to tune over."""

    label: str
    make: Callable[..., Recommender]
    grid: list[dict[str, Any]] = field(default_factory=lambda: [{}])


@dataclass
class Row:
    label: str
    params: dict[str, Any]
    metrics: dict[str, float]
    val_ndcg: float | None
    train_s: float
    top_s: float

    def to_dict(self) -> dict[str, Any]:
        return {
            "model": self.label,
            "params": self.params,
            "validation_ndcg@10": self.val_ndcg,
            **{k: round(v, 6) for k, v in self.metrics.items()},
            "train_s": round(self.train_s, 3),
            "top_s": round(self.top_s, 3),
        }


def score_lists(
    model: Recommender,
    fold: Fold,
    n: int,
    *,
    exclude: sp.csr_matrix | None,
    allowed: np.ndarray | None,
) -> tuple[np.ndarray, np.ndarray, float]:
    """Top-n lists for the fold's users with truth; returns (users, lists, seconds)."""
    users = np.flatnonzero([len(t) > 0 for t in fold.truth])
    start = time.perf_counter()
    scores = model.score(fold.train, users)
    lists = top_n(scores, n, exclude=None if exclude is None else exclude[users], allowed=allowed)
    return users, lists, time.perf_counter() - start


def list_metrics(
    lists: np.ndarray, users: np.ndarray, fold: Fold, ks: int | Sequence[int]
) -> dict[str, float]:
    """Ranking and exposure figures at each K of lists for ``users`` (codes of the fold)."""
    ks = [ks] if isinstance(ks, int) else list(ks)
    truth = [fold.truth[int(u)] for u in users]
    out = ranking_metrics(lists, truth, ks, n_items=fold.train.n_items)
    item_users = np.asarray(fold.train.binary().sum(axis=0)).ravel()
    for k in ks:
        out.update(
            exposure_metrics(
                lists,
                k,
                candidates=fold.candidates,
                item_users=item_users,
                n_users=fold.train.n_users,
            )
        )
    return out


def tune(
    candidate: Candidate,
    val: Fold,
    *,
    k: int,
    exclude: sp.csr_matrix | None,
    allowed: Callable[[Fold], np.ndarray | None],
    log: Callable[[str], None] | None = None,
    figures: dict[str, float] | None = None,
) -> tuple[dict[str, Any], float]:
    """The grid point with the best validation NDCG@k (first in grid order on ties).

    ``figures``, when given, is filled with the best point's :func:`list_metrics`.
    """
    best: tuple[dict[str, Any], float] = (candidate.grid[0], -1.0)
    for params in candidate.grid:
        model = candidate.make(**params).fit(val.train)
        users, lists, _ = score_lists(model, val, k, exclude=exclude, allowed=allowed(val))
        v = list_metrics(lists, users, val, k)
        if v[f"ndcg@{k}"] > best[1]:
            best = (params, v[f"ndcg@{k}"])
            if figures is not None:
                figures.clear()
                figures.update(v)
    if log:
        log(f"{candidate.label}: best {best[0] or 'defaults'} (validation ndcg@{k} {best[1]:.4f})")
    return best


def evaluate(
    candidates: Sequence[Candidate],
    fold: Fold,
    *,
    val: Fold | None,
    ks: Sequence[int] = (10, 20),
    repeats: str = "rules",
    durable: np.ndarray | None = None,
    allowed: Callable[[Fold], np.ndarray | None] | None = None,
    log: Callable[[str], None] | None = None,
) -> list[Row]:
    """Tune each candidate on ``val`` (when its grid has several points), fit, rank, score."""
    allow = allowed or (lambda f: f.candidates)
    kmax = max(ks)
    rows = []
    exclude = exclusion(fold.train, repeats, durable)
    val_exclude = exclusion(val.train, repeats, durable) if val is not None else None
    for cand in candidates:
        params: dict[str, Any] = cand.grid[0]
        val_ndcg = None
        if val is not None and len(cand.grid) > 1:
            params, val_ndcg = tune(cand, val, k=10, exclude=val_exclude, allowed=allow, log=log)
        start = time.perf_counter()
        model = cand.make(**params).fit(fold.train)
        train_s = time.perf_counter() - start
        users, lists, top_s = score_lists(model, fold, kmax, exclude=exclude, allowed=allow(fold))
        metrics = list_metrics(lists, users, fold, ks)
        rows.append(Row(cand.label, dict(params), metrics, val_ndcg, train_s, top_s))
        if log:
            log(f"{cand.label}: ndcg@10 {metrics.get('ndcg@10', float('nan')):.4f}")
    return rows
