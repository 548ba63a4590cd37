"""Baskets, frequent itemsets and association rules.

- :class:`Baskets` holds the distinct items of each basket (an order, or any
  grouping), with the customer of each basket when known.
- :func:`frequent_itemsets` finds every itemset whose support reaches the
  minimum (see :mod:`shopkeeper.basket._mine` for the search).
- :func:`association_rules` turns them into rules ``A → C`` with support,
  confidence, lift, leverage and conviction, filtered and sorted.

Definitions (the usual ones, as in arules and mlxtend): support(X) is the
share of baskets (or customers) containing X; confidence(A → C) =
support(A ∪ C) / support(A); lift = confidence / support(C); leverage =
support(A ∪ C) − support(A)·support(C); conviction = (1 − support(C)) /
(1 − confidence), infinite when the confidence is 1.

Very large baskets: a basket of n distinct items holds 2^n itemsets, and a
few wholesale orders can make a low-support search explode. Baskets with
more than ``max_basket_items`` items (200 by default) are left out of the
search, counted in :attr:`Baskets.skipped`, and logged as a warning.
"""

from __future__ import annotations

import itertools
import logging
import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
import pandas as pd

from shopkeeper.basket._kernels import (
    codes_in_label_order,
    key_table,
    mine_codes,
    rank_baskets,
    rule_splits,
)
from shopkeeper.errors import ConfigError

logger = logging.getLogger(__name__)

MAX_BASKET_ITEMS = 200
# A threshold that a single basket or customer meets makes every subset of every
# basket frequent; the search stops here rather than exhaust the machine's memory.
MAX_ITEMSETS = 5_000_000
Basis = Literal["baskets", "customers"]
MEASURES = ("support", "confidence", "lift", "leverage", "conviction")


