"""Inventory today: stock per product and location, with replenishment terms.

Stock levels follow recent sales (days of cover vary), products in a planted
stock-out that lasts until today have nothing on hand but units on order,
and discontinued products are sold out.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from shopkeeper.demo._catalog import Catalog
from shopkeeper.demo._fulfil import Fulfilment
from shopkeeper.demo._market import Market
from shopkeeper.demo._orders import Orders
from shopkeeper.demo._vocab import LOCATIONS

RECENT_DAYS = 56
SERVICE_LEVELS = (0.98, 0.95, 0.90)  # A, B, C products by revenue


def build_inventory(
    rng: np.random.Generator, cat: Catalog, mkt: Market, o: Orders, f: Fulfilment, days: int
) -> pd.DataFrame:
    """One row per (product, location): every product in every warehouse and store."""
    n_loc = len(LOCATIONS)
    n = cat.n
    recent = o.day[o.line_order] >= days - RECENT_DAYS
    loc = f.location[o.line_order]
    units = np.zeros((n, n_loc))
    np.add.at(units, (o.line_prod[recent], loc[recent]), o.line_qty[recent])
    daily = units / RECENT_DAYS
    revenue = np.bincount(o.line_prod, o.line_qty * o.unit_price, n)
    rank = np.argsort(np.argsort(-revenue, kind="stable"), kind="stable") / n
    abc = np.where(rank < 0.2, 0, np.where(rank < 0.5, 1, 2))

    prod = np.repeat(np.arange(n), n_loc)
    loc_i = np.tile(np.arange(n_loc), n)
    is_store = np.array([x[2] == "store" for x in LOCATIONS])[loc_i]
    d = daily.ravel()
    cover = rng.uniform(5, 45, len(prod))
    on_hand = np.round(d * cover + rng.poisson(np.where(is_store, 2, 4), len(prod)))
    # Imported goods take weeks; transfers from a warehouse to a store days.
    imported = rng.random(n) < 0.2
    lead = np.where(imported, rng.integers(20, 46, n), rng.integers(3, 11, n))[prod].astype(float)
    lead = np.where(is_store, rng.integers(1, 4, len(prod)), lead).astype(float)
    reorder_point = d * lead * 1.2
    on_order = np.where(
        (on_hand < reorder_point) | (rng.random(len(prod)) < 0.15),
        np.round(d * rng.uniform(14, 40, len(prod))),
        0,
    )
    out_now = ~mkt.available[days - 1] & mkt.on_sale[days - 1]
    gone = ~mkt.on_sale[days - 1]
    on_hand = np.where(out_now[prod], 0, on_hand)
    on_order = np.where(out_now[prod], np.maximum(on_order, np.round(d * 30) + 20), on_order)
    on_hand = np.where(gone[prod], 0, on_hand)
    on_order = np.where(gone[prod], 0, on_order)
    return pd.DataFrame(
        {
            "product_id": cat.product_id[prod],
            "location_id": np.array([x[0] for x in LOCATIONS], dtype=object)[loc_i],
            "on_hand": on_hand.astype(np.int64),
            "lead_time_days": lead,
            "on_order": on_order.astype(np.int64),
            "unit_cost": cat.cost[prod],
            "order_cost": np.where(
                is_store,
                rng.integers(2, 7, len(prod)) * 10.0,
                rng.integers(8, 41, len(prod)) * 10.0,
            ),
            "holding_cost_rate": np.round(rng.uniform(0.18, 0.32, len(prod)), 2),
            "service_level": np.array(SERVICE_LEVELS)[abc[prod]],
        }
    )
