"""``shopkeeper reorder-plan`` and ``shopkeeper evaluate inventory`` on a contract folder."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from shopkeeper.cli import app
from shopkeeper.ingest import load_frames
from shopkeeper.store import Store
from shopkeeper.workspace import Workspace
from tests.inventory.shop import shop_frames, write_frames

runner = CliRunner()


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    return write_frames(shop_frames(), tmp_path / "shop")


def test_the_plan_of_a_folder_as_json_and_csv(folder: Path, tmp_path: Path) -> None:
    out = tmp_path / "plan.csv"
    result = runner.invoke(
        app, ["reorder-plan", "--data", str(folder), "--json", "--csv", str(out), "--due"]
    )
    assert result.exit_code == 0, result.output
    payload = json.loads(result.stdout)
    assert payload["as_of"] == "2024-04-30" and payload["review"] == "continuous"
    assert payload["totals"]["items"] == 3 and payload["totals"]["orders_due"] == 1
    [row] = payload["plan"]
    assert row["product_id"] == "steady" and row["order_units"] == 171
    assert row["runout_date"].startswith("2024-05-04")
    with out.open() as fh:
        assert next(csv.DictReader(fh))["product_id"] == "steady"


def test_the_plan_of_the_workspace_store_as_a_table(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("SHOPKEEPER_DATABASE_URL", raising=False)
    ws = Workspace.resolve(tmp_path / "ws")
    load_frames(shop_frames(), Store.open(ws))
    result = runner.invoke(
        app,
        ["reorder-plan", "-w", str(ws.root), "--service-level", "0.99", "--policy", "periodic"],
    )
    assert result.exit_code == 0, result.output
    assert "Reorder plan for 2024-04-30" in result.stdout and "steady" in result.stdout


def test_bad_options_are_refused_by_name(folder: Path) -> None:
    bad = runner.invoke(app, ["reorder-plan", "--data", str(folder), "--service-level", "1.2"])
    assert bad.exit_code == 2 and "--service-level must lie strictly between 0 and 1" in bad.output
    policy = runner.invoke(app, ["reorder-plan", "--data", str(folder), "--policy", "weekly"])
    assert policy.exit_code == 2 and "review must be continuous or periodic" in policy.output
    long = runner.invoke(
        app, ["evaluate", "inventory", "--data", str(folder), "--holdout-days", "55"]
    )
    assert long.exit_code == 2 and "use a holdout of at most 46 days" in long.output


def test_evaluate_inventory_compares_the_policy_and_the_naive_rule(folder: Path) -> None:
    result = runner.invoke(
        app,
        ["evaluate", "inventory", "--data", str(folder), "--holdout-days", "21", "--json"],
    )
    assert result.exit_code == 0, result.output
    payload = json.loads(result.stdout)
    assert payload["holdout"] == {"first": "2024-04-09", "last": "2024-04-29"}
    names = [p["policy"] for p in payload["policies"]]
    assert names == ["policy", "policy, Q=30d", "naive L+7d, Q=30d"]
    for row in payload["policies"]:
        assert 0 <= row["fill_rate"] <= 1 and row["average_units"] > 0
    assert {c["curve"] for c in payload["curves"]} == {"policy", "policy, naive quantity", "naive"}
    table = runner.invoke(
        app, ["evaluate", "inventory", "--data", str(folder), "--holdout-days", "21"]
    )
    assert table.exit_code == 0 and "Policy against the naive rule" in table.stdout


@pytest.mark.parametrize("command", [["reorder-plan"], ["evaluate", "inventory"]])
def test_help_teaches_with_examples(command: list[str]) -> None:
    result = runner.invoke(app, [*command, "--help"])
    assert result.exit_code == 0 and "Examples" in result.output
