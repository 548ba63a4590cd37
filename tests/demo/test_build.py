"""``build_demo``: the demo shop goes through ingest and never mixes with a shop's own data."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from tests.ingest.shop_files import write_shop as write_tiny_shop

from shopkeeper.demo import TRUTH_FILE, DemoConfig, DemoShop, build_demo
from shopkeeper.errors import ConfigError
from shopkeeper.ingest import load_folder
from shopkeeper.store import DEMO_META, Store

SMALL = DemoConfig.preset("small")


def test_demo_is_loaded_through_ingest_and_marked(
    store: Store, small_shop: DemoShop, tmp_path: Path
) -> None:
    built = build_demo(store, tmp_path / "demo", SMALL)
    assert store.counts() == small_shop.rows()
    assert built.load.rows == sum(small_shop.rows().values())
    assert {t.table for t in built.load.tables} == {t for t, n in small_shop.rows().items() if n}
    # The extras are files a user can read, but not contract tables.
    images = ["images"] if small_shop.images is not None else []
    assert built.load.ignored_files == ["ground_truth.json", *images, "support_questions.csv"]
    truth = json.loads((tmp_path / "demo" / TRUTH_FILE).read_text(encoding="utf-8"))
    assert truth["config"]["seed"] == SMALL.seed
    assert json.loads(store.meta(DEMO_META) or "{}") == SMALL.to_dict()
    assert set(built.seconds) == {"generate", "write", "load"}


def test_rebuilding_the_same_demo_changes_nothing(store: Store, tmp_path: Path) -> None:
    build_demo(store, tmp_path / "demo", SMALL)
    before = store.checksums()
    again = build_demo(store, tmp_path / "demo", SMALL)
    assert again.replaced
    assert store.checksums() == before


def test_another_demo_replaces_the_first_entirely(store: Store, tmp_path: Path) -> None:
    build_demo(store, tmp_path / "a", SMALL)
    other = DemoConfig.preset("small", seed=99, customers=500, products=150, days=90)
    build_demo(store, tmp_path / "b", other)
    orders = store.read("orders", ["ordered_at"])["ordered_at"]
    # 90 days from the same start: nothing of the 180-day shop is left.
    assert (orders.max() - orders.min()).days < 91
    assert store.count("customers") == 500
    assert json.loads(store.meta(DEMO_META) or "{}")["seed"] == 99


def test_a_shops_own_data_is_never_mixed_with_the_demo(store: Store, tmp_path: Path) -> None:
    load_folder(write_tiny_shop(tmp_path / "own"), store)
    before = store.checksums()
    with pytest.raises(ConfigError) as caught:
        build_demo(store, tmp_path / "demo", SMALL)
    message = str(caught.value)
    assert "already holds a shop's data" in message
    assert "3 orders" in message and "--replace" in message
    assert store.checksums() == before

    build_demo(store, tmp_path / "demo", SMALL, replace=True)
    assert store.existing_keys("orders", "order_id", ["O1", "O2"]) == set()


def test_loading_own_files_into_a_demo_store_removes_the_mark(store: Store, tmp_path: Path) -> None:
    build_demo(store, tmp_path / "demo", SMALL)
    load_folder(write_tiny_shop(tmp_path / "own"), store)
    assert store.meta(DEMO_META) is None
    # The store now holds more than the demo, so the demo will not overwrite it.
    with pytest.raises(ConfigError, match="already holds"):
        build_demo(store, tmp_path / "demo", SMALL)
