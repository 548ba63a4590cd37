"""The shop's key figures: revenue, orders, conversion, repeat purchases, products, cohorts.

Every function reads a store with SQL aggregates (or small column subsets into
pandas) and returns plain JSON-able dicts and lists: numbers are Python
``int``/``float`` or ``None`` where a figure is undefined (no orders, no
sessions), days are ``YYYY-MM-DD`` strings and months ``YYYY-MM``.

Conventions shared by every figure:

- **Days are UTC days.** Times are stored in UTC; a shop's local day is
  approximated by the UTC day (a shop eight hours east of UTC sees its
  midnight-to-8am orders on the previous day).
- **The data's end, not the clock, anchors default windows.** "The last 90
  days" means the 90 days ending on the day of the latest order, so a store
  loaded from last year's exports still shows figures.
- **Cancelled orders do not count** anywhere: not as revenue, not as orders and
  not as a customer's earlier purchase. Returned and refunded orders do count
  (their lines were sold; the contract has no refund amounts).
- **Revenue** is ``SUM(quantity * unit_price - COALESCE(discount, 0))`` over
  order lines; lines without a unit price add nothing.
- **Guest orders** (no customer) count as orders and revenue, not as customers.
- **Sessions** are ``events.session_id`` values; events without one are not
  part of any session. A session belongs to the day of its first event within
  the reported window and the one before it (so a session is counted once even
  when it runs across the windows' boundary), and converted when it has a
  ``purchase`` event there.

``register("figures", ...)`` makes all of this a job kind, whose artifact is
``figures.json`` with every figure the dashboard shows.
"""

from __future__ import annotations

import json
import math
import threading
import time as time_module
from collections.abc import Callable, Mapping, Sequence
from datetime import date, datetime, time, timedelta
from typing import Any, Literal

import pandas as pd
from sqlalchemy import (
    ColumnElement,
    Connection,
    Date,
    Executable,
    and_,
    case,
    cast,
    func,
    or_,
    select,
)

from shopkeeper.errors import ConfigError
from shopkeeper.info import describe
from shopkeeper.jobs import JobContext, JobOutcome, register
from shopkeeper.store import METADATA, Store

Grain = Literal["day", "week"]
GRAINS: tuple[str, ...] = ("day", "week")
DEFAULT_DAYS = 90
COVER_DAYS = 28
#: The longest window ``overview`` accepts, in days (ten years of daily points).
MAX_WINDOW_DAYS = 3660

_ORDERS = METADATA.tables["orders"]
_LINES = METADATA.tables["order_lines"]
_EVENTS = METADATA.tables["events"]
_PRODUCTS = METADATA.tables["products"]
_INVENTORY = METADATA.tables["inventory"]

# The figures `overview` reports for a window, in the order the dashboard shows them.
HEADLINE = (
    "revenue",
    "orders",
    "aov",
    "conversion",
    "repeat_rate",
    "new_customers",
    "returning_customers",
)
#: The figures that are shares (0 to 1); their change is also given in percentage points.
RATES = ("conversion", "repeat_rate")


# -- a short-lived cache for the service -----------------------------------------

#: How long the service reuses a computed figure, in seconds. Figures over
#: millions of events take seconds; a dashboard does not need them fresher.
CACHE_SECONDS = 60.0
_cache: dict[tuple[Any, ...], tuple[float, Any]] = {}
_cache_lock = threading.Lock()


def cached(store: Store, name: str, *args: Any) -> Any:
    """``name(store, *args)`` (one of ``overview``, ``products``, ``cohorts``), reused for
    ``CACHE_SECONDS`` per store. Writes through the service call ``invalidate``; a
    load from another process shows up when the entry expires."""
    functions: dict[str, Callable[..., Any]] = {
        "overview": overview,
        "products": products,
        "cohorts": cohorts,
    }
    key = (id(store), name, args)
    now = time_module.monotonic()
    with _cache_lock:
        hit = _cache.get(key)
    if hit is not None and now - hit[0] < CACHE_SECONDS:
        return hit[1]
    value = functions[name](store, *args)
    with _cache_lock:
        _cache[key] = (now, value)
    return value


def invalidate(store: Store | None = None) -> None:
    """Forget cached figures (of one store, or all)."""
    with _cache_lock:
        for key in [k for k in _cache if store is None or k[0] == id(store)]:
            del _cache[key]


