"""Session purchase propensity: counted before the purchase, checked out of time."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from shopkeeper.cli import app
from shopkeeper.customers._sessions import (
    load_sessions,
    read_session_table,
    train_session_propensity,
)
from shopkeeper.errors import ConfigError, SourceError
from shopkeeper.ingest import load_frames
from shopkeeper.store import Store

runner = CliRunner()


def test_sessions_are_counted_before_their_first_purchase(store: Store) -> None:
    events = pd.DataFrame(
        [
            ("2024-05-01T10:00:00", "view", "A", "p1"),
            ("2024-05-01T10:02:00", "cart", "A", "p1"),
            ("2024-05-01T10:05:00", "view", "A", "p2"),
            ("2024-05-01T10:09:00", "purchase", "A", "p1"),
            ("2024-05-01T10:20:00", "view", "A", "p3"),  # after the purchase: not counted
            ("2024-05-02T09:00:00", "view", "B", "p2"),
            ("2024-05-02T09:01:00", "search", "B", None),
            ("2024-05-03T09:00:00", "purchase", "C", "p1"),  # a direct checkout: left out
        ],
        columns=["at", "event", "session_id", "product_id"],
    )
    products = pd.DataFrame({"product_id": ["p1", "p2", "p3"], "title": ["a", "b", "c"]})
    load_frames({"products": products, "events": events}, store)
    sessions = load_sessions(store)
    assert list(sessions.index) == ["A", "B"]
    a = sessions.loc["A"]
    assert (a["events"], a["views"], a["carts"], a["products"], a["bought"]) == (3, 2, 1, 2, 1)
    assert pd.Timestamp(a["end"]) == pd.Timestamp("2024-05-01T10:05:00")
    b = sessions.loc["B"]
    assert (b["events"], b["searches"], b["products"], b["bought"]) == (2, 1, 1, 0)


def _synthetic_sessions(n: int = 3000, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    views = rng.poisson(4, n)
    carts = rng.binomial(views, 0.15)
    logit = -3.0 + 1.4 * carts + 0.1 * views
    start = pd.Timestamp("2024-01-01") + pd.to_timedelta(np.sort(rng.random(n)) * 200, unit="D")
    return pd.DataFrame(
        {
            "customer_id": np.where(rng.random(n) < 0.5, "c", None),
            "start": start,
            "end": start + pd.to_timedelta(views * 2, unit="min"),
            "events": views + carts,
            "views": views,
            "carts": carts,
            "searches": rng.poisson(0.5, n),
            "products": np.maximum(views // 2, 1),
            "bought": (rng.random(n) < 1 / (1 + np.exp(-logit))).astype(int),
        },
        index=pd.Index([f"s{i}" for i in range(n)], name="session_id"),
    )


def test_the_session_model_learns_what_drives_a_purchase() -> None:
    model = train_session_propensity(_synthetic_sessions(), kinds=("logistic",))
    report = model.evaluation["logistic"]
    assert report["roc_auc"] > 0.75
    assert model.drivers[0]["feature"] in {"carts", "events"}
    browse = [{"event": "view", "at": "2024-06-01T10:00:00+08:00", "product_id": "a"}]
    carted = [
        *browse,
        *[{"event": "cart", "at": "2024-06-01T10:03:00+08:00", "product_id": "a"}] * 3,
    ]
    assert model.score_events(carted) > model.score_events(browse)
    with pytest.raises(ConfigError, match="only purchase events"):
        model.score_events([{"event": "purchase", "at": "2024-06-01T10:00:00"}])
    with pytest.raises(ConfigError, match="200 or more"):
        train_session_propensity(_synthetic_sessions(50))


def test_session_tables_are_read_with_located_errors(tmp_path: Path) -> None:
    good = tmp_path / "s.csv"
    good.write_text("pages,device,converted\n3,mobile,yes\n5,desktop,no\n1,mobile,no\n")
    X, y = read_session_table(good, "converted")
    assert list(y) == [1, 0, 0]
    assert X["pages"].dtype.kind in "if" and str(X["device"].dtype) == "category"
    bad = tmp_path / "bad.csv"
    bad.write_text("pages,converted\n3,yes\n5,maybe\n")
    with pytest.raises(SourceError, match=r"converted value 'maybe' is not yes/no") as info:
        read_session_table(bad, "converted")
    assert "bad.csv" in str(info.value) and "line 3" in str(info.value)
    with pytest.raises(SourceError, match="no target column 'Revenue'"):
        read_session_table(good)


@pytest.mark.slow
def test_evaluate_sessions_cli(tmp_path: Path) -> None:
    frame = _synthetic_sessions(800)
    table = frame[["views", "carts", "searches"]].assign(bought=frame["bought"])
    path = tmp_path / "sessions.csv"
    table.to_csv(path, index=False)
    result = runner.invoke(
        app,
        [
            "evaluate",
            "sessions",
            "--file",
            str(path),
            "--target",
            "bought",
            "--folds",
            "3",
            "--json",
        ],
    )
    assert result.exit_code == 0, result.output
    payload = json.loads(result.stdout)
    assert payload["sessions"] == 800
    assert {r["model"] for r in payload["models"]} == {"logistic", "boosting", "blend"}
    assert all(0.6 < r["roc_auc"] <= 1 for r in payload["models"])
    missing = runner.invoke(app, ["evaluate", "sessions", "--file", str(tmp_path / "no.csv")])
    assert missing.exit_code == 2 and "file not found" in missing.output
