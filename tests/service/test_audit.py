"""The audit log: key changes and reads of personal data leave a row each."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from shopkeeper.access import create_key, revoke_key
from shopkeeper.audit import read_audit
from shopkeeper.cli import app
from shopkeeper.store import Store
from tests.service.conftest import auth, error_body, ok


def test_key_changes_through_the_api_are_audited_with_their_actor(
    client: TestClient, tokens: dict[str, str], shop_store: Store
) -> None:
    admin = auth(tokens["admin"])
    me = tokens["admin"].split("_")[1]
    made = client.post("/api/v1/keys", json={"name": "website", "role": "reader"}, headers=admin)
    assert made.status_code == 201
    key_id = made.json()["key_id"]
    assert client.delete(f"/api/v1/keys/{key_id}", headers=admin).status_code == 200
    items = ok(client.get("/api/v1/audit?action=keys.revoke", headers=admin))["items"]
    assert [(i["actor"], i["target"]) for i in items] == [(f"key:{me}", key_id)]
    assert items[0]["detail"] == {"name": "website", "role": "reader"}
    created = ok(client.get("/api/v1/audit?action=keys.create", headers=admin))["items"]
    assert created[0]["target"] == key_id and created[0]["actor"] == f"key:{me}"
    # The fixture's keys were made outside the API: their actor is the command line.
    assert {i["actor"] for i in created[1:]} == {"cli"}
    # Only admins read the log.
    error_body(client.get("/api/v1/audit", headers=auth(tokens["operator"])), 403, "forbidden")


def test_personal_data_reads_are_audited_for_admins_only(
    client: TestClient, tokens: dict[str, str], shop_store: Store
) -> None:
    admin = auth(tokens["admin"])
    assert "email" in ok(client.get("/api/v1/customers/C1", headers=admin))
    ok(client.get("/api/v1/customers?limit=2", headers=admin))
    ok(client.get("/api/v1/customers/C1", headers=auth(tokens["reader"])))  # no PII shown
    reads = read_audit(shop_store, action="customers.read_personal")
    name = shop_store.vault.pseudonymizer()
    assert [r["target"] for r in reads] == ["2 customers", name("C1")]
    assert reads[0]["detail"] == {"ids": [name("C1"), name("C2")]}
    # The log names customers by pseudonym, and never holds the personal data read.
    assert "@" not in json.dumps(reads) and '"C1"' not in json.dumps(reads)


def test_a_revoke_and_its_record_are_one_transaction(store: Store) -> None:
    key, _ = create_key(store, "temp", "reader")
    revoke_key(store, key.key_id)
    revoke_key(store, key.key_id)  # already revoked: nothing changes, nothing recorded
    revokes = read_audit(store, action="keys.revoke")
    assert [r["target"] for r in revokes] == [key.key_id]


def test_the_cli_shows_the_log(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("SHOPKEEPER_DATABASE_URL", raising=False)
    ws = str(tmp_path / "ws")
    runner = CliRunner()
    made = runner.invoke(app, ["keys", "create", "--name", "ops", "--role", "operator", "-w", ws])
    assert made.exit_code == 0, made.output
    shown = runner.invoke(app, ["keys", "audit", "-w", ws, "--json"])
    assert shown.exit_code == 0, shown.output
    items = json.loads(shown.stdout)["items"]
    assert [(i["actor"], i["action"]) for i in items] == [("cli", "keys.create")]
    table = runner.invoke(app, ["keys", "audit", "-w", ws])
    assert "keys.create" in table.stdout and "cli" in table.stdout