# -- small helpers -------------------------------------------------------------


def _num(value: Any, digits: int | None = None) -> float | None:
    """A finite float (rounded to ``digits``) or None for missing, NaN and infinity."""
    if value is None:
        return None
    out = float(value)
    if not math.isfinite(out):
        return None
    return out if digits is None else round(out, digits)


def _ratio(part: float, whole: float, digits: int = 4) -> float | None:
    return None if not whole else round(part / whole, digits)


def _pct_change(now: float | None, before: float | None) -> float | None:
    """Relative change in percent; None when either side is missing or ``before`` is 0."""
    if now is None or before is None or before == 0:
        return None
    return round((now - before) / abs(before) * 100.0, 2)


def _point_change(now: float | None, before: float | None) -> float | None:
    """The change of a share in percentage points; None when either side is missing."""
    if now is None or before is None:
        return None
    return round((now - before) * 100.0, 2)


def _day_expr(store: Store, column: Any) -> ColumnElement[Any]:
    """The UTC day of a stored datetime, in SQL (SQLite keeps them as ISO text)."""
    if store.dialect == "sqlite":
        return func.substr(column, 1, 10)
    return cast(column, Date)


def _month_expr(store: Store, column: Any) -> ColumnElement[Any]:
    """``YYYY-MM`` of a stored datetime, in SQL."""
    if store.dialect == "sqlite":
        return func.substr(column, 1, 7)
    return func.to_char(column, "YYYY-MM")


def _not_cancelled() -> ColumnElement[bool]:
    return or_(_ORDERS.c.status.is_(None), _ORDERS.c.status != "cancelled")


def _revenue_expr() -> ColumnElement[Any]:
    return _LINES.c.quantity * _LINES.c.unit_price - func.coalesce(_LINES.c.discount, 0)


def _to_day(value: Any) -> date | None:
    """A SQL result (date, datetime or ISO text) as a date."""
    if value is None:
        return None
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    return date.fromisoformat(str(value)[:10])


def _midnight(day: date) -> datetime:
    return datetime.combine(day, time())


def _days_column(values: pd.Series) -> pd.Series:
    """SQL day values (ISO text on SQLite, dates on PostgreSQL) as datetime64."""
    return pd.to_datetime(values.astype("string").str.slice(0, 10), format="%Y-%m-%d")


def _frame(conn: Connection, query: Executable, columns: Sequence[str]) -> pd.DataFrame:
    """A query's rows as a data frame with ``columns`` (empty columns when no rows)."""
    rows = conn.execute(query).all()
    # Column lists, not Row objects: pandas probes each row's attributes otherwise,
    # which costs more than the query itself on a few hundred thousand rows.
    values = list(zip(*rows, strict=True)) if rows else [() for _ in columns]
    return pd.DataFrame({name: list(col) for name, col in zip(columns, values, strict=True)})


def latest_order_day(store: Store) -> date | None:
    """The UTC day of the latest order (any status), or None for a store without orders."""
    with store.engine.connect() as conn:
        found = conn.execute(select(func.max(_ORDERS.c.ordered_at))).scalar()
    return _to_day(found)


def parse_day(value: date | str | None, name: str) -> date | None:
    """``value`` as a date; a ConfigError naming ``name`` unless it is ``YYYY-MM-DD``."""
    if value is None or isinstance(value, date):
        return value.date() if isinstance(value, datetime) else value
    try:
        return date.fromisoformat(value.strip())
    except ValueError:
        raise ConfigError(f"{name} {value!r} must be a date as YYYY-MM-DD") from None


def resolve_window(
    data_end: date | None,
    start: date | str | None = None,
    end: date | str | None = None,
    *,
    days: int = DEFAULT_DAYS,
) -> tuple[date, date] | None:
    """The inclusive window ``overview`` reports on; None when it cannot be placed.

    ``end`` defaults to ``data_end`` (the latest order's day), ``start`` to
    ``days - 1`` days before ``end``; with neither ``end`` nor ``data_end``,
    the window starts at ``start`` (None without it). A ConfigError when
    ``start`` is after ``end`` or the window is longer than ``MAX_WINDOW_DAYS``.
    """
    first = parse_day(start, "start")
    last = parse_day(end, "end")
    if last is None:
        last = data_end
        if last is None:
            if first is None:
                return None
            last = first + timedelta(days=days - 1)
    if first is None:
        first = last - timedelta(days=days - 1)
    if first > last:
        which = "end" if end is not None else "the latest order's day"
        raise ConfigError(f"start {first} is after {which} {last}")
    if (last - first).days + 1 > MAX_WINDOW_DAYS:
        raise ConfigError(f"the window {first} to {last} is longer than {MAX_WINDOW_DAYS} days")
    return first, last


