"""The marketing-mix routes through the real app, over an analysis really computed once.

``mmm_shop`` builds the small demo shop in a SQLite store and runs the ``mmm``
job on it in this thread, once per test process (about 4 s); the dashboard and
browser tests reuse it. Each module gets its own app.
"""

from __future__ import annotations

import dataclasses
import json
import math
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from shopkeeper.access import create_key
from shopkeeper.demo import DemoConfig, build_demo
from shopkeeper.jobs import current_artifact, run_job
from shopkeeper.mmm._analysis import ARTIFACT, MixAnalysis
from shopkeeper.service import create_app
from shopkeeper.service.api.routes.mmm import served_mix
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

API = "/api/v1/mmm"
FACT_KEYS = {"job", "period", "frequency", "timezone"}
CHANNEL_KEYS = {
    "channel",
    "spend",
    "sales",
    "share_of_sales",
    "roas",
    "roas_low",
    "roas_high",
    "current_spend",
    "marginal_roas",
    "marginal_low",
    "marginal_high",
    "hill_shape",
    "half_saturation",
}
HOLDOUT_FIGURES = {"periods", "from", "to", "wape", "mape", "bias"}
BUDGET_KEYS = FACT_KEYS | {
    "budget",
    "periods",
    "objective",
    "margin",
    "expected_sales",
    "current_sales",
    "gain",
    "gain_share",
    "channels",
    "spent",
    "profit",
    "bounds",
}


@dataclass
class MixShop:
    """The small demo shop in a store, and its workspace with the marketing-mix analysis."""

    store: Store
    workspace: Workspace
    job_id: str
    analysis: MixAnalysis

    @property
    def channels(self) -> list[str]:
        return list(self.analysis.model.channel_names)

    def current_total(self) -> float:
        """The current spend per period, all channels together."""
        return float(self.analysis.model.current_spend().sum())


_BUILT: list[MixShop] = []


def mmm_shop(factory: pytest.TempPathFactory) -> MixShop:
    """The demo shop with its marketing-mix analysis, built on first use."""
    if _BUILT:
        return _BUILT[0]
    root = factory.mktemp("mmm")
    workspace = new_workspace(root)
    store = Store(workspace.database_url)
    store.create()
    build_demo(store, root / "demo", DemoConfig.preset("small"))
    job = run_job(store, workspace, "mmm", {})
    assert job.state == "done", job.error
    folder = current_artifact(workspace, "mmm")
    assert folder is not None
    analysis = MixAnalysis.load(folder / ARTIFACT)
    # The small shop must give every view something to show: several channels, a
    # daily window long enough for the holdout check.
    assert len(analysis.model.channel_names) >= 3 and analysis.model.frequency == "day"
    assert analysis.holdout is not None
    _BUILT.append(MixShop(store, workspace, job.job_id, analysis))
    return _BUILT[0]


def copy_analysis(shop: MixShop, workspace: Workspace, job_id: str, **changes: Any) -> None:
    """The shop's analysis (with ``changes``) as the current one of ``workspace``."""
    kind = workspace.models_dir / "mmm"
    folder = kind / job_id
    folder.mkdir(parents=True)
    dataclasses.replace(shop.analysis, **changes).save(folder / ARTIFACT)
    (kind / "current.json").write_text(json.dumps({"job_id": job_id}))


@pytest.fixture(scope="module")
def shop(tmp_path_factory: pytest.TempPathFactory) -> MixShop:
    return mmm_shop(tmp_path_factory)


@pytest.fixture(scope="module")
def api(shop: MixShop) -> Iterator[TestClient]:
    app = create_app(shop.workspace, store=shop.store)
    with TestClient(app, raise_server_exceptions=False) as client:
        yield client


@pytest.fixture(scope="module")
def reader(shop: MixShop) -> dict[str, str]:
    return auth(create_key(shop.store, "mmm reader", "reader")[1])


def _facts(body: dict[str, Any], shop: MixShop) -> None:
    assert set(body) >= FACT_KEYS
    first, last = shop.analysis.period()
    assert body["job"] == shop.job_id and body["frequency"] == "day"
    assert body["period"] == {"first": first, "last": last}
    # The demo shop keeps Beijing time, and the job counted its days so.
    assert body["timezone"] == shop.analysis.data.timezone == "+08:00"


def _budget(api: TestClient, headers: dict[str, str], body: dict[str, Any]) -> Any:
    return api.post(f"{API}/budget", headers=headers, json=body)


# -- the views ------------------------------------------------------------------------------------


