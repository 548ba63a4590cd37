"""Orders that need a human: each flag with its reason in words.

:func:`flag_orders` looks at the orders placed in the last ``days`` days
before ``as_of`` (cancelled ones left out) and compares them with what came
before that window, so the anomalies being judged never shape their own
yardstick:

``quantity`` / ``amount``
    Units or net value far above the customer's own orders: a robust z on
    the log scale, (log1p(x) - median) / (1.4826 · MAD), with the scale
    floored at ``0.25`` (most customers buy one or two units every time, and
    a zero MAD would make a third unit infinitely odd), at least ``z`` and
    above everything the customer bought before. A customer needs
    ``min_history`` earlier orders; guests and newer customers are compared
    with the shop's orders instead, at ``z + 1`` and above the shop's 99.5th
    percentile.
``burst``
    At least ``burst_orders`` orders by one customer to one ship_city within
    ``burst_hours`` hours, and at least twice the most that customer placed
    on any one day before. The contract has no street address, so guests
    cannot be tied together and are left out.
``new_account``
    An account opened at most 2 days before an order worth more than 99 % of
    the shop's orders (the classic stolen-card pattern).
``overdue`` / ``exception``
    Open orders past their promise without a delivery, and open orders whose
    parcel had an exception scan: someone should chase the carrier.

:func:`plant_anomalies` injects known quantity anomalies and bursts into a
shop's tables, to measure the flags' precision and recall (tests, bench).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pandas as pd

from shopkeeper.orders._data import DAY, OrderBook

FLAG_KINDS = ("quantity", "amount", "burst", "new_account", "overdue", "exception")
SCALE_FLOOR = 0.25
MAD_TO_SD = 1.4826
NEW_ACCOUNT_DAYS = 2
FLAG_COLUMNS = [
    "order_id",
    "customer_id",
    "ordered_at",
    "kind",
    "score",
    "reason",
    "open",
    "units",
    "value",
]


def flag_orders(
    book: OrderBook,
    *,
    days: int = 14,
    min_history: int = 5,
    z: float = 3.0,
    burst_orders: int = 5,
    burst_hours: float = 24.0,
) -> pd.DataFrame:
    """Every flag on the window's orders, one row per order and kind (see the module doc).

    Columns ``FLAG_COLUMNS``: ``score`` is the robust z (quantity, amount),
    the orders in the burst window, or the days overdue; ``open`` whether the
    order is still on its way. Sorted by kind's order, then score, highest first.
    """
    o = book.orders[book.orders["outcome"] != "cancelled"]
    start = book.as_of - days * DAY
    window = o[o["ordered_at"] > start]
    before = o[o["ordered_at"] <= start]
    parts = [
        _unusual(window, before, "units", "quantity", min_history, z),
        _unusual(window, before, "value", "amount", min_history, z),
        _bursts(window, before, burst_orders, burst_hours),
        _new_accounts(window, before),
        _delivery(window, book.as_of),
    ]
    flags = pd.concat([p for p in parts if not p.empty], ignore_index=True)
    if flags.empty:
        return pd.DataFrame(columns=FLAG_COLUMNS)
    info = o.set_index("order_id")
    flags["customer_id"] = flags["order_id"].map(info["customer_id"])
    flags["ordered_at"] = flags["order_id"].map(info["ordered_at"])
    flags["open"] = flags["order_id"].map(info["outcome"] == "open").astype(bool)
    flags["units"] = flags["order_id"].map(info["units"]).astype(int)
    flags["value"] = flags["order_id"].map(info["value"]).astype(float)
    rank = flags["kind"].map({k: i for i, k in enumerate(FLAG_KINDS)})
    flags = flags.assign(_rank=rank).sort_values(
        ["_rank", "score", "order_id"], ascending=[True, False, True], kind="stable"
    )
    return flags[FLAG_COLUMNS].reset_index(drop=True)


def _robust(values: pd.Series) -> tuple[float, float]:
    logged = np.log1p(values.to_numpy(dtype=float))
    median = float(np.median(logged))
    mad = float(np.median(np.abs(logged - median)))
    return median, max(MAD_TO_SD * mad, SCALE_FLOOR)


def _amount(column: str, x: float) -> str:
    return f"{int(x):,} units" if column == "units" else f"{x:,.2f}"


def _range(column: str, lo: float, hi: float) -> str:
    if column == "units":
        a, b = math.floor(lo), math.ceil(hi)
        return f"{a}" if a == b else f"{a}-{b}"
    return f"{lo:,.0f}-{hi:,.0f}"


def _unusual(
    window: pd.DataFrame,
    before: pd.DataFrame,
    column: str,
    kind: str,
    min_history: int,
    z: float,
) -> pd.DataFrame:
    """Orders far above the customer's own (or, without history, the shop's) orders."""
    rows: list[dict[str, Any]] = []
    if window.empty or before.empty:
        return pd.DataFrame(rows)
    shop_med, shop_scale = _robust(before[column])
    shop_cut = float(before[column].quantile(0.995))
    shop_lo, shop_hi = before[column].quantile([0.1, 0.9])
    own = before[before["customer_id"].notna()].groupby("customer_id")[column]
    stats = pd.DataFrame(
        {
            "n": own.size(),
            "median": own.apply(lambda s: _robust(s)[0]),
            "scale": own.apply(lambda s: _robust(s)[1]),
            "max": own.max(),
            "lo": own.quantile(0.1),
            "hi": own.quantile(0.9),
        }
    )
    what = "buys" if column == "units" else "spends"
    for row in window.itertuples(index=False):
        x = float(getattr(row, column))
        customer = row.customer_id
        mine = stats.loc[customer] if customer is not None and customer in stats.index else None
        if mine is not None and mine["n"] >= min_history:
            score = (math.log1p(x) - mine["median"]) / mine["scale"]
            if score >= z and x > mine["max"]:
                usual = _range(column, mine["lo"], mine["hi"])
                rows.append(
                    {
                        "order_id": row.order_id,
                        "kind": kind,
                        "score": score,
                        "reason": f"{_amount(column, x)}; this customer usually {what} "
                        f"{usual} an order ({int(mine['n'])} earlier orders)",
                    }
                )
            continue
        score = (math.log1p(x) - shop_med) / shop_scale
        if score >= z + 1 and x > shop_cut:
            who = "a guest" if customer is None else "a customer with few earlier orders"
            rows.append(
                {
                    "order_id": row.order_id,
                    "kind": kind,
                    "score": score,
                    "reason": f"{_amount(column, x)} from {who}; orders in this shop usually "
                    f"hold {_range(column, shop_lo, shop_hi)}",
                }
            )
    return pd.DataFrame(rows)


def _bursts(
    window: pd.DataFrame, before: pd.DataFrame, burst_orders: int, burst_hours: float
) -> pd.DataFrame:
    """Orders in a rush of one customer's orders to one ship_city (see the module doc)."""
    mine = window[window["customer_id"].notna()]
    if mine.empty:
        return pd.DataFrame()
    busiest = (
        before[before["customer_id"].notna()]
        .assign(day=lambda f: f["local_at"].dt.normalize())
        .groupby(["customer_id", "day"])
        .size()
        .groupby("customer_id")
        .max()
    )
    span = pd.Timedelta(hours=burst_hours)
    rows: list[dict[str, Any]] = []
    keys = [mine["customer_id"], mine["ship_city"].fillna("(none)")]
    for (customer, city), group in mine.groupby(keys, sort=False):
        if len(group) < burst_orders:
            continue
        usual = int(busiest.get(customer, 1))
        need = max(burst_orders, 2 * usual)
        at = group["ordered_at"].to_numpy()
        # For each order: how many of the group's orders fall within the span before it.
        first = np.searchsorted(at, at - span.to_timedelta64(), side="left")
        count = np.arange(len(at)) - first + 1
        hit = np.zeros(len(at), dtype=bool)
        for end in np.flatnonzero(count >= need):
            hit[first[end] : end + 1] = True
        if not hit.any():
            continue
        top = int(count.max())
        hours = (at[hit].max() - at[hit].min()) / np.timedelta64(1, "h")
        reason = (
            f"{int(hit.sum())} orders in {hours:.1f} h to {city}; this customer placed "
            f"at most {usual} a day before"
        )
        for order_id in group["order_id"].to_numpy()[hit]:
            rows.append(
                {"order_id": order_id, "kind": "burst", "score": float(top), "reason": reason}
            )
    return pd.DataFrame(rows)


