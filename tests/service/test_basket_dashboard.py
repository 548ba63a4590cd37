"""The baskets page through the real app, over the analysis computed for the API tests,
and the network chart's layout on its own."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from fastapi.testclient import TestClient

from shopkeeper.access import create_key
from shopkeeper.basket._analysis import ARTIFACT
from shopkeeper.service import create_app
from shopkeeper.service.dashboard._basket import (
    EDGE_WIDTHS,
    force_layout,
    network_chart,
    steps_125,
)
from shopkeeper.service.dashboard.i18n import TEXTS, translator
from tests.service.artifacts import new_workspace
from tests.service.conftest import auth
from tests.service.pages import html_of, logged_in, visible
from tests.service.test_basket_api import BasketShop, basket_shop

PAGE = "/baskets"
SECTIONS = ("summary", "network", "rules", "rules-map", "bundles")
CHARTS = ("network", "rules")
ROWS = 20


@pytest.fixture(scope="module")
def shop(tmp_path_factory: pytest.TempPathFactory) -> BasketShop:
    return basket_shop(tmp_path_factory)


@pytest.fixture(scope="module")
def web(shop: BasketShop) -> Iterator[TestClient]:
    yield from logged_in(shop.store, shop.workspace, PAGE, "baskets page")


def _page(client: TestClient, path: str = PAGE, status: int = 200) -> str:
    return html_of(client.get(path), status)


def _leaked_key(html: str) -> str | None:
    """A label key shown as text instead of its label, if any."""
    found = re.search(r"\b(?:basket|nav)\.[a-z_.0-9]+", visible(html))
    return found.group(0) if found else None


def _rows(html: str, table: str, attribute: str) -> list[str]:
    found = re.search(rf'data-table="{table}".*?<tbody>(.*?)</tbody>', html, re.S)
    assert found is not None, table
    return re.findall(rf'<tr data-{attribute}="([^"]+)"', found.group(1))


def _figure(html: str, name: str) -> dict[str, Any]:
    found = re.search(rf'<script type="application/json" id="figure-{name}">(.*?)</script>', html)
    assert found is not None, name
    figure: dict[str, Any] = json.loads(found.group(1).replace("<\\/", "</"))
    return figure


def _api(web: TestClient, shop: BasketShop, path: str) -> dict[str, Any]:
    headers = auth(create_key(shop.store, "page api", "reader")[1])
    answer = web.get(f"/api/v1/basket{path}", headers=headers)
    assert answer.status_code == 200, answer.text
    body: dict[str, Any] = answer.json()
    return body


# -- the page ----------------------------------------------------------------------------------


def test_the_page_shows_every_section_in_english(web: TestClient, shop: BasketShop) -> None:
    text = _page(web, f"{PAGE}?lang=en")
    assert "<h1>Baskets</h1>" in text and '<html lang="en">' in text
    assert shop.job_id in text and shop.analysis.period[0] in text
    for section in SECTIONS:
        assert f'id="{section}"' in text, section
    for chart in CHARTS:
        assert text.count(f'data-figure="figure-{chart}"') == 1, chart
    assert "plotly-" in text
    metrics = shop.analysis.metrics()
    for card, value in (
        ("orders", metrics["baskets"]),
        ("itemsets", metrics["itemsets"]),
        ("rules", metrics["rules"]),
        ("bundles", metrics["bundles"]),
    ):
        card_html = re.search(rf'data-card="{card}">.*?card-value">([^<]+)<', text, re.S)
        assert card_html is not None and card_html.group(1) == f"{value:,}", card
    assert "Products that sell together" in text and "Bundles worth offering" in text
    assert "Suggested discount" in text and "Margin kept" in text
    assert _leaked_key(text) is None
    # The nav entry, on every page.
    overview = _page(web, "/overview?lang=en")
    assert 'data-nav="baskets"' in overview and ">Baskets</span>" in overview


def test_the_rules_table_is_the_apis_top_rules_with_titles(
    web: TestClient, shop: BasketShop
) -> None:
    text = _page(web)
    rules = _api(web, shop, f"/rules?limit={ROWS}")["rules"]
    expected = ["+".join(r["antecedent"]) + "→" + "+".join(r["consequent"]) for r in rules]
    assert _rows(text, "rules", "rule") == expected and len(expected) == ROWS
    table = re.search(r'data-table="rules".*?</table>', text, re.S)
    assert table is not None
    for rule in rules[:5]:
        for title in rule["antecedent_titles"] + rule["consequent_titles"]:
            assert title in table.group(0), title
    assert f"{rules[0]['lift']:,.2f}" in table.group(0)


def test_the_bundle_table_shows_prices_discounts_and_margins(
    web: TestClient, shop: BasketShop
) -> None:
    text = _page(web)
    bundles = _api(web, shop, f"/bundles?limit={ROWS}")["bundles"]
    assert _rows(text, "bundles", "bundle") == ["+".join(b["items"]) for b in bundles]
    found = re.search(r'data-table="bundles".*?<tbody>(.*?)</tbody>', text, re.S)
    assert found is not None
    first = re.search(r"<tr data-bundle=.*?</tr>", found.group(1), re.S)
    assert first is not None
    row, b = first.group(0), bundles[0]
    for value in (
        f"{b['buyers']:,}",
        f"{b['buyers_per_30_days']:,.1f}",
        f"{b['price']:,.2f}",
        f"{b['bundle_price']:,.2f}",
        f"{b['margin_rate'] * 100:.1f}%",
        f"{b['bundle_margin_rate'] * 100:.1f}%",
    ):
        assert value in row, value
    assert all(title in row for title in b["titles"])
    discounted = next(x for x in bundles if x["discount"] > 0)
    assert f"<strong>{discounted['discount'] * 100:.0f}%</strong>" in found.group(1)


def test_the_network_chart_draws_the_apis_network(web: TestClient, shop: BasketShop) -> None:
    graph = _api(web, shop, "/network")
    figure = _figure(_page(web), "network")
    traces = figure["data"]
    lines = [t for t in traces if t["mode"] == "lines"]
    dots = [t for t in traces if t["mode"] == "markers+text"]
    middles = [t for t in traces if t["mode"] == "markers"]
    # Every pair drawn once (x, x, None per pair), wider lines for stronger lift.
    assert sum(len(t["x"]) for t in lines) == 3 * len(graph["edges"])
    widths = [t["line"]["width"] for t in lines]
    assert len(widths) > 1 and widths == sorted(widths) and set(widths) <= set(EDGE_WIDTHS)
    # Every product once, named on hover, the biggest dot for the most orders.
    ids = [c[1] for t in dots for c in t["customdata"]]
    assert sorted(ids) == sorted(n["id"] for n in graph["nodes"])
    titles = {n["id"]: n["title"] for n in graph["nodes"]}
    sizes = {}
    for t in dots:
        for c, size in zip(t["customdata"], t["marker"]["size"], strict=True):
            assert c[0] == titles[c[1]]
            sizes[c[1]] = size
    busiest = max(graph["nodes"], key=lambda n: n["orders"])["id"]
    assert sizes[busiest] == max(sizes.values())
    # Hover on the middle of each pair: both titles, lift and orders.
    assert len(middles) == 1 and len(middles[0]["customdata"]) == len(graph["edges"])
    assert figure["layout"]["xaxis"]["visible"] is False
    # Drawn the same way every time.
    assert _figure(_page(web), "network")["data"] == traces


def test_the_page_in_chinese(web: TestClient) -> None:
    text = _page(web, f"{PAGE}?lang=zh")
    assert '<html lang="zh-CN">' in text and "<h1>购物篮分析</h1>" in text
    for label in (
        "分析订单数",
        "频繁项集",
        "关联规则",
        "经常一起售出的商品",
        "最强关联规则",
        "规则分布图",
        "推荐组合套餐",
        "建议折扣",
        "折后毛利率",
        "提升度",
    ):
        assert label in text, label
    assert text.count("data-figure=") == len(CHARTS)
    # The charts speak the page's language too.
    assert "提升度" in json.dumps(_figure(text, "rules"), ensure_ascii=False)
    assert "订单数" in json.dumps(_figure(text, "network"), ensure_ascii=False)
    assert _leaked_key(text) is None
    assert ">购物篮</span>" in _page(web, "/overview")
    _page(web, f"{PAGE}?lang=en")  # back to English for the other tests


def test_without_an_analysis_the_page_says_how_to_compute_it(
    shop: BasketShop, tmp_path: Path
) -> None:
    app = create_app(new_workspace(tmp_path / "untrained"), store=shop.store)
    with TestClient(app, raise_server_exceptions=False) as client:
        assert client.get(PAGE, follow_redirects=False).headers["location"] == (
            "/login?next=%2Fbaskets"
        )
        _, token = create_key(shop.store, "untrained page", "reader")
        client.post("/login", data={"api_key": token})
        for lang, phrase in (("en", "No basket analysis"), ("zh", "尚未计算购物篮分析")):
            text = _page(client, f"{PAGE}?lang={lang}")
            assert phrase in text and "shopkeeper train basket" in text
            assert 'data-state="no-analysis"' in text and "data-figure" not in text
            assert "plotly-" not in text and _leaked_key(text) is None


def test_an_unreadable_analysis_is_said_on_the_page(shop: BasketShop, tmp_path: Path) -> None:
    workspace = new_workspace(tmp_path / "broken")
    folder = workspace.models_dir / "basket" / "20990101-000000-dddddd"
    folder.mkdir(parents=True)
    (folder / ARTIFACT).write_bytes(b"not a pickle")
    (folder.parent / "current.json").write_text(json.dumps({"job_id": folder.name}))
    with TestClient(create_app(workspace, store=shop.store)) as client:
        client.post("/login", data={"api_key": create_key(shop.store, "b", "reader")[1]})
        text = _page(client, f"{PAGE}?lang=en")
        assert 'data-error="analysis"' in text and "shopkeeper train basket" in text


def test_every_basket_label_has_both_languages() -> None:
    keys = [k for k in TEXTS if k.startswith("basket.")] + ["nav.baskets"]
    assert len(keys) > 30
    for key in keys:
        english, chinese = TEXTS[key]
        assert english.strip() and chinese.strip() and english != chinese, key


# -- the layout --------------------------------------------------------------------------------


def _ring_and_pairs() -> tuple[int, list[tuple[int, int]]]:
    """A ring of 12 nodes with a chord, and five separate pairs."""
    edges = [(i, (i + 1) % 12) for i in range(12)] + [(0, 6)]
    edges += [(12 + 2 * k, 13 + 2 * k) for k in range(5)]
    return 22, edges


def test_the_layout_is_deterministic_and_keeps_neighbours_close() -> None:
    n, edges = _ring_and_pairs()
    pos = force_layout(n, edges)
    assert pos.shape == (n, 2) and np.isfinite(pos).all()
    assert np.array_equal(pos, force_layout(n, edges))  # the same picture every time
    assert not np.array_equal(pos, force_layout(n, edges, seed=1))
    assert float(np.abs(pos).max()) == pytest.approx(1.0)
    assert np.allclose((pos.max(axis=0) + pos.min(axis=0)) / 2, 0)
    # Linked nodes sit closer than nodes taken at random, and no two coincide.
    linked = np.mean([np.linalg.norm(pos[a] - pos[b]) for a, b in edges])
    gaps = np.linalg.norm(pos[:, None] - pos[None, :], axis=2)[np.triu_indices(n, 1)]
    assert linked < 0.5 * gaps.mean() and gaps.min() > 0.02
    # Separate parts do not overlap: each pair is nearer its partner than the ring.
    ring = pos[:12]
    for k in range(5):
        a, b = pos[12 + 2 * k], pos[13 + 2 * k]
        assert np.linalg.norm(a - b) < np.linalg.norm(ring - a, axis=1).min()
    # Wider than high, to fill a wide chart.
    width, height = pos.max(axis=0) - pos.min(axis=0)
    assert width > height


def test_the_layout_of_tiny_graphs() -> None:
    assert force_layout(0, []).shape == (0, 2)
    assert np.array_equal(force_layout(1, []), np.zeros((1, 2)))
    two = force_layout(2, [(0, 1)])
    assert np.linalg.norm(two[0] - two[1]) > 0.5


def test_an_empty_network_draws_no_chart() -> None:
    t = translator("en")
    assert network_chart({"nodes": [], "edges": []}, {}, t) is None


def test_log_ticks_are_one_two_five() -> None:
    assert steps_125(0.0004, 0.011) == pytest.approx([0.0005, 0.001, 0.002, 0.005, 0.01])
    assert steps_125(1.5, 174) == [2, 5, 10, 20, 50, 100]
    assert steps_125(0, 1) == [] and steps_125(3, 2) == []
