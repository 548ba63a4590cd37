"""Real processes killed at random points, and the checks on what they leave behind.

Shared by ``tests/reliability`` (a few kills on every test run) and
``bench/reliability_bench.py`` (hundreds). Everything runs as a shop runs it:
``shopkeeper ingest`` and ``shopkeeper serve`` in processes of their own, on
a SQLite file or a PostgreSQL schema, stopped with SIGKILL, so no handler
runs, no buffer is flushed and no transaction is closed. The clients talk to
127.0.0.1 only, and every loop is bounded in count and time.

What is checked after each kill:

- an ingest: the store's contract tables equal the state before the load
  (``Store.checksums``, byte for byte) or the state after a complete one
  (:func:`contents`: the tables as read back, since personal columns are
  sealed with a fresh nonce on every write, so two complete loads never
  match byte for byte), nothing in between, and ``ingest_runs`` gained a row
  exactly when the load is there;
- the service: every event of a request answered 2xx is stored, every batch
  is stored whole or not at all, the SQLite file passes ``integrity_check``,
  and a restarted server takes events again.
"""

from __future__ import annotations

import hashlib
import json
import os
import random
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import create_engine, func, select, text
from sqlalchemy.engine import make_url

from shopkeeper import contract
from shopkeeper.jobs import MANIFEST
from shopkeeper.store import METADATA, Store
from tests.reliability import client
from tests.reliability.client import Ledger, event_batch, post

HOST = "127.0.0.1"
API = "/api/v1"
BIN = Path(sys.executable).parent
_EVENTS = METADATA.tables["events"]
_RUNS = METADATA.tables["ingest_runs"]

# The settings the child processes must not inherit from whoever runs us.
_CLEARED_ENV = ("SHOPKEEPER_RATE_PER_KEY", "SHOPKEEPER_WORKSPACE", "SHOPKEEPER_DATABASE_URL")


def shopkeeper(*args: str) -> list[str]:
    """The command line of the installed ``shopkeeper`` (the one beside this Python)."""
    return [str(BIN / "shopkeeper"), *args]


# -- places: a workspace folder and the database its processes use ----------------------


@dataclass(frozen=True)
class Place:
    """A workspace folder and the database URL its processes are given.

    ``url`` is what ``SHOPKEEPER_DATABASE_URL`` gets; for PostgreSQL it carries
    the schema as the connection's search path, since the CLI and the service
    take no schema option.
    """

    root: Path
    url: str

    def env(self) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if k not in _CLEARED_ENV}
        env["SHOPKEEPER_WORKSPACE"] = str(self.root)
        env["SHOPKEEPER_DATABASE_URL"] = self.url
        return env

    def store(self) -> Store:
        return Store(self.url)

    @property
    def sqlite_file(self) -> Path | None:
        """The database file when the store is SQLite."""
        parsed = make_url(self.url)
        if parsed.get_backend_name() != "sqlite" or not parsed.database:
            return None
        return Path(parsed.database)


def sqlite_place(root: Path) -> Place:
    """A workspace at ``root`` with its SQLite store in it (nothing created yet)."""
    root.mkdir(parents=True, exist_ok=True)
    return Place(root, f"sqlite:///{root / 'shop.db'}")


def pg_schema_url(url: str, schema: str) -> str:
    """``url`` with ``schema`` as the search path of every connection (libpq ``options``)."""
    if url.startswith(("postgresql://", "postgres://")):
        url = "postgresql+psycopg://" + url.split("://", 1)[1]
    parsed = make_url(url).update_query_dict({"options": f"-csearch_path={schema}"})
    return parsed.render_as_string(hide_password=False)


def pg_place(root: Path, url: str, schema: str) -> Place:
    """A workspace at ``root`` whose store is ``schema`` in the PostgreSQL at ``url``."""
    root.mkdir(parents=True, exist_ok=True)
    engine = create_engine(Store(url).url)
    with engine.begin() as conn:
        conn.execute(text(f"CREATE SCHEMA IF NOT EXISTS {schema}"))
    engine.dispose()
    return Place(root, pg_schema_url(url, schema))


def drop_pg_schema(url: str, schema: str) -> None:
    engine = create_engine(Store(url).url)
    with engine.begin() as conn:
        conn.execute(text(f"DROP SCHEMA IF EXISTS {schema} CASCADE"))
    engine.dispose()


