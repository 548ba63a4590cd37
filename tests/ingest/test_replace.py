"""A replacing load: the store afterwards holds exactly the loaded files, or what it held."""

from __future__ import annotations

from pathlib import Path

import pytest

from shopkeeper.errors import ContractError
from shopkeeper.ingest import load_folder
from shopkeeper.store import Store
from tests.ingest.shop_files import write_shop

NEW_PRODUCTS = "product_id,title,price\nP7,Green tea 绿茶,25\n"
NEW_ORDERS = "order_id,customer_id,ordered_at\nO9,,2025-01-05T09:00:00+08:00\n"
NEW_LINES = "order_id,product_id,quantity,unit_price\nO9,P7,2,25\n"


def _write(folder: Path, **tables: str) -> Path:
    folder.mkdir(parents=True)
    for name, body in tables.items():
        (folder / f"{name}.csv").write_text(body, encoding="utf-8")
    return folder


def test_replace_leaves_exactly_the_new_files(store: Store, tmp_path: Path) -> None:
    load_folder(write_shop(tmp_path / "old"), store)
    new = _write(tmp_path / "new", products=NEW_PRODUCTS, orders=NEW_ORDERS, order_lines=NEW_LINES)
    result = load_folder(new, store, replace=True)
    assert result.rows == 3
    counts = store.counts()
    assert counts["products"] == counts["orders"] == counts["order_lines"] == 1
    # Tables the new files do not mention are emptied too.
    assert counts["customers"] == counts["events"] == counts["locations"] == 0
    assert store.read("order_lines")["product_id"].tolist() == ["P7"]


def test_without_replace_the_same_files_add_up(store: Store, tmp_path: Path) -> None:
    load_folder(write_shop(tmp_path / "old"), store)
    new = _write(tmp_path / "new", products=NEW_PRODUCTS, orders=NEW_ORDERS, order_lines=NEW_LINES)
    load_folder(new, store)
    assert store.count("products") == 4 and store.count("orders") == 4


def test_a_failed_replace_keeps_the_old_store(store: Store, tmp_path: Path) -> None:
    load_folder(write_shop(tmp_path / "old"), store)
    before = store.checksums()
    bad_lines = "order_id,product_id,quantity,unit_price\nO9,P7,-2,25\n"
    new = _write(tmp_path / "new", products=NEW_PRODUCTS, orders=NEW_ORDERS, order_lines=bad_lines)
    with pytest.raises(ContractError, match="quantity '-2' must be a positive integer"):
        load_folder(new, store, replace=True)
    assert store.checksums() == before


def test_a_replace_cannot_lean_on_rows_it_removes(store: Store, tmp_path: Path) -> None:
    # P1 exists in the store, but a replacing load empties it: the line dangles.
    load_folder(write_shop(tmp_path / "old"), store)
    before = store.checksums()
    lines = "order_id,product_id,quantity,unit_price\nO9,P1,1,39.9\n"
    new = _write(tmp_path / "new", orders=NEW_ORDERS, order_lines=lines)
    with pytest.raises(ContractError, match="product_id 'P1' does not exist in products"):
        load_folder(new, store, replace=True)
    assert store.checksums() == before
    # The same files load fine as an addition, since P1 is stored.
    load_folder(new, store)
    assert store.count("order_lines") == 5
