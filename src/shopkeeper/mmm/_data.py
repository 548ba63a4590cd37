"""What the marketing mix reads from a store: sales and ad spend per day or week.

- **Sales** are the value of the orders placed that day (the shop's local
  day, see ``timezone``), cancelled orders left out; returned orders count,
  since advertising drove the sale. An order's value is as in customer
  analytics: quantity × unit price (the list price where a line has none)
  less the line discounts. Guest orders count too: ads bring guests.
- **Spend** per channel comes from ``ad_spend``; a day a channel has no row
  spent nothing.
- **Promotions**: the share of the catalogue on a discount promotion that
  day. **Prices**: the day's sold value at unit prices over the same lines at
  list prices (1 = no markdowns), where lines carry prices.

The window runs from the first to the last day that has both orders and ad
spend; the first and last day are dropped when they look cut off (fewer
than half the orders of the week around them).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Literal

import numpy as np
import pandas as pd
from sqlalchemy import func, select

from shopkeeper.errors import ConfigError
from shopkeeper.store import METADATA, TIMEZONE_META, Store
from shopkeeper.timezone import local_days, parse_timezone

_ORDERS = METADATA.tables["orders"]
_LINES = METADATA.tables["order_lines"]
_PRODUCTS = METADATA.tables["products"]
_SPEND = METADATA.tables["ad_spend"]
_PROMOTIONS = METADATA.tables["promotions"]

Frequency = Literal["day", "week"]
MIN_PERIODS = {"day": 56, "week": 26}


@dataclass
class MixData:
    """Sales, spend per channel and the controls' raw inputs, one row per period."""

    dates: pd.DatetimeIndex  # each period's first day
    sales: np.ndarray
    orders: np.ndarray
    channels: tuple[str, ...]
    spend: np.ndarray  # (channels, periods)
    promotion: np.ndarray  # share of the catalogue on a discount promotion (mean over the period)
    price_index: np.ndarray | None  # sold value at unit prices / at list prices; None: no prices
    frequency: Frequency
    timezone: str

    def __len__(self) -> int:
        return len(self.sales)

    def periods(self, start: int, stop: int | None = None) -> MixData:
        """Periods ``start`` to ``stop`` (a holdout's fitting window, or the held-out rest)."""
        cut = slice(start, stop)
        return MixData(
            self.dates[cut],
            self.sales[cut],
            self.orders[cut],
            self.channels,
            self.spend[:, cut],
            self.promotion[cut],
            None if self.price_index is None else self.price_index[cut],
            self.frequency,
            self.timezone,
        )

    def frame(self) -> pd.DataFrame:
        out = pd.DataFrame({"date": self.dates, "sales": self.sales, "orders": self.orders})
        for i, name in enumerate(self.channels):
            out[f"spend_{name}"] = self.spend[i]
        out["promotion"] = self.promotion
        if self.price_index is not None:
            out["price_index"] = self.price_index
        return out


def shop_timezone(store: Store, given: str | None = None) -> str:
    """The time zone to count days in: ``given``, else the store's setting, else UTC."""
    return given or store.meta(TIMEZONE_META) or "UTC"


