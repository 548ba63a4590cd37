"""The recommendation routes through the real app, over a model really trained once.

``trained_shop`` builds a small demo shop in a SQLite store and runs the
``recommend`` job on it in this thread (quick grids), once per test process;
the dashboard and browser tests reuse it. Each module gets its own app.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from shopkeeper.access import create_key
from shopkeeper.demo import DemoConfig, build_demo
from shopkeeper.jobs import run_job
from shopkeeper.service import create_app
from shopkeeper.service.api.routes.recommend import served_model
from shopkeeper.store import METADATA, Store
from shopkeeper.workspace import Workspace
from tests.service.artifacts import check_unreadable_is_503, new_workspace, promote_copy
from tests.service.conftest import auth
from tests.service.conftest import error_body as _error

API = "/api/v1/recommend"
ITEM_KEYS = {"product_id", "score", "reason", "title", "category"}


@dataclass
class TrainedShop:
    """A store with a small demo shop, its workspace with a trained recommend model."""

    store: Store
    workspace: Workspace
    job_id: str
    products: dict[str, bool]  # product id -> active
    declined: list[str]  # customers who declined personalisation and have history
    sample: str  # a consenting customer with history

    @property
    def active(self) -> set[str]:
        return {p for p, on in self.products.items() if on}

    @property
    def inactive(self) -> set[str]:
        return {p for p, on in self.products.items() if not on}


_BUILT: list[TrainedShop] = []


def trained_shop(factory: pytest.TempPathFactory) -> TrainedShop:
    """The demo shop with a trained model, built on first use (about 5 s)."""
    if _BUILT:
        return _BUILT[0]
    root = factory.mktemp("recommend")
    workspace = new_workspace(root)
    store = Store(workspace.database_url)
    store.create()
    build_demo(
        store, root / "demo", DemoConfig.preset("small", customers=300, products=120, days=90)
    )
    job = run_job(store, workspace, "recommend", {"quick": True})
    assert job.state == "done", job.error
    products, customers = METADATA.tables["products"], METADATA.tables["customers"]
    with store.engine.connect() as conn:
        catalog = {r.product_id: bool(r.active) for r in conn.execute(select(products))}
        declined = [
            r.customer_id
            for r in conn.execute(
                select(customers.c.customer_id).where(
                    customers.c.consent_personalization.is_(False)
                )
            )
        ]
    model = served_model(workspace)
    assert model is not None and model.sample_customer() is not None
    with_history = [c for c in declined if model.recs.history(c, 1)]
    assert catalog and with_history and not all(catalog.values())
    built = TrainedShop(
        store, workspace, job.job_id, catalog, with_history, str(model.sample_customer())
    )
    _BUILT.append(built)
    return built


@pytest.fixture(scope="module")
def shop(tmp_path_factory: pytest.TempPathFactory) -> TrainedShop:
    return trained_shop(tmp_path_factory)


@pytest.fixture(scope="module")
def api(shop: TrainedShop) -> Iterator[TestClient]:
    app = create_app(shop.workspace, store=shop.store)
    with TestClient(app, raise_server_exceptions=False) as client:
        yield client


@pytest.fixture(scope="module")
def reader(shop: TrainedShop) -> dict[str, str]:
    return auth(create_key(shop.store, "recommend reader", "reader")[1])


def _check_items(shop: TrainedShop, items: list[dict], n: int) -> None:
    assert 0 < len(items) <= n
    for item in items:
        assert set(item) == ITEM_KEYS, item
        assert item["product_id"] in shop.active, item  # real, active catalog ids
        assert item["reason"] and isinstance(item["score"], float)
    assert len({i["product_id"] for i in items}) == len(items)
    scores = [i["score"] for i in items]
    assert scores == sorted(scores, reverse=True)


# -- a customer's list ---------------------------------------------------------------------


def test_a_customers_list(api: TestClient, shop: TrainedShop, reader: dict[str, str]) -> None:
    answer = api.get(f"{API}/{shop.sample}", headers=reader)
    assert answer.status_code == 200 and answer.headers["content-type"] == "application/json"
    body = answer.json()
    assert set(body) == {"customer_id", "personal", "items", "model_job"}
    assert body["customer_id"] == shop.sample and body["personal"] is True
    assert body["model_job"] == shop.job_id
    assert len(body["items"]) == 10
    _check_items(shop, body["items"], 10)
    # Asked again (now from the cache): the same answer.
    assert api.get(f"{API}/{shop.sample}", headers=reader).json() == body
    three = api.get(f"{API}/{shop.sample}?n=3", headers=reader).json()["items"]
    assert three == body["items"][:3]


def test_inactive_products_are_never_recommended(
    api: TestClient, shop: TrainedShop, reader: dict[str, str]
) -> None:
    # The longest lists there are, for every customer with history and a newcomer.
    query = "?n=100&max_per_category=100"
    for customer in [shop.sample, *shop.declined[:3], "someone-new"]:
        items = api.get(f"{API}/{customer}{query}", headers=reader).json()["items"]
        ids = {i["product_id"] for i in items}
        assert len(ids) > len(shop.products) // 2, customer
        assert not ids & shop.inactive and ids <= shop.active, customer


def test_filters_by_category_and_caps_each_category(
    api: TestClient, shop: TrainedShop, reader: dict[str, str]
) -> None:
    everything = api.get(f"{API}/{shop.sample}?n=30", headers=reader).json()["items"]
    top = everything[0]["category"].split(" > ")[0]
    items = api.get(f"{API}/{shop.sample}", params={"category": top}, headers=reader).json()
    assert items["items"] and all(i["category"].startswith(top) for i in items["items"])
    capped = api.get(f"{API}/{shop.sample}?n=20&max_per_category=1", headers=reader).json()
    categories = [i["category"] for i in capped["items"]]
    assert len(categories) == len(set(categories))


def test_declined_personalisation_and_unknown_customers_get_the_shops_list(
    api: TestClient, shop: TrainedShop, reader: dict[str, str]
) -> None:
    declined = api.get(f"{API}/{shop.declined[0]}", headers=reader).json()
    assert declined["personal"] is False
    assert all("declined" in i["reason"] for i in declined["items"])
    newcomer = api.get(f"{API}/someone-new", headers=reader).json()
    assert newcomer["personal"] is False and newcomer["customer_id"] == "someone-new"
    _check_items(shop, newcomer["items"], 10)
    # Both get the same popular list (the declined customer's purchases aside).
    assert {i["product_id"] for i in declined["items"]} & {
        i["product_id"] for i in newcomer["items"]
    }


# -- products and sessions -------------------------------------------------------------------


def test_similar_items_and_bought_together(
    api: TestClient, shop: TrainedShop, reader: dict[str, str]
) -> None:
    product = api.get(f"{API}/{shop.sample}", headers=reader).json()["items"][0]["product_id"]
    for route in ("similar", "bought-together"):
        answer = api.get(f"{API}/{route}/{product}?n=5", headers=reader)
        assert answer.status_code == 200, answer.text
        body = answer.json()  # not taken for a customer called "similar"
        assert set(body) == {"product_id", "items", "model_job"} and body["product_id"] == product
        assert body["model_job"] == shop.job_id
        assert product not in {i["product_id"] for i in body["items"]}
        if body["items"]:
            _check_items(shop, body["items"], 5)
    similar = api.get(f"{API}/similar/{product}", headers=reader).json()["items"]
    assert len(similar) == 10


def test_unknown_products_are_404(api: TestClient, reader: dict[str, str]) -> None:
    for route in ("similar", "bought-together"):
        error = _error(api.get(f"{API}/{route}/NO-SUCH-SKU", headers=reader), 404, "not_found")
        assert "NO-SUCH-SKU" in error["message"]


def test_a_visitors_session(api: TestClient, shop: TrainedShop, reader: dict[str, str]) -> None:
    viewed = sorted(shop.active)[:2]
    answer = api.post(f"{API}/session", json={"recent": viewed, "n": 5}, headers=reader)
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert set(body) == {"recent", "items", "model_job"} and body["recent"] == viewed
    assert len(body["items"]) == 5
    _check_items(shop, body["items"], 5)
    assert not {i["product_id"] for i in body["items"]} & set(viewed)
    # Products the model does not know are ignored; the popular list fills up.
    unknown = api.post(f"{API}/session", json={"recent": ["NO-SUCH-SKU"]}, headers=reader)
    assert unknown.status_code == 200 and len(unknown.json()["items"]) == 10


# -- validation, errors and keys ---------------------------------------------------------------


@pytest.mark.parametrize(
    "path",
    [
        "/C-0001?n=0",
        "/C-0001?n=101",
        "/C-0001?n=ten",
        "/C-0001?max_per_category=0",
        "/similar/SKU-10001?n=0",
        "/bought-together/SKU-10001?n=1000",
    ],
)
def test_bad_queries_are_422(api: TestClient, reader: dict[str, str], path: str) -> None:
    error = _error(api.get(API + path, headers=reader), 422, "invalid_input")
    field = path.split("?")[1].split("=")[0]
    assert error["details"][0]["field"] == f"query.{field}"


@pytest.mark.parametrize(
    "body",
    [
        {"recent": []},
        {"recent": [f"SKU-{i}" for i in range(51)]},
        {"recent": ["SKU-10001"], "n": 0},
        {"recent": ["SKU-10001"], "n": 101},
        {"recent": [""]},
        {"recent": "SKU-10001"},
        {},
    ],
)
def test_bad_session_bodies_are_422(api: TestClient, reader: dict[str, str], body: dict) -> None:
    _error(api.post(f"{API}/session", json=body, headers=reader), 422, "invalid_input")


ROUTES = [
    ("get", "/C-0001"),
    ("get", "/similar/SKU-10001"),
    ("get", "/bought-together/SKU-10001"),
    ("post", "/session"),
]


@pytest.mark.parametrize(("method", "path"), ROUTES)
def test_every_route_needs_a_reader_key(
    api: TestClient, reader: dict[str, str], method: str, path: str
) -> None:
    send = getattr(api, method)
    extra = {"json": {"recent": ["SKU-10001"]}} if method == "post" else {}
    error = _error(send(API + path, **extra), 401, "unauthorized")
    assert "shopkeeper keys create" in error["message"]
    _error(
        send(API + path, headers=auth("sk_000000000000_" + "x" * 43), **extra), 401, "unauthorized"
    )
    assert send(API + path, headers=reader, **extra).status_code == 200


def test_without_a_model_every_route_says_how_to_train_one(
    shop: TrainedShop, tmp_path: Path
) -> None:
    app = create_app(new_workspace(tmp_path / "untrained"), store=shop.store)
    headers = auth(create_key(shop.store, "untrained reader", "reader")[1])
    with TestClient(app, raise_server_exceptions=False) as client:
        for method, path in ROUTES:
            extra = {"json": {"recent": ["SKU-10001"]}} if method == "post" else {}
            answer = getattr(client, method)(API + path, headers=headers, **extra)
            error = _error(answer, 409, "conflict")
            assert "shopkeeper train recommend" in error["message"], path
            assert "POST /api/v1/jobs" in error["message"] and "recommend" in error["message"]


def test_a_newly_promoted_model_is_served_from_the_next_request(
    shop: TrainedShop, tmp_path: Path
) -> None:
    workspace = new_workspace(tmp_path / "promoted")
    promote_copy(shop.workspace, workspace, "recommend", "20990101-000000-aaaaaa")
    app = create_app(workspace, store=shop.store)
    headers = auth(create_key(shop.store, "promoted reader", "reader")[1])
    with TestClient(app, raise_server_exceptions=False) as client:
        first = client.get(f"{API}/{shop.sample}", headers=headers).json()
        assert first["model_job"] == "20990101-000000-aaaaaa"
        promote_copy(shop.workspace, workspace, "recommend", "20990102-000000-bbbbbb")
        second = client.get(f"{API}/{shop.sample}", headers=headers).json()
        assert second["model_job"] == "20990102-000000-bbbbbb"
        assert second["items"] == first["items"]


def test_an_unreadable_model_is_503_not_a_crash(shop: TrainedShop, tmp_path: Path) -> None:
    path = f"{API}/{shop.sample}"
    check_unreadable_is_503(shop.store, tmp_path, "recommend", "recommender.pkl", path)


def test_the_routes_are_in_the_openapi_schema(api: TestClient) -> None:
    paths = api.get("/openapi.json").json()["paths"]
    for path in (
        "/api/v1/recommend/{customer_id}",
        "/api/v1/recommend/similar/{product_id}",
        "/api/v1/recommend/bought-together/{product_id}",
        "/api/v1/recommend/session",
    ):
        assert path in paths, path


def test_events_since_training_reach_the_list_without_retraining(
    api: TestClient, shop: TrainedShop, reader: dict[str, str]
) -> None:
    import pandas as pd

    from shopkeeper.ingest import load_frames

    newcomer = "C-FOLD-IN"  # not in the model, so no other test's customer changes
    before = api.get(f"{API}/{newcomer}", headers=reader).json()
    assert before["personal"] is False
    model = served_model(shop.workspace)
    assert model is not None
    viewed = sorted(shop.active)[:3]
    at = (model.recs.trained_until + pd.Timedelta(hours=1)).isoformat()
    load_frames(
        {
            "customers": pd.DataFrame({"customer_id": [newcomer]}),
            "events": pd.DataFrame(
                {
                    "event_id": [f"fold-{i}" for i in range(3)],
                    "at": [at] * 3,
                    "event": ["view", "view", "cart"],
                    "customer_id": [newcomer] * 3,
                    "product_id": viewed,
                }
            ),
        },
        shop.store,
        record=False,
    )
    after = api.get(f"{API}/{newcomer}", headers=reader).json()
    # The same model (no retraining) now answers from the new events.
    assert after["model_job"] == before["model_job"] == shop.job_id
    assert after["personal"] is True
    assert [i["product_id"] for i in after["items"]] != [i["product_id"] for i in before["items"]]
    assert not any("no history" in i["reason"] for i in after["items"])
