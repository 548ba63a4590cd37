"""The next item from a visitor's last few views: item-to-item transitions in sessions.

Anonymous visitors have no purchase history, only the pages of this visit. The
model counts, in every browse session, how often item ``j`` followed item ``i``
within ``window`` steps (a step further back counts ``decay`` times less), and
normalises each row to the share of ``i``'s onward steps that went to ``j``.
A visitor is scored by summing the rows of their last ``window`` items, the most
recent weighted 1, the one before ``decay``, and so on: a first-order Markov
chain with a short memory, which for next-click prediction holds its own against
far heavier sequence models.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import scipy.sparse as sp

from shopkeeper.errors import ConfigError
from shopkeeper.recommend._base import Recommender
from shopkeeper.recommend._data import Interactions

#: Event kinds that are a step through the catalog (a search names no product).
_STEPS = ("view", "cart", "purchase")


def _collapse(items: np.ndarray, groups: np.ndarray) -> np.ndarray:
    """Mask keeping the first of each run of one item within a group: a reload or a
    view followed by add-to-cart of the same product is one step, not two."""
    keep = np.ones(len(items), dtype=bool)
    keep[1:] = (items[1:] != items[:-1]) | (groups[1:] != groups[:-1])
    return keep


def _last_steps(
    items: np.ndarray, groups: np.ndarray, window: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Of sequences sorted by (group, time): the last ``window`` steps of each group,
    as (group, item, age) with age 0 the latest step."""
    keep = _collapse(items, groups)
    items, groups = items[keep], groups[keep]
    age = pd.Series(groups).groupby(groups).cumcount(ascending=False).to_numpy()
    recent = age < window
    return groups[recent], items[recent], age[recent]


