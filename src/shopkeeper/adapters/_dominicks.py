"""Dominick's orange juice (``dominicks_oj/``) to contract tables.

Source: the ``orangeJuice`` data of the R package bayesm (Dominick's Finer
Foods scanner data, Kilts Center, University of Chicago Booth).
``store_brand_week.csv`` holds one row per store, brand (1-11) and week
(40-160): logmove (log of units sold), constant, price1..price11 (every
brand's price that week in that store, dollars per ounce), deal (in-store
coupon, 0/1), feat (feature advertisement, a share 0-1) and profit (the
gross margin in percent). ``store_demographics.csv`` holds the stores'
neighbourhood demographics (STORE, AGE60, EDUC, ETHNIC, INCOME, ...).

Mapping
- ``locations``: one per store, location_id the store number, name
  "Dominick's store <n>", kind ``store``; the demographic columns are kept
  as extra columns with lower-case names (age60, educ, ...).
- ``products``: the 11 brands, product_id the brand number, titles from the
  bayesm documentation (1 Tropicana Premium 64 oz ... 11 Dominick's 128 oz),
  brand, category "Orange juice"; extra column ``size_oz``. No list price:
  prices vary by store and week and sit on the order lines.
- ``orders``: one aggregated point-of-sale order per store, brand and week,
  order_id ``"s<store>-b<brand>-w<week>"``, no customer, location_id the
  store, ordered_at the first day of the week. Extra column ``week``.
- ``order_lines``: one line per order. quantity = round(exp(logmove)), the
  units (cartons) sold; exp(logmove) is within 0.0003 of an integer for
  every row. unit_price = the brand's own price column for that store-week
  (``price<brand>``, dollars per ounce) times the carton size in ounces,
  i.e. dollars per carton, so that quantity x unit_price is the week's
  revenue (per-ounce 0.06046875 x 64 oz = 3.87). The source's per-ounce
  price is kept exactly as the extra column ``price_per_oz``, with
  ``logmove`` and ``profit`` as they are. The other brands' prices that
  store-week (price1..price11) are not repeated: every store-week carries
  all 11 brands, so they are the ``price_per_oz`` of the sibling lines.
- ``promotions``: per store, brand and week, a ``discount`` promotion where
  deal is 1 (the size of the deal is unknown, so ``discount`` is empty) and
  a ``feature`` promotion where feat is above 0, with the feat value kept as
  the extra column ``share``; starts_at the week's first day, ends_at its
  last day (inclusive), location_id the store. Extra column ``week``.

Calendar
- Dominick's weeks run Thursday to Wednesday; week 1 is 1989-09-14 to
  1989-09-20 (the Kilts Center's week table), so week w starts on
  1989-09-14 + 7 (w - 1) days: week 40 is 1990-06-14, week 160 is
  1992-10-01. Dates are calendar dates without a time or time zone.
"""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np
import pandas as pd

from shopkeeper.adapters._common import (
    check_unique,
    empty_ids,
    expect_columns,
    frame,
    read_csv,
    sibling_file,
    source_file,
)
from shopkeeper.errors import SourceError

logger = logging.getLogger(__name__)

FILE = "store_brand_week.csv"
DEMOGRAPHICS_FILE = "store_demographics.csv"
WEEK_ONE = pd.Timestamp("1989-09-14")
BRANDS = 11
# brand number -> (title, brand, size in ounces), from the bayesm documentation.
BRAND_TABLE: dict[int, tuple[str, str, int]] = {
    1: ("Tropicana Premium 64 oz", "Tropicana", 64),
    2: ("Tropicana Premium 96 oz", "Tropicana", 96),
    3: ("Florida's Natural 64 oz", "Florida's Natural", 64),
    4: ("Tropicana 64 oz", "Tropicana", 64),
    5: ("Minute Maid 64 oz", "Minute Maid", 64),
    6: ("Minute Maid 96 oz", "Minute Maid", 96),
    7: ("Citrus Hill 64 oz", "Citrus Hill", 64),
    8: ("Tree Fresh 64 oz", "Tree Fresh", 64),
    9: ("Florida Gold 64 oz", "Florida Gold", 64),
    10: ("Dominick's 64 oz", "Dominick's", 64),
    11: ("Dominick's 128 oz", "Dominick's", 128),
}
CATEGORY = "Orange juice"
PRICE_COLUMNS = tuple(f"price{b}" for b in range(1, BRANDS + 1))
COLUMNS = ("store", "brand", "week", "logmove", *PRICE_COLUMNS, "deal", "feat", "profit")


