"""Loading a shop's files into the store: all tables validated, then one transaction.

A load is all or nothing. Every file is read and validated, and every
reference checked (against the other files of the load and the store),
before anything is written; the writes then run in one transaction, so a
failure at any point leaves the store exactly as it was. A replacing load
(``replace=True``) empties every contract table inside that same transaction,
so afterwards the store holds exactly the loaded files, or, on failure, what
it held before.
"""

from __future__ import annotations

import json
import logging
import sqlite3
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pandas as pd
import psycopg
import pyarrow as pa
import pyarrow.compute as pc
from sqlalchemy import insert
from sqlalchemy.exc import SQLAlchemyError

from shopkeeper import contract
from shopkeeper.errors import ContractError, Problem, SourceError, StoreError
from shopkeeper.ingest._read import CSV_SUFFIXES, PARQUET_SUFFIXES, RawTable, read_file
from shopkeeper.ingest._validate import Problems, ValidTable, validate
from shopkeeper.store import DEMO_META, METADATA, Store, write_frame

log = logging.getLogger(__name__)

#: progress(step, table, done, total): step is "read", "validate" or "write".
Progress = Callable[[str, str, int, int], None]


@dataclass
class TableLoad:
    """What one table's load did."""

    table: str
    source: str
    rows: int
    extra_columns: list[str] = field(default_factory=list)
    duplicates_dropped: int = 0


@dataclass
class LoadResult:
    """What a load did: per table, rows written, and files it did not use."""

    source: str
    tables: list[TableLoad]
    ignored_files: list[str]
    seconds: float

    @property
    def rows(self) -> int:
        return sum(t.rows for t in self.tables)

    def to_dict(self) -> dict[str, object]:
        return {
            "source": self.source,
            "rows": self.rows,
            "seconds": round(self.seconds, 3),
            "tables": [t.__dict__ for t in self.tables],
            "ignored_files": self.ignored_files,
        }


def find_table_files(folder: Path) -> tuple[dict[str, Path], list[str]]:
    """Map table name -> file for a folder of contract files; also the ignored names."""
    if not folder.exists():
        raise SourceError(str(folder), "folder not found")
    if folder.is_file():
        table = _table_of(folder)
        if table is None:
            names = ", ".join(contract.table_names())
            raise SourceError(folder.name, f"is not named after a contract table ({names})")
        return {table: folder}, []
    found: dict[str, Path] = {}
    ignored: list[str] = []
    for path in sorted(folder.iterdir()):
        table = _table_of(path) if path.is_file() else None
        if table is None:
            ignored.append(path.name)
            continue
        if table in found:
            raise SourceError(
                str(folder),
                f"has two files for table {table}: {found[table].name} and {path.name}; keep one",
            )
        found[table] = path
    if not found:
        names = ", ".join(f"{t}.csv" for t in contract.table_names())
        raise SourceError(str(folder), f"holds no contract table files (expected any of {names})")
    return found, ignored


def _table_of(path: Path) -> str | None:
    name = path.name.lower()
    for suffix in (*CSV_SUFFIXES, *PARQUET_SUFFIXES):
        if name.endswith(suffix):
            stem = name[: -len(suffix)]
            return stem if stem in contract.table_names() else None
    return None


def load_folder(
    folder: str | Path,
    store: Store,
    *,
    progress: Progress | None = None,
    report: bool = False,
    replace: bool = False,
    meta: Mapping[str, str] | None = None,
) -> LoadResult:
    """Validate and load a folder (or one file) of contract tables into ``store``.

    Raises ContractError naming the first problem (``report=True`` keeps up
    to 50 examples of every rule broken, with exact totals) and leaves the
    store untouched. Re-loading rows already stored replaces them by key;
    ``replace=True`` first empties the store, in the same transaction, so it
    ends up holding exactly these files. ``meta`` entries are written to the
    store's metadata with the load (see ``Store.meta``).
    """
    started = time.perf_counter()
    folder = Path(folder)
    files, ignored = find_table_files(folder)
    raws: dict[str, RawTable] = {}
    for i, (table, path) in enumerate(files.items()):
        if progress:
            progress("read", table, i, len(files))
        raws[table] = read_file(path)
    result = _load(
        raws, store, str(folder), progress=progress, report=report, replace=replace, meta=meta
    )
    result.ignored_files = ignored
    result.seconds = time.perf_counter() - started
    return result


def load_frames(
    frames: Mapping[str, pd.DataFrame],
    store: Store,
    *,
    source: str = "frames",
    progress: Progress | None = None,
    report: bool = False,
    record: bool = True,
) -> LoadResult:
    """Validate and load in-memory tables (name -> data frame), all or nothing.

    ``record=False`` leaves no row in ``ingest_runs``: the service writes many
    small loads (events as they happen) that are not loads a person started.
    """
    started = time.perf_counter()
    raws = {}
    for name, frame in frames.items():
        contract.table(name)
        raws[name] = RawTable(f"{name} (frame)", frame.reset_index(drop=True), line_kind="row")
    result = _load(raws, store, source, progress=progress, report=report, record=record)
    result.seconds = time.perf_counter() - started
    return result


