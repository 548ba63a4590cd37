"""What customer analytics reads from a store, on SQLite and PostgreSQL."""

from __future__ import annotations

import pandas as pd
import pytest

from shopkeeper.customers import load_history
from shopkeeper.errors import ConfigError
from shopkeeper.ingest import load_frames
from shopkeeper.store import Store


def _shop() -> dict[str, pd.DataFrame]:
    return {
        "customers": pd.DataFrame(
            {
                "customer_id": ["a", "b"],
                "birth_year": ["1990", None],
                "gender": ["f", None],
                "email": ["a@example.com", None],
                "consent_marketing": ["true", None],
            }
        ),
        "products": pd.DataFrame(
            {
                "product_id": ["p1", "p2"],
                "title": ["oats", "kettle"],
                "category": ["Grocery > Breakfast", "Home > Kitchen"],
                "price": ["10", "50"],
            }
        ),
        "orders": pd.DataFrame(
            {
                "order_id": ["o1", "o2", "o3", "o4", "o5"],
                "customer_id": ["a", "a", "a", "b", None],
                "ordered_at": [
                    "2024-01-05T10:00:00",
                    "2024-02-05T10:00:00",
                    "2024-03-05T10:00:00",
                    "2024-02-10T10:00:00",
                    "2024-02-11T10:00:00",
                ],
                "status": ["completed", "cancelled", "returned", "completed", "completed"],
            }
        ),
        "order_lines": pd.DataFrame(
            {
                "order_id": ["o1", "o1", "o2", "o3", "o4", "o5"],
                "product_id": ["p1", "p2", "p1", "p2", "p2", "p1"],
                "quantity": ["2", "1", "1", "1", "1", "1"],
                "unit_price": ["9", None, "10", "50", "45", "10"],
                "discount": [None, "5", None, None, None, None],
            }
        ),
        "events": pd.DataFrame(
            {
                "at": ["2024-02-01T08:00:00", "2024-02-01T09:00:00", "2024-02-02T09:00:00"],
                "event": ["view", "view", "cart"],
                "customer_id": ["a", "a", "a"],
                "product_id": ["p1", "p2", "p1"],
            }
        ),
    }


def test_orders_values_categories_and_activity(store: Store) -> None:
    load_frames(_shop(), store)
    history = load_history(store)
    orders = history.orders.set_index("order_id")
    # cancelled o2 and guest o5 are not anyone's history
    assert set(orders.index) == {"o1", "o3", "o4"}
    # o1: 2 × 9 plus 1 × the list price 50 less the 5 discount; o3 was returned: value 0
    assert orders.loc["o1", "value"] == pytest.approx(63.0)
    assert orders.loc["o3", "value"] == 0.0
    assert orders.loc["o4", "value"] == pytest.approx(45.0)
    cats = history.categories.set_index(["order_id", "category"])["value"]
    assert cats.loc[("o1", "Grocery")] == pytest.approx(18.0)
    assert cats.loc[("o1", "Home")] == pytest.approx(45.0)
    assert "email" not in history.customers.columns  # personal columns are not read
    act = history.activity.set_index(["day", "event"])["count"]
    assert act.loc[(pd.Timestamp("2024-02-01"), "view")] == 2
    assert act.loc[(pd.Timestamp("2024-02-02"), "cart")] == 1
    assert history.end == pd.Timestamp("2024-03-05")


def test_a_store_without_customer_orders_is_refused(store: Store) -> None:
    with pytest.raises(ConfigError, match="no orders with a customer"):
        load_history(store)