def _new_accounts(window: pd.DataFrame, before: pd.DataFrame) -> pd.DataFrame:
    """Big orders from accounts opened at most ``NEW_ACCOUNT_DAYS`` days before."""
    if window.empty or before.empty:
        return pd.DataFrame()
    cut = float(before["value"].quantile(0.99))
    age = (window["ordered_at"] - window["created_at"]) / DAY
    hit = window[age.notna() & (age >= 0) & (age <= NEW_ACCOUNT_DAYS) & (window["value"] > cut)]
    return pd.DataFrame(
        {
            "order_id": hit["order_id"].to_numpy(),
            "kind": "new_account",
            "score": (hit["value"] / max(cut, 1e-9)).to_numpy(),
            "reason": [
                f"{v:,.2f} from an account opened {a * 24:.0f} h before; 99% of the shop's "
                f"orders are worth less than {cut:,.0f}"
                for v, a in zip(hit["value"], age[hit.index], strict=True)
            ],
        }
    )


def _delivery(window: pd.DataFrame, as_of: pd.Timestamp) -> pd.DataFrame:
    """Open orders past their promise, and open orders with an exception scan."""
    rows: list[dict[str, Any]] = []
    open_orders = window[window["outcome"] == "open"]
    for row in open_orders.itertuples(index=False):
        if pd.notna(row.deadline) and row.deadline < as_of:
            late = (as_of - row.deadline) / DAY
            rows.append(
                {
                    "order_id": row.order_id,
                    "kind": "overdue",
                    "score": float(late),
                    "reason": f"promised by {row.deadline:%Y-%m-%d %H:%M} UTC, not delivered "
                    f"{late:.1f} days later ({row.carrier or 'no carrier'})",
                }
            )
        if pd.notna(row.exception_at):
            rows.append(
                {
                    "order_id": row.order_id,
                    "kind": "exception",
                    "score": float((as_of - row.exception_at) / DAY),
                    "reason": f"exception scan on {row.exception_at:%Y-%m-%d} "
                    f"({row.carrier or 'no carrier'}), not delivered since",
                }
            )
    return pd.DataFrame(rows)


