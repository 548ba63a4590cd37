"""A customer's access and erasure requests (GDPR art. 15 and 17, PIPL art. 45 and 47).

``export_customer`` gathers everything the shop holds about one customer:
their row (personal columns opened), orders with lines and parcel scans,
events, reviews, the decisions served to them, what the trained models hold
about them, and the audit records that name them.

``erase_customer`` removes the customer everywhere shopkeeper keeps data:

- **store**, in one transaction: the customer row, their reviews, their
  events (and the other events of their sessions) and their entries in the
  decision log's customer column are deleted or cleared; their orders stay
  for the shop's books but lose the link (``customer_id`` and kept unknown
  columns cleared), so sales figures and forecasts keep their totals;
  audit records that named the customer name only its pseudonym. SQLite runs
  with ``secure_delete`` (deleted cells are zeroed) and the write-ahead log
  is checkpointed and truncated afterwards, so no copy stays in the file;
  PostgreSQL tables are vacuumed (``full=True``: rewritten, so the old row
  versions leave the data files too).
- **models**: every artifact file that holds the customer's id or pseudonym
  is found by reading its bytes; its kind is trained again on the erased
  store (the same parameters) and every older version of that kind is
  deleted. A kind whose artifact does not hold the customer was trained on
  aggregates of the orders that stay, so erasing changes nothing in it.
- **workspace files** (the demo's CSV files, reports): CSV rows naming the
  customer are dropped; in JSON files the id becomes ``null``.

Afterwards ``find_traces`` reads the raw bytes of the database files, every
artifact and every workspace file for the customer's id (UTF-8, UTF-16 and
UTF-32, the encodings pickles and numpy arrays use), e-mail and phone, and
the erasure reports what it found (nothing, or it says where).
"""

from __future__ import annotations

import csv
import json
import logging
import math
import mmap
import os
import shutil
import sys
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import Table, delete, select, text, update

from shopkeeper._files import write_atomic
from shopkeeper.audit import record
from shopkeeper.errors import NotFoundError
from shopkeeper.store import EXTRA_COLUMN, METADATA, Store
from shopkeeper.workspace import Workspace

log = logging.getLogger(__name__)

Progress = Callable[[str], None]

_T = METADATA.tables
_CUSTOMERS = _T["customers"]
_ORDERS = _T["orders"]
_LINES = _T["order_lines"]
_SCANS = _T["shipment_events"]
_EVENTS = _T["events"]
_REVIEWS = _T["reviews"]
_DECISIONS = _T["decisions"]
_AUDIT = _T["audit_log"]


def _json_value(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat() + "Z"
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, float) and math.isnan(value):
        return None
    return value


def _rows(store: Store, table: Table, query: Any) -> list[dict[str, Any]]:
    with store.engine.connect() as conn:
        found = [dict(r) for r in conn.execute(query).mappings()]
    if table.name == "customers":
        found = [store.vault.open_row("customers", r) for r in found]
    out = []
    for row in found:
        item = {k: _json_value(v) for k, v in row.items() if k != EXTRA_COLUMN}
        if row.get(EXTRA_COLUMN):
            item[EXTRA_COLUMN] = json.loads(row[EXTRA_COLUMN])
        out.append(item)
    return out


def _sessions(store: Store, customer_id: str) -> list[str]:
    query = (
        select(_EVENTS.c.session_id)
        .where(_EVENTS.c.customer_id == customer_id, _EVENTS.c.session_id.is_not(None))
        .distinct()
    )
    with store.engine.connect() as conn:
        return [str(s) for s in conn.execute(query).scalars()]


def _order_ids(store: Store, customer_id: str) -> list[str]:
    query = select(_ORDERS.c.order_id).where(_ORDERS.c.customer_id == customer_id)
    with store.engine.connect() as conn:
        return [str(s) for s in conn.execute(query).scalars()]


def _exists(store: Store, customer_id: str) -> bool:
    with store.engine.connect() as conn:
        for table in (_CUSTOMERS, _ORDERS, _EVENTS, _REVIEWS, _DECISIONS):
            query = select(table.c.customer_id).where(table.c.customer_id == customer_id).limit(1)
            if conn.execute(query).first() is not None:
                return True
    return False


def _chunks(values: list[str], size: int = 500) -> Iterable[list[str]]:
    for start in range(0, len(values), size):
        yield values[start : start + size]


# -- access --------------------------------------------------------------------------------------


