"""The delivery routes through the real app, over the orders analysis of the shared shop."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from shopkeeper.access import create_key
from shopkeeper.orders._train import ARTIFACT
from shopkeeper.service import create_app
from shopkeeper.service.api.routes.delivery import served_delivery
from shopkeeper.store import Store
from tests.orders.shop import DeliveryShop, delivery_shop
from tests.service.artifacts import (
    check_loaded_once_then_newer,
    check_unreadable_is_503,
    new_workspace,
)
from tests.service.conftest import auth, error_body, ok

API = "/api/v1/delivery"


@pytest.fixture(scope="module")
def shop(tmp_path_factory: pytest.TempPathFactory) -> DeliveryShop:
    return delivery_shop(tmp_path_factory)


@pytest.fixture(scope="module")
def store(shop: DeliveryShop) -> Iterator[Store]:
    found = Store(shop.workspace.database_url)
    yield found
    found.close()


@pytest.fixture(scope="module")
def api(shop: DeliveryShop, store: Store) -> Iterator[tuple[TestClient, dict[str, str]]]:
    app = create_app(shop.workspace, store=store)
    headers = auth(create_key(store, "delivery reader", "reader")[1])
    with TestClient(app, raise_server_exceptions=False) as client:
        yield client, headers


def test_at_risk_lists_open_orders_riskiest_first(api: tuple[TestClient, dict]) -> None:
    client, headers = api
    body = ok(client.get(f"{API}/at-risk", params={"limit": 10}, headers=headers))
    assert body["job"] and body["total"] > 10 and len(body["orders"]) == 10
    risks = [o["risk"] for o in body["orders"]]
    assert risks == sorted(risks, reverse=True)
    first = body["orders"][0]
    assert {"order_id", "carrier", "deadline", "risk", "model_risk", "reasons"} <= set(first)
    assert isinstance(first["reasons"], list) and first["reasons"]
    only = ok(
        client.get(
            f"{API}/at-risk", params={"carrier": "SF Express", "min_risk": 0.0}, headers=headers
        )
    )
    assert only["total"] > 0 and {o["carrier"] for o in only["orders"]} == {"SF Express"}


def test_carriers_and_flags_and_evaluation(api: tuple[TestClient, dict]) -> None:
    client, headers = api
    body = ok(client.get(f"{API}/carriers", params={"weekly": True}, headers=headers))
    names = [c["carrier"] for c in body["carriers"]]
    assert set(names) == {"SF Express", "JD Logistics", "ZTO Express", "YTO Express"}
    assert body["weekly"] and {"week", "on_time_rate"} <= set(body["weekly"][0])
    flags = ok(client.get(f"{API}/flags", params={"kind": "burst"}, headers=headers))
    assert flags["total"] > 0 and {f["kind"] for f in flags["flags"]} == {"burst"}
    chase = ok(client.get(f"{API}/flags", params={"open_only": True}, headers=headers))
    assert all(f["open"] for f in chase["flags"])
    ev = ok(client.get(f"{API}/evaluation", headers=headers))
    models = {m["model"] for m in ev["evaluation"]["models"]}
    assert models == {"carrier rule", "logistic", "lightgbm default", "shopkeeper"}
    assert ev["importance"][0]["feature"]


def test_bad_queries_and_keys_are_refused(api: tuple[TestClient, dict]) -> None:
    client, headers = api
    error_body(client.get(f"{API}/at-risk"), 401, "unauthorized")
    error_body(
        client.get(f"{API}/flags", params={"kind": "odd"}, headers=headers), 422, "invalid_input"
    )
    error_body(
        client.get(f"{API}/at-risk", params={"limit": 0}, headers=headers), 422, "invalid_input"
    )
    # The raw orders route is untouched beside this one.
    assert ok(client.get("/api/v1/orders", params={"limit": 2}, headers=headers))["items"]


def test_before_the_first_job_the_routes_say_how(store: Store, tmp_path: Path) -> None:
    app = create_app(new_workspace(tmp_path / "empty"), store=store)
    headers = auth(create_key(store, "empty reader", "reader")[1])
    with TestClient(app, raise_server_exceptions=False) as client:
        err = error_body(client.get(f"{API}/carriers", headers=headers), 409, "conflict")
        assert "shopkeeper train orders" in err["message"]


def test_the_artifact_is_loaded_once_and_replaced(
    shop: DeliveryShop, store: Store, tmp_path: Path
) -> None:
    check_loaded_once_then_newer(
        store,
        shop.workspace,
        tmp_path / "promoted",
        "orders",
        served_delivery,
        f"{API}/carriers",
        f"{API}/flags",
    )
    check_unreadable_is_503(store, tmp_path / "broken", "orders", ARTIFACT, f"{API}/at-risk")
