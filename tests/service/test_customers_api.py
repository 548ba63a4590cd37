"""The customer analytics routes through the real app, over analytics really computed once.

``customer_shop`` builds the small demo shop in a SQLite store and runs the
``customers`` job on it in this thread, once per test process; the dashboard
and browser tests reuse it. Each module gets its own app.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select, update

from shopkeeper.access import create_key
from shopkeeper.demo import DemoConfig, build_demo
from shopkeeper.jobs import run_job
from shopkeeper.service import create_app
from shopkeeper.service.api.routes.customer_analytics import EXPORT_COLUMNS, served_analytics
from shopkeeper.store import METADATA, Store
from shopkeeper.workspace import Workspace
from tests.service.artifacts import (
    check_loaded_once_then_newer,
    check_unreadable_is_503,
    new_workspace,
)
from tests.service.conftest import auth
from tests.service.conftest import error_body as _error
from tests.service.conftest import ok as _ok

API = "/api/v1/customers"
CUSTOMERS = METADATA.tables["customers"]
TOP = "propensity top 20%"


@dataclass
class CustomerShop:
    """The small demo shop in a store, and its workspace with the analytics computed."""

    store: Store
    workspace: Workspace
    job_id: str


_BUILT: list[CustomerShop] = []


def customer_shop(factory: pytest.TempPathFactory) -> CustomerShop:
    """The demo shop with its customer analytics, built on first use (about 15 s)."""
    if _BUILT:
        return _BUILT[0]
    root = factory.mktemp("customers")
    workspace = new_workspace(root)
    store = Store(workspace.database_url)
    store.create()
    build_demo(store, root / "demo", DemoConfig.preset("small"))
    job = run_job(store, workspace, "customers", {})
    assert job.state == "done", job.error
    _BUILT.append(CustomerShop(store, workspace, job.job_id))
    return _BUILT[0]


def stored_consent(store: Store) -> dict[str, bool | None]:
    """Every customer's marketing consent as the store holds it now."""
    with store.engine.connect() as conn:
        rows = conn.execute(select(CUSTOMERS.c.customer_id, CUSTOMERS.c.consent_marketing))
        return {r.customer_id: r.consent_marketing for r in rows}


@contextmanager
def consent_set(store: Store, changes: dict[str, bool]) -> Iterator[None]:
    """Customers' marketing consent changed in the store, put back afterwards."""
    before = stored_consent(store)
    try:
        with store.engine.begin() as conn:
            for customer_id, value in changes.items():
                conn.execute(
                    update(CUSTOMERS)
                    .where(CUSTOMERS.c.customer_id == customer_id)
                    .values(consent_marketing=value)
                )
        yield
    finally:
        with store.engine.begin() as conn:
            for customer_id in changes:
                conn.execute(
                    update(CUSTOMERS)
                    .where(CUSTOMERS.c.customer_id == customer_id)
                    .values(consent_marketing=before[customer_id])
                )


@pytest.fixture(scope="module")
def shop(tmp_path_factory: pytest.TempPathFactory) -> CustomerShop:
    return customer_shop(tmp_path_factory)


@pytest.fixture(scope="module")
def api(shop: CustomerShop) -> Iterator[TestClient]:
    app = create_app(shop.workspace, store=shop.store)
    with TestClient(app, raise_server_exceptions=False) as client:
        yield client


@pytest.fixture(scope="module")
def reader(shop: CustomerShop) -> dict[str, str]:
    return auth(create_key(shop.store, "analytics reader", "reader")[1])


@pytest.fixture(scope="module")
def operator(shop: CustomerShop) -> dict[str, str]:
    return auth(create_key(shop.store, "analytics operator", "operator")[1])


def _audience(api: TestClient, headers: dict[str, str], conditions: list[Any], preview: int = 0):
    body = {"conditions": conditions, "preview": preview}
    return _ok(api.post(f"{API}/audiences", json=body, headers=headers))


# -- the read-only views ------------------------------------------------------------------------