class SessionTransitions(Recommender):
    """Next-item scores from item-to-item transitions within browse sessions.

    ``events`` is the shop's ``events`` table (``session_id``, ``product_id``,
    ``at``, optionally ``event``); without it sessions are cut from the fitted
    interactions: each user's occasions in time order, split where more than
    ``max_gap_minutes`` pass between two. Products outside the interactions'
    item universe are dropped. Consecutive repeats of one item are one step and
    an item never transitions to itself. Users of ``score`` are scored from
    their last ``window`` items in the given interactions; anonymous visitors
    through :meth:`recommend_session`.
    """

    name = "session"

    def __init__(
        self,
        events: pd.DataFrame | None = None,
        *,
        window: int = 3,
        decay: float = 0.5,
        max_gap_minutes: float = 30,
    ) -> None:
        if window < 1:
            raise ConfigError(f"session: window must be >= 1, not {window}")
        if not 0.0 < decay <= 1.0:
            raise ConfigError(f"session: decay must lie in (0, 1], not {decay}")
        if max_gap_minutes <= 0:
            raise ConfigError(f"session: max_gap_minutes must be positive, not {max_gap_minutes}")
        # Private: params() and repr() would print the whole table otherwise.
        self._events = events
        self._from_log = events is None
        self.window = int(window)
        self.decay = float(decay)
        self.max_gap_minutes = float(max_gap_minutes)

    def __getstate__(self) -> dict[str, Any]:
        # A saved model serves from its transition matrix; the raw events (often
        # millions of rows) would only make the file large.
        state = self.__dict__.copy()
        state["_events"] = None
        return state

    # -- fitting ------------------------------------------------------------------

    def _sequences(self, data: Interactions) -> tuple[np.ndarray, np.ndarray]:
        """Item codes and session numbers of every step, sorted by session, then time."""
        if self._from_log:
            log = data.log
            keys = (log["occasion"], log["at"], log["user"])
            order = np.lexsort((np.arange(len(log)), *(k.to_numpy() for k in keys)))
            user = log["user"].to_numpy()[order]
            at = log["at"].to_numpy()[order]
            gap = np.diff(at) / np.timedelta64(1, "m")
            new = np.ones(len(order), dtype=bool)
            new[1:] = (user[1:] != user[:-1]) | (gap > self.max_gap_minutes)
            return log["item"].to_numpy()[order].astype(np.int64), np.cumsum(new)
        events = self._events
        if events is None:
            raise ConfigError(
                "session: this model was loaded from disk without its events; pass the "
                "events frame again to refit it"
            )
        missing = [c for c in ("session_id", "product_id", "at") if c not in events.columns]
        if missing:
            raise ConfigError(f"session: the events frame has no column {', '.join(missing)}")
        frame = events.dropna(subset=["session_id", "product_id", "at"])
        if "event" in frame.columns:
            frame = frame[frame["event"].isin(_STEPS)]
        # Look up each distinct product once: far fewer strings than events.
        product, distinct = pd.factorize(frame["product_id"].astype(str).to_numpy())
        codes = data.item_codes(distinct)[product]
        sessions = pd.factorize(frame["session_id"].astype(str).to_numpy())[0]
        # In UTC, naive: tz-aware values would come out of numpy as slow objects.
        at = pd.to_datetime(frame["at"], utc=True).dt.tz_convert(None).to_numpy()
        keep = codes >= 0
        codes, sessions, at = codes[keep], sessions[keep], at[keep]
        # Stable on row order, so events with equal times keep the order given.
        order = np.lexsort((np.arange(len(codes)), at, sessions))
        return codes[order], sessions[order]

    def _fit(self, data: Interactions) -> None:
        items, sessions = self._sequences(data)
        keep = _collapse(items, sessions)
        items, sessions = items[keep], sessions[keep]
        src: list[np.ndarray] = []
        dst: list[np.ndarray] = []
        wts: list[np.ndarray] = []
        for d in range(1, self.window + 1):
            ok = (sessions[d:] == sessions[:-d]) & (items[d:] != items[:-d])
            src.append(items[:-d][ok])
            dst.append(items[d:][ok])
            wts.append(np.full(int(ok.sum()), self.decay ** (d - 1), dtype=np.float64))
        n = data.n_items
        counts = sp.csr_matrix(
            (np.concatenate(wts), (np.concatenate(src), np.concatenate(dst))),
            shape=(n, n),
            dtype=np.float64,
        )
        counts.sum_duplicates()
        out = np.asarray(counts.sum(axis=1)).ravel()
        out[out == 0] = 1.0
        self._trans = sp.csr_matrix(sp.diags(1.0 / out) @ counts, dtype=np.float32)
        self._index = pd.Index(data.items)

    # -- scoring ------------------------------------------------------------------

    def _recent(self, data: Interactions, users: np.ndarray) -> sp.csr_matrix:
        """(len(users), n_items): each user's last ``window`` items, weighted decay**age."""
        uniq, inverse = np.unique(users, return_inverse=True)
        log = data.log
        rows = np.flatnonzero(np.isin(log["user"].to_numpy(), uniq))
        user = log["user"].to_numpy()[rows]
        order = np.lexsort(
            (rows, log["occasion"].to_numpy()[rows], log["at"].to_numpy()[rows], user)
        )
        groups, items, age = _last_steps(
            log["item"].to_numpy()[rows][order].astype(np.int64), user[order], self.window
        )
        h = sp.csr_matrix(
            (np.power(self.decay, age), (np.searchsorted(uniq, groups), items)),
            shape=(len(uniq), data.n_items),
            dtype=np.float32,
        )
        h.sum_duplicates()
        return sp.csr_matrix(h[inverse])

    def _score(self, data: Interactions, users: np.ndarray) -> np.ndarray:
        return np.asarray((self._recent(data, users) @ self._trans).toarray())

    def recommend_session(self, recent_items: list[str], n: int = 10) -> list[tuple[str, float]]:
        """The ``n`` likeliest next products after ``recent_items`` (most recent last).

        For visitors with no account: no user is needed. Unknown product ids are
        ignored; the products in ``recent_items`` are never returned. Returns
        (product id, score) pairs, best first, only items with a positive score.
        """
        if not hasattr(self, "_trans"):
            raise ConfigError("session: fit the model before recommending")
        codes = self._index.get_indexer(pd.Index([str(i) for i in recent_items]))
        codes = codes[codes >= 0].astype(np.int64)
        if not len(codes) or n <= 0:
            return []
        _, items, age = _last_steps(codes, np.zeros(len(codes), dtype=np.int64), self.window)
        weights = np.zeros(self._trans.shape[0], dtype=np.float64)
        np.add.at(weights, items, np.power(self.decay, age))
        scores = np.asarray(self._trans.T @ weights).ravel()
        scores[codes] = 0.0
        best = np.flatnonzero(scores > 0)
        # Best first; equal scores in item order, so the list is the same every call.
        best = best[np.lexsort((best, -scores[best]))][:n]
        return [(str(self._index[i]), float(scores[i])) for i in best]

    def explain(self, data: Interactions, user: int, item: int) -> str:
        h = self._recent(data, np.array([user], dtype=np.int64)).tocoo()
        if h.nnz:
            contrib = np.asarray(self._trans[h.col, item].toarray()).ravel() * h.data
            if contrib.max() > 0:
                return f"often viewed next after {data.items[h.col[int(np.argmax(contrib))]]}"
        return "often viewed next after what you looked at"
