"""Loading valid files: types, time zones, upserts, increments, extra columns."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from shopkeeper.contract import table
from shopkeeper.ingest import load_folder, load_frames
from shopkeeper.ingest._validate import _derived_key
from shopkeeper.store import Store
from tests.ingest.shop_files import ORDERS, write_shop

EVENTS = table("events")


def test_loads_every_table_with_contract_types(tmp_path: Path, store: Store) -> None:
    result = load_folder(write_shop(tmp_path / "shop"), store)

    assert {t.table: t.rows for t in result.tables} == {
        "products": 3,
        "customers": 2,
        "locations": 1,
        "orders": 3,
        "order_lines": 4,
        "events": 3,
    }
    orders = store.read("orders").set_index("order_id")
    # +08:00 is converted to UTC; a value without an offset is taken as UTC.
    assert orders.loc["O1", "ordered_at"] == pd.Timestamp("2024-11-10 16:03:12")
    assert orders.loc["O2", "ordered_at"] == pd.Timestamp("2024-11-12 10:00:00")
    assert orders.loc["O3", "ordered_at"] == pd.Timestamp("2024-11-13 08:30:00")
    assert pd.isna(orders.loc["O2", "customer_id"])
    customers = store.read("customers").set_index("customer_id")
    assert bool(customers.loc["C1", "consent_marketing"]) is True
    assert bool(customers.loc["C2", "consent_marketing"]) is False
    assert customers.loc["C1", "city"] == "上海"
    lines = store.read("order_lines")
    assert lines["quantity"].tolist() == [2, 1, 3, 1]
    assert lines["discount"].isna().tolist() == [False, True, True, False]


def test_unknown_columns_are_kept(tmp_path: Path, store: Store) -> None:
    result = load_folder(write_shop(tmp_path / "shop"), store)

    assert next(t for t in result.tables if t.table == "products").extra_columns == ["colour"]
    products = store.read("products", extra=True).set_index("product_id")
    assert products.loc["P1", "colour"] == "beige"
    assert products.loc["P3", "colour"] == "black"


def test_reloading_the_same_files_changes_nothing(tmp_path: Path, store: Store) -> None:
    folder = write_shop(tmp_path / "shop")
    load_folder(folder, store)
    first = store.checksums()
    counts = store.counts()

    load_folder(folder, store)

    assert store.counts() == counts
    assert store.checksums() == first


def test_new_orders_are_appended_and_changed_ones_replaced(tmp_path: Path, store: Store) -> None:
    load_folder(write_shop(tmp_path / "shop"), store)
    more = tmp_path / "more"
    more.mkdir()
    (more / "orders.csv").write_text(
        "order_id,customer_id,ordered_at,status\n"
        "O2,,2024-11-12T10:00:00Z,cancelled\n"
        "O4,C1,2024-12-01,paid\n",
        encoding="utf-8",
    )
    (more / "order_lines.csv").write_text(
        "order_id,product_id,quantity,unit_price\nO4,P1,5,35\n", encoding="utf-8"
    )

    load_folder(more, store)

    orders = store.read("orders").set_index("order_id")
    assert len(orders) == 4
    assert orders.loc["O2", "status"] == "cancelled"
    # Columns the second file did not have keep their stored values.
    assert orders.loc["O1", "location_id"] == "WH1"
    assert orders.loc["O2", "location_id"] == "WH1"
    assert store.count("order_lines") == 5


def test_events_get_a_stable_derived_key(tmp_path: Path, store: Store) -> None:
    folder = write_shop(tmp_path / "shop")
    load_folder(folder, store)
    ids = store.read("events")["event_id"].tolist()

    load_folder(folder, store)

    assert store.read("events")["event_id"].tolist() == ids
    assert all(len(i) == 16 for i in ids) and len(set(ids)) == 3


def test_derived_keys_are_pinned_and_differ_when_columns_are_missing() -> None:
    # Pinned values: the same rows must keep their keys across pandas versions
    # (pandas 2 hashed NUL placeholders as empty strings, so keys collided).
    frame = pd.DataFrame(
        {
            "at": pd.to_datetime(["2024-01-01T00:00:00Z"] * 2, utc=True),
            "event": ["view", "cart"],
            "customer_id": ["C1", None],
            "product_id": ["P1", "商品"],
        }
    )

    keys = _derived_key(frame, EVENTS.derived_from).tolist()

    assert keys == ["89a2bccd58073223", "60f07279701504d3"]


def test_identical_event_rows_are_kept_once(tmp_path: Path, store: Store) -> None:
    body = "at,event,session_id\n2024-01-01T00:00:00Z,view,s1\n2024-01-01T00:00:00Z,view,s1\n"
    folder = write_shop(tmp_path / "shop", events=body)

    result = load_folder(folder, store)

    assert next(t for t in result.tables if t.table == "events").duplicates_dropped == 1
    assert store.count("events") == 1


def test_csv_with_byte_order_mark_and_quoted_newlines(tmp_path: Path, store: Store) -> None:
    folder = write_shop(tmp_path / "shop")
    body = '\ufeffproduct_id,title,description\nP1,Oats,"two\nlines"\nP2,Milk,\nP3,Case,plain\n'
    (folder / "products.csv").write_text(body, encoding="utf-8")

    load_folder(folder, store)

    products = store.read("products").set_index("product_id")
    assert products.loc["P1", "description"] == "two\nlines"
    assert pd.isna(products.loc["P2", "description"])


def test_parquet_files_load_like_csv(tmp_path: Path, store: Store) -> None:
    folder = write_shop(tmp_path / "shop")
    (folder / "orders.csv").unlink()
    orders = pd.read_csv(pd.io.common.StringIO(ORDERS), dtype=str)
    orders["ordered_at"] = pd.to_datetime(orders["ordered_at"], format="ISO8601", utc=True)
    pq.write_table(pa.Table.from_pandas(orders, preserve_index=False), folder / "orders.parquet")

    load_folder(folder, store)

    loaded = store.read("orders").set_index("order_id")
    assert loaded.loc["O1", "ordered_at"] == pd.Timestamp("2024-11-10 16:03:12")
    assert store.count("order_lines") == 4


def test_single_file_loads_when_references_are_stored(tmp_path: Path, store: Store) -> None:
    folder = write_shop(tmp_path / "shop")
    load_folder(folder, store)
    extra = tmp_path / "late" / "order_lines.csv"
    extra.parent.mkdir()
    extra.write_text("order_id,product_id,quantity\nO3,P1,4\n", encoding="utf-8")

    load_folder(extra, store)

    assert store.count("order_lines") == 5


def test_load_frames_validates_in_memory_tables(store: Store) -> None:
    frames = {
        "products": pd.DataFrame({"product_id": [1, 2], "title": ["a", "b"], "price": [1.0, 2]}),
    }
    result = load_frames(frames, store, source="test")

    assert result.rows == 2
    # Integer ids from a data frame become text ids.
    assert store.read("products")["product_id"].tolist() == ["1", "2"]


def test_each_load_is_recorded(tmp_path: Path, sqlite_store: Store) -> None:
    load_folder(write_shop(tmp_path / "shop"), sqlite_store)
    with sqlite_store.engine.connect() as conn:
        from sqlalchemy import text

        row = conn.execute(text("SELECT source, tables, rows FROM ingest_runs")).one()
    assert row.rows == 16
    assert json.loads(row.tables)["order_lines"] == 4


@pytest.mark.parametrize("value", ["TRUE", "Yes", "1", "t"])
def test_booleans_accept_common_spellings(tmp_path: Path, sqlite_store: Store, value: str) -> None:
    folder = write_shop(
        tmp_path / "shop", customers=f"customer_id,consent_marketing\nC1,{value}\nC2,no\n"
    )
    load_folder(folder, sqlite_store)
    consent = sqlite_store.read("customers").set_index("customer_id")["consent_marketing"]
    assert bool(consent["C1"]) is True