def test_segments_sizes_and_movement(
    api: TestClient, shop: CustomerShop, reader: dict[str, str]
) -> None:
    body = _ok(api.get(f"{API}/segments", headers=reader))
    assert body["job"] == shop.job_id and body["customers"] == 2_000
    assert body["buyers"] + body["without_orders"] == body["customers"]
    sizes = {s["segment"]: s["customers"] for s in body["segments"]}
    assert sum(sizes.values()) == body["buyers"] and {"champions", "lost"} <= set(sizes)
    assert abs(sum(s["share"] for s in body["segments"]) - 1) < 0.01
    movement = body["movement"]
    assert {"from", "to", "matrix", "summary"} <= set(movement)
    after = {row["segment"]: row["after"] for row in movement["summary"]}
    assert after == {k: v for k, v in sizes.items() if k in after}


def test_lifetime_value_fits_holdout_and_top_customers(
    api: TestClient, reader: dict[str, str]
) -> None:
    body = _ok(api.get(f"{API}/clv?limit=5", headers=reader))
    assert body["model"] == "bgnbd" and body["months"] == 12
    assert set(body["repeat_fit"]["params"]) == {"r", "alpha", "a", "b"}
    assert set(body["spend_fit"]["params"]) == {"p", "q", "v"}
    holdout = body["holdout"]
    assert {"actual", "predicted", "relative_error", "mae"} <= set(holdout["totals"])
    assert holdout["by_frequency"] and all("actual_mean" in r for r in holdout["by_frequency"])
    top = body["top"]
    assert len(top) == 5 and top[0]["customer_id"]
    values = [c["clv"] for c in top]
    assert values == sorted(values, reverse=True) and values[0] > body["totals"]["clv_mean_buyer"]
    assert body["totals"]["buyers"] > 0 and body["totals"]["clv"] > 0
    assert len(_ok(api.get(f"{API}/clv", headers=reader))["top"]) == 20


def test_one_customers_scores_and_an_unknown_one(
    api: TestClient, shop: CustomerShop, reader: dict[str, str]
) -> None:
    top = _ok(api.get(f"{API}/clv?limit=1", headers=reader))["top"][0]
    body = _ok(api.get(f"{API}/{top['customer_id']}/scores", headers=reader))
    assert body["customer_id"] == top["customer_id"] and body["job"] == shop.job_id
    scores = body["scores"]
    for column in ("segment", "r_score", "p_alive", "clv", "propensity", "churn_risk"):
        assert column in scores, column
    assert scores["clv"] == pytest.approx(top["clv"])
    assert isinstance(scores["high_value"], bool) and scores["high_value"] is True
    error = _error(api.get(f"{API}/NO-SUCH-CUSTOMER/scores", headers=reader), 404, "not_found")
    assert "NO-SUCH-CUSTOMER" in error["message"]


def test_fixed_paths_are_not_taken_for_a_customer_id(
    api: TestClient, reader: dict[str, str]
) -> None:
    # /customers/{customer_id} of the plain router still answers for real ids.
    record = _ok(api.get(f"{API}/C-00001", headers=reader))
    assert record["customer_id"] == "C-00001" and "email" not in record
    for path in ("segments", "clv", "propensity", "rules", "churn", "fairness"):
        assert "customer_id" not in _ok(api.get(f"{API}/{path}", headers=reader)), path


def test_propensity_evaluation_deciles_calibration_drivers(
    api: TestClient, reader: dict[str, str]
) -> None:
    body = _ok(api.get(f"{API}/propensity", headers=reader))
    assert body["kind"] in body["evaluation"] and body["horizon_days"] == 30
    for kind, ev in body["evaluation"].items():
        for metric in ("roc_auc", "pr_auc", "brier", "log_loss"):
            assert 0 <= ev[metric] <= 1 or metric == "log_loss", (kind, metric)
        assert len(ev["deciles"]) == 10 and len(ev["calibration"]) >= 5
        assert ev["deciles"][0]["observed_rate"] > ev["deciles"][-1]["observed_rate"]
    assert body["evaluation"][body["kind"]]["roc_auc"] > 0.7
    assert body["drivers"] and {"feature", "importance_mean"} <= set(body["drivers"][0])
    assert body["coefficients"] and "odds_ratio" in body["coefficients"][0]


