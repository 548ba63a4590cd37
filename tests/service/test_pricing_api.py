"""The pricing analysis over HTTP and on the pricing page, from a synthetic panel's artifact.

The artifact is the real ``analyse`` of a panel with planted elasticities
and a planted income interaction, saved where a ``pricing`` job puts it.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from shopkeeper.access import create_key
from shopkeeper.pricing import PricingSettings, analyse
from shopkeeper.service import create_app
from shopkeeper.service.api.routes.pricing import served_pricing
from shopkeeper.store import Store
from shopkeeper.workspace import Workspace
from tests.pricing import synthetic
from tests.service.artifacts import (
    check_loaded_once_then_newer,
    check_unreadable_is_503,
    new_workspace,
)
from tests.service.conftest import auth, error_body, ok
from tests.service.pages import html_of, logged_in, visible

JOB = "20990101-000000-pricng"


@pytest.fixture(scope="module")
def priced(tmp_path_factory: pytest.TempPathFactory) -> Workspace:
    """A workspace whose current pricing artifact is the synthetic panel's analysis."""
    workspace = new_workspace(tmp_path_factory.mktemp("priced"))
    panel = synthetic.panel(stores=12, weeks=16, slope=0.5)
    analysis = analyse(None, PricingSettings(folds=2), panel=panel)  # type: ignore[arg-type]
    folder = workspace.models_dir / "pricing" / JOB
    folder.mkdir(parents=True)
    analysis.save(folder / "pricing.pkl")
    (folder.parent / "current.json").write_text(json.dumps({"job_id": JOB}))
    return workspace


@pytest.fixture
def client(sqlite_store: Store, priced: Workspace) -> Iterator[tuple[TestClient, dict]]:
    app = create_app(priced, store=sqlite_store)
    headers = auth(create_key(sqlite_store, "pricing reader", "reader")[1])
    with TestClient(app, raise_server_exceptions=False) as test_client:
        yield test_client, headers


def test_elasticities_carry_intervals_that_hold_the_planted_values(client) -> None:
    http, headers = client
    body = ok(http.get("/api/v1/pricing/elasticities", headers=headers))
    assert body["job"] == JOB and body["level"] == 0.95
    by_id = {p["product_id"]: p for p in body["products"]}
    assert set(by_id) == set(synthetic.OWN)
    for pid, planted in synthetic.OWN.items():
        row = by_id[pid]
        assert row["lo"] < row["elasticity"] < row["hi"]
        assert abs(row["elasticity"] - planted) < 0.5
    assert any(g["group"] == "all" for g in body["pooled"])
    cross = ok(http.get("/api/v1/pricing/cross", headers=headers))
    assert sorted(cross["products"]) == sorted(synthetic.OWN)
    assert len(cross["matrix"]) == 3 and all(len(row) == 3 for row in cross["matrix"])


def test_by_location_and_recommendations(client) -> None:
    http, headers = client
    loc = ok(http.get("/api/v1/pricing/by-location", headers=headers))
    terms = {c["term"]: c for c in loc["coefficients"]}
    assert terms["income"]["lo"] < terms["income"]["coef"] < terms["income"]["hi"]
    assert terms["income"]["coef"] > 0  # planted: higher income, less price-sensitive
    assert len(loc["locations"]) == 12
    recs = ok(http.get("/api/v1/pricing/recommendations?limit=2", headers=headers))
    assert recs["totals"]["products"] == 3 and len(recs["recommendations"]) == 2
    gains = [r["profit_new"] - r["profit_now"] for r in recs["recommendations"]]
    assert gains == sorted(gains, reverse=True)
    for r in recs["recommendations"]:
        assert r["lower_bound"] - 1e-9 <= r["recommended_price"] <= r["upper_bound"] + 1e-9
    wrong = http.get("/api/v1/pricing/recommendations?sort_by=price", headers=headers)
    error_body(wrong, 422, "invalid_input")


def test_without_an_analysis_the_routes_say_how_to_make_one(
    sqlite_store: Store, tmp_path: Path
) -> None:
    app = create_app(new_workspace(tmp_path / "empty"), store=sqlite_store)
    headers = auth(create_key(sqlite_store, "reader", "reader")[1])
    with TestClient(app, raise_server_exceptions=False) as http:
        answer = http.get("/api/v1/pricing/elasticities", headers=headers)
        assert "shopkeeper train pricing" in error_body(answer, 409, "conflict")["message"]


def test_the_artifact_is_loaded_once_and_a_broken_one_is_503(
    sqlite_store: Store, priced: Workspace, tmp_path: Path
) -> None:
    check_loaded_once_then_newer(
        sqlite_store,
        priced,
        tmp_path / "again",
        "pricing",
        served_pricing,
        "/api/v1/pricing/elasticities",
        "/api/v1/pricing/recommendations",
    )
    check_unreadable_is_503(
        sqlite_store, tmp_path / "broken", "pricing", "pricing.pkl", "/api/v1/pricing/elasticities"
    )


def test_the_page_shows_elasticities_stores_and_prices(
    sqlite_store: Store, priced: Workspace
) -> None:
    for http in logged_in(sqlite_store, priced, "/pricing", "pricing page"):
        html = html_of(http.get("/pricing"))
        for name in ("elasticity", "locations"):
            assert f'data-figure="figure-{name}"' in html
        figure = json.loads(re.search(r'id="figure-elasticity">(.*?)</script>', html, re.S)[1])
        assert len(figure["data"][0]["x"]) == 3
        assert sorted(re.findall(r'data-rec="([^"]+)"', html)) == ["a", "b", "c"]
        assert 'data-term="income"' in html
        assert "All products pooled" in visible(html)
        zh = visible(html_of(http.get("/pricing", params={"lang": "zh"})))
        assert "各商品价格弹性" in zh and "建议价格" in zh and "各门店价格弹性" in zh
