"""``shopkeeper pricing ...`` on the small demo shop: trained analysis, --data, simulate."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from shopkeeper.cli import app
from shopkeeper.demo import DemoConfig, generate, write_shop

runner = CliRunner()


@pytest.fixture(scope="module")
def folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The small demo shop's contract files."""
    out = tmp_path_factory.mktemp("pricing_cli") / "shop"
    write_shop(generate(DemoConfig.preset("small")), out)
    return out


@pytest.fixture(autouse=True)
def _own_workspace(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SHOPKEEPER_WORKSPACE", str(tmp_path / "ws"))
    monkeypatch.delenv("SHOPKEEPER_DATABASE_URL", raising=False)


def _json(args: list[str]) -> dict:
    result = runner.invoke(app, [*args, "--json"])
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def test_elasticity_and_recommend_from_a_folder(folder: Path) -> None:
    shown = _json(["pricing", "elasticity", "--data", str(folder)])
    assert shown["frequency"] == "week" and shown["products"]
    pooled = {g["group"]: g for g in shown["pooled"]}
    assert pooled["all"]["lo"] < pooled["all"]["elasticity"] < pooled["all"]["hi"] < 0
    recs = _json(["pricing", "recommend", "--data", str(folder)])["recommendations"]
    priced = [r for r in recs if r["recommended_price"] is not None]
    assert priced and all(
        r["lower_bound"] - 1e-9 <= r["recommended_price"] <= r["upper_bound"] + 1e-9 for r in priced
    )
    text = runner.invoke(app, ["pricing", "elasticity", "--data", str(folder), "--top", "3"])
    assert text.exit_code == 0 and "pooled all" in text.stdout
    # One line per product left out would drown the table: a few, then a count.
    assert "more notes (--json lists them all)" in text.stdout


def test_the_trained_analysis_and_its_absence(folder: Path) -> None:
    missing = runner.invoke(app, ["pricing", "recommend"])
    assert missing.exit_code == 2 and "shopkeeper train pricing" in missing.output
    assert runner.invoke(app, ["ingest", str(folder)]).exit_code == 0
    trained = runner.invoke(app, ["train", "pricing", "--params", '{"by_location": "no"}'])
    assert trained.exit_code == 0, trained.output
    recs = _json(["pricing", "recommend"])
    assert recs["guardrails"]["ceiling"] == 1.2 and recs["recommendations"]
    no_stores = runner.invoke(app, ["pricing", "by-location"])
    assert no_stores.exit_code == 2 and "no elasticity by location" in no_stores.output


def test_simulate_reports_regret_per_policy() -> None:
    out = _json(["pricing", "simulate", "--days", "10", "--seeds", "1", "--products", "2"])
    assert out["days"] == 10 and len(out["products"]) == 2
    regret = {p["policy"]: p["regret"] for p in out["policies"]}
    assert {"fixed", "greedy", "thompson"} <= set(regret)
    assert all(r >= 0 for r in regret.values())
    assert out["best"] in regret