def export_customer(
    store: Store, workspace: Workspace | None, customer_id: str, *, actor: str
) -> dict[str, Any]:
    """Everything the shop holds about ``customer_id``, as JSON-ready data; audited.

    Raises NotFoundError when no table names the customer.
    """
    if not _exists(store, customer_id):
        raise NotFoundError(f"no customer {customer_id!r} in any table of the store")
    pseudonym = store.vault.pseudonymizer()(customer_id)
    orders = _order_ids(store, customer_id)
    lines: list[dict[str, Any]] = []
    scans: list[dict[str, Any]] = []
    for chunk in _chunks(orders):
        lines += _rows(store, _LINES, select(_LINES).where(_LINES.c.order_id.in_(chunk)))
        scans += _rows(store, _SCANS, select(_SCANS).where(_SCANS.c.order_id.in_(chunk)))
    tables = {
        "customers": _rows(
            store, _CUSTOMERS, select(_CUSTOMERS).where(_CUSTOMERS.c.customer_id == customer_id)
        ),
        "orders": _rows(
            store,
            _ORDERS,
            select(_ORDERS)
            .where(_ORDERS.c.customer_id == customer_id)
            .order_by(_ORDERS.c.ordered_at),
        ),
        "order_lines": lines,
        "shipment_events": scans,
        "events": _rows(
            store,
            _EVENTS,
            select(_EVENTS).where(_EVENTS.c.customer_id == customer_id).order_by(_EVENTS.c.at),
        ),
        "reviews": _rows(
            store, _REVIEWS, select(_REVIEWS).where(_REVIEWS.c.customer_id == customer_id)
        ),
        "decisions": _rows(
            store,
            _DECISIONS,
            select(_DECISIONS)
            .where(_DECISIONS.c.customer_id == customer_id)
            .order_by(_DECISIONS.c.decided_at),
        ),
    }
    audit_rows = _rows(
        store,
        _AUDIT,
        select(_AUDIT)
        .where(_AUDIT.c.target.in_([customer_id, pseudonym]))
        .order_by(_AUDIT.c.audit_id),
    )
    models = _model_facts(store, workspace, customer_id, pseudonym) if workspace else {}
    with store.transaction() as conn:
        record(
            conn,
            actor,
            "privacy.export",
            pseudonym,
            {"rows": {k: len(v) for k, v in tables.items()}},
        )
    return {
        "customer_id": customer_id,
        "pseudonym": pseudonym,
        "generated_at": datetime.now(UTC).replace(microsecond=0).isoformat(),
        "tables": tables,
        "models": models,
        "audit": [{k: v for k, v in r.items() if k != "detail"} for r in audit_rows],
    }


def _model_facts(
    store: Store, workspace: Workspace, customer_id: str, pseudonym: str
) -> dict[str, Any]:
    """What the models in service hold about the customer, per kind that holds anything."""
    facts: dict[str, Any] = {}
    needles = _needles([customer_id, pseudonym], [])
    for kind_dir in sorted(p for p in workspace.models_dir.glob("*") if p.is_dir()):
        holding = [
            str(f.relative_to(workspace.models_dir)) for f in _files(kind_dir) if _holds(f, needles)
        ]
        if holding:
            facts[kind_dir.name] = {"artifact_files": holding}
    scores = _customer_scores(store, workspace, customer_id)
    if scores is not None:
        facts.setdefault("customers", {})["scores"] = scores
    return facts


def _customer_scores(store: Store, workspace: Workspace, customer_id: str) -> dict[str, Any] | None:
    """The customer's row of the customer analytics in service (segment, value, propensity)."""
    from shopkeeper.customers._train import load_analytics

    try:
        analysis = load_analytics(workspace, store)
    except Exception:
        return None
    scores = analysis.scores
    if customer_id not in scores.index:
        return None
    row = scores.loc[customer_id]
    return {str(k): _json_value(v.item() if hasattr(v, "item") else v) for k, v in row.items()}


# -- erasure -------------------------------------------------------------------------------------


@dataclass
class Erasure:
    """What an erasure removed, what it trained again, and what a raw-bytes search found after."""

    pseudonym: str
    rows: dict[str, int]
    models_retrained: dict[str, str] = field(default_factory=dict)  # kind -> new job id
    models_removed: list[str] = field(default_factory=list)  # artifact folders deleted
    model_problems: dict[str, str] = field(default_factory=dict)  # kind -> why not retrained
    files_rewritten: list[str] = field(default_factory=list)
    traces: list[str] = field(default_factory=list)  # places the raw bytes still hold it
    seconds_store: float = 0.0
    seconds_models: float = 0.0
    seconds_verify: float = 0.0

    def to_dict(self) -> dict[str, object]:
        return {
            "pseudonym": self.pseudonym,
            "rows": self.rows,
            "models_retrained": self.models_retrained,
            "models_removed": self.models_removed,
            "model_problems": self.model_problems,
            "files_rewritten": self.files_rewritten,
            "traces": self.traces,
            "verified": not self.traces,
            "seconds": {
                "store": round(self.seconds_store, 3),
                "models": round(self.seconds_models, 3),
                "verify": round(self.seconds_verify, 3),
            },
        }


