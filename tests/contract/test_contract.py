"""The contract's declarations are consistent, and its documentation is current."""

from __future__ import annotations

from pathlib import Path

import pytest

from shopkeeper import contract
from shopkeeper.contract import Kind
from shopkeeper.contract._docs import render
from shopkeeper.errors import ConfigError

DOCS = Path(__file__).resolve().parents[2] / "docs" / "data-contract.md"


def test_every_reference_points_at_an_earlier_table_key() -> None:
    order = contract.table_names()
    for spec in contract.TABLES:
        for ref in spec.references:
            target = contract.table(ref.table)
            assert ref.target in target.key, f"{spec.name}.{ref.column}"
            assert order.index(ref.table) < order.index(spec.name), "load order"
            assert spec.column(ref.column).kind is Kind.ID


def test_the_issue_tables_are_all_declared() -> None:
    wanted = {
        "products",
        "customers",
        "locations",
        "orders",
        "order_lines",
        "events",
        "inventory",
        "promotions",
        "reviews",
        "ad_spend",
        "faq",
        "shipment_events",
        "product_images",
    }
    assert wanted <= set(contract.table_names())


def test_enum_columns_have_choices_and_pii_is_marked() -> None:
    for spec in contract.TABLES:
        for col in spec.columns:
            assert (col.kind is Kind.ENUM) == bool(col.choices), f"{spec.name}.{col.name}"
    assert set(contract.table("customers").pii_columns) == {"name", "email", "phone"}


def test_rule_texts_read_as_rules() -> None:
    lines = contract.table("order_lines")
    assert lines.column("quantity").rule_text() == "must be a positive integer"
    assert lines.column("unit_price").rule_text() == "must be a non-negative number"
    rating = contract.table("reviews").column("rating")
    assert rating.rule_text() == "must be an integer >= 1 and <= 5"


def test_unknown_table_names_the_known_ones() -> None:
    with pytest.raises(ConfigError, match=r"unknown table 'order'.*order_lines"):
        contract.table("order")


def test_docs_match_the_declarations() -> None:
    assert DOCS.read_text(encoding="utf-8") == render(), (
        "docs/data-contract.md is stale: python -m shopkeeper.contract._docs > "
        "docs/data-contract.md"
    )


def test_product_images_follow_the_products_and_name_their_files() -> None:
    assert contract.table_names()[:2] == ("products", "product_images")
    images = contract.table("product_images")
    assert images.key == ("product_id", "path")
    assert images.column("path").kind is Kind.IMAGE
    assert images.column("path").rule_text() == (
        "must name a local image file (a path or a file:// URL) of at most 2,000 characters"
    )
    assert images.required_columns == ("product_id", "path")
