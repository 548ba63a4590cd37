"""Bundles and "frequently bought together", from frequent itemsets.

**Bundles.** A candidate bundle is a frequent itemset of 2 to ``max_items``
products whose items sell together more often than chance: every rule with
one product on the right has a lift above ``min_lift``. Its figures:

- ``buyers``: distinct customers who bought all of it in one order, and
  ``buyers_per_30_days`` over the period the data spans;
- ``price`` (sum of list prices), ``cost`` (sum of unit costs), ``margin``
  and ``margin_rate`` at list prices;
- ``discount``: the largest bundle discount (a share of the price, in steps
  of 1%, at most ``max_discount``) that keeps the margin rate at or above
  ``margin_floor``; 0 when even full price is below the floor, and missing
  when a product has no price or cost;
- ``bundle_price`` after that discount and the ``bundle_margin_rate`` it keeps.

**Bought together.** For each product, the products that share its orders,
ranked by confidence (the share of its orders that also hold the other),
with lift and counts: the pairs of the frequent itemsets.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from shopkeeper.basket._itemsets import Itemsets
from shopkeeper.errors import ConfigError


def _supports(itemsets: Itemsets) -> dict[tuple[str, ...], float]:
    """Support of every itemset by its item tuple, on the itemsets' basis."""
    support = itemsets.support()
    return dict(zip(itemsets.tuples(), support.tolist(), strict=True))


def bundles(
    itemsets: Itemsets,
    catalog: pd.DataFrame,
    *,
    days: float,
    max_items: int = 3,
    min_lift: float = 1.0,
    margin_floor: float = 0.25,
    max_discount: float = 0.2,
    limit: int | None = 200,
) -> pd.DataFrame:
    """Candidate bundles with buyers, margin and a discount that keeps ``margin_floor``.

    ``catalog`` needs product_id, price and cost (title optional). Bundles
    are ranked by buyers, then by margin. See the module doc for the figures.
    """
    if not 0 <= margin_floor < 1:
        raise ConfigError(f"margin_floor must be in [0, 1), got {margin_floor}")
    if not 0 <= max_discount < 1:
        raise ConfigError(f"max_discount must be in [0, 1), got {max_discount}")
    if max_items < 2:
        raise ConfigError(f"a bundle has at least 2 items; max_items is {max_items}")
    support = _supports(itemsets)
    prices = catalog.set_index("product_id")
    rows = []
    for s in np.flatnonzero((itemsets.sizes >= 2) & (itemsets.sizes <= max_items)):
        items = itemsets.itemset(int(s))
        whole = support[items]
        lifts = []
        for i, item in enumerate(items):
            rest = items[:i] + items[i + 1 :]
            lifts.append(whole / (support[rest] * support[(item,)]))
        if min(lifts) <= min_lift:
            continue
        known = [p for p in items if p in prices.index]
        price = _total(prices, known, "price") if len(known) == len(items) else None
        cost = _total(prices, known, "cost") if len(known) == len(items) else None
        row = {
            "items": items,
            "titles": tuple(_title(prices, p) for p in items),
            "size": len(items),
            "buyers": int(itemsets.customers[s]),
            "orders": int(itemsets.baskets[s]),
            "buyers_per_30_days": float(itemsets.customers[s]) * 30.0 / days,
            "min_lift": min(lifts),
            "price": price,
            "cost": cost,
        }
        row.update(_discount(price, cost, margin_floor, max_discount))
        rows.append(row)
    columns = [
        *("items", "titles", "size", "buyers", "orders", "buyers_per_30_days", "min_lift"),
        *("price", "cost", "margin", "margin_rate", "discount", "bundle_price"),
        "bundle_margin_rate",
    ]
    if not rows:
        return pd.DataFrame(columns=columns)
    frame = pd.DataFrame(rows)[columns]
    frame = frame.sort_values(
        ["buyers", "margin"], ascending=False, kind="stable", na_position="last"
    )
    frame = frame.reset_index(drop=True)
    return frame.head(limit) if limit else frame


def _title(prices: pd.DataFrame, product: str) -> str:
    if "title" not in prices or product not in prices.index:
        return product
    title = prices.at[product, "title"]
    return product if pd.isna(title) else str(title)


def _total(prices: pd.DataFrame, items: list[str], column: str) -> float | None:
    if column not in prices:
        return None
    values = pd.to_numeric(prices.loc[items, column], errors="coerce")
    return None if values.isna().any() else float(values.sum())


def _discount(
    price: float | None, cost: float | None, floor: float, cap: float
) -> dict[str, float | None]:
    """The largest whole-percent discount ≤ ``cap`` keeping (price' − cost)/price' ≥ floor."""
    if price is None or cost is None or price <= 0:
        keys = ("margin", "margin_rate", "discount", "bundle_price", "bundle_margin_rate")
        return dict.fromkeys(keys)
    margin = price - cost
    rate = margin / price
    # (p(1 − d) − c) / (p(1 − d)) ≥ floor  ⇔  d ≤ 1 − c / (p(1 − floor))
    best = 1.0 - cost / (price * (1.0 - floor))
    discount = max(0.0, min(cap, math.floor(best * 100 + 1e-9) / 100))
    bundle_price = round(price * (1 - discount), 2)
    return {
        "margin": round(margin, 2),
        "margin_rate": rate,
        "discount": discount,
        "bundle_price": bundle_price,
        "bundle_margin_rate": (bundle_price - cost) / bundle_price if bundle_price else None,
    }


def bought_together(itemsets: Itemsets, *, per_product: int = 10) -> pd.DataFrame:
    """For every product in a frequent pair, its partners by confidence (both directions).

    Columns: product_id, partner_id, rank (1 = strongest), confidence, lift,
    orders (baskets with both), buyers (distinct customers with both in one
    basket). Measures are on the itemsets' basis.
    """
    support = itemsets.support()
    sizes = itemsets.sizes
    singles = {itemsets.itemset(int(s))[0]: float(support[s]) for s in np.flatnonzero(sizes == 1)}
    rows = []
    for s in np.flatnonzero(sizes == 2):
        a, b = itemsets.itemset(int(s))
        both = float(support[s])
        lift = both / (singles[a] * singles[b])
        for x, y in ((a, b), (b, a)):
            rows.append(
                {
                    "product_id": x,
                    "partner_id": y,
                    "confidence": both / singles[x],
                    "lift": lift,
                    "orders": int(itemsets.baskets[s]),
                    "buyers": int(itemsets.customers[s]),
                }
            )
    columns = ["product_id", "partner_id", "rank", "confidence", "lift", "orders", "buyers"]
    if not rows:
        return pd.DataFrame(columns=columns)
    frame = pd.DataFrame(rows).sort_values(
        ["product_id", "confidence", "lift"], ascending=[True, False, False], kind="stable"
    )
    frame["rank"] = frame.groupby("product_id").cumcount() + 1
    frame = frame[frame["rank"] <= per_product]
    return frame[columns].reset_index(drop=True)
