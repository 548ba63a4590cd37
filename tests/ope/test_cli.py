"""``shopkeeper ope``: a table, JSON for scripts, exit code 2 on bad input."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
from typer.testing import CliRunner

from shopkeeper.cli import app
from tests.ope.conftest import synthetic_bandit

runner = CliRunner()


def write_log(path: Path) -> Path:
    log, _, _, _ = synthetic_bandit(600, 5, n_actions=3, n_positions=1)
    rows = ["action,position,propensity,reward,context_x"]
    rng = np.random.default_rng(0)
    for a, k, p, r in zip(log.action, log.position, log.propensity, log.reward, strict=True):
        rows.append(f"{a},{k},{p:.6f},{r:.0f},{rng.normal():.3f}")
    path.write_text("\n".join(rows) + "\n")
    return path


def test_ope_json(tmp_path: Path) -> None:
    log = write_log(tmp_path / "log.csv")
    done = runner.invoke(
        app,
        [
            *("ope", "--log", str(log), "--policy", "uniform", "-b", "5", "-e", "ipw,dm,dros"),
            *("--select-reps", "3", "--json"),
        ],
    )
    assert done.exit_code == 0, done.output
    payload = json.loads(done.stdout)
    assert payload["ok"] is True and payload["rounds"] == 600
    names = [e["estimator"] for e in payload["estimates"]]
    assert names == ["ipw", "dm", "dros"]
    for e in payload["estimates"]:
        assert e["lower"] <= e["upper"]
    assert payload["refit"] is True
    # The recommendation is the estimator the simulation on this log ranked first.
    selection = payload["selection"]
    assert selection["reps"] == 3
    assert selection["candidates"][0]["estimator"] == selection["chosen"]
    assert sorted(c["estimator"] for c in selection["candidates"]) == ["dm", "dros", "ipw"]
    assert payload["recommended"] == selection["chosen"]
    # Without the simulation the fixed default is recommended.
    fixed = ["--policy", "uniform", "-b", "0", "--select-reps", "0", "--json"]
    done = runner.invoke(app, ["ope", "--log", str(log), *fixed])
    assert done.exit_code == 0, done.output
    payload = json.loads(done.stdout)
    assert payload["selection"] is None and payload["recommended"] == "dros"


def test_ope_table_with_a_policy_file_and_a_prior(tmp_path: Path) -> None:
    log = write_log(tmp_path / "log.csv")
    policy = tmp_path / "policy.csv"
    policy.write_text("action,position,probability\n0,0,0.2\n1,0,0.3\n2,0,0.5\n")
    done = runner.invoke(app, ["ope", "--log", str(log), "--policy", str(policy), "-b", "0"])
    assert done.exit_code == 0, done.output
    assert "dros" in done.stdout and "(recommended)" in done.stdout
    assert "is recommended for this log: over 20 simulated reward draws" in done.stdout
    prior = tmp_path / "prior.csv"
    prior.write_text("action,alpha,beta\n0,1,9\n1,2,8\n2,3,7\n")
    done = runner.invoke(
        app,
        [
            "ope",
            "--log",
            str(log),
            "--policy",
            "bts",
            "--prior",
            str(prior),
            "-e",
            "ipw",
            "-b",
            "0",
            "--n-sim",
            "2000",
            "--json",
        ],
    )
    assert done.exit_code == 0, done.output
    assert json.loads(done.stdout)["policy"].startswith("Bernoulli TS")


def test_ope_bad_input_exits_2(tmp_path: Path) -> None:
    log = tmp_path / "log.csv"
    log.write_text("action,position,propensity,reward\n0,0,0.5,1\n1,0,2,0\n")
    done = runner.invoke(app, ["ope", "--log", str(log), "--policy", "uniform", "--json"])
    assert done.exit_code == 2
    payload = json.loads(done.stdout)
    assert payload["ok"] is False and payload["problems"][0]["line"] == 3
    good = write_log(tmp_path / "good.csv")
    done = runner.invoke(app, ["ope", "--log", str(good), "--policy", "greedy"])
    assert done.exit_code == 2 and "neither uniform" in done.output
    done = runner.invoke(app, ["ope", "--log", str(good), "--policy", "bts", "--prior", "zozotown"])
    assert done.exit_code == 2 and "--campaign" in done.output
    policy = tmp_path / "policy.csv"
    policy.write_text("act,prob\n0,1\n")
    done = runner.invoke(app, ["ope", "--log", str(good), "--policy", str(policy)])
    assert done.exit_code == 2 and "lacks the column" in done.output
    done = runner.invoke(
        app, ["ope", "--log", str(good), "--policy", "uniform", "--select-reps", "1"]
    )
    assert done.exit_code == 2 and "at least 2" in done.output
    done = runner.invoke(app, ["ope", "--help"])
    assert done.exit_code == 0 and "Examples" in done.stdout
