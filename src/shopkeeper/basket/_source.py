"""What market-basket analysis reads from a store: baskets and the catalog.

A basket is the distinct products of one order that was not cancelled
(guest orders included: they are baskets too, each its own customer). At
``level="category"`` a basket holds the distinct categories of its products
instead (a product without a category keeps its own id).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import pandas as pd
from sqlalchemy import func, select

from shopkeeper.basket._itemsets import MAX_BASKET_ITEMS, Baskets
from shopkeeper.errors import ConfigError
from shopkeeper.store import METADATA, Store

_ORDERS = METADATA.tables["orders"]
_LINES = METADATA.tables["order_lines"]
_PRODUCTS = METADATA.tables["products"]

Level = Literal["product", "category"]


@dataclass
class ShopBaskets:
    """The baskets of a store, its catalog, and the period they span."""

    baskets: Baskets
    catalog: pd.DataFrame  # product_id, title, category, price, cost, active
    level: Level
    first: pd.Timestamp
    last: pd.Timestamp

    @property
    def days(self) -> float:
        return max((self.last - self.first).total_seconds() / 86_400, 1.0)


def load_baskets(
    store: Store, *, level: Level = "product", max_basket_items: int = MAX_BASKET_ITEMS
) -> ShopBaskets:
    """Read every counted order's products (or categories) and the catalog."""
    if level not in ("product", "category"):
        raise ConfigError(f"level must be product or category, not {level!r}")
    query = (
        select(
            _ORDERS.c.order_id,
            _ORDERS.c.customer_id,
            _ORDERS.c.ordered_at,
            _LINES.c.product_id,
            _PRODUCTS.c.category,
        )
        .join(_LINES, _LINES.c.order_id == _ORDERS.c.order_id)
        .join(_PRODUCTS, _PRODUCTS.c.product_id == _LINES.c.product_id)
        .where(func.coalesce(_ORDERS.c.status, "") != "cancelled")
    )
    with store.engine.connect() as conn:
        rows = conn.execute(query).all()
        catalog = pd.DataFrame(
            conn.execute(
                select(
                    _PRODUCTS.c.product_id,
                    _PRODUCTS.c.title,
                    _PRODUCTS.c.category,
                    _PRODUCTS.c.price,
                    _PRODUCTS.c.cost,
                    _PRODUCTS.c.active,
                )
            ).all(),
            columns=["product_id", "title", "category", "price", "cost", "active"],
        )
    if not rows:
        raise ConfigError("the store has no orders: there are no baskets to analyse")
    lines = pd.DataFrame(rows, columns=["order_id", "customer_id", "at", "product_id", "category"])
    if level == "category":
        lines["item"] = lines["category"].where(lines["category"].notna(), lines["product_id"])
    else:
        lines["item"] = lines["product_id"]
    at = pd.to_datetime(lines["at"])
    baskets = Baskets.from_frame(
        lines,
        basket="order_id",
        item="item",
        customer="customer_id",
        max_basket_items=max_basket_items,
    )
    return ShopBaskets(baskets, catalog, level, at.min(), at.max())