def test_the_summary_has_the_channels_the_line_the_holdout_and_notes(
    api: TestClient, shop: MixShop, reader: dict[str, str]
) -> None:
    body = _ok(api.get(f"{API}/summary", headers=reader))
    assert set(body) == FACT_KEYS | {
        "periods",
        "channels",
        "current_spend",
        "simple",
        "holdout",
        "metrics",
        "settings",
        "notes",
    }
    _facts(body, shop)
    a = shop.analysis
    assert body["periods"] == len(a.model.dates)
    expected = a.model.summary().to_dict(orient="records")
    assert [c["channel"] for c in body["channels"]] == shop.channels
    for row, want in zip(body["channels"], expected, strict=True):
        assert set(row) >= CHANNEL_KEYS and any(k.startswith("adstock_") for k in row)
        for key, value in want.items():
            assert row[key] == (value if isinstance(value, str) else pytest.approx(value)), key
        # The mode inside its interval (draws of a channel at zero may sit a hair above).
        assert row["roas_low"] - 1e-6 <= row["roas"] <= row["roas_high"] + 1e-6
    assert body["current_spend"]["total"] == pytest.approx(shop.current_total())
    assert list(body["current_spend"]["channels"]) == shop.channels
    simple = body["simple"]
    assert simple["slope"] == pytest.approx(a.simple.slope)
    assert simple["intercept"] == pytest.approx(a.simple.intercept)
    assert simple["r2"] == pytest.approx(a.simple.r2) and simple["n"] == a.simple.n
    assert a.holdout is not None
    assert set(body["holdout"]) == HOLDOUT_FIGURES  # no long lists here
    assert body["holdout"]["wape"] == a.holdout["wape"]
    assert body["metrics"] == json.loads(json.dumps(a.metrics()))
    assert body["settings"]["frequency"] == "day" and body["notes"] == list(a.notes)


def test_the_simple_line_forecasts_one_period(
    api: TestClient, shop: MixShop, reader: dict[str, str]
) -> None:
    body = _ok(api.get(f"{API}/simple", headers=reader))
    assert set(body) == FACT_KEYS | {"line", "prediction"}
    _facts(body, shop)
    simple = shop.analysis.simple
    # By default at the current total spend per period.
    expected = simple.predict(shop.current_total(), 0.9)
    assert body["prediction"] == pytest.approx(expected)
    p = body["prediction"]
    assert p["low"] < p["mean_low"] < p["sales"] < p["mean_high"] < p["high"]
    assert body["line"]["slope"] == pytest.approx(simple.slope)
    asked = _ok(api.get(f"{API}/simple?spend=2500&level=0.5", headers=reader))["prediction"]
    assert asked == pytest.approx(simple.predict(2500.0, 0.5))
    assert asked["sales"] == pytest.approx(simple.intercept + simple.slope * 2500)
    wide = _ok(api.get(f"{API}/simple?spend=2500&level=0.99", headers=reader))["prediction"]
    assert wide["high"] - wide["low"] > asked["high"] - asked["low"]


def test_contributions_add_up_to_the_fitted_sales(
    api: TestClient, shop: MixShop, reader: dict[str, str]
) -> None:
    body = _ok(api.get(f"{API}/contributions", headers=reader))
    assert set(body) == FACT_KEYS | {"channels", "rows"}
    _facts(body, shop)
    assert body["channels"] == shop.channels
    frame = shop.analysis.contributions()
    rows = body["rows"]
    assert len(rows) == len(frame) == len(shop.analysis.model.dates)
    assert rows[0]["date"] == shop.analysis.period()[0]
    assert rows[-1]["date"] == shop.analysis.period()[1]
    for row, (_, want) in zip(rows, frame.iterrows(), strict=True):
        assert set(row) == {"date", "sales", "fitted", "base", "channels"}
        assert row["sales"] == pytest.approx(want["sales"])
        assert row["base"] == pytest.approx(want["base"])
        assert row["channels"] == pytest.approx({c: want[c] for c in shop.channels})
        total = row["base"] + sum(row["channels"].values())
        assert total == pytest.approx(row["fitted"], rel=1e-9)


