"""The ``mmm`` commands on the small demo shop: JSON that agrees with the library, clear errors.

The module builds the demo shop once (about 2 s), runs the ``mmm`` job on it
in this thread, and reads the saved analysis to compare the commands with.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from shopkeeper.cli import app
from shopkeeper.demo import DemoConfig, build_demo
from shopkeeper.jobs import run_job
from shopkeeper.mmm import MixAnalysis, load_analysis
from shopkeeper.store import Store
from shopkeeper.workspace import Workspace

runner = CliRunner()


@dataclass
class Shop:
    """The demo shop's files, its workspace with a trained analysis, and that analysis."""

    folder: Path
    workspace: Path
    analysis: MixAnalysis


@pytest.fixture(scope="module")
def shop(tmp_path_factory: pytest.TempPathFactory) -> Shop:
    root = tmp_path_factory.mktemp("mmm_shop")
    store = Store(f"sqlite:///{root}/shop.db")
    store.create()
    build_demo(store, root / "demo", DemoConfig.preset("small"))
    ws = Workspace.resolve(root)
    assert ws.database_url == store.url or ws.database_url.endswith("shop.db")
    job = run_job(store, ws, "mmm", {})
    assert job.state == "done", job.error
    store.close()
    return Shop(root / "demo", root, load_analysis(ws))


def _json(args: list[str]) -> dict[str, Any]:
    result = runner.invoke(app, ["mmm", *args, "--json"])
    assert result.exit_code == 0, result.output
    payload: dict[str, Any] = json.loads(result.stdout)
    assert payload["ok"] is True
    return payload


def _human(args: list[str]) -> str:
    result = runner.invoke(app, ["mmm", *args])
    assert result.exit_code == 0, result.output
    return result.stdout


def test_fit_reports_the_trained_mix(shop: Shop) -> None:
    ws = str(shop.workspace)
    payload = _json(["fit", "-w", ws])
    summary = shop.analysis.model.summary()
    assert [c["channel"] for c in payload["channels"]] == list(summary["channel"])
    for row, expected in zip(payload["channels"], summary.itertuples(), strict=True):
        assert row["roas"] == pytest.approx(expected.roas, rel=1e-12)
        assert row["marginal_roas"] == pytest.approx(expected.marginal_roas, rel=1e-12)
        assert row["roas_low"] <= row["roas_high"]
        assert {"spend", "sales", "share_of_sales", "hill_shape", "half_saturation"} <= set(row)
        assert "adstock_decay" in row  # the default carry-over is geometric
    assert payload["frequency"] == "day" and payload["periods"] == len(shop.analysis.model.dates)
    assert (payload["period"]["from"], payload["period"]["to"]) == shop.analysis.period()
    check, trained = payload["holdout"], shop.analysis.holdout
    assert check is not None and trained is not None and check["wape"] == trained["wape"]
    assert {"mape", "bias", "from", "to", "periods", "dates", "actual", "forecast"} <= set(check)
    assert 0 < payload["base_share"] < 1
    assert payload["target"] == "orders"
    factor = payload["metrics"]["ad_order_value_factor"]
    assert factor == pytest.approx(shop.analysis.model.value.factor, abs=1e-4)
    text = _human(["fit", "-w", ws])
    for words in ("channel", "ROAS", "marginal", "carry-over", "saturation", "holdout", "WAPE"):
        assert words in text
    assert f"worth {factor:.2f}× the usual one" in " ".join(text.split())


def test_simple_line_and_its_prediction(shop: Shop) -> None:
    ws = str(shop.workspace)
    line = shop.analysis.simple
    payload = _json(["simple", "-w", ws, "--spend", "2000", "--level", "0.8"])
    assert payload["intercept"] == pytest.approx(line.intercept)
    assert payload["slope"] == pytest.approx(line.slope)
    assert payload["r2"] == pytest.approx(line.r2)
    p = payload["prediction"]
    assert p["spend"] == 2000 and p["level"] == 0.8
    assert p["sales"] == pytest.approx(line.intercept + line.slope * 2000)
    assert p["low"] < p["mean_low"] < p["sales"] < p["mean_high"] < p["high"]
    default = _json(["simple", "-w", ws])["prediction"]
    assert default["spend"] == pytest.approx(shop.analysis.model.current_spend().sum())
    assert default == shop.analysis.simple.predict(default["spend"], 0.9)
    text = _human(["simple", "-w", ws])
    assert "R²" in text and "interval" in text and "ignores carry-over" in text


def test_budget_splits_the_total_within_the_bounds(shop: Shop) -> None:
    ws = str(shop.workspace)
    channels = shop.analysis.model.channel_names
    first, second = channels[0], channels[1]
    args = ["budget", "-w", ws, "--total", "40000", "--periods", "30"]
    bounds = ["--bound", f"{first}=12000:", "--bound", f"{second}=:1000"]
    payload = _json([*args, *bounds])
    spend = {c["channel"]: c["spend"] for c in payload["channels"]}
    assert sum(spend.values()) == pytest.approx(40000, rel=1e-9)
    assert spend[first] >= 12000 - 1e-6 and spend[second] <= 1000 + 1e-6
    current = sum(c["current_spend"] for c in payload["channels"])
    assert current == pytest.approx(40000, rel=1e-9)
    assert payload["budget"] == pytest.approx(40000) and payload["periods"] == 30
    assert payload["bounds"] == {
        first: {"low": 12000, "high": None},
        second: {"low": None, "high": 1000},
    }
    same = shop.analysis.allocate(
        40000 / 30, bounds={first: (400.0, None), second: (None, 1000 / 30)}
    ).as_dict(30)
    assert payload["expected_sales"] == pytest.approx(same["expected_sales"], rel=1e-9)
    assert payload["gain"] == pytest.approx(payload["expected_sales"] - payload["current_sales"])
    free = _json(args)
    assert free["expected_sales"] >= payload["expected_sales"] - 1e-6  # bounds never help
    profit = _json([*args, "--objective", "profit", "--margin", "0.4"])
    assert profit["objective"] == "profit" and profit["margin"] == 0.4
    assert profit["profit"]["expected"] == pytest.approx(0.4 * profit["expected_sales"] - 40000)
    text = _human([*args, *bounds])
    for words in ("channel", "current", "recommended", "total", "30 days", "expected sales"):
        assert words in text


