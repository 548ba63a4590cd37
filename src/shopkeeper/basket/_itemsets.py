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

from shopkeeper.basket._mine import mine_codes
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
        rows = rows.drop_duplicates([basket, item])
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
        per_basket = pd.DataFrame(
            {"b": basket_codes, "i": item_codes, "c": cust_codes}
        ).sort_values(["c", "b", "i"], kind="stable")
        sizes = np.bincount(per_basket["b"].to_numpy(), minlength=len(basket_ids))
        large = sizes > max_basket_items
        skipped = int(large.sum())
        if skipped:
            logger.warning(
                "%d baskets have more than %d items and are left out of the search",
                skipped,
                max_basket_items,
            )
            per_basket = per_basket[~large[per_basket["b"].to_numpy()]]
        b = per_basket["b"].to_numpy()
        starts = np.flatnonzero(np.r_[True, b[1:] != b[:-1]]) if len(b) else np.zeros(0, int)
        ptr = np.append(starts, len(b)).astype(np.int64)
        order_b = b[starts]
        customer_codes = per_basket["c"].to_numpy()[starts]
        _, dense_customers = np.unique(customer_codes, return_inverse=True)
        return cls(
            items=np.asarray(items, dtype=object),
            ptr=ptr,
            codes=per_basket["i"].to_numpy().astype(np.int32),
            customer=dense_customers.astype(np.int64),
            basket_ids=np.asarray(basket_ids, dtype=object)[order_b],
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
        """Baskets from lists of items (and optionally each basket's customer)."""
        # Two flat columns rather than a list of pairs, built without copying the lists.
        lists = [x if isinstance(x, list | tuple | set | frozenset) else list(x) for x in baskets]
        sizes = np.fromiter((len(x) for x in lists), dtype=np.int64, count=len(lists))
        flat = np.fromiter(itertools.chain.from_iterable(lists), dtype=object, count=sizes.sum())
        frame = pd.DataFrame({"basket": np.repeat(np.arange(len(lists)), sizes), "item": flat})
        if customers is not None:
            frame["customer"] = np.asarray(list(customers), dtype=object)[frame["basket"]]
        return cls.from_frame(
            frame,
            basket="basket",
            item="item",
            customer="customer" if customers is not None else None,
            max_basket_items=max_basket_items,
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
    # Rank items by ascending basket count (ties by code): the search extends by later ranks.
    counts = np.bincount(baskets.codes, minlength=len(baskets.items))
    order = np.argsort(counts, kind="stable")
    rank = np.empty_like(order)
    rank[order] = np.arange(len(order))
    ranked = rank[baskets.codes].astype(np.int32)
    # Within each basket the ranks must ascend.
    basket_of = np.repeat(np.arange(baskets.n_baskets), np.diff(baskets.ptr))
    sort = np.lexsort((ranked, basket_of))
    ranked = ranked[sort]
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
    codes = order[flat]  # back to item codes
    ptr = np.zeros(len(sizes) + 1, np.int64)
    ptr[1:] = np.cumsum(sizes)
    # Items within an itemset in label order (codes follow the sorted labels).
    set_of = np.repeat(np.arange(len(sizes)), sizes)
    codes = codes[np.lexsort((codes, set_of))].astype(np.int32)
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


def _hashes(itemsets: Itemsets) -> tuple[np.ndarray, np.ndarray]:
    """A random 64-bit key per item and per itemset the sum of its items' keys (mod 2^64).

    A subset's key is then a masked sum, looked up among the sorted keys; two
    different itemsets share a key with probability about n²/2^64.
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
        order = np.argsort(hashed, kind="stable")
        cached = (keys, order, hashed[order])
        itemsets._keys = cached
    keys, order, sorted_keys = cached

    def lookup(h: np.ndarray) -> np.ndarray:
        at = np.minimum(np.searchsorted(sorted_keys, h), len(sorted_keys) - 1)
        if not np.array_equal(sorted_keys[at], h):
            raise ConfigError("an itemset's subset is missing: the itemsets are not closed")
        return order[at]

    parts = []
    sizes = itemsets.sizes
    for k in np.unique(sizes[sizes >= 2]):
        members = np.flatnonzero(sizes == k)
        starts = itemsets.ptr[members]
        grid_keys = keys[itemsets.codes[starts[:, None] + np.arange(k)[None, :]]]
        whole_key = grid_keys.sum(axis=1, dtype=np.uint64)
        if consequents == "single":
            masks = np.array([((1 << k) - 1) ^ (1 << i) for i in range(k)], dtype=np.int64)
        else:
            masks = np.arange(1, (1 << k) - 1, dtype=np.int64)
        # Every (itemset, split) at once: the antecedent's key is a masked sum of item keys.
        take = ((masks[:, None] >> np.arange(k)[None, :]) & 1).astype(np.uint64)  # (m, k)
        ante_key = (grid_keys[None, :, :] * take[:, None, :]).sum(axis=2, dtype=np.uint64)
        ante = lookup(ante_key.ravel())
        whole = np.tile(members, len(masks))
        conf = support[whole] / support[ante]
        keep = conf >= min_confidence - 1e-12
        if not keep.any():
            continue
        # The consequent is the rest: only looked up for the rules that are kept.
        cons_key = np.tile(whole_key, len(masks))[keep] - ante_key.ravel()[keep]
        parts.append((whole[keep], ante[keep], lookup(cons_key), conf[keep]))
    columns = [
        "antecedent",
        "consequent",
        "antecedent_support",
        "consequent_support",
        *MEASURES,
        "baskets",
        "customers",
    ]
    if not parts:
        return pd.DataFrame(columns=columns)
    whole = np.concatenate([p[0] for p in parts])
    ante = np.concatenate([p[1] for p in parts])
    cons = np.concatenate([p[2] for p in parts])
    conf = np.concatenate([p[3] for p in parts])
    s_x, s_a, s_c = support[whole], support[ante], support[cons]
    lift = conf / s_c
    sure = conf >= 1 - 1e-12
    conviction = np.full(len(conf), np.inf)
    conviction[~sure] = (1 - s_c[~sure]) / (1 - conf[~sure])
    named = itemsets.tuples()
    frame = pd.DataFrame(
        {
            "antecedent": named[ante],
            "consequent": named[cons],
            "antecedent_support": s_a,
            "consequent_support": s_c,
            "support": s_x,
            "confidence": conf,
            "lift": lift,
            "leverage": s_x - s_a * s_c,
            "conviction": conviction,
            "baskets": itemsets.baskets[whole],
            "customers": itemsets.customers[whole],
        }
    )
    if min_lift is not None:
        frame = frame[frame["lift"] >= min_lift]
    frame = frame.sort_values(sort_by, ascending=False, kind="stable").reset_index(drop=True)
    return frame.head(limit) if limit else frame
