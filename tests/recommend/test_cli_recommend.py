"""``shopkeeper evaluate recommend``, ``train recommend`` and ``recommend`` end to end."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

from shopkeeper.cli import app
from shopkeeper.demo import DemoConfig, generate, write_shop

runner = CliRunner()


@pytest.fixture(scope="module")
def shop_folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("rec_shop")
    write_shop(generate(DemoConfig.preset("small")), folder)
    return folder


@pytest.mark.slow
def test_evaluate_recommend_reports_every_model(shop_folder: Path, tmp_path: Path) -> None:
    out = tmp_path / "table.json"
    result = runner.invoke(
        app,
        [
            "evaluate",
            "recommend",
            "--data",
            str(shop_folder),
            "--k",
            "5,10",
            "--quick",
            "--test-from",
            "2024-11-01",
            "--out",
            str(out),
            "--json",
        ],
    )
    assert result.exit_code == 0, result.output
    payload = json.loads(result.stdout)
    assert payload["split"] == "by time: test from 2024-11-01"
    models = {row["model"]: row for row in payload["models"]}
    assert {"popularity", "own history", "repeat", "item_knn", "als", "ease", "hybrid"} <= set(
        models
    )
    for row in models.values():
        for key in ("recall@5", "ndcg@10", "map@10", "hit_rate@10", "coverage@10", "gini@10"):
            assert 0.0 <= row[key] <= 1.0
    # On a shop with lasting tastes, the personal models beat the best sellers.
    assert models["hybrid"]["ndcg@10"] > models["popularity"]["ndcg@10"]
    assert json.loads(out.read_text())["models"] == payload["models"]


@pytest.mark.slow
def test_evaluate_recommend_last_fraction_split(shop_folder: Path) -> None:
    result = runner.invoke(
        app,
        [
            "evaluate",
            "recommend",
            "--data",
            str(shop_folder),
            "--test-last",
            "0.2",
            "--repeats",
            "exclude",
            "--quick",
            "--json",
        ],
    )
    assert result.exit_code == 0, result.output
    payload = json.loads(result.stdout)
    assert payload["split"] == "last 20% of each customer's orders"
    assert payload["repeats"] == "exclude"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--k", "ten"], "--k must be comma-separated"),
        (["--test-from", "2024-01-01", "--test-last", "0.2"], "not both"),
        (["--repeats", "maybe"], "--repeats must be"),
        (["--test-last", "2"], "strictly between 0 and 1"),
    ],
)
def test_evaluate_recommend_rejects_bad_options(
    shop_folder: Path, args: list[str], message: str
) -> None:
    result = runner.invoke(
        app, ["evaluate", "recommend", "--data", str(shop_folder), "--quick", *args]
    )
    assert result.exit_code != 0
    assert message in result.output


def test_evaluate_recommend_names_the_bad_file_and_line(shop_folder: Path, tmp_path: Path) -> None:
    bad = tmp_path / "bad"
    shutil.copytree(shop_folder, bad)
    lines = (bad / "order_lines.csv").read_text(encoding="utf-8").splitlines()
    head = lines[0].split(",")
    row = lines[3].split(",")
    row[head.index("quantity")] = "-4"
    lines[3] = ",".join(row)
    (bad / "order_lines.csv").write_text("\n".join(lines) + "\n", encoding="utf-8")
    result = runner.invoke(app, ["evaluate", "recommend", "--data", str(bad), "--json"])
    assert result.exit_code != 0
    text = result.stdout
    assert "order_lines.csv" in text and "quantity" in text and "-4" in text


def test_missing_folder_is_a_clear_error(tmp_path: Path) -> None:
    result = runner.invoke(
        app, ["evaluate", "recommend", "--data", str(tmp_path / "nowhere"), "--json"]
    )
    assert result.exit_code != 0
    assert "is not a folder" in result.stdout


@pytest.mark.slow
def test_train_then_recommend(shop_folder: Path, tmp_path: Path) -> None:
    ws = tmp_path / "ws"
    assert runner.invoke(app, ["ingest", str(shop_folder), "-w", str(ws), "--json"]).exit_code == 0
    none_yet = runner.invoke(app, ["recommend", "-c", "x", "-w", str(ws), "--json"])
    assert none_yet.exit_code != 0 and "train recommend" in none_yet.stdout
    trained = runner.invoke(
        app, ["train", "recommend", "--params", '{"quick": true}', "-w", str(ws), "--json"]
    )
    assert trained.exit_code == 0, trained.output
    metrics = json.loads(trained.stdout)["metrics"]
    assert metrics["validation_ndcg@10_hybrid"] > 0
    customers = (shop_folder / "orders.csv").read_text(encoding="utf-8").splitlines()
    head = customers[0].split(",")
    customer = customers[1].split(",")[head.index("customer_id")]
    got = runner.invoke(app, ["recommend", "-c", customer, "-n", "5", "-w", str(ws), "--json"])
    assert got.exit_code == 0, got.output
    items = json.loads(got.stdout)["items"]
    assert len(items) == 5 and all(i["reason"] for i in items)
    bad = runner.invoke(app, ["train", "recommend", "--params", "{oops", "-w", str(ws)])
    assert bad.exit_code != 0 and "not valid JSON" in bad.output