def test_rules_as_text_with_the_tree_against_boosting(
    api: TestClient, reader: dict[str, str]
) -> None:
    body = _ok(api.get(f"{API}/rules", headers=reader))
    assert body["available"] is True and "→ high value" in body["text"]
    assert body["rules"] and body["text"].splitlines()[0] == body["rules"][0]["text"]
    for model in ("tree", "boosting"):
        assert 0.5 < body["cv"][model]["accuracy"] <= 1, model
    assert body["features"] and isinstance(body["notes"], list)


def test_churn_risk_most_value_at_risk_first(
    api: TestClient, shop: CustomerShop, reader: dict[str, str]
) -> None:
    body = _ok(api.get(f"{API}/churn?limit=10", headers=reader))
    listed = body["customers"]
    assert 0 < len(listed) <= 10 and body["at_risk"] >= len(listed)
    values = [c["value_at_risk"] for c in listed]
    assert values == sorted(values, reverse=True)
    for c in listed:
        assert body["risk_from"] <= c["churn_risk"] < body["risk_to"], c
    consent = stored_consent(shop.store)
    assert all(c["consent_marketing"] is bool(consent[c["customer_id"]]) for c in listed)


def test_fairness_groups_gaps_and_flags(api: TestClient, reader: dict[str, str]) -> None:
    body = _ok(api.get(f"{API}/fairness", headers=reader))
    assert set(body["groups"]) == {"gender", "age_band"} and isinstance(body["flags"], list)
    for group in body["groups"].values():
        assert {"demographic_parity_difference", "equal_opportunity_difference"} <= set(group)
        assert {"group", "count", "selection_rate", "tpr"} <= set(group["values"][0])


# -- audiences -----------------------------------------------------------------------------------


def test_an_audience_its_figures_and_members(
    api: TestClient, shop: CustomerShop, reader: dict[str, str]
) -> None:
    conditions = [TOP, "segment in champions, loyal, potential loyalist"]
    body = _audience(api, reader, conditions, preview=15)
    assert body["conditions_text"][0] == TOP and body["model_job"] == shop.job_id
    assert 0 < body["size"] < body["matched"] <= 400  # the top fifth of 2,000
    assert body["size"] + body["without_consent"] == body["matched"]
    assert body["expected_value"] > 0 and 0 < body["expected_buyers"] <= body["size"]
    members = body["members"]
    assert len(members) == 15
    assert [m["clv"] for m in members] == sorted((m["clv"] for m in members), reverse=True)
    assert all(m["segment"] in {"champions", "loyal", "potential loyalist"} for m in members)
    assert all(m["propensity_decile"] <= 2 and m["consent_marketing"] for m in members)
    # The same audience from {field, op, value} conditions.
    parts = [
        {"field": "propensity", "op": "top", "value": 20},
        {"field": "segment", "op": "in", "value": ["champions", "loyal", "potential loyalist"]},
    ]
    same = _audience(api, reader, parts, preview=15)
    assert (same["size"], same["members"]) == (body["size"], members)
    assert _audience(api, reader, conditions)["members"] == []  # preview 0


def test_no_member_lacks_marketing_consent_as_the_store_holds_it_now(
    api: TestClient, shop: CustomerShop, reader: dict[str, str], operator: dict[str, str]
) -> None:
    first = _audience(api, reader, [TOP], preview=500)
    members = [m["customer_id"] for m in first["members"]]
    consent = stored_consent(shop.store)
    assert all(consent[c] is True for c in members)
    # Someone who matched but had not agreed when the analytics were computed.
    analytics = served_analytics(shop.workspace)
    assert analytics is not None
    scores = analytics.analytics.scores
    matched = scores[scores["propensity_decile"] <= 2]
    refused = next(c for c in matched.index if not scores.loc[c, "consent_marketing"])
    assert refused not in members
    withdrawn = members[0]
    with consent_set(shop.store, {withdrawn: False, refused: True}):
        now = _audience(api, reader, [TOP], preview=500)
        ids = {m["customer_id"] for m in now["members"]}
        assert withdrawn not in ids and refused in ids
        assert now["size"] == first["size"] and now["without_consent"] == first["without_consent"]
        assert now["matched"] == first["matched"]
        exported = api.post(f"{API}/audiences/export", json={"conditions": [TOP]}, headers=operator)
        rows = list(csv.DictReader(io.StringIO(exported.text)))
        assert withdrawn not in {r["customer_id"] for r in rows} and len(rows) == now["size"]
        assert {r["consent_marketing"] for r in rows} == {"True"}
        scores_now = _ok(api.get(f"{API}/{withdrawn}/scores", headers=reader))["scores"]
        assert scores_now["consent_marketing"] is False
        gone = _audience(api, reader, [TOP, f"clv >= {first['members'][0]['clv']}"], preview=5)
        assert withdrawn not in {m["customer_id"] for m in gone["members"]}
    after = _audience(api, reader, [TOP], preview=500)
    assert [m["customer_id"] for m in after["members"]] == members