def copy_sqlite_place(source: Place, root: Path) -> Place:
    """A copy of a SQLite workspace (its store checkpointed, so the copy is whole)."""
    found = source.sqlite_file
    assert found is not None, "only a SQLite workspace can be copied"
    with sqlite3.connect(found) as conn:
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    conn.close()
    shutil.rmtree(root, ignore_errors=True)
    shutil.copytree(source.root, root, ignore=shutil.ignore_patterns("*-wal", "*-shm"))
    return sqlite_place(root)


def sqlite_integrity(place: Place) -> str:
    """SQLite's own verdict on the file ("ok"), or "n/a" for another database."""
    found = place.sqlite_file
    if found is None:
        return "n/a"
    conn = sqlite3.connect(found)
    try:
        rows = conn.execute("PRAGMA integrity_check").fetchall()
    finally:
        conn.close()
    return "; ".join(str(r[0]) for r in rows)


def sqlite_writer_active(place: Place) -> bool | None:
    """Whether some process holds the SQLite write lock now (None: not SQLite).

    Tries to take the lock without waiting and lets it go at once, so a
    writer that asks in between waits a moment (its busy timeout) but never fails.
    """
    found = place.sqlite_file
    if found is None:
        return None
    conn = sqlite3.connect(found, timeout=0, isolation_level=None)
    try:
        conn.execute("BEGIN IMMEDIATE")
        conn.execute("ROLLBACK")
        return False
    except sqlite3.OperationalError:
        return True
    finally:
        conn.close()


def contents(store: Store) -> dict[str, str]:
    """A digest per contract table of its rows as read back (personal columns opened).

    Equal for two stores that hold the same data, whatever nonces sealed it.
    """
    out = {}
    for table in contract.table_names():
        frame = store.read(table, extra=True)
        out[table] = hashlib.sha256(frame.to_csv(index=False).encode()).hexdigest()
    return out


def ingest_runs(store: Store) -> int:
    with store.engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(_RUNS)).scalar_one())


# -- shop files for the loads -------------------------------------------------------------


def write_demo_files(folder: Path, *, customers: int, products: int, days: int, seed: int) -> Path:
    """The demo shop's CSV files at a chosen size, as a shop's export would be."""
    from shopkeeper.demo import DemoConfig, generate, write_shop

    config = DemoConfig.preset(
        "small", customers=customers, products=products, days=days, seed=seed
    )
    write_shop(generate(config), folder)
    (folder / "ground_truth.json").unlink(missing_ok=True)  # not a table: keep it out
    return folder


def seed_events(place: Place, folder: Path) -> None:
    """Load three events (no customer, no product) so the events table is not empty.

    Writers into an empty table take the store's first-load route (indexes
    dropped and rebuilt), which concurrent writers on PostgreSQL deadlock on;
    ``bench/reliability_bench.py`` measures that case, the tests this one.
    """
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "events.csv").write_text(
        "event_id,at,event,session_id\n"
        "seed-1,2024-11-10T20:00:00Z,view,seed\n"
        "seed-2,2024-11-10T20:01:00Z,cart,seed\n"
        "seed-3,2024-11-10T20:02:00Z,view,seed\n",
        encoding="utf-8",
    )
    load_in_process(place, folder)


def load_in_process(place: Place, folder: Path, *, replace: bool = False) -> None:
    from shopkeeper.ingest import load_folder

    store = place.store()
    try:
        store.create()
        load_folder(folder, store, replace=replace)
    finally:
        store.close()


# -- killed ingests ------------------------------------------------------------------------


@dataclass
class IngestKill:
    """What one killed ``shopkeeper ingest`` left: ``state`` is before, complete or other."""

    at: float
    state: str
    exited_first: bool
    writing: bool | None
    runs_added: int
    integrity: str
    place: Place | None = field(default=None, repr=False)


