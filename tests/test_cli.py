"""The command line: results on stdout, JSON for scripts, exit code 2 on bad input."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from shopkeeper.cli import app
from tests.ingest.shop_files import write_shop

runner = CliRunner()


@pytest.fixture(autouse=True)
def _own_workspace(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SHOPKEEPER_WORKSPACE", str(tmp_path / "ws"))
    monkeypatch.delenv("SHOPKEEPER_DATABASE_URL", raising=False)


def test_ingest_then_info_as_json(tmp_path: Path) -> None:
    folder = write_shop(tmp_path / "shop")
    loaded = runner.invoke(app, ["ingest", str(folder), "--json"])
    assert loaded.exit_code == 0, loaded.output
    payload = json.loads(loaded.stdout)
    assert payload["ok"] is True and payload["rows"] == 16

    shown = runner.invoke(app, ["info", "--json"])
    assert shown.exit_code == 0, shown.output
    info = json.loads(shown.stdout)
    assert info["counts"]["orders"] == 3
    assert info["periods"]["orders.ordered_at"][0].startswith("2024-11-10")
    codes = {w["code"] for w in info["warnings"]}
    assert "guest_orders" in codes and "products_without_stock_row" not in codes


def test_bad_input_exits_2_with_the_located_message(tmp_path: Path) -> None:
    body = "order_id,product_id,quantity\nO1,P1,-3\nO1,P2,0\n"
    folder = write_shop(tmp_path / "shop", order_lines=body)
    result = runner.invoke(app, ["ingest", str(folder)])
    assert result.exit_code == 2
    assert "order_lines.csv line 2: quantity '-3' must be a positive integer" in result.output
    assert "--report" in result.output

    reported = runner.invoke(app, ["ingest", str(folder), "--report", "--json"])
    assert reported.exit_code == 2
    payload = json.loads(reported.stdout)
    assert payload["ok"] is False and payload["total"] == 2
    assert [p["line"] for p in payload["problems"]] == [2, 3]


def test_contract_json_lists_every_table() -> None:
    result = runner.invoke(app, ["contract", "--json"])
    assert result.exit_code == 0
    names = [t["name"] for t in json.loads(result.stdout)]
    assert names[:6] == [
        "products",
        "product_images",
        "customers",
        "locations",
        "orders",
        "order_lines",
    ]


def test_unknown_table_in_contract_command() -> None:
    result = runner.invoke(app, ["contract", "basket"])
    assert result.exit_code == 2
    assert "unknown table 'basket'" in result.output


@pytest.mark.parametrize(
    "command",
    [
        [],
        ["demo"],
        ["ingest"],
        ["info"],
        ["contract"],
        ["convert"],
        ["serve"],
        ["keys", "create"],
        ["train"],
        ["jobs"],
        ["timezone"],
    ],
)
def test_help_teaches_with_examples(command: list[str]) -> None:
    result = runner.invoke(app, [*command, "--help"])
    assert result.exit_code == 0
    assert "Usage" in result.output
    if command and command != ["info"]:
        assert "Example" in result.output


def test_demo_builds_loads_and_summarises(tmp_path: Path) -> None:
    result = runner.invoke(app, ["demo", "--size", "small", "--days", "90", "--json"])
    assert result.exit_code == 0, result.output
    payload = json.loads(result.stdout)
    assert payload["ok"] is True
    demo = payload["demo"]
    assert demo["config"]["days"] == 90 and demo["config"]["customers"] == 2_000
    folder = Path(demo["folder"])
    assert folder == (tmp_path / "ws" / "demo-shop").resolve()
    assert (folder / "orders.csv").is_file() and Path(demo["truth_file"]).is_file()
    counts = payload["store"]["counts"]
    assert counts["customers"] == 2_000 and counts["products"] == 300
    loaded = {t["table"]: t["rows"] for t in demo["load"]["tables"]}
    assert loaded == counts  # every contract table came in through ingest

    shown = runner.invoke(app, ["info", "--json"])
    assert json.loads(shown.stdout)["counts"] == counts


def test_demo_summary_for_people(tmp_path: Path) -> None:
    result = runner.invoke(app, ["demo", "--size", "small", "--days", "60", "--no-serve"])
    assert result.exit_code == 0, result.output
    assert "Demo shop seed 7: 2,000 customers, 300 products, 60 days" in result.output
    assert "order_lines" in result.output and "shopkeeper info" in result.output


def test_demo_refuses_to_mix_with_a_shops_own_data(tmp_path: Path) -> None:
    assert runner.invoke(app, ["ingest", str(write_shop(tmp_path / "shop"))]).exit_code == 0
    result = runner.invoke(app, ["demo", "--size", "small", "--days", "60", "--no-serve"])
    assert result.exit_code == 2
    assert "already holds a shop's data" in result.output and "--replace" in result.output
    info = json.loads(runner.invoke(app, ["info", "--json"]).stdout)
    assert info["counts"]["orders"] == 3


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--size", "huge"], "unknown demo size 'huge'"),
        (["--size", "small", "--customers", "5"], "demo customers must be at least 100"),
        (["--size", "small", "--start", "yesterday"], "demo start must be a date"),
    ],
)
def test_demo_bad_settings_exit_2(args: list[str], message: str) -> None:
    result = runner.invoke(app, ["demo", *args])
    assert result.exit_code == 2
    assert message in result.output


def test_ingest_replace_flag(tmp_path: Path) -> None:
    runner.invoke(app, ["ingest", str(write_shop(tmp_path / "shop"))])
    only = tmp_path / "only"
    only.mkdir()
    (only / "products.csv").write_text("product_id,title,price\nP8,Tea,3\n", encoding="utf-8")
    result = runner.invoke(app, ["ingest", str(only), "--replace", "--json"])
    assert result.exit_code == 0, result.output
    info = json.loads(runner.invoke(app, ["info", "--json"]).stdout)
    assert info["counts"]["products"] == 1 and info["counts"]["orders"] == 0


def test_keys_create_list_revoke(tmp_path: Path) -> None:
    made = runner.invoke(
        app, ["keys", "create", "--name", "website", "--role", "operator", "--json"]
    )
    assert made.exit_code == 0, made.output
    key = json.loads(made.stdout)
    assert key["role"] == "operator" and key["token"].startswith(f"sk_{key['key_id']}_")
    listed = json.loads(runner.invoke(app, ["keys", "list", "--json"]).stdout)
    assert [k["name"] for k in listed] == ["website"] and "token" not in listed[0]
    revoked = runner.invoke(app, ["keys", "revoke", key["key_id"], "--json"])
    assert revoked.exit_code == 0 and json.loads(revoked.stdout)["revoked_at"]
    bad = runner.invoke(app, ["keys", "create", "--name", "x", "--role", "root"])
    assert bad.exit_code == 2 and "unknown role 'root'" in bad.output
    missing = runner.invoke(app, ["keys", "revoke", "abcdefabcdef"])
    assert missing.exit_code == 2 and "no API key with id" in missing.output


def test_train_runs_a_recorded_job(tmp_path: Path) -> None:
    runner.invoke(app, ["ingest", str(write_shop(tmp_path / "shop"))])
    trained = runner.invoke(app, ["train", "figures", "--json"])
    assert trained.exit_code == 0, trained.output
    job = json.loads(trained.stdout)
    assert job["ok"] is True and job["state"] == "done" and job["metrics"]
    listed = json.loads(runner.invoke(app, ["jobs", "--json"]).stdout)
    assert [j["job_id"] for j in listed] == [job["job_id"]]
    kinds = json.loads(runner.invoke(app, ["jobs", "--kinds", "--json"]).stdout)
    assert "figures" in [k["kind"] for k in kinds]
    unknown = runner.invoke(app, ["train", "magic"])
    assert unknown.exit_code == 2 and "unknown job kind 'magic'" in unknown.output


def test_timezone_is_shown_set_checked_and_cleared(tmp_path: Path) -> None:
    ws = ["--workspace", str(tmp_path)]
    shown = runner.invoke(app, ["timezone", *ws, "--json"])
    assert shown.exit_code == 0, shown.output
    assert json.loads(shown.stdout) == {"timezone": "UTC", "set": False}
    assert runner.invoke(app, ["timezone", "Asia/Shanghai", *ws]).exit_code == 0
    assert "Asia/Shanghai" in runner.invoke(app, ["timezone", *ws]).output
    bad = runner.invoke(app, ["timezone", "Mars/Olympus", *ws])
    assert bad.exit_code == 2 and "neither an offset" in bad.output
    # A refused zone leaves the setting as it was.
    kept = json.loads(runner.invoke(app, ["timezone", *ws, "--json"]).stdout)
    assert kept["timezone"] == "Asia/Shanghai"
    cleared = runner.invoke(app, ["timezone", "--clear", *ws, "--json"])
    assert json.loads(cleared.stdout)["set"] is False
