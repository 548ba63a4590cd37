"""The real app over a store holding the tiny test shop, and a key per role."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from shopkeeper.access import ROLES, create_key
from shopkeeper.ingest import load_folder
from shopkeeper.service import create_app
from shopkeeper.store import Store
from shopkeeper.workspace import Workspace
from tests.ingest.shop_files import write_shop


@pytest.fixture
def workspace(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Workspace:
    monkeypatch.delenv("SHOPKEEPER_DATABASE_URL", raising=False)
    return Workspace.resolve(tmp_path / "ws")


@pytest.fixture
def shop_store(store: Store, tmp_path: Path) -> Store:
    """The shared ``store`` (SQLite, PostgreSQL) holding the tiny shop."""
    load_folder(write_shop(tmp_path / "shop"), store)
    return store


@pytest.fixture
def client(shop_store: Store, workspace: Workspace) -> Iterator[TestClient]:
    app = create_app(workspace, store=shop_store)
    with TestClient(app, raise_server_exceptions=False) as test_client:
        yield test_client


@pytest.fixture
def tokens(shop_store: Store) -> dict[str, str]:
    return {role: create_key(shop_store, f"test {role}", role)[1] for role in ROLES}


def auth(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def ok(response: Any) -> dict[str, Any]:
    """The JSON body of a 200 answer (failing with the body otherwise)."""
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "application/json"
    body: dict[str, Any] = response.json()
    return body


def error_body(response: Any, status: int, code: str) -> dict[str, Any]:
    """The ``error`` of the one error body, checked for status, code, message and request id."""
    assert response.status_code == status, response.text
    body = response.json()
    assert set(body) == {"error", "request_id"}
    assert body["error"]["status"] == status and body["error"]["code"] == code
    assert body["error"]["message"]
    assert body["request_id"] == response.headers["x-request-id"]
    error: dict[str, Any] = body["error"]
    return error