class IngestRig:
    """One load, run to its end once and then killed at random moments.

    ``fresh(name)`` gives a new workspace holding the state before the load
    (a copy of a SQLite file, or a new PostgreSQL schema loaded again);
    ``prepare()`` records that state's checksums and the complete load's,
    how long the whole ``shopkeeper ingest`` process takes and, on SQLite,
    when it holds the write lock (its one transaction: ``write_window``).
    """

    def __init__(
        self,
        folder: Path,
        fresh: Callable[[str], Place],
        *,
        replace: bool = False,
    ) -> None:
        self.folder = folder
        self.fresh = fresh
        self.replace = replace
        self.before: dict[str, str] = {}  # checksums: a kill before commit changes no byte
        self.complete: dict[str, str] = {}  # contents: sealing differs between loads
        self._before_contents: dict[str, str] = {}
        self.runs_before = 0
        self.seconds = 0.0
        self.write_window: tuple[float, float] | None = None
        self._count = 0

    def command(self) -> list[str]:
        extra = ["--replace"] if self.replace else []
        return shopkeeper("ingest", str(self.folder), "--json", *extra)

    def prepare(self) -> None:
        place = self._next()
        store = place.store()
        self.before = store.checksums()
        self._before_contents = contents(store)
        self.runs_before = ingest_runs(store)
        store.close()
        started = time.perf_counter()
        proc = subprocess.Popen(
            self.command(), env=place.env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE
        )
        held: list[float] = []
        while proc.poll() is None and time.perf_counter() - started < 300:
            if sqlite_writer_active(place):
                held.append(time.perf_counter() - started)
            time.sleep(0.002)
        out, err = proc.communicate(timeout=300)
        self.seconds = time.perf_counter() - started
        if proc.returncode != 0:
            raise RuntimeError(f"the full ingest failed: {out!r} {err!r}")
        self.write_window = (held[0], held[-1]) if held else None
        store = place.store()
        self.complete = contents(store)
        store.close()
        if self.complete == self._before_contents:
            raise RuntimeError("the load changes nothing: a kill could not be told apart")

    def _next(self) -> Place:
        self._count += 1
        return self.fresh(f"ingest-{self._count}")

    def kill_once(
        self,
        rng: random.Random,
        low: float = 0.5,
        high: float = 1.02,
        *,
        in_transaction: bool = False,
    ) -> IngestKill:
        """Start the load in a fresh copy, SIGKILL it, and classify what the store holds.

        The kill comes after a random share of the whole run's time (``low`` to
        ``high``) or, with ``in_transaction`` (SQLite), a random moment from the
        load taking the write lock to 20% past the time it held it in
        :meth:`prepare`, so that most kills land inside the transaction and
        some at or after its commit.
        """
        place = self._next()
        proc = subprocess.Popen(
            self.command(), env=place.env(), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
        started = time.perf_counter()
        if in_transaction and self.write_window is not None:
            first, last = self.write_window
            while proc.poll() is None and time.perf_counter() - started < 2 * self.seconds:
                if sqlite_writer_active(place):
                    break
                time.sleep(0.002)
            at = time.perf_counter() - started + rng.uniform(0.0, 1.2 * (last - first))
        else:
            at = rng.uniform(low, high) * self.seconds
        while proc.poll() is None and time.perf_counter() - started < at:
            time.sleep(0.002)
        exited_first = proc.poll() is not None
        writing = None if exited_first else sqlite_writer_active(place)
        if not exited_first:
            proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=30)
        return self.judge(place, at, exited_first, writing)

    def judge(
        self, place: Place, at: float, exited_first: bool, writing: bool | None
    ) -> IngestKill:
        integrity = sqlite_integrity(place)
        store = place.store()
        try:
            runs_added = ingest_runs(store) - self.runs_before
            state = "other"
            if integrity in ("ok", "n/a"):
                if runs_added == 0 and store.checksums() == self.before:
                    state = "before"
                elif runs_added == 1 and contents(store) == self.complete:
                    state = "complete"
        finally:
            store.close()
        return IngestKill(at, state, exited_first, writing, runs_added, integrity, place)

    def finish(self, place: Place) -> bool:
        """Whether a load run to its end in ``place`` (after a kill) gives the complete state."""
        done = subprocess.run(self.command(), env=place.env(), capture_output=True, timeout=300)
        store = place.store()
        try:
            return done.returncode == 0 and contents(store) == self.complete
        finally:
            store.close()


# -- the service ------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((HOST, 0))
        return int(sock.getsockname()[1])


