"""What is in a shop's store: row counts, date ranges and data quality warnings.

``shopkeeper info`` prints this; the dashboard's data quality page shows it.
"""

from __future__ import annotations

import os
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime

from sqlalchemy import text

from shopkeeper.store import Store

# (table, column) whose range tells the period a table covers.
_PERIOD_COLUMNS = (
    ("orders", "ordered_at"),
    ("events", "at"),
    ("shipment_events", "at"),
    ("reviews", "created_at"),
    ("promotions", "starts_at"),
    ("ad_spend", "date"),
)

# (code, what it means, SQL counting the rows concerned, table that must be non-empty)
_CHECKS = (
    (
        "customers_without_orders",
        "customers who never ordered",
        "SELECT COUNT(*) FROM customers c WHERE NOT EXISTS "
        "(SELECT 1 FROM orders o WHERE o.customer_id = c.customer_id)",
        "orders",
    ),
    (
        "products_never_sold",
        "products that appear on no order line",
        "SELECT COUNT(*) FROM products p WHERE NOT EXISTS "
        "(SELECT 1 FROM order_lines l WHERE l.product_id = p.product_id)",
        "order_lines",
    ),
    (
        "orders_without_lines",
        "orders with no order lines",
        "SELECT COUNT(*) FROM orders o WHERE NOT EXISTS "
        "(SELECT 1 FROM order_lines l WHERE l.order_id = o.order_id)",
        "order_lines",
    ),
    (
        "lines_without_price",
        "order lines without a unit price (revenue unknown)",
        "SELECT COUNT(*) FROM order_lines WHERE unit_price IS NULL",
        "order_lines",
    ),
    (
        "products_without_price",
        "products without a list price",
        "SELECT COUNT(*) FROM products WHERE price IS NULL",
        "products",
    ),
    (
        "products_without_stock_row",
        "products with no inventory row (no reorder plan possible)",
        "SELECT COUNT(*) FROM products p WHERE NOT EXISTS "
        "(SELECT 1 FROM inventory i WHERE i.product_id = p.product_id)",
        "inventory",
    ),
    (
        "orders_in_future",
        "orders dated after now",
        "SELECT COUNT(*) FROM orders WHERE ordered_at > :now",
        "orders",
    ),
    (
        "guest_orders",
        "orders without a customer (guest checkouts or aggregated sales)",
        "SELECT COUNT(*) FROM orders WHERE customer_id IS NULL",
        "orders",
    ),
)


@dataclass
class Warning:
    code: str
    message: str
    count: int
    share: float | None  # of the table's rows, when meaningful


@dataclass
class StoreInfo:
    """A summary of a store, as ``shopkeeper info`` shows it."""

    database: str
    counts: dict[str, int]
    periods: dict[str, tuple[str, str]]
    revenue: float | None
    warnings: list[Warning] = field(default_factory=list)

    def to_dict(self) -> dict[str, object]:
        return asdict(self)


def describe(store: Store) -> StoreInfo:
    """Counts, periods, revenue and data quality warnings of ``store``."""
    counts = store.counts()
    periods: dict[str, tuple[str, str]] = {}
    warnings: list[Warning] = []
    now = datetime.now(UTC).replace(tzinfo=None)
    with store.engine.connect() as conn:
        for table, column in _PERIOD_COLUMNS:
            if counts[table]:
                low, high = conn.execute(
                    text(f"SELECT MIN({column}), MAX({column}) FROM {table}")
                ).one()
                periods[f"{table}.{column}"] = (str(low), str(high))
        revenue = None
        if counts["order_lines"]:
            value = conn.execute(
                text(
                    "SELECT SUM(quantity * unit_price - COALESCE(discount, 0)) "
                    "FROM order_lines WHERE unit_price IS NOT NULL"
                )
            ).scalar()
            revenue = None if value is None else float(value)
        for code, message, sql, needs in _CHECKS:
            subject = sql.split(" FROM ", 1)[1].split()[0]
            if not counts[needs] or not counts[subject]:
                continue
            n = int(conn.execute(text(sql), {"now": now}).scalar_one())
            if n:
                warnings.append(Warning(code, message, n, round(n / counts[subject], 4)))
        if counts.get("product_images"):
            # The store keeps each photo's path, not its bytes: files moved after the load
            # are gone for every reader.
            paths = conn.execute(text("SELECT path FROM product_images")).scalars().all()
            gone = sum(not os.path.isfile(p) for p in paths)
            if gone:
                message = "product photos whose file is gone (moved or deleted since the load)"
                share = round(gone / len(paths), 4)
                warnings.append(Warning("photos_missing", message, gone, share))
    return StoreInfo(store.display_url, counts, periods, revenue, warnings)


__all__ = ["StoreInfo", "Warning", "describe"]
