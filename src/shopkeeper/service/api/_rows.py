"""Reading contract tables page by page for the API, as JSON-ready rows."""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import ColumnElement, func, select

from shopkeeper import contract
from shopkeeper.privacy import SEALED
from shopkeeper.store import EXTRA_COLUMN, METADATA, Store

MAX_LIMIT = 1_000
# No store holds a trillion rows; a larger offset is refused (422) rather than overflowing
# the database's 64-bit integers (a fuzzed offset of 2**70 was a 500 on SQLite).
MAX_OFFSET = 10**12


def json_value(value: Any) -> Any:
    """A stored value as JSON: times in UTC with a Z, NaN as null."""
    if isinstance(value, datetime):
        return value.isoformat() + "Z"
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, float) and math.isnan(value):
        return None
    return value


def page(
    store: Store,
    table: str,
    *,
    where: Sequence[ColumnElement[bool]] = (),
    hide: Sequence[str] = (),
    limit: int = 100,
    offset: int = 0,
    order_by: Sequence[str] | None = None,
    total: bool = True,
) -> dict[str, Any]:
    """One page of ``table`` ordered by its key: ``{"items", "total", "limit", "offset"}``.

    Kept unknown columns appear under ``extra``; columns in ``hide`` (personal
    data for callers who may not see it) are left out entirely. ``order_by``
    names columns, ``-column`` for descending. ``total=False`` skips the count
    (``total`` is then None), for lookups that need only the rows.
    """
    spec = contract.table(table)
    sql = METADATA.tables[table]
    columns = [c for c in (*spec.column_names, EXTRA_COLUMN) if c not in hide]
    query = select(*(sql.c[c] for c in columns))
    counting = select(func.count()).select_from(sql)
    for cond in where:
        query = query.where(cond)
        counting = counting.where(cond)
    ordering = [
        sql.c[c[1:]].desc() if c.startswith("-") else sql.c[c] for c in (order_by or spec.key)
    ]
    query = query.order_by(*ordering).limit(limit).offset(offset)
    with store.engine.connect() as conn:
        rows: list[Sequence[Any]] = list(conn.execute(query).all())
        count = int(conn.execute(counting).scalar_one()) if total else None
    if table in SEALED:
        # Sealed personal values are opened only for the callers allowed them
        # (the caller hides them otherwise, and then nothing is opened).
        opened = [store.vault.open_row(table, dict(zip(columns, r, strict=True))) for r in rows]
        rows = [tuple(o[c] for c in columns) for o in opened]
    items = [row_dict(columns, r) for r in rows]
    return {
        "items": items,
        "total": count,
        "limit": limit,
        "offset": offset,
    }


def row_dict(columns: Sequence[str], row: Sequence[Any]) -> dict[str, Any]:
    out = {c: json_value(v) for c, v in zip(columns, row, strict=True)}
    if EXTRA_COLUMN in out:
        raw = out.pop(EXTRA_COLUMN)
        if raw:
            out[EXTRA_COLUMN] = json.loads(raw)
    return out


def one(
    store: Store, table: str, key_column: str, value: str, hide: Sequence[str] = ()
) -> dict[str, Any] | None:
    """The row whose ``key_column`` is ``value``, or None."""
    sql = METADATA.tables[table]
    where = [sql.c[key_column] == value]
    found = page(store, table, where=where, hide=hide, limit=1, total=False)
    return found["items"][0] if found["items"] else None


def naive_utc(value: datetime) -> datetime:
    """A query parameter's time as the store keeps times: UTC without a zone."""
    return value if value.tzinfo is None else value.astimezone(UTC).replace(tzinfo=None)
