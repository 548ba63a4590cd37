"""API keys: shown once, stored only as a hash, roles ordered, revocation final."""

from __future__ import annotations

import pytest
from sqlalchemy import text

from shopkeeper import access
from shopkeeper.errors import ConfigError
from shopkeeper.store import Store


def test_the_secret_is_never_stored(store: Store) -> None:
    key, token = access.create_key(store, "website", "operator")
    secret = token.split("_", 2)[2]
    with store.engine.connect() as conn:
        rows = conn.execute(text("SELECT * FROM api_keys")).all()
    dumped = repr(rows)
    assert key.key_id in dumped and secret not in dumped and token not in dumped
    found = access.authenticate(store, token)
    assert found is not None and found.role == "operator" and found.last_used_at is not None


def test_roles_include_the_ones_below(store: Store) -> None:
    reader = access.create_key(store, "r", "reader")[0]
    admin = access.create_key(store, "a", "admin")[0]
    assert reader.allows("reader") and not reader.allows("operator")
    assert admin.allows("reader") and admin.allows("operator") and admin.allows("admin")
    with pytest.raises(ConfigError, match="unknown role 'owner'; use one of reader, operator"):
        access.create_key(store, "x", "owner")
    with pytest.raises(ConfigError, match="a key needs a name"):
        access.create_key(store, "  ", "reader")


def test_wrong_secrets_and_revoked_keys_are_refused(store: Store) -> None:
    key, token = access.create_key(store, "w", "reader")
    assert access.authenticate(store, token) is not None  # now cached
    assert access.authenticate(store, token[:-1] + ("A" if token[-1] != "A" else "B")) is None
    assert access.authenticate(store, "sk_" + "0" * 12 + "_" + "x" * 43) is None
    assert access.authenticate(store, "") is None
    access.revoke_key(store, key.key_id)
    assert access.authenticate(store, token) is None  # the cache forgets at once
    assert access.list_keys(store)[0].revoked_at is not None
    with pytest.raises(ConfigError, match="no API key with id 'ffffffffffff'"):
        access.revoke_key(store, "ffffffffffff")
