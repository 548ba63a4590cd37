"""Frequent itemsets and rules on Groceries and the Instacart sample, checked against mlxtend.

The baskets are built as in ``shared/benchmarks/forecast-and-basket.md``
section B. mlxtend's FP-growth is the reference for the itemsets and their
supports, its ``association_rules`` for the rules; the arules anchor (410
single-consequent rules on Groceries at 0.001 / 0.8) is checked as a number.
The customer basis is checked by brute force: distinct users counted from
the order lines directly, without the miner's data structures.
"""

from __future__ import annotations

import math
from collections import defaultdict
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from shopkeeper.basket import Baskets, Itemsets, association_rules, frequent_itemsets
from tests.conftest import SHARED_DATA

pytestmark = pytest.mark.realdata

GROCERIES = SHARED_DATA / "groceries" / "groceries.csv"
INSTACART = SHARED_DATA / "instacart_sample" / "order_lines.csv"
needs_groceries = pytest.mark.skipif(
    not GROCERIES.exists(), reason="needs ../shared/data/groceries"
)
needs_instacart = pytest.mark.skipif(
    not INSTACART.exists(), reason="needs ../shared/data/instacart_sample"
)
# The customer-basis threshold: 0.02 of 593 users is 11.86, so at least 12 users.
# (A share as low as the basket thresholds would be a single user, and every subset
# of every order would be "frequent".)
CUSTOMER_SUPPORT = 0.02

Counts = dict[frozenset[str], int]


def _groceries() -> list[list[str]]:
    """One basket per line, empty trailing fields dropped, items de-duplicated."""
    with Path(GROCERIES).open(encoding="utf-8") as handle:
        return [
            list(dict.fromkeys(f for f in line.rstrip("\n").split(",") if f)) for line in handle
        ]


@pytest.fixture(scope="module")
def groceries() -> list[list[str]]:
    if not GROCERIES.exists():
        pytest.skip("needs ../shared/data/groceries")
    return _groceries()


@pytest.fixture(scope="module")
def instacart() -> pd.DataFrame:
    if not INSTACART.exists():
        pytest.skip("needs ../shared/data/instacart_sample")
    lines = pd.read_csv(INSTACART, usecols=["order_id", "user_id", "product_id"])
    # Product ids as strings: shopkeeper labels items by their text, and mlxtend's
    # sparse input refuses integer column names.
    lines["product_id"] = lines["product_id"].astype(str)
    return lines


def _order_lists(lines: pd.DataFrame) -> list[list[str]]:
    return lines.groupby("order_id", sort=True)["product_id"].apply(list).tolist()


def _mlxtend_counts(lists: list[list[str]], min_support: float, sparse: bool) -> Counts:
    """mlxtend's FP-growth itemsets with their absolute basket counts."""
    pytest.importorskip("mlxtend")
    from mlxtend.frequent_patterns import fpgrowth

    onehot = _onehot(lists, sparse)
    found = fpgrowth(onehot, min_support=min_support, use_colnames=True)
    n = len(lists)
    pairs = zip(found["itemsets"], found["support"], strict=True)
    return {frozenset(s): round(v * n) for s, v in pairs}


def _onehot(lists: list[list[str]], sparse: bool) -> pd.DataFrame:
    from mlxtend.preprocessing import TransactionEncoder

    encoder = TransactionEncoder().fit(lists)
    if sparse:
        # Instacart has 14,190 products: a dense frame would be 15,183 x 14,190 bools.
        matrix = encoder.transform(lists, sparse=True)
        return pd.DataFrame.sparse.from_spmatrix(matrix, columns=encoder.columns_)
    return pd.DataFrame(encoder.transform(lists), columns=encoder.columns_)


def _ours(itemsets: Itemsets) -> Counts:
    return {frozenset(itemsets.itemset(s)): int(itemsets.baskets[s]) for s in range(len(itemsets))}