def erase_customer(
    store: Store,
    workspace: Workspace | None,
    customer_id: str,
    *,
    actor: str,
    retrain: bool = True,
    full_vacuum: bool = False,
    progress: Progress | None = None,
) -> Erasure:
    """Remove ``customer_id`` from the store, the models and the workspace files; audited.

    ``retrain=False`` deletes the artifacts that hold the customer instead of
    training them again (their kinds then have no model until the next
    ``shopkeeper train``). Raises NotFoundError when no table names the customer.
    """
    say = progress or (lambda _msg: None)
    if not _exists(store, customer_id):
        raise NotFoundError(f"no customer {customer_id!r} in any table of the store")
    started = time.perf_counter()
    vault = store.vault
    pseudonym = vault.pseudonymizer()(customer_id)
    needles = _personal_needles(store, customer_id)
    sessions = _sessions(store, customer_id)
    say("store")
    rows = _erase_rows(store, customer_id, pseudonym, actor)
    _scrub_database(store, full_vacuum)
    result = Erasure(pseudonym=pseudonym, rows=rows, seconds_store=time.perf_counter() - started)

    if workspace is not None:
        started = time.perf_counter()
        say("models")
        _erase_models(store, workspace, [customer_id, pseudonym], retrain, result, say)
        say("files")
        result.files_rewritten = _erase_files(workspace, customer_id, sessions)
        result.seconds_models = time.perf_counter() - started
    started = time.perf_counter()
    say("verify")
    result.traces = find_traces(store, workspace, [customer_id], needles, [pseudonym])
    result.seconds_verify = time.perf_counter() - started
    if result.traces:
        log.warning("after erasing %s, traces remain: %s", pseudonym, "; ".join(result.traces))
    return result


def _personal_needles(store: Store, customer_id: str) -> list[str]:
    """The customer's e-mail and phone (opened), searched for in raw bytes after the erase."""
    with store.engine.connect() as conn:
        row = conn.execute(
            select(_CUSTOMERS.c.email, _CUSTOMERS.c.phone).where(
                _CUSTOMERS.c.customer_id == customer_id
            )
        ).first()
    if row is None:
        return []
    found = []
    for column, value in zip(("email", "phone"), row, strict=True):
        opened = store.vault.open_value("customers", column, customer_id, value)
        if opened and len(str(opened)) >= 6:
            found.append(str(opened))
    return found


def _erase_rows(store: Store, customer_id: str, pseudonym: str, actor: str) -> dict[str, int]:
    sessions = _sessions(store, customer_id)
    counts: dict[str, int] = {}
    with store.transaction() as conn:
        gone = conn.execute(delete(_EVENTS).where(_EVENTS.c.customer_id == customer_id)).rowcount
        for chunk in _chunks(sessions):
            # The customer's sessions also hold their browsing before signing in.
            gone += conn.execute(delete(_EVENTS).where(_EVENTS.c.session_id.in_(chunk))).rowcount
        counts["events deleted"] = gone
        counts["reviews deleted"] = conn.execute(
            delete(_REVIEWS).where(_REVIEWS.c.customer_id == customer_id)
        ).rowcount
        counts["orders unlinked"] = conn.execute(
            update(_ORDERS)
            .where(_ORDERS.c.customer_id == customer_id)
            .values(customer_id=None, **{EXTRA_COLUMN: None})
        ).rowcount
        counts["decisions unlinked"] = conn.execute(
            update(_DECISIONS)
            .where(_DECISIONS.c.customer_id == customer_id)
            .values(customer_id=None)
        ).rowcount
        counts["customers deleted"] = conn.execute(
            delete(_CUSTOMERS).where(_CUSTOMERS.c.customer_id == customer_id)
        ).rowcount
        counts["audit records pseudonymised"] = _pseudonymise_audit(conn, customer_id, pseudonym)
        record(conn, actor, "privacy.erase", pseudonym, {"rows": counts})
    return counts


