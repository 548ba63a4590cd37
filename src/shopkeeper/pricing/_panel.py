"""The demand panel: units and the price paid per product, location and period.

Built on the forecasting package's demand (:func:`shopkeeper.forecast._data.load_demand`:
units per product and location per period, zeros where a location sold
something else, the promotion flags), with what pricing needs on top:

- **price**: the price paid, ``(sum of quantity x unit_price - line discounts) /
  units`` over the period's lines; where a product sold nothing, its last
  paid price at that location is carried forward (then the first one back).
  For Dominick's the contract's unit price is dollars per carton, the raw
  file's ``price<brand>`` dollars per ounce times the carton size: the two
  logs differ by a constant per brand, which the fixed effects absorb, so
  elasticities are the same.
- **prices**: every product's price in each location-period (wide, one
  column per product), for the cross-price terms;
- **locations**: the ``locations`` table with its extra columns (store
  demographics, where a shop sent them) expanded;
- **products**: ``product_id``, ``title``, ``category``, ``price`` (the list
  price now) and ``cost``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from sqlalchemy import func, select

from shopkeeper.errors import ConfigError
from shopkeeper.forecast._data import (
    ONLINE,
    PROMOTION_KINDS,
    _period_starts,
    load_demand,
)
from shopkeeper.store import METADATA, Store
from shopkeeper.timezone import local_days, parse_timezone

_ORDERS = METADATA.tables["orders"]
_LINES = METADATA.tables["order_lines"]
KEYS = ["product_id", "location_id", "period"]


@dataclass
class DemandPanel:
    """Units and prices per product, location and period (see the module doc).

    ``frame`` columns: ``product_id``, ``location_id``, ``period``, ``units``,
    ``price`` (paid, carried over periods without sales), ``sold`` (whether
    the price was observed that period) and one 0/1 column per promotion kind.
    """

    frame: pd.DataFrame
    prices: pd.DataFrame  # index (location_id, period), one column per product
    locations: pd.DataFrame
    products: pd.DataFrame
    frequency: str
    timezone: str

    @property
    def product_ids(self) -> list[str]:
        return sorted(pd.unique(self.frame["product_id"]).tolist())

    def demographics(self, columns: list[str] | None = None) -> pd.DataFrame:
        """Numeric location attributes (index ``location_id``), e.g. store demographics."""
        table = self.locations.set_index("location_id")
        numeric = table.apply(pd.to_numeric, errors="coerce")
        found = [c for c in numeric.columns if numeric[c].notna().any()]
        wanted = columns if columns is not None else found
        missing = [c for c in wanted if c not in found]
        if missing:
            raise ConfigError(
                f"location attributes {missing} are not numeric columns of the locations "
                f"table; numeric ones: {found or 'none'}"
            )
        return numeric[wanted].astype("float64")

    def top_categories(self) -> pd.Series:
        """Each product's top category (the part of ``category`` before the first ``>``)."""
        cat = self.products.set_index("product_id")["category"].fillna("").astype(str)
        return cat.str.split(">").str[0].str.strip()


def from_frame(
    frame: pd.DataFrame,
    *,
    locations: pd.DataFrame | None = None,
    products: pd.DataFrame | None = None,
    frequency: str = "week",
) -> DemandPanel:
    """A panel from a ready table with ``product_id, location_id, period, units, price``.

    Promotion columns (``discount``, ``feature``, ``display``) are 0 when absent.
    For tests, benchmarks, and data that does not come through a store.
    """
    missing = [c for c in [*KEYS, "units", "price"] if c not in frame]
    if missing:
        raise ConfigError(f"a demand panel needs the columns {missing}")
    out = frame.copy()
    out["product_id"] = out["product_id"].astype(str)
    out["location_id"] = out["location_id"].astype(str)
    for kind in PROMOTION_KINDS:
        if kind not in out:
            out[kind] = 0.0
    if "sold" not in out:
        out["sold"] = out["units"] > 0
    ids = sorted(pd.unique(out["product_id"]))
    if products is None:
        products = pd.DataFrame(
            {"product_id": ids, "title": ids, "category": "", "price": np.nan, "cost": np.nan}
        )
    if locations is None:
        locations = pd.DataFrame({"location_id": sorted(pd.unique(out["location_id"]))})
    out = out.sort_values(KEYS, kind="stable").reset_index(drop=True)
    return DemandPanel(
        frame=out,
        prices=_wide_prices(out),
        locations=locations.assign(location_id=locations["location_id"].astype(str)),
        products=products.assign(product_id=products["product_id"].astype(str)),
        frequency=frequency,
        timezone="UTC",
    )


