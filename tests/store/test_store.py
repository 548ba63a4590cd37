"""The store: schema creation, reads, workspace resolution, URL handling."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pandas as pd
import pytest
from sqlalchemy import text

from shopkeeper import contract
from shopkeeper.errors import ConfigError, StoreError
from shopkeeper.ingest import load_frames
from shopkeeper.store import SCHEMA_VERSION, Store
from shopkeeper.store._store import _redact
from shopkeeper.workspace import Workspace


def test_create_is_idempotent_and_records_the_schema_version(store: Store) -> None:
    store.create()
    store.create()
    with store.engine.connect() as conn:
        version = conn.execute(
            text("SELECT value FROM shopkeeper_meta WHERE name = 'schema_version'")
        ).scalar_one()
    assert int(version) == SCHEMA_VERSION
    assert set(store.counts()) == set(contract.table_names())


def test_a_newer_schema_is_refused(store: Store) -> None:
    with store.engine.begin() as conn:
        conn.execute(text("UPDATE shopkeeper_meta SET value = '999' WHERE name = 'schema_version'"))
    with pytest.raises(StoreError, match="newer shopkeeper"):
        store.create()


def test_read_refuses_unknown_columns(store: Store) -> None:
    with pytest.raises(StoreError, match="no column"):
        store.read("orders", ["order_id", "colour"])


def test_unsupported_database_is_refused() -> None:
    with pytest.raises(StoreError, match="not supported"):
        Store("mysql+pymysql://u:p@localhost/db")


def test_passwords_are_hidden_in_messages() -> None:
    assert _redact("postgresql+psycopg://shop:s3cret@db:5432/x") == (
        "postgresql+psycopg://shop:***@db:5432/x"
    )


def test_workspace_layout_and_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("SHOPKEEPER_DATABASE_URL", raising=False)
    monkeypatch.setenv("SHOPKEEPER_WORKSPACE", str(tmp_path / "ws"))
    ws = Workspace.resolve()
    assert ws.root == (tmp_path / "ws").resolve()
    assert ws.models_dir.is_dir() and ws.reports_dir.is_dir()
    assert ws.database_url == f"sqlite:///{(tmp_path / 'ws' / 'shop.db').resolve()}"

    monkeypatch.setenv("SHOPKEEPER_DATABASE_URL", "postgresql://u@h/db")
    assert Workspace.resolve().database_url == "postgresql://u@h/db"


def test_workspace_that_is_a_file_is_refused(tmp_path: Path) -> None:
    (tmp_path / "f").write_text("x", encoding="utf-8")
    with pytest.raises(ConfigError, match="not a folder"):
        Workspace.resolve(tmp_path / "f")


def test_concurrent_writers_wait_for_each_other(sqlite_store: Store) -> None:
    # Each load reads before it writes; deferred SQLite transactions that read
    # first fail at once ("database is locked") when another writer got in.
    def post(i: int) -> int:
        frame = pd.DataFrame(
            {
                "at": [f"2024-11-11T10:{i % 60:02d}:00Z"] * 20,
                "event": ["view"] * 20,
                "session_id": [f"t{i}-{j}" for j in range(20)],
            }
        )
        return load_frames({"events": frame}, sqlite_store, record=False).rows

    with ThreadPoolExecutor(max_workers=8) as pool:
        written = list(pool.map(post, range(40)))
    assert written == [20] * 40
    assert sqlite_store.count("events") == 800
