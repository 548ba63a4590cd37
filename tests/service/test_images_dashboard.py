"""The product-images page through the real app, over the photo shop and its trained model
(``images_shop.py``), every figure compared with the API's answer or the model itself."""

from __future__ import annotations

import html as htmllib
import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from shopkeeper.access import create_key
from shopkeeper.images import ARTIFACT, ImageModel
from shopkeeper.service import create_app
from shopkeeper.service.dashboard._images import MISMATCH_ROWS, SUGGESTION_ROWS
from shopkeeper.service.dashboard.i18n import TEXTS
from tests.service.artifacts import new_workspace
from tests.service.conftest import auth
from tests.service.images_shop import PLANTED, UNLABELLED, ImagesShop, images_shop
from tests.service.pages import html_of, logged_in, visible

PAGE = "/images"
SECTIONS = ("summary", "product", "mismatches", "suggestions", "confusion", "per-class")


@pytest.fixture(scope="module")
def shop(tmp_path_factory: pytest.TempPathFactory) -> ImagesShop:
    return images_shop(tmp_path_factory)


@pytest.fixture(scope="module")
def model(shop: ImagesShop) -> ImageModel:
    return shop.model()


@pytest.fixture(scope="module")
def web(shop: ImagesShop) -> Iterator[TestClient]:
    yield from logged_in(shop.store, shop.workspace, PAGE, "images page")


def _page(client: TestClient, path: str = PAGE, status: int = 200) -> str:
    return html_of(client.get(path), status)


def _leaked_key(html: str) -> str | None:
    """A label key shown as text instead of its label, if any."""
    found = re.search(r"\b(?:images|nav)\.[a-z_.0-9]+", visible(html))
    return found.group(0) if found else None


def _section(html: str, name: str) -> str:
    found = re.search(rf'<section class="panel" id="{name}">(.*?)</section>', html, re.S)
    assert found is not None, name
    return found.group(1)


def _rows(html: str, table: str) -> list[str]:
    found = re.search(rf'data-table="{table}".*?<tbody>(.*?)</tbody>', html, re.S)
    assert found is not None, table
    found_keys = re.findall(r'<tr data-(?:product|category)="([^"]+)"', found.group(1))
    return [htmllib.unescape(k) for k in found_keys]


def _figure(html: str, name: str) -> dict[str, Any]:
    found = re.search(rf'<script type="application/json" id="figure-{name}">(.*?)</script>', html)
    assert found is not None, name
    figure: dict[str, Any] = json.loads(found.group(1).replace("<\\/", "</"))
    return figure


def _api(web: TestClient, shop: ImagesShop, path: str) -> dict[str, Any]:
    headers = auth(create_key(shop.store, "images page api", "reader")[1])
    answer = web.get(f"/api/v1/images{path}", headers=headers)
    assert answer.status_code == 200, answer.text
    body: dict[str, Any] = answer.json()
    return body


def _card(html: str, name: str) -> str:
    found = re.search(rf'data-card="{name}">.*?card-value">([^<]+)<', html, re.S)
    assert found is not None, name
    return found.group(1)


# -- the page ----------------------------------------------------------------------------------


def test_the_page_shows_the_models_figures_in_english(
    web: TestClient, shop: ImagesShop, model: ImageModel
) -> None:
    text = _page(web, f"{PAGE}?lang=en")
    assert "<h1>Product images</h1>" in text and '<html lang="en">' in text
    assert shop.job_id in text
    for section in SECTIONS:
        assert f'id="{section}"' in text, section
    assert text.count("data-figure=") == 1 and "plotly-" in text
    m = model.metrics()
    assert _card(text, "products") == f"{m['products']:,}"
    assert _card(text, "categories") == f"{m['categories']:,}"
    assert _card(text, "accuracy") == f"{m['accuracy'] * 100:.1f}%"
    assert f"{m['baseline_accuracy'] * 100:.1f}% by always naming the largest category" in text
    assert _card(text, "mismatches") == f"{m['mismatches']:,}"
    assert _card(text, "suggestions") == f"{m['suggestions']:,}" == f"{len(UNLABELLED)}"
    # Fashion-MNIST's photos are 28 x 28: drawn with square pixels.
    assert 'class="image-page photos-pixelated"' in text
    assert "Mismatched categories" in text and "Confusion matrix" in text
    assert _leaked_key(text) is None
    # The nav entry, on every page.
    overview = _page(web, "/overview?lang=en")
    assert 'data-nav="images"' in overview and ">Images</span>" in overview