def test_response_curves_rise_from_zero_and_mark_the_current_spend(
    api: TestClient, shop: MixShop, reader: dict[str, str]
) -> None:
    body = _ok(api.get(f"{API}/curves", headers=reader))
    assert set(body) == FACT_KEYS | {"points", "upto", "curves"}
    assert body["points"] == 41 and body["upto"] == 3.0
    frame = shop.analysis.curves()
    channels = {c.name: c for c in shop.analysis.model.channels}
    current = dict(zip(shop.channels, shop.analysis.model.current_spend(), strict=True))
    assert [c["channel"] for c in body["curves"]] == shop.channels
    for curve in body["curves"]:
        name = curve["channel"]
        want = frame[frame["channel"] == name]
        assert curve["spend"] == pytest.approx(want["spend"].tolist())
        assert curve["sales"] == pytest.approx(want["sales"].tolist())
        assert len(curve["spend"]) == 41 and curve["spend"][0] == 0 == curve["sales"][0]
        assert all(b >= a for a, b in zip(curve["sales"], curve["sales"][1:], strict=False))
        assert curve["current_spend"] == pytest.approx(current[name])
        assert curve["current_sales"] == pytest.approx(channels[name].response(current[name])[0])
    small = _ok(api.get(f"{API}/curves?points=5&upto=1.5", headers=reader))
    assert small["points"] == 5 and small["upto"] == 1.5
    assert all(len(c["spend"]) == 5 for c in small["curves"])
    first = small["curves"][0]
    assert first["spend"][-1] == pytest.approx(
        max(first["current_spend"], float(shop.analysis.model.spend[0].mean()), 1.0) * 1.5
    )


def test_the_holdout_has_both_series(
    api: TestClient, shop: MixShop, reader: dict[str, str]
) -> None:
    body = _ok(api.get(f"{API}/holdout", headers=reader))
    assert set(body) == FACT_KEYS | {"holdout", "notes"}
    _facts(body, shop)
    holdout, want = body["holdout"], shop.analysis.holdout
    assert want is not None
    assert set(holdout) == HOLDOUT_FIGURES | {"dates", "actual", "forecast"}
    assert holdout["periods"] == len(holdout["dates"]) == len(holdout["actual"])
    assert len(holdout["forecast"]) == holdout["periods"]
    assert holdout["dates"][0] == holdout["from"] and holdout["dates"][-1] == holdout["to"]
    assert holdout["to"] == shop.analysis.period()[1]
    assert holdout["actual"] == pytest.approx(want["actual"])
    assert holdout["forecast"] == pytest.approx(want["forecast"])
    errors = sum(abs(f - a) for f, a in zip(holdout["forecast"], holdout["actual"], strict=True))
    assert holdout["wape"] == pytest.approx(errors / sum(holdout["actual"]), abs=1e-4)


def test_without_a_holdout_check_the_holdout_is_null(shop: MixShop, tmp_path: Path) -> None:
    workspace = new_workspace(tmp_path / "no-holdout")
    note = "no holdout check: too few periods"
    copy_analysis(shop, workspace, "20990101-000000-eeeeee", holdout=None, notes=[note])
    headers = auth(create_key(shop.store, "no holdout reader", "reader")[1])
    with TestClient(create_app(workspace, store=shop.store)) as client:
        body = _ok(client.get(f"{API}/holdout", headers=headers))
        assert body["holdout"] is None and body["notes"] == [note]
        summary = _ok(client.get(f"{API}/summary", headers=headers))
        assert summary["holdout"] is None and summary["metrics"]["holdout_wape"] is None


# -- the budget ---------------------------------------------------------------------------------


def test_the_default_budget_splits_the_current_spend_over_30_days(
    api: TestClient, shop: MixShop, reader: dict[str, str]
) -> None:
    body = _ok(_budget(api, reader, {}))
    assert set(body) == BUDGET_KEYS
    _facts(body, shop)
    total = shop.current_total() * 30
    assert body["periods"] == 30 and body["objective"] == "sales"
    assert body["budget"] == pytest.approx(total)
    assert body["spent"] == pytest.approx(total, rel=1e-6)
    assert sum(c["spend"] for c in body["channels"]) == pytest.approx(total, rel=1e-6)
    assert sum(c["current_spend"] for c in body["channels"]) == pytest.approx(total, rel=1e-6)
    # The library's answer for the same budget per period, over 30 periods.
    want = shop.analysis.allocate(shop.current_total()).as_dict(30)
    for key in ("budget", "expected_sales", "current_sales", "gain", "gain_share"):
        assert body[key] == pytest.approx(want[key], rel=1e-6), key
    _same_channels(body["channels"], want["channels"])
    assert body["gain"] >= -1e-6  # never worse than the current split
    assert body["gain"] == pytest.approx(body["expected_sales"] - body["current_sales"])
    assert body["profit"] is None and body["bounds"] == {}


