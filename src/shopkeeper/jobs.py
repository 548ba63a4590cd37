"""Background jobs: training runs with states, progress and versioned artifacts.

A capability registers a *job kind* with a function that fits on the store and
writes its artifact into a folder it is given::

    @register("figures", "The shop's key figures for the dashboard")
    def build(ctx: JobContext) -> JobOutcome: ...

Every run is a row in the store's ``jobs`` table with a state (``queued``,
``running``, ``done``, ``failed``), progress from 0 to 1 and, when done, its
metrics. Artifacts live in ``WORKSPACE/models/<kind>/<job_id>/``; the kind's
``current.json`` names the artifact in service and is replaced (atomically)
only when a run succeeds, so a failed run leaves the previous model serving.

``run_job`` runs in the calling thread (the CLI); ``JobRunner`` runs jobs one
at a time on a background thread (the service).
"""

from __future__ import annotations

import json
import logging
import os
import pickle
import queue
import secrets
import shutil
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, fields
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypeVar

from sqlalchemy import RowMapping, insert, select, update

from shopkeeper.errors import ConfigError, ShopkeeperError
from shopkeeper.store import METADATA, Store
from shopkeeper.workspace import Workspace

log = logging.getLogger(__name__)

STATES = ("queued", "running", "done", "failed")
_JOBS = METADATA.tables["jobs"]


@dataclass
class JobContext:
    """What a job function gets: the store, its artifact folder, parameters, progress."""

    store: Store
    workspace: Workspace
    artifact_dir: Path
    params: dict[str, Any]
    report: Callable[[float, str], None]

    def progress(self, share: float, message: str = "") -> None:
        """Report progress, 0 to 1, with a short note of what is being done."""
        self.report(min(max(float(share), 0.0), 1.0), message)


@dataclass
class JobOutcome:
    """What a successful job returns: its headline metrics (JSON-serialisable)."""

    metrics: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class JobKind:
    name: str
    description: str
    run: Callable[[JobContext], JobOutcome]


_KINDS: dict[str, JobKind] = {}


def register(
    name: str, description: str
) -> Callable[[Callable[[JobContext], JobOutcome]], Callable[[JobContext], JobOutcome]]:
    """Register a job kind; used as a decorator on the job's function."""

    def wrap(fn: Callable[[JobContext], JobOutcome]) -> Callable[[JobContext], JobOutcome]:
        _KINDS[name] = JobKind(name, description, fn)
        return fn

    return wrap


def job_kinds() -> dict[str, JobKind]:
    """Every registered job kind by name (capabilities register on import)."""
    _import_capabilities()
    return dict(_KINDS)


def job_kind(name: str) -> JobKind:
    kinds = job_kinds()
    if name not in kinds:
        known = ", ".join(sorted(kinds)) or "none"
        raise ConfigError(f"unknown job kind {name!r}; known kinds: {known}")
    return kinds[name]


def _import_capabilities() -> None:
    # Capabilities register their job kinds when imported.
    import shopkeeper.basket._analysis
    import shopkeeper.customers._train
    import shopkeeper.figures
    import shopkeeper.forecast._analysis
    import shopkeeper.inventory._analysis
    import shopkeeper.mmm._analysis
    import shopkeeper.orders._train
    import shopkeeper.pricing._analysis
    import shopkeeper.recommend._train  # noqa: F401


@dataclass
class Job:
    """One run of a job kind, as stored."""

    job_id: str
    kind: str
    state: str
    progress: float
    message: str | None
    params: dict[str, Any]
    metrics: dict[str, Any] | None
    artifact: str | None
    error: str | None
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None

    @property
    def seconds(self) -> float | None:
        if self.started_at is None:
            return None
        end = self.finished_at or _now()
        return (end - self.started_at).total_seconds()

    def to_dict(self) -> dict[str, object]:
        def iso(v: datetime | None) -> str | None:
            return None if v is None else v.isoformat() + "Z"

        return {
            "job_id": self.job_id,
            "kind": self.kind,
            "state": self.state,
            "progress": round(self.progress, 4),
            "message": self.message,
            "params": self.params,
            "metrics": self.metrics,
            "artifact": self.artifact,
            "error": self.error,
            "created_at": iso(self.created_at),
            "started_at": iso(self.started_at),
            "finished_at": iso(self.finished_at),
            "seconds": None if self.seconds is None else round(self.seconds, 3),
        }


def _now() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


