"""Frequent itemsets and rules against brute force, on both bases."""

from __future__ import annotations

import itertools
import logging
import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from shopkeeper.basket import Baskets, association_rules, frequent_itemsets
from shopkeeper.errors import ConfigError


def _brute(baskets: list[set[str]], customers: list[str], need: int, basis: str) -> dict:
    items = sorted(set().union(*baskets))
    found = {}
    for k in range(1, len(items) + 1):
        any_k = False
        for combo in itertools.combinations(items, k):
            s = set(combo)
            holding = [i for i, b in enumerate(baskets) if s <= b]
            people = {customers[i] for i in holding}
            count = len(people) if basis == "customers" else len(holding)
            if count >= need:
                found[combo] = (len(holding), len(people))
                any_k = True
        if not any_k:
            break
    return found


basket_lists = st.lists(
    st.sets(st.sampled_from("abcdefg"), min_size=1, max_size=6), min_size=1, max_size=40
)


@settings(max_examples=60, deadline=None)
@given(
    lists=basket_lists,
    need=st.integers(min_value=1, max_value=6),
    basis=st.sampled_from(["baskets", "customers"]),
    seed=st.integers(min_value=0, max_value=10),
)
def test_itemsets_and_counts_equal_brute_force(
    lists: list[set[str]], need: int, basis: str, seed: int
) -> None:
    rng = np.random.default_rng(seed)
    customers = [f"u{int(x)}" for x in rng.integers(0, 8, len(lists))]
    baskets = Baskets.from_lists(lists, customers)
    total = baskets.n_customers if basis == "customers" else baskets.n_baskets
    need = min(need, total)
    found = frequent_itemsets(baskets, need / total, basis=basis)  # type: ignore[arg-type]
    frame = found.frame()
    mine = {
        tuple(s): (int(b), int(c))
        for s, b, c in zip(frame["itemset"], frame["baskets"], frame["customers"], strict=True)
    }
    assert mine == _brute(lists, customers, need, basis)


def test_rule_measures_follow_their_definitions() -> None:
    lists = [{"a", "b"}, {"a", "b", "c"}, {"a"}, {"b", "c"}, {"a", "b"}, {"c"}]
    found = frequent_itemsets(Baskets.from_lists(lists), 2 / 6)
    rules = association_rules(found, min_confidence=0.0)
    rule = rules[(rules["antecedent"] == ("a",)) & (rules["consequent"] == ("b",))].iloc[0]
    s_a, s_b, s_ab = 4 / 6, 4 / 6, 3 / 6
    assert rule["support"] == pytest.approx(s_ab)
    assert rule["confidence"] == pytest.approx(s_ab / s_a)
    assert rule["lift"] == pytest.approx(s_ab / (s_a * s_b))
    assert rule["leverage"] == pytest.approx(s_ab - s_a * s_b)
    assert rule["conviction"] == pytest.approx((1 - s_b) / (1 - s_ab / s_a))
    assert list(rules["lift"]) == sorted(rules["lift"], reverse=True)
    by_conf = association_rules(found, min_confidence=0.7, sort_by="confidence")
    assert (by_conf["confidence"] >= 0.7).all()
    assert list(by_conf["confidence"]) == sorted(by_conf["confidence"], reverse=True)
    lifted = association_rules(found, min_confidence=0.0, min_lift=1.1)
    assert (lifted["lift"] >= 1.1).all() and 0 < len(lifted) < len(rules)


def test_any_consequent_gives_every_split() -> None:
    lists = [{"a", "b", "c"}] * 3 + [{"a"}]
    found = frequent_itemsets(Baskets.from_lists(lists), 0.5)
    single = association_rules(found, min_confidence=0.0)
    every = association_rules(found, min_confidence=0.0, consequents="any")
    # {a,b,c}: 3 single-consequent rules and 6 splits; three pairs: 2 rules each.
    assert len(single) == 3 + 6 and len(every) == 6 + 6
    sure = every[every["confidence"] == 1.0]
    assert np.isinf(sure["conviction"]).all()


def _brute_rules(found: dict, n: int, min_confidence: float, any_size: bool) -> dict:
    rules = {}
    for whole, (count, _) in found.items():
        for k in range(1, len(whole)):
            for ante in itertools.combinations(whole, k):
                cons = tuple(x for x in whole if x not in ante)
                if len(cons) > 1 and not any_size:
                    continue
                confidence = count / found[ante][0]
                if confidence >= min_confidence - 1e-12:
                    rules[(ante, cons)] = confidence
    return rules


@settings(max_examples=60, deadline=None)
@given(
    lists=basket_lists,
    need=st.integers(min_value=1, max_value=4),
    min_confidence=st.sampled_from([0.0, 0.3, 0.5, 0.8, 1.0]),
    any_size=st.booleans(),
)
def test_rules_equal_brute_force(
    lists: list[set[str]], need: int, min_confidence: float, any_size: bool
) -> None:
    need = min(need, len(lists))
    found = frequent_itemsets(Baskets.from_lists(lists), need / len(lists))
    rules = association_rules(
        found, min_confidence=min_confidence, consequents="any" if any_size else "single"
    )
    pairs = zip(rules["antecedent"], rules["consequent"], strict=True)
    mine = dict(zip(pairs, rules["confidence"], strict=True))
    everyone = [str(i) for i in range(len(lists))]
    expected = _brute_rules(
        _brute(lists, everyone, need, "baskets"), len(lists), min_confidence, any_size
    )
    assert mine.keys() == expected.keys()
    for rule, confidence in expected.items():
        assert mine[rule] == pytest.approx(confidence)