class Server:
    """``shopkeeper serve`` on a free loopback port, in its own process group."""

    def __init__(self, place: Place, log: Path, *, workers: int = 1) -> None:
        self.place = place
        self.log = log
        self.workers = workers
        self.port = free_port()
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def base(self) -> str:
        return f"http://{HOST}:{self.port}{API}"

    def start(self, timeout: float = 60.0) -> None:
        """Launch the server and wait until it answers ``/ready``."""
        self.launch()
        self.wait_ready(timeout)

    def launch(self) -> None:
        command = shopkeeper("serve", "--host", HOST, "--port", str(self.port))
        command += ["--workers", str(self.workers), "--rate-limit", "0"]
        with self.log.open("ab") as fh:
            self.proc = subprocess.Popen(
                command,
                env=self.place.env(),
                stdout=fh,
                stderr=subprocess.STDOUT,
                start_new_session=True,  # a group of its own: stopped whole, workers too
            )

    def wait_ready(self, timeout: float = 60.0) -> None:
        assert self.proc is not None, "launch() first"
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"the server exited ({self.proc.returncode}): {self.tail()}")
            try:
                with urllib.request.urlopen(f"{self.base}/ready", timeout=2) as answer:
                    if answer.status == 200:
                        return
            except (OSError, urllib.error.URLError):
                pass
            time.sleep(0.05)
        self.kill()
        raise RuntimeError(f"the server was not ready in {timeout:.0f} s: {self.tail()}")

    def kill(self) -> None:
        """SIGKILL to the server's whole process group (its workers too)."""
        if self.proc is not None and self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGKILL)
        if self.proc is not None:
            self.proc.wait(timeout=30)

    def stop(self) -> int | None:
        """Ask the server to stop (SIGTERM); SIGKILL its group if it has not in 20 s."""
        if self.proc is None:
            return None
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.kill()
        return self.proc.returncode

    def tail(self, chars: int = 3000) -> str:
        return self.log.read_text(encoding="utf-8", errors="replace")[-chars:]


def post_until_dead(
    base: str, token: str, prefix: str, ledger: Ledger, *, size: int, stop: threading.Event
) -> None:
    """Post batches one after another until ``stop`` is set or the server stops answering."""
    rng = random.Random(prefix)
    for n in range(100_000):  # bounded: the server is killed long before
        if stop.is_set():
            return
        batch = f"{prefix}b{n}"
        status = post(base, token, event_batch(batch, size, rng), timeout=10.0)
        ledger.record(batch, size, status)
        if status == 0:
            return


@dataclass
class Audit:
    """What the store holds of a ledger's batches."""

    batches: int
    acked_batches: int
    acked_events: int
    lost_events: int
    partial_batches: int
    unacked_stored: int
    strangers: int
    integrity: str

    @property
    def sound(self) -> bool:
        return (
            self.lost_events == 0
            and self.partial_batches == 0
            and self.strangers == 0
            and self.integrity in ("ok", "n/a")
        )


def stored_batches(store: Store, like: str) -> Counter[str]:
    """Stored events per batch (the session id) among sessions matching ``like``."""
    query = (
        select(_EVENTS.c.session_id, func.count())
        .where(_EVENTS.c.session_id.like(like))
        .group_by(_EVENTS.c.session_id)
    )
    with store.engine.connect() as conn:
        return Counter({str(s): int(n) for s, n in conn.execute(query)})


def audit(place: Place, ledger: Ledger, like: str) -> Audit:
    """Compare the store with the ledger: lost, partial and unknown batches."""
    integrity = sqlite_integrity(place)
    store = place.store()
    try:
        stored = stored_batches(store, like)
    finally:
        store.close()
    lost = sum(size - stored.get(b, 0) for b, size in ledger.sent.items() if b in ledger.acked)
    partial = sum(1 for b, size in ledger.sent.items() if stored.get(b, 0) not in (0, size))
    unacked = sum(1 for b in ledger.sent if b not in ledger.acked and stored.get(b, 0))
    return Audit(
        batches=len(ledger.sent),
        acked_batches=len(ledger.acked),
        acked_events=sum(ledger.sent[b] for b in ledger.acked),
        lost_events=lost,
        partial_batches=partial,
        unacked_stored=unacked,
        strangers=sum(1 for b in stored if b not in ledger.sent),
        integrity=integrity,
    )