def validate_only(raws: Mapping[str, RawTable], store: Store | None) -> Problems:
    """Every problem in ``raws`` (references checked against ``store`` when given)."""
    problems = Problems()
    valid = _validate_all(raws, problems, None)
    _check_references(valid, store, problems)
    return problems


def _validate_all(
    raws: Mapping[str, RawTable], problems: Problems, progress: Progress | None
) -> dict[str, ValidTable]:
    valid: dict[str, ValidTable] = {}
    order = [t for t in contract.table_names() if t in raws]
    for i, table in enumerate(order):
        if progress:
            progress("validate", table, i, len(order))
        checked = validate(contract.table(table), raws[table], problems)
        if checked is not None:
            valid[table] = checked
    return valid


def _load(
    raws: Mapping[str, RawTable],
    store: Store,
    source: str,
    *,
    progress: Progress | None,
    report: bool,
    replace: bool = False,
    meta: Mapping[str, str] | None = None,
    record: bool = True,
) -> LoadResult:
    problems = Problems(per_rule=50 if report else 1)
    valid = _validate_all(raws, problems, progress)
    # A replacing load resolves references within itself: the store is emptied.
    _check_references(valid, None if replace else store, problems)
    if problems:
        raise ContractError(problems.sorted(), total=problems.total)

    # Everything is valid: write it all in one transaction.
    loads: list[TableLoad] = []
    started_at = datetime.now(UTC).replace(tzinfo=None)
    order = [t for t in contract.table_names() if t in valid]
    try:
        with store.transaction() as conn:
            if replace:
                store.empty_tables(conn)
            for i, table in enumerate(order):
                if progress:
                    progress("write", table, i, len(order))
                item = valid[table]
                # Personal columns are sealed here, inside the transaction that
                # records the key's id, so no path writes them in clear.
                frame = store.vault.seal_frame(conn, table, item.frame)
                written = write_frame(conn, item.spec, frame)
                loads.append(
                    TableLoad(
                        table, item.raw.source, written, item.extra_columns, item.duplicates_dropped
                    )
                )
            if record:
                conn.execute(
                    insert(METADATA.tables["ingest_runs"]).values(
                        started_at=started_at,
                        finished_at=datetime.now(UTC).replace(tzinfo=None),
                        source=source,
                        tables=json.dumps({t.table: t.rows for t in loads}),
                        rows=sum(t.rows for t in loads),
                    )
                )
            # Any load changes what the store holds, so the marker of a
            # generated demo shop goes unless this load sets it again.
            entries: dict[str, str | None] = {DEMO_META: None}
            entries.update(meta or {})
            store.set_meta(conn, entries)
    except (SQLAlchemyError, sqlite3.Error, psycopg.Error) as exc:
        # Raw driver errors come from the bulk writers, which use the DBAPI cursor.
        raise StoreError(f"the load was rolled back; the store is unchanged ({exc})") from exc
    except Exception:
        log.debug("load from %s rolled back", source)
        raise
    for done in loads:
        log.info("loaded %s: %d rows from %s", done.table, done.rows, done.source)
    return LoadResult(source=source, tables=loads, ignored_files=[], seconds=0.0)


def _check_references(
    valid: Mapping[str, ValidTable], store: Store | None, problems: Problems
) -> None:
    """Every reference must name a row in this load or already in the store."""
    for table, item in valid.items():
        for ref in item.spec.references:
            if ref.column not in item.frame.columns:
                continue
            values = item.frame[ref.column]
            present = values.notna().to_numpy(dtype=bool)
            if not present.any():
                continue
            unresolved = present.copy()
            parent = valid.get(ref.table)
            if parent is not None and ref.target in parent.frame.columns:
                unresolved &= ~_isin(values, parent.frame[ref.target])
            if unresolved.any() and store is not None:
                missing = values[unresolved].unique().tolist()
                in_store = store.existing_keys(ref.table, ref.target, missing)
                if in_store:
                    unresolved &= ~_isin(values, pd.Series(sorted(in_store), dtype="string"))
            where = f"{ref.table}.{ref.target}"
            rule = f"does not exist in {where} (neither in this load nor in the store)"
            problems.add_mask(item.raw, np.asarray(unresolved), rule, ref.column, values)
        del table


def _isin(values: pd.Series, pool: pd.Series) -> np.ndarray:
    """Mask of ``values`` found in ``pool``, by Arrow's hash join (pandas loops here)."""
    found = pc.is_in(
        pa.array(values, type=pa.string()),
        value_set=pa.array(pool.dropna().unique(), type=pa.string()),
    )
    return found.to_numpy(zero_copy_only=False).astype(bool)


__all__ = [
    "LoadResult",
    "Problem",
    "Progress",
    "TableLoad",
    "find_table_files",
    "load_folder",
    "load_frames",
    "validate_only",
]
