"""Bundles, their discount under a margin floor, and bought-together lists."""

from __future__ import annotations

import pandas as pd
import pytest

from shopkeeper.basket import Baskets, Itemsets, frequent_itemsets
from shopkeeper.basket._bundles import bought_together, bundles
from shopkeeper.errors import ConfigError

CATALOG = pd.DataFrame(
    {
        "product_id": ["tea", "cup", "pot", "gum"],
        "title": ["Green tea", "Cup", "Teapot", "Gum"],
        "price": [40.0, 20.0, 100.0, 5.0],
        "cost": [20.0, 8.0, 70.0, None],
    }
)


def _itemsets() -> Itemsets:
    lists = (
        [{"tea", "cup"}] * 6
        + [{"tea", "pot"}] * 3
        + [{"gum", "tea"}] * 2
        + [{"cup"}] * 3
        + [{"pot"}] * 2
        + [{"gum"}] * 4
    )
    customers = [f"c{i}" for i in range(len(lists))]
    return frequent_itemsets(Baskets.from_lists(lists, customers), 2 / 20, basis="customers")


def test_bundles_keep_the_margin_floor_and_rank_by_buyers() -> None:
    found = _itemsets()
    table = bundles(found, CATALOG, days=60, margin_floor=0.25, max_discount=0.2)
    first = table.iloc[0]
    assert first["items"] == ("cup", "tea") and first["buyers"] == 6
    assert first["titles"] == ("Cup", "Green tea")
    assert first["buyers_per_30_days"] == pytest.approx(3.0)
    # price 60, cost 28: margin rate 53%; 20% off leaves (48 - 28) / 48 = 42% ≥ 25%
    assert (first["price"], first["cost"], first["discount"]) == (60.0, 28.0, 0.2)
    assert first["bundle_price"] == 48.0
    pot = table[table["items"] == ("pot", "tea")].iloc[0]
    # price 140, cost 90: largest d with (140(1-d) - 90) / (140(1-d)) ≥ 0.25 is 14%
    assert pot["discount"] == 0.14 and pot["bundle_margin_rate"] >= 0.25
    assert list(table["buyers"]) == sorted(table["buyers"], reverse=True)


def test_unknown_costs_give_no_discount_and_low_margins_none() -> None:
    found = _itemsets()
    table = bundles(found, CATALOG, days=30, min_lift=0.0)
    gum = table[table["items"] == ("gum", "tea")].iloc[0]
    assert pd.isna(gum["cost"]) and pd.isna(gum["discount"])
    tight = bundles(found, CATALOG, days=30, margin_floor=0.6)
    assert (tight["discount"].dropna() == 0.0).all()


def test_only_items_that_sell_together_more_than_chance_make_bundles() -> None:
    found = _itemsets()
    table = bundles(found, CATALOG, days=30, min_lift=1.0)
    assert ("gum", "tea") not in set(table["items"])  # lift below 1: gum sells alone


def test_bought_together_both_directions_by_confidence() -> None:
    lists = [{"tea", "cup"}] * 6 + [{"tea", "pot"}] * 3 + [{"cup"}] * 2
    found = frequent_itemsets(Baskets.from_lists(lists), 0.1)
    table = bought_together(found)
    tea = table[table["product_id"] == "tea"]
    assert list(tea["partner_id"]) == ["cup", "pot"] and list(tea["rank"]) == [1, 2]
    assert tea.iloc[0]["confidence"] == pytest.approx(6 / 9)
    cup = table[table["product_id"] == "cup"].iloc[0]
    assert cup["partner_id"] == "tea" and cup["confidence"] == pytest.approx(6 / 8)


def test_bundle_settings_are_checked() -> None:
    with pytest.raises(ConfigError, match="margin_floor"):
        bundles(_itemsets(), CATALOG, days=30, margin_floor=1.5)
    with pytest.raises(ConfigError, match="at least 2 items"):
        bundles(_itemsets(), CATALOG, days=30, max_items=1)
