"""Metrics by hand-computed examples, and the time splits' contracts."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from shopkeeper.errors import ConfigError
from shopkeeper.recommend import (
    Interactions,
    exposure_metrics,
    ranking_metrics,
    split_by_time,
    split_last_fraction,
)
from shopkeeper.recommend._evaluate import exclusion


def test_ranking_metrics_match_hand_computation() -> None:
    lists = np.array([[0, 1, 2], [3, 4, -1]])
    truth = [{1, 5}, {3}]
    m = ranking_metrics(lists, truth, [2, 3], n_items=6)
    # user 0: hit at rank 2 of {1, 5}; user 1: hit at rank 1 of {3}.
    ndcg_u0 = (1 / math.log2(3)) / (1 + 1 / math.log2(3))
    assert m["ndcg@2"] == pytest.approx((ndcg_u0 + 1.0) / 2)
    assert m["recall@2"] == pytest.approx((0.5 + 1.0) / 2)
    assert m["hit_rate@2"] == 1.0
    assert m["map@3"] == pytest.approx(((1 / 2) / 2 + 1.0) / 2)


def test_users_without_truth_are_not_averaged() -> None:
    lists = np.array([[0, 1], [0, 1]])
    m = ranking_metrics(lists, [{0}, set()], [2], n_items=2)
    assert m["ndcg@2"] == 1.0 and m["users"] == 1


def test_gini_is_zero_for_equal_exposure_and_high_for_one_item() -> None:
    even = exposure_metrics(
        np.array([[0, 1], [2, 3]]),
        2,
        candidates=np.ones(4, bool),
        item_users=np.ones(4),
        n_users=2,
    )
    one = exposure_metrics(
        np.array([[0], [0], [0], [0]]),
        1,
        candidates=np.ones(4, bool),
        item_users=np.ones(4),
        n_users=4,
    )
    assert even["gini@2"] == pytest.approx(0.0)
    assert even["coverage@2"] == 1.0
    assert one["gini@1"] == pytest.approx(0.75)
    assert one["coverage@1"] == 0.25


def _shop() -> Interactions:
    frame = pd.DataFrame(
        {
            "customer_id": ["a", "a", "a", "b", "b", "c"],
            "product_id": ["x", "y", "z", "x", "z", "y"],
            "at": pd.to_datetime(
                ["2024-01-01", "2024-02-01", "2024-03-05", "2024-01-10", "2024-03-02", "2024-03-03"]
            ),
            "order": ["1", "2", "3", "4", "5", "6"],
        }
    )
    return Interactions.from_frame(frame, occasion="order")


def test_split_by_time_trains_on_the_past_and_tests_known_customers() -> None:
    data = _shop()
    fold = split_by_time(data, "2024-03-01")
    assert fold.train.log["at"].max() < pd.Timestamp("2024-03-01")
    a, b, c = data.user_codes(["a", "b", "c"])
    z = int(data.item_codes(["z"])[0])
    assert fold.truth[a] == {z} and fold.truth[b] == {z}
    # c has no history before the cut: a cold-start customer, not evaluated.
    assert fold.truth[c] == set()


def test_split_by_time_rejects_a_cut_with_nothing_after() -> None:
    with pytest.raises(ConfigError, match="no purchases on or after"):
        split_by_time(_shop(), "2025-01-01")


def test_split_last_fraction_holds_out_each_customers_latest_orders() -> None:
    data = _shop()
    fold = split_last_fraction(data, 0.34)
    a, b, c = data.user_codes(["a", "b", "c"])
    assert fold.truth[a] == {int(data.item_codes(["z"])[0])}  # 1 of 3 orders
    assert fold.truth[b] == {int(data.item_codes(["z"])[0])}  # at least one of 2
    assert fold.truth[c] == set()  # a single order stays in training
    with pytest.raises(ConfigError, match="between 0 and 1"):
        split_last_fraction(data, 1.5)


def test_exclusion_follows_the_repeats_choice() -> None:
    data = _shop()
    assert exclusion(data, "allow", None) is None
    assert exclusion(data, "exclude", None).nnz == 6
    durable = np.array([True, False, False])  # only x is durable
    ruled = exclusion(data, "rules", durable)
    assert ruled.nnz == 2  # a and b bought x
    with pytest.raises(ConfigError, match="repeats"):
        exclusion(data, "sometimes", None)
