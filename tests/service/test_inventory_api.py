"""The inventory routes through the real app, over a plan really computed by the job."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from shopkeeper.access import create_key
from shopkeeper.ingest import load_frames
from shopkeeper.inventory._analysis import ARTIFACT, PLAN_CSV, InventoryPlan
from shopkeeper.jobs import current_artifact, run_job
from shopkeeper.service import create_app
from shopkeeper.service.api.routes.inventory import served_plan
from shopkeeper.store import Store
from shopkeeper.workspace import Workspace
from tests.inventory.shop import shop_frames
from tests.service.artifacts import (
    check_loaded_once_then_newer,
    check_unreadable_is_503,
    new_workspace,
)
from tests.service.conftest import auth
from tests.service.conftest import error_body as _error
from tests.service.conftest import ok as _ok

API = "/api/v1/inventory"


@dataclass
class PlanShop:
    store: Store
    workspace: Workspace
    job_id: str
    result: InventoryPlan


@pytest.fixture(scope="module")
def shop(tmp_path_factory: pytest.TempPathFactory) -> PlanShop:
    root = tmp_path_factory.mktemp("inventory_api")
    workspace = new_workspace(root)
    store = Store(workspace.database_url)
    store.create()
    load_frames(shop_frames(), store)
    job = run_job(store, workspace, "inventory", {"holdout_days": 21, "warmup_days": 14})
    assert job.state == "done", job.error
    assert job.metrics is not None and job.metrics["orders_due"] == 1
    assert 0 < job.metrics["policy_fill_rate"] <= 1
    folder = current_artifact(workspace, "inventory")
    assert folder is not None and (folder / PLAN_CSV).is_file()
    return PlanShop(store, workspace, job.job_id, InventoryPlan.load(folder / ARTIFACT))


@pytest.fixture(scope="module")
def api(shop: PlanShop) -> Iterator[TestClient]:
    with TestClient(create_app(shop.workspace, store=shop.store)) as client:
        yield client


@pytest.fixture(scope="module")
def reader(shop: PlanShop) -> dict[str, str]:
    return auth(create_key(shop.store, "inventory reader", "reader")[1])


def _plan(api: TestClient, headers: dict[str, str], query: str = "") -> dict[str, Any]:
    return _ok(api.get(f"{API}/reorder-plan{query}", headers=headers))


def test_the_plan_in_urgency_order_with_its_facts(
    api: TestClient, shop: PlanShop, reader: dict[str, str]
) -> None:
    body = _plan(api, reader)
    assert body["job"] == shop.job_id and body["as_of"] == "2024-04-30"
    assert body["sort_by"] == "urgency" and body["total"] == 3
    assert body["totals"]["orders_due"] == 1 and body["totals"]["stock_value"] == 4400.0
    first = body["plan"][0]
    assert first["product_id"] == "steady" and first["order_now"] is True
    assert first["order_units"] == 171 and first["runout_date"] == "2024-05-04"
    due = _plan(api, reader, "?due=true")
    assert [r["product_id"] for r in due["plan"]] == ["steady"] and due["total"] == 1
    one = _plan(api, reader, "?product=flush")
    assert [r["product_id"] for r in one["plan"]] == ["flush"]
    assert len(_plan(api, reader, "?limit=2")["plan"]) == 2


@pytest.mark.parametrize(
    ("sort_by", "first"),
    [
        ("runout_date", "steady"),
        ("days_of_cover", "steady"),
        ("stock_value", "flush"),
        ("order_value", "steady"),
        ("stockout_risk", "steady"),
    ],
)
def test_the_plan_sorts_by_a_figure(
    api: TestClient, reader: dict[str, str], sort_by: str, first: str
) -> None:
    body = _plan(api, reader, f"?sort_by={sort_by}")
    assert body["sort_by"] == sort_by and body["plan"][0]["product_id"] == first
    values = [r[sort_by] for r in body["plan"] if r[sort_by] is not None]
    ascending = sort_by in ("runout_date", "days_of_cover")
    assert values == sorted(values, reverse=not ascending)


def test_stockout_risk_lists_the_likeliest_first(api: TestClient, reader: dict[str, str]) -> None:
    body = _ok(api.get(f"{API}/stockout-risk", headers=reader))
    risks = [r["stockout_risk"] for r in body["items"]]
    assert risks == sorted(risks, reverse=True) and body["items"][0]["product_id"] == "steady"
    assert {"runout_date", "position", "lead_time_days"} <= set(body["items"][0])
    high = _ok(api.get(f"{API}/stockout-risk?min_risk=0.4", headers=reader))
    assert [r["product_id"] for r in high["items"]] == ["steady"] and high["total"] == 1


def test_the_summary_carries_the_replay(
    api: TestClient, shop: PlanShop, reader: dict[str, str]
) -> None:
    body = _ok(api.get(f"{API}/summary", headers=reader))
    assert body["metrics"] == shop.result.metrics()
    assert body["settings"]["review"] == "continuous"
    names = [p["policy"] for p in body["simulation"]["policies"]]
    assert names == ["policy", "policy, Q=30d", "naive L+7d, Q=30d"]


def test_bad_queries_are_422_and_keys_are_needed(api: TestClient, reader: dict[str, str]) -> None:
    bad = _error(api.get(f"{API}/reorder-plan?sort_by=price", headers=reader), 422, "invalid_input")
    assert any(d["field"] == "query.sort_by" for d in bad["details"])
    _error(api.get(f"{API}/stockout-risk?min_risk=2", headers=reader), 422, "invalid_input")
    for path in ("reorder-plan", "stockout-risk", "summary"):
        assert api.get(f"{API}/{path}").status_code == 401


def test_without_a_plan_the_routes_say_how_to_make_one(shop: PlanShop, tmp_path: Path) -> None:
    app = create_app(new_workspace(tmp_path / "empty"), store=shop.store)
    headers = auth(create_key(shop.store, "empty reader", "reader")[1])
    with TestClient(app) as client:
        for path in ("reorder-plan", "stockout-risk", "summary"):
            error = _error(client.get(f"{API}/{path}", headers=headers), 409, "conflict")
            assert "shopkeeper train inventory" in error["message"]


def test_the_plan_is_loaded_once_and_a_newer_one_from_the_next_request(
    shop: PlanShop, tmp_path: Path
) -> None:
    first, second = check_loaded_once_then_newer(
        shop.store,
        shop.workspace,
        tmp_path,
        "inventory",
        served_plan,
        f"{API}/reorder-plan",
        f"{API}/summary",
    )
    assert first["plan"] == second["plan"]


def test_an_unreadable_plan_is_503_not_a_crash(shop: PlanShop, tmp_path: Path) -> None:
    check_unreadable_is_503(shop.store, tmp_path, "inventory", ARTIFACT, f"{API}/reorder-plan")