def test_rules_of_a_large_itemset_are_pruned_not_enumerated() -> None:
    # An 18-item basket twice, and each 17-item subset once: every one of the 2^18 - 1
    # subsets is frequent, and an itemset of k items is in 20 - k baskets, so no split
    # reaches confidence 0.95 (pairs: 18/19). Visiting every split would take 3^18;
    # a failed antecedent ends its branch, so each itemset tries its k largest ones.
    big = [f"i{k:02d}" for k in range(18)]
    lists = [set(big)] * 2 + [set(big) - {x} for x in big]
    found = frequent_itemsets(Baskets.from_lists(lists), 2 / len(lists))
    assert len(found) == 2**18 - 1
    assert association_rules(found, min_confidence=0.95, consequents="any").empty
    # Between 18/19 (pairs) and 17/18 (triples from pairs): the pairs' rules only.
    pairs = association_rules(found, min_confidence=0.946, consequents="any")
    assert len(pairs) == 2 * math.comb(18, 2)
    assert np.allclose(pairs["confidence"], 18 / 19)


def test_rules_from_itemsets_missing_a_subset_are_refused() -> None:
    found = frequent_itemsets(Baskets.from_lists([{"a", "b"}, {"a", "b"}]), 1.0)
    keep = np.array([1, 2])  # drop ("a",): the pair's subset is gone
    sizes = found.sizes[keep]
    starts = found.ptr[:-1][keep]
    found.codes = np.concatenate(
        [found.codes[a : a + k] for a, k in zip(starts, sizes, strict=True)]
    )
    found.ptr = np.r_[0, np.cumsum(sizes)]
    found.baskets, found.customers = found.baskets[keep], found.customers[keep]
    with pytest.raises(ConfigError, match="not closed"):
        association_rules(found, min_confidence=0.0)


def test_max_size_bounds_the_itemsets() -> None:
    lists = [{"a", "b", "c", "d"}] * 4
    found = frequent_itemsets(Baskets.from_lists(lists), 0.5, max_size=2)
    assert found.sizes.max() == 2 and len(found) == 4 + 6


def test_very_large_baskets_are_left_out_with_a_warning(
    caplog: pytest.LogCaptureFixture,
) -> None:
    lists = [{"a", "b"}, {"a", "b"}, {f"x{i}" for i in range(50)}]
    with caplog.at_level(logging.WARNING):
        baskets = Baskets.from_lists(lists, max_basket_items=10)
    assert baskets.skipped == 1 and baskets.n_baskets == 2
    assert "more than 10 items" in caplog.text
    found = frequent_itemsets(baskets, 1.0)
    assert set(found.frame()["itemset"]) == {("a",), ("b",), ("a", "b")}


def test_customer_support_counts_a_shopper_once() -> None:
    lists = [{"milk", "bread"}] * 5 + [{"milk", "eggs"}, {"milk", "eggs"}]
    customers = ["ann"] * 5 + ["bob", "cy"]
    baskets = Baskets.from_lists(lists, customers)
    by_orders = frequent_itemsets(baskets, 3 / 7)
    by_people = frequent_itemsets(baskets, 2 / 3, basis="customers")
    assert ("bread", "milk") in set(by_orders.frame()["itemset"])
    people = set(by_people.frame()["itemset"])
    assert ("eggs", "milk") in people and ("bread", "milk") not in people


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"min_support": 0.0}, r"min_support must be in \(0, 1\]"),
        ({"min_support": 0.5, "max_size": 0}, "max_size must be at least 1"),
        ({"min_support": 0.5, "basis": "people"}, "basis must be baskets or customers"),
    ],
)
def test_bad_settings_are_refused(kwargs: dict, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        frequent_itemsets(Baskets.from_lists([{"a"}]), **kwargs)


def test_bad_rule_settings_are_refused() -> None:
    found = frequent_itemsets(Baskets.from_lists([{"a", "b"}]), 1.0)
    with pytest.raises(ConfigError, match="sort_by must be one of"):
        association_rules(found, sort_by="size")
    with pytest.raises(ConfigError, match="min_confidence"):
        association_rules(found, min_confidence=2)


def test_a_threshold_that_explodes_is_refused_not_run_out_of_memory() -> None:
    lists = [{f"i{k}" for k in range(16)}] * 2  # 65,535 itemsets in each basket
    baskets = Baskets.from_lists(lists)
    with pytest.raises(ConfigError, match=r"more than 1,000 itemsets .* raise min_support"):
        frequent_itemsets(baskets, 0.5, max_itemsets=1_000)
    assert len(frequent_itemsets(baskets, 0.5, max_size=2)) == 16 + 120