def _pseudonymise_audit(conn: Any, customer_id: str, pseudonym: str) -> int:
    quoted = json.dumps(customer_id)
    changed = 0
    query = select(_AUDIT.c.audit_id, _AUDIT.c.target, _AUDIT.c.detail).where(
        (_AUDIT.c.target == customer_id) | _AUDIT.c.detail.contains(quoted)
    )
    for audit_id, target, detail in conn.execute(query).all():
        values = {
            "target": pseudonym if target == customer_id else target,
            "detail": None if detail is None else detail.replace(quoted, json.dumps(pseudonym)),
        }
        conn.execute(update(_AUDIT).where(_AUDIT.c.audit_id == audit_id).values(**values))
        changed += 1
    return changed


def _scrub_database(store: Store, full_vacuum: bool) -> None:
    """Leave no copy of deleted rows in the database's files."""
    if store.dialect == "sqlite":
        # secure_delete (set on every connection) zeroed the deleted cells; the
        # write-ahead log still holds the pages as they were until checkpointed.
        with store.engine.connect() as conn:
            conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
        return
    tables = "customers, orders, events, reviews, decisions, audit_log"
    with store.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(text(f"VACUUM {'FULL ' if full_vacuum else ''}{tables}"))


# -- models --------------------------------------------------------------------------------------


def _erase_models(
    store: Store,
    workspace: Workspace,
    keys: list[str],
    retrain: bool,
    result: Erasure,
    say: Progress,
) -> None:
    """Train again every kind whose artifact in service holds the customer; delete the
    artifact folders that hold them (older versions included)."""
    from shopkeeper import jobs

    needles = _needles(keys, [])
    for kind_dir in sorted(p for p in workspace.models_dir.glob("*") if p.is_dir()):
        kind = kind_dir.name
        holding = sorted(
            {
                f.relative_to(kind_dir).parts[0]
                for f in _files(kind_dir)
                if len(f.relative_to(kind_dir).parts) > 1 and _holds(f, needles)
            }
        )
        if not holding:
            continue
        current = _current_job(kind_dir)
        fresh: str | None = None
        if current in holding and retrain:
            say(f"models: training {kind} again")
            try:
                job = jobs.run_job(store, workspace, kind, _params_of(store, current))
            except Exception as exc:
                result.model_problems[kind] = str(exc)
            else:
                if job.state == "done":
                    fresh = job.job_id
                    result.models_retrained[kind] = job.job_id
                else:
                    result.model_problems[kind] = job.error or f"job {job.job_id} {job.state}"
        elif current in holding:
            result.model_problems[kind] = "not trained again (--no-retrain): train it to serve it"
        for name in holding:
            if name != fresh:
                shutil.rmtree(kind_dir / name)
                result.models_removed.append(f"{kind}/{name}")
        if fresh is not None:
            _point_at(kind_dir, fresh)
        elif current in holding:
            (kind_dir / "current.json").unlink(missing_ok=True)