def week_start(week: pd.Series) -> pd.Series:
    """The first day (a Thursday) of each Dominick's week number."""
    return WEEK_ONE + pd.to_timedelta((week.astype("int64") - 1) * 7, unit="D")


def _read(path: Path, demographics_path: Path) -> tuple[pd.DataFrame, pd.DataFrame]:
    sbw = read_csv(path)
    expect_columns(sbw, path, COLUMNS)
    if sbw[list(COLUMNS)].isna().any().any():
        raise SourceError(str(path), "has empty values")
    if not sbw["brand"].between(1, BRANDS).all():
        raise SourceError(str(path), f"has a brand outside 1..{BRANDS}")
    demo = read_csv(demographics_path)
    demo.columns = [c.lower() for c in demo.columns]
    expect_columns(demo, demographics_path, ("store",))
    unknown = sorted(set(sbw["store"]) - set(demo["store"]))
    if unknown:
        logger.warning("dominicks: %d stores lack demographics: %s", len(unknown), unknown)
    return sbw, demo


def convert_dominicks(source: Path) -> dict[str, pd.DataFrame]:
    """Convert the Dominick's orange-juice data at ``source`` (folder or file)."""
    path = source_file(source, FILE)
    sbw, demo = _read(path, sibling_file(path, DEMOGRAPHICS_FILE))
    sbw = sbw.sort_values(["store", "week", "brand"], kind="stable").reset_index(drop=True)

    store = sbw["store"].astype("int64")
    brand = sbw["brand"].astype("int64")
    week = sbw["week"].astype("int64")
    order_id = "s" + store.astype("str") + "-b" + brand.astype("str") + "-w" + week.astype("str")
    starts = week_start(week)
    prices = sbw[list(PRICE_COLUMNS)].to_numpy(dtype="float64")
    per_oz = pd.Series(prices[np.arange(len(sbw)), brand.to_numpy() - 1])
    size = brand.map({b: v[2] for b, v in BRAND_TABLE.items()}).astype("int64")
    quantity = np.exp(sbw["logmove"].astype("float64")).round().astype("int64")
    if (quantity < 1).any():
        raise SourceError(str(path), "has a logmove that rounds to no units sold")

    stores = pd.DataFrame({"store": np.sort(store.unique())}).merge(demo, on="store", how="left")
    extra_store = {c: stores[c] for c in stores.columns if c != "store"}
    brands = sorted(BRAND_TABLE)

    deal = sbw["deal"] > 0
    feat = sbw["feat"] > 0
    promo = pd.concat(
        [
            pd.DataFrame({"i": np.flatnonzero(deal), "kind": "discount", "share": np.nan}),
            pd.DataFrame(
                {
                    "i": np.flatnonzero(feat),
                    "kind": "feature",
                    "share": sbw["feat"].to_numpy()[feat.to_numpy()],
                }
            ),
        ],
        ignore_index=True,
    ).sort_values(["i", "kind"], kind="stable")
    at = promo["i"].to_numpy()

    tables = {
        "products": frame(
            "products",
            {
                "product_id": brands,
                "title": [BRAND_TABLE[b][0] for b in brands],
                "category": [CATEGORY] * len(brands),
                "brand": [BRAND_TABLE[b][1] for b in brands],
                "size_oz": pd.Series([BRAND_TABLE[b][2] for b in brands], dtype="int64"),
            },
        ),
        "locations": frame(
            "locations",
            {
                "location_id": stores["store"],
                "name": "Dominick's store " + stores["store"].astype("str"),
                "kind": pd.Series("store", index=stores.index, dtype="str"),
                **extra_store,
            },
        ),
        "orders": frame(
            "orders",
            {
                "order_id": order_id,
                "customer_id": empty_ids(len(sbw)),
                "ordered_at": starts,
                "location_id": store,
                "week": week,
            },
        ),
        "order_lines": frame(
            "order_lines",
            {
                "order_id": order_id,
                "product_id": brand,
                "quantity": quantity,
                "unit_price": per_oz * size,
                "price_per_oz": per_oz,
                "logmove": sbw["logmove"].astype("float64"),
                "profit": sbw["profit"].astype("float64"),
            },
        ),
        "promotions": frame(
            "promotions",
            {
                "product_id": brand.to_numpy()[at],
                "starts_at": starts.to_numpy()[at],
                "ends_at": (starts + pd.Timedelta(days=6)).to_numpy()[at],
                "kind": promo["kind"].to_numpy(),
                "location_id": store.to_numpy()[at],
                "discount": np.full(len(promo), np.nan),
                "week": week.to_numpy()[at],
                "share": promo["share"].to_numpy(),
            },
        ),
    }
    for name, df in tables.items():
        check_unique(df, name)
    return tables
