"""The forecast job, ``shopkeeper forecast`` and the forecast routes, on a real small store."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from shopkeeper.access import create_key
from shopkeeper.cli import app
from shopkeeper.errors import ConfigError
from shopkeeper.forecast._analysis import ARTIFACT, ForecastAnalysis, ForecastSettings
from shopkeeper.ingest import load_frames
from shopkeeper.jobs import current_artifact, run_job
from shopkeeper.service import create_app
from shopkeeper.service.api.routes.forecast import served_forecast
from shopkeeper.store import Store
from shopkeeper.workspace import Workspace
from tests.forecast.shop import daily_shop
from tests.service.artifacts import (
    check_loaded_once_then_newer,
    check_unreadable_is_503,
    new_workspace,
)
from tests.service.conftest import auth
from tests.service.conftest import error_body as _error
from tests.service.conftest import ok as _ok

runner = CliRunner()
API = "/api/v1/forecast"


@dataclass
class ForecastShop:
    store: Store
    workspace: Workspace
    job_id: str
    result: ForecastAnalysis


@pytest.fixture(scope="module")
def shop(tmp_path_factory: pytest.TempPathFactory) -> ForecastShop:
    workspace = new_workspace(tmp_path_factory.mktemp("forecast_job"))
    store = Store(workspace.database_url)
    store.create()
    load_frames(daily_shop(), store)
    job = run_job(store, workspace, "forecast", {"horizon": 14})
    assert job.state == "done", job.error
    folder = current_artifact(workspace, "forecast")
    assert folder is not None
    return ForecastShop(store, workspace, job.job_id, ForecastAnalysis.load(folder / ARTIFACT))


def test_the_job_backtests_chooses_and_forecasts_ahead(shop: ForecastShop) -> None:
    r = shop.result
    table = r.backtest.set_index("model")
    assert list(table.index) == ["naive", "moving average (7)", "LightGBM global"]
    # The chosen model is the one with the lowest backtest WAPE.
    assert r.model == table["wape"].idxmin()
    # The global model sees the weekday and the price cuts: it beats both baselines.
    assert table.loc["LightGBM global", "wape"] < table.loc["moving average (7)", "wape"]
    # Every product, 14 days after the last day, with ordered intervals.
    assert r.forecasts["series"].nunique() == 8 and len(r.forecasts) == 8 * 14
    assert r.last_period == "2024-06-08"
    assert r.forecasts["period"].min() == pd.Timestamp("2024-06-09")
    assert (r.forecasts["lo-95"] <= r.forecasts["lo-80"]).all()
    assert (r.forecasts["lo-80"] <= r.forecasts["yhat"]).all()
    assert (r.forecasts["yhat"] <= r.forecasts["hi-80"]).all()
    # Weekends (1.6x) forecast above weekdays.
    by_day = r.forecasts.groupby(r.forecasts["period"].dt.day_of_week >= 5)["yhat"].mean()
    assert by_day[True] > 1.2 * by_day[False]
    assert set(r.holdout.columns) >= {"series", "period", "y", "yhat", "lo-80", "hi-80"}
    metrics = r.metrics()
    assert metrics["model"] == r.model and metrics["series"] == 8


def test_settings_refuse_unknown_models() -> None:
    with pytest.raises(ConfigError, match="forecast models 'naive,prophet'"):
        ForecastSettings(models="naive,prophet").names()
    with pytest.raises(ConfigError, match="forecast model 'magic'"):
        ForecastSettings(model="magic").names()


def test_cli_forecast_from_the_workspace_and_from_a_folder(
    shop: ForecastShop, tmp_path: Path
) -> None:
    ws = ["--workspace", str(shop.workspace.root)]
    listed = runner.invoke(app, ["forecast", *ws, "--top", "3", "--json"])
    assert listed.exit_code == 0, listed.output
    payload = json.loads(listed.stdout)
    assert payload["model"] == shop.result.model and len(payload["products"]) == 3
    first = payload["products"][0]
    assert first["forecast"] >= payload["products"][1]["forecast"]
    one = runner.invoke(app, ["forecast", "p0", *ws, "--json"])
    assert one.exit_code == 0, one.output
    rows = json.loads(one.stdout)["forecast"]
    assert len(rows) == 14 and rows[0]["period"] == "2024-06-09"
    missing = runner.invoke(app, ["forecast", "nope", *ws, "--json"])
    assert missing.exit_code == 2 and "no forecast for product 'nope'" in missing.stdout
    table = runner.invoke(app, ["forecast", *ws])
    assert table.exit_code == 0 and "Backtest" in table.stdout and "Product" in table.stdout

    folder = tmp_path / "shop"
    folder.mkdir()
    for name, frame in daily_shop(days=60, products=3).items():
        frame.to_csv(folder / f"{name}.csv", index=False)
    fresh = runner.invoke(
        app, ["forecast", "--data", str(folder), "-H", "7", "--models", "naive,ma", "--json"]
    )
    assert fresh.exit_code == 0, fresh.output
    assert json.loads(fresh.stdout)["horizon"] == 7
    bad = runner.invoke(app, ["forecast", "--data", str(folder), "--models", "oracle", "--json"])
    assert bad.exit_code == 2 and "choose from naive" in bad.stdout


def test_cli_without_a_trained_forecast_says_what_to_run(tmp_path: Path) -> None:
    workspace = new_workspace(tmp_path / "empty")
    Store(workspace.database_url).create()
    out = runner.invoke(app, ["forecast", "--workspace", str(workspace.root)])
    assert out.exit_code == 2 and "shopkeeper train forecast" in out.output


@pytest.fixture(scope="module")
def api(shop: ForecastShop) -> Iterator[TestClient]:
    with TestClient(create_app(shop.workspace, store=shop.store)) as client:
        yield client


@pytest.fixture(scope="module")
def reader(shop: ForecastShop) -> dict[str, str]:
    return auth(create_key(shop.store, "forecast reader", "reader")[1])


def test_routes_answer_from_the_job(api: TestClient, reader: dict[str, str], shop: ForecastShop):
    summary = _ok(api.get(API, params={"limit": 2}, headers=reader))
    assert summary["job"] == shop.job_id and summary["model"] == shop.result.model
    assert summary["total"] == 8 and len(summary["products"]) == 2
    assert {row["model"] for row in summary["backtest"]} >= {"naive", "LightGBM global"}
    one = _ok(api.get(f"{API}/p3", headers=reader))
    (series,) = one["series"]
    assert len(series["forecast"]) == 14 and series["forecast"][0]["period"] == "2024-06-09"
    assert len(series["history"]) == 90 and len(series["backtest"]) == 14
    assert all(p["lo-80"] <= p["yhat"] <= p["hi-80"] for p in series["forecast"])
    _error(api.get(f"{API}/nope", headers=reader), 404, "not_found")
    assert api.get(API).status_code == 401


def test_routes_before_any_job_and_with_a_broken_artifact(shop: ForecastShop, tmp_path: Path):
    empty = new_workspace(tmp_path / "none")
    with TestClient(create_app(empty, store=shop.store)) as client:
        headers = auth(create_key(shop.store, "early reader", "reader")[1])
        error = _error(client.get(API, headers=headers), 409, "conflict")
        assert "shopkeeper train forecast" in error["message"]
    check_unreadable_is_503(shop.store, tmp_path / "broken", "forecast", ARTIFACT, API)
    check_loaded_once_then_newer(
        shop.store,
        shop.workspace,
        tmp_path / "promoted",
        "forecast",
        served_forecast,
        API,
        f"{API}/p1",
    )
