"""The Open Bandit reader and the decision-log reader: features, and located errors."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from shopkeeper.adapters import read_open_bandit
from shopkeeper.errors import ContractError, SourceError
from shopkeeper.ope import read_decision_log, read_policy, read_prior

ITEMS = (
    ",item_id,item_feature_0,item_feature_1,item_feature_2,item_feature_3\n"
    "0,0,-0.5,bb,x,p\n"
    "1,1,0.25,aa,x,q\n"
    "2,2,1.0,bb,y,p\n"
)
HEADER = ",timestamp,item_id,position,click,propensity_score,user_feature_0,user_feature_1\n"


def write_obd(folder: Path, rows: list[str], items: str = ITEMS) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "item_context.csv").write_text(items)
    path = folder / "all.csv"
    path.write_text(HEADER + "".join(f"{i},{r}\n" for i, r in enumerate(rows)))
    return path


GOOD = [
    "2019-11-24 00:00:03+00:00,2,3,0,0.1,u1,v1",
    "2019-11-24 00:00:01+00:00,0,1,1,0.1,u2,v1",
    "2019-11-24 00:00:02+00:00,1,2,0,0.1,u1,v2",
]


def test_open_bandit_features_follow_the_pipeline(tmp_path: Path) -> None:
    log = read_open_bandit(write_obd(tmp_path / "all", GOOD))
    # Sorted by time; positions 1..3 become 0..2.
    np.testing.assert_array_equal(log.action, [0, 1, 2])
    np.testing.assert_array_equal(log.position, [0, 1, 2])
    np.testing.assert_array_equal(log.reward, [1, 0, 0])
    assert (log.n_actions, log.n_positions) == (3, 3)
    # One-hot without each feature's first level: u2 (vs u1), v2 (vs v1).
    np.testing.assert_array_equal(log.context, [[1, 0], [0, 1], [0, 0]])
    # item_id, label-encoded item_feature_1..3, then item_feature_0.
    assert log.action_context is not None
    np.testing.assert_array_equal(log.action_context[:, 1], [1, 0, 1])
    np.testing.assert_allclose(log.action_context[:, 4], [-0.5, 0.25, 1.0])


@pytest.mark.parametrize(
    ("row", "column", "rule"),
    [
        ("t,0,1,2,0.1,u,v", "click", "must be 0 or 1"),
        ("t,7,1,0,0.1,u,v", "item_id", "must be an item"),
        ("t,0,0,0,0.1,u,v", "position", "must be 1 or more"),
        ("t,0,1,0,1.5,u,v", "propensity_score", "must lie in (0, 1]"),
        ("t,x,1,0,0.1,u,v", "item_id", "must be an integer"),
    ],
)
def test_open_bandit_errors_name_file_line_and_rule(
    tmp_path: Path, row: str, column: str, rule: str
) -> None:
    path = write_obd(tmp_path / "all", [GOOD[0], row])
    with pytest.raises(ContractError) as info:
        read_open_bandit(path)
    problem = info.value.problems[0]
    assert problem.source == str(path) and problem.line == 3 and problem.column == column
    assert rule in problem.rule and str(path) in str(info.value)


def test_open_bandit_missing_files_and_columns(tmp_path: Path) -> None:
    with pytest.raises(SourceError, match="does not exist"):
        read_open_bandit(tmp_path / "none.csv")
    path = write_obd(tmp_path / "all", GOOD)
    (tmp_path / "all" / "item_context.csv").unlink()
    with pytest.raises(SourceError, match=r"item_context\.csv"):
        read_open_bandit(path)
    bad = tmp_path / "b" / "all.csv"
    write_obd(tmp_path / "b", [])
    bad.write_text(",timestamp,item_id\n0,t,1\n")
    with pytest.raises(SourceError, match="lacks the column"):
        read_open_bandit(bad)
    items = ITEMS.replace("2,2,1.0", "2,5,1.0")
    with pytest.raises(ContractError, match="item_id"):
        read_open_bandit(write_obd(tmp_path / "c", GOOD, items))


def test_decision_log_reader(tmp_path: Path) -> None:
    path = tmp_path / "log.csv"
    path.write_text("action,position,propensity,reward,context_age\n0,0,0.5,1,3\n2,1,0.25,0,4.5\n")
    log = read_decision_log(path)
    assert (log.n_actions, log.n_positions, log.n_rounds) == (3, 2, 2)
    np.testing.assert_allclose(log.context, [[3.0], [4.5]])
    path.write_text(
        "decision_id,action,n_actions,position,propensity,reward,context_x\n"
        "d1,0,5,0,0.5,1,\nd2,1,5,0,0.5,0,2\n"
    )
    log = read_decision_log(path)
    assert log.n_actions == 5
    np.testing.assert_allclose(log.context[:, 0], [0.0, 2.0])
    path.write_text("action,position,propensity,reward\n0,0,0.5,1\n1,0,0,0\n")
    with pytest.raises(ContractError) as info:
        read_decision_log(path)
    p = info.value.problems[0]
    assert (p.line, p.column, p.value) == (3, "propensity", "0")
    path.write_text("action,reward\n0,1\n")
    with pytest.raises(SourceError, match="position, propensity"):
        read_decision_log(path)
    # An Open Bandit file is recognised by its columns.
    obd = read_decision_log(write_obd(tmp_path / "all", GOOD))
    assert obd.action_context is not None


def test_policy_and_prior_files(tmp_path: Path) -> None:
    policy = tmp_path / "policy.csv"
    policy.write_text("action,position,probability\n0,0,0.25\n1,0,0.75\n")
    dist = read_policy(policy, 2, 1)
    np.testing.assert_allclose(dist[0, :, 0], [0.25, 0.75])
    policy.write_text("action,position,probability\n0,0,0.25\n1,0,0.5\n")
    with pytest.raises(ContractError, match="sum to 1"):
        read_policy(policy, 2, 1)
    policy.write_text("action,position,probability\n0,0,0.25\n5,0,0.75\n")
    with pytest.raises(ContractError, match="line 3"):
        read_policy(policy, 2, 1)
    prior = tmp_path / "prior.csv"
    prior.write_text("action,alpha,beta\n1,2,30\n0,1,10\n")
    alpha, beta = read_prior(prior, 2)
    np.testing.assert_allclose(alpha, [1, 2])
    np.testing.assert_allclose(beta, [10, 30])
    with pytest.raises(ContractError, match="every action"):
        read_prior(prior, 3)
