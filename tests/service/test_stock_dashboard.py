"""The stock page through the real app: forecasts, reorder plan, stock-out risk and carriers."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from shopkeeper.jobs import run_job
from shopkeeper.store import Store
from shopkeeper.workspace import Workspace
from tests.orders.shop import delivery_shop
from tests.service.artifacts import new_workspace
from tests.service.pages import html_of, logged_in, visible

PAGE = "/stock"


@dataclass
class StockShop:
    store: Store
    workspace: Workspace


_BUILT: list[StockShop] = []


def stock_shop(tmp_path_factory: pytest.TempPathFactory) -> StockShop:
    """The small demo with its orders job done, and forecast (fast baselines) and inventory."""
    if _BUILT:
        return _BUILT[0]
    built = delivery_shop(tmp_path_factory)
    store = Store(built.workspace.database_url)
    for kind, params in (
        ("forecast", {"models": "naive,ma", "horizon": 14}),
        ("inventory", {"holdout_days": 21, "warmup_days": 14}),
    ):
        job = run_job(store, built.workspace, kind, params)
        assert job.state == "done", job.error
    _BUILT.append(StockShop(store, built.workspace))
    return _BUILT[0]


@pytest.fixture(scope="module")
def shop(tmp_path_factory: pytest.TempPathFactory) -> StockShop:
    return stock_shop(tmp_path_factory)


@pytest.fixture(scope="module")
def page(shop: StockShop) -> Iterator[TestClient]:
    yield from logged_in(shop.store, shop.workspace, PAGE, "stock page reader")


def test_every_section_answers_from_its_job(page: TestClient) -> None:
    html = html_of(page.get(PAGE))
    for section in ("forecast", "plan", "risk", "carriers"):
        assert f'id="{section}"' in html
    assert 'data-state="no-' not in html
    # The chart: units sold, the backtest band and the forecast band for the default product.
    figure = json.loads(re.search(r'id="figure-forecast">(.*?)</script>', html, re.S).group(1))
    names = [trace.get("name") for trace in figure["data"]]
    assert any(n and n.startswith("sold") for n in names)
    assert any(n and n.startswith("forecast") for n in names)
    assert 'data-model-row="naive"' in html and "moving average (7)" in html
    # Carriers of the demo, with on-time rates; the plan with its totals.
    assert html.count("data-carrier=") >= 3 and "SF Express" in html
    assert "data-totals" in html and html.count("data-plan-row=") == 25
    text = visible(html)
    assert "Reorder plan" in text and "Carrier scorecard" in text


def test_the_plan_sorts_by_any_figure(page: TestClient) -> None:
    html = html_of(page.get(PAGE, params={"sort": "stock_value"}))
    assert 'data-sorted="stock_value"' in html
    values = re.findall(r'data-plan-row="[^"]+">.*?</tr>', html, re.S)
    stock = [
        float(v.rsplit('<td class="num">', 1)[1].split("<")[0].replace(",", "")) for v in values
    ]
    assert stock == sorted(stock, reverse=True) and stock[0] > stock[-1]
    # An unknown sort falls back to urgency rather than failing.
    assert 'data-sorted="urgency"' in html_of(page.get(PAGE, params={"sort": "nonsense"}))


def test_a_product_of_choice_and_an_unknown_one(page: TestClient) -> None:
    html = html_of(page.get(PAGE, params={"product": "SKU-10097"}))
    assert '<option value="SKU-10097" selected>' in html
    unknown = html_of(page.get(PAGE, params={"product": "NOPE"}))
    assert 'data-error="product"' in unknown and "no forecast for product" in unknown


def test_chinese_labels_and_sections_without_jobs(shop: StockShop, tmp_path: Path) -> None:
    zh = html_of(
        next(logged_in(shop.store, shop.workspace, PAGE, "zh reader")).get(
            PAGE, params={"lang": "zh"}
        )
    )
    assert "补货计划" in zh and "承运商评分" in zh
    empty = new_workspace(tmp_path / "none")
    client = next(logged_in(shop.store, empty, PAGE, "empty reader"))
    html = html_of(client.get(PAGE))
    for kind in ("forecast", "inventory", "orders"):
        assert f'data-state="no-{kind}"' in html and f"shopkeeper train {kind}" in html