def _row_to_job(row: RowMapping) -> Job:
    return Job(
        job_id=row["job_id"],
        kind=row["kind"],
        state=row["state"],
        progress=float(row["progress"]),
        message=row["message"],
        params=json.loads(row["params"] or "{}"),
        metrics=None if row["metrics"] is None else json.loads(row["metrics"]),
        artifact=row["artifact"],
        error=row["error"],
        created_at=row["created_at"],
        started_at=row["started_at"],
        finished_at=row["finished_at"],
    )


def create_job(store: Store, kind: str, params: Mapping[str, Any] | None = None) -> Job:
    """Record a queued run of ``kind`` (checked to exist) and return it."""
    job_kind(kind)
    job_id = time.strftime("%Y%m%d-%H%M%S") + "-" + secrets.token_hex(3)
    with store.transaction() as conn:
        conn.execute(
            insert(_JOBS).values(
                job_id=job_id,
                kind=kind,
                state="queued",
                progress=0.0,
                params=json.dumps(dict(params or {}), sort_keys=True),
                created_at=_now(),
            )
        )
    found = get_job(store, job_id)
    assert found is not None
    return found


def get_job(store: Store, job_id: str) -> Job | None:
    with store.engine.connect() as conn:
        row = conn.execute(select(_JOBS).where(_JOBS.c.job_id == job_id)).mappings().first()
    return None if row is None else _row_to_job(row)


def list_jobs(store: Store, *, kind: str | None = None, limit: int = 100) -> list[Job]:
    """The most recent runs first."""
    query = select(_JOBS).order_by(_JOBS.c.created_at.desc(), _JOBS.c.job_id.desc()).limit(limit)
    if kind is not None:
        query = query.where(_JOBS.c.kind == kind)
    with store.engine.connect() as conn:
        return [_row_to_job(r) for r in conn.execute(query).mappings()]


def last_runs(store: Store) -> dict[str, Job | None]:
    """Per registered kind, its latest successful run (None if it never succeeded)."""
    out: dict[str, Job | None] = {}
    for name in sorted(job_kinds()):
        done = [j for j in list_jobs(store, kind=name, limit=50) if j.state == "done"]
        out[name] = done[0] if done else None
    return out


def _set(store: Store, job_id: str, **values: Any) -> None:
    with store.transaction() as conn:
        conn.execute(update(_JOBS).where(_JOBS.c.job_id == job_id).values(**values))


def current_artifact(workspace: Workspace, kind: str) -> Path | None:
    """The artifact folder of ``kind`` in service, or None before its first success."""
    pointer = workspace.models_dir / kind / "current.json"
    if not pointer.is_file():
        return None
    folder = workspace.models_dir / kind / json.loads(pointer.read_text())["job_id"]
    return folder if folder.is_dir() else None


def _promote(workspace: Workspace, kind: str, job_id: str) -> None:
    pointer = workspace.models_dir / kind / "current.json"
    tmp = pointer.with_suffix(".tmp")
    tmp.write_text(json.dumps({"job_id": job_id, "promoted_at": _now().isoformat() + "Z"}))
    os.replace(tmp, pointer)  # atomic: readers see the old or the new, never half


def execute(
    store: Store,
    workspace: Workspace,
    job: Job,
    on_progress: Callable[[float, str], None] | None = None,
) -> Job:
    """Run a queued job to its end in this thread; never raises for the job's own failure.

    ``on_progress`` also receives every progress report (the CLI draws a bar).
    """
    kind = job_kind(job.kind)
    folder = workspace.models_dir / job.kind / job.job_id
    folder.mkdir(parents=True, exist_ok=True)
    _set(store, job.job_id, state="running", started_at=_now(), message="started")
    last_write = [0.0]

    def report(share: float, message: str) -> None:
        if on_progress is not None:
            on_progress(share, message)
        # Progress is written at most every half second, and always at the end.
        if time.monotonic() - last_write[0] > 0.5 or share >= 1.0:
            _set(store, job.job_id, progress=share, message=message[:500])
            last_write[0] = time.monotonic()

    ctx = JobContext(store, workspace, folder, dict(job.params), report)
    try:
        outcome = kind.run(ctx)
        metrics = json.dumps(outcome.metrics, default=str, allow_nan=False)
    except Exception as exc:
        log.exception("job %s (%s) failed", job.job_id, job.kind)
        shutil.rmtree(folder, ignore_errors=True)
        reason = str(exc) if isinstance(exc, ShopkeeperError) else f"{type(exc).__name__}: {exc}"
        _set(store, job.job_id, state="failed", error=reason[:2000], finished_at=_now())
    else:
        _promote(workspace, job.kind, job.job_id)
        _set(
            store,
            job.job_id,
            state="done",
            progress=1.0,
            message="done",
            metrics=metrics,
            artifact=str(folder),
            finished_at=_now(),
        )
        log.info("job %s (%s) done", job.job_id, job.kind)
    found = get_job(store, job.job_id)
    assert found is not None
    return found