def test_the_mismatch_and_suggestion_rows_are_the_apis(web: TestClient, shop: ImagesShop) -> None:
    text = _page(web)
    mismatches = _api(web, shop, f"/mismatches?limit={MISMATCH_ROWS}")
    assert _rows(text, "mismatches") == [r["product_id"] for r in mismatches["items"]]
    assert len(set(PLANTED) & set(_rows(text, "mismatches"))) >= 3
    section = _section(text, "mismatches")
    for row in mismatches["items"]:
        found = re.search(rf'<tr data-product="{row["product_id"]}">(.*?)</tr>', section, re.S)
        assert found is not None
        cells = htmllib.unescape(found.group(1))
        assert row["stated"] in cells and row["predicted"] in cells
        assert f"{row['confidence'] * 100:.1f}%" in cells
        # Each row opens its product view, with its thumbnail.
        assert f'href="/images?product={row["product_id"]}#product"' in cells
        assert f'src="/images/photo/{row["product_id"]}"' in cells
    suggestions = _api(web, shop, f"/suggestions?limit={SUGGESTION_ROWS}")
    assert _rows(text, "suggestions") == [r["product_id"] for r in suggestions["items"]]
    assert set(_rows(text, "suggestions")) == set(UNLABELLED)


def test_the_default_product_view_is_the_first_mismatch(web: TestClient, model: ImageModel) -> None:
    first = str(model.mismatches(1)["product_id"].iloc[0])
    assert f'data-product="{first}"' in _section(_page(web), "product")


def test_a_product_view_shows_its_photo_check_and_lookalikes(
    web: TestClient, shop: ImagesShop, model: ImageModel
) -> None:
    section = _section(_page(web, f"{PAGE}?product=P-5-001&lang=en"), "product")
    assert 'data-product="P-5-001"' in section
    api = _api(web, shop, "/products/P-5-001?n=10")
    check = api["product"]
    stated = re.search(r"<dd data-stated>(.*?)</dd>", section, re.S)
    assert stated is not None and htmllib.unescape(stated.group(1)).strip() == check["stated"]
    assert htmllib.unescape(check["predicted"]) in htmllib.unescape(section)
    assert f"<strong data-confidence>{check['confidence'] * 100:.1f}%</strong>" in section
    # The large photo first (eager), then a grid of lookalikes, each its own product view.
    assert re.search(
        r'<img class="photo" src="/images/photo/P-5-001" width="224" height="224" '
        r'alt="Item P-5-001" data-photo',
        section,
    )
    shown = re.findall(r'<li class="lookalike" data-similar="([^"]+)">', section)
    expected = model.similar("P-5-001", min(12, model.settings.neighbours))
    assert shown == list(expected["product_id"]) == [r["product_id"] for r in api["items"]]
    for pid, title, similarity in zip(
        expected["product_id"], expected["title"], expected["similarity"], strict=True
    ):
        item = re.search(rf'data-similar="{pid}">(.*?)</li>', section, re.S)
        assert item is not None
        body = item.group(1)
        assert f'href="/images?product={pid}#product"' in body
        assert (
            f'<img class="photo" src="/images/photo/{pid}" width="96" height="96" '
            f'alt="{title}" loading="lazy"'
        ) in body
        assert f"<strong>{similarity:,.2f}</strong>" in body
    # Sandals look like sandals.
    assert section.count("Fashion &gt; Sandals") >= 5


def test_an_unknown_product_is_said_clearly(web: TestClient) -> None:
    for lang, phrase in (
        ("en", "Product NOPE&lt;1&gt; has no photo in this image model."),
        ("zh", "商品 NOPE&lt;1&gt; 在此图片模型中没有图片。"),
    ):
        text = _page(web, f"{PAGE}?product=NOPE%3C1%3E&lang={lang}", status=404)
        assert phrase in _section(text, "product") and 'data-error="product"' in text
        assert "<1>" not in text  # escaped, never markup
        # The rest of the page still stands.
        assert 'data-table="mismatches"' in text and text.count("data-figure=") == 1
    section = _section(_page(web, f"{PAGE}?product={'x' * 500}&lang=en", status=404), "product")
    assert "x" * 200 + "…" in section and "x" * 201 not in section


