"""The basket routes through the real app, over an analysis really computed once.

``basket_shop`` builds the small demo shop in a SQLite store and runs the
``basket`` job on it in this thread, once per test process (about 7 s); the
dashboard and browser tests reuse it. Each module gets its own app.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from shopkeeper.access import create_key
from shopkeeper.basket._analysis import ARTIFACT, BasketAnalysis
from shopkeeper.demo import DemoConfig, build_demo
from shopkeeper.jobs import current_artifact, run_job
from shopkeeper.service import create_app
from shopkeeper.service.api.routes.basket import served_basket
from shopkeeper.store import Store
from shopkeeper.workspace import Workspace
from tests.service.artifacts import (
    check_loaded_once_then_newer,
    check_unreadable_is_503,
    new_workspace,
)
from tests.service.conftest import auth
from tests.service.conftest import error_body as _error
from tests.service.conftest import ok as _ok

API = "/api/v1/basket"
RULE_KEYS = {
    "antecedent",
    "antecedent_titles",
    "consequent",
    "consequent_titles",
    "antecedent_support",
    "consequent_support",
    "support",
    "confidence",
    "lift",
    "leverage",
    "conviction",
    "baskets",
    "customers",
}
BUNDLE_KEYS = {
    "items",
    "titles",
    "size",
    "buyers",
    "orders",
    "buyers_per_30_days",
    "min_lift",
    "price",
    "cost",
    "margin",
    "margin_rate",
    "discount",
    "bundle_price",
    "bundle_margin_rate",
}
FACT_KEYS = {"job", "period", "level"}


@dataclass
class BasketShop:
    """The small demo shop in a store, and its workspace with the basket analysis."""

    store: Store
    workspace: Workspace
    job_id: str
    analysis: BasketAnalysis

    @property
    def titles(self) -> dict[str, str]:
        catalog = self.analysis.catalog
        return dict(zip(catalog["product_id"], catalog["title"], strict=True))

    def lonely_product(self) -> str:
        """A product of the catalog that shares no frequent pair with another."""
        paired = set(self.analysis.together["product_id"])
        return sorted(set(self.analysis.catalog["product_id"]) - paired)[0]

    def busiest_product(self) -> str:
        """The product that most rules mention."""
        counts: dict[str, int] = {}
        rules = self.analysis.rules
        for a, c in zip(rules["antecedent"], rules["consequent"], strict=True):
            for item in {*a, *c}:
                counts[item] = counts.get(item, 0) + 1
        return max(sorted(counts), key=lambda p: counts[p])


_BUILT: list[BasketShop] = []


def basket_shop(factory: pytest.TempPathFactory) -> BasketShop:
    """The demo shop with its basket analysis, built on first use."""
    if _BUILT:
        return _BUILT[0]
    root = factory.mktemp("basket")
    workspace = new_workspace(root)
    store = Store(workspace.database_url)
    store.create()
    build_demo(store, root / "demo", DemoConfig.preset("small"))
    job = run_job(store, workspace, "basket", {})
    assert job.state == "done", job.error
    folder = current_artifact(workspace, "basket")
    assert folder is not None
    analysis = BasketAnalysis.load(folder / ARTIFACT)
    # The small shop must give every view something to show (and the filters something
    # to cut): rules of one and of two items on the left, infinite conviction, bundles.
    assert len(analysis.rules) > 20 and len(analysis.bundles) > 20
    assert (analysis.rules["antecedent"].map(len) > 1).any()
    assert (analysis.rules["conviction"] == math.inf).any()
    _BUILT.append(BasketShop(store, workspace, job.job_id, analysis))
    return _BUILT[0]


@pytest.fixture(scope="module")
def shop(tmp_path_factory: pytest.TempPathFactory) -> BasketShop:
    return basket_shop(tmp_path_factory)


@pytest.fixture(scope="module")
def api(shop: BasketShop) -> Iterator[TestClient]:
    app = create_app(shop.workspace, store=shop.store)
    with TestClient(app, raise_server_exceptions=False) as client:
        yield client


@pytest.fixture(scope="module")
def reader(shop: BasketShop) -> dict[str, str]:
    return auth(create_key(shop.store, "basket reader", "reader")[1])


def _rules(api: TestClient, headers: dict[str, str], query: str = "") -> dict[str, Any]:
    return _ok(api.get(f"{API}/rules{query}", headers=headers))


def _facts(body: dict[str, Any], shop: BasketShop) -> None:
    assert set(body) >= FACT_KEYS
    assert body["job"] == shop.job_id and body["level"] == "product"
    assert body["period"] == {"first": shop.analysis.period[0], "last": shop.analysis.period[1]}


def _descending(values: list[float | None]) -> bool:
    """Highest first, where null (an infinite conviction) is the highest of all."""
    keys = [math.inf if v is None else v for v in values]
    return all(a >= b for a, b in itertools.pairwise(keys))


# -- the views ------------------------------------------------------------------------------------


def test_the_summary_has_counts_settings_period_and_notes(
    api: TestClient, shop: BasketShop, reader: dict[str, str]
) -> None:
    body = _ok(api.get(f"{API}/summary", headers=reader))
    assert set(body) == FACT_KEYS | {"metrics", "settings", "notes"}
    _facts(body, shop)
    assert body["metrics"] == shop.analysis.metrics()
    assert body["metrics"]["rules"] == len(shop.analysis.rules)
    assert body["settings"]["min_support"] == shop.analysis.settings.min_support
    assert body["settings"]["level"] == "product" and body["notes"] == []


def test_rules_come_with_titles_highest_lift_first(
    api: TestClient, shop: BasketShop, reader: dict[str, str]
) -> None:
    body = _rules(api, reader)
    _facts(body, shop)
    assert body["sort_by"] == "lift" and body["total"] == len(shop.analysis.rules)
    rules = body["rules"]
    assert len(rules) == min(50, len(shop.analysis.rules))
    assert all(set(r) == RULE_KEYS for r in rules)
    assert _descending([r["lift"] for r in rules])
    titles = shop.titles
    for rule in rules:
        assert rule["antecedent_titles"] == [titles[p] for p in rule["antecedent"]]
        assert rule["consequent_titles"] == [titles[p] for p in rule["consequent"]]
        assert len(rule["consequent"]) == 1 and not set(rule["antecedent"]) & set(
            rule["consequent"]
        )
    first = shop.analysis.rules.iloc[0]
    assert rules[0]["antecedent"] == list(first["antecedent"])
    assert rules[0]["confidence"] == pytest.approx(first["confidence"])
    assert len(_rules(api, reader, "?limit=3")["rules"]) == 3


@pytest.mark.parametrize("measure", ["support", "confidence", "lift", "leverage", "conviction"])
def test_rules_sort_by_each_measure(api: TestClient, reader: dict[str, str], measure: str) -> None:
    body = _rules(api, reader, f"?sort_by={measure}&limit=1000")
    assert body["sort_by"] == measure and len(body["rules"]) == body["total"]
    assert _descending([r[measure] for r in body["rules"]]), measure


def test_an_infinite_conviction_is_null(
    api: TestClient, shop: BasketShop, reader: dict[str, str]
) -> None:
    rules = _rules(api, reader, "?sort_by=conviction&limit=1000")["rules"]
    certain = [r for r in rules if r["conviction"] is None]
    assert len(certain) == int((shop.analysis.rules["conviction"] == math.inf).sum()) > 0
    assert all(r["confidence"] == pytest.approx(1.0) for r in certain)
    assert rules[: len(certain)] == certain  # the strongest first
    assert all(isinstance(r["conviction"], float) for r in rules[len(certain) :])


def test_rules_are_filtered_by_confidence_lift_and_product(
    api: TestClient, shop: BasketShop, reader: dict[str, str]
) -> None:
    frame = shop.analysis.rules
    confidence = float(frame["confidence"].median())
    lift = float(frame["lift"].median())
    body = _rules(api, reader, f"?min_confidence={confidence}&min_lift={lift}&limit=1000")
    expected = frame[(frame["confidence"] >= confidence) & (frame["lift"] >= lift)]
    assert 0 < body["total"] == len(expected) == len(body["rules"]) < len(frame)
    assert all(r["confidence"] >= confidence and r["lift"] >= lift for r in body["rules"])
    assert body["filters"] == {"min_confidence": confidence, "min_lift": lift, "product": None}

    product = shop.busiest_product()
    sides = zip(frame["antecedent"], frame["consequent"], strict=True)
    mentions = [product in a or product in c for a, c in sides]
    found = _rules(api, reader, f"?product={product}&limit=1000")
    assert 0 < found["total"] == sum(mentions) < len(frame)
    for rule in found["rules"]:
        assert product in rule["antecedent"] + rule["consequent"]
    both = _rules(api, reader, f"?product={product}&min_lift={lift}&limit=1000")
    assert all(r["lift"] >= lift for r in both["rules"]) and both["total"] <= found["total"]
    # A known product in no rule: nothing, not an error.
    assert _rules(api, reader, f"?product={shop.lonely_product()}")["rules"] == []
    # Asking for more than any rule has: an empty list.
    assert _rules(api, reader, "?min_lift=100000")["total"] == 0


def test_rules_of_an_unknown_product_are_404(api: TestClient, reader: dict[str, str]) -> None:
    error = _error(api.get(f"{API}/rules?product=NO-SUCH-SKU", headers=reader), 404, "not_found")
    assert "NO-SUCH-SKU" in error["message"]
    assert error["details"][0]["field"] == "query.product"


def test_bundles_most_buyers_first_with_a_discount_that_keeps_the_margin(
    api: TestClient, shop: BasketShop, reader: dict[str, str]
) -> None:
    body = _ok(api.get(f"{API}/bundles", headers=reader))
    assert set(body) == FACT_KEYS | {"margin_floor", "max_discount", "total", "bundles"}
    _facts(body, shop)
    assert body["total"] == len(shop.analysis.bundles)
    bundles = body["bundles"]
    assert len(bundles) == 20 and all(set(b) == BUNDLE_KEYS for b in bundles)
    assert [b["buyers"] for b in bundles] == sorted((b["buyers"] for b in bundles), reverse=True)
    floor, cap = body["margin_floor"], body["max_discount"]
    titles = shop.titles
    for b in bundles:
        assert b["titles"] == [titles[p] for p in b["items"]] and b["size"] == len(b["items"])
        assert b["orders"] >= b["buyers"] > 0 and b["buyers_per_30_days"] > 0
        assert 0 <= b["discount"] <= cap + 1e-9
        assert b["bundle_price"] == pytest.approx(b["price"] * (1 - b["discount"]), abs=0.01)
        if b["discount"] > 0:
            assert b["bundle_margin_rate"] >= floor - 1e-6
    assert len(_ok(api.get(f"{API}/bundles?limit=3", headers=reader))["bundles"]) == 3
    first = shop.analysis.bundles.iloc[0]
    assert bundles[0]["items"] == list(first["items"])


def test_bought_together_ranks_by_confidence(
    api: TestClient, shop: BasketShop, reader: dict[str, str]
) -> None:
    product = str(shop.analysis.together["product_id"].value_counts().index[0])
    body = _ok(api.get(f"{API}/together/{product}", headers=reader))
    assert set(body) == FACT_KEYS | {"product_id", "title", "partners"}
    _facts(body, shop)
    assert body["product_id"] == product and body["title"] == shop.titles[product]
    partners = body["partners"]
    assert len(partners) == len(shop.analysis.bought_with(product, 10)) > 1
    assert [p["rank"] for p in partners] == list(range(1, len(partners) + 1))
    assert _descending([p["confidence"] for p in partners])
    for p in partners:
        assert set(p) == {"partner_id", "title", "rank", "confidence", "lift", "orders", "buyers"}
        assert p["partner_id"] != product and p["title"] == shop.titles[p["partner_id"]]
        assert p["orders"] >= p["buyers"] > 0
    two = _ok(api.get(f"{API}/together/{product}?limit=2", headers=reader))["partners"]
    assert two == partners[:2]


def test_a_known_product_without_partners_gets_an_empty_list(
    api: TestClient, shop: BasketShop, reader: dict[str, str]
) -> None:
    lonely = shop.lonely_product()
    body = _ok(api.get(f"{API}/together/{lonely}", headers=reader))
    assert body["partners"] == [] and body["title"] == shop.titles[lonely]


def test_bought_together_of_an_unknown_product_is_404(
    api: TestClient, reader: dict[str, str]
) -> None:
    answer = api.get(f"{API}/together/NO-SUCH-SKU", headers=reader)
    error = _error(answer, 404, "not_found")
    assert "NO-SUCH-SKU" in error["message"]
    assert error["details"][0]["field"] == "path.product_id"


def test_the_network_joins_the_strongest_pairs(
    api: TestClient, shop: BasketShop, reader: dict[str, str]
) -> None:
    body = _ok(api.get(f"{API}/network", headers=reader))
    assert set(body) == FACT_KEYS | {"nodes", "edges"}
    _facts(body, shop)
    nodes, edges = body["nodes"], body["edges"]
    assert len(edges) == 60
    ids = {n["id"] for n in nodes}
    assert len(ids) == len(nodes)
    assert ids == {e["source"] for e in edges} | {e["target"] for e in edges}
    assert all(set(n) == {"id", "title", "orders"} and n["orders"] > 0 for n in nodes)
    assert all(n["title"] == shop.titles[n["id"]] for n in nodes)
    for e in edges:
        assert set(e) == {"source", "target", "lift", "orders"} and e["source"] < e["target"]
    assert [e["orders"] for e in edges] == sorted((e["orders"] for e in edges), reverse=True)
    small = _ok(api.get(f"{API}/network?edges=5", headers=reader))
    assert small["edges"] == edges[:5] and len(small["nodes"]) <= 10


# -- validation, keys, the missing artifact, the cache ---------------------------------------------


@pytest.mark.parametrize(
    "query",
    [
        "/rules?limit=0",
        "/rules?limit=1001",
        "/rules?limit=many",
        "/rules?sort_by=popularity",
        "/rules?min_confidence=-0.1",
        "/rules?min_confidence=1.5",
        "/rules?min_confidence=nan",
        "/rules?min_lift=-1",
        "/rules?min_lift=inf",
        "/rules?min_lift=high",
        "/rules?product=",
        "/bundles?limit=0",
        "/together/SKU-10001?limit=0",
        "/together/SKU-10001?limit=101",
        "/network?edges=0",
        "/network?edges=501",
    ],
)
def test_bad_queries_are_422_naming_the_parameter(
    api: TestClient, reader: dict[str, str], query: str
) -> None:
    error = _error(api.get(API + query, headers=reader), 422, "invalid_input")
    name = query.split("?")[1].split("=")[0]
    assert error["details"][0]["field"] == f"query.{name}"
    assert name in error["message"]


ROUTES = ["/summary", "/rules", "/bundles", "/together/SKU-10001", "/network"]


@pytest.mark.parametrize("path", ROUTES)
def test_every_route_needs_a_key(
    api: TestClient, shop: BasketShop, reader: dict[str, str], path: str
) -> None:
    error = _error(api.get(API + path), 401, "unauthorized")
    assert "shopkeeper keys create" in error["message"]
    _error(api.get(API + path, headers=auth("sk_000000000000_" + "x" * 43)), 401, "unauthorized")
    assert "SKU-10001" in shop.titles  # the demo catalog's first product
    for role in ("reader", "operator", "admin"):
        headers = reader if role == "reader" else auth(create_key(shop.store, role, role)[1])
        answer = api.get(API + path, headers=headers)
        assert answer.status_code == 200, (role, answer.text)


def test_without_an_analysis_every_route_says_how_to_compute_it(
    shop: BasketShop, tmp_path: Path
) -> None:
    app = create_app(new_workspace(tmp_path / "untrained"), store=shop.store)
    headers = auth(create_key(shop.store, "untrained reader", "reader")[1])
    with TestClient(app, raise_server_exceptions=False) as client:
        for path in ROUTES:
            error = _error(client.get(API + path, headers=headers), 409, "conflict")
            assert "shopkeeper train basket" in error["message"], path
            assert "POST /api/v1/jobs" in error["message"]


def test_the_analysis_is_loaded_once_and_a_newer_one_from_the_next_request(
    shop: BasketShop, tmp_path: Path
) -> None:
    first, second = check_loaded_once_then_newer(
        shop.store,
        shop.workspace,
        tmp_path,
        "basket",
        served_basket,
        f"{API}/summary",
        f"{API}/rules",
    )
    assert second["metrics"] == first["metrics"]


def test_an_unreadable_analysis_is_503_not_a_crash(shop: BasketShop, tmp_path: Path) -> None:
    check_unreadable_is_503(shop.store, tmp_path, "basket", ARTIFACT, f"{API}/rules")


def test_the_routes_are_in_the_openapi_schema(api: TestClient) -> None:
    from shopkeeper.basket import MEASURES
    from shopkeeper.service.api.routes.basket import SORTS

    assert SORTS == MEASURES  # the schema's copy of the measures
    paths = api.get("/openapi.json").json()["paths"]
    for path in ROUTES:
        name = API + path.replace("SKU-10001", "{product_id}")
        assert "get" in paths[name], name
    params = {p["name"]: p for p in paths[f"{API}/rules"]["get"]["parameters"]}
    assert set(params["sort_by"]["schema"]["enum"]) == set(MEASURES)
