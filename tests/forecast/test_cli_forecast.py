"""``shopkeeper evaluate forecast`` on a folder of contract files."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from shopkeeper.cli import app
from tests.forecast.test_data import _shop

runner = CliRunner()


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    out = tmp_path / "shop"
    out.mkdir()
    for name, frame in _shop().items():
        frame.to_csv(out / f"{name}.csv", index=False)
    return out


def test_backtest_of_the_baselines_as_json(folder: Path) -> None:
    result = runner.invoke(
        app, ["evaluate", "forecast", "--data", str(folder), "--horizon", "2", "--json"]
    )
    assert result.exit_code == 0, result.output
    payload = json.loads(result.stdout)
    assert payload["frequency"] == "day" and payload["by_location"] is True
    assert payload["series"] == 3 and payload["points"] == 6
    naive = {m["model"]: m for m in payload["models"]}["naive"]
    # The last two days: p1 sells 2 a day at A and B (naive exact); p2 at A sells 1 then 0
    # after a 0: |1-0| + |0-0| over 2 + 2 + 2 + 2 + 1 + 0 units.
    assert naive["wape"] == pytest.approx(1 / 9, abs=1e-4)
    assert {"mase", "bias", "coverage_80", "coverage_95", "seconds"} <= set(naive)


def test_a_fixed_origin_and_bad_options(folder: Path) -> None:
    fixed = runner.invoke(
        app,
        ["evaluate", "forecast", "--data", str(folder), "-H", "3", "--test-from", "2024-03-06"],
    )
    assert fixed.exit_code == 0, fixed.output
    assert "from 2024-03-06" in fixed.stdout and "naive" in fixed.stdout
    bad = runner.invoke(
        app, ["evaluate", "forecast", "--data", str(folder), "-H", "3", "--test-from", "soon"]
    )
    assert bad.exit_code == 2 and "--test-from must be a date" in bad.output
    late = runner.invoke(
        app, ["evaluate", "forecast", "--data", str(folder), "-H", "3", "--test-from", "2030-01-01"]
    )
    assert late.exit_code == 2 and "no observation on or after" in late.output
    week = runner.invoke(
        app, ["evaluate", "forecast", "--data", str(folder), "-H", "1", "--frequency", "month"]
    )
    assert week.exit_code == 2 and "frequency must be day or week" in week.output
