"""Interactions: who bought or looked at what, when, as every recommender reads it.

An :class:`Interactions` holds a fixed universe of users and items (ids, in
order: a model's rows and columns) and a long log of events, one row per
(user, item, occasion). An *occasion* is one order (a basket) or one browse
event; the log keeps its time, so that models can weigh recent occasions more
and evaluation can split by time.

Two views of the log are what models use:

- :meth:`Interactions.counts`: ``X[u, i]`` = the weighted number of occasions of
  user ``u`` that hold item ``i`` (orders count 1 each, browse events less).
- :meth:`Interactions.recency`: the same, with each occasion weighted by
  ``0.5 ** (rank / half_life)``, where rank 0 is the user's latest occasion.
  Recent behaviour predicts the next purchase better than old behaviour, in
  groceries (the next basket resembles the last few) and in media (taste
  drifts), so item-to-item models score a user from this view.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
import scipy.sparse as sp

from shopkeeper.errors import ConfigError

#: How much one browse event counts next to a purchase (1.0).
DEFAULT_EVENT_WEIGHTS: dict[str, float] = {"view": 0.1, "cart": 0.3}


@dataclass
class Interactions:
    """A log of (user, item, occasion, time, weight) over fixed user and item universes.

    ``log`` has integer columns ``user`` and ``item`` (positions in ``users`` and
    ``items``), ``occasion`` (an integer id of the basket or event; occasions
    of one user are ranked by ``at``), ``at`` (datetime64) and ``weight``.
    """

    users: np.ndarray
    items: np.ndarray
    log: pd.DataFrame
    # Derived matrices and tables, built on first use. They travel with a pickle
    # on purpose: a served model finds its own fit's matrices (by identity) and
    # takes the fast path; with a fresh cache it takes the general one.
    _cache: dict[Any, Any] = field(default_factory=dict, repr=False, compare=False)

    # -- construction -------------------------------------------------------

    @classmethod
    def from_frame(
        cls,
        frame: pd.DataFrame,
        *,
        user: str = "customer_id",
        item: str = "product_id",
        at: str = "at",
        occasion: str | None = None,
        weight: str | None = None,
        purchase: str | None = None,
        users: Sequence[Any] | np.ndarray | None = None,
        items: Sequence[Any] | np.ndarray | None = None,
    ) -> Interactions:
        """Interactions from a long frame, one row per user, item and occasion.

        ``occasion`` names the column that groups rows into baskets (an order
        id); without it every row is its own occasion. ``purchase`` names a
        boolean column telling purchases from browse events (default: all are
        purchases); evaluation holds out purchases only. ``users`` and ``items``
        fix the universes (a model's, for scoring new events against it); rows
        outside them are dropped. Without them the universes are the ids seen,
        sorted.
        """
        for name in (user, item, at, occasion, weight, purchase):
            if name is not None and name not in frame.columns:
                raise ConfigError(f"interactions: the frame has no column {name!r}")
        data = frame.dropna(subset=[user, item])
        user_ids = _universe(data[user], users)
        item_ids = _universe(data[item], items)
        u = _codes(data[user], user_ids)
        i = _codes(data[item], item_ids)
        keep = (u >= 0) & (i >= 0)
        times = pd.to_datetime(data[at].to_numpy()[keep])
        if getattr(times, "tz", None) is not None:
            times = times.tz_convert("UTC").tz_localize(None)
        if occasion is None:
            occ = np.arange(int(keep.sum()), dtype=np.int64)
        else:
            occ = pd.factorize(data[occasion].to_numpy()[keep])[0].astype(np.int64)
        w = (
            np.ones(int(keep.sum()), dtype=np.float32)
            if weight is None
            else data[weight].to_numpy(dtype=np.float32)[keep]
        )
        bought = (
            np.ones(int(keep.sum()), dtype=bool)
            if purchase is None
            else data[purchase].to_numpy(dtype=bool)[keep]
        )
        log = pd.DataFrame(
            {
                "user": u[keep].astype(np.int32),
                "item": i[keep].astype(np.int32),
                "occasion": occ,
                "at": np.asarray(times, dtype="datetime64[ns]"),
                "weight": w,
                "purchase": bought,
            }
        )
        return cls(users=user_ids, items=item_ids, log=log)

    def select(self, mask: np.ndarray | pd.Series) -> Interactions:
        """The rows of the log where ``mask`` holds, over the same universes."""
        return Interactions(
            self.users, self.items, self.log[np.asarray(mask)].reset_index(drop=True)
        )

    def with_items(self, items: np.ndarray) -> Interactions:
        """The same log re-indexed onto another item universe (unknown items dropped)."""
        codes = _codes(pd.Series(self.items[self.log["item"].to_numpy()]), np.asarray(items))
        log = self.log.assign(item=codes.astype(np.int32))[codes >= 0].reset_index(drop=True)
        return Interactions(self.users, np.asarray(items), log)

    # -- lookups ---------------------------------------------------------------

    @property
    def n_users(self) -> int:
        return len(self.users)

    @property
    def n_items(self) -> int:
        return len(self.items)

    def user_codes(self, ids: Sequence[Any] | np.ndarray) -> np.ndarray:
        """Positions of user ``ids`` in the universe; -1 for an unknown id."""
        return self._lookup("users", ids)

    def item_codes(self, ids: Sequence[Any] | np.ndarray) -> np.ndarray:
        """Positions of item ``ids`` in the universe; -1 for an unknown id."""
        return self._lookup("items", ids)

    def __getstate__(self) -> dict[str, Any]:
        # The lookup dictionaries are rebuilt on first use; kept out of a saved
        # file, they cannot carry ids that were swapped for pseudonymous keys.
        state = dict(self.__dict__)
        state["_cache"] = {
            k: v
            for k, v in self._cache.items()
            if not (isinstance(k, tuple) and k[0] == "positions")
        }
        return state

    def forget_lookups(self) -> None:
        """Drop the id -> position dictionaries (after the ids were changed in place)."""
        self._cache.pop(("positions", "users"), None)
        self._cache.pop(("positions", "items"), None)

    def _lookup(self, which: str, ids: Sequence[Any] | np.ndarray) -> np.ndarray:
        key = ("positions", which)
        if key not in self._cache:
            # Built once: a request looks up one id, which a dict answers at once.
            universe = self.users if which == "users" else self.items
            self._cache[key] = {str(v): i for i, v in enumerate(universe)}
        positions = self._cache[key]
        return np.fromiter((positions.get(str(v), -1) for v in ids), dtype=np.int64)

    def occasion_weight_totals(self, half_life: float | None) -> np.ndarray:
        """Per user: the sum over their occasions of ``0.5 ** (rank / half_life)``.

        With ``half_life=None`` it is the number of occasions.
        """
        if half_life is None:
            return self.n_occasions().astype(np.float64)
        key = ("totals", float(half_life))
        if key not in self._cache:
            first = ~self.log.duplicated("occasion").to_numpy()
            w = np.power(0.5, self.occasion_rank()[first] / float(half_life))
            self._cache[key] = np.bincount(
                self.log["user"].to_numpy()[first], weights=w, minlength=self.n_users
            )
        return self._cache[key]

    def purchase_counts(self) -> sp.csr_matrix:
        """``X[u, i]``: number of orders of ``u`` holding ``i`` (browse events left out)."""
        key = ("purchases",)
        if key not in self._cache:
            bought = self.log["purchase"].to_numpy()
            self._cache[key] = self.select(bought)._matrix(np.ones(int(bought.sum()), np.float32))
        return self._cache[key]

    # -- purchase cycles -----------------------------------------------------

    def repurchases(self) -> pd.DataFrame:
        """Per (user, item) ever bought: ``last`` purchase time, ``count`` of
        orders holding it and ``gap``, the user's mean days between those orders
        (NaN when bought once)."""
        key = ("repurchases",)
        if key not in self._cache:
            bought = self.log[self.log["purchase"].to_numpy()]
            ui = bought.groupby(["user", "item"])["at"].agg(["max", "min", "count"])
            ui = ui.reset_index()
            span = (ui["max"] - ui["min"]).dt.total_seconds().to_numpy() / 86400.0
            count = ui["count"].to_numpy()
            gap = np.where(count > 1, span / np.maximum(count - 1, 1), np.nan)
            self._cache[key] = pd.DataFrame(
                {
                    "user": ui["user"].to_numpy(),
                    "item": ui["item"].to_numpy(),
                    "last": ui["max"].to_numpy(),
                    "count": count,
                    "gap": gap,
                }
            )
        return self._cache[key]

    def item_cycle_days(self) -> np.ndarray:
        """Per item: its typical repurchase cycle, the median over users who bought
        it more than once of their mean gap; NaN when nobody bought it twice."""
        key = ("item_cycles",)
        if key not in self._cache:
            rep = self.repurchases()
            cycle = rep.loc[rep["gap"].notna()].groupby("item")["gap"].median()
            out = np.full(self.n_items, np.nan)
            out[cycle.index.to_numpy()] = cycle.to_numpy()
            self._cache[key] = out
        return self._cache[key]

    def visits(self) -> tuple[np.ndarray, np.ndarray, float]:
        """Per user: last purchase occasion and median days between purchase
        occasions (NaT / NaN when unknown), and the median gap over everyone."""
        key = ("visits",)
        if key not in self._cache:
            bought = self.log[self.log["purchase"].to_numpy()]
            occ = bought.drop_duplicates("occasion").sort_values(["user", "at"], kind="stable")
            gaps = occ.groupby("user")["at"].diff().dt.total_seconds() / 86400.0
            per_gap = gaps.groupby(occ["user"]).median()
            last = occ.groupby("user")["at"].max()
            last_at = np.full(self.n_users, np.datetime64("NaT"), dtype="datetime64[ns]")
            last_at[last.index.to_numpy()] = last.to_numpy()
            user_gap = np.full(self.n_users, np.nan)
            user_gap[per_gap.index.to_numpy()] = per_gap.to_numpy()
            overall = float(np.nanmedian(gaps)) if gaps.notna().any() else 7.0
            self._cache[key] = (last_at, user_gap, overall)
        return self._cache[key]

    # -- matrices -----------------------------------------------------------

    def counts(self) -> sp.csr_matrix:
        """``X[u, i]``: weighted number of occasions of ``u`` holding ``i``."""
        key = ("counts",)
        if key not in self._cache:
            self._cache[key] = self._matrix(self.log["weight"].to_numpy(np.float32))
        return self._cache[key]

    def binary(self) -> sp.csr_matrix:
        """1 where a user has any interaction with an item."""
        key = ("binary",)
        if key not in self._cache:
            x = self.counts().copy()
            x.data[:] = 1.0
            self._cache[key] = x
        return self._cache[key]

    def occasion_rank(self) -> np.ndarray:
        """Per log row: 0 for the user's latest occasion, 1 for the one before, ..."""
        key = ("rank",)
        if key not in self._cache:
            log = self.log
            first = log.groupby("occasion", sort=False)["at"].transform("max")
            occ = pd.DataFrame({"user": log["user"], "at": first, "occasion": log["occasion"]})
            # Dense rank of the occasion among the user's, latest first; the
            # occasion id breaks ties in time, so equal times keep their order.
            uniq = occ.drop_duplicates("occasion").sort_values(
                ["user", "at", "occasion"], ascending=[True, False, False], kind="stable"
            )
            uniq["rank"] = uniq.groupby("user").cumcount()
            rank = occ["occasion"].map(uniq.set_index("occasion")["rank"])
            self._cache[key] = rank.to_numpy(np.int64)
        return self._cache[key]

    def recency(self, half_life: float | None) -> sp.csr_matrix:
        """Counts with each occasion weighted ``0.5 ** (rank / half_life)``.

        ``half_life`` is in occasions (orders or events) of the user; ``None``
        means no decay (the plain counts).
        """
        if half_life is None:
            return self.counts()
        if half_life <= 0:
            raise ConfigError(f"half_life must be positive, not {half_life}")
        key = ("recency", float(half_life))
        if key not in self._cache:
            decay = np.power(0.5, self.occasion_rank() / float(half_life)).astype(np.float32)
            self._cache[key] = self._matrix(self.log["weight"].to_numpy(np.float32) * decay)
        return self._cache[key]

    def n_occasions(self) -> np.ndarray:
        """Number of occasions (orders, events) per user."""
        key = ("n_occasions",)
        if key not in self._cache:
            per = self.log.drop_duplicates("occasion").groupby("user").size()
            out = np.zeros(self.n_users, dtype=np.int64)
            out[per.index.to_numpy()] = per.to_numpy()
            self._cache[key] = out
        return self._cache[key]

    def item_popularity(self) -> np.ndarray:
        """Weighted occasions per item over all users."""
        return np.asarray(self.counts().sum(axis=0)).ravel()

    def _matrix(self, values: np.ndarray) -> sp.csr_matrix:
        x = sp.csr_matrix(
            (values, (self.log["user"].to_numpy(), self.log["item"].to_numpy())),
            shape=(self.n_users, self.n_items),
            dtype=np.float32,
        )
        x.sum_duplicates()
        return x


def _universe(values: pd.Series, given: Sequence[Any] | np.ndarray | None) -> np.ndarray:
    if given is not None:
        out = np.asarray([str(v) for v in given], dtype=object)
        if len(pd.unique(out)) != len(out):
            raise ConfigError("interactions: a universe of ids holds duplicates")
        return out
    return np.asarray(sorted(pd.unique(values.astype(str))), dtype=object)


def _codes(values: pd.Series, universe: np.ndarray) -> np.ndarray:
    index = pd.Index(universe)
    return np.asarray(index.get_indexer(values.astype(str).to_numpy()), dtype=np.int64)