def run_job(
    store: Store,
    workspace: Workspace,
    kind: str,
    params: Mapping[str, Any] | None = None,
    on_progress: Callable[[float, str], None] | None = None,
) -> Job:
    """Create and run a job in this thread (the CLI's ``train``); returns the finished job."""
    return execute(store, workspace, create_job(store, kind, params), on_progress)


def fail_interrupted(store: Store) -> int:
    """Mark runs a stopped process left queued or running as failed; returns how many."""
    with store.transaction() as conn:
        done = conn.execute(
            update(_JOBS)
            .where(_JOBS.c.state.in_(("queued", "running")))
            .values(state="failed", error="interrupted: the service stopped", finished_at=_now())
        )
    return int(done.rowcount or 0)


class JobRunner:
    """Runs submitted jobs one at a time on a daemon thread (the service's worker)."""

    def __init__(self, store: Store, workspace: Workspace) -> None:
        self.store = store
        self.workspace = workspace
        self._queue: queue.Queue[Job | None] = queue.Queue()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        if self._thread is None:
            self._thread = threading.Thread(target=self._loop, name="shopkeeper-jobs", daemon=True)
            self._thread.start()

    def submit(self, kind: str, params: Mapping[str, Any] | None = None) -> Job:
        job = create_job(self.store, kind, params)
        self.start()
        self._queue.put(job)
        return job

    def stop(self, timeout: float = 5.0) -> None:
        if self._thread is not None:
            self._queue.put(None)
            self._thread.join(timeout)
            self._thread = None

    def wait_idle(self, timeout: float = 60.0) -> None:
        """Block until every submitted job has finished (tests, shutdown)."""
        deadline = time.monotonic() + timeout
        while self._queue.unfinished_tasks and time.monotonic() < deadline:
            time.sleep(0.02)

    def _loop(self) -> None:
        while True:
            job = self._queue.get()
            try:
                if job is None:
                    return
                execute(self.store, self.workspace, job)
            except Exception:  # the store itself failed; keep serving other jobs
                log.exception("job runner could not run %s", job)
            finally:
                self._queue.task_done()


_S = TypeVar("_S")
_WHAT = {int: "a whole number", float: "a number", str: "text", bool: "true or false"}


def settings_from_params(cls: type[_S], params: dict[str, Any], kind: str) -> _S:
    """A settings dataclass from job parameters: unknown names and wrong types refused.

    Each parameter must have the type of its field's default (a whole number
    is accepted where a number is asked for); the dataclass checks ranges.
    """
    defaults = cls()
    known = {f.name for f in fields(cls)}  # type: ignore[arg-type]
    unknown = sorted(set(params) - known)
    if unknown:
        raise ConfigError(f"unknown {kind} parameters {unknown}; known: {sorted(known)}")
    for name, value in params.items():
        want = type(getattr(defaults, name))
        fits = isinstance(value, want) and (want is bool or not isinstance(value, bool))
        if want is float and isinstance(value, int) and not isinstance(value, bool):
            fits = True
        if not fits:
            raise ConfigError(f"{kind} parameter {name}={value!r} must be {_WHAT[want]}")
    return cls(**params)


def save_artifact(obj: object, path: Path) -> None:
    """Pickle a job's artifact (the highest protocol)."""
    with path.open("wb") as fh:
        pickle.dump(obj, fh, protocol=pickle.HIGHEST_PROTOCOL)


def load_artifact(cls: type[_S], path: Path, kind: str, version: int) -> _S:
    """Unpickle an artifact of ``cls`` written with format ``version``, or say to retrain."""
    with path.open("rb") as fh:
        found = pickle.load(fh)
    if not isinstance(found, cls) or getattr(found, "format", None) != version:
        raise ConfigError(
            f"{path} was written by another shopkeeper version; run 'shopkeeper train {kind}' again"
        )
    return found