@dataclass
class Baskets:
    """The distinct items of each basket, as codes into ``items``.

    ``ptr``/``codes`` are a CSR layout: basket b holds
    ``codes[ptr[b]:ptr[b + 1]]``. Baskets are ordered by customer so that
    distinct customers can be counted in one pass; ``customer`` holds each
    basket's customer code (each basket its own customer when unknown).
    """

    items: np.ndarray  # item labels, by code
    ptr: np.ndarray
    codes: np.ndarray
    customer: np.ndarray
    basket_ids: np.ndarray
    n_customers: int
    skipped: int = 0  # baskets left out for having more than max_basket_items items

    @property
    def n_baskets(self) -> int:
        return len(self.ptr) - 1

    @classmethod
    def from_frame(
        cls,
        frame: pd.DataFrame,
        *,
        basket: str = "order_id",
        item: str = "product_id",
        customer: str | None = None,
        max_basket_items: int = MAX_BASKET_ITEMS,
    ) -> Baskets:
        """Baskets from one row per (basket, item); duplicates collapse, missing items drop."""
        missing = [c for c in (basket, item, customer) if c is not None and c not in frame]
        if missing:
            raise ConfigError(f"baskets need the columns {missing}")
        if max_basket_items < 1:
            raise ConfigError(f"max_basket_items must be at least 1, got {max_basket_items}")
        cols = [basket, item] + ([customer] if customer else [])
        rows = frame[cols].dropna(subset=[basket, item])
        if rows.empty:
            raise ConfigError("no baskets: every row lacks a basket or an item")
        basket_codes, basket_ids = pd.factorize(rows[basket], sort=True)
        item_codes, items = pd.factorize(rows[item].astype("str"), sort=True)
        if customer:
            who = rows[customer].astype("object")
            # A basket without a customer is its own customer: it counts once.
            who = who.where(who.notna(), "\x00basket:" + rows[basket].astype("str"))
            cust_codes, _ = pd.factorize(who.astype("str"), sort=True)
        else:
            cust_codes = basket_codes
        return cls._from_codes(
            basket_codes, item_codes, cust_codes, items, basket_ids, max_basket_items
        )

    @classmethod
    def _from_codes(
        cls,
        basket_codes: np.ndarray,
        item_codes: np.ndarray,
        cust_codes: np.ndarray,
        items: Any,
        basket_ids: Any,
        max_basket_items: int,
    ) -> Baskets:
        """The CSR layout from one code triple per row; repeated (basket, item) rows collapse."""
        sort = np.lexsort((item_codes, basket_codes, cust_codes))
        b, i, c = basket_codes[sort], item_codes[sort], cust_codes[sort]
        distinct = np.r_[True, (b[1:] != b[:-1]) | (i[1:] != i[:-1])]
        b, i, c = b[distinct], i[distinct], c[distinct]
        sizes = np.bincount(b, minlength=len(basket_ids))
        large = sizes > max_basket_items
        skipped = int(large.sum())
        if skipped:
            logger.warning(
                "%d baskets have more than %d items and are left out of the search",
                skipped,
                max_basket_items,
            )
            small = ~large[b]
            b, i, c = b[small], i[small], c[small]
        starts = np.flatnonzero(np.r_[True, b[1:] != b[:-1]]) if len(b) else np.zeros(0, int)
        ptr = np.append(starts, len(b)).astype(np.int64)
        _, dense_customers = np.unique(c[starts], return_inverse=True)
        return cls(
            items=np.asarray(items, dtype=object),
            ptr=ptr,
            codes=i.astype(np.int32),
            customer=dense_customers.astype(np.int64),
            basket_ids=np.asarray(basket_ids, dtype=object)[b[starts]],
            n_customers=int(dense_customers.max() + 1) if len(dense_customers) else 0,
            skipped=skipped,
        )

    @classmethod
    def from_lists(
        cls,
        baskets: Iterable[Iterable[Any]],
        customers: Sequence[Any] | None = None,
        *,
        max_basket_items: int = MAX_BASKET_ITEMS,
    ) -> Baskets:
        """Baskets from lists of items (and optionally each basket's customer).

        Items are compared as text (as :meth:`from_frame` does); ``None`` items
        are dropped. Factorised with a dict rather than through a DataFrame,
        which costs several times the memory of the lists themselves.
        """
        if max_basket_items < 1:
            raise ConfigError(f"max_basket_items must be at least 1, got {max_basket_items}")
        index: dict[str, int] = {}
        basket_of: list[int] = []
        item_of: list[int] = []
        n_lists = 0
        for t, basket in enumerate(baskets):
            n_lists = t + 1
            for x in basket:
                if x is None or x != x:  # None or NaN: no item
                    continue
                item_of.append(index.setdefault(str(x), len(index)))
                basket_of.append(t)
        if not index:
            raise ConfigError("no baskets: every basket is empty")
        names = np.array(list(index), dtype=object)
        by_label = np.argsort(names, kind="stable")
        recode = np.empty(len(names), np.int64)
        recode[by_label] = np.arange(len(names))
        item_codes = recode[np.array(item_of, dtype=np.int64)]
        basket_codes = np.array(basket_of, dtype=np.int64)
        if customers is None:
            cust_codes = basket_codes
        else:
            who = list(customers)
            if len(who) != n_lists:
                raise ConfigError(f"{len(who)} customers for {n_lists} baskets")
            people: dict[Any, int] = {}
            # A basket without a customer is its own customer: it counts once.
            per_basket = np.array(
                [
                    people.setdefault(str(u), len(people))
                    if u is not None and u == u  # not None, not NaN
                    else people.setdefault(("basket", t), len(people))
                    for t, u in enumerate(who)
                ],
                dtype=np.int64,
            )
            cust_codes = per_basket[basket_codes]
        return cls._from_codes(
            basket_codes,
            item_codes,
            cust_codes,
            names[by_label],
            np.arange(n_lists),
            max_basket_items,
        )