def _assert_same_itemsets(found: Itemsets, reference: Counts, n: int) -> None:
    ours = _ours(found)
    assert len(ours) == len(found), "an itemset is reported twice"
    assert set(ours) == set(reference), (
        f"{len(set(ours) - set(reference))} itemsets only in shopkeeper, "
        f"{len(set(reference) - set(ours))} only in mlxtend"
    )
    diff = [s for s in ours if ours[s] != reference[s]]
    assert not diff, f"{len(diff)} itemsets with different counts, e.g. {sorted(diff[0])}"
    np.testing.assert_allclose(found.support(), found.baskets / n, rtol=0, atol=0)


@needs_groceries
@pytest.mark.parametrize(("min_support", "expected"), [(0.001, 13_491), (0.005, 1_001)])
def test_groceries_itemsets_equal_mlxtend(
    groceries: list[list[str]], min_support: float, expected: int
) -> None:
    found = frequent_itemsets(Baskets.from_lists(groceries), min_support)
    assert len(found) == expected  # the protocol's count, the same for every library
    _assert_same_itemsets(found, _mlxtend_counts(groceries, min_support, sparse=False), 9_835)


@needs_instacart
@pytest.mark.parametrize(("min_support", "expected"), [(0.001, 24_001), (0.002, 1_937)])
def test_instacart_itemsets_equal_mlxtend(
    instacart: pd.DataFrame, min_support: float, expected: int
) -> None:
    baskets = Baskets.from_frame(instacart, basket="order_id", item="product_id")
    assert (baskets.n_baskets, len(baskets.items)) == (15_183, 14_190)
    found = frequent_itemsets(baskets, min_support)
    assert len(found) == expected
    reference = _mlxtend_counts(_order_lists(instacart), min_support, sparse=True)
    _assert_same_itemsets(found, reference, 15_183)


def _rule_key(antecedent: Any, consequent: Any) -> tuple[frozenset[str], frozenset[str]]:
    return frozenset(antecedent), frozenset(consequent)


def _same_measure(a: float, b: float) -> bool:
    if math.isinf(a) or math.isinf(b):
        return a == b
    return math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-15)


@needs_groceries
def test_groceries_rules_reproduce_arules_and_equal_mlxtend(groceries: list[list[str]]) -> None:
    pytest.importorskip("mlxtend")
    from mlxtend.frequent_patterns import association_rules as mlx_rules
    from mlxtend.frequent_patterns import fpgrowth

    found = frequent_itemsets(Baskets.from_lists(groceries), 0.001)
    single = association_rules(found, min_confidence=0.8)
    every = association_rules(found, min_confidence=0.8, consequents="any")
    # arules' classic figure counts one-item consequents; mlxtend adds 3 with two items.
    assert len(single) == 410
    assert len(every) == 413
    assert (single["consequent"].map(len) == 1).all()

    reference = fpgrowth(_onehot(groceries, sparse=False), min_support=0.001, use_colnames=True)
    theirs = mlx_rules(
        reference, num_itemsets=len(groceries), metric="confidence", min_threshold=0.8
    )
    measures = ("support", "confidence", "lift", "leverage", "conviction")
    want = {
        _rule_key(r.antecedents, r.consequents): tuple(getattr(r, m) for m in measures)
        for r in theirs.itertuples()
    }
    got = {
        _rule_key(r.antecedent, r.consequent): tuple(getattr(r, m) for m in measures)
        for r in every.itertuples()
    }
    assert len(got) == len(every), "a rule is reported twice"
    assert set(got) == set(want)
    for key, values in got.items():
        assert all(_same_measure(a, b) for a, b in zip(values, want[key], strict=True)), key
    singles = {
        _rule_key(a, c) for a, c in zip(single["antecedent"], single["consequent"], strict=True)
    }
    assert singles == {k for k in want if len(k[1]) == 1}
    # Sorted by lift, highest first, as asked by default.
    assert single["lift"].is_monotonic_decreasing


