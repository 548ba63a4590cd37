"""API keys and roles: who may call the service and what they may do.

A key is shown once, when it is created: ``sk_<key_id>_<secret>``. The store
keeps the key id, its name and role, and the SHA-256 of the secret, never the
secret itself. Roles are ordered, each including the ones before it:

- ``reader``: read the shop's data (no personal data), figures, jobs;
- ``operator``: also write events and orders, and start jobs;
- ``admin``: also see personal data (PII) and manage keys.

``authenticate`` caches a verified key for ``CACHE_SECONDS`` per process, so
the service does not hit the database on every request; a revocation made in
the same process takes effect at once, one made elsewhere within that time.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
import threading
import time
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import insert, select, update

from shopkeeper.errors import ConfigError
from shopkeeper.store import METADATA, Store

ROLES = ("reader", "operator", "admin")
CACHE_SECONDS = 30.0
_TOKEN = re.compile(r"^sk_([0-9a-f]{12})_([A-Za-z0-9_-]{20,100})$")
_KEYS = METADATA.tables["api_keys"]
# What may be read back of a key: everything but the secret's digest.
_PUBLIC = [
    _KEYS.c[n] for n in ("key_id", "name", "role", "created_at", "last_used_at", "revoked_at")
]


@dataclass(frozen=True)
class ApiKey:
    """A stored API key, without its secret."""

    key_id: str
    name: str
    role: str
    created_at: datetime
    last_used_at: datetime | None = None
    revoked_at: datetime | None = None

    def allows(self, role: str) -> bool:
        """Whether this key's role includes ``role``."""
        return ROLES.index(self.role) >= ROLES.index(role)

    @property
    def active(self) -> bool:
        return self.revoked_at is None

    def to_dict(self) -> dict[str, object]:
        return {
            "key_id": self.key_id,
            "name": self.name,
            "role": self.role,
            "created_at": _iso(self.created_at),
            "last_used_at": _iso(self.last_used_at),
            "revoked_at": _iso(self.revoked_at),
        }


def _iso(value: datetime | None) -> str | None:
    return None if value is None else value.replace(microsecond=0).isoformat() + "Z"


def _now() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


def _digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def check_role(role: str) -> str:
    """``role`` if it is one of ``ROLES``, else a ConfigError naming them."""
    if role not in ROLES:
        raise ConfigError(f"unknown role {role!r}; use one of {', '.join(ROLES)}")
    return role


def create_key(store: Store, name: str, role: str, actor: str = "cli") -> tuple[ApiKey, str]:
    """Create a key; returns it and its token, which is not stored and cannot be shown again.

    ``actor`` (``cli``, or ``key:<id>`` of the admin key that asked) goes to the audit log,
    written in the same transaction.
    """
    from shopkeeper.audit import record

    check_role(role)
    name = name.strip()
    if not name or len(name) > 200:
        raise ConfigError("a key needs a name of 1 to 200 characters (who or what uses it)")
    key_id = secrets.token_hex(6)
    secret = secrets.token_urlsafe(32)
    key = ApiKey(key_id=key_id, name=name, role=role, created_at=_now())
    with store.transaction() as conn:
        conn.execute(
            insert(_KEYS).values(
                key_id=key_id,
                name=name,
                role=role,
                secret_sha256=_digest(secret),
                created_at=key.created_at,
            )
        )
        record(conn, actor, "keys.create", key_id, {"name": name, "role": role})
    return key, f"sk_{key_id}_{secret}"


def list_keys(store: Store) -> list[ApiKey]:
    """Every key ever created, oldest first, revoked ones included."""
    query = select(*_PUBLIC).order_by(_KEYS.c.created_at, _KEYS.c.key_id)
    with store.engine.connect() as conn:
        return [ApiKey(*row) for row in conn.execute(query)]


def get_key(store: Store, key_id: str) -> ApiKey | None:
    """The key with this id, revoked or not; None if there is none."""
    query = select(*_PUBLIC).where(_KEYS.c.key_id == key_id)
    with store.engine.connect() as conn:
        row = conn.execute(query).first()
    return None if row is None else ApiKey(*row)


def revoke_key(store: Store, key_id: str, actor: str = "cli") -> ApiKey:
    """Revoke a key for good (audited as by ``actor``); a ConfigError if there is no such key."""
    from shopkeeper.audit import record

    found = get_key(store, key_id)
    if found is None:
        raise ConfigError(f"no API key with id {key_id!r} (see 'shopkeeper keys list')")
    if found.revoked_at is None:
        with store.transaction() as conn:
            conn.execute(update(_KEYS).where(_KEYS.c.key_id == key_id).values(revoked_at=_now()))
            record(conn, actor, "keys.revoke", key_id, {"name": found.name, "role": found.role})
    _CACHE.forget(key_id)
    revoked = get_key(store, key_id)
    assert revoked is not None
    return revoked


class _Cache:
    """Verified keys per process: key id -> (secret digest, key, verified at)."""

    def __init__(self) -> None:
        self._items: dict[str, tuple[str, ApiKey, float]] = {}
        self._lock = threading.Lock()

    def get(self, key_id: str, digest: str) -> ApiKey | None:
        with self._lock:
            item = self._items.get(key_id)
        if item is None or time.monotonic() - item[2] > CACHE_SECONDS:
            return None
        return item[1] if hmac.compare_digest(item[0], digest) else None

    def put(self, key_id: str, digest: str, key: ApiKey) -> None:
        with self._lock:
            self._items[key_id] = (digest, key, time.monotonic())

    def forget(self, key_id: str | None = None) -> None:
        with self._lock:
            if key_id is None:
                self._items.clear()
            else:
                self._items.pop(key_id, None)


_CACHE = _Cache()


def _parse(token: str) -> tuple[str, str] | None:
    match = _TOKEN.match(token.strip())
    return None if match is None else (match.group(1), _digest(match.group(2)))


def cached_key(token: str) -> ApiKey | None:
    """The key ``token`` belongs to if it was verified lately in this process (no I/O)."""
    parsed = _parse(token)
    return None if parsed is None else _CACHE.get(*parsed)


def authenticate(store: Store, token: str) -> ApiKey | None:
    """The active key ``token`` belongs to, or None (malformed, unknown, wrong or revoked)."""
    parsed = _parse(token)
    if parsed is None:
        return None
    key_id, digest = parsed
    cached = _CACHE.get(key_id, digest)
    if cached is not None:
        return cached
    with store.engine.connect() as conn:
        row = conn.execute(select(_KEYS).where(_KEYS.c.key_id == key_id)).mappings().first()
    if row is None or row["revoked_at"] is not None:
        return None
    if not hmac.compare_digest(row["secret_sha256"], digest):
        return None
    now = _now()
    # Written at most once per cache period per key, not on every request.
    with store.transaction() as conn:
        conn.execute(update(_KEYS).where(_KEYS.c.key_id == key_id).values(last_used_at=now))
    key = ApiKey(row["key_id"], row["name"], row["role"], row["created_at"], now, None)
    _CACHE.put(key_id, digest, key)
    return key
