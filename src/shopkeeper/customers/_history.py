"""What customer analytics reads from a store: orders with their value, customers, activity.

- An order counts when it was not cancelled. Its value is the sum of its
  lines' quantity × unit price (the product's list price where the line has
  none) less the line discounts. Returned and refunded orders stay in the
  history as activity (the customer came back) with a value of 0, since the
  money went back.
- Orders without a customer (guests, aggregated point-of-sale sales) are
  left out: they belong to nobody's history.
- Browse activity is read per customer, day and event type, counted in the
  database, so millions of events arrive as a small frame.
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd
from sqlalchemy import func, select

from shopkeeper.errors import ConfigError
from shopkeeper.store import METADATA, Store

_ORDERS = METADATA.tables["orders"]
_LINES = METADATA.tables["order_lines"]
_EVENTS = METADATA.tables["events"]
_PRODUCTS = METADATA.tables["products"]
_CUSTOMERS = METADATA.tables["customers"]

NO_VALUE_STATUSES = ("returned", "refunded")
CUSTOMER_COLUMNS = (
    "customer_id",
    "created_at",
    "country",
    "city",
    "birth_year",
    "gender",
    "consent_personalization",
    "consent_marketing",
)


@dataclass
class CustomerHistory:
    """Everything customer analytics reads, loaded once.

    ``orders``: order_id, customer_id, at, value (one row per counted order).
    ``categories``: customer_id, order_id, category (top level), value.
    ``customers``: the customers table without its personal columns.
    ``activity``: customer_id, day, event, count (view, cart, search).
    """

    orders: pd.DataFrame
    categories: pd.DataFrame
    customers: pd.DataFrame
    activity: pd.DataFrame

    @property
    def start(self) -> pd.Timestamp:
        return pd.Timestamp(self.orders["at"].min()).normalize()

    @property
    def end(self) -> pd.Timestamp:
        """The last day with an order: the natural reference date."""
        return pd.Timestamp(self.orders["at"].max()).normalize()

    def until(self, day: pd.Timestamp) -> CustomerHistory:
        """The history as it was known at the end of ``day``."""
        limit = pd.Timestamp(day).normalize() + pd.Timedelta(days=1)
        return CustomerHistory(
            self.orders[self.orders["at"] < limit],
            self.categories[self.categories["at"] < limit],
            self.customers,
            self.activity[self.activity["day"] < limit],
        )


def load_history(store: Store) -> CustomerHistory:
    """Read orders, category spend, customers and activity from ``store``."""
    price = func.coalesce(_LINES.c.unit_price, _PRODUCTS.c.price, 0.0)
    line_value = _LINES.c.quantity * price - func.coalesce(_LINES.c.discount, 0.0)
    counted = (
        select(
            _ORDERS.c.order_id,
            _ORDERS.c.customer_id,
            _ORDERS.c.ordered_at,
            _ORDERS.c.status,
            _PRODUCTS.c.category,
            line_value.label("value"),
        )
        .join(_LINES, _LINES.c.order_id == _ORDERS.c.order_id)
        .join(_PRODUCTS, _PRODUCTS.c.product_id == _LINES.c.product_id)
        .where(_ORDERS.c.customer_id.is_not(None))
        .where(func.coalesce(_ORDERS.c.status, "") != "cancelled")
    )
    lines = store.select_frame(
        counted, ["order_id", "customer_id", "at", "status", "category", "value"]
    )
    if lines.empty:
        raise ConfigError(
            "the store has no orders with a customer: customer analytics needs order history"
        )
    lines["at"] = pd.to_datetime(lines["at"])
    lines["value"] = pd.to_numeric(lines["value"]).astype("float64")
    lines.loc[lines["status"].isin(NO_VALUE_STATUSES), "value"] = 0.0
    lines["category"] = (
        lines["category"].fillna("(none)").astype("str").str.split(">").str[0].str.strip()
    )
    orders = (
        lines.groupby("order_id", sort=False)
        .agg(customer_id=("customer_id", "first"), at=("at", "first"), value=("value", "sum"))
        .reset_index()
        .sort_values(["at", "order_id"], kind="stable")
        .reset_index(drop=True)
    )
    categories = lines.groupby(["customer_id", "order_id", "category"], as_index=False).agg(
        at=("at", "first"), value=("value", "sum")
    )
    customers = store.select_frame(
        select(*[_CUSTOMERS.c[c] for c in CUSTOMER_COLUMNS]),
        list(CUSTOMER_COLUMNS),
    )
    customers["created_at"] = pd.to_datetime(customers["created_at"])
    day = func.date(_EVENTS.c.at)  # date() in SQLite and PostgreSQL alike
    activity = store.select_frame(
        select(_EVENTS.c.customer_id, day, _EVENTS.c.event, func.count())
        .where(_EVENTS.c.customer_id.is_not(None))
        .where(_EVENTS.c.event.in_(("view", "cart", "search")))
        .group_by(_EVENTS.c.customer_id, day, _EVENTS.c.event),
        ["customer_id", "day", "event", "count"],
    )
    activity["day"] = pd.to_datetime(activity["day"])
    activity["count"] = activity["count"].astype("int64")
    return CustomerHistory(orders, categories, customers, activity)
