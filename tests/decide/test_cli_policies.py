"""``shopkeeper policies ...``: start, list, show, stop and export, with --json."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from shopkeeper.cli import app
from shopkeeper.decide import decide_slot, record_outcomes
from shopkeeper.store import Store
from shopkeeper.workspace import Workspace
from tests.ingest.shop_files import write_shop

runner = CliRunner()


@pytest.fixture(autouse=True)
def _own_workspace(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SHOPKEEPER_WORKSPACE", str(tmp_path / "ws"))
    monkeypatch.delenv("SHOPKEEPER_DATABASE_URL", raising=False)
    loaded = runner.invoke(app, ["ingest", str(write_shop(tmp_path / "shop"))])
    assert loaded.exit_code == 0, loaded.output


def _json(args: list[str]) -> dict:
    result = runner.invoke(app, [*args, "--json"])
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def test_start_list_show_stop_a_price_policy() -> None:
    started = _json(["policies", "start-price", "P1", "--points", "5", "--explore", "0.3"])
    config = started["policy"]["config"]
    assert len(config["prices"]) == 5 and config["guardrails"]["exploration_share"] == 0.3
    listed = _json(["policies", "list"])
    assert [p["policy_id"] for p in listed["policies"]] == ["price:P1"]
    shown = _json(["policies", "show", "price:P1"])
    assert [a["action"] for a in shown["actions"]] == config["actions"]
    assert shown["logged_value"]["n"] == 0
    text = runner.invoke(app, ["policies", "show", "price:P1"])
    assert text.exit_code == 0 and "price:P1" in text.stdout and config["actions"][0] in text.stdout
    stopped = _json(["policies", "stop", "price:P1"])
    assert stopped["policy"]["status"] == "stopped"
    assert _json(["policies", "list", "--running"])["policies"] == []


def test_export_writes_the_log_ope_reads(tmp_path: Path) -> None:
    _json(["policies", "start-slot", "hero", "--items", "P1,P2,P3", "--positions", "2"])
    store = Store.open(Workspace.resolve())
    rng = np.random.default_rng(0)
    for _ in range(5):
        items = decide_slot(store, "hero", rng=rng)["items"]
        record_outcomes(store, [{"decision_id": i["decision_id"], "click": True} for i in items])
    out = tmp_path / "hero.csv"
    exported = _json(["policies", "export", "slot:hero", "--out", str(out)])
    assert exported["rows"] == 10
    frame = pd.read_csv(out)
    assert len(frame) == 10 and frame["reward"].eq(1.0).all()
    assert frame["propensity"].between(0, 1, inclusive="right").all()


def test_bad_input_exits_2_with_a_clear_message() -> None:
    bad = runner.invoke(app, ["policies", "start-price", "P1", "--floor", "1.5"])
    assert bad.exit_code == 2 and "guardrail floor=1.5" in bad.output
    params = runner.invoke(app, ["policies", "start-price", "P1", "--params", "{oops"])
    assert params.exit_code == 2 and "--params" in params.output and "not JSON" in params.output
    unknown = runner.invoke(app, ["policies", "show", "price:P9", "--json"])
    assert unknown.exit_code == 2
    assert "no policy 'price:P9'" in unknown.stdout
    few = runner.invoke(app, ["policies", "start-slot", "s", "--items", "P1"])
    assert few.exit_code == 2 and "2 to 500 distinct" in few.output
