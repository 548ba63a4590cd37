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

A successful run's folder gets ``manifest.json``, the SHA-256 and size of
every file in it, written (and flushed to disk, with the files) before the
run is promoted. ``current_artifact`` checks the folder against it and, when
a file is missing, truncated or changed, falls back to the earlier promoted
runs that ``current.json`` remembers, with a warning naming the bad file.
Folders written before manifests existed are served unverified.

``run_job`` runs in the calling thread (the CLI); ``JobRunner`` runs jobs one
at a time on a background thread (the service).
"""

from __future__ import annotations

import hashlib
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

from shopkeeper._files import write_atomic
from shopkeeper.errors import ArtifactError, ConfigError, ShopkeeperError
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
    import shopkeeper.images._analysis
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


#: The file in a finished run's folder recording every other file's SHA-256 and size.
MANIFEST = "manifest.json"
MANIFEST_FORMAT = 1
#: How many earlier promoted runs ``current.json`` remembers to fall back on.
KEPT_PREVIOUS = 5

# Digests already computed in this process, by file and its (inode, size, mtime,
# ctime): a check on every CLI call or service reload hashes a file once, and
# any write to it (which moves its ctime) makes the next check hash it again.
_DIGESTS: dict[str, tuple[tuple[int, int, int, int], str]] = {}
_DIGESTS_KEPT = 256
_UNVERIFIED_SEEN: set[str] = set()


def promoted_jobs(workspace: Workspace, kind: str) -> list[str]:
    """The job ids ``current.json`` names for ``kind``: the one in service, then the
    earlier promoted ones, newest first; empty before the kind's first success.

    Reads only the pointer (no artifact is checked), so it is cheap enough for
    every request. Raises :class:`ArtifactError` when the pointer is unreadable.
    """
    pointer = workspace.models_dir / kind / "current.json"
    try:
        body = json.loads(pointer.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return []
    except (OSError, ValueError) as exc:
        raise ArtifactError(f"{pointer} cannot be read: {exc}", str(pointer)) from exc
    if not isinstance(body, dict) or not isinstance(body.get("job_id"), str):
        raise ArtifactError(f"{pointer} names no job", str(pointer))
    earlier = body.get("previous") or []
    found = [body["job_id"]] + [j for j in earlier if isinstance(j, str)]
    return list(dict.fromkeys(found))


def current_artifact(workspace: Workspace, kind: str, *, verify: bool = True) -> Path | None:
    """The artifact folder of ``kind`` in service, or None before its first success.

    With ``verify`` (the default) the folder ``current.json`` names is checked
    against its manifest (see :func:`verify_artifact`); when it is missing or a
    file fails its SHA-256, the earlier promoted folders are tried, newest
    first, and the first sound one is returned, with a warning naming the bad
    artifact. Raises :class:`ArtifactError`, naming the current one's fault,
    when none is sound. ``verify=False`` only follows the pointer (no hashing):
    the folder, or None when it does not exist.
    """
    promoted = promoted_jobs(workspace, kind)
    if not promoted:
        return None
    folders = [workspace.models_dir / kind / job_id for job_id in promoted]
    if not verify:
        return folders[0] if folders[0].is_dir() else None
    faults: list[ArtifactError] = []
    for folder in folders:
        try:
            if not folder.is_dir():
                raise ArtifactError(f"artifact folder {folder} is missing", str(folder))
            verify_artifact(folder, kind)
        except ArtifactError as exc:
            log.warning("%s artifact of job %s cannot be served: %s", kind, folder.name, exc)
            faults.append(exc)
            continue
        if faults:
            log.warning(
                "serving the earlier %s artifact of job %s instead of job %s",
                kind,
                folder.name,
                promoted[0],
            )
        return folder
    first = faults[0]
    raise ArtifactError(
        f"{first}; no earlier {kind} artifact can be served in its place",
        first.path,
        first.expected,
        first.actual,
    )


def write_manifest(folder: Path) -> dict[str, dict[str, object]]:
    """Record the SHA-256 and size of every file under ``folder`` in its manifest.

    Each file is flushed to disk first, and the manifest is written atomically
    and flushed too, so after a crash or power loss a folder with a manifest
    holds exactly what the manifest says. Returns the recorded entries.
    """
    files: dict[str, dict[str, object]] = {}
    for path in sorted(p for p in folder.rglob("*") if p.is_file()):
        name = path.relative_to(folder).as_posix()
        if name == MANIFEST:
            continue
        _fsync(path)
        files[name] = {"sha256": _digest(path), "bytes": path.stat().st_size}
    body = {"format": MANIFEST_FORMAT, "algorithm": "sha256", "files": files}
    write_atomic(folder / MANIFEST, json.dumps(body, indent=1, sort_keys=True).encode())
    return files


def verify_artifact(folder: Path, kind: str | None = None) -> bool:
    """Check every file the folder's manifest lists against its SHA-256 and size.

    True when all match; False when the folder has no manifest (written
    before manifests existed: served unverified, logged once per process).
    Raises :class:`ArtifactError` naming the first missing, truncated or
    changed file with its expected and actual digest, or an unreadable manifest.
    """
    entries = _manifest(folder)
    if entries is None:
        return _unverified(folder)
    for name, (expected, size) in entries.items():
        _check(folder / name, expected, size, kind or folder.parent.name)
    return True


def verify_file(path: Path, kind: str | None = None) -> bool:
    """Check one artifact file against the manifest of its folder.

    True when it matches; False when the folder has no manifest (unverified,
    logged once). Raises :class:`ArtifactError` when the file is missing,
    truncated or changed, or when the manifest does not list it.
    """
    kind = kind or path.parent.parent.name
    entries = _manifest(path.parent)
    if entries is None:
        return _unverified(path.parent)
    if path.name not in entries:
        raise ArtifactError(
            f"artifact {path} is not listed in {path.parent / MANIFEST}; "
            f"run 'shopkeeper train {kind}' again",
            str(path),
        )
    expected, size = entries[path.name]
    _check(path, expected, size, kind)
    return True


def _manifest(folder: Path) -> dict[str, tuple[str, int]] | None:
    """The manifest's entries (file -> digest, size); None without a manifest."""
    path = folder / MANIFEST
    try:
        body = json.loads(path.read_bytes())
        files = body["files"]
        return {str(n): (str(e["sha256"]), int(e["bytes"])) for n, e in files.items()}
    except FileNotFoundError:
        return None
    except (OSError, ValueError, KeyError, TypeError, AttributeError) as exc:
        # A manifest is written atomically: an unreadable one was damaged later.
        raise ArtifactError(f"artifact manifest {path} cannot be read: {exc!r}", str(path)) from exc


