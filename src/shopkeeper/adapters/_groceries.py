"""Groceries baskets (``groceries/groceries.csv``) to contract tables.

Source: the Groceries data of the R package arules (Hahsler et al.): 30 days
of point-of-sale baskets from one grocery outlet, 9,835 baskets over 169
item kinds. One basket per line, item names separated by commas and padded
with empty fields to a common width; no header, no basket ids, no
customers, no dates, no prices, no quantities.

Mapping
- ``products``: one per distinct item name; product_id is a slug of the
  name (lower case, runs of other characters than a-z and 0-9 turned into
  one '-': "fruit/vegetable juice" -> "fruit-vegetable-juice"), title the
  name as written, no category (the names are the categories) and no price.
  Two names giving the same slug would be an error (none do).
- ``orders``: one per non-empty line, order_id ``"basket-<line>"`` with the
  1-based line number padded to five digits ("basket-00001"); no customer
  (point-of-sale baskets are anonymous).
- ``order_lines``: one line per item of a basket, quantity 1 (the source
  records presence, not counts), no unit price. Extra column ``position``:
  the item's 1-based place on its line. An item written twice on one line
  would be merged into one line with quantity 2 (none are).

Approximation
- The source has no dates. Every basket is stamped with one placeholder
  date, **2000-01-01** (``date=`` changes it), and no spread over the real
  30 days is invented: do not use these dates for anything time-based.
"""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np
import pandas as pd

from shopkeeper.adapters._common import (
    check_unique,
    empty_ids,
    frame,
    read_text,
    slug,
    source_file,
)
from shopkeeper.errors import ConfigError, SourceError

logger = logging.getLogger(__name__)

FILE = "groceries.csv"
DATE = "2000-01-01"


def convert_groceries(source: Path, *, date: str = DATE) -> dict[str, pd.DataFrame]:
    """Convert the Groceries baskets at ``source`` (folder or file); see the module doc."""
    try:
        stamp = pd.Timestamp(date)
    except ValueError:
        raise ConfigError(f"groceries: date {date!r} is not an ISO 8601 date") from None
    path = source_file(source, FILE)
    text = read_text(path)
    if '"' in text:
        raise SourceError(str(path), "has quoted fields; expected plain comma-separated names")
    lines = pd.Series(text.splitlines(), dtype="str")
    lines.index = pd.RangeIndex(1, len(lines) + 1, name="line")
    cells = lines.str.split(",").explode().str.strip()
    items = cells.to_frame("title").reset_index()
    items["position"] = items.groupby("line").cumcount() + 1
    items = items[items["title"].fillna("") != ""]
    empty = len(lines) - items["line"].nunique()
    if empty:
        logger.warning("groceries: skipped %d empty lines", empty)

    names = pd.Series(items["title"].unique(), dtype="str")
    ids = slug(names)
    by_id = ids.argsort(kind="stable").to_numpy()
    names, ids = names.iloc[by_id].reset_index(drop=True), ids.iloc[by_id].reset_index(drop=True)
    if ids.duplicated().any() or (ids == "").any():
        clash = names[ids.duplicated(keep=False) | (ids == "")].tolist()
        raise SourceError(str(path), f"has item names whose ids clash or are empty: {clash}")
    product_of = dict(zip(names, ids, strict=True))

    width = max(5, len(str(len(lines))))
    items["order_id"] = "basket-" + items["line"].astype("str").str.zfill(width)
    items["product_id"] = items["title"].map(product_of)
    lines_df = items.groupby(["order_id", "product_id"], sort=False, as_index=False).agg(
        quantity=("position", "size"), position=("position", "min")
    )
    repeated = int((lines_df["quantity"] > 1).sum())
    if repeated:
        logger.warning("groceries: merged %d items written twice in one basket", repeated)
    order_ids = lines_df["order_id"].drop_duplicates()

    tables = {
        "products": frame("products", {"product_id": ids, "title": names}),
        "orders": frame(
            "orders",
            {
                "order_id": order_ids,
                "customer_id": empty_ids(len(order_ids)),
                "ordered_at": pd.Series(stamp, index=pd.RangeIndex(len(order_ids))),
            },
        ),
        "order_lines": frame(
            "order_lines",
            {
                "order_id": lines_df["order_id"],
                "product_id": lines_df["product_id"],
                "quantity": lines_df["quantity"].astype("int64"),
                "unit_price": np.full(len(lines_df), np.nan),
                "position": lines_df["position"].astype("int64"),
            },
        ),
    }
    for name, df in tables.items():
        check_unique(df, name)
    return tables