def _current_job(kind_dir: Path) -> str | None:
    try:
        body = json.loads((kind_dir / "current.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    job_id = body.get("job_id") if isinstance(body, dict) else None
    return job_id if isinstance(job_id, str) else None


def _point_at(kind_dir: Path, job_id: str) -> None:
    # The older versions are gone: the pointer names only the new one.
    pointer = kind_dir / "current.json"
    body: dict[str, object] = {"job_id": job_id}
    try:
        found = json.loads(pointer.read_text(encoding="utf-8"))
        if isinstance(found, dict):
            body = {**found, "job_id": job_id, "previous": []}
    except (OSError, ValueError):
        pass
    write_atomic(pointer, json.dumps(body).encode())


def _params_of(store: Store, job_id: str | None) -> dict[str, Any]:
    """The parameters the artifact in service was trained with, to train it the same way."""
    from shopkeeper.jobs import get_job

    if job_id is None:
        return {}
    job = get_job(store, job_id)
    return dict(job.params) if job is not None and job.params else {}


# -- workspace files -----------------------------------------------------------------------------


def _erase_files(workspace: Workspace, customer_id: str, sessions: list[str]) -> list[str]:
    rewritten = []
    needles = _needles([customer_id, *sessions], [])
    for path in _workspace_files(workspace):
        if not _holds(path, needles):
            continue
        if path.suffix.lower() == ".csv":
            if not _erase_csv_rows(path, customer_id, set(sessions)):
                continue
        elif path.suffix.lower() == ".json":
            body = path.read_text(encoding="utf-8")
            if json.dumps(customer_id) not in body:
                continue
            # null keeps the file valid and parallel arrays aligned.
            _replace_file(path, body.replace(json.dumps(customer_id), "null"))
        else:
            continue
        rewritten.append(str(path.relative_to(workspace.root)))
    return rewritten


def _erase_csv_rows(path: Path, customer_id: str, sessions: set[str]) -> bool:
    """Do to a contract CSV file what the erase did to its table; True when it changed.

    Rows naming the customer go, but ``orders.csv`` keeps its rows with the
    customer column emptied (as the store does, so the folder still loads);
    events of the customer's sessions go too.
    """
    tmp = path.with_name(path.name + ".erasing")
    csv.field_size_limit(sys.maxsize)
    changed = False
    with (
        path.open(newline="", encoding="utf-8") as source,
        tmp.open("w", newline="", encoding="utf-8") as target,
    ):
        reader = csv.reader(source)
        writer = csv.writer(target, lineterminator="\n")
        header = next(reader, None)
        if header is None:
            return False
        writer.writerow(header)
        who = header.index("customer_id") if "customer_id" in header else -1
        session = header.index("session_id") if "session_id" in header else -1
        keep_unlinked = path.stem == "orders" and who >= 0
        for row in reader:
            if customer_id in row:
                changed = True
                if keep_unlinked and len(row) > who and row[who] == customer_id:
                    row[who] = ""
                    if customer_id not in row:
                        writer.writerow(row)
                continue
            if session >= 0 and len(row) > session and row[session] in sessions:
                changed = True
                continue
            writer.writerow(row)
        target.flush()
        os.fsync(target.fileno())
    if changed:
        os.replace(tmp, path)
    else:
        tmp.unlink()
    return changed


def _replace_file(path: Path, body: str) -> None:
    write_atomic(path, body.encode("utf-8"))


def _workspace_files(workspace: Workspace) -> list[Path]:
    database = _database_files_of(workspace.database_url)
    models = workspace.models_dir.resolve()
    out = []
    for path in _files(workspace.root):
        resolved = path.resolve()
        if resolved in database or models in resolved.parents:
            continue
        if path.name in ("pii.key", "service.secret"):
            continue
        out.append(path)
    return out


# -- raw bytes -------------------------------------------------------------------------------------


def _needles(ids: Iterable[str], values: Iterable[str]) -> list[bytes]:
    found: list[bytes] = []
    for value in ids:
        # Pickled str are UTF-8; numpy's fixed-width strings are UTF-32; some
        # libraries keep UTF-16.
        for encoding in ("utf-8", "utf-16-le", "utf-32-le"):
            found.append(value.encode(encoding))
    for value in values:
        found.append(value.encode("utf-8"))
    return found


def _files(folder: Path) -> list[Path]:
    return sorted(p for p in folder.rglob("*") if p.is_file())


def _holds(path: Path, needles: list[bytes]) -> bool:
    try:
        with path.open("rb") as handle:
            if os.fstat(handle.fileno()).st_size == 0:
                return False
            with mmap.mmap(handle.fileno(), 0, access=mmap.ACCESS_READ) as data:
                return any(data.find(n) != -1 for n in needles)
    except OSError:
        return False


def _database_files_of(url: str) -> set[Path]:
    from sqlalchemy.engine import make_url

    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite" or not parsed.database:
        return set()
    db = Path(parsed.database).resolve()
    return {db, *(db.with_name(db.name + s) for s in ("-wal", "-shm", "-journal"))}


def find_traces(
    store: Store,
    workspace: Workspace | None,
    ids: Iterable[str],
    values: Iterable[str] = (),
    keys: Iterable[str] = (),
) -> list[str]:
    """Every file (database, artifact, workspace file) whose raw bytes hold an id or value.

    ``ids`` are searched in UTF-8, UTF-16 and UTF-32; ``values`` (an e-mail,
    a phone) in UTF-8. ``keys`` (pseudonyms) are searched outside the
    database only: the audit log keeps an erased customer's pseudonym as the
    record of the erase. PostgreSQL's files belong to its server and are not
    read; on SQLite the database file and its journal files are.
    """
    needles = _needles(ids, values)
    outside = needles + _needles(keys, [])
    places: list[str] = []
    for path in sorted(_database_files_of(store.url)):
        if path.exists() and _holds(path, needles):
            places.append(f"database file {path}")
    if workspace is not None:
        for path in _files(workspace.models_dir):
            if _holds(path, outside):
                places.append(f"model artifact {path.relative_to(workspace.root)}")
        for path in _workspace_files(workspace):
            if _holds(path, outside):
                places.append(f"workspace file {path.relative_to(workspace.root)}")
    return places