@dataclass
class Itemsets:
    """Frequent itemsets: items (codes into ``labels``), sizes and both counts."""

    labels: np.ndarray
    ptr: np.ndarray  # itemset s holds codes[ptr[s]:ptr[s + 1]] (ascending label order)
    codes: np.ndarray
    baskets: np.ndarray  # number of baskets containing each itemset
    customers: np.ndarray  # number of distinct customers with such a basket
    n_baskets: int
    n_customers: int
    basis: Basis
    min_support: float
    settings: dict[str, Any] = field(default_factory=dict)
    # Derived once and kept: each itemset's label tuple, and the subset keys of rules.
    _tuples: np.ndarray | None = field(default=None, repr=False, compare=False)
    _partial_tuples: np.ndarray | None = field(default=None, repr=False, compare=False)
    _keys: tuple[np.ndarray, np.ndarray, np.ndarray] | None = field(
        default=None, repr=False, compare=False
    )

    def __len__(self) -> int:
        return len(self.baskets)

    @property
    def sizes(self) -> np.ndarray:
        return np.diff(self.ptr)

    def support(self, basis: Basis | None = None) -> np.ndarray:
        """Each itemset's support on ``basis`` (default: the one mined on)."""
        if (basis or self.basis) == "customers":
            return self.customers / max(self.n_customers, 1)
        return self.baskets / max(self.n_baskets, 1)

    def tuples(self) -> np.ndarray:
        """Every itemset as a tuple of labels (an object array, built once and kept)."""
        cached = self._tuples
        if cached is None:
            # Labels are text already; list slicing is far cheaper than numpy strings.
            names = [str(x) for x in self.labels[self.codes].tolist()]
            bounds = self.ptr.tolist()
            cached = np.empty(len(self), dtype=object)
            cached[:] = [tuple(names[a:b]) for a, b in itertools.pairwise(bounds)]
            self._tuples = cached
        return cached

    def itemset(self, s: int) -> tuple[str, ...]:
        return tuple(str(x) for x in self.labels[self.codes[self.ptr[s] : self.ptr[s + 1]]])

    def frame(self) -> pd.DataFrame:
        """One row per itemset: itemset (tuple), size, baskets, customers and both supports."""
        return pd.DataFrame(
            {
                "itemset": list(self.tuples()),
                "size": self.sizes,
                "baskets": self.baskets,
                "customers": self.customers,
                "support": self.baskets / max(self.n_baskets, 1),
                "customer_support": self.customers / max(self.n_customers, 1),
            }
        )


def _min_count(min_support: float, total: int) -> int:
    if not 0 < min_support <= 1:
        raise ConfigError(f"min_support must be in (0, 1], got {min_support}")
    # A hair below the product guards against 0.001 × 9835 = 9.835000000000001.
    return max(1, math.ceil(min_support * total - 1e-9))


def frequent_itemsets(
    baskets: Baskets,
    min_support: float,
    *,
    max_size: int | None = None,
    basis: Basis = "baskets",
    max_itemsets: int = MAX_ITEMSETS,
) -> Itemsets:
    """Every itemset with support ≥ ``min_support`` (a share) on ``basis``.

    ``max_size`` bounds the number of items in an itemset (None: no bound).
    Itemsets come with both counts whichever basis sets the threshold. More
    than ``max_itemsets`` itemsets is refused with the threshold it took.
    """
    if basis not in ("baskets", "customers"):
        raise ConfigError(f"basis must be baskets or customers, not {basis!r}")
    if max_size is not None and max_size < 1:
        raise ConfigError(f"max_size must be at least 1, got {max_size}")
    total = baskets.n_customers if basis == "customers" else baskets.n_baskets
    if total == 0:
        raise ConfigError("no baskets to mine")
    need = _min_count(min_support, total)
    # Items ranked by ascending basket count (ties by code), each basket's ranks
    # ascending: the search extends an itemset by later ranks only.
    order, ranked = rank_baskets(baskets.ptr, baskets.codes, len(baskets.items))
    flat, sizes, n_b, n_c, stopped = mine_codes(
        baskets.ptr,
        ranked,
        baskets.customer,
        len(order),
        need,
        basis == "customers",
        max_size or 64,
        max_itemsets,
    )
    if stopped:
        raise ConfigError(
            f"more than {max_itemsets:,} itemsets at min_support {min_support:g} (at least "
            f"{need} {basis}): raise min_support or set max_size"
        )
    codes = codes_in_label_order(flat, sizes, order)  # codes follow the sorted labels
    ptr = np.zeros(len(sizes) + 1, np.int64)
    ptr[1:] = np.cumsum(sizes)
    return Itemsets(
        labels=baskets.items,
        ptr=ptr,
        codes=codes,
        baskets=n_b.astype(np.int64),
        customers=n_c.astype(np.int64),
        n_baskets=baskets.n_baskets,
        n_customers=baskets.n_customers,
        basis=basis,
        min_support=min_support,
        settings={"max_size": max_size, "min_count": need, "skipped_baskets": baskets.skipped},
    )


