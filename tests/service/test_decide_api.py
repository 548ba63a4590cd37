"""Decisions over HTTP: start a policy, decide, post outcomes, read what was learned."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.service.conftest import auth, error_body, ok


def _post(client: TestClient, path: str, token: str, body: dict[str, Any]) -> Any:
    return client.post(f"/api/v1{path}", json=body, headers=auth(token))


def test_decisions_and_outcomes_round_trip_through_the_api(
    client: TestClient, tokens: dict[str, str]
) -> None:
    op = tokens["operator"]
    started = _post(client, "/policies/price", op, {"product_id": "P1", "points": 5})
    assert started.status_code == 201, started.text
    assert started.json()["policy_id"] == "price:P1"

    decisions = [ok(_post(client, "/decide/price", op, {"product_id": "P1"})) for _ in range(8)]
    for d in decisions:
        assert set(d) == {
            "decision_id",
            "policy_id",
            "policy_version",
            "product_id",
            "price",
            "probability",
        }
        assert 0 < d["probability"] <= 1
    outcomes = [
        {"decision_id": d["decision_id"], "purchase": i < 3, "quantity": 1}
        for i, d in enumerate(decisions)
    ]
    posted = _post(client, "/outcomes", op, {"outcomes": outcomes})
    assert posted.status_code == 202, posted.text
    assert posted.json() == {"accepted": 8, "policies": {"price:P1": 2}}

    report = ok(client.get("/api/v1/policies/price:P1", headers=auth(tokens["reader"])))
    assert report["version"] == 2 and report["outcomes"] == 8 and report["decisions"] == 8
    assert sum(a["decisions"] for a in report["actions"]) == 8
    expected = sum(d["price"] - 21.5 for d in decisions[:3]) / 8
    assert report["logged_value"]["value"] == pytest.approx(expected, rel=1e-9)

    log = ok(client.get("/api/v1/policies/price:P1/log", headers=auth(tokens["reader"])))
    assert log["total"] == 8
    assert {r["decision_id"] for r in log["rows"]} == {d["decision_id"] for d in decisions}
    listed = ok(client.get("/api/v1/policies?purpose=price", headers=auth(tokens["reader"])))
    assert [p["policy_id"] for p in listed["policies"]] == ["price:P1"]


def test_slot_decisions_give_distinct_items_per_position(
    client: TestClient, tokens: dict[str, str]
) -> None:
    op = tokens["operator"]
    body = {"slot": "home", "items": ["P1", "P2", "P3"], "positions": 2}
    assert _post(client, "/policies/slot", op, body).status_code == 201
    served = ok(_post(client, "/decide/slot", op, {"slot": "home", "customer_id": "C1"}))
    items = served["items"]
    assert [i["position"] for i in items] == [0, 1]
    assert len({i["item"] for i in items}) == 2
    clicks = [{"decision_id": i["decision_id"], "click": True} for i in items]
    assert _post(client, "/outcomes", op, {"outcomes": clicks}).status_code == 202
    again = _post(client, "/outcomes", op, {"outcomes": clicks[:1]})
    error = error_body(again, 409, "conflict")
    assert clicks[0]["decision_id"] in error["message"]


def test_decision_routes_refuse_bad_requests_clearly(
    client: TestClient, tokens: dict[str, str]
) -> None:
    op, reader = tokens["operator"], tokens["reader"]
    # Deciding writes the log: a reader key may not.
    denied = _post(client, "/decide/price", reader, {"product_id": "P1"})
    assert denied.status_code == 403
    missing = _post(client, "/decide/price", op, {"product_id": "P1"})
    assert "no running price policy" in error_body(missing, 404, "not_found")["message"]
    assert _post(client, "/policies/price", op, {"product_id": "P1"}).status_code == 201
    taken = _post(client, "/policies/price", op, {"product_id": "P1"})
    error_body(taken, 409, "conflict")
    rails = _post(client, "/policies/price", op, {"product_id": "P2", "guardrails": {"floor": 2}})
    assert "guardrail floor=2" in error_body(rails, 422, "invalid_input")["message"]
    unknown = _post(client, "/outcomes", op, {"outcomes": [{"decision_id": "d_x", "click": 1}]})
    assert "must be true or false" in error_body(unknown, 422, "invalid_input")["message"]
    empty = _post(client, "/outcomes", op, {"outcomes": []})
    error_body(empty, 422, "invalid_input")
    gone = client.get("/api/v1/policies/none", headers=auth(reader))
    error_body(gone, 404, "not_found")
    stopped = client.post("/api/v1/policies/price:P1/stop", headers=auth(op))
    assert ok(stopped)["status"] == "stopped"
    after = _post(client, "/decide/price", op, {"product_id": "P1"})
    error_body(after, 404, "not_found")