def test_the_photo_route_needs_a_session_and_serves_the_catalogs_files(
    web: TestClient, shop: ImagesShop
) -> None:
    answer = web.get("/images/photo/P-8-002")
    assert answer.status_code == 200 and answer.headers["content-type"] == "image/png"
    assert answer.content == (shop.folder / "images" / "P-8-002.png").read_bytes()
    assert answer.headers["x-content-type-options"] == "nosniff"
    assert "private" in answer.headers["cache-control"]
    assert web.get("/images/photo/NOPE").status_code == 404
    # Only the files the model's catalog names, never a path made up in the address.
    for sneaky in ("../products.csv", "images/P-8-002.png", "%2E%2E%2Fproducts.csv"):
        assert web.get(f"/images/photo/{sneaky}").status_code == 404, sneaky
    app = create_app(shop.workspace, store=shop.store)
    with TestClient(app) as stranger:
        # No session: to the login form, as every dashboard address; an API key is no help.
        refused = stranger.get("/images/photo/P-8-002", follow_redirects=False)
        assert refused.status_code == 303
        assert refused.headers["location"] == "/login?next=%2Fimages%2Fphoto%2FP-8-002"
        headers = auth(create_key(shop.store, "images photo key", "reader")[1])
        keyed = stranger.get("/images/photo/P-8-002", headers=headers, follow_redirects=False)
        assert keyed.status_code == 303


def test_the_confusion_chart_and_table_are_the_held_out_report(
    web: TestClient, model: ImageModel
) -> None:
    text = _page(web, f"{PAGE}?lang=en")
    figure = _figure(text, "confusion")
    (heatmap,) = figure["data"]
    report = model.report
    assert heatmap["type"] == "heatmap" and heatmap["y"] == list(report.classes)
    counts = report.confusion.tolist()
    assert heatmap["text"] == [[str(c) for c in row] for row in counts]
    for row, shares in zip(counts, heatmap["z"], strict=True):
        assert shares == pytest.approx([c / sum(row) for c in row])
    per_class = report.per_class()
    assert _rows(text, "per-class") == list(per_class["category"])
    table = _section(text, "per-class")
    for row in per_class.itertuples():
        name = htmllib.escape(str(row.category))
        found = re.search(rf'<tr data-category="{name}">(.*?)</tr>', table, re.S)
        assert found is not None
        assert f"{row.recall * 100:.1f}%" in found.group(1)
        assert f"{row.precision * 100:.1f}%" in found.group(1)


def test_the_page_in_chinese(web: TestClient) -> None:
    text = _page(web, f"{PAGE}?lang=zh")
    assert '<html lang="zh-CN">' in text and "<h1>商品图片</h1>" in text
    for label in (
        "有图片的商品",
        "留出准确率",
        "类目不符的商品",
        "类目建议",
        "外观相似的商品",
        "标注类目",
        "预测类目",
        "混淆矩阵",
        "召回率",
        "精确率",
    ):
        assert label in text, label
    assert "预测类目" in json.dumps(_figure(text, "confusion"), ensure_ascii=False)
    assert _leaked_key(text) is None
    assert ">商品图片</span>" in _page(web, "/overview")
    _page(web, f"{PAGE}?lang=en")  # back to English for the other tests


def test_without_a_model_the_page_says_how_to_train(shop: ImagesShop, tmp_path: Path) -> None:
    app = create_app(new_workspace(tmp_path / "untrained"), store=shop.store)
    with TestClient(app, raise_server_exceptions=False) as client:
        assert client.get(PAGE, follow_redirects=False).headers["location"] == (
            "/login?next=%2Fimages"
        )
        client.post("/login", data={"api_key": create_key(shop.store, "untrained", "reader")[1]})
        for lang, phrase in (
            ("en", "No image model has been trained yet"),
            ("zh", "尚未训练图片模型"),
        ):
            text = _page(client, f"{PAGE}?lang={lang}")
            assert phrase in text and "shopkeeper images train" in text
            assert 'data-state="no-model"' in text and "data-figure" not in text
            assert "plotly-" not in text and _leaked_key(text) is None
        assert client.get("/images/photo/P-1-001").status_code == 409


def test_an_unreadable_model_is_said_on_the_page(shop: ImagesShop, tmp_path: Path) -> None:
    workspace = new_workspace(tmp_path / "broken")
    folder = workspace.models_dir / "images" / "20990101-000000-dddddd"
    folder.mkdir(parents=True)
    (folder / ARTIFACT).write_bytes(b"not a pickle")
    (folder.parent / "current.json").write_text(json.dumps({"job_id": folder.name}))
    with TestClient(create_app(workspace, store=shop.store)) as client:
        client.post("/login", data={"api_key": create_key(shop.store, "b", "reader")[1]})
        text = _page(client, f"{PAGE}?lang=en")
        assert 'data-error="model"' in text and "shopkeeper images train" in text


def test_every_images_label_has_both_languages() -> None:
    keys = [k for k in TEXTS if k.startswith("images.")] + ["nav.images"]
    assert len(keys) > 40
    for key in keys:
        english, chinese = TEXTS[key]
        assert english.strip() and chinese.strip() and english != chinese, key
