"""What orders and delivery read from a store: one row per order with its outcome.

:func:`load_order_book` reads ``orders`` with their lines, the customer's
country and account date, the products' categories and the parcel scans,
and settles each order's delivery outcome as of the latest moment the data
knows (``as_of``: the last order, shipment, delivery or scan).

Definitions (the contract of the whole package):

- **deadline**: ``promised_at``. A promise written as a date (stored at
  exactly 00:00:00 UTC, as ingest keeps a bare date, or at 00:00:00 on the
  shop's clock) covers that whole local day: its deadline is the next local
  midnight.
- **on time**: ``delivered_at`` at or before the deadline. **late**: not
  delivered by the deadline, whether it arrived later, is still travelling or
  never arrives. The label is *known* once the order is delivered on time or
  its deadline has passed; models train only on orders whose deadline has
  passed, so recent orders (whose slow parcels are still open) do not bias
  the training towards fast ones.
- **lost**: shipped or paid, never delivered, and either ``refunded`` or
  ``returned`` without a delivery, or its deadline more than
  ``lost_after_days`` behind ``as_of``. Lost orders count as late.
- **open**: neither delivered nor cancelled nor lost, with a promise: the
  orders to watch. Orders without ``promised_at`` (shop counters, sources
  that make no promise) cannot be late and are left out of risk.
- A ``delivered``/``completed`` order without ``delivered_at`` has no known
  time of arrival: its outcome is unknown and it is left out.

Times stay naive UTC as the store keeps them; ``local_at`` is the same
moment on the shop's clock (``timezone`` setting, default UTC).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np
import pandas as pd
from sqlalchemy import func, select

from shopkeeper.errors import ConfigError
from shopkeeper.store import METADATA, TIMEZONE_META, Store
from shopkeeper.timezone import parse_timezone

_ORDERS = METADATA.tables["orders"]
_LINES = METADATA.tables["order_lines"]
_PRODUCTS = METADATA.tables["products"]
_CUSTOMERS = METADATA.tables["customers"]
_SCANS = METADATA.tables["shipment_events"]

DAY = pd.Timedelta(days=1)
LOST_AFTER_DAYS = 14
#: Order statuses that end an order without a delivery.
NEVER_DELIVERED = ("refunded", "returned")
OUTCOMES = ("on_time", "late", "lost", "open", "cancelled", "no_promise", "unknown")


@dataclass
class OrderBook:
    """A shop's orders, one row each (``orders``), settled as of ``as_of``.

    ``orders`` columns: order_id, customer_id, ordered_at, local_at, location_id,
    status, promised_at, deadline, shipped_at, delivered_at, carrier, ship_city,
    country, created_at (the customer's account), lines, units, value,
    categories (distinct top-level categories), top_category (the one with
    the most value), exception_at (first exception scan), last_scan_at,
    last_scan, outcome (one of ``OUTCOMES``), known (the late label is
    settled), late (bool; meaningful where known), delay_days (delivered_at
    minus deadline in days, negative when early), transit_days (shipped to
    delivered). Sorted by ordered_at.
    """

    orders: pd.DataFrame
    as_of: pd.Timestamp
    timezone: str

    def __len__(self) -> int:
        return len(self.orders)

    @property
    def labelled(self) -> pd.DataFrame:
        """Orders whose deadline has passed (the late label is final), oldest first."""
        o = self.orders
        return o[o["deadline"].notna() & (o["deadline"] <= self.as_of) & o["known"]]

    @property
    def open(self) -> pd.DataFrame:
        """Orders still on their way (or not yet shipped), with a promise."""
        return self.orders[self.orders["outcome"] == "open"]


def shop_timezone(store: Store, given: str | None = None) -> str:
    """The zone the shop's days are counted in: ``given``, the store's setting, else UTC."""
    return given or store.meta(TIMEZONE_META) or "UTC"


def load_order_book(
    store: Store, *, timezone: str | None = None, lost_after_days: int = LOST_AFTER_DAYS
) -> OrderBook:
    """Every order with its basket, customer facts, scans and outcome (see the module doc)."""
    zone = shop_timezone(store, timezone)
    tz = parse_timezone(zone)
    o = _ORDERS.c
    orders = store.select_frame(
        select(
            o.order_id,
            o.customer_id,
            o.ordered_at,
            o.location_id,
            o.status,
            o.promised_at,
            o.shipped_at,
            o.delivered_at,
            o.carrier,
            o.ship_city,
            _CUSTOMERS.c.country,
            _CUSTOMERS.c.created_at,
        ).outerjoin(_CUSTOMERS, _CUSTOMERS.c.customer_id == o.customer_id),
        [
            "order_id",
            "customer_id",
            "ordered_at",
            "location_id",
            "status",
            "promised_at",
            "shipped_at",
            "delivered_at",
            "carrier",
            "ship_city",
            "country",
            "created_at",
        ],
    )
    if orders.empty:
        raise ConfigError("the store has no orders: orders and delivery need the orders table")
    lines = _basket(store)
    scans = _scans(store)
    orders = orders.merge(lines, on="order_id", how="left").merge(scans, on="order_id", how="left")
    for column in ("lines", "units"):
        orders[column] = orders[column].fillna(0).astype("int64")
    orders["categories"] = orders["categories"].fillna(0).astype("int64")
    orders["value"] = orders["value"].astype("float64").fillna(0.0)
    for column in (
        "ordered_at",
        "promised_at",
        "shipped_at",
        "delivered_at",
        "created_at",
        "exception_at",
        "last_scan_at",
    ):
        orders[column] = pd.to_datetime(orders[column])
    for column in ("status", "carrier", "ship_city", "country", "location_id"):
        orders[column] = orders[column].astype(object).where(orders[column].notna(), None)
    orders = orders.sort_values(["ordered_at", "order_id"], kind="mergesort")
    orders = orders.reset_index(drop=True)

    moments = [orders[c].max() for c in ("ordered_at", "shipped_at", "delivered_at")]
    moments.append(orders["last_scan_at"].max())
    as_of = pd.Timestamp(max(m for m in moments if pd.notna(m)))
    orders["local_at"] = _local(orders["ordered_at"], tz)
    orders["deadline"] = _deadline(orders["promised_at"], tz)
    _settle(orders, as_of, lost_after_days)
    return OrderBook(orders=orders, as_of=as_of, timezone=zone)


def require_delivery_facts(book: OrderBook, min_orders: int = 50) -> None:
    """Refuse a shop whose orders cannot teach a late-delivery model, naming the columns."""
    o = book.orders
    promised = int(o["promised_at"].notna().sum())
    delivered = int(o["delivered_at"].notna().sum())
    if promised == 0 or delivered == 0:
        missing = [
            name
            for name, count in (("promised_at", promised), ("delivered_at", delivered))
            if count == 0
        ]
        raise ConfigError(
            f"orders.{' and orders.'.join(missing)} {'is' if len(missing) == 1 else 'are'} "
            f"empty in all {len(o):,} orders: late-delivery risk and the carrier scorecard "
            "need promised_at (the promised delivery date) and delivered_at (when it arrived), "
            "and carrier to tell carriers apart"
        )
    labelled = book.labelled
    late = int(labelled["late"].sum())
    if len(labelled) < min_orders or late == 0 or late == len(labelled):
        raise ConfigError(
            f"{len(labelled):,} orders have a passed promise ({late:,} late): a late-delivery "
            f"model needs at least {min_orders} such orders with both late and on-time ones"
        )


def _local(at: pd.Series, tz: dt.tzinfo) -> pd.Series:
    stamps = at.dt.tz_localize("UTC").dt.tz_convert(tz)
    return stamps.dt.tz_localize(None)


def _deadline(promised: pd.Series, tz: dt.tzinfo) -> pd.Series:
    """The moment a promise runs out: a bare date means the end of that local day.

    Ingest stores a bare date (``2024-11-14``) as midnight UTC; a shop may also
    write midnight on its own clock. Either way the date is the promised day.
    """
    local = _local(promised, tz)
    utc_midnight = promised.notna() & (promised == promised.dt.normalize())
    local_midnight = local.notna() & (local == local.dt.normalize())
    day = promised.dt.normalize().where(utc_midnight, local.dt.normalize())
    end = (day + DAY).dt.tz_localize(tz, ambiguous="NaT", nonexistent="shift_forward")
    end = end.dt.tz_convert("UTC").dt.tz_localize(None)
    return promised.where(~(utc_midnight | local_midnight), end)


def _settle(orders: pd.DataFrame, as_of: pd.Timestamp, lost_after_days: int) -> None:
    """Outcome, known, late, delay and transit days of each order, in place."""
    status = orders["status"].fillna("")
    delivered = orders["delivered_at"].notna()
    deadline = orders["deadline"]
    has_promise = deadline.notna()
    cancelled = status == "cancelled"
    # Delivered by status but with no delivery time: when it arrived is unknown.
    timeless = ~delivered & status.isin(["delivered", "completed"])
    gone = ~delivered & ~cancelled & status.isin(NEVER_DELIVERED)
    overdue = ~delivered & has_promise & (deadline + lost_after_days * DAY < as_of)
    lost = ~cancelled & ~timeless & has_promise & (gone | overdue)
    on_time = delivered & has_promise & (orders["delivered_at"] <= deadline)

    outcome = np.select(
        [cancelled, ~has_promise, timeless, delivered & on_time, delivered, lost],
        ["cancelled", "no_promise", "unknown", "on_time", "late", "lost"],
        default="open",
    )
    orders["outcome"] = outcome
    passed = has_promise & (deadline <= as_of)
    orders["late"] = has_promise & ~on_time & ~cancelled
    orders["known"] = ~cancelled & ~timeless & has_promise & (on_time | passed | lost)
    orders["delay_days"] = (orders["delivered_at"] - deadline) / DAY
    orders["transit_days"] = (orders["delivered_at"] - orders["shipped_at"]) / DAY


def _basket(store: Store) -> pd.DataFrame:
    """Per order: lines, units, net value, distinct top-level categories, the main one."""
    price = func.coalesce(_LINES.c.unit_price, _PRODUCTS.c.price, 0.0)
    net = _LINES.c.quantity * price - func.coalesce(_LINES.c.discount, 0.0)
    rows = store.select_frame(
        select(_LINES.c.order_id, _LINES.c.quantity, net, _PRODUCTS.c.category).outerjoin(
            _PRODUCTS, _PRODUCTS.c.product_id == _LINES.c.product_id
        ),
        ["order_id", "quantity", "net", "category"],
    )
    if rows.empty:
        return pd.DataFrame(
            columns=["order_id", "lines", "units", "value", "categories", "top_category"]
        )
    rows["net"] = pd.to_numeric(rows["net"]).astype("float64")
    top = rows["category"].astype(object).where(rows["category"].notna(), "(none)")
    rows["top"] = top.map(lambda c: str(c).split(">")[0].strip())
    per = rows.groupby("order_id").agg(
        lines=("quantity", "size"),
        units=("quantity", "sum"),
        value=("net", "sum"),
        categories=("top", "nunique"),
    )
    by_top = rows.groupby(["order_id", "top"])["net"].sum().reset_index()
    by_top = by_top.sort_values(["order_id", "net", "top"], ascending=[True, False, True])
    per["top_category"] = by_top.drop_duplicates("order_id").set_index("order_id")["top"]
    return per.reset_index()


def _scans(store: Store) -> pd.DataFrame:
    """Per order: the first exception scan, and the last scan (time and status)."""
    s = _SCANS.c
    exceptions = store.select_frame(
        select(s.order_id, func.min(s.at)).where(s.status == "exception").group_by(s.order_id),
        ["order_id", "exception_at"],
    )
    scans = store.select_frame(select(s.order_id, s.at, s.status), ["order_id", "at", "status"])
    if scans.empty:
        return pd.DataFrame(columns=["order_id", "exception_at", "last_scan_at", "last_scan"])
    scans["at"] = pd.to_datetime(scans["at"])
    last = scans.sort_values(["order_id", "at"], kind="mergesort").drop_duplicates(
        "order_id", keep="last"
    )
    last = last.rename(columns={"at": "last_scan_at", "status": "last_scan"})
    return last.merge(exceptions, on="order_id", how="left")
