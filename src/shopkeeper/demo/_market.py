"""Prices, promotions and stock-outs per product and day: what shapes daily demand."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from shopkeeper.demo._calendar import Calendar
from shopkeeper.demo._catalog import Catalog, _psych_price
from shopkeeper.demo._util import DAY, iso_days, pick, strings, take, timestamps
from shopkeeper.demo._vocab import LOCATIONS

KINDS = ("discount", "feature", "display")
DISCOUNTS = np.array([0.05, 0.1, 0.15, 0.2, 0.25, 0.3, 0.4, 0.5])

# Festival sales: (event name, share of products on discount, days of
# warm-up before the day, discount weights over DISCOUNTS).
FESTIVAL_SALES: tuple[tuple[str, float, int, tuple[float, ...]], ...] = (
    ("618", 0.25, 17, (0, 2, 3, 3, 2, 2, 1, 0.5)),
    ("Double 11", 0.35, 11, (0, 1, 2, 3, 3, 3, 2, 1)),
    ("Black Friday", 0.15, 3, (0, 2, 3, 3, 2, 1, 0.5, 0)),
    ("Double 12", 0.12, 2, (1, 3, 3, 2, 1, 0.5, 0, 0)),
)


@dataclass
class Market:
    """Day-by-product matrices (rows are days) the order simulation reads each day.

    ``discount[d, p]``: best promotional discount share on that day;
    ``feature[d, p]``: demand multiplier of a shop-wide feature promotion;
    ``display[s, d, p]``: multiplier of an in-store display at store ``s``;
    ``available[d, p]``: on sale and in stock.
    """

    list_start: np.ndarray
    list_new: np.ndarray
    change_day: np.ndarray
    discount: np.ndarray
    feature: np.ndarray
    display: np.ndarray
    on_sale: np.ndarray
    available: np.ndarray
    stockouts: list[tuple[int, int, int]]  # (product, first day, last day)
    promotions: pd.DataFrame
    promo_lift: np.ndarray  # expected demand multiplier of each promotion row
    promo_rows: dict[str, np.ndarray]

    def list_price(self, d: int | np.ndarray) -> np.ndarray:
        return np.where(np.asarray(d) >= self.change_day, self.list_new, self.list_start)

    def price_factor(self, d: int, elasticity: np.ndarray) -> np.ndarray:
        """The planted price response: (relative price) ** elasticity."""
        rel = self.list_price(d) / self.list_start * (1.0 - self.discount[d])
        return rel**elasticity

    def truth(self, catalog: Catalog, start: Any) -> dict[str, Any]:
        r = self.promo_rows
        return {
            "lift_model": {
                "discount": "(1 - discount) ** elasticity of the product's category",
                "feature": "demand multiplier while featured (shop-wide)",
                "display": "demand multiplier in that store while displayed",
                "overlap": "discounts do not add up (the best applies); lifts multiply",
            },
            "promotions": [
                {
                    "product_id": str(catalog.product_id[p]),
                    "starts": s,
                    "ends": e,
                    "kind": KINDS[k],
                    "location_id": LOCATIONS[loc][0] if loc >= 0 else None,
                    "discount": round(float(dd), 2) if k == 0 else None,
                    "lift": round(float(lift), 3),
                }
                for p, s, e, k, loc, dd, lift in zip(
                    r["product"],
                    iso_days(start, r["start"]),
                    iso_days(start, r["end"]),
                    r["kind"],
                    r["location"],
                    r["discount"],
                    self.promo_lift,
                    strict=True,
                )
            ],
            "price_changes": [
                {
                    "product_id": str(catalog.product_id[p]),
                    "date": iso_days(start, np.array([self.change_day[p]]))[0],
                    "from": float(self.list_start[p]),
                    "to": float(self.list_new[p]),
                }
                for p in np.flatnonzero(self.change_day < self.discount.shape[0])
            ],
        }


def build_market(
    rng: np.random.Generator, cal: Calendar, catalog: Catalog, store_loc: np.ndarray
) -> Market:
    """Promotions (random, festival and in-store), list-price changes and planted stock-outs."""
    days, n = cal.days, catalog.n
    years = days / 548
    on_sale = (np.arange(days)[:, None] >= catalog.launch_day[None, :]) & (
        np.arange(days)[:, None] < catalog.end_day[None, :]
    )

    rows: dict[str, list[np.ndarray]] = {
        k: [] for k in ("product", "start", "end", "kind", "location", "discount", "lift")
    }

    def add(
        product: np.ndarray,
        start: np.ndarray,
        length: np.ndarray,
        kind: int,
        location: np.ndarray,
        discount: np.ndarray,
        lift: np.ndarray,
    ) -> None:
        rows["product"].append(product)
        rows["start"].append(start)
        rows["end"].append(start + length - 1)
        rows["kind"].append(np.full(len(product), kind))
        rows["location"].append(location)
        rows["discount"].append(discount)
        rows["lift"].append(lift)

    el = catalog.elasticity
    # Everyday promotions, at random times (so price effects are identifiable
    # apart from the festivals).
    k = rng.poisson(1.6 * years, n)
    prod = np.repeat(np.arange(n), k)
    disc = DISCOUNTS[pick(rng, [3, 3, 3, 2, 1.5, 1, 0.5, 0.2], len(prod))]
    add(
        prod,
        rng.integers(0, days - 3, len(prod)),
        rng.integers(3, 15, len(prod)),
        0,
        np.full(len(prod), -1),
        disc,
        (1 - disc) ** el[prod],
    )
    k = rng.poisson(0.6 * years, n)
    prod = np.repeat(np.arange(n), k)
    add(
        prod,
        rng.integers(0, days - 3, len(prod)),
        rng.integers(3, 11, len(prod)),
        1,
        np.full(len(prod), -1),
        np.zeros(len(prod)),
        rng.uniform(1.3, 2.0, len(prod)),
    )
    k = rng.poisson(0.35 * years, n)
    prod = np.repeat(np.arange(n), k)
    stores = store_loc[rng.integers(0, len(store_loc), len(prod))]
    add(
        prod,
        rng.integers(0, days - 7, len(prod)),
        rng.integers(7, 22, len(prod)),
        2,
        stores,
        np.zeros(len(prod)),
        rng.uniform(1.4, 2.4, len(prod)),
    )
    # Festival sales: a share of the catalog discounted through the warm-up.
    for name, share, warm, weights in FESTIVAL_SALES:
        for e in cal.events:
            if e["name"] != name:
                continue
            day = (dt.date.fromisoformat(e["date"]) - cal.start).days
            prod = np.flatnonzero(rng.random(n) < share)
            disc = DISCOUNTS[pick(rng, weights, len(prod))]
            start = np.full(len(prod), max(0, day - warm))
            add(
                prod,
                start,
                day - start + 1,
                0,
                np.full(len(prod), -1),
                disc,
                (1 - disc) ** el[prod],
            )

    r = {key: np.concatenate(v) for key, v in rows.items()}
    # A promotion only runs while the product is on sale.
    r["start"] = np.maximum(r["start"], catalog.launch_day[r["product"]])
    r["end"] = np.minimum(np.minimum(r["end"], catalog.end_day[r["product"]] - 1), days - 1)
    keep = r["end"] >= r["start"]
    r = {key: v[keep] for key, v in r.items()}
    # The contract keys promotions on (product, start, kind, location): keep the first.
    key = ((r["product"] * (days + 1) + r["start"]) * 3 + r["kind"]) * 16 + (r["location"] + 1)
    _, first = np.unique(key, return_index=True)
    order = np.sort(first)
    r = {key_: v[order] for key_, v in r.items()}
    # Sort rows the way a shop would list them: by start, then product.
    order = np.lexsort((r["kind"], r["product"], r["start"]))
    r = {key_: v[order] for key_, v in r.items()}

    discount = np.zeros((days, n), dtype=np.float32)
    feature = np.ones((days, n), dtype=np.float32)
    display = np.ones((len(store_loc), days, n), dtype=np.float32)
    length = r["end"] - r["start"] + 1
    row = np.repeat(np.arange(len(length)), length)
    day = r["start"][row] + (np.arange(len(row)) - np.repeat(np.cumsum(length) - length, length))
    prod = r["product"][row]
    kind = r["kind"][row]
    m = kind == 0
    np.maximum.at(discount, (day[m], prod[m]), r["discount"][row][m].astype(np.float32))
    m = kind == 1
    np.multiply.at(feature, (day[m], prod[m]), r["lift"][row][m].astype(np.float32))
    m = kind == 2
    store_idx = np.searchsorted(store_loc, r["location"][row][m])
    np.multiply.at(display, (store_idx, day[m], prod[m]), r["lift"][row][m].astype(np.float32))

    # List prices move now and then (supplier costs): 12% of products once.
    change_day = np.full(n, days)
    moved = (rng.random(n) < 0.12) & (catalog.end_day > 60) & (days > 90)
    change_day[moved] = rng.integers(30, days - 30, moved.sum())
    factor = rng.choice(np.array([0.9, 0.95, 1.05, 1.1, 1.15]), n)
    list_new = np.where(moved, _psych_price(catalog.price * factor), catalog.price)

    # Planted stock-outs: popular products that ran dry for a while, some of
    # them still out of stock today.
    available = on_sale.copy()
    stockouts: list[tuple[int, int, int]] = []
    cand = np.flatnonzero(
        ~catalog.protected & (catalog.launch_day == 0) & (catalog.end_day == days)
    )
    n_out = max(3, round(0.03 * n))
    # Among the best sellers, so that the lost sales are worth finding.
    best = np.argsort(-catalog.popularity[cand], kind="stable")[: max(n_out, len(cand) // 4)]
    chosen = cand[best][rng.permutation(len(best))[:n_out]]
    for i, p in enumerate(chosen):
        if i < max(1, n_out // 3):  # still out of stock at the end of the window
            length_ = int(rng.integers(3, 15))
            spans = [(days - length_, days - 1)]
        else:
            spans = []
            for _ in range(int(rng.integers(1, 3))):
                length_ = int(rng.integers(4, 22))
                s0 = int(rng.integers(0, days - length_ - 1))
                spans.append((s0, s0 + length_ - 1))
        for s0, e0 in spans:
            available[s0 : e0 + 1, p] = False
            stockouts.append((int(p), s0, e0))
    stockouts.sort()

    loc_ids = [x[0] for x in LOCATIONS]
    promotions = pd.DataFrame(
        {
            "product_id": catalog.product_id[r["product"]],
            "starts_at": timestamps(cal.start, r["start"] * DAY),
            "ends_at": timestamps(cal.start, (r["end"] + 1) * DAY - 1),
            "kind": strings(take(KINDS, r["kind"])),
            "location_id": strings(take(loc_ids, r["location"])),
            "discount": np.where(r["kind"] == 0, np.round(r["discount"], 2), np.nan),
        }
    )
    return Market(
        list_start=catalog.price,
        list_new=list_new,
        change_day=change_day,
        discount=discount,
        feature=feature,
        display=display,
        on_sale=on_sale,
        available=available,
        stockouts=stockouts,
        promotions=promotions,
        promo_lift=r["lift"],
        promo_rows=r,
    )