# -- overview ------------------------------------------------------------------


def _window_orders(store: Store, since: date, until: date) -> pd.DataFrame:
    """Non-cancelled orders of days ``since``..``until``: day, customer_id, revenue."""
    in_range = and_(
        _ORDERS.c.ordered_at >= _midnight(since),
        _ORDERS.c.ordered_at < _midnight(until + timedelta(days=1)),
        _not_cancelled(),
    )
    orders_q = select(
        _ORDERS.c.order_id,
        _ORDERS.c.customer_id,
        _day_expr(store, _ORDERS.c.ordered_at).label("day"),
    ).where(in_range)
    # An IN list drives the lines' key index from the few orders in range, which
    # SQLite plans far better than a join that scans every line.
    revenue_q = (
        select(_LINES.c.order_id, func.sum(_revenue_expr()).label("revenue"))
        .where(_LINES.c.order_id.in_(select(_ORDERS.c.order_id).where(in_range)))
        .group_by(_LINES.c.order_id)
    )
    with store.engine.connect() as conn:
        orders = _frame(conn, orders_q, ["order_id", "customer", "day"])
        revenue = _frame(conn, revenue_q, ["order_id", "revenue"])
    frame = orders.merge(revenue, on="order_id", how="left")
    frame["revenue"] = pd.to_numeric(frame["revenue"], errors="coerce").fillna(0.0)
    frame["day"] = _days_column(frame["day"])
    return frame.drop(columns="order_id")


def _first_order_days(store: Store) -> pd.Series:
    """Each customer's first (non-cancelled) order day, as datetime64, by customer id."""
    query = (
        select(_ORDERS.c.customer_id, _day_expr(store, func.min(_ORDERS.c.ordered_at)))
        .where(_ORDERS.c.customer_id.is_not(None), _not_cancelled())
        .group_by(_ORDERS.c.customer_id)
    )
    with store.engine.connect() as conn:
        rows = _frame(conn, query, ["customer", "first"])
    if rows.empty:
        return pd.Series([], index=pd.Index([], name="customer"), dtype="datetime64[ns]")
    return pd.Series(_days_column(rows["first"]).to_numpy(), index=rows["customer"])


def _window_sessions(store: Store, since: date, until: date) -> pd.DataFrame:
    """Per day of ``since``..``until``: sessions that started then, and how many bought."""
    per_session = (
        select(
            _day_expr(store, func.min(_EVENTS.c.at)).label("day"),
            func.max(case((_EVENTS.c.event == "purchase", 1), else_=0)).label("bought"),
        )
        .where(
            _EVENTS.c.session_id.is_not(None),
            _EVENTS.c.at >= _midnight(since),
            _EVENTS.c.at < _midnight(until + timedelta(days=1)),
        )
        .group_by(_EVENTS.c.session_id)
        .subquery()
    )
    # Counted per day in SQL: a few hundred rows come back instead of every session.
    query = select(per_session.c.day, func.count(), func.sum(per_session.c.bought)).group_by(
        per_session.c.day
    )
    with store.engine.connect() as conn:
        frame = _frame(conn, query, ["day", "sessions", "bought"])
    return _typed_sessions(frame)


def _typed_sessions(frame: pd.DataFrame) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "day": _days_column(frame["day"]),
            "sessions": pd.to_numeric(frame["sessions"]).astype("int64"),
            "bought": pd.to_numeric(frame["bought"]).astype("int64"),
        }
    )


def _period_start(days: pd.Series, grain: str) -> pd.Series:
    if grain == "week":
        return days - pd.to_timedelta(days.dt.day_of_week, unit="D")
    return days


