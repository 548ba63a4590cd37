"""Every API route through the real app: answers, roles, and each error path."""

from __future__ import annotations

import json
import logging

import pytest
from fastapi.testclient import TestClient

from shopkeeper.store import Store
from tests.service.conftest import auth
from tests.service.conftest import error_body as _error

GETS = [
    "/api/v1/products",
    "/api/v1/products/P1",
    "/api/v1/customers",
    "/api/v1/customers/C1",
    "/api/v1/orders",
    "/api/v1/orders/O1",
    "/api/v1/events",
    "/api/v1/jobs",
    "/api/v1/jobs/kinds",
    "/api/v1/figures/overview",
    "/api/v1/keys",
]
EVENT = {"at": "2024-11-15T10:00:00+08:00", "event": "view", "session_id": "s9", "product_id": "P1"}


def test_health_and_readiness_need_no_key(client: TestClient) -> None:
    assert client.get("/api/v1/health").json()["status"] == "ok"
    ready = client.get("/api/v1/ready").json()
    assert ready["status"] == "ready" and ready["database"] in ("sqlite", "postgresql")


@pytest.mark.parametrize("path", GETS)
def test_every_other_route_needs_a_valid_key(
    client: TestClient, tokens: dict[str, str], path: str
) -> None:
    error = _error(client.get(path), 401, "unauthorized")
    assert "shopkeeper keys create" in error["message"]
    _error(client.get(path, headers=auth("sk_000000000000_" + "x" * 43)), 401, "unauthorized")
    _error(client.get(path, headers=auth("not-a-key")), 401, "unauthorized")
    _error(
        client.get(path, headers={"Authorization": f"Basic {tokens['admin']}"}), 401, "unauthorized"
    )
    assert client.get(path, headers=auth(tokens["admin"])).status_code == 200
    assert client.get(path, headers={"X-API-Key": tokens["admin"]}).status_code == 200


@pytest.mark.parametrize(
    ("method", "path", "role", "body"),
    [
        ("post", "/api/v1/events", "reader", {"events": [EVENT]}),
        ("post", "/api/v1/orders", "reader", {"order": {"order_id": "X"}}),
        ("post", "/api/v1/jobs", "reader", {"kind": "figures"}),
        ("get", "/api/v1/keys", "operator", None),
        ("post", "/api/v1/keys", "operator", {"name": "x", "role": "reader"}),
        ("delete", "/api/v1/keys/abc", "operator", None),
    ],
)
def test_wrong_role_is_forbidden(
    client: TestClient, tokens: dict[str, str], method: str, path: str, role: str, body: object
) -> None:
    response = client.request(method, path, headers=auth(tokens[role]), json=body)
    error = _error(response, 403, "forbidden")
    assert f"is a {role}" in error["message"]


def test_products_list_filter_page_and_one(client: TestClient, tokens: dict[str, str]) -> None:
    h = auth(tokens["reader"])
    listed = client.get("/api/v1/products", headers=h).json()
    assert listed["total"] == 3 and [p["product_id"] for p in listed["items"]] == ["P1", "P2", "P3"]
    assert listed["items"][0]["extra"] == {"colour": "beige"}  # kept unknown column
    paged = client.get("/api/v1/products?limit=1&offset=1", headers=h).json()
    assert [p["product_id"] for p in paged["items"]] == ["P2"] and paged["total"] == 3
    grocery = client.get("/api/v1/products", params={"q": "Milk"}, headers=h).json()
    assert [p["product_id"] for p in grocery["items"]] == ["P2"]
    one = client.get("/api/v1/products/P3", headers=h).json()
    assert one["title"] == "Phone case" and one["price"] == 59.0
    error = _error(client.get("/api/v1/products/NOPE", headers=h), 404, "not_found")
    assert "NOPE" in error["message"]
    error = _error(client.get("/api/v1/products?limit=0", headers=h), 422, "invalid_input")
    assert error["details"][0]["field"] == "query.limit"


