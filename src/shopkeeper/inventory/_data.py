"""What a stock policy reads: the ``inventory`` rows, their costs, and daily demand for each.

:class:`Stock` holds one row per ``inventory`` row (a product at a location,
or a product shop-wide when ``location_id`` is empty) and the units demanded
from it on every local day of the data (the shop's time zone, as
:func:`shopkeeper.forecast.load_demand` counts them).

Demand is matched to inventory rows by these rules, in order:

1. sales of a product at a location go to that product's row at that
   location;
2. otherwise to the product's row without a location (a shop-wide stock);
3. otherwise, when the product has rows at other locations only (a shop
   that stocks named warehouses but whose orders name none), shared equally
   among them;
4. a product with no inventory row gets no plan (``info`` warns of those).

Weekly data (point-of-sale totals, such as Dominick's) is spread evenly over
the seven days of each week, so that lead times stay in days.

Missing cost columns take documented defaults (:class:`CostDefaults`); the
``defaulted`` column of :attr:`Stock.items` names the ones that did, so a
plan can say which figures rest on a guess.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from sqlalchemy import select

from shopkeeper.errors import ConfigError
from shopkeeper.forecast import Demand, load_demand
from shopkeeper.store import METADATA, TIMEZONE_META, Store

_INVENTORY = METADATA.tables["inventory"]
_PRODUCTS = METADATA.tables["products"]

#: The columns a policy cannot do without (the contract requires them too).
REQUIRED = ("product_id", "on_hand", "lead_time_days")
OPTIONAL = (
    "location_id",
    "on_order",
    "unit_cost",
    "order_cost",
    "holding_cost_rate",
    "service_level",
)


@dataclass(frozen=True)
class CostDefaults:
    """What a missing cost column means.

    ``order_cost``: the fixed cost of one purchase order (the contract's
    example, 50); ``holding_cost_rate``: 25% of the unit cost a year, the
    usual rule of thumb for capital, space and shrinkage; ``cost_share``: a
    product without a unit cost (neither in ``inventory`` nor ``products.cost``)
    is valued at this share of its list price; one without a price at 1.0.
    """

    order_cost: float = 50.0
    holding_cost_rate: float = 0.25
    cost_share: float = 0.6


@dataclass
class Stock:
    """Inventory rows with their costs and their daily demand (see the module doc).

    ``items``: one row per inventory row, columns ``product_id``,
    ``location_id`` (``""`` for a shop-wide row), ``title``, ``on_hand``,
    ``on_order``, ``lead_time_days``, ``unit_cost``, ``order_cost``,
    ``holding_cost_rate``, ``service_level`` (NaN where the table has none)
    and ``defaulted`` (the columns that took a default, comma-separated).
    ``demand``: units per item (row) and day (column), shape
    ``(len(items), len(days))``; ``first``: per item, the index of its first
    day with a sale (``len(days)`` when it never sold); ``days``: the local
    days, consecutive.
    """

    items: pd.DataFrame
    demand: np.ndarray
    first: np.ndarray
    days: pd.DatetimeIndex
    timezone: str
    notes: list[str] = field(default_factory=list)

    def __len__(self) -> int:
        return len(self.items)

    @property
    def as_of(self) -> pd.Timestamp:
        """The first day the data does not cover: the day a plan is made for."""
        return pd.Timestamp(self.days[-1]) + pd.Timedelta(days=1)


def read_inventory(store: Store) -> pd.DataFrame:
    """The store's ``inventory`` table joined with the product's title, cost and price."""
    cols = [_INVENTORY.c[name] for name in (*REQUIRED[:1], *OPTIONAL[:1], *REQUIRED[1:])]
    cols += [_INVENTORY.c[name] for name in OPTIONAL[1:]]
    names = ["product_id", "location_id", "on_hand", "lead_time_days", *OPTIONAL[1:]]
    frame = store.select_frame(select(*cols), names)
    products = store.select_frame(
        select(_PRODUCTS.c.product_id, _PRODUCTS.c.title, _PRODUCTS.c.cost, _PRODUCTS.c.price),
        ["product_id", "title", "product_cost", "price"],
    )
    return frame.merge(products, on="product_id", how="left")


def check_inventory(frame: pd.DataFrame) -> pd.DataFrame:
    """``frame`` with its numbers as floats, refused when it cannot carry a policy.

    A clear :class:`ConfigError` names the table and what is wrong: no rows,
    a required column missing, or a value breaking the contract's rules (the
    store's rows have passed them at ingest; frames built in Python have not).
    """
    if frame.empty:
        raise ConfigError(
            "the inventory table is empty: a reorder plan needs a row per product (and "
            "location) with on_hand and lead_time_days; load inventory.csv first"
        )
    missing = [c for c in REQUIRED if c not in frame.columns]
    if missing:
        raise ConfigError(
            f"the inventory table lacks the required column(s) {', '.join(missing)} "
            f"(required: {', '.join(REQUIRED)})"
        )
    out = frame.copy()
    for name in ("on_hand", "lead_time_days", *OPTIONAL[1:]):
        if name not in out.columns:
            out[name] = np.nan
        out[name] = pd.to_numeric(out[name], errors="coerce").astype("float64")
    for name in ("on_hand", "lead_time_days"):
        if out[name].isna().any():
            row = int(np.flatnonzero(out[name].isna().to_numpy())[0]) + 1
            raise ConfigError(f"inventory row {row}: {name} is missing or not a number")
    for name in ("on_hand", "lead_time_days", "on_order", "unit_cost", "order_cost"):
        bad = out[name] < 0
        if bad.any():
            row = int(np.flatnonzero(bad.to_numpy())[0]) + 1
            value = out[name].iloc[row - 1]
            raise ConfigError(f"inventory row {row}: {name} {value:g} must be >= 0")
    level = out["service_level"]
    bad = level.notna() & ~((level > 0) & (level < 1))
    if bad.any():
        row = int(np.flatnonzero(bad.to_numpy())[0]) + 1
        raise ConfigError(
            f"inventory row {row}: service_level {level.iloc[row - 1]:g} must lie strictly "
            "between 0 and 1"
        )
    if "location_id" not in out.columns:
        out["location_id"] = ""
    out["location_id"] = out["location_id"].fillna("").astype(str)
    out["product_id"] = out["product_id"].astype(str)
    if out.duplicated(["product_id", "location_id"]).any():
        dup = out.loc[out.duplicated(["product_id", "location_id"]), "product_id"].iloc[0]
        raise ConfigError(f"inventory holds product {dup!r} twice at the same location")
    return out.reset_index(drop=True)


def _apply_costs(frame: pd.DataFrame, costs: CostDefaults) -> pd.DataFrame:
    out = frame.copy()
    defaulted: list[list[str]] = [[] for _ in range(len(out))]

    def fill(name: str, value: pd.Series | float) -> None:
        gap = out[name].isna().to_numpy()
        for i in np.flatnonzero(gap):
            defaulted[i].append(name)
        out[name] = out[name].fillna(value)

    out["on_order"] = out["on_order"].fillna(0.0)
    for name in ("product_cost", "price"):
        if name not in out.columns:
            out[name] = np.nan
        out[name] = pd.to_numeric(out[name], errors="coerce")
    fallback = out["product_cost"].fillna(out["price"] * costs.cost_share).fillna(1.0)
    # products.cost is the shop's own figure: not a guess, so not marked.
    out["unit_cost"] = out["unit_cost"].fillna(out["product_cost"])
    fill("unit_cost", fallback)
    fill("order_cost", costs.order_cost)
    fill("holding_cost_rate", costs.holding_cost_rate)
    out["defaulted"] = [",".join(d) for d in defaulted]
    if "title" not in out.columns:
        out["title"] = ""
    out["title"] = out["title"].fillna("").astype(str)
    keep = [
        "product_id",
        "location_id",
        "title",
        "on_hand",
        "on_order",
        "lead_time_days",
        "unit_cost",
        "order_cost",
        "holding_cost_rate",
        "service_level",
        "defaulted",
    ]
    return out[keep]


def daily_units(demand: Demand) -> pd.DataFrame:
    """``product_id``, ``location_id``, ``day``, ``units``: a weekly frame spread over its days."""
    frame = demand.frame[["product_id", "location_id", "period", "units"]]
    if demand.frequency == "day":
        return frame.rename(columns={"period": "day"})
    spread = frame.loc[frame.index.repeat(7)].copy()
    spread["day"] = spread["period"] + pd.to_timedelta(spread.groupby(level=0).cumcount(), "D")
    spread["units"] = spread["units"] / 7.0
    return spread.drop(columns="period").reset_index(drop=True)


def build_stock(
    inventory: pd.DataFrame,
    sold: pd.DataFrame,
    *,
    timezone: str = "UTC",
    costs: CostDefaults | None = None,
) -> Stock:
    """A :class:`Stock` from inventory rows and daily units (``product_id``, ``location_id``,
    ``day``, ``units``), matched by the rules of the module doc."""
    items = _apply_costs(check_inventory(inventory), costs or CostDefaults())
    if sold.empty:
        raise ConfigError("there are no sales to plan stock from (no order lines)")
    sold = sold.copy()
    sold["location_id"] = sold["location_id"].fillna("").astype(str)
    sold["product_id"] = sold["product_id"].astype(str)
    days = pd.date_range(sold["day"].min(), sold["day"].max(), freq="D")
    row_of = {
        (p, loc): i
        for i, (p, loc) in enumerate(zip(items["product_id"], items["location_id"], strict=True))
    }
    rows_of_product = items.groupby("product_id").indices
    # Rule 1 (same location), rule 2 (the shop-wide row), rule 3 (shared equally).
    pairs = sold[["product_id", "location_id"]].drop_duplicates()
    mapping: list[tuple[str, str, int, float]] = []
    unmatched = 0
    for p, loc in zip(pairs["product_id"], pairs["location_id"], strict=True):
        if (p, loc) in row_of:
            rows = [row_of[(p, loc)]]
        elif (p, "") in row_of:
            rows = [row_of[(p, "")]]
        elif p in rows_of_product:
            rows = list(rows_of_product[p])
            unmatched += 1
        else:
            continue
        mapping += [(p, loc, int(r), 1.0 / len(rows)) for r in rows]
    table = pd.DataFrame(mapping, columns=["product_id", "location_id", "row", "share"])
    hits = sold[sold["units"] != 0].merge(table, on=["product_id", "location_id"])
    row_index = hits["row"].to_numpy(dtype=np.int64)
    day_index = (hits["day"] - days[0]).dt.days.to_numpy()
    units = hits["units"].to_numpy(dtype=float) * hits["share"].to_numpy()
    matrix = np.zeros((len(items), len(days)))
    np.add.at(matrix, (row_index, day_index), units)
    sells = matrix > 0
    first = np.where(sells.any(axis=1), sells.argmax(axis=1), len(days))
    notes = []
    if unmatched:
        notes.append(
            f"{unmatched} product-location(s) sold where the product has no inventory row; "
            "their sales were shared equally among the product's other rows"
        )
    return Stock(items=items, demand=matrix, first=first, days=days, timezone=timezone, notes=notes)


def load_stock(
    store: Store, *, timezone: str | None = None, costs: CostDefaults | None = None
) -> Stock:
    """The store's inventory rows and their daily demand, in the shop's time zone."""
    inventory = read_inventory(store)
    check_inventory(inventory)  # the clear message before the demand is read
    named = bool((inventory["location_id"].fillna("") != "").any())
    zone = timezone or store.meta(TIMEZONE_META) or "UTC"
    demand = load_demand(store, by_location=named, timezone=zone)
    return build_stock(inventory, daily_units(demand), timezone=zone, costs=costs)