def _counts(
    orders: pd.DataFrame,
    sessions: pd.DataFrame,
    first_days: pd.Series,
    o_period: pd.Series,
    s_period: pd.Series,
    o_from: pd.Series,
) -> pd.DataFrame:
    """Raw counts per period, indexed by period start.

    ``o_period``/``s_period`` give each order's and each session day's period;
    ``o_from`` each order's first counted day of its period: a customer is
    returning there when their first purchase came before it.
    """
    first = pd.Series(first_days.reindex(orders["customer"]).to_numpy(), index=orders.index)
    frame = pd.DataFrame(
        {
            "period": o_period,
            "customer": orders["customer"],
            "revenue": orders["revenue"],
            "guest": orders["customer"].isna(),
            "returning": (first < o_from).fillna(False).astype(bool),
        }
    )
    per_order = frame.groupby("period").agg(
        revenue=("revenue", "sum"), orders=("revenue", "size"), guest_orders=("guest", "sum")
    )
    people = frame.dropna(subset=["customer"]).drop_duplicates(["period", "customer"])
    per_customer = people.groupby("period").agg(
        customers=("customer", "size"), returning=("returning", "sum")
    )
    per_session = sessions.assign(period=s_period).groupby("period")[["sessions", "bought"]].sum()
    counts = per_order.join(per_customer, how="outer").join(per_session, how="outer")
    return counts.fillna(0)


def _entry(row: Mapping[str, Any], has_events: bool) -> dict[str, Any]:
    """The reported figures from one period's raw counts."""
    revenue, n_orders = float(row["revenue"]), int(row["orders"])
    customers, returning = int(row["customers"]), int(row["returning"])
    n_sessions, converted = int(row["sessions"]), int(row["bought"])
    return {
        "revenue": round(revenue, 2),
        "orders": n_orders,
        "aov": _ratio(revenue, n_orders, 2),
        "customers": customers,
        "new_customers": customers - returning,
        "returning_customers": returning,
        "repeat_rate": _ratio(returning, customers),
        "guest_orders": int(row["guest_orders"]),
        "sessions": n_sessions,
        "converted_sessions": converted,
        "conversion": _ratio(converted, n_sessions) if has_events else None,
    }


_ZERO = dict.fromkeys(
    ("revenue", "orders", "guest_orders", "customers", "returning", "sessions", "bought"), 0
)


def _figures(
    orders: pd.DataFrame,
    sessions: pd.DataFrame,
    first_days: pd.Series,
    since: pd.Timestamp,
    has_events: bool,
) -> dict[str, Any]:
    """The headline figures of one stretch of days (already cut to it) starting ``since``."""
    same = pd.Series(since, index=orders.index)
    counts = _counts(
        orders, sessions, first_days, same, pd.Series(since, index=sessions.index), same
    )
    row = counts.iloc[0].to_dict() if len(counts) else _ZERO
    return _entry(row, has_events)


def _series(
    orders: pd.DataFrame,
    sessions: pd.DataFrame,
    first_days: pd.Series,
    first: date,
    last: date,
    grain: str,
    has_events: bool,
) -> list[dict[str, Any]]:
    """One entry per day or week of ``first``..``last`` (weeks start on Monday)."""
    start, stop = pd.Timestamp(first), pd.Timestamp(last)
    o_period = _period_start(orders["day"], grain)
    # Returning means "ordered before the first counted day", which for a week
    # cut by the window's start is the window's start, not its Monday.
    o_from = o_period.clip(lower=start)
    counts = _counts(
        orders, sessions, first_days, o_period, _period_start(sessions["day"], grain), o_from
    )
    periods = _period_start(pd.Series(pd.date_range(start, stop, freq="D")), grain)
    days_in = periods.value_counts()
    rows = counts.to_dict("index")
    return [
        {
            "period": period.date().isoformat(),
            "days": int(days_in[period]),
            **_entry(rows.get(period, _ZERO), has_events),
        }
        for period in periods.drop_duplicates()
    ]


def _has_events(store: Store) -> bool:
    with store.engine.connect() as conn:
        return conn.execute(select(_EVENTS.c.event_id).limit(1)).first() is not None


def _empty_figures() -> dict[str, Any]:
    none = pd.DataFrame({"customer": [], "revenue": []})
    sessions = _typed_sessions(pd.DataFrame({"day": [], "sessions": [], "bought": []}))
    return _figures(none, sessions, pd.Series([], dtype="datetime64[ns]"), pd.Timestamp(0), False)