@pytest.mark.parametrize("value", ["search", "search=100", "search=a:b", "=1:2", "search=5:1"])
def test_budget_refuses_a_bad_bound(shop: Shop, value: str) -> None:
    result = runner.invoke(
        app, ["mmm", "budget", "-w", str(shop.workspace), "--total", "900", "--bound", value]
    )
    assert result.exit_code == 2, result.output
    assert repr(value) in result.output
    if "=" not in value or ":" not in value:
        assert "CHANNEL=LO:HI" in result.output


def test_budget_refuses_unknown_channels_and_impossible_bounds(shop: Shop) -> None:
    base = ["mmm", "budget", "-w", str(shop.workspace), "--total", "900"]
    unknown = runner.invoke(app, [*base, "--bound", "tv=1:2"])
    assert unknown.exit_code == 2 and "no fitted channel tv" in unknown.output
    channel = shop.analysis.model.channel_names[0]
    too_much = runner.invoke(app, [*base, "--bound", f"{channel}=1000:"])
    assert too_much.exit_code == 2 and "not --total 900" in too_much.output
    profit = runner.invoke(app, [*base, "--objective", "profit", "--json"])
    assert profit.exit_code == 2 and "needs a margin" in json.loads(profit.stdout)["error"]
    objective = runner.invoke(app, [*base, "--objective", "reach"])
    assert objective.exit_code == 2 and "objective must be sales or profit" in objective.output


def test_curves_are_the_librarys(shop: Shop) -> None:
    ws = str(shop.workspace)
    payload = _json(["curves", "-w", ws, "--points", "5", "--upto", "2"])
    frame = shop.analysis.curves(5, 2.0)
    assert len(payload["curves"]) == len(frame) == 5 * len(shop.analysis.model.channels)
    for row, expected in zip(payload["curves"], frame.itertuples(), strict=True):
        assert row["channel"] == expected.channel
        assert row["spend"] == pytest.approx(expected.spend)
        assert row["sales"] == pytest.approx(expected.sales)
        assert row["roas"] is None if expected.spend == 0 else math.isfinite(row["roas"])
    sales = [r["sales"] for r in payload["curves"] if r["channel"] == frame["channel"][0]]
    assert sales == sorted(sales)  # more spend never sells less
    text = _human(["curves", "-w", ws, "--points", "3"])
    assert "spend/day" in text and "sales/day" in text and "marginal" in text


def test_without_a_trained_analysis_the_commands_say_how(tmp_path: Path) -> None:
    for command in ("simple", "fit", "curves"):
        result = runner.invoke(app, ["mmm", command, "-w", str(tmp_path)])
        assert result.exit_code == 2, result.output
        assert "shopkeeper train mmm" in result.output
    budget = runner.invoke(app, ["mmm", "budget", "-w", str(tmp_path), "-t", "100", "--json"])
    assert budget.exit_code == 2 and "shopkeeper train mmm" in json.loads(budget.stdout)["error"]


def test_fitting_options_need_data(shop: Shop) -> None:
    result = runner.invoke(app, ["mmm", "fit", "-w", str(shop.workspace), "--frequency", "week"])
    assert result.exit_code == 2
    assert "--frequency" in result.output and "--data" in result.output
    assert """train mmm --params '{"frequency": "week"}'""" in result.output


def test_commands_on_a_contract_folder(shop: Shop) -> None:
    folder = str(shop.folder)
    # The folder's files carry no time zone; the demo store's is +08:00, as the job used.
    payload = _json(["fit", "--data", folder, "--timezone", "+08:00", "--holdout", "0"])
    assert payload["source"] == f"--data {folder}" and payload["holdout"] is None
    assert payload["timezone"] == "+08:00"
    trained = shop.analysis.model.summary()
    assert [c["roas"] for c in payload["channels"]] == pytest.approx(list(trained["roas"]))
    weekly = runner.invoke(app, ["mmm", "fit", "--data", folder, "--frequency", "week"])
    assert weekly.exit_code == 2 and "weeks with both orders and ad spend" in weekly.output
    bad = runner.invoke(app, ["mmm", "simple", "--data", folder, "--adstock", "lagged"])
    assert bad.exit_code == 2 and "adstock must be geometric or weibull" in bad.output
    on_sales = _json(["fit", "--data", folder, "--timezone", "+08:00", "--target", "sales"])
    assert on_sales["target"] == "sales" and on_sales["metrics"]["ad_order_value_factor"] is None
    bad = runner.invoke(app, ["mmm", "fit", "--data", folder, "--target", "clicks"])
    assert bad.exit_code == 2 and "target must be orders or sales, not 'clicks'" in bad.output
    missing = runner.invoke(app, ["mmm", "fit", "--data", str(shop.folder / "nope")])
    assert missing.exit_code == 2 and "is not a folder" in missing.output
