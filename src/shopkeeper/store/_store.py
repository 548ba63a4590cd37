"""The shop's store: a SQL database holding the contract tables.

SQLite (a file in the workspace) is the embedded default; PostgreSQL is the
production choice. Both go through SQLAlchemy 2 for schema and reads. Bulk
writes go to each database's fastest route (``executemany`` on SQLite, ``COPY``
on PostgreSQL), always inside one transaction per load.
"""

from __future__ import annotations

import hashlib
import json
import logging
import re
import sqlite3
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd
from sqlalchemy import Connection, Engine, create_engine, event, inspect, select, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, OperationalError, SQLAlchemyError

from shopkeeper import contract
from shopkeeper.errors import StoreError
from shopkeeper.store._schema import EXTRA_COLUMN, METADATA, SCHEMA_VERSION
from shopkeeper.workspace import Workspace

if TYPE_CHECKING:
    from shopkeeper.privacy import Vault

log = logging.getLogger(__name__)

_WRITE_OPTION = "shopkeeper_write"
_SCHEMA_NAME = re.compile(r"^[a-z_][a-z0-9_]{0,62}$")


class Store:
    """A shop's data in a SQL database, laid out by the data contract.

    Parameters
    ----------
    url : str
        SQLAlchemy URL: ``sqlite:///path/shop.db`` or
        ``postgresql+psycopg://user@host/db`` (``postgresql://`` is accepted
        and means psycopg 3).
    schema : str, optional
        PostgreSQL only: the schema (namespace) to keep the tables in, created
        if missing. Lets several shops, or test runs, share one database.
    key_file : path, optional
        Where the key sealing the personal columns is kept when neither
        ``SHOPKEEPER_PII_KEY`` nor ``SHOPKEEPER_PII_KEY_FILE`` names one (see
        ``shopkeeper.privacy``); created on the first personal value written.
        Default: ``pii.key`` beside a SQLite file; none for PostgreSQL.
    """

    def __init__(
        self, url: str, *, schema: str | None = None, key_file: str | Path | None = None
    ) -> None:
        if url.startswith("postgresql://") or url.startswith("postgres://"):
            url = "postgresql+psycopg://" + url.split("://", 1)[1]
        self.url = url
        self.schema = schema
        try:
            backend = make_url(url).get_backend_name()
        except ArgumentError as exc:
            raise StoreError(f"cannot parse database URL {_redact(url)!r}") from exc
        if backend not in ("sqlite", "postgresql"):
            raise StoreError(f"database {backend!r} is not supported; use SQLite or PostgreSQL")
        try:
            self.engine: Engine = create_engine(url)
        except (SQLAlchemyError, ImportError, ValueError) as exc:
            raise StoreError(f"cannot use database URL {_redact(url)!r}: {exc}") from exc
        self.dialect: str = backend
        if schema is not None:
            if self.dialect != "postgresql":
                raise StoreError("a store schema is only supported on PostgreSQL")
            if not _SCHEMA_NAME.match(schema):
                raise StoreError(f"schema name {schema!r} must match {_SCHEMA_NAME.pattern}")
        self._install_connect_hooks()
        database = make_url(url).database
        if key_file is None and backend == "sqlite" and database not in (None, "", ":memory:"):
            key_file = Path(database).parent / "pii.key"
        self.key_file: Path | None = None if key_file is None else Path(key_file)
        self._vault: Vault | None = None

    @property
    def vault(self) -> Vault:
        """Seals and opens this store's personal data (see ``shopkeeper.privacy``)."""
        if self._vault is None:
            from shopkeeper.privacy import Vault

            self._vault = Vault(self)
        return self._vault

    @property
    def display_url(self) -> str:
        """The database URL with any password hidden, for messages and logs."""
        return self.engine.url.render_as_string(hide_password=True)

    @classmethod
    def open(cls, workspace: Workspace | None = None) -> Store:
        """The store of ``workspace`` (default: the resolved workspace), schema created."""
        ws = workspace or Workspace.resolve()
        store = cls(ws.database_url, key_file=ws.root / "pii.key")
        store.create()
        return store

    def _install_connect_hooks(self) -> None:
        if self.dialect == "sqlite":

            @event.listens_for(self.engine, "connect")
            def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
                # Let SQLAlchemy, not the sqlite3 module, open transactions, so
                # that DDL inside a load (index rebuilds) is rolled back too.
                dbapi_conn.isolation_level = None
                cur = dbapi_conn.cursor()
                # WAL lets the service read while a load writes; NORMAL sync is
                # durable across application crashes, which is what a shop needs.
                cur.execute("PRAGMA journal_mode=WAL")
                cur.execute("PRAGMA synchronous=NORMAL")
                cur.execute("PRAGMA busy_timeout=30000")
                cur.execute("PRAGMA temp_store=MEMORY")
                # Deleted and overwritten cells are zeroed, so an erased customer
                # leaves no copy in free pages (see shopkeeper.privacy).
                cur.execute("PRAGMA secure_delete=ON")
                # 64 MiB of page cache: upserts into big indexes thrash the 2 MiB default.
                cur.execute("PRAGMA cache_size=-65536")
                cur.close()

            @event.listens_for(self.engine, "begin")
            def _sqlite_begin(conn: Connection) -> None:
                # A write transaction takes the write lock up front: a deferred
                # one that reads first cannot upgrade under WAL when another
                # writer got in between, and fails at once instead of waiting.
                write = conn.get_execution_options().get(_WRITE_OPTION, False)
                conn.exec_driver_sql("BEGIN IMMEDIATE" if write else "BEGIN")

        elif self.schema is not None:
            schema = self.schema

            @event.listens_for(self.engine, "connect")
            def _pg_search_path(dbapi_conn: Any, _record: Any) -> None:
                cur = dbapi_conn.cursor()
                cur.execute(f"CREATE SCHEMA IF NOT EXISTS {schema}")
                cur.execute(f"SET search_path TO {schema}")
                cur.close()
                dbapi_conn.commit()

    # -- schema ----------------------------------------------------------------

    def create(self) -> None:
        """Create every missing table and index; existing data is left alone."""
        try:
            with self.engine.begin() as conn:
                METADATA.create_all(conn, checkfirst=True)
                found = conn.execute(
                    text("SELECT value FROM shopkeeper_meta WHERE name = 'schema_version'")
                ).scalar()
                if found is None:
                    conn.execute(
                        text(
                            "INSERT INTO shopkeeper_meta (name, value) "
                            "VALUES ('schema_version', :v)"
                        ),
                        {"v": str(SCHEMA_VERSION)},
                    )
                elif int(found) > SCHEMA_VERSION:
                    raise StoreError(
                        f"the store was written by a newer shopkeeper (schema {found}, this "
                        f"one knows {SCHEMA_VERSION}); upgrade shopkeeper to read it"
                    )
        except SQLAlchemyError as exc:
            raise StoreError(f"cannot create the store at {_redact(self.url)!r}: {exc}") from exc

    def drop_all(self) -> None:
        """Remove every shopkeeper table (tests and ``--fresh`` loads only)."""
        with self.engine.begin() as conn:
            METADATA.drop_all(conn, checkfirst=True)

    def close(self) -> None:
        self.engine.dispose()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- reads -------------------------------------------------------------------

    def count(self, table: str) -> int:
        """Number of rows in a contract table."""
        contract.table(table)
        with self.engine.connect() as conn:
            return int(conn.execute(text(f"SELECT COUNT(*) FROM {table}")).scalar_one())

    def counts(self) -> dict[str, int]:
        """Row counts of every contract table."""
        with self.engine.connect() as conn:
            return {
                t: int(conn.execute(text(f"SELECT COUNT(*) FROM {t}")).scalar_one())
                for t in contract.table_names()
            }

    def read(
        self, table: str, columns: Sequence[str] | None = None, *, extra: bool = False
    ) -> pd.DataFrame:
        """A contract table as a data frame, ordered by its key.

        ``extra=True`` expands the kept unknown columns from their JSON
        object into columns of their own. Personal columns come back opened
        (as the shop sent them), which needs the store's key.
        """
        spec = contract.table(table)
        sql_table = METADATA.tables[table]
        wanted = list(columns) if columns is not None else list(spec.column_names)
        unknown = [c for c in wanted if not spec.has_column(c)]
        if unknown:
            raise StoreError(f"table {table} has no column(s) {', '.join(unknown)}")
        cols = [sql_table.c[c] for c in wanted]
        if extra:
            cols.append(sql_table.c[EXTRA_COLUMN])
        query = select(*cols).order_by(*(sql_table.c[k] for k in spec.key))
        with self.engine.connect() as conn:
            frame = pd.read_sql(query, conn)
        frame = self._open_sealed(table, frame, spec.key[0])
        if extra:
            raw = frame.pop(EXTRA_COLUMN)
            parsed = pd.json_normalize([json.loads(v) if v else {} for v in raw])
            frame = pd.concat([frame, parsed.set_index(frame.index)], axis=1)
        return frame

    def _open_sealed(self, table: str, frame: pd.DataFrame, row_key: str) -> pd.DataFrame:
        from shopkeeper.privacy import SEALED

        if not any(c in frame.columns for c in SEALED.get(table, ())):
            return frame
        if row_key in frame.columns:
            return self.vault.open_frame(table, frame)
        # The row key names each token's place: read it along, then drop it.
        ids = self.read(table, [row_key])[row_key]
        return self.vault.open_frame(table, frame.assign(**{row_key: ids})).drop(columns=row_key)

    def select_frame(self, query: object, columns: Sequence[str]) -> pd.DataFrame:
        """The rows of a SQLAlchemy ``select`` as a data frame with ``columns`` (in order)."""
        with self.engine.connect() as conn:
            rows = conn.execute(query).all()  # type: ignore[call-overload]
        return pd.DataFrame(rows, columns=list(columns))

    def existing_keys(self, table: str, column: str, values: Iterable[str]) -> set[str]:
        """The subset of ``values`` that ``table.column`` already holds."""
        wanted = list(dict.fromkeys(values))
        found: set[str] = set()
        if not wanted:
            return found
        with self.engine.connect() as conn:
            if len(wanted) > 20_000:
                # Fetching the whole column beats thousands of IN-list queries.
                rows = conn.execute(text(f"SELECT DISTINCT {column} FROM {table}")).scalars()
                present = {r for r in rows if r is not None}
                return present.intersection(wanted)
            for start in range(0, len(wanted), 500):
                chunk = wanted[start : start + 500]
                marks = ", ".join(f":v{i}" for i in range(len(chunk)))
                rows = conn.execute(
                    text(f"SELECT {column} FROM {table} WHERE {column} IN ({marks})"),
                    {f"v{i}": v for i, v in enumerate(chunk)},
                ).scalars()
                found.update(rows)
        return found

    def checksum(self, table: str) -> str:
        """A digest of a table's full contents, for "did anything change" checks."""
        sql_table = METADATA.tables[table]
        spec = contract.table(table)
        digest = hashlib.sha256()
        query = select(sql_table).order_by(*(sql_table.c[k] for k in spec.key))
        with self.engine.connect() as conn:
            for row in conn.execute(query):
                digest.update(repr(tuple(row)).encode())
        return digest.hexdigest()

    def checksums(self) -> dict[str, str]:
        """Digests of every contract table."""
        return {t: self.checksum(t) for t in contract.table_names()}

    def has_schema(self) -> bool:
        return inspect(self.engine).has_table("shopkeeper_meta")

    def meta(self, name: str) -> str | None:
        """A value of the store's own metadata (``schema_version``, ``demo_config``, ...)."""
        with self.engine.connect() as conn:
            found = conn.execute(
                text("SELECT value FROM shopkeeper_meta WHERE name = :n"), {"n": name}
            ).scalar()
        return None if found is None else str(found)

    def set_meta(self, conn: Connection, entries: Mapping[str, str | None]) -> None:
        """Set (or, for ``None``, delete) metadata entries inside the caller's transaction."""
        for name, value in entries.items():
            conn.execute(text("DELETE FROM shopkeeper_meta WHERE name = :n"), {"n": name})
            if value is not None:
                conn.execute(
                    text("INSERT INTO shopkeeper_meta (name, value) VALUES (:n, :v)"),
                    {"n": name, "v": value},
                )

    def empty_tables(self, conn: Connection) -> None:
        """Delete every row of every contract table, inside the caller's transaction."""
        names = list(reversed(contract.table_names()))
        if self.dialect == "postgresql":
            # TRUNCATE is transactional in PostgreSQL and far faster than DELETE.
            conn.execute(text(f"TRUNCATE {', '.join(names)}"))
        else:
            for name in names:
                conn.execute(text(f"DELETE FROM {name}"))

    # -- writes ------------------------------------------------------------------

    @contextmanager
    def transaction(self) -> Iterator[Connection]:
        """One write transaction: committed on success, rolled back on any error.

        On SQLite it holds the write lock from its start (other writers wait
        up to the busy timeout); a lock that cannot be had in time is a
        StoreError, so callers can tell "try again" from a bug.
        """
        try:
            with self.engine.connect() as conn:
                conn = conn.execution_options(**{_WRITE_OPTION: True})
                with conn.begin():
                    yield conn
        except (OperationalError, sqlite3.OperationalError) as exc:
            if _is_busy(exc):
                raise StoreError(f"the store is busy; try again ({exc})") from exc
            raise


def _is_busy(exc: BaseException) -> bool:
    text = str(exc).lower()
    return "database is locked" in text or "database is busy" in text


def _redact(url: str) -> str:
    """The URL with any password hidden, for messages and logs."""
    return re.sub(r"(://[^:/@]+:)[^@]*@", r"\1***@", url)