def overview(
    store: Store,
    grain: Grain | str = "day",
    start: date | str | None = None,
    end: date | str | None = None,
) -> dict[str, Any]:
    """Revenue, orders, average order value, conversion and repeat purchases over time.

    The window is ``start``..``end`` inclusive (default: the last 90 days of
    data, ending on the latest order's day). Returns::

        {"grain", "start", "end", "days", "data_end",
         "previous": {"start", "end"},
         "series": [{"period", "days", "revenue", "orders", "aov", "customers",
                     "new_customers", "returning_customers", "repeat_rate",
                     "guest_orders", "sessions", "converted_sessions", "conversion"}],
         "totals": {same figures for the whole window},
         "previous_totals": {same for the window of equal length just before},
         "change": {figure: percent change of totals against previous_totals},
         "change_points": {"conversion", "repeat_rate": change in percentage points}}

    ``series`` has one entry per day, or per week (labelled by its Monday; the
    first and last week may be cut by the window, ``days`` says how many of
    its days count). A customer is *new* in a period when their first purchase
    falls in it and *returning* when it came before; ``repeat_rate`` is the
    returning share of the period's ordering customers. ``conversion`` is
    converted sessions over sessions, None without events (or sessions).
    ``change`` is relative (``(now - before) / before * 100``), None when the
    previous figure is 0 or missing; for the two shares, ``change_points`` is
    the plainer difference (``(now - before) * 100``). An empty store gives an empty series and
    zero totals. A ConfigError for an unknown grain or a bad window.
    """
    if grain not in GRAINS:
        raise ConfigError(f"grain {grain!r} must be one of {', '.join(GRAINS)}")
    data_end = latest_order_day(store)
    window = resolve_window(data_end, start, end)
    has_events = _has_events(store)
    if window is None:
        empty = _empty_figures()
        return {
            "grain": grain,
            "start": None,
            "end": None,
            "days": 0,
            "data_end": None,
            "previous": {"start": None, "end": None},
            "series": [],
            "totals": empty,
            "previous_totals": dict(empty),
            "change": dict.fromkeys(empty),
            "change_points": dict.fromkeys(RATES),
        }
    first, last = window
    length = (last - first).days + 1
    prev_first, prev_last = first - timedelta(days=length), first - timedelta(days=1)
    orders = _window_orders(store, prev_first, last)
    sessions = (
        _window_sessions(store, prev_first, last)
        if has_events
        else _typed_sessions(pd.DataFrame({"day": [], "sessions": [], "bought": []}))
    )
    first_days = _first_order_days(store)
    start_ts, prev_ts = pd.Timestamp(first), pd.Timestamp(prev_first)
    now_o, now_s = orders[orders["day"] >= start_ts], sessions[sessions["day"] >= start_ts]
    old_o, old_s = orders[orders["day"] < start_ts], sessions[sessions["day"] < start_ts]
    totals = _figures(now_o, now_s, first_days, start_ts, has_events)
    previous = _figures(old_o, old_s, first_days, prev_ts, has_events)
    return {
        "grain": grain,
        "start": first.isoformat(),
        "end": last.isoformat(),
        "days": length,
        "data_end": None if data_end is None else data_end.isoformat(),
        "previous": {"start": prev_first.isoformat(), "end": prev_last.isoformat()},
        "series": _series(now_o, now_s, first_days, first, last, grain, has_events),
        "totals": totals,
        "previous_totals": previous,
        "change": {k: _pct_change(totals[k], previous[k]) for k in totals},
        "change_points": {k: _point_change(totals[k], previous[k]) for k in RATES},
    }


# -- products ------------------------------------------------------------------


def _product_sales(store: Store, since: date) -> pd.DataFrame:
    """Units and revenue per product from non-cancelled orders on or after ``since``."""
    orders = select(_ORDERS.c.order_id).where(
        _ORDERS.c.ordered_at >= _midnight(since), _not_cancelled()
    )
    query = (
        select(
            _LINES.c.product_id,
            func.sum(_LINES.c.quantity),
            func.sum(_revenue_expr()),
            func.count(),
        )
        .where(_LINES.c.order_id.in_(orders))
        .group_by(_LINES.c.product_id)
    )
    with store.engine.connect() as conn:
        frame = _frame(conn, query, ["product_id", "units", "revenue", "lines"])
    return frame.set_index("product_id")