def test_exporting_an_audience_as_csv_needs_an_operator(
    api: TestClient, reader: dict[str, str], operator: dict[str, str]
) -> None:
    body = {"conditions": [TOP, "recency_days <= 30"]}
    answer = api.post(f"{API}/audiences/export", json=body, headers=operator)
    assert answer.status_code == 200, answer.text
    assert answer.headers["content-type"] == "text/csv; charset=utf-8"
    assert answer.headers["content-disposition"].startswith('attachment; filename="audience-')
    rows = list(csv.reader(io.StringIO(answer.text)))
    assert rows[0] == ["customer_id", *EXPORT_COLUMNS]
    assert not {"gender", "age", "age_band"} & set(rows[0])
    size = _audience(api, operator, body["conditions"])["size"]
    assert len(rows) - 1 == size == int(answer.headers["x-audience-size"])
    error = _error(api.post(f"{API}/audiences/export", json=body, headers=reader), 403, "forbidden")
    assert "operator" in error["message"]


@pytest.mark.parametrize(
    ("conditions", "index", "named"),
    [
        (["bogus >= 3"], 0, "'bogus'"),
        ([TOP, "recency_days >= soon"], 1, "recency_days"),
        (["propensity top 200%"], 0, "propensity top"),
        (["segment > 3"], 0, "segment is not a number"),
        (["propensity"], 0, "FIELD OP VALUE"),
        ([{"field": "segment", "op": "~", "value": "x"}], 0, "'~'"),
        ([TOP, {"field": "recency_days"}], 1, "missing ['op', 'value']"),
        ([{"field": "clv", "op": ">", "value": 1, "extra": 2}], 0, "unknown keys"),
        ([3], 0, "not int"),
        (["x" * 501], 0, "at most 500 characters"),
    ],
)
def test_bad_conditions_are_422_naming_the_problem(
    api: TestClient, reader: dict[str, str], conditions: list[Any], index: int, named: str
) -> None:
    for route in ("audiences", "audiences/export"):
        answer = api.post(f"{API}/{route}", json={"conditions": conditions}, headers=reader)
        if route.endswith("export"):  # the role is checked first
            _error(answer, 403, "forbidden")
            continue
        error = _error(answer, 422, "invalid_input")
        assert error["message"].startswith(f"conditions[{index}]: ")
        assert named in error["message"], error["message"]
        assert error["details"][0]["field"] == f"conditions[{index}]"
        assert error["details"][0]["value"] == conditions[index]


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"conditions": [TOP], "preview": 501}, "preview"),
        ({"conditions": [TOP], "preview": -1}, "preview"),
        ({"conditions": [TOP] * 21}, "conditions"),
        ({"conditions": TOP}, "conditions"),
    ],
)
def test_bad_audience_bodies_are_422(
    api: TestClient, reader: dict[str, str], body: dict[str, Any], field: str
) -> None:
    error = _error(api.post(f"{API}/audiences", json=body, headers=reader), 422, "invalid_input")
    assert error["details"][0]["field"] == field


@pytest.mark.parametrize("path", ["/clv?limit=0", "/churn?limit=1001", "/churn?limit=many"])
def test_bad_limits_are_422(api: TestClient, reader: dict[str, str], path: str) -> None:
    error = _error(api.get(API + path, headers=reader), 422, "invalid_input")
    assert error["details"][0]["field"] == "query.limit"


# -- keys, the missing artifact, the cache -----------------------------------------------

ROUTES = [
    ("get", "/segments"),
    ("get", "/clv"),
    ("get", "/C-00001/scores"),
    ("get", "/propensity"),
    ("get", "/rules"),
    ("get", "/churn"),
    ("get", "/fairness"),
    ("post", "/audiences"),
    ("post", "/audiences/export"),
]


