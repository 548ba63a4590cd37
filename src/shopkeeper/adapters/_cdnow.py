"""CDNOW transactions (``cdnow/CDNOW_master.txt`` and ``CDNOW_sample.txt``) to contract tables.

Source: the CDNOW music store's purchases by the cohort of customers who
first bought in the first quarter of 1997, followed to June 1998 (bundled in
the PyPI package lifetimes). Whitespace-separated, one row per purchase:

- ``CDNOW_master.txt``: a header row (customer_id, date, number_of_cds,
  dollar_value) then 69,659 rows for 23,570 customers;
- ``CDNOW_sample.txt``: no header, five columns: customer id (the master's
  id), the customer's number within the 1/10 sample, date, number of CDs,
  dollar value; 6,919 rows for 2,357 customers.

The reader accepts either layout (four or five columns, header or not).

Mapping
- ``customers``: one row per customer id, kept as text with its leading
  zeros ("00001"). The sample's second id becomes the extra column
  ``sample_id`` (also text with its zeros).
- ``products``: a single product ``cd``, "CD (any title)": the data records
  how many CDs were bought, not which.
- ``orders``: one order per source row; ``order_id`` is
  ``"<customer>-<YYYYMMDD>-<n>"`` where n counts the customer's rows of that
  date in file order (1, 2, ...), so several purchases by one customer on
  one day stay separate orders: 2,068 master rows are a customer's second or
  later row of a date, and 255 rows repeat an earlier row exactly; they are
  kept, as the source lists them as separate purchases. ``ordered_at`` is
  the calendar date (no time of day in the source).
- ``order_lines``: one line per order, product ``cd``, quantity = number of
  CDs, unit_price = dollar value / number of CDs (an average over the CDs of
  that purchase, not a list price). The exact dollar value is kept as the
  extra column ``dollar_value``; 80 master rows have a dollar value of 0 and
  keep a unit price of 0.

Rows with zero (or negative) CDs cannot be contract lines, whose quantity
must be a positive integer: they are dropped, with their orders, and counted
in a warning. The master and sample files have none. Numbering of the order
ids is done before dropping, so ids never depend on that rule.
"""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np
import pandas as pd

from shopkeeper.adapters._common import check_unique, frame, read_csv, source_file
from shopkeeper.errors import SourceError

logger = logging.getLogger(__name__)

MASTER_FILE = "CDNOW_master.txt"
SAMPLE_FILE = "CDNOW_sample.txt"
PRODUCT_ID = "cd"
PRODUCT_TITLE = "CD (any title)"
_LAYOUTS = {
    4: ("customer_id", "date", "number_of_cds", "dollar_value"),
    5: ("customer_id", "sample_id", "date", "number_of_cds", "dollar_value"),
}


def _read(path: Path) -> pd.DataFrame:
    raw = read_csv(path, sep=r"\s+", header=None, dtype="str")
    names = _LAYOUTS.get(raw.shape[1])
    if names is None:
        raise SourceError(
            str(path), f"has {raw.shape[1]} columns; CDNOW files have 4 (master) or 5 (sample)"
        )
    raw.columns = list(names)
    if not raw.iloc[0]["date"].isdigit():  # a header row
        raw = raw.iloc[1:].reset_index(drop=True)
    if raw.isna().any().any():
        line = int(raw.isna().any(axis=1).to_numpy().argmax())
        raise SourceError(str(path), "has a row with missing fields", line=line + 1)
    try:
        raw["date"] = pd.to_datetime(raw["date"], format="%Y%m%d")
        raw["number_of_cds"] = pd.to_numeric(raw["number_of_cds"]).astype("int64")
        raw["dollar_value"] = pd.to_numeric(raw["dollar_value"]).astype("float64")
    except (ValueError, TypeError) as exc:
        raise SourceError(str(path), f"has a value that is not a date or number ({exc})") from None
    if (raw["dollar_value"] < 0).any():
        raise SourceError(str(path), "has a negative dollar value")
    return raw


def convert_cdnow(source: Path, *, file: str = MASTER_FILE) -> dict[str, pd.DataFrame]:
    """Convert CDNOW purchases at ``source`` (folder or file); see the module doc."""
    path = source_file(source, file)
    raw = _read(path)
    seq = raw.groupby(["customer_id", "date"], sort=False).cumcount() + 1
    raw["order_id"] = (
        raw["customer_id"] + "-" + raw["date"].dt.strftime("%Y%m%d") + "-" + seq.astype("str")
    )
    keep = raw["number_of_cds"] > 0
    dropped = int((~keep).sum())
    if dropped:
        logger.warning("cdnow: dropped %d rows with no CDs (quantity must be positive)", dropped)
    rows = raw[keep].reset_index(drop=True)

    customer_cols = ["customer_id"] + (["sample_id"] if "sample_id" in raw.columns else [])
    customers = raw[customer_cols].drop_duplicates("customer_id").sort_values("customer_id")
    if "sample_id" in customers and raw.groupby("customer_id")["sample_id"].nunique().gt(1).any():
        raise SourceError(str(path), "gives one customer two different sample ids")

    quantity = rows["number_of_cds"]
    tables = {
        "products": frame("products", {"product_id": [PRODUCT_ID], "title": [PRODUCT_TITLE]}),
        "customers": frame("customers", {c: customers[c] for c in customer_cols}),
        "orders": frame(
            "orders",
            {
                "order_id": rows["order_id"],
                "customer_id": rows["customer_id"],
                "ordered_at": rows["date"],
            },
        ),
        "order_lines": frame(
            "order_lines",
            {
                "order_id": rows["order_id"],
                "product_id": np.full(len(rows), PRODUCT_ID, dtype=object),
                "quantity": quantity,
                "unit_price": rows["dollar_value"] / quantity,
                "dollar_value": rows["dollar_value"],
            },
        ),
    }
    for name, df in tables.items():
        check_unique(df, name)
    return tables


def convert_cdnow_sample(source: Path) -> dict[str, pd.DataFrame]:
    """Convert the CDNOW 1/10 sample (``CDNOW_sample.txt``); see the module doc."""
    return convert_cdnow(source, file=SAMPLE_FILE)