def _labels(itemsets: Itemsets, which: np.ndarray) -> np.ndarray:
    """The label tuples of itemsets ``which``, built on first need and kept.

    A small rule set from many itemsets builds only the tuples it shows.
    """
    if itemsets._tuples is not None or len(which) * 4 >= len(itemsets):
        return itemsets.tuples()[which]
    cached = itemsets._partial_tuples
    if cached is None:
        cached = itemsets._partial_tuples = np.full(len(itemsets), None, dtype=object)
    for s in {s for s in which.tolist() if cached[s] is None}:
        cached[s] = itemsets.itemset(s)
    return cached[which]


def _hashes(itemsets: Itemsets) -> tuple[np.ndarray, np.ndarray]:
    """A random odd 64-bit key per item and per itemset the sum of its items' keys (mod 2^64).

    Two different itemsets share a key with probability about n²/2^64.
    """
    rng = np.random.default_rng(0x5EED)
    keys = rng.integers(0, 2**63, len(itemsets.labels), dtype=np.uint64) * np.uint64(2) + 1
    # Every itemset has at least one item, so each start opens a non-empty run.
    total = np.add.reduceat(keys[itemsets.codes], itemsets.ptr[:-1])
    return keys, total.astype(np.uint64)


def association_rules(
    itemsets: Itemsets,
    *,
    min_confidence: float = 0.5,
    min_lift: float | None = None,
    consequents: Literal["single", "any"] = "single",
    sort_by: str = "lift",
    limit: int | None = None,
) -> pd.DataFrame:
    """Rules ``antecedent → consequent`` from frequent itemsets, on the itemsets' basis.

    ``consequents="single"`` makes rules with one item on the right (as arules
    does by default); ``"any"`` every split of every itemset (as mlxtend).
    Rules are filtered by ``min_confidence`` and ``min_lift`` and sorted by
    ``sort_by`` (any measure, highest first; ties keep the itemset order).
    """
    if not 0 <= min_confidence <= 1:
        raise ConfigError(f"min_confidence must be in [0, 1], got {min_confidence}")
    if sort_by not in MEASURES:
        raise ConfigError(f"sort_by must be one of {', '.join(MEASURES)}, not {sort_by!r}")
    if consequents not in ("single", "any"):
        raise ConfigError(f"consequents must be single or any, not {consequents!r}")
    support = itemsets.support()
    cached = itemsets._keys
    if cached is None:  # the keys depend on the itemsets only: kept for the next call
        keys, hashed = _hashes(itemsets)
        cached = (keys, hashed, key_table(hashed))
        itemsets._keys = cached
    keys, hashed, table = cached
    whole, ante, cons, conf, closed = rule_splits(
        itemsets.ptr,
        itemsets.codes,
        keys,
        hashed,
        table,
        support,
        float(min_confidence),
        consequents == "any",
    )
    if not closed:
        raise ConfigError("an itemset's subset is missing: the itemsets are not closed")
    s_x, s_a, s_c = support[whole], support[ante], support[cons]
    lift = conf / s_c
    measures = {"support": s_x, "confidence": conf, "lift": lift}
    measures["leverage"] = s_x - s_a * s_c
    sure = conf >= 1 - 1e-12
    conviction = np.full(len(conf), np.inf)
    conviction[~sure] = (1 - s_c[~sure]) / (1 - conf[~sure])
    measures["conviction"] = conviction
    # Filter and sort the columns before the frame exists: a frame's fixed costs
    # dominate small rule sets.
    pick = np.flatnonzero(lift >= min_lift) if min_lift is not None else np.arange(len(conf))
    pick = pick[np.argsort(-measures[sort_by][pick], kind="stable")]
    if limit:
        pick = pick[:limit]
    ante, cons = ante[pick], cons[pick]
    return pd.DataFrame(
        {
            "antecedent": _labels(itemsets, ante),
            "consequent": _labels(itemsets, cons),
            "antecedent_support": s_a[pick],
            "consequent_support": s_c[pick],
            **{name: measures[name][pick] for name in MEASURES},
            "baskets": itemsets.baskets[whole[pick]],
            "customers": itemsets.customers[whole[pick]],
        }
    )