def _check(path: Path, expected: str, size: int, kind: str) -> None:
    retrain = f"run 'shopkeeper train {kind}' again"
    if not path.is_file():
        raise ArtifactError(
            f"artifact {path} is missing (expected SHA-256 {expected}); {retrain}",
            str(path),
            expected,
        )
    actual = _digest(path)
    if actual == expected:
        return
    found = path.stat().st_size
    what = "truncated" if found < size else "corrupted"
    raise ArtifactError(
        f"artifact {path} is {what}: SHA-256 {actual} ({found:,} bytes), "
        f"expected {expected} ({size:,} bytes); {retrain}",
        str(path),
        expected,
        actual,
    )


def _unverified(folder: Path) -> bool:
    if str(folder) not in _UNVERIFIED_SEEN:
        _UNVERIFIED_SEEN.add(str(folder))
        log.info("artifact %s has no %s (written before checksums): unverified", folder, MANIFEST)
    return False


def _digest(path: Path) -> str:
    """The file's SHA-256 (hex), from this process's memo while the file is unchanged."""
    st = path.stat()
    sig = (st.st_ino, st.st_size, st.st_mtime_ns, st.st_ctime_ns)
    key = str(path)
    known = _DIGESTS.get(key)
    if known is not None and known[0] == sig:
        return known[1]
    with path.open("rb") as fh:
        digest = hashlib.file_digest(fh, "sha256").hexdigest()
    if len(_DIGESTS) >= _DIGESTS_KEPT:
        _DIGESTS.clear()
    _DIGESTS[key] = (sig, digest)
    return digest


def _fsync(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _promote(workspace: Workspace, kind: str, job_id: str) -> None:
    """Name ``job_id`` in ``current.json``, remembering the ones before it to fall back on."""
    pointer = workspace.models_dir / kind / "current.json"
    try:
        before = promoted_jobs(workspace, kind)
    except ArtifactError as exc:
        # A damaged pointer must not block the new run; only its history is lost.
        log.warning("promoting %s job %s over an unreadable pointer: %s", kind, job_id, exc)
        before = []
    earlier = [j for j in before if j != job_id][:KEPT_PREVIOUS]
    body = {"job_id": job_id, "promoted_at": _now().isoformat() + "Z", "previous": earlier}
    write_atomic(pointer, json.dumps(body).encode())  # readers see the old or the new


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
        # Checksums before promotion: a folder in service always has its manifest.
        write_manifest(folder)
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
    """Pickle a job's artifact (the highest protocol), atomically and flushed to disk.

    A crash while saving leaves no half-written file under ``path``; the run's
    manifest (written when the run succeeds) records the file's SHA-256.
    """
    # Streamed into the file, not built in memory first: artifacts can be large.
    write_atomic(path, lambda fh: pickle.dump(obj, fh, protocol=pickle.HIGHEST_PROTOCOL))


def load_artifact(cls: type[_S], path: Path, kind: str, version: int) -> _S:
    """Unpickle an artifact of ``cls`` written with format ``version``, or say to retrain.

    The file is first checked against its folder's manifest: a missing,
    truncated or changed file raises :class:`ArtifactError` (naming the file
    and both digests) before a byte is unpickled. A file without a manifest
    (written before checksums) is loaded unverified; one that cannot be
    unpickled raises :class:`ArtifactError` too.
    """
    verify_file(path, kind)
    try:
        with path.open("rb") as fh:
            found = pickle.load(fh)
    except FileNotFoundError as exc:
        raise ArtifactError(f"artifact {path} is missing", str(path)) from exc
    except (EOFError, pickle.UnpicklingError) as exc:
        raise ArtifactError(
            f"artifact {path} cannot be read ({exc!r}): truncated or corrupted; "
            f"run 'shopkeeper train {kind}' again",
            str(path),
        ) from exc
    if not isinstance(found, cls) or getattr(found, "format", None) != version:
        raise ConfigError(
            f"{path} was written by another shopkeeper version; run 'shopkeeper train {kind}' again"
        )
    return found
