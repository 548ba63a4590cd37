"""Baskets read from a store, on SQLite and PostgreSQL."""

from __future__ import annotations

import pandas as pd
import pytest

from shopkeeper.basket import frequent_itemsets
from shopkeeper.basket._source import load_baskets
from shopkeeper.errors import ConfigError
from shopkeeper.ingest import load_frames
from shopkeeper.store import Store


def _shop() -> dict[str, pd.DataFrame]:
    return {
        "customers": pd.DataFrame({"customer_id": ["a", "b"]}),
        "products": pd.DataFrame(
            {
                "product_id": ["tea", "cup", "pot"],
                "title": ["Tea", "Cup", "Pot"],
                "category": ["Grocery > Tea", "Home > Kitchen", "Home > Kitchen"],
            }
        ),
        "orders": pd.DataFrame(
            {
                "order_id": ["o1", "o2", "o3", "o4"],
                "customer_id": ["a", "a", "b", None],
                "ordered_at": ["2024-01-01", "2024-01-05", "2024-01-07", "2024-01-09"],
                "status": ["completed", "cancelled", "completed", "completed"],
            }
        ),
        "order_lines": pd.DataFrame(
            {
                "order_id": ["o1", "o1", "o2", "o2", "o3", "o3", "o4"],
                "product_id": ["tea", "cup", "tea", "pot", "cup", "pot", "tea"],
                "quantity": ["1"] * 7,
            }
        ),
    }


def test_baskets_products_and_categories(store: Store) -> None:
    load_frames(_shop(), store)
    shop = load_baskets(store)
    # o2 was cancelled; the guest order o4 is a basket of its own customer
    assert shop.baskets.n_baskets == 3 and shop.baskets.n_customers == 3
    assert sorted(shop.baskets.basket_ids) == ["o1", "o3", "o4"]
    pairs = frequent_itemsets(shop.baskets, 1 / 3).frame()
    assert set(pairs.loc[pairs["size"] == 2, "itemset"]) == {("cup", "tea"), ("cup", "pot")}
    assert shop.days == pytest.approx(8.0)
    cats = load_baskets(store, level="category")
    labels = set(cats.baskets.items)
    assert labels == {"Grocery > Tea", "Home > Kitchen"}


def test_an_empty_store_and_a_bad_level_are_refused(store: Store) -> None:
    with pytest.raises(ConfigError, match="no orders"):
        load_baskets(store)
    with pytest.raises(ConfigError, match="level must be product or category"):
        load_baskets(store, level="brand")  # type: ignore[arg-type]
