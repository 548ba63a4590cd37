"""Personal columns sealed at rest: raw bytes, keys (missing, wrong, malformed), rotation."""

from __future__ import annotations

import json
import logging
import os
import stat
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import text
from typer.testing import CliRunner

from shopkeeper.access import create_key
from shopkeeper.audit import read_audit
from shopkeeper.cli import app
from shopkeeper.errors import ContractError
from shopkeeper.ingest import load_folder, load_frames
from shopkeeper.privacy import (
    KEY_ENV,
    KEY_FILE_ENV,
    KeyProblem,
    SealError,
    encode_secret,
    new_secret,
    pending_key_file,
    read_key_file,
    write_key_file,
)
from shopkeeper.service import create_app
from shopkeeper.store import Store
from shopkeeper.workspace import Workspace
from tests.ingest.shop_files import write_shop

EMAILS = (b"a@example.com", b"b@example.com")


@pytest.fixture(autouse=True)
def _no_key_from_outside(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(KEY_ENV, raising=False)
    monkeypatch.delenv(KEY_FILE_ENV, raising=False)
    monkeypatch.delenv("SHOPKEEPER_DATABASE_URL", raising=False)


def _raw(store: Store) -> bytes:
    db = Path(store.engine.url.database or "")
    return b"".join(p.read_bytes() for p in (db, db.with_name(db.name + "-wal")) if p.exists())


def _stored_emails(store: Store) -> list[str]:
    with store.engine.connect() as conn:
        query = text("SELECT email FROM customers ORDER BY customer_id")
        return [str(v) for v in conn.execute(query).scalars()]


def test_personal_columns_are_sealed_in_the_database(store: Store, tmp_path: Path) -> None:
    load_folder(write_shop(tmp_path / "shop", customers=_with_extra()), store)
    # In the database: tokens, on both databases.
    assert all(v.startswith("skpii1:") for v in _stored_emails(store))
    with store.engine.connect() as conn:
        extra = conn.execute(text("SELECT extra FROM customers WHERE customer_id = 'C1'")).scalar()
    assert str(extra).startswith("skpii1:")
    # Read back as the shop sent them.
    people = store.read("customers", extra=True).set_index("customer_id")
    assert people.loc["C1", "email"] == "a@example.com"
    assert people.loc["C1", "address"] == "1 Nanjing Road"
    assert people.loc["C2", "email"] == "b@example.com"
    key = store.vault.key()
    assert key is not None and store.meta("pii_key_id") == key.key_id
    if store.dialect == "sqlite":
        raw = _raw(store)
        assert not any(e in raw for e in EMAILS) and b"Nanjing Road" not in raw
        # The created key file is readable by its owner only.
        assert store.key_file is not None
        assert stat.S_IMODE(store.key_file.stat().st_mode) == 0o600


def _with_extra() -> str:
    return (
        "customer_id,created_at,city,email,consent_marketing,address\n"
        "C1,2024-01-02T10:00:00+08:00,上海,a@example.com,true,1 Nanjing Road\n"
        "C2,2024-02-03,Berlin,b@example.com,no,\n"
    )


def test_a_token_moved_to_another_row_does_not_open(store: Store, tmp_path: Path) -> None:
    load_folder(write_shop(tmp_path / "shop"), store)
    c1_token = _stored_emails(store)[0]
    with store.transaction() as conn:
        conn.execute(
            text("UPDATE customers SET email = :t WHERE customer_id = 'C2'"), {"t": c1_token}
        )
    with pytest.raises(SealError, match=r"customers\.email/C2.*integrity"):
        store.read("customers")


def test_reloading_keeps_the_same_tokens(sqlite_store: Store, tmp_path: Path) -> None:
    folder = write_shop(tmp_path / "shop")
    load_folder(folder, sqlite_store)
    before = sqlite_store.checksum("customers")
    load_folder(folder, sqlite_store)
    assert sqlite_store.checksum("customers") == before


def test_a_wrong_key_is_refused_not_read_as_garbage(
    sqlite_store: Store, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    load_folder(write_shop(tmp_path / "shop"), sqlite_store)
    stored = sqlite_store.meta("pii_key_id")
    monkeypatch.setenv(KEY_ENV, encode_secret(new_secret()))
    other = Store(sqlite_store.url)
    with pytest.raises(KeyProblem, match=f"not the store's key.*{stored}|{stored}.*not the store"):
        other.read("customers")
    # Columns that are not personal still read without any key.
    assert list(other.read("customers", ["customer_id", "city"])["customer_id"]) == ["C1", "C2"]


def test_a_missing_key_is_refused_and_a_load_then_writes_nothing(
    sqlite_store: Store, tmp_path: Path
) -> None:
    load_folder(write_shop(tmp_path / "shop"), sqlite_store)
    assert sqlite_store.key_file is not None
    sqlite_store.key_file.unlink()
    other = Store(sqlite_store.url)
    with pytest.raises(KeyProblem, match=r"no key was found.*SHOPKEEPER_PII_KEY"):
        other.read("customers")
    before = other.checksums()
    more = "customer_id,email\nC3,c@example.com\n"
    with pytest.raises(KeyProblem):
        load_folder(write_shop(tmp_path / "more", customers=more), other)
    assert other.checksums() == before
    # The load did not create a new key either: the store's key is the one that is missing.
    assert not sqlite_store.key_file.exists()


@pytest.mark.parametrize(
    ("value", "rule"),
    [("abc", "44 characters"), (encode_secret(b"short"), "32 bytes"), ("é" * 44, "base64")],
)
def test_a_malformed_key_is_named_with_its_rule(
    sqlite_store: Store, monkeypatch: pytest.MonkeyPatch, tmp_path: Path, value: str, rule: str
) -> None:
    monkeypatch.setenv(KEY_ENV, value)
    with pytest.raises(KeyProblem, match=rf"\$SHOPKEEPER_PII_KEY.*{rule}"):
        load_folder(write_shop(tmp_path / "shop"), sqlite_store)
    assert sqlite_store.count("customers") == 0


def test_a_key_file_named_by_the_environment_is_used(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    key = write_key_file(tmp_path / "secrets" / "shop.key", new_secret())
    monkeypatch.setenv(KEY_FILE_ENV, str(key.path))
    store = Store(f"sqlite:///{tmp_path / 'shop.db'}")
    store.create()
    load_folder(write_shop(tmp_path / "shop"), store)
    assert store.meta("pii_key_id") == key.key_id
    assert not (tmp_path / "pii.key").exists()  # no default file when one is configured
    monkeypatch.setenv(KEY_FILE_ENV, str(tmp_path / "nowhere.key"))
    with pytest.raises(KeyProblem, match=r"nowhere\.key' does not exist"):
        Store(store.url).read("customers")


def test_rotation_reseals_everything_and_keeps_pseudonyms(tmp_path: Path) -> None:
    ws = Workspace.resolve(tmp_path / "ws")
    store = Store.open(ws)
    load_folder(write_shop(tmp_path / "shop"), store)
    old = store.vault.key()
    assert old is not None
    pseudonym = store.vault.pseudonymizer()("C1")
    tokens = _stored_emails(store)
    runner = CliRunner()
    done = runner.invoke(app, ["privacy", "rotate-key", "-w", str(ws.root), "--json"])
    assert done.exit_code == 0, done.output
    report = json.loads(done.stdout)
    assert report["old_key_id"] == old.key_id and report["resealed"] == 2  # the e-mails
    fresh = Store.open(ws)
    assert fresh.meta("pii_key_id") == report["new_key_id"] != old.key_id
    assert read_key_file(ws.root / "pii.key").key_id == report["new_key_id"]
    assert not pending_key_file(ws.root / "pii.key").exists()
    assert list(fresh.read("customers")["email"]) == ["a@example.com", "b@example.com"]
    assert _stored_emails(fresh) != tokens
    assert fresh.vault.pseudonymizer()("C1") == pseudonym
    # The rotation is in the audit log, with key ids and counts only.
    (entry,) = read_audit(fresh, action="privacy.rotate-key")
    assert entry["actor"] == "cli" and entry["target"] == report["new_key_id"]
    assert entry["detail"]["old_key_id"] == old.key_id and entry["detail"]["resealed"] == 2
    # The old key no longer opens anything.
    with pytest.raises(SealError, match="sealed with key"):
        from shopkeeper.privacy import unseal

        unseal(old, _stored_emails(fresh)[0], "customers.email/C1")


def test_a_rotation_interrupted_before_the_key_file_switch_is_finished(tmp_path: Path) -> None:
    ws = Workspace.resolve(tmp_path / "ws")
    store = Store.open(ws)
    load_folder(write_shop(tmp_path / "shop"), store)
    # The store switched keys, then the process died before renaming the new key file.
    new = write_key_file(pending_key_file(ws.root / "pii.key"), new_secret())
    store.vault.rotate(new)
    fresh = Store.open(ws)
    assert list(fresh.read("customers")["email"]) == ["a@example.com", "b@example.com"]
    assert read_key_file(ws.root / "pii.key").key_id == new.key_id
    assert not pending_key_file(ws.root / "pii.key").exists()


def test_a_key_from_the_environment_rotates_only_to_a_named_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(KEY_ENV, encode_secret(new_secret()))
    ws = Workspace.resolve(tmp_path / "ws")
    load_folder(write_shop(tmp_path / "shop"), Store.open(ws))
    runner = CliRunner()
    refused = runner.invoke(app, ["privacy", "rotate-key", "-w", str(ws.root)])
    assert refused.exit_code == 2 and "--to FILE" in refused.output
    target = tmp_path / "new.key"
    done = runner.invoke(app, ["privacy", "rotate-key", "-w", str(ws.root), "--to", str(target)])
    assert done.exit_code == 0, done.output
    monkeypatch.setenv(KEY_ENV, target.read_text().strip())
    assert list(Store.open(ws).read("customers")["email"]) == ["a@example.com", "b@example.com"]


def test_values_stored_in_clear_by_older_versions_are_read_and_then_sealed(
    tmp_path: Path,
) -> None:
    ws = Workspace.resolve(tmp_path / "ws")
    store = Store.open(ws)
    load_folder(write_shop(tmp_path / "shop"), store)
    with store.transaction() as conn:
        conn.execute(text("UPDATE customers SET email = 'old@example.com' WHERE customer_id='C2'"))
    assert list(store.read("customers")["email"]) == ["a@example.com", "old@example.com"]
    runner = CliRunner()
    status = json.loads(
        runner.invoke(app, ["privacy", "status", "-w", str(ws.root), "--json"]).stdout
    )
    assert (status["sealed"], status["plain"]) == (1, 1)
    done = json.loads(
        runner.invoke(app, ["privacy", "rotate-key", "-w", str(ws.root), "--json"]).stdout
    )
    assert done["sealed_plain"] == 1
    assert all(v.startswith("skpii1:") for v in _stored_emails(Store.open(ws)))


def test_the_api_opens_personal_data_for_admins_and_logs_no_customer_id(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    ws = Workspace.resolve(tmp_path / "ws")
    store = Store.open(ws)
    load_folder(write_shop(tmp_path / "shop", customers=_with_extra()), store)
    admin = {"Authorization": f"Bearer {create_key(store, 'a', 'admin')[1]}"}
    reader = {"Authorization": f"Bearer {create_key(store, 'r', 'reader')[1]}"}
    with (
        TestClient(create_app(ws, store=store)) as client,
        caplog.at_level(logging.INFO, logger="shopkeeper.service.access"),
    ):
        shown = client.get("/api/v1/customers/C1", headers=admin).json()
        assert shown["email"] == "a@example.com"
        assert shown["extra"] == {"address": "1 Nanjing Road"}
        hidden = client.get("/api/v1/customers/C1", headers=reader).json()
        assert "email" not in hidden and "extra" not in hidden and hidden["city"] == "上海"
        listed = client.get("/api/v1/customers", headers=admin).json()["items"]
        assert [c["email"] for c in listed] == ["a@example.com", "b@example.com"]
    access = [r for r in caplog.records if r.name == "shopkeeper.service.access"]
    paths = [json.loads(r.getMessage())["path"] for r in access]
    assert "/api/v1/customers/{customer_id}" in paths
    assert not any("C1" in p for p in paths)


def test_posted_customers_are_sealed_like_loaded_ones(sqlite_store: Store) -> None:
    import pandas as pd

    load_frames(
        {"customers": pd.DataFrame({"customer_id": ["C9"], "phone": ["+86 1"]})}, sqlite_store
    )
    with sqlite_store.engine.connect() as conn:
        phone = conn.execute(text("SELECT phone FROM customers")).scalar()
    assert str(phone).startswith("skpii1:")
    assert sqlite_store.read("customers")["phone"].tolist() == ["+86 1"]
    with pytest.raises(ContractError):  # validation still runs first: too long a phone
        load_frames(
            {"customers": pd.DataFrame({"customer_id": ["C8"], "phone": ["9" * 60]})}, sqlite_store
        )
    assert os.environ.get(KEY_ENV) is None