# -- planted anomalies ----------------------------------------------------------------------


def plant_anomalies(
    tables: dict[str, pd.DataFrame],
    *,
    quantity: int = 40,
    bursts: int = 10,
    within_days: int = 14,
    min_history: int = 5,
    seed: int = 0,
) -> tuple[dict[str, pd.DataFrame], pd.DataFrame]:
    """``tables`` (contract frames, as read from CSV) with known anomalies, and which.

    In the last ``within_days`` days of orders: ``quantity`` orders of
    customers with at least ``min_history`` earlier orders get every line's
    quantity multiplied by 6-12; ``bursts`` such customers get 5-8 new orders
    (copies of one of their baskets) within three hours. Returns the new
    ``orders`` and ``order_lines`` (other tables unchanged) and a frame of
    order_id, kind (``quantity`` or ``burst``).
    """
    rng = np.random.default_rng(seed)
    orders = tables["orders"].copy()
    lines = tables["order_lines"].copy()
    at = pd.to_datetime(orders["ordered_at"], utc=True, format="ISO8601")
    cut = at.max() - pd.Timedelta(days=within_days)
    registered = orders["customer_id"].notna() & (orders["customer_id"].astype(str) != "")
    earlier = orders[registered & (at <= cut)].groupby("customer_id").size()
    regulars = set(earlier[earlier >= min_history].index)
    status = orders.get("status", pd.Series("", index=orders.index)).fillna("")
    candidates = orders[
        registered & (at > cut) & orders["customer_id"].isin(regulars) & (status != "cancelled")
    ]
    chosen = candidates.sample(min(quantity, len(candidates)), random_state=seed)
    factor = dict(zip(chosen["order_id"], rng.integers(6, 13, len(chosen)), strict=True))
    hit = lines["order_id"].isin(factor)
    qty = pd.to_numeric(lines.loc[hit, "quantity"])
    lines.loc[hit, "quantity"] = (qty * lines.loc[hit, "order_id"].map(factor)).astype(int)
    truth = [{"order_id": o, "kind": "quantity"} for o in chosen["order_id"]]

    people = sorted(regulars - set(chosen["customer_id"]))
    picked = rng.choice(len(people), size=min(bursts, len(people)), replace=False)
    new_orders, new_lines = [], []
    span = (at.max() - cut).total_seconds()
    number = 0
    for i in picked:
        customer = people[int(i)]
        own = orders[orders["customer_id"] == customer]
        template = own.iloc[-1]
        basket = lines[lines["order_id"] == template["order_id"]]
        t0 = cut + pd.Timedelta(seconds=float(rng.uniform(0.1, 0.9)) * span)
        offsets = np.sort(rng.uniform(0, 3 * 3600, int(rng.integers(5, 9))))
        for offset in offsets:
            number += 1
            order_id = f"AN-{number:06d}"
            when = t0 + pd.Timedelta(seconds=float(offset))
            row = template.copy()
            row["order_id"] = order_id
            row["ordered_at"] = when.strftime("%Y-%m-%dT%H:%M:%S+00:00")
            for column in ("shipped_at", "delivered_at"):
                if column in row.index:
                    row[column] = None
            if "status" in row.index:
                row["status"] = "paid"
            if "promised_at" in row.index and pd.notna(template.get("promised_at")):
                row["promised_at"] = (when + pd.Timedelta(days=3)).strftime(
                    "%Y-%m-%dT%H:%M:%S+00:00"
                )
            new_orders.append(row)
            new_lines.append(basket.assign(order_id=order_id))
            truth.append({"order_id": order_id, "kind": "burst"})
    if new_orders:
        orders = pd.concat([orders, pd.DataFrame(new_orders)], ignore_index=True)
        lines = pd.concat([lines, *new_lines], ignore_index=True)
    out = dict(tables)
    out["orders"], out["order_lines"] = orders, lines
    return out, pd.DataFrame(truth, columns=["order_id", "kind"])
