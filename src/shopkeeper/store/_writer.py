"""Bulk upserts of validated frames, by each database's fastest route.

An upsert replaces, for rows whose key is already stored, only the columns
the incoming frame has: loading a ``products.csv`` without ``cost`` keeps the
costs stored earlier. SQLite gets one ``executemany`` of
``INSERT ... ON CONFLICT DO UPDATE``; PostgreSQL gets ``COPY`` into a
temporary table and one ``INSERT ... SELECT ... ON CONFLICT``.

Into an empty table (a shop's first load) there is nothing to conflict with,
and keys were checked unique by validation: the table's indexes are dropped,
rows are inserted plainly (``COPY`` straight into the table on PostgreSQL) and
the indexes are rebuilt, which is several times faster than maintaining them
row by row. The drop and rebuild run inside the load's transaction, so a
failed load also restores the indexes.
"""

from __future__ import annotations

import io
import logging
from typing import Any

import pandas as pd
import pyarrow as pa
import pyarrow.csv as pacsv
from sqlalchemy import Connection, text

from shopkeeper import contract
from shopkeeper.contract import Kind
from shopkeeper.store._schema import EXTRA_COLUMN, METADATA, key_expressions

log = logging.getLogger(__name__)

_COPY_CHUNK_ROWS = 250_000
_SQLITE_CHUNK_ROWS = 100_000


def _upsert_tail(spec: contract.Table, columns: list[str]) -> str:
    target = ", ".join(f"({e})" if e.startswith("COALESCE") else e for e in key_expressions(spec))
    updates = [c for c in columns if c not in spec.key]
    if not updates:
        return f" ON CONFLICT ({target}) DO NOTHING"
    sets = ", ".join(f"{c} = excluded.{c}" for c in updates)
    return f" ON CONFLICT ({target}) DO UPDATE SET {sets}"


def write_frame(conn: Connection, spec: contract.Table, frame: pd.DataFrame) -> int:
    """Upsert ``frame`` (validated, contract-typed) into ``spec``'s table on ``conn``.

    Runs inside the caller's transaction and commits nothing itself, so a
    failure later in the same load rolls this write back too. Returns the
    number of rows written.
    """
    if frame.empty:
        return 0
    columns = list(frame.columns)
    dbapi = conn.connection.dbapi_connection
    sqlite = conn.dialect.name == "sqlite"
    fresh = conn.execute(text(f"SELECT 1 FROM {spec.name} LIMIT 1")).first() is None
    if fresh:
        indexes = list(METADATA.tables[spec.name].indexes)
        for index in indexes:
            index.drop(conn)
        if sqlite:
            _write_sqlite(dbapi, spec, frame, columns, upsert=False)
        else:
            _copy_postgresql(dbapi, spec.name, frame, columns)
        for index in indexes:
            index.create(conn)
    else:
        # Key order turns random index inserts into mostly-appending ones.
        frame = frame.sort_values(list(spec.key), na_position="first", kind="stable")
        if sqlite:
            _write_sqlite(dbapi, spec, frame, columns, upsert=True)
        else:
            _write_postgresql(dbapi, spec, frame, columns)
    log.debug("%s %d rows into %s", "inserted" if fresh else "upserted", len(frame), spec.name)
    return len(frame)


def _write_sqlite(
    dbapi: Any, spec: contract.Table, frame: pd.DataFrame, columns: list[str], *, upsert: bool
) -> None:
    marks = ", ".join("?" for _ in columns)
    sql = f"INSERT INTO {spec.name} ({', '.join(columns)}) VALUES ({marks})"
    if upsert:
        sql += _upsert_tail(spec, columns)
    kinds = [_kind(spec, c) for c in columns]
    cursor = dbapi.cursor()
    try:
        # sqlite3 needs Python objects; converting a slice at a time keeps
        # memory flat (a whole 25M-row table as Python objects is ~10 GB).
        for start in range(0, len(frame), _SQLITE_CHUNK_ROWS):
            part = frame.iloc[start : start + _SQLITE_CHUNK_ROWS]
            values = [_python_values(part[c], k) for c, k in zip(columns, kinds, strict=True)]
            cursor.executemany(sql, zip(*values, strict=True))
    finally:
        cursor.close()


def _write_postgresql(
    dbapi: Any, spec: contract.Table, frame: pd.DataFrame, columns: list[str]
) -> None:
    stage = f"_stage_{spec.name}"
    names = ", ".join(columns)
    with dbapi.cursor() as cursor:
        cursor.execute(f"CREATE TEMP TABLE {stage} (LIKE {spec.name}) ON COMMIT DROP")
    _copy_postgresql(dbapi, stage, frame, columns)
    with dbapi.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {spec.name} ({names}) SELECT {names} FROM {stage}"
            + _upsert_tail(spec, columns)
        )
        cursor.execute(f"DROP TABLE {stage}")


def _copy_postgresql(dbapi: Any, target: str, frame: pd.DataFrame, columns: list[str]) -> None:
    """COPY ``frame`` into ``target`` as CSV, in chunks to bound memory."""
    table = pa.Table.from_pandas(frame, preserve_index=False)
    # Strings are always quoted, so an unquoted empty field is NULL.
    options = pacsv.WriteOptions(include_header=False, quoting_style="needed")
    copy_sql = f"COPY {target} ({', '.join(columns)}) FROM STDIN (FORMAT csv, HEADER false)"
    with dbapi.cursor() as cursor, cursor.copy(copy_sql) as copy:
        for start in range(0, table.num_rows, _COPY_CHUNK_ROWS):
            buffer = io.BytesIO()
            pacsv.write_csv(table.slice(start, _COPY_CHUNK_ROWS), buffer, write_options=options)
            copy.write(buffer.getvalue())


def _kind(spec: contract.Table, column: str) -> Kind:
    if column == EXTRA_COLUMN:
        return Kind.TEXT
    return spec.column(column).kind


def _python_values(series: pd.Series, kind: Kind) -> list[Any]:
    """Column values as plain Python objects with None for nulls (for sqlite3)."""
    missing = series.isna().to_numpy()
    if kind is Kind.DATETIME:
        series = series.dt.strftime("%Y-%m-%d %H:%M:%S.%f")
    elif kind is Kind.DATE:
        series = series.dt.strftime("%Y-%m-%d")
    values = series.astype(object).tolist()
    if missing.any():
        for i in missing.nonzero()[0].tolist():
            values[i] = None
    return values
