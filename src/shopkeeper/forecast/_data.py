"""Units sold per product (and location) per period: what the forecasts forecast.

From the store's order lines (cancelled orders left out), in the shop's time
zone (the store's ``timezone`` setting unless one is given, else UTC):

- **Series**: one per product, or per product and location when the orders
  name locations (``by_location``; the default: when more than one location
  sold anything). Orders without a location form a location of their own
  (``""``, the online shop).
- **Frequency**: ``day`` or ``week``; the default is the data's natural one:
  weekly when every order falls on the same weekday (point-of-sale data
  aggregated per week, such as Dominick's), daily otherwise. A week starts on
  that weekday (Monday for daily data summed into weeks).
- **Zeros and gaps**: a period in which a product sold nothing while its
  location sold something is a zero; a period in which the location sold
  nothing at all is missing (the store was closed or did not report), and the
  series skip it rather than invent a zero. A series starts at its first sale.
- **Known inputs** per series and period: the mean unit price of its lines
  (NaN when none sold: :func:`fill_prices` carries the last price), and 0/1
  for a ``discount``, ``feature`` or ``display`` promotion covering any day of
  the period at that location (or shop-wide).
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
_PROMOTIONS = METADATA.tables["promotions"]

Frequency = Literal["day", "week"]
FREQUENCIES = ("day", "week")
PROMOTION_KINDS = ("discount", "feature", "display")
ONLINE = ""  # the location of orders that name none


@dataclass
class Demand:
    """Units per series and period, with the known inputs (see the module doc).

    ``frame`` columns: ``series``, ``product_id``, ``location_id``, ``period``
    (the period's first day), ``units``, ``price`` and one 0/1 column per
    promotion kind; sorted by series and period.
    """

    frame: pd.DataFrame
    frequency: Frequency
    by_location: bool
    timezone: str

    @property
    def series(self) -> list[str]:
        return list(pd.unique(self.frame["series"]))

    def __len__(self) -> int:
        return len(self.frame)


def series_key(product_id: str, location_id: str, by_location: bool) -> str:
    """A series' name: the product, or ``product@location`` when split by location."""
    if not by_location:
        return product_id
    return f"{product_id}@{location_id or 'online'}"


def natural_frequency(days: pd.Series) -> Frequency:
    """``week`` when every day is the same weekday (and there are at least two), else ``day``."""
    distinct = pd.Series(pd.unique(days))
    if len(distinct) >= 2 and distinct.dt.day_of_week.nunique() == 1:
        return "week"
    return "day"


def _period_starts(days: pd.Series, frequency: Frequency, anchor: int) -> pd.Series:
    if frequency == "day":
        return days
    back = (days.dt.day_of_week - anchor) % 7
    return days - pd.to_timedelta(back, unit="D")


def load_demand(
    store: Store,
    *,
    frequency: Frequency | None = None,
    by_location: bool | None = None,
    timezone: str | None = None,
) -> Demand:
    """Units per product (and location) per period from ``store`` (see the module doc)."""
    if frequency is not None and frequency not in FREQUENCIES:
        raise ConfigError(f"frequency must be day or week, not {frequency!r}")
    zone = timezone or store.meta(TIMEZONE_META) or "UTC"
    tz = parse_timezone(zone)
    lines = store.select_frame(
        select(
            _LINES.c.product_id,
            _ORDERS.c.location_id,
            _ORDERS.c.ordered_at,
            _LINES.c.quantity,
            _LINES.c.unit_price,
        )
        .join(_ORDERS, _ORDERS.c.order_id == _LINES.c.order_id)
        .where(func.coalesce(_ORDERS.c.status, "") != "cancelled"),
        ["product_id", "location_id", "at", "units", "unit_price"],
    )
    if lines.empty:
        raise ConfigError("the store has no order lines: there is no demand to forecast")
    lines["day"] = local_days(lines["at"], tz)
    lines["location_id"] = lines["location_id"].fillna(ONLINE).astype(str)
    lines["product_id"] = lines["product_id"].astype(str)
    lines["units"] = pd.to_numeric(lines["units"]).astype("float64")
    lines["unit_price"] = pd.to_numeric(lines["unit_price"]).astype("float64")
    natural = natural_frequency(lines["day"])
    freq: Frequency = frequency or natural
    # Weeks start on the one weekday of weekly data, else on Monday.
    anchor = int(lines["day"].iloc[0].day_of_week) if natural == "week" else 0
    split = (lines["location_id"].nunique() > 1) if by_location is None else by_location
    if not split:
        lines["location_id"] = ONLINE
    lines["period"] = _period_starts(lines["day"], freq, anchor)
    lines["paid"] = lines["units"] * lines["unit_price"]
    sold = lines.groupby(["product_id", "location_id", "period"], as_index=False).agg(
        units=("units", "sum"), paid=("paid", "sum"), priced=("unit_price", "count")
    )
    sold["price"] = np.where(sold["units"] > 0, sold["paid"] / sold["units"], np.nan)
    sold.loc[sold["priced"] == 0, "price"] = np.nan
    frame = _with_zeros(sold[["product_id", "location_id", "period", "units", "price"]])
    frame = _with_promotions(store, frame, tz, freq, anchor, split)
    frame.insert(
        0,
        "series",
        [
            series_key(p, loc, split)
            for p, loc in zip(frame["product_id"], frame["location_id"], strict=True)
        ],
    )
    frame = frame.sort_values(["series", "period"], kind="stable").reset_index(drop=True)
    return Demand(frame=frame, frequency=freq, by_location=split, timezone=zone)


def _with_zeros(sold: pd.DataFrame) -> pd.DataFrame:
    """Zero rows for the periods a product sold nothing while its location sold something."""
    open_periods = sold[["location_id", "period"]].drop_duplicates()
    first = sold.groupby(["product_id", "location_id"], as_index=False)["period"].min()
    grid = first.rename(columns={"period": "first"}).merge(open_periods, on="location_id")
    grid = grid[grid["period"] >= grid["first"]].drop(columns="first")
    out = grid.merge(sold, on=["product_id", "location_id", "period"], how="left")
    out["units"] = out["units"].fillna(0.0)
    return out


def _with_promotions(
    store: Store,
    frame: pd.DataFrame,
    tz: dt.tzinfo,
    frequency: Frequency,
    anchor: int,
    by_location: bool,
) -> pd.DataFrame:
    promos = store.select_frame(
        select(
            _PROMOTIONS.c.product_id,
            _PROMOTIONS.c.location_id,
            _PROMOTIONS.c.kind,
            _PROMOTIONS.c.starts_at,
            _PROMOTIONS.c.ends_at,
        ),
        ["product_id", "location_id", "kind", "starts", "ends"],
    )
    for kind in PROMOTION_KINDS:
        frame[kind] = 0.0
    if promos.empty:
        return frame
    promos["first"] = local_days(promos["starts"], tz)
    promos["last"] = local_days(promos["ends"], tz)
    promos["product_id"] = promos["product_id"].astype(str)
    # A promotion covers a period when it overlaps any of the period's days.
    promos["first"] = _period_starts(promos["first"], frequency, anchor)
    promos["last"] = _period_starts(promos["last"], frequency, anchor)
    step = pd.Timedelta(days=1 if frequency == "day" else 7)
    spans = ((promos["last"] - promos["first"]) // step).astype("int64") + 1
    covered = promos.loc[promos.index.repeat(spans.clip(lower=1))].copy()
    offset = covered.groupby(level=0).cumcount().to_numpy()
    covered["period"] = covered["first"] + offset * step
    covered["location_id"] = covered["location_id"].astype(object)
    everywhere = covered["location_id"].isna() | (not by_location)
    keys = ["product_id", "period", "kind"]
    shop_wide = covered.loc[everywhere, keys].drop_duplicates()
    local = covered.loc[~everywhere, [*keys, "location_id"]].drop_duplicates()
    local["location_id"] = local["location_id"].astype(str)
    for kind in PROMOTION_KINDS:
        wide = shop_wide.loc[shop_wide["kind"] == kind, ["product_id", "period"]]
        hit = frame[["product_id", "period"]].merge(wide.assign(on=1.0), how="left")["on"]
        here = local.loc[local["kind"] == kind, ["product_id", "period", "location_id"]]
        hit_here = frame[["product_id", "period", "location_id"]].merge(
            here.assign(on=1.0), how="left"
        )["on"]
        frame[kind] = np.maximum(hit.fillna(0.0).to_numpy(), hit_here.fillna(0.0).to_numpy())
    return frame


def fill_prices(frame: pd.DataFrame) -> pd.Series:
    """Each series' price, the last known one carried forward (then the first one back)."""
    by = frame.groupby("series", sort=False)["price"]
    return by.ffill().fillna(by.bfill())


def future_frame(store: Store, demand: Demand, horizon: int) -> pd.DataFrame:
    """The rows to forecast: each series' next ``horizon`` periods with their known inputs.

    Columns: ``series``, ``product_id``, ``location_id``, ``step`` (1..horizon),
    ``period``, ``price`` (the series' last price, carried forward) and the
    promotion flags of the promotions the store has scheduled for those periods.
    """
    if horizon < 1:
        raise ConfigError(f"the horizon must be 1 or more periods, got {horizon}")
    frame = demand.frame.assign(price=fill_prices(demand.frame))
    last = frame.groupby("series", sort=False).tail(1)
    step = pd.Timedelta(days=1 if demand.frequency == "day" else 7)
    rows = last.loc[last.index.repeat(horizon), ["series", "product_id", "location_id"]].copy()
    rows["step"] = np.tile(np.arange(1, horizon + 1), len(last))
    rows["period"] = np.repeat(last["period"].to_numpy(), horizon) + rows["step"].to_numpy() * step
    rows["price"] = np.repeat(last["price"].to_numpy(), horizon)
    anchor = int(pd.Timestamp(frame["period"].iloc[0]).day_of_week)
    tz = parse_timezone(demand.timezone)
    rows = _with_promotions(
        store, rows.reset_index(drop=True), tz, demand.frequency, anchor, demand.by_location
    )
    return rows