@dataclass
class ServerKill:
    """One server round: started, posted to, killed; what the store held afterwards."""

    at: float
    audit: Audit
    statuses: dict[int, int]


def kill_server_once(
    place: Place,
    token: str,
    log: Path,
    rng: random.Random,
    tag: str,
    *,
    clients: int = 2,
    size: int = 50,
    low: float = 0.2,
    high: float = 1.2,
) -> ServerKill:
    """Start the server, let ``clients`` threads post batches, SIGKILL it after a
    random ``low`` to ``high`` seconds, and audit the store against what was acknowledged."""
    server = Server(place, log)
    server.start()
    ledger = Ledger()
    stop = threading.Event()
    threads = [
        threading.Thread(
            target=post_until_dead,
            args=(server.base, token, f"{tag}c{i}", ledger),
            kwargs={"size": size, "stop": stop},
            daemon=True,
        )
        for i in range(clients)
    ]
    for t in threads:
        t.start()
    at = rng.uniform(low, high)
    time.sleep(at)
    server.kill()
    stop.set()
    for t in threads:
        t.join(timeout=30)
    return ServerKill(at, audit(place, ledger, f"{tag}c%"), dict(ledger.statuses))


# -- concurrent writers -----------------------------------------------------------------


@dataclass
class Concurrent:
    """Client processes posting at once to server processes sharing one store."""

    servers: int
    workers: int
    clients: int
    seconds: float
    audit: Audit
    statuses: dict[int, int]


def concurrent_writers(
    place: Place,
    token: str,
    log: Path,
    tag: str,
    *,
    servers: int = 2,
    workers: int = 1,
    clients: int = 3,
    batches: int = 20,
    size: int = 50,
) -> Concurrent:
    """``clients`` processes post ``batches`` batches each, all at once, spread over
    ``servers`` servers of ``workers`` worker processes each, all on ``place``'s store:
    ``servers * workers`` processes write to it at the same time."""
    running = [Server(place, log, workers=workers) for _ in range(servers)]
    ledger = Ledger()
    started = time.perf_counter()
    try:
        for server in running:
            server.launch()  # all at once: their start-ups overlap
        for server in running:
            server.wait_ready(timeout=120)
        started = time.perf_counter()
        procs = []
        for i in range(clients):
            base = running[i % servers].base
            args = [base, token, f"{tag}p{i}", str(batches), str(size)]
            procs.append(
                subprocess.Popen(
                    [sys.executable, client.__file__, *args],
                    stdout=subprocess.PIPE,
                    stderr=subprocess.PIPE,
                )
            )
        for proc in procs:
            out, err = proc.communicate(timeout=300)
            if proc.returncode != 0:
                raise RuntimeError(f"a client failed: {err.decode(errors='replace')[-2000:]}")
            ledger.merge(json.loads(out))
    finally:
        seconds = time.perf_counter() - started
        for server in running:
            server.stop()
    found = audit(place, ledger, f"{tag}p%")
    return Concurrent(servers, workers, clients, seconds, found, dict(ledger.statuses))


def operator_token(place: Place) -> str:
    """A new operator key's token in ``place``'s store (its schema created first)."""
    from shopkeeper.access import create_key

    store = place.store()
    try:
        store.create()
        return create_key(store, "reliability", "operator")[1]
    finally:
        store.close()


# -- damaged artifacts ------------------------------------------------------------------

#: A second file a test job writes beside its artifact (its checksum is checked too).
NOTES = "notes.txt"


def flip_a_byte(path: Path) -> None:
    """One byte in the middle inverted: same size, another digest (a bad sector, a bit flip)."""
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0xFF
    path.write_bytes(bytes(data))


def truncate(path: Path) -> None:
    """The first half kept (an interrupted copy, a full disk)."""
    path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])


#: Ways an artifact gets damaged, each given the path of a run's artifact file.
DAMAGE: dict[str, Callable[[Path], None]] = {
    "a flipped byte": flip_a_byte,
    "truncated": truncate,
    "deleted": lambda path: path.unlink(),
    "another file of the run changed": lambda path: (path.parent / NOTES).write_text("edited"),
    "its folder deleted": lambda path: shutil.rmtree(path.parent),
    "its manifest garbled": lambda path: (path.parent / MANIFEST).write_text("{not json"),
}