@pytest.fixture(scope="module")
def instacart_index(instacart: pd.DataFrame) -> tuple[dict[str, set[int]], dict[int, int]]:
    """The orders holding each product, and each order's user, straight from the lines."""
    orders: dict[str, set[int]] = defaultdict(set)
    for order, product in zip(instacart["order_id"], instacart["product_id"], strict=True):
        orders[product].add(int(order))
    pairs = instacart[["order_id", "user_id"]].drop_duplicates()
    # Each order belongs to one user in the sample: checked, since the count relies on it.
    assert pairs["order_id"].is_unique
    return orders, dict(zip(pairs["order_id"], pairs["user_id"], strict=True))


@needs_instacart
def test_instacart_customer_support_equals_a_brute_force_count(
    instacart: pd.DataFrame, instacart_index: tuple[dict[str, set[int]], dict[int, int]]
) -> None:
    baskets = Baskets.from_frame(
        instacart, basket="order_id", item="product_id", customer="user_id"
    )
    assert baskets.n_customers == instacart["user_id"].nunique() == 593
    orders, user_of = instacart_index
    rng = np.random.default_rng(20)
    for basis, min_support in (("baskets", 0.001), ("customers", CUSTOMER_SUPPORT)):
        found = frequent_itemsets(baskets, min_support, basis=basis)  # type: ignore[arg-type]
        for s in rng.choice(len(found), size=min(200, len(found)), replace=False):
            # Orders holding every item, and the distinct users among them.
            common = set.intersection(*(orders[i] for i in found.itemset(int(s))))
            n_orders, n_users = len(common), len({user_of[o] for o in common})
            assert (int(found.baskets[s]), int(found.customers[s])) == (n_orders, n_users), (
                basis,
                found.itemset(int(s)),
            )
        np.testing.assert_allclose(found.support("customers"), found.customers / 593)


@needs_instacart
def test_instacart_customer_basis_finds_exactly_the_frequent_singles_and_pairs(
    instacart: pd.DataFrame,
) -> None:
    baskets = Baskets.from_frame(
        instacart, basket="order_id", item="product_id", customer="user_id"
    )
    found = frequent_itemsets(baskets, CUSTOMER_SUPPORT, basis="customers")
    need = math.ceil(CUSTOMER_SUPPORT * 593)
    assert found.settings["min_count"] == need == 12

    # Every (user, item) and (user, item pair) bought at least once, counted from the lines.
    codes, labels = pd.factorize(instacart["product_id"])
    per_line = pd.DataFrame(
        {"order": instacart["order_id"].to_numpy(), "user": instacart["user_id"], "item": codes}
    ).drop_duplicates(["order", "item"])
    singles = per_line.drop_duplicates(["user", "item"]).groupby("item").size()
    want_singles = {frozenset([labels[i]]) for i in singles.index[singles >= need]}
    n_items = len(labels)
    user_pairs = []
    for (_order, user), group in per_line.groupby(["order", "user"], sort=False):
        items = np.sort(group["item"].to_numpy())
        left, right = np.triu_indices(len(items), k=1)
        user_pairs.append(user * n_items * n_items + items[left] * n_items + items[right])
    distinct = np.unique(np.concatenate(user_pairs)) % (n_items * n_items)
    pair, users = np.unique(distinct, return_counts=True)
    want_pairs = {
        frozenset([labels[p // n_items], labels[p % n_items]]) for p in pair[users >= need]
    }

    sizes = found.sizes
    got_singles = {frozenset(found.itemset(int(s))) for s in np.flatnonzero(sizes == 1)}
    got_pairs = {frozenset(found.itemset(int(s))) for s in np.flatnonzero(sizes == 2)}
    assert got_singles == want_singles
    assert got_pairs == want_pairs
    assert len(want_pairs) > 50  # the check is not vacuous
    # The threshold is on users, so no itemset falls below it.
    assert int(found.customers.min()) >= need
