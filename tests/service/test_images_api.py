"""The images routes over a real photo shop and its trained image model.

The shop (``images_shop.py``): 162 real Fashion-MNIST pictures in four categories
loaded through ingest, four of them under a wrong category, two without one;
the ``images`` job trained on it. Every answer is compared with the model itself.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from shopkeeper.access import create_key
from shopkeeper.images import ImageModel
from shopkeeper.service import create_app
from shopkeeper.store import Store
from tests.service.artifacts import new_workspace
from tests.service.conftest import auth, error_body, ok
from tests.service.images_shop import PLANTED, UNLABELLED, ImagesShop, images_shop

BASE = "/api/v1/images"


@pytest.fixture(scope="module")
def shop(tmp_path_factory: pytest.TempPathFactory) -> ImagesShop:
    return images_shop(tmp_path_factory)


@pytest.fixture(scope="module")
def model(shop: ImagesShop) -> ImageModel:
    return shop.model()


@pytest.fixture(scope="module")
def api(shop: ImagesShop) -> Iterator[TestClient]:
    with TestClient(create_app(shop.workspace, store=shop.store)) as client:
        yield client


@pytest.fixture(scope="module")
def reader(shop: ImagesShop) -> dict[str, str]:
    return auth(create_key(shop.store, "images reader", "reader")[1])


def test_the_summary_reports_the_held_out_check(
    api: TestClient, reader: dict[str, str], shop: ImagesShop, model: ImageModel
) -> None:
    body = ok(api.get(f"{BASE}/summary", headers=reader))
    assert body["job"] == shop.job_id
    report = body["report"]
    assert sorted(report["classes"]) == sorted(model.report.classes)
    confusion = report["confusion"]
    assert sum(map(sum, confusion)) == model.report.confusion.sum() == 162
    assert body["metrics"]["accuracy"] == pytest.approx(model.report.accuracy, abs=1e-4)
    # Four unlike classes: far better than always naming the largest one.
    assert body["metrics"]["accuracy"] > body["metrics"]["baseline_accuracy"] + 0.4
    assert {row["category"] for row in report["per_class"]} == set(report["classes"])


def test_mismatches_list_the_wrongly_labelled_products_first(
    api: TestClient, reader: dict[str, str], model: ImageModel
) -> None:
    body = ok(api.get(f"{BASE}/mismatches", params={"limit": 1000}, headers=reader))
    expected = model.mismatches()
    assert body["total"] == len(expected)
    assert [r["product_id"] for r in body["items"]] == list(expected["product_id"])
    found = {r["product_id"]: r for r in body["items"]}
    assert len(set(PLANTED) & set(found)) >= 3, found  # the planted ones, most of them
    for pid in set(PLANTED) & set(found):
        assert found[pid]["stated"] == PLANTED[pid]
        assert found[pid]["predicted"] != PLANTED[pid]
        assert found[pid]["p_stated"] <= 0.1 + 1e-9  # the default mismatch_confidence 0.9
    first = ok(api.get(f"{BASE}/mismatches", params={"limit": 2}, headers=reader))
    assert first["items"] == body["items"][:2]


def test_suggestions_name_a_category_for_the_unlabelled(
    api: TestClient, reader: dict[str, str]
) -> None:
    body = ok(api.get(f"{BASE}/suggestions", headers=reader))
    assert {r["product_id"] for r in body["items"]} == set(UNLABELLED)
    truth = {"P-8-040": "Bags", "P-1-040": "Fashion > Trousers"}
    for row in body["items"]:
        assert row["status"] == "unlabelled" and row["stated"] is None
        assert row["predicted"] == truth[row["product_id"]]
    more = ok(api.get(f"{BASE}/suggestions?include_mismatches=true", headers=reader))
    assert more["total"] > body["total"]


def test_a_product_answers_with_its_check_and_lookalikes(
    api: TestClient, reader: dict[str, str], model: ImageModel
) -> None:
    body = ok(api.get(f"{BASE}/products/P-5-001", params={"n": 5}, headers=reader))
    assert body["product"]["product_id"] == "P-5-001"
    assert body["product"]["stated"] == "Fashion > Sandals"
    expected = model.similar("P-5-001", 5)
    assert [r["product_id"] for r in body["items"]] == list(expected["product_id"])
    sims = [r["similarity"] for r in body["items"]]
    assert sims == sorted(sims, reverse=True) and sims[0] <= 1.0 + 1e-6
    assert "P-5-001" not in {r["product_id"] for r in body["items"]}
    # Sandals look like sandals: most lookalikes are sandals (as stated).
    assert sum(r["category"] == "Fashion > Sandals" for r in body["items"]) >= 4


def test_the_photo_is_served_and_only_the_catalogs(
    api: TestClient, reader: dict[str, str], shop: ImagesShop
) -> None:
    answer = api.get(f"{BASE}/products/P-8-002/photo", headers=reader)
    assert answer.status_code == 200
    assert answer.headers["content-type"] == "image/png"
    assert answer.content == (shop.folder / "images" / "P-8-002.png").read_bytes()
    error_body(api.get(f"{BASE}/products/NOPE/photo", headers=reader), 404, "not_found")
    error_body(api.get(f"{BASE}/products/NOPE", headers=reader), 404, "not_found")
    # No key, no photo.
    assert api.get(f"{BASE}/products/P-8-002/photo").status_code == 401


def test_a_new_photo_is_classified_with_its_lookalikes(
    api: TestClient, reader: dict[str, str], shop: ImagesShop
) -> None:
    body = (shop.folder / "images" / "P-1-010.png").read_bytes()
    files = {"photo": ("trousers.png", body, "image/png")}
    found = ok(api.post(f"{BASE}/classify", params={"n": 3}, files=files, headers=reader))
    assert found["photo"] == "trousers.png"
    assert found["predicted"] == "Fashion > Trousers" and 0.5 < found["confidence"] <= 1.0
    assert len(found["alternatives"]) == 2
    assert found["similar"][0]["product_id"] == "P-1-010"  # the same picture
    assert found["similar"][0]["similarity"] == pytest.approx(1.0, abs=1e-4)
    broken = {"photo": ("broken.png", b"\x89PNG\r\n\x1a\nnot really", "image/png")}
    answer = api.post(f"{BASE}/classify", files=broken, headers=reader)
    refused = error_body(answer, 422, "invalid_input")
    assert "broken.png" in refused["message"]


def test_without_a_model_the_routes_say_how_to_train(store: Store, tmp_path: Path) -> None:
    workspace = new_workspace(tmp_path / "ws")
    headers = auth(create_key(store, "no model", "reader")[1])
    with TestClient(create_app(workspace, store=store)) as client:
        for path in ("/summary", "/mismatches", "/products/P-1/photo"):
            body = error_body(client.get(f"{BASE}{path}", headers=headers), 409, "conflict")
            assert "shopkeeper images train" in body["message"]