@pytest.mark.parametrize("path", ["products", "customers", "orders", "events"])
def test_an_offset_past_any_store_is_refused_not_overflowed(
    client: TestClient, tokens: dict[str, str], path: str
) -> None:
    # Found by fuzzing the API: 2**70 overflowed SQLite's 64-bit integers into a 500.
    h = auth(tokens["admin"])
    error = _error(client.get(f"/api/v1/{path}?offset={2**70}", headers=h), 422, "invalid_input")
    assert error["details"][0]["field"] == "query.offset"
    assert client.get(f"/api/v1/{path}?offset={10**12}", headers=h).status_code == 200


def test_personal_data_only_for_admins(client: TestClient, tokens: dict[str, str]) -> None:
    reader = client.get("/api/v1/customers/C1", headers=auth(tokens["reader"])).json()
    assert reader["city"] == "上海" and "email" not in reader and "phone" not in reader
    listed = client.get("/api/v1/customers", headers=auth(tokens["operator"])).json()
    assert all("email" not in c for c in listed["items"])
    admin = client.get("/api/v1/customers/C1", headers=auth(tokens["admin"])).json()
    assert admin["email"] == "a@example.com"
    _error(client.get("/api/v1/customers/C9", headers=auth(tokens["admin"])), 404, "not_found")


def test_orders_list_and_one_with_lines(client: TestClient, tokens: dict[str, str]) -> None:
    h = auth(tokens["reader"])
    listed = client.get("/api/v1/orders", headers=h).json()
    assert [o["order_id"] for o in listed["items"]] == ["O3", "O2", "O1"]  # newest first
    mine = client.get("/api/v1/orders", params={"customer_id": "C1"}, headers=h).json()
    assert [o["order_id"] for o in mine["items"]] == ["O1"]
    since = client.get("/api/v1/orders", params={"since": "2024-11-12T00:00:00Z"}, headers=h)
    assert [o["order_id"] for o in since.json()["items"]] == ["O3", "O2"]
    one = client.get("/api/v1/orders/O1", headers=h).json()
    assert one["ordered_at"] == "2024-11-10T16:03:12Z"  # +08:00 stored as UTC
    assert [(x["product_id"], x["quantity"]) for x in one["lines"]] == [("P1", 2), ("P2", 1)]
    _error(client.get("/api/v1/orders/O404", headers=h), 404, "not_found")
    _error(client.get("/api/v1/orders?since=soon", headers=h), 422, "invalid_input")


def test_events_are_validated_stored_and_idempotent(
    client: TestClient, tokens: dict[str, str], shop_store: Store
) -> None:
    h = auth(tokens["operator"])
    before = shop_store.count("events")
    batch = {"events": [EVENT, {**EVENT, "event": "cart", "at": "2024-11-15T10:01:00+08:00"}]}
    posted = client.post("/api/v1/events", json=batch, headers=h)
    assert posted.status_code == 202 and posted.json() == {"accepted": 2}
    assert shop_store.count("events") == before + 2
    again = client.post("/api/v1/events", json=batch, headers=h)
    assert again.status_code == 202
    assert shop_store.count("events") == before + 2  # same rows, same derived key
    listed = client.get("/api/v1/events", params={"session_id": "s9"}, headers=h).json()
    assert [e["event"] for e in listed["items"]] == ["cart", "view"]


@pytest.mark.parametrize(
    ("event", "field", "reason"),
    [
        ({**EVENT, "at": "yesterday"}, "events[1].at", "must be an ISO 8601 date or time"),
        ({**EVENT, "event": "hover"}, "events[1].event", "must be one of"),
        ({**EVENT, "product_id": "P404"}, "events[1].product_id", "does not exist in products"),
        ({"event": "view"}, "events[1].at", "must not be empty"),
        ({**EVENT, "query": {"nested": 1}}, "events[1].query", "must be a single value"),
    ],
)
def test_a_bad_event_stores_nothing_and_names_the_field(
    client: TestClient,
    tokens: dict[str, str],
    shop_store: Store,
    event: dict,
    field: str,
    reason: str,
) -> None:
    before = shop_store.checksums()
    body = {"events": [{**EVENT, "session_id": "ok"}, event]}
    error = _error(
        client.post("/api/v1/events", json=body, headers=auth(tokens["operator"])),
        422,
        "invalid_input",
    )
    assert any(d["field"] == field and reason in d["reason"] for d in error["details"]), error
    assert shop_store.checksums() == before


