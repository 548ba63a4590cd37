"""Serving decisions through the store: policies, the log, outcomes, guardrails."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from shopkeeper.decide import (
    PriceGuardrails,
    decide_price,
    decide_slot,
    export_log,
    get_policy,
    list_policies,
    ope_log,
    policy_report,
    policy_versions,
    read_decisions,
    record_outcomes,
    start_price_policy,
    start_slot_policy,
    stop_policy,
)
from shopkeeper.errors import ConfigError, ConflictError, NotFoundError, StoreError
from shopkeeper.ingest import load_folder
from shopkeeper.store import Store
from tests.ingest.shop_files import PRODUCTS, write_shop

DAY = datetime(2026, 3, 2, 9, 0)


@pytest.fixture
def shop(store: Store, tmp_path: Path) -> Store:
    load_folder(write_shop(tmp_path / "shop"), store)
    return store


def test_a_price_policy_has_a_grid_within_its_guardrails(shop: Store) -> None:
    rails = PriceGuardrails(floor=0.8, ceiling=1.2, margin_floor=0.5)
    record = start_price_policy(shop, "P1", points=7, guardrails=rails)
    prices = np.asarray(record.config["prices"])
    # P1 sells at 39.90 and costs 21.50: a 50% margin needs at least 43.00.
    assert prices.min() >= 43.0 and prices.max() <= 39.9 * 1.2 + 1e-9
    assert record.actions == [f"{p:.2f}" for p in prices]
    assert record.policy_id == "price:P1" and record.status == "running" and record.version == 1
    assert [r.policy_id for r in list_policies(shop, purpose="price")] == ["price:P1"]


def test_starting_a_policy_refuses_what_cannot_be_priced(shop: Store) -> None:
    start_price_policy(shop, "P1")
    with pytest.raises(ConflictError, match="price:P1"):
        start_price_policy(shop, "P1")
    with pytest.raises(NotFoundError, match="P9"):
        start_price_policy(shop, "P9")
    with pytest.raises(ConfigError, match="reward 'clicks'"):
        start_price_policy(shop, "P2", reward="clicks")
    with pytest.raises(ConfigError, match="unknown policy kind 'magic'"):
        start_price_policy(shop, "P2", kind="magic")
    with pytest.raises(ConfigError, match="policy id"):
        start_price_policy(shop, "P2", policy_id="no spaces please")
    # Nothing half-made was left behind.
    assert [r.policy_id for r in list_policies(shop)] == ["price:P1"]


def test_decisions_are_logged_with_the_probability_they_were_drawn_with(shop: Store) -> None:
    rails = PriceGuardrails(max_change_per_day=0.1, exploration_share=0.3)
    start_price_policy(shop, "P1", points=9, guardrails=rails)
    rng = np.random.default_rng(5)
    shown = [decide_price(shop, "P1", rng=rng, at=DAY)["price"] for _ in range(400)]
    log = read_decisions(shop, "price:P1")
    assert len(log) == 400 and log["decision_id"].is_unique
    assert (log["policy_version"] == 1).all() and (log["purpose"] == "price").all()
    # Day one: most visitors see the catalogue price (nothing is known yet); the
    # exploring share may see any price of the grid.
    grid = get_policy(shop, "price:P1").config["prices"]
    assert set(shown) <= set(grid) and len(set(shown)) > 3
    nearest = min(grid, key=lambda p: abs(p - 39.9))
    assert shown.count(nearest) / len(shown) > 0.7
    by_price = log.groupby("action")["probability"].first()
    assert by_price[f"{nearest:.2f}"] > 0.7
    # The logged probabilities are those of the draw: frequencies match them.
    freq = log["action"].value_counts(normalize=True)
    for action, p in by_price.items():
        assert abs(freq[action] - p) < 4 * np.sqrt(p * (1 - p) / 400) + 0.01
    assert by_price.sum() == pytest.approx(1.0, abs=1e-9)


def test_outcomes_teach_the_policy_one_version_a_batch(shop: Store) -> None:
    start_price_policy(shop, "P1", reward="margin")
    rng = np.random.default_rng(1)
    decisions = [decide_price(shop, "P1", rng=rng, at=DAY) for _ in range(6)]
    result = record_outcomes(
        shop,
        [
            {"decision_id": d["decision_id"], "purchase": i % 2 == 0, "quantity": 2}
            for i, d in enumerate(decisions)
        ],
    )
    assert result == {"accepted": 6, "policies": {"price:P1": 2}}
    record = get_policy(shop, "price:P1")
    assert record.version == 2 and record.outcomes == 6 and record.decisions == 6
    log = read_decisions(shop, "price:P1").set_index("decision_id")
    for i, d in enumerate(decisions):
        expected = 2 * (d["price"] - 21.5) if i % 2 == 0 else 0.0
        assert log.loc[d["decision_id"], "reward"] == pytest.approx(expected)
    assert record.reward_sum == pytest.approx(log["reward"].sum())
    versions = policy_versions(shop, "price:P1")
    assert [v["version"] for v in versions] == [1, 2]
    assert versions[0]["reason"] == "created" and versions[1]["state"] == record.state
    assert versions[0]["state"] != versions[1]["state"]


def test_a_refused_batch_of_outcomes_changes_nothing(shop: Store) -> None:
    start_price_policy(shop, "P1")
    rng = np.random.default_rng(2)
    first, second = (decide_price(shop, "P1", rng=rng, at=DAY) for _ in range(2))
    record_outcomes(shop, [{"decision_id": first["decision_id"], "purchase": True}])
    before = get_policy(shop, "price:P1")
    bad_batches = [
        (
            [{"decision_id": second["decision_id"], "purchase": True}, {"decision_id": "d_nope"}],
            ConfigError,
            r"outcomes\[1\]: give at least one",
        ),
        (
            [
                {"decision_id": second["decision_id"], "purchase": True},
                {"decision_id": "d_nope", "purchase": True},
            ],
            NotFoundError,
            "d_nope",
        ),
        (
            [
                {"decision_id": second["decision_id"], "purchase": True},
                {"decision_id": first["decision_id"], "purchase": False},
            ],
            ConflictError,
            r"outcomes\[1\].*posted once",
        ),
        (
            [{"decision_id": second["decision_id"], "purchase": "yes"}],
            ConfigError,
            "must be true or false",
        ),
        ([{"decision_id": second["decision_id"], "quantity": -1}], ConfigError, "at least 0"),
        ([{"decision_id": second["decision_id"], "clicks": 1}], ConfigError, "unknown field"),
        (
            [{"decision_id": second["decision_id"], "click": True}],
            ConfigError,
            r"margin: required.*purchase",
        ),
        (
            [{"decision_id": second["decision_id"], "purchase": True}] * 2,
            ConfigError,
            r"also in outcomes\[0\]",
        ),
    ]
    for batch, error, pattern in bad_batches:
        with pytest.raises(error, match=pattern):
            record_outcomes(shop, batch)
    after = get_policy(shop, "price:P1")
    assert (after.version, after.outcomes, after.state) == (
        before.version,
        before.outcomes,
        before.state,
    )
    open_ = read_decisions(shop, "price:P1", settled=False)
    assert list(open_["decision_id"]) == [second["decision_id"]]


def test_the_daily_anchor_moves_one_step_towards_the_best_price(shop: Store) -> None:
    rails = PriceGuardrails(max_change_per_day=0.05, exploration_share=0.5)
    record = start_price_policy(shop, "P1", points=9, guardrails=rails)
    prices = np.asarray(record.config["prices"])
    rng = np.random.default_rng(3)
    day = DAY
    anchors = [39.9]
    for _ in range(4):
        decisions = [decide_price(shop, "P1", rng=rng, at=day) for _ in range(60)]
        # Visitors buy only above the catalogue price: dearer is better.
        record_outcomes(
            shop,
            [{"decision_id": d["decision_id"], "purchase": d["price"] > 39.9} for d in decisions],
        )
        day += timedelta(days=1)
        decide_price(shop, "P1", rng=rng, at=day)
        anchors.append(get_policy(shop, "price:P1").config["anchor"]["price"])
    steps = np.diff(anchors) / np.asarray(anchors[:-1])
    assert (np.diff(anchors) <= 0.05 * np.asarray(anchors[:-1]) + 0.005).all()
    assert (steps >= 0).all()
    assert anchors[-1] > anchors[0] and anchors[-1] <= prices.max()


def test_a_slot_policy_learns_which_item_earns_clicks(shop: Store) -> None:
    start_slot_policy(shop, "home-hero", ["P1", "P2", "P3"], positions=2)
    rng = np.random.default_rng(4)
    for _ in range(150):
        served = decide_slot(shop, "home-hero", rng=rng, at=DAY)
        items = served["items"]
        assert len(items) == 2 and items[0]["item"] != items[1]["item"]
        assert all(0 < i["probability"] <= 1 for i in items)
        record_outcomes(
            shop,
            [{"decision_id": i["decision_id"], "click": i["item"] == "P3"} for i in items],
        )
    report = policy_report(shop, get_policy(shop, "slot:home-hero"))
    estimate = {a["action"]: a["estimate"] for a in report["actions"]}
    assert max(estimate, key=lambda k: estimate[k]) == "P3"
    late = read_decisions(shop, "slot:home-hero").tail(60)
    top = late[late["position"] == 0]
    assert (top["action"] == "P3").mean() > 0.8
    assert report["logged_value"]["n"] == 300


def test_a_contextual_slot_names_a_missing_feature(shop: Store) -> None:
    start_slot_policy(
        shop, "upsell", ["P1", "P2"], kind="linucb", features=["is_mobile", "cart_value"]
    )
    served = decide_slot(shop, "upsell", context={"is_mobile": 1, "cart_value": 35.0})
    assert len(served["items"]) == 1
    with pytest.raises(ConfigError, match=r"context\.cart_value: missing"):
        decide_slot(shop, "upsell", context={"is_mobile": 1})
    with pytest.raises(ConfigError, match=r"context\.is_mobile='yes'"):
        decide_slot(shop, "upsell", context={"is_mobile": "yes", "cart_value": 1})
    with pytest.raises(ConfigError, match="'linucb' needs context features"):
        start_slot_policy(shop, "bare", ["P1", "P2"], kind="linucb")
    with pytest.raises(ConfigError, match="'ucb' takes no context features"):
        start_slot_policy(shop, "bare", ["P1", "P2"], kind="ucb", features=["x"])
    with pytest.raises(ConfigError, match="epsilonn"):
        start_slot_policy(shop, "bare", ["P1", "P2"], kind="epsilon-greedy", params={"epsilonn": 1})
    with pytest.raises(NotFoundError, match="no running slot policy for slot 'nowhere'"):
        decide_slot(shop, "nowhere")


def test_a_stopped_policy_serves_nothing_but_keeps_its_log(shop: Store, tmp_path: Path) -> None:
    start_slot_policy(shop, "hero", ["P1", "P2", "P3"], positions=3, features=None)
    served = decide_slot(shop, "hero", rng=np.random.default_rng(0), at=DAY)
    record_outcomes(
        shop,
        [{"decision_id": i["decision_id"], "click": i["position"] == 0} for i in served["items"]],
    )
    stop_policy(shop, "slot:hero")
    with pytest.raises(NotFoundError):
        decide_slot(shop, "hero")
    path = tmp_path / "hero.csv"
    assert export_log(shop, "slot:hero", path) == 3
    exported = pd.read_csv(path)
    assert list(exported[["action", "position", "propensity", "reward"]].columns) == [
        "action",
        "position",
        "propensity",
        "reward",
    ]
    assert sorted(exported["position"]) == [0, 1, 2]
    assert exported["reward"].tolist() == [1.0, 0.0, 0.0]
    names = ["P1", "P2", "P3"]
    assert all(
        names[a] == n for a, n in zip(exported["action"], exported["action_name"], strict=True)
    )
    assert ope_log(shop, "slot:hero")["n_actions"].eq(3).all()


def test_products_without_a_cost_cannot_be_priced(store: Store, tmp_path: Path) -> None:
    products = PRODUCTS.replace(
        "P2,Milk 牛奶,Grocery > Dairy,12.5,8,", "P2,Milk 牛奶,Grocery > Dairy,12.5,,"
    )
    load_folder(write_shop(tmp_path / "shop", products=products), store)
    with pytest.raises(ConfigError, match="needs both a price and a cost"):
        start_price_policy(store, "P2")


def test_the_learned_value_is_estimated_off_policy_from_the_log(shop: Store) -> None:
    rails = PriceGuardrails(max_change_per_day=None, exploration_share=0.6)
    record = start_price_policy(shop, "P1", points=5, guardrails=rails)
    prices = np.asarray(record.config["prices"])
    chance = np.linspace(0.6, 0.2, len(prices))  # dearer sells less often
    worth = chance * (prices - 21.5)
    rng = np.random.default_rng(8)
    for _ in range(12):
        batch = [decide_price(shop, "P1", rng=rng, at=DAY) for _ in range(50)]
        bought = [
            bool(rng.random() < chance[int(np.flatnonzero(prices == d["price"])[0])]) for d in batch
        ]
        record_outcomes(
            shop,
            [
                {"decision_id": d["decision_id"], "purchase": b}
                for d, b in zip(batch, bought, strict=True)
            ],
        )
    report = policy_report(shop, get_policy(shop, "price:P1"), learned=True)
    learned = report["learned_value"]
    assert learned["n"] == 600 and learned["target"] == "best"
    best = report["actions"][int(np.argmax([a["estimate"] for a in report["actions"]]))]
    assert learned["action"] in {a["action"] for a in report["actions"] if a["outcomes"]}
    truth = worth[record.actions.index(learned["action"])]
    assert learned["low"] <= truth <= learned["high"]
    assert learned["low"] < learned["value"] < learned["high"]
    assert best["outcomes"] > 0


def test_outcomes_posted_at_once_lose_no_update(shop: Store) -> None:
    from concurrent.futures import ThreadPoolExecutor

    start_slot_policy(shop, "race", ["P1", "P2", "P3"])
    rng = np.random.default_rng(9)
    served = [decide_slot(shop, "race", rng=rng, at=DAY)["items"][0] for _ in range(40)]
    batches = [served[i : i + 5] for i in range(0, 40, 5)]

    def post(batch: list[dict]) -> None:
        for attempt in range(20):
            try:
                record_outcomes(
                    shop, [{"decision_id": d["decision_id"], "click": True} for d in batch]
                )
                return
            except StoreError:  # the store asks a writer to try again when busy
                if attempt == 19:
                    raise

    with ThreadPoolExecutor(max_workers=4) as pool:
        list(pool.map(post, batches))
    record = get_policy(shop, "slot:race")
    assert record.outcomes == 40 and record.version == 1 + len(batches)
    assert sum(record.state["counts"]) == 40
    assert [v["version"] for v in policy_versions(shop, "slot:race")] == list(range(1, 10))
