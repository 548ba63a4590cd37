"""The recommendations page through the real app, over the model trained for the API tests."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from shopkeeper.access import create_key
from shopkeeper.service import create_app
from shopkeeper.service.dashboard.i18n import TEXTS
from tests.service.artifacts import new_workspace
from tests.service.pages import html_of, logged_in, visible
from tests.service.test_recommend_api import TrainedShop, trained_shop

PAGE = "/recommendations"


@pytest.fixture(scope="module")
def shop(tmp_path_factory: pytest.TempPathFactory) -> TrainedShop:
    return trained_shop(tmp_path_factory)


@pytest.fixture(scope="module")
def web(shop: TrainedShop) -> Iterator[TestClient]:
    yield from logged_in(shop.store, shop.workspace, PAGE, "page reader")


def _page(web: TestClient, path: str, status: int = 200) -> str:
    return html_of(web.get(path), status)


def _leaked_key(html: str) -> str | None:
    """A label key of the table shown as text instead of its label, if any."""
    text = visible(html)
    return next((k for k in TEXTS if k.startswith(("rec.", "nav.")) and k in text), None)


def _rows(html: str, table: str) -> list[str]:
    found = re.search(rf'data-table="{table}".*?<tbody>(.*?)</tbody>', html, re.S)
    assert found is not None, table
    return re.findall(r'<tr data-(?:product|model)="([^"]+)"', found.group(1))


def test_the_page_shows_a_customers_history_next_to_their_list(
    web: TestClient, shop: TrainedShop
) -> None:
    text = _page(web, PAGE)
    assert "<h1>Recommendations</h1>" in text and '<html lang="en">' in text
    # Prefilled with a sample customer who has history.
    assert f'id="customer" name="customer" value="{shop.sample}"' in text
    history = _rows(text, "history")
    assert history and set(history) <= set(shop.products)
    assert "purchase" in visible(text)
    listed = _rows(text, "recommendations")
    assert len(listed) == 10 and set(listed) <= shop.active
    assert 'data-personal="true"' in text and shop.job_id in text
    assert _leaked_key(text) is None
    # The same list as the API gives.
    _, token = create_key(shop.store, "page api", "reader")
    api = web.get(
        f"/api/v1/recommend/{shop.sample}", headers={"Authorization": f"Bearer {token}"}
    ).json()
    assert listed == [i["product_id"] for i in api["items"]]


def test_the_models_validation_figures_table_chart_and_weights(
    web: TestClient, shop: TrainedShop
) -> None:
    text = _page(web, PAGE)
    metrics = shop_metrics(shop)
    models = _rows(text, "validation")
    expected = [k.removeprefix("validation_ndcg@10_") for k in metrics if "ndcg@10_" in k]
    assert sorted(models) == sorted(expected) and models[-1] == "hybrid"
    hybrid = f"{metrics['validation_ndcg@10_hybrid']:,.4f}"
    assert hybrid in text and "best single model" in text
    assert text.count('data-figure="figure-validation"') == 1 and "plotly-" in text
    assert set(_rows(text, "weights")) == set(metrics["weights"])


def shop_metrics(shop: TrainedShop) -> dict[str, Any]:
    from shopkeeper.service.api.routes.recommend import served_model

    model = served_model(shop.workspace)
    assert model is not None
    return model.recs.metrics


def test_the_page_in_chinese(web: TestClient, shop: TrainedShop) -> None:
    text = _page(web, f"{PAGE}?lang=zh")
    assert '<html lang="zh-CN">' in text and "<h1>个性化推荐</h1>" in text
    for label in ("历史行为", "推荐商品", "离线验证", "混合权重", "相似商品", "经常一起购买"):
        assert label in text, label
    assert "购买" in text and "个性化" in text
    assert _rows(text, "history") and len(_rows(text, "recommendations")) == 10
    assert _leaked_key(text) is None
    # The nav entry, in both languages, on every page.
    assert 'data-nav="recommendations"' in _page(web, "/overview") and "推荐" in text
    english = _page(web, "/overview?lang=en")
    assert ">Recommendations</span>" in english


def test_another_customer_and_the_non_personal_cases(web: TestClient, shop: TrainedShop) -> None:
    declined = _page(web, f"{PAGE}?customer={shop.declined[0]}")
    assert 'data-note="declined"' in declined and 'data-personal="false"' in declined
    assert f'value="{shop.declined[0]}"' in declined and _rows(declined, "history")
    newcomer = _page(web, f"{PAGE}?customer=someone-new")
    assert 'data-note="unknown-customer"' in newcomer and 'data-table="history"' not in newcomer
    assert len(_rows(newcomer, "recommendations")) == 10


def test_the_product_lookup(web: TestClient, shop: TrainedShop) -> None:
    text = _page(web, PAGE)
    product = re.search(r'id="product" name="product" value="([^"]+)"', text)
    assert product is not None and product.group(1) in shop.products  # a default product
    chosen = sorted(shop.active)[0]
    text = _page(web, f"{PAGE}?customer={shop.sample}&product={chosen}")
    similar = _rows(text, "similar")
    assert similar and chosen not in similar and set(similar) <= shop.active
    assert 'data-lookup="together"' in text
    missing = _page(web, f"{PAGE}?product=NO-SUCH-SKU", status=404)
    assert 'data-error="product"' in missing and "NO-SUCH-SKU" in missing
    assert _rows(missing, "recommendations")  # the rest of the page still shows


def test_without_a_model_the_page_says_how_to_train_one(shop: TrainedShop, tmp_path: Path) -> None:
    app = create_app(new_workspace(tmp_path / "untrained"), store=shop.store)
    with TestClient(app, raise_server_exceptions=False) as client:
        assert client.get(PAGE, follow_redirects=False).headers["location"] == (
            "/login?next=%2Frecommendations"
        )
        _, token = create_key(shop.store, "untrained page", "reader")
        client.post("/login", data={"api_key": token})
        for lang, phrase in (("en", "No recommend model"), ("zh", "尚未训练推荐模型")):
            text = _page(client, f"{PAGE}?lang={lang}")
            assert phrase in text and "shopkeeper train recommend" in text
            assert 'data-state="no-model"' in text and "data-figure" not in text
            assert _leaked_key(text) is None


def test_the_evaluation_table_lists_baselines_models_and_the_hybrid(
    web: TestClient, shop: TrainedShop
) -> None:
    html = _page(web, PAGE)
    models = _rows(html, "evaluation")
    assert models[0] == "popularity" and models[-1] == "hybrid"
    assert {"own history", "repeat", "item_knn", "ease", "als"} <= set(models)
    # The figures are the training run's own, shown to four decimals.
    hybrid = next(r for r in shop_metrics(shop)["evaluation"] if r["model"] == "hybrid")
    assert f"{hybrid['ndcg@10']:.4f}" in html
    assert 'id="chart-evaluation"' in html