def _last_sold(store: Store, product_ids: Sequence[str]) -> dict[str, str]:
    """The day each of a few products was last ordered (non-cancelled), by product id."""
    if not product_ids:
        return {}
    query = (
        select(_LINES.c.product_id, func.max(_ORDERS.c.ordered_at))
        .join(_ORDERS, _ORDERS.c.order_id == _LINES.c.order_id)
        .where(_LINES.c.product_id.in_(list(product_ids)), _not_cancelled())
        .group_by(_LINES.c.product_id)
    )
    with store.engine.connect() as conn:
        rows = conn.execute(query).all()
    return {pid: day.isoformat() for pid, at in rows if (day := _to_day(at)) is not None}


def _catalog(store: Store) -> pd.DataFrame:
    query = select(
        _PRODUCTS.c.product_id,
        _PRODUCTS.c.title,
        _PRODUCTS.c.category,
        _PRODUCTS.c.price,
        _PRODUCTS.c.active,
    )
    with store.engine.connect() as conn:
        frame = _frame(conn, query, ["product_id", "title", "category", "price", "active"])
    return frame.set_index("product_id")


def _stock(store: Store) -> pd.DataFrame:
    query = select(
        _INVENTORY.c.product_id,
        func.sum(_INVENTORY.c.on_hand),
        func.sum(func.coalesce(_INVENTORY.c.on_order, 0)),
        func.max(_INVENTORY.c.lead_time_days),
        func.count(),
    ).group_by(_INVENTORY.c.product_id)
    with store.engine.connect() as conn:
        frame = _frame(
            conn, query, ["product_id", "on_hand", "on_order", "lead_time_days", "locations"]
        )
    return frame.set_index("product_id")


def _text(value: Any) -> str | None:
    return None if value is None or (isinstance(value, float) and math.isnan(value)) else str(value)


def _product_row(pid: str, catalog: pd.DataFrame) -> dict[str, Any]:
    if pid in catalog.index:
        item = catalog.loc[pid]
        return {
            "product_id": pid,
            "title": _text(item["title"]),
            "category": _text(item["category"]),
            "price": _num(item["price"], 2),
        }
    return {"product_id": pid, "title": None, "category": None, "price": None}


