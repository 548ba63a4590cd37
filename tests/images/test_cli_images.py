"""``shopkeeper images ...`` over the photo shop of the service tests: train, report,
mismatches, categorise and similar, as a person and as a script (``--json``)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from shopkeeper.cli import app
from shopkeeper.ingest import load_folder
from shopkeeper.store import Store
from shopkeeper.workspace import Workspace
from tests.service.images_shop import (
    PLANTED,
    QUICK,
    UNLABELLED,
    ImagesShop,
    images_shop,
    require_vision,
    write_photo_shop,
)

runner = CliRunner()


@pytest.fixture(scope="module")
def shop(tmp_path_factory: pytest.TempPathFactory) -> ImagesShop:
    return images_shop(tmp_path_factory)


def _run(shop: ImagesShop, *args: str) -> Any:
    found = runner.invoke(app, ["images", *args, "-w", str(shop.workspace.root)])
    return found


def _json(shop: ImagesShop, *args: str) -> dict[str, Any]:
    found = _run(shop, *args, "--json")
    assert found.exit_code == 0, found.output
    body: dict[str, Any] = json.loads(found.stdout)
    assert body["ok"] is True
    return body


def test_train_runs_the_job_and_reports_its_figures(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    require_vision()
    monkeypatch.delenv("SHOPKEEPER_DATABASE_URL", raising=False)
    ws = Workspace.resolve(tmp_path / "ws")
    load_folder(write_photo_shop(tmp_path / "shop"), Store.open(ws))
    args = ["images", "train", "-w", str(ws.root), "--params", json.dumps(QUICK), "--json"]
    found = runner.invoke(app, args)
    assert found.exit_code == 0, found.output
    job = json.loads(found.stdout)
    assert job["ok"] is True and job["kind"] == "images" and job["state"] == "done"
    assert job["metrics"]["products"] == 164 and job["metrics"]["categories"] == 4
    # Bad parameters are refused before anything runs, naming the parameter.
    bad = runner.invoke(app, ["images", "train", "-w", str(ws.root), "--params", '{"folds": 1}'])
    assert bad.exit_code != 0 and "folds" in bad.output


def test_report_prints_the_held_out_figures(shop: ImagesShop) -> None:
    body = _json(shop, "report")
    assert body["metrics"]["labelled_images"] == 162
    assert len(body["report"]["confusion"]) == 4
    shown = _run(shop, "report")
    assert shown.exit_code == 0, shown.output
    assert "held-out accuracy" in shown.stdout and "Confusion" in shown.stdout
    assert "Fashion > Sandals" in shown.stdout


def test_mismatches_as_table_json_and_csv(shop: ImagesShop, tmp_path: Path) -> None:
    body = _json(shop, "mismatches", "-n", "100")
    found = {r["product_id"]: r for r in body["items"]}
    assert len(set(PLANTED) & set(found)) >= 3
    assert body["total"] == len(body["items"])
    out = tmp_path / "mismatches.csv"
    shown = _run(shop, "mismatches", "--out", str(out))
    assert shown.exit_code == 0, shown.output
    assert out.read_text().splitlines()[0].startswith("product_id,")
    assert len(out.read_text().splitlines()) == body["total"] + 1
    first = next(iter(found))
    assert first in shown.stdout


def test_categorise_suggests_for_unlabelled_products_and_for_files(shop: ImagesShop) -> None:
    body = _json(shop, "categorise")
    assert {r["product_id"] for r in body["items"]} == set(UNLABELLED)
    photo = shop.folder / "images" / "P-5-004.png"
    files = _json(shop, "categorise", str(photo))
    (row,) = files["items"]
    assert row["path"] == str(photo) and row["predicted"] == "Fashion > Sandals"
    assert len(row["alternatives"]) == 2
    shown = _run(shop, "categorise", str(photo))
    assert shown.exit_code == 0 and "Fashion > Sandals" in shown.stdout


def test_similar_by_product_and_by_photo(shop: ImagesShop, tmp_path: Path) -> None:
    body = _json(shop, "similar", "P-8-003", "-n", "5")
    assert len(body["items"]) == 5
    assert "P-8-003" not in {r["product_id"] for r in body["items"]}
    by_photo = _json(shop, "similar", "--image", str(shop.folder / "images" / "P-8-003.png"))
    assert by_photo["items"][0]["product_id"] == "P-8-003"
    # Clear errors: an unknown product, neither or both inputs, a file that is no image.
    unknown = _run(shop, "similar", "NOPE")
    assert unknown.exit_code == 2 and "NOPE" in unknown.output
    neither = _run(shop, "similar")
    assert neither.exit_code == 2 and "--image" in neither.output
    broken = tmp_path / "broken.png"
    broken.write_bytes(b"not a picture")
    refused = _run(shop, "similar", "--image", str(broken))
    assert refused.exit_code == 2 and "broken.png" in refused.output


def test_without_a_model_the_commands_say_how_to_train(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("SHOPKEEPER_DATABASE_URL", raising=False)
    found = runner.invoke(app, ["images", "mismatches", "-w", str(tmp_path / "ws")])
    assert found.exit_code == 2
    assert "shopkeeper images train" in found.output