def load_mix_data(
    store: Store, *, frequency: Frequency = "day", timezone: str | None = None
) -> MixData:
    """Sales, spend and controls per period from ``store`` (see the module doc)."""
    if frequency not in ("day", "week"):
        raise ConfigError(f"frequency must be day or week, not {frequency!r}")
    zone_name = shop_timezone(store, timezone)
    tz = parse_timezone(zone_name)
    list_price = func.coalesce(_PRODUCTS.c.price, _LINES.c.unit_price)
    price = func.coalesce(_LINES.c.unit_price, _PRODUCTS.c.price, 0.0)
    value = _LINES.c.quantity * price - func.coalesce(_LINES.c.discount, 0.0)
    priced = _LINES.c.unit_price.is_not(None) & _PRODUCTS.c.price.is_not(None)
    at_unit = func.sum(func.coalesce(_LINES.c.quantity * _LINES.c.unit_price, 0.0))
    orders = store.select_frame(
        select(
            _ORDERS.c.order_id,
            _ORDERS.c.ordered_at,
            func.sum(value),
            at_unit.filter(priced),
            func.sum(_LINES.c.quantity * list_price).filter(priced),
        )
        .join(_LINES, _LINES.c.order_id == _ORDERS.c.order_id)
        .join(_PRODUCTS, _PRODUCTS.c.product_id == _LINES.c.product_id)
        .where(func.coalesce(_ORDERS.c.status, "") != "cancelled")
        .group_by(_ORDERS.c.order_id, _ORDERS.c.ordered_at),
        ["order_id", "at", "value", "at_unit", "at_list"],
    )
    if orders.empty:
        raise ConfigError("the store has no orders: the marketing mix needs sales")
    spend = store.select_frame(
        select(_SPEND.c.date, _SPEND.c.channel, _SPEND.c.spend), ["date", "channel", "spend"]
    )
    if spend.empty:
        raise ConfigError("the store has no ad_spend rows: the marketing mix needs ad spend")
    orders["day"] = local_days(orders["at"], tz)
    for column in ("value", "at_unit", "at_list"):
        orders[column] = pd.to_numeric(orders[column]).astype("float64")
    daily = orders.groupby("day").agg(
        sales=("value", "sum"),
        orders=("order_id", "size"),
        at_unit=("at_unit", "sum"),
        at_list=("at_list", "sum"),
    )
    spend["date"] = pd.to_datetime(spend["date"]).dt.normalize()
    spend["spend"] = pd.to_numeric(spend["spend"]).astype("float64")
    by_channel = spend.pivot_table(
        index="date", columns="channel", values="spend", aggfunc="sum"
    ).sort_index(axis=1)
    first = max(daily.index.min(), by_channel.index.min())
    last = min(daily.index.max(), by_channel.index.max())
    if first > last:
        raise ConfigError(
            f"orders ({daily.index.min():%Y-%m-%d} to {daily.index.max():%Y-%m-%d}) and ad "
            f"spend ({by_channel.index.min():%Y-%m-%d} to {by_channel.index.max():%Y-%m-%d}) "
            "do not overlap"
        )
    days = pd.date_range(first, last, freq="D")
    daily = daily.reindex(days, fill_value=0.0)
    days = _trim_cut_off(days, daily["orders"].to_numpy())
    daily = daily.reindex(days)
    by_channel = by_channel.reindex(days, fill_value=0.0).fillna(0.0)
    promotion = _promotion_share(store, days, tz)
    ratio = daily["at_unit"].to_numpy() / np.maximum(daily["at_list"].to_numpy(), 1e-9)
    has_prices = bool((daily["at_list"] > 0).mean() > 0.9)
    frame = pd.DataFrame(
        {
            "sales": daily["sales"].to_numpy(),
            "orders": daily["orders"].to_numpy(),
            "promotion": promotion,
            "price_index": np.where(daily["at_list"] > 0, ratio, np.nan),
        },
        index=days,
    )
    frame = pd.concat([frame, by_channel], axis=1)
    if frequency == "week":
        # Whole weeks only, each labelled by its first day.
        whole = len(frame) // 7 * 7
        frame = frame.iloc[:whole]
        group = np.arange(whole) // 7
        agg = {c: "sum" for c in frame.columns}
        agg.update({"promotion": "mean", "price_index": "mean"})
        weekly = frame.groupby(group).agg(agg)
        weekly.index = frame.index[::7]
        frame = weekly
    if len(frame) < MIN_PERIODS[frequency]:
        raise ConfigError(
            f"only {len(frame)} {frequency}s with both orders and ad spend; the marketing mix "
            f"needs at least {MIN_PERIODS[frequency]}"
        )
    channels = tuple(str(c) for c in by_channel.columns)
    price_index = frame["price_index"].to_numpy()
    if has_prices:
        price_index = pd.Series(price_index).ffill().bfill().to_numpy()
    return MixData(
        dates=pd.DatetimeIndex(frame.index),
        sales=frame["sales"].to_numpy(dtype=float),
        orders=frame["orders"].to_numpy(dtype=float),
        channels=channels,
        spend=frame[list(by_channel.columns)].to_numpy(dtype=float).T,
        promotion=frame["promotion"].to_numpy(dtype=float),
        price_index=price_index if has_prices else None,
        frequency=frequency,
        timezone=zone_name,
    )


def _trim_cut_off(days: pd.DatetimeIndex, orders: np.ndarray) -> pd.DatetimeIndex:
    """Drop a first or last day whose orders look cut off by the export."""
    keep = np.ones(len(days), dtype=bool)
    if len(days) >= 15:
        for edge, around in ((0, orders[1:8]), (len(days) - 1, orders[-8:-1])):
            if orders[edge] < 0.5 * np.median(around):
                keep[edge] = False
    return days[keep]


def _promotion_share(store: Store, days: pd.DatetimeIndex, tz: dt.tzinfo) -> np.ndarray:
    """Per day, the share of products on a discount promotion at some moment of the day."""
    promos = store.select_frame(
        select(_PROMOTIONS.c.product_id, _PROMOTIONS.c.starts_at, _PROMOTIONS.c.ends_at).where(
            _PROMOTIONS.c.kind == "discount"
        ),
        ["product_id", "starts_at", "ends_at"],
    )
    if promos.empty:
        return np.zeros(len(days))
    with store.engine.connect() as conn:
        n_products = conn.execute(select(func.count()).select_from(_PRODUCTS)).scalar() or 1
    start = local_days(promos["starts_at"], tz).to_numpy()
    end = local_days(promos["ends_at"], tz).to_numpy()
    first = days[0].to_datetime64()
    lo = np.clip((start - first) // np.timedelta64(1, "D"), 0, len(days))
    hi = np.clip((end - first) // np.timedelta64(1, "D") + 1, 0, len(days))
    # A product promoted twice on one day counts once: merge each product's
    # overlapping day ranges, then count the ranges that cover each day.
    spans = pd.DataFrame({"p": promos["product_id"].to_numpy(), "lo": lo, "hi": hi})
    spans = spans[spans["hi"] > spans["lo"]].sort_values(["p", "lo"], kind="stable")
    reach = spans.groupby("p")["hi"].cummax()
    prev = reach.groupby(spans["p"]).shift()
    opens = prev.isna() | (spans["lo"] > prev)
    run = opens.cumsum()
    merged = spans.assign(hi=reach).groupby(run).agg(lo=("lo", "first"), hi=("hi", "max"))
    diff = np.zeros(len(days) + 1)
    np.add.at(diff, merged["lo"].to_numpy(dtype=int), 1)
    np.add.at(diff, merged["hi"].to_numpy(dtype=int), -1)
    return np.cumsum(diff)[: len(days)] / max(int(n_products), 1)