def products(store: Store, limit: int = 20) -> dict[str, Any]:
    """Best sellers, slow movers and stock cover, over the last 90 days of data.

    Returns::

        {"start", "end", "days",                      # the 90-day window (None if no orders)
         "best_sellers": [{"product_id", "title", "category", "price",
                           "units", "revenue", "revenue_share"}],      # by revenue
         "slow_movers": [{..., "units", "revenue", "on_hand", "last_sold"}],
         "stock": {"cover_days": 28,
                   "summary": {"products", "on_hand", "on_order", "out_of_stock",
                               "below_lead_time", "unsold_with_stock"},
                   "items": [{..., "on_hand", "on_order", "lead_time_days",
                              "daily_units", "days_of_cover"}]}}

    *Slow movers* are active products (``active`` true or unknown) with the
    fewest units sold in the window, unsold ones (0 units) included; ``last_sold``
    is the day of their latest order ever (None if never). *Stock* covers
    products with inventory rows, summed over locations; ``days_of_cover`` is
    ``on_hand`` over the average daily units of the last 28 days of data (0
    when out of stock, None when stock is held but nothing sold), listed
    shortest cover first. Each list holds at most ``limit`` products.
    """
    limit = max(int(limit), 0)
    data_end = latest_order_day(store)
    catalog = _catalog(store)
    stock = _stock(store)
    empty_stock = {
        "products": 0,
        "on_hand": 0,
        "on_order": 0,
        "out_of_stock": 0,
        "below_lead_time": 0,
        "unsold_with_stock": 0,
    }
    result: dict[str, Any] = {
        "start": None,
        "end": None,
        "days": DEFAULT_DAYS,
        "best_sellers": [],
        "slow_movers": [],
        "stock": {"cover_days": COVER_DAYS, "summary": empty_stock, "items": []},
    }
    if data_end is not None:
        since = data_end - timedelta(days=DEFAULT_DAYS - 1)
        result["start"], result["end"] = since.isoformat(), data_end.isoformat()
        sales = _product_sales(store, since)
        recent = _product_sales(store, data_end - timedelta(days=COVER_DAYS - 1))
    else:
        sales = recent = pd.DataFrame(columns=["units", "revenue", "lines"])
    sales = sales.astype({"units": "float64", "revenue": "float64"})
    total_revenue = float(sales["revenue"].sum())

    best = sales.sort_values(["revenue", "units"], ascending=False, kind="stable").head(limit)
    result["best_sellers"] = [
        {
            **_product_row(str(pid), catalog),
            "units": int(row["units"]),
            "revenue": _num(row["revenue"], 2),
            "revenue_share": _ratio(float(row["revenue"]), total_revenue),
        }
        for pid, row in best.iterrows()
    ]

    # A product whose `active` is unknown is taken to be on sale.
    active = catalog[catalog["active"].astype("boolean").fillna(True).astype(bool)]
    slow = pd.DataFrame(index=active.index)
    slow["units"] = sales["units"].reindex(slow.index).fillna(0.0)
    slow["revenue"] = sales["revenue"].reindex(slow.index).fillna(0.0)
    slow = slow.reset_index().sort_values(["units", "revenue", "product_id"], kind="stable")
    slow = slow.head(limit)
    last_sold = _last_sold(store, [str(p) for p in slow["product_id"]])
    result["slow_movers"] = [
        {
            **_product_row(str(row.product_id), catalog),
            "units": int(row.units),
            "revenue": _num(row.revenue, 2),
            "on_hand": int(stock["on_hand"][row.product_id])
            if row.product_id in stock.index
            else None,
            "last_sold": last_sold.get(str(row.product_id)),
        }
        for row in slow.itertuples(index=False)
    ]

    if not stock.empty:
        stock = stock.astype({"on_hand": "int64", "on_order": "int64"})
        daily = recent["units"].astype("float64").reindex(stock.index).fillna(0.0) / COVER_DAYS
        cover = (stock["on_hand"] / daily.where(daily > 0)).where(stock["on_hand"] > 0, 0.0)
        lead = pd.to_numeric(stock["lead_time_days"], errors="coerce")
        frame = stock.assign(daily_units=daily, days_of_cover=cover, lead=lead)
        result["stock"]["summary"] = {
            "products": len(frame),
            "on_hand": int(frame["on_hand"].sum()),
            "on_order": int(frame["on_order"].sum()),
            "out_of_stock": int((frame["on_hand"] == 0).sum()),
            "below_lead_time": int((frame["days_of_cover"] < frame["lead"]).sum()),
            "unsold_with_stock": int(((frame["on_hand"] > 0) & (daily == 0)).sum()),
        }
        # Shortest cover first; held stock that does not sell (None) goes last.
        ordered = frame.reset_index().sort_values(
            ["days_of_cover", "daily_units", "product_id"],
            ascending=[True, False, True],
            na_position="last",
            kind="stable",
        )
        result["stock"]["items"] = [
            {
                **_product_row(str(row.product_id), catalog),
                "on_hand": int(row.on_hand),
                "on_order": int(row.on_order),
                "lead_time_days": _num(row.lead, 1),
                "daily_units": _num(row.daily_units, 3),
                "days_of_cover": _num(row.days_of_cover, 1),
            }
            for row in ordered.head(limit).itertuples(index=False)
        ]
    return result


# -- cohorts -------------------------------------------------------------------


def _month_index(months: pd.Series) -> pd.Series:
    text = months.astype("string")
    return text.str.slice(0, 4).astype("int64") * 12 + text.str.slice(5, 7).astype("int64") - 1


def _month_label(index: int) -> str:
    return f"{index // 12:04d}-{index % 12 + 1:02d}"