def test_malformed_and_empty_bodies(client: TestClient, tokens: dict[str, str]) -> None:
    h = {**auth(tokens["operator"]), "Content-Type": "application/json"}
    error = _error(
        client.post("/api/v1/events", content=b"{not json", headers=h), 422, "invalid_input"
    )
    assert error["details"]
    error = _error(
        client.post("/api/v1/events", json={"events": []}, headers=h), 422, "invalid_input"
    )
    assert error["details"][0]["field"] == "events"
    _error(client.post("/api/v1/events", json=[EVENT], headers=h), 422, "invalid_input")


def test_oversize_bodies_are_refused_before_reading(
    client: TestClient, tokens: dict[str, str], shop_store: Store
) -> None:
    before = shop_store.count("events")
    huge = {"events": [{**EVENT, "query": "x" * 2_000_000}]}
    error = _error(
        client.post("/api/v1/events", json=huge, headers=auth(tokens["operator"])),
        413,
        "payload_too_large",
    )
    assert "1,000,000 bytes" in error["message"]
    assert shop_store.count("events") == before


def test_orders_are_recorded_with_lines_idempotently(
    client: TestClient, tokens: dict[str, str], shop_store: Store
) -> None:
    h = auth(tokens["operator"])
    body = {
        "order": {"order_id": "O10", "customer_id": "C2", "ordered_at": "2024-11-20T12:00:00Z"},
        "lines": [
            {"product_id": "P1", "quantity": 1, "unit_price": 39.9},
            {"product_id": "P3", "quantity": 2, "unit_price": 59, "discount": 10},
        ],
    }
    posted = client.post("/api/v1/orders", json=body, headers=h)
    assert posted.status_code == 201, posted.text
    assert posted.json()["lines"] == 2
    assert client.post("/api/v1/orders", json=body, headers=h).status_code == 201
    assert shop_store.count("orders") == 4 and shop_store.count("order_lines") == 6
    got = client.get("/api/v1/orders/O10", headers=h).json()
    assert [x["discount"] for x in got["lines"]] == [None, 10.0]


@pytest.mark.parametrize(
    ("change", "field", "reason"),
    [
        (
            {"lines": [{"product_id": "P1", "quantity": -3, "unit_price": 1}]},
            "lines[0].quantity",
            "positive integer",
        ),
        (
            {"lines": [{"product_id": "P1", "quantity": 1, "unit_price": 1, "order_id": "O11"}]},
            "lines[0].order_id",
            "order's order_id",
        ),
        (
            {"order": {"order_id": "O10", "ordered_at": "2024-13-40"}},
            "order[0].ordered_at",
            "ISO 8601",
        ),
        (
            {"order": {"order_id": "O10", "ordered_at": "2024-11-20", "customer_id": "C404"}},
            "order[0].customer_id",
            "does not exist",
        ),
    ],
)
def test_a_bad_order_stores_nothing(
    client: TestClient,
    tokens: dict[str, str],
    shop_store: Store,
    change: dict,
    field: str,
    reason: str,
) -> None:
    before = shop_store.checksums()
    body = {"order": {"order_id": "O10", "ordered_at": "2024-11-20T12:00:00Z"}, "lines": []}
    body.update(change)
    error = _error(
        client.post("/api/v1/orders", json=body, headers=auth(tokens["operator"])),
        422,
        "invalid_input",
    )
    assert any(d["field"] == field and reason in d["reason"] for d in error["details"]), error
    assert shop_store.checksums() == before


