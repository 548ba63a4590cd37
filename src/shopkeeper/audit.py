"""The audit log: who did what with keys and personal data, and when.

Admin actions leave one row each in the store's ``audit_log`` table: a key
created or revoked (from the CLI or the API), personal data read through the
API (a customer's name, e-mail and phone, which only admin keys see), a
sealing key rotated, and a customer's data exported or erased.
The row names the actor (``key:<key_id>``, or ``cli`` for the command line
on the shop's own machine), the action, its target and a JSON detail. A key
change, a rotation or an erase writes its row in the same transaction as
the change itself, so one is never stored without the other. The log is
read with ``shopkeeper audit`` and ``GET /api/v1/audit`` (admins only); it
holds ids, never the personal data that was read.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection, insert, select

from shopkeeper.store import METADATA, Store

_AUDIT = METADATA.tables["audit_log"]
CLI = "cli"


def actor_of(key_id: str) -> str:
    """The actor name of an API key."""
    return f"key:{key_id}"


def record(
    conn: Connection, actor: str, action: str, target: str, detail: dict[str, Any] | None = None
) -> None:
    """Add one row inside the caller's transaction (``conn``)."""
    conn.execute(
        insert(_AUDIT).values(
            at=datetime.now(UTC).replace(tzinfo=None),
            actor=actor[:200],
            action=action[:100],
            target=target[:200],
            detail=None if detail is None else json.dumps(detail, sort_keys=True),
        )
    )


def audit(
    store: Store, actor: str, action: str, target: str, detail: dict[str, Any] | None = None
) -> None:
    """Add one row in a transaction of its own."""
    with store.transaction() as conn:
        record(conn, actor, action, target, detail)


def read_audit(store: Store, limit: int = 100, action: str | None = None) -> list[dict[str, Any]]:
    """The newest ``limit`` rows, newest first; only ``action`` when given."""
    query = select(_AUDIT).order_by(_AUDIT.c.audit_id.desc()).limit(limit)
    if action:
        query = query.where(_AUDIT.c.action == action)
    with store.engine.connect() as conn:
        rows = conn.execute(query).mappings().all()
    return [
        {
            "audit_id": row["audit_id"],
            "at": row["at"].replace(microsecond=0).isoformat() + "Z",
            "actor": row["actor"],
            "action": row["action"],
            "target": row["target"],
            "detail": None if row["detail"] is None else json.loads(row["detail"]),
        }
        for row in rows
    ]