def demand_panel(
    store: Store,
    *,
    frequency: str | None = None,
    by_location: bool | None = None,
    timezone: str | None = None,
) -> DemandPanel:
    """The demand panel of ``store`` (see the module doc).

    ``frequency`` (``day`` or ``week``) and ``by_location`` default to the
    forecasting package's choice: the data's natural frequency, and one
    series per location when more than one location sold anything.
    """
    demand = load_demand(
        store,
        frequency=frequency,  # type: ignore[arg-type]
        by_location=by_location,
        timezone=timezone,
    )
    frame = demand.frame.drop(columns=["series", "price"])
    paid = _paid_prices(store, demand.frame, demand.frequency, demand.by_location, demand.timezone)
    frame = frame.merge(paid, on=KEYS, how="left")
    frame["sold"] = frame["price"].notna()
    # A period without sales keeps the last price paid at that location.
    by = frame.groupby(["product_id", "location_id"], sort=False)["price"]
    frame["price"] = by.ffill().fillna(by.bfill())
    frame = frame.sort_values(KEYS, kind="stable").reset_index(drop=True)
    return DemandPanel(
        frame=frame,
        prices=_wide_prices(frame),
        locations=_locations(store),
        products=_products(store),
        frequency=demand.frequency,
        timezone=demand.timezone,
    )


def _paid_prices(
    store: Store, demand: pd.DataFrame, frequency: str, by_location: bool, zone: str
) -> pd.DataFrame:
    """The mean price paid per product, location and period, net of line discounts."""
    lines = store.select_frame(
        select(
            _LINES.c.product_id,
            _ORDERS.c.location_id,
            _ORDERS.c.ordered_at,
            _LINES.c.quantity,
            _LINES.c.unit_price,
            _LINES.c.discount,
        )
        .join(_ORDERS, _ORDERS.c.order_id == _LINES.c.order_id)
        .where(func.coalesce(_ORDERS.c.status, "") != "cancelled")
        .where(_LINES.c.unit_price.is_not(None)),
        ["product_id", "location_id", "at", "units", "unit_price", "discount"],
    )
    if lines.empty:
        raise ConfigError("the store's order lines carry no unit prices: there is nothing to price")
    lines["day"] = local_days(lines["at"], parse_timezone(zone))
    lines["product_id"] = lines["product_id"].astype(str)
    lines["location_id"] = lines["location_id"].fillna(ONLINE).astype(str)
    if not by_location:
        lines["location_id"] = ONLINE
    units = pd.to_numeric(lines["units"]).astype("float64")
    gross = units * pd.to_numeric(lines["unit_price"]).astype("float64")
    lines["net"] = gross - pd.to_numeric(lines["discount"]).astype("float64").fillna(0.0)
    lines["units"] = units
    # The same period starts as the demand: its weekday when weekly.
    anchor = int(pd.Timestamp(demand["period"].iloc[0]).day_of_week) if frequency == "week" else 0
    lines["period"] = _period_starts(lines["day"], frequency, anchor)  # type: ignore[arg-type]
    sums = lines.groupby(KEYS, as_index=False).agg(units=("units", "sum"), net=("net", "sum"))
    sums = sums[sums["units"] > 0]
    sums["price"] = sums["net"] / sums["units"]
    return sums[[*KEYS, "price"]]


def _wide_prices(frame: pd.DataFrame) -> pd.DataFrame:
    return frame.pivot_table(
        index=["location_id", "period"], columns="product_id", values="price", aggfunc="first"
    )


def _locations(store: Store) -> pd.DataFrame:
    table = store.read("locations", extra=True)
    table["location_id"] = table["location_id"].astype(str)
    return table


def _products(store: Store) -> pd.DataFrame:
    table = store.read("products", ["product_id", "title", "category", "price", "cost"])
    table["product_id"] = table["product_id"].astype(str)
    for col in ("price", "cost"):
        table[col] = pd.to_numeric(table[col], errors="coerce").astype("float64")
    return table
