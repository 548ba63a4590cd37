"""The basket job and CLI on the small demo shop, whose planted pairs must show."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from shopkeeper.basket._analysis import load_analysis
from shopkeeper.cli import app
from shopkeeper.demo import DemoConfig, generate, write_shop
from shopkeeper.ingest import load_folder
from shopkeeper.jobs import run_job
from shopkeeper.store import Store
from shopkeeper.workspace import Workspace

runner = CliRunner()


@pytest.fixture(scope="module")
def shop(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, list[dict]]:
    root = tmp_path_factory.mktemp("basket_shop")
    demo = generate(DemoConfig.preset("small"))
    folder = root / "shop"
    write_shop(demo, folder)
    ws = Workspace.resolve(root / "ws")
    store = Store.open(ws)
    store.create()
    load_folder(folder, store)
    job = run_job(store, ws, "basket", {"min_support": 0.002})
    assert job.state == "done", job.error
    store.close()
    return folder, root / "ws", demo.truth["co_purchase_pairs"]


def test_the_job_finds_the_planted_pairs(shop: tuple[Path, Path, list[dict]]) -> None:
    analysis = load_analysis(Workspace.resolve(shop[1]))
    pairs = {frozenset((r.product_id, r.partner_id)) for r in analysis.together.itertuples()}
    planted = [frozenset((p["antecedent"], p["consequent"])) for p in shop[2]]
    frequent_enough = [p for p, q in zip(planted, shop[2], strict=True) if q["orders_with_both"]]
    found = sum(p in pairs for p in frequent_enough)
    assert found >= 0.5 * len(frequent_enough)
    # Planted pairs sell together far beyond chance.
    top = analysis.rules.head(10)
    assert (top["lift"] > 5).all()
    assert len(analysis.bundles) > 0 and (analysis.bundles["buyers"] > 0).all()
    net = analysis.network(20)
    assert len(net["edges"]) == min(20, len(pairs)) > 0 and {e["source"] for e in net["edges"]} <= {
        n["id"] for n in net["nodes"]
    }


def test_rules_itemsets_bundles_and_together_from_the_cli(
    shop: tuple[Path, Path, list[dict]], tmp_path: Path
) -> None:
    ws = str(shop[1])
    out = tmp_path / "rules.csv"
    rules = runner.invoke(
        app, ["basket", "rules", "-w", ws, "-s", "0.002", "-c", "0.2", "-o", str(out), "--json"]
    )
    assert rules.exit_code == 0, rules.output
    payload = json.loads(rules.stdout)
    assert payload["rules"] == len(pd.read_csv(out)) > 0
    assert all(r["confidence"] >= 0.2 for r in payload["top"])
    items = runner.invoke(app, ["basket", "itemsets", "-w", ws, "-s", "0.002", "--json"])
    assert json.loads(items.stdout)["itemsets"] == payload["itemsets"]  # same mining
    bundles = runner.invoke(app, ["basket", "bundles", "-w", ws, "-s", "0.002", "--json"])
    assert json.loads(bundles.stdout)["bundles"] > 0
    pair = shop[2][0]
    together = runner.invoke(
        app, ["basket", "together", pair["antecedent"], "-w", ws, "-s", "0.001", "--json"]
    )
    partners = [p["partner_id"] for p in json.loads(together.stdout)["partners"]]
    assert pair["consequent"] in partners


def test_basket_commands_on_a_contract_folder_and_bad_input(
    shop: tuple[Path, Path, list[dict]],
) -> None:
    folder = str(shop[0])
    result = runner.invoke(
        app, ["basket", "rules", "--data", folder, "-s", "0.002", "--level", "category", "--json"]
    )
    assert result.exit_code == 0, result.output
    assert all(" > " in r["antecedent"][0] for r in json.loads(result.stdout)["top"])
    unknown = runner.invoke(app, ["basket", "together", "nope", "--data", folder])
    assert unknown.exit_code == 2 and "'nope' is not in the catalog" in unknown.output
    bad = runner.invoke(app, ["basket", "rules", "--data", folder, "--sort-by", "size"])
    assert bad.exit_code == 2 and "sort_by must be one of" in bad.output
    basis = runner.invoke(app, ["basket", "itemsets", "--data", folder, "--basis", "people"])
    assert basis.exit_code == 2 and "--basis must be baskets or customers" in basis.output
    params = runner.invoke(
        app, ["train", "basket", "-w", str(shop[1]), "--params", '{"min_support": "a"}', "--json"]
    )
    assert params.exit_code == 1 and "min_support='a' must be a number" in params.stdout