def cohorts(store: Store, months: int = 12) -> dict[str, Any]:
    """Monthly acquisition cohorts and how many of each came back, month by month.

    A customer's cohort is the month (UTC) of their first non-cancelled order.
    The latest ``months`` cohorts up to the latest order's month are reported::

        {"months": 12, "last_month": "2025-11",
         "cohorts": [{"cohort": "2024-12", "customers": 412,
                      "retention": [1.0, 0.21, ...],    # offset 0, 1, ... months
                      "active": [412, 87, ...]}]}

    ``retention[k]`` is the share of the cohort's customers who ordered in the
    ``k``-th month after their first (``k = 0`` is 1.0 by definition); a list
    stops at the latest month with data, so later cohorts have shorter lists.
    The latest month may be partial. An empty store gives no cohorts.
    """
    months = max(int(months), 1)
    month = _month_expr(store, _ORDERS.c.ordered_at).label("month")
    query = (
        select(_ORDERS.c.customer_id, month)
        .where(_ORDERS.c.customer_id.is_not(None), _not_cancelled())
        .group_by(_ORDERS.c.customer_id, month)
    )
    with store.engine.connect() as conn:
        active = _frame(conn, query, ["customer", "month"])
    result: dict[str, Any] = {"months": months, "last_month": None, "cohorts": []}
    if active.empty:
        return result
    active["m"] = _month_index(active["month"])
    active["cohort"] = active.groupby("customer")["m"].transform("min")
    last = int(active["m"].max())
    result["last_month"] = _month_label(last)
    recent = active[active["cohort"] > last - months]
    counts = recent.groupby(["cohort", "m"]).size()
    for cohort in range(last - months + 1, last + 1):
        if cohort not in counts.index.get_level_values(0):
            continue
        row = counts.loc[cohort]
        size = int(row.get(cohort, 0))
        by_offset = [int(row.get(cohort + k, 0)) for k in range(last - cohort + 1)]
        result["cohorts"].append(
            {
                "cohort": _month_label(cohort),
                "customers": size,
                "retention": [round(n / size, 4) if size else None for n in by_offset],
                "active": by_offset,
            }
        )
    return result


# -- data quality and the job --------------------------------------------------


def data_quality(store: Store) -> dict[str, Any]:
    """What ``shopkeeper info`` reports: counts, periods, revenue and warnings."""
    out: dict[str, Any] = json.loads(json.dumps(describe(store).to_dict()))
    return out


def compute_all(
    store: Store,
    limit: int = 20,
    months: int = 12,
    progress: Callable[[float, str], None] | None = None,
) -> dict[str, Any]:
    """Every figure the dashboard shows, as one JSON-able document::

        {"overview": {"day": ..., "week": ...}, "products": ..., "cohorts": ...,
         "data_quality": ...}

    ``progress(share, message)`` is told before each part.
    """
    steps: list[tuple[str, Callable[[], Any]]] = [
        ("overview by day", lambda: overview(store, "day")),
        ("overview by week", lambda: overview(store, "week")),
        ("products and stock", lambda: products(store, limit)),
        ("customer cohorts", lambda: cohorts(store, months)),
        ("data quality", lambda: data_quality(store)),
    ]
    done: dict[str, Any] = {}
    for i, (message, compute) in enumerate(steps):
        if progress is not None:
            progress(i / len(steps), message)
        done[message] = compute()
    return {
        "overview": {"day": done["overview by day"], "week": done["overview by week"]},
        "products": done["products and stock"],
        "cohorts": done["customer cohorts"],
        "data_quality": done["data quality"],
    }


@register("figures", "The shop's key figures: revenue, conversion, products, cohorts")
def figures_job(ctx: JobContext) -> JobOutcome:
    """Compute every figure into ``figures.json``; headline totals as the job's metrics.

    Parameters (``ctx.params``): ``limit`` (products per list, default 20) and
    ``months`` (cohorts, default 12). Metrics: the daily overview's window
    (``start``, ``end``), its ``HEADLINE`` totals and ``revenue_change_pct``.
    """
    limit = int(ctx.params.get("limit", 20))
    months = int(ctx.params.get("months", 12))
    document = compute_all(
        ctx.store, limit, months, lambda share, msg: ctx.progress(share * 0.95, msg)
    )
    path = ctx.artifact_dir / "figures.json"
    path.write_text(json.dumps(document, ensure_ascii=False, indent=1), encoding="utf-8")
    ctx.progress(1.0, "written figures.json")
    daily = document["overview"]["day"]
    metrics: dict[str, Any] = {"start": daily["start"], "end": daily["end"]}
    metrics.update({k: daily["totals"][k] for k in HEADLINE})
    metrics["revenue_change_pct"] = daily["change"]["revenue"]
    return JobOutcome(metrics=metrics)


__all__ = [
    "GRAINS",
    "HEADLINE",
    "MAX_WINDOW_DAYS",
    "RATES",
    "cohorts",
    "compute_all",
    "data_quality",
    "latest_order_day",
    "overview",
    "parse_day",
    "products",
    "resolve_window",
]