def _send(client: TestClient, method: str, path: str, headers: dict[str, str] | None = None):
    extra = {"json": {"conditions": [TOP]}} if method == "post" else {}
    return getattr(client, method)(API + path, headers=headers, **extra)


@pytest.mark.parametrize(("method", "path"), ROUTES)
def test_every_route_needs_a_key_and_export_an_operator(
    api: TestClient, reader: dict[str, str], operator: dict[str, str], method: str, path: str
) -> None:
    error = _error(_send(api, method, path), 401, "unauthorized")
    assert "shopkeeper keys create" in error["message"]
    bad = auth("sk_000000000000_" + "x" * 43)
    _error(_send(api, method, path, bad), 401, "unauthorized")
    expected = 403 if path.endswith("export") else 200
    assert _send(api, method, path, reader).status_code == expected
    assert _send(api, method, path, operator).status_code == 200


def test_without_analytics_every_route_says_how_to_compute_them(
    shop: CustomerShop, tmp_path: Path
) -> None:
    app = create_app(new_workspace(tmp_path / "untrained"), store=shop.store)
    headers = auth(create_key(shop.store, "untrained operator", "operator")[1])
    with TestClient(app, raise_server_exceptions=False) as client:
        for method, path in ROUTES:
            error = _error(_send(client, method, path, headers), 409, "conflict")
            assert "shopkeeper train customers" in error["message"], path
            assert "POST /api/v1/jobs" in error["message"]


def test_the_artifact_is_loaded_once_and_a_newer_one_from_the_next_request(
    shop: CustomerShop, tmp_path: Path
) -> None:
    first, second = check_loaded_once_then_newer(
        shop.store,
        shop.workspace,
        tmp_path,
        "customers",
        served_analytics,
        f"{API}/segments",
        f"{API}/rules",
    )
    assert second["segments"] == first["segments"]


def test_an_unreadable_artifact_is_503_not_a_crash(shop: CustomerShop, tmp_path: Path) -> None:
    check_unreadable_is_503(shop.store, tmp_path, "customers", "customers.pkl", f"{API}/segments")


def test_the_routes_are_in_the_openapi_schema(api: TestClient) -> None:
    from shopkeeper.customers._audience import OPS
    from shopkeeper.service.api.routes.customer_analytics import OPS as API_OPS

    assert API_OPS == OPS  # the schema's copy of the operators
    paths = api.get("/openapi.json").json()["paths"]
    for method, path in ROUTES:
        name = "/api/v1/customers" + path.replace("C-00001", "{customer_id}")
        assert method in paths[name], name
    assert (
        "text/csv"
        in paths["/api/v1/customers/audiences/export"]["post"]["responses"]["200"]["content"]
    )


def test_a_live_session_is_scored_and_more_intent_scores_higher(
    api: TestClient, reader: dict[str, str]
) -> None:
    body = _ok(api.get(f"{API}/propensity", headers=reader))
    sessions = body["sessions"]
    assert sessions is not None and sessions["kind"] in sessions["evaluation"]
    assert sessions["evaluation"][sessions["kind"]]["roc_auc"] > 0.7
    view = {"event": "view", "at": "2024-11-20T20:00:00+08:00", "product_id": "p"}
    browse = _ok(api.post(f"{API}/sessions/score", headers=reader, json={"events": [view]}))
    later = [
        {**view, "at": f"2024-11-20T20:{m:02d}:00+08:00", "event": e}
        for m, e in ((3, "view"), (6, "cart"), (9, "view"), (12, "cart"))
    ]
    keen = _ok(api.post(f"{API}/sessions/score", headers=reader, json={"events": [view, *later]}))
    assert 0 < browse["propensity"] < keen["propensity"] < 1
    bad_time = api.post(
        f"{API}/sessions/score", headers=reader, json={"events": [{**view, "at": "soon"}]}
    )
    assert _error(bad_time, 422, "invalid_input")["details"][0]["field"] == "events[0].at"
    bad_event = api.post(
        f"{API}/sessions/score", headers=reader, json={"events": [{**view, "event": "click"}]}
    )
    assert (
        "events[0].event 'click' must be one of"
        in _error(bad_event, 422, "invalid_input")["message"]
    )
