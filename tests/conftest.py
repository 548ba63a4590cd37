"""Shared fixtures: a store on SQLite and on PostgreSQL, and the real data folder.

Every test that takes ``store`` runs twice: on a SQLite file and on
PostgreSQL (a fresh schema per test, dropped afterwards). PostgreSQL tests
need ``SHOPKEEPER_TEST_DATABASE_URL``; without it they are skipped, unless
``SHOPKEEPER_REQUIRE_POSTGRES=1`` (as in CI), where a missing server fails.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from shopkeeper.store import Store

REPO = Path(__file__).resolve().parents[1]
SHARED_DATA = Path(os.environ.get("SHOPKEEPER_SHARED_DATA", REPO.parent / "shared" / "data"))
PG_URL = os.environ.get("SHOPKEEPER_TEST_DATABASE_URL")


def _pg_url() -> str:
    if PG_URL:
        return PG_URL
    if os.environ.get("SHOPKEEPER_REQUIRE_POSTGRES") == "1":
        pytest.fail("SHOPKEEPER_REQUIRE_POSTGRES=1 but SHOPKEEPER_TEST_DATABASE_URL is not set")
    pytest.skip("PostgreSQL tests need SHOPKEEPER_TEST_DATABASE_URL")


@pytest.fixture
def sqlite_store(tmp_path: Path) -> Iterator[Store]:
    store = Store(f"sqlite:///{tmp_path / 'shop.db'}")
    store.create()
    yield store
    store.close()


@pytest.fixture
def pg_store(tmp_path: Path) -> Iterator[Store]:
    url = _pg_url()
    schema = f"t_{uuid.uuid4().hex[:12]}"
    # A store opened by URL has no workspace: its key for personal data is named here.
    store = Store(url, schema=schema, key_file=tmp_path / "pii.key")
    store.create()
    yield store
    store.close()
    engine = create_engine(store.url)
    with engine.begin() as conn:
        conn.execute(text(f"DROP SCHEMA IF EXISTS {schema} CASCADE"))
    engine.dispose()


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def store(request: pytest.FixtureRequest) -> Store:
    """The same test on both databases."""
    name = "sqlite_store" if request.param == "sqlite" else "pg_store"
    return request.getfixturevalue(name)


@pytest.fixture
def shared_data() -> Path:
    if not SHARED_DATA.is_dir():
        pytest.skip(f"real data not found at {SHARED_DATA}")
    return SHARED_DATA