def test_jobs_run_in_the_background(client: TestClient, tokens: dict[str, str]) -> None:
    h = auth(tokens["operator"])
    kinds = client.get("/api/v1/jobs/kinds", headers=h).json()
    assert "figures" in [k["kind"] for k in kinds]
    started = client.post("/api/v1/jobs", json={"kind": "figures"}, headers=h)
    assert started.status_code == 202
    job_id = started.json()["job_id"]
    assert started.json()["state"] == "queued"
    client.app.state.jobs.wait_idle()  # type: ignore[attr-defined]
    done = client.get(f"/api/v1/jobs/{job_id}", headers=h).json()
    assert done["state"] == "done" and done["progress"] == 1.0 and done["metrics"]
    listed = client.get("/api/v1/jobs", params={"state": "done"}, headers=h).json()
    assert job_id in [j["job_id"] for j in listed["items"]]
    error = _error(
        client.post("/api/v1/jobs", json={"kind": "magic"}, headers=h), 422, "invalid_input"
    )
    assert error["details"][0]["field"] == "kind"
    _error(client.get("/api/v1/jobs/nope", headers=h), 404, "not_found")
    _error(client.get("/api/v1/jobs?state=sleeping", headers=h), 422, "invalid_input")


def test_keys_are_managed_by_admins(client: TestClient, tokens: dict[str, str]) -> None:
    h = auth(tokens["admin"])
    made = client.post("/api/v1/keys", json={"name": "website", "role": "operator"}, headers=h)
    assert made.status_code == 201
    new = made.json()
    assert new["token"].startswith(f"sk_{new['key_id']}_")
    assert client.get("/api/v1/orders", headers=auth(new["token"])).status_code == 200
    listed = client.get("/api/v1/keys", headers=h).json()["items"]
    assert "website" in [k["name"] for k in listed]
    assert all("token" not in k and "secret_sha256" not in k for k in listed)
    revoked = client.delete(f"/api/v1/keys/{new['key_id']}", headers=h)
    assert revoked.status_code == 200 and revoked.json()["revoked_at"]
    _error(client.get("/api/v1/orders", headers=auth(new["token"])), 401, "unauthorized")
    _error(
        client.post("/api/v1/keys", json={"name": "x", "role": "root"}, headers=h),
        422,
        "invalid_input",
    )
    _error(client.delete("/api/v1/keys/abcdef", headers=h), 404, "not_found")
    me = next(k for k in listed if k["name"] == "test admin")
    _error(client.delete(f"/api/v1/keys/{me['key_id']}", headers=h), 409, "conflict")


def test_unknown_routes_and_methods_share_the_error_body(client: TestClient) -> None:
    error = _error(client.get("/api/v1/nothing-here"), 404, "not_found")
    assert "/api/v1/nothing-here" in error["message"]
    _error(client.put("/api/v1/health"), 405, "method_not_allowed")


def test_no_stack_trace_reaches_a_client(
    client: TestClient, tokens: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    import shopkeeper.service.api.routes.products as products

    def broken(*_args: object, **_kwargs: object) -> None:
        raise RuntimeError("secret internal detail /srv/app.py line 12")

    monkeypatch.setattr(products, "one", broken)
    response = client.get("/api/v1/products/P1", headers=auth(tokens["reader"]))
    error = _error(response, 500, "internal")
    assert "secret" not in response.text and "Traceback" not in response.text
    assert "request id" in error["message"]


def test_one_structured_log_line_per_request(
    client: TestClient, tokens: dict[str, str], caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.INFO, logger="shopkeeper.service.access"):
        client.get("/api/v1/products", headers=auth(tokens["reader"]))
        client.get("/api/v1/products")
    lines = [json.loads(r.getMessage()) for r in caplog.records if r.name.endswith("access")]
    assert [(x["path"], x["status"]) for x in lines] == [
        ("/api/v1/products", 200),
        ("/api/v1/products", 401),
    ]
    assert lines[0]["key_id"] and lines[1]["key_id"] is None
    assert all(len(x["request_id"]) == 16 and x["ms"] >= 0 for x in lines)


def test_openapi_schema_and_docs(client: TestClient) -> None:
    schema = client.get("/openapi.json").json()
    paths = schema["paths"]
    for path in ("/api/v1/products", "/api/v1/events", "/api/v1/orders/{order_id}", "/api/v1/jobs"):
        assert path in paths
    docs = client.get("/docs")
    assert docs.status_code == 200 and "swagger" in docs.text.lower()
    assert "cdn" not in docs.text.lower() and "http://" not in docs.text  # works offline
    assert client.get("/docs-assets/swagger-ui-bundle.js").status_code == 200
