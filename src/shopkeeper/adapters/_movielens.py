"""MovieLens 100K (``movielens_100k/ml-100k.{inter,item,user}``) to contract tables.

Source: GroupLens' MovieLens 100K ratings in the atomic-file layout of the
PyPI package recbole: tab-separated, headers of the form ``name:type``.
``ml-100k.inter`` holds user_id, item_id, rating (1-5) and a Unix timestamp
per rating (100,000 rows); ``ml-100k.item`` item_id, movie_title,
release_year and class (genres separated by spaces); ``ml-100k.user``
user_id, age, gender, occupation, zip_code.

Mapping
- ``products``: one per movie, product_id the item id, title the movie
  title (recbole's copy has the year removed from it); no price. Extra
  columns ``release_year`` (text, as in the source) and ``genres`` (the
  genre words joined by "|").
- ``customers``: one per user, customer_id the user id, gender as recorded
  (M/F). Extra columns ``age`` (age when rating, in years) and
  ``occupation``. The zip code is left out: it identifies people when
  combined with age and gender, and the contract has no personal-data
  column for it.
- ``events``: one per rating, event ``view`` (a rating means the user has
  seen the film; the contract has no "rate" event), at = the Unix timestamp
  as a UTC date-time, event_id ``"<user>-<item>"`` (a user rates a movie at
  most once). Extra column ``rating`` (integer 1-5).
"""

from __future__ import annotations

import csv
import logging
from pathlib import Path

import pandas as pd

from shopkeeper.adapters._common import (
    check_unique,
    expect_columns,
    frame,
    read_csv,
    sibling_file,
    source_file,
)
from shopkeeper.errors import SourceError

logger = logging.getLogger(__name__)

FILE = "ml-100k.inter"
ITEM_FILE = "ml-100k.item"
USER_FILE = "ml-100k.user"


def _blank_to_na(values: pd.Series) -> pd.Series:
    """Empty text as missing."""
    return values.where(values != "")


def _atomic(path: Path, columns: tuple[str, ...]) -> pd.DataFrame:
    """A recbole atomic file with its ``name:type`` headers cut to ``name``."""
    df = read_csv(path, sep="\t", dtype="str", keep_default_na=False, quoting=csv.QUOTE_NONE)
    df.columns = [c.split(":", 1)[0] for c in df.columns]
    expect_columns(df, path, columns)
    return df


def convert_movielens(source: Path) -> dict[str, pd.DataFrame]:
    """Convert MovieLens 100K at ``source`` (folder or ``ml-100k.inter``); see the module doc."""
    path = source_file(source, FILE)
    inter = _atomic(path, ("user_id", "item_id", "rating", "timestamp"))
    items = _atomic(sibling_file(path, ITEM_FILE), ("item_id", "movie_title"))
    users = _atomic(sibling_file(path, USER_FILE), ("user_id",))
    try:
        rating = pd.to_numeric(inter["rating"]).round().astype("int64")
        seconds = pd.to_numeric(inter["timestamp"]).astype("int64")
    except (ValueError, TypeError) as exc:
        raise SourceError(
            str(path), f"has a rating or timestamp that is not a number ({exc})"
        ) from None
    inter = inter.assign(rating=rating, seconds=seconds)
    inter = inter.sort_values(["seconds", "user_id", "item_id"], kind="stable")

    items = items.sort_values("item_id", key=lambda s: pd.to_numeric(s, errors="coerce"))
    users = users.sort_values("user_id", key=lambda s: pd.to_numeric(s, errors="coerce"))
    unknown_items = set(inter["item_id"]) - set(items["item_id"])
    unknown_users = set(inter["user_id"]) - set(users["user_id"])
    if unknown_items or unknown_users:
        raise SourceError(
            str(path),
            f"rates {len(unknown_items)} items and {len(unknown_users)} users "
            "missing from the item and user files",
        )

    product_cols: dict[str, object] = {
        "product_id": items["item_id"],
        "title": items["movie_title"],
    }
    if "release_year" in items:
        product_cols["release_year"] = _blank_to_na(items["release_year"])
    if "class" in items:
        genres = items["class"].str.split().str.join("|").astype("str")
        product_cols["genres"] = _blank_to_na(genres)
    customer_cols: dict[str, object] = {"customer_id": users["user_id"]}
    if "gender" in users:
        customer_cols["gender"] = _blank_to_na(users["gender"])
    if "age" in users:
        customer_cols["age"] = pd.to_numeric(users["age"], errors="coerce").astype("Int64")
    if "occupation" in users:
        customer_cols["occupation"] = _blank_to_na(users["occupation"])

    tables = {
        "products": frame("products", product_cols),
        "customers": frame("customers", customer_cols),
        "events": frame(
            "events",
            {
                "event_id": inter["user_id"] + "-" + inter["item_id"],
                "at": pd.to_datetime(inter["seconds"], unit="s", utc=True),
                "event": pd.Series("view", index=inter.index, dtype="str"),
                "customer_id": inter["user_id"],
                "product_id": inter["item_id"],
                "rating": inter["rating"],
            },
        ),
    }
    for name, df in tables.items():
        check_unique(df, name)
    return tables
