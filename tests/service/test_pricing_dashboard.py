"""The pricing page through the real app: policies, their values, one policy in detail."""

from __future__ import annotations

import json
import re

import numpy as np

from shopkeeper.decide import (
    decide_price,
    decide_slot,
    record_outcomes,
    start_price_policy,
    start_slot_policy,
)
from shopkeeper.store import Store
from shopkeeper.workspace import Workspace
from tests.service.pages import html_of, logged_in, visible

PAGE = "/pricing"


def _serve(store: Store) -> None:
    start_price_policy(store, "P1", points=5)
    start_slot_policy(store, "home", ["P1", "P2", "P3"], positions=2)
    rng = np.random.default_rng(0)
    prices = [decide_price(store, "P1", rng=rng) for _ in range(30)]
    record_outcomes(
        store,
        [{"decision_id": d["decision_id"], "purchase": i % 3 == 0} for i, d in enumerate(prices)],
    )
    for _ in range(10):
        items = decide_slot(store, "home", rng=rng)["items"]
        record_outcomes(
            store, [{"decision_id": i["decision_id"], "click": i["item"] == "P2"} for i in items]
        )


def test_the_page_lists_policies_with_values_and_shows_one(
    shop_store: Store, workspace: Workspace
) -> None:
    _serve(shop_store)
    for client in logged_in(shop_store, workspace, PAGE, "pricing page"):
        html = html_of(client.get(PAGE))
        rows = re.findall(r'data-policy="([^"]+)"', html)
        assert sorted(rows) == ["price:P1", "slot:home"]
        # Newest first; the newest running policy is shown in detail.
        assert 'class="chosen"' in html and 'data-figure="figure-actions"' in html
        # Its value now, estimated off-policy from its own log.
        assert "data-learned" in html and "estimated off-policy" in visible(html).lower()
        figure = json.loads(re.search(r'id="figure-actions">(.*?)</script>', html, re.S)[1])
        assert [t["type"] for t in figure["data"]] == ["bar", "bar", "scatter"]
        assert set(figure["data"][0]["x"]) == {"P1", "P2", "P3"}

        detail = html_of(client.get(PAGE, params={"policy": "price:P1"}))
        actions = re.findall(r'data-arm="([^"]+)"', detail)
        assert len(actions) == 5 and all(re.fullmatch(r"\d+\.\d\d", a) for a in actions)
        missing = html_of(client.get(PAGE, params={"policy": "nope"}))
        assert "no policy &#39;nope&#39;" in visible(missing)

        zh = html_of(client.get(PAGE, params={"lang": "zh"}))
        assert "进行中的实验" in visible(zh) and "运行中" in visible(zh)


def test_without_policies_the_page_says_how_to_start_one(
    shop_store: Store, workspace: Workspace
) -> None:
    for client in logged_in(shop_store, workspace, PAGE, "empty pricing page"):
        html = html_of(client.get(PAGE))
        assert 'data-state="no-policies"' in html
        assert "shopkeeper policies start-price" in visible(html)
        assert 'data-state="no-pricing"' in html and "shopkeeper train pricing" in visible(html)