def _same_channels(got: list[dict[str, Any]], want: list[dict[str, Any]]) -> None:
    """The same channels in the same order, every figure equal to a millionth."""
    assert [c["channel"] for c in got] == [c["channel"] for c in want]
    for ours, theirs in zip(got, want, strict=True):
        assert set(ours) == set(theirs)
        for key, value in theirs.items():
            if key != "channel":
                assert ours[key] == pytest.approx(value, rel=1e-6, abs=1e-9), key


def test_a_budget_within_bounds(api: TestClient, shop: MixShop, reader: dict[str, str]) -> None:
    names = shop.channels
    total = 50_000.0
    bounds = {names[0]: {"min": 12_000}, names[1]: {"max": 500}, names[2]: {"min": 1_000}}
    bounds[names[2]]["max"] = 4_000
    body = _ok(_budget(api, reader, {"total": total, "bounds": bounds, "periods": 30}))
    spend = {c["channel"]: c["spend"] for c in body["channels"]}
    assert list(spend) == names
    assert sum(spend.values()) == pytest.approx(total, rel=1e-6)
    assert spend[names[0]] >= 12_000 - 1e-6
    assert spend[names[1]] <= 500 + 1e-6
    assert 1_000 - 1e-6 <= spend[names[2]] <= 4_000 + 1e-6
    assert all(s >= -1e-9 for s in spend.values())
    assert body["bounds"][names[0]] == {"min": 12_000, "max": None}
    # The same as the library's, per period.
    per_period = {
        names[0]: (400.0, None),
        names[1]: (None, 500 / 30),
        names[2]: (1_000 / 30, 4_000 / 30),
    }
    want = shop.analysis.allocate(total / 30, bounds=per_period).as_dict(30)
    _same_channels(body["channels"], want["channels"])
    # Over a week instead of a month: the same split per period.
    week = _ok(_budget(api, reader, {"total": total * 7 / 30, "periods": 7}))
    month = _ok(_budget(api, reader, {"total": total, "periods": 30}))
    for a, b in zip(week["channels"], month["channels"], strict=True):
        assert a["spend"] / 7 == pytest.approx(b["spend"] / 30, rel=1e-4, abs=1e-6)


def test_a_profit_budget_may_spend_less(
    api: TestClient, shop: MixShop, reader: dict[str, str]
) -> None:
    total = shop.current_total() * 30
    body = _ok(_budget(api, reader, {"total": total, "objective": "profit", "margin": 0.4}))
    assert body["objective"] == "profit" and body["margin"] == 0.4
    assert body["spent"] <= total * (1 + 1e-6)
    profit = body["profit"]
    assert profit["expected"] == pytest.approx(0.4 * body["expected_sales"] - body["spent"])
    current = sum(c["current_spend"] for c in body["channels"])
    assert profit["current"] == pytest.approx(0.4 * body["current_sales"] - current)
    assert profit["gain"] >= -1e-6


@pytest.mark.parametrize(
    ("body", "field", "shown"),
    [
        ({"total": -500}, "total", "-500"),
        ({"total": 0}, "total", "0"),
        ({"periods": 0}, "periods", "0"),
        ({"periods": 100_000}, "periods", "100000"),
        ({"objective": "clicks"}, "objective", "'clicks'"),
        ({"objective": "profit"}, "margin", "margin"),
        ({"objective": "profit", "margin": 1.5}, "margin", "1.5"),
        ({"margin": -0.2}, "margin", "-0.2"),
        ({"bounds": {"tiktok": {"max": 10}}}, "bounds.tiktok", "'tiktok'"),
        ({"bounds": {"CHANNEL0": {"min": -1}}}, "bounds.CHANNEL0.min", "-1"),
        ({"bounds": {"CHANNEL0": {"min": 50, "max": 10}}}, "bounds.CHANNEL0", "10"),
        ({"total": 1_000, "bounds": {"CHANNEL0": {"min": 2_000}}}, "bounds", "2,000.00"),
        ({"total": 1_000, "bounds": "ALL_CAPPED"}, "bounds", "1,000.00"),
    ],
)
def test_a_bad_budget_is_422_naming_the_field_and_value(
    api: TestClient,
    shop: MixShop,
    reader: dict[str, str],
    body: dict[str, Any],
    field: str,
    shown: str,
) -> None:
    first = shop.channels[0]
    if body.get("bounds") == "ALL_CAPPED":  # every channel capped below the total
        body = {**body, "bounds": {c: {"max": 10} for c in shop.channels}}
    text = json.dumps(body).replace("CHANNEL0", first)
    field = field.replace("CHANNEL0", first)
    answer = api.post(
        f"{API}/budget", headers={**reader, "content-type": "application/json"}, content=text
    )
    error = _error(answer, 422, "invalid_input")
    assert shown in error["message"], error["message"]
    assert field.split(".")[0] in error["message"]
    assert error["details"][0]["field"] == field


@pytest.mark.parametrize(
    ("text", "field"),
    [
        ('{"total": "lots"}', "total"),
        ('{"total": NaN}', "total"),
        ('{"total": Infinity}', "total"),
        ('{"periods": 2.5}', "periods"),
        ('{"bounds": {"x": 3}}', "bounds.x"),
        ('{"margin": NaN, "objective": "profit"}', "margin"),
        ("[1, 2]", "body"),
    ],
)
def test_a_malformed_budget_is_422(
    api: TestClient, reader: dict[str, str], text: str, field: str
) -> None:
    answer = api.post(
        f"{API}/budget", headers={**reader, "content-type": "application/json"}, content=text
    )
    error = _error(answer, 422, "invalid_input")
    assert error["details"][0]["field"] == field, error
    assert field.split(".")[0] in error["message"] or field == "body"


# -- validation, keys, the missing artifact, the cache -----------------------------------------


@pytest.mark.parametrize(
    "query",
    [
        "/simple?spend=-1",
        "/simple?spend=nan",
        "/simple?spend=much",
        "/simple?level=0",
        "/simple?level=1",
        "/simple?level=high",
        "/curves?points=1",
        "/curves?points=402",
        "/curves?points=many",
        "/curves?upto=0",
        "/curves?upto=21",
        "/curves?upto=inf",
    ],
)
def test_bad_queries_are_422_naming_the_parameter(
    api: TestClient, reader: dict[str, str], query: str
) -> None:
    error = _error(api.get(API + query, headers=reader), 422, "invalid_input")
    name = query.split("?")[1].split("=")[0]
    assert error["details"][0]["field"] == f"query.{name}"
    assert name in error["message"]


ROUTES = ["/summary", "/simple", "/contributions", "/curves", "/holdout"]


def _call(client: TestClient, path: str, headers: dict[str, str] | None = None) -> Any:
    if path == "/budget":
        return client.post(API + path, headers=headers or {}, json={})
    return client.get(API + path, headers=headers or {})


@pytest.mark.parametrize("path", [*ROUTES, "/budget"])
def test_every_route_needs_a_key(
    api: TestClient, shop: MixShop, reader: dict[str, str], path: str
) -> None:
    error = _error(_call(api, path), 401, "unauthorized")
    assert "shopkeeper keys create" in error["message"]
    _error(_call(api, path, auth("sk_000000000000_" + "x" * 43)), 401, "unauthorized")
    for role in ("reader", "operator", "admin"):
        headers = reader if role == "reader" else auth(create_key(shop.store, role, role)[1])
        answer = _call(api, path, headers)
        assert answer.status_code == 200, (role, answer.text)


def test_without_an_analysis_every_route_says_how_to_compute_it(
    shop: MixShop, tmp_path: Path
) -> None:
    app = create_app(new_workspace(tmp_path / "untrained"), store=shop.store)
    headers = auth(create_key(shop.store, "untrained reader", "reader")[1])
    with TestClient(app, raise_server_exceptions=False) as client:
        for path in [*ROUTES, "/budget"]:
            error = _error(_call(client, path, headers), 409, "conflict")
            assert "shopkeeper train mmm" in error["message"], path
            assert "POST /api/v1/jobs" in error["message"]


def test_the_analysis_is_loaded_once_and_a_newer_one_from_the_next_request(
    shop: MixShop, tmp_path: Path
) -> None:
    first, second = check_loaded_once_then_newer(
        shop.store, shop.workspace, tmp_path, "mmm", served_mix, f"{API}/summary", f"{API}/curves"
    )
    assert second["channels"] == first["channels"]


def test_an_unreadable_analysis_is_503_not_a_crash(shop: MixShop, tmp_path: Path) -> None:
    check_unreadable_is_503(shop.store, tmp_path, "mmm", ARTIFACT, f"{API}/summary")


def test_the_routes_are_in_the_openapi_schema(api: TestClient) -> None:
    paths = api.get("/openapi.json").json()["paths"]
    for path in ROUTES:
        assert "get" in paths[API + path], path
    post = paths[f"{API}/budget"]["post"]
    assert "requestBody" in post
    schemas = api.get("/openapi.json").json()["components"]["schemas"]
    assert schemas["BudgetIn"]["properties"]["objective"]["enum"] == ["sales", "profit"]
    assert set(schemas["BoundIn"]["properties"]) == {"min", "max"}
    assert math.isclose(schemas["BudgetIn"]["properties"]["periods"]["default"], 30)
