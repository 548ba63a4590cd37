"""Service benchmark: the REST API under load from a second process on loopback.

It builds the demo shop in a fresh workspace under ``bench/.work``, creates a
reader and an operator key, and for 1 and 2 uvicorn workers starts
``shopkeeper serve`` on 127.0.0.1 (a free port), waits for ``/api/v1/ready``
and runs a load generator in a separate Python process (asyncio and one
``httpx.AsyncClient`` per cell, only to 127.0.0.1):

- reads: ``GET /products/{id}``, ``/customers/{id}``, ``/orders/{id}`` (random
  stored ids) and ``/orders?limit=20``, closed-loop at increasing concurrency
  for a fixed time, and open-loop at a fixed arrival rate (200 req/s), with
  latency measured from each request's scheduled time, so a slow server
  cannot hide its queue (no coordinated omission);
- event ingestion: ``POST /events`` with unique events (one session id per
  request, one event id per event, so nothing dedupes) in batches of 1, 50
  and 200 at increasing concurrency, and open-loop at 1,000 events/s.

Every cell stops after its duration (or a request count); a request is an
error when it is not 2xx or fails or takes over the timeout (5 s). After each
server is stopped the events that landed are counted in the store itself, by
the bench's session ids: lost = events in acknowledged requests that are not
stored. It writes ``bench/results/service.md`` and ``service.json`` (``--name``
picks another file name). ``--scenarios recommend-get`` trains the recommender
in the bench workspace and loads ``GET /recommend/{customer_id}`` for customers
who have ordered.

    python bench/service_bench.py [--quick] [--size small] [--workers 1,2] [--duration 5]
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import json
import os
import platform
import random
import re
import resource
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
WORK = HERE / ".work"
RESULTS = HERE / "results"
HOST = "127.0.0.1"
API = "/api/v1"
EVENT_KINDS = ("view", "view", "view", "cart", "purchase", "search")
READ_SCENARIOS = ("product-get", "customer-get", "order-get", "orders-list", "recommend-get")
DEFAULT_SCENARIOS = "product-get,customer-get,order-get,orders-list,events"
READ_TARGET_P99_MS = 20.0
EVENT_TARGET_P99_MS = 50.0
RATE_SLACK = 0.98  # an open-loop cell "sustains" its rate at >= 98 % of it (the schedule's tail)
MAX_REQUESTS = 200_000  # per closed-loop cell, on top of its duration
OPEN_CONNECTIONS = 256  # connections an open-loop cell may hold open at once
# The last line of a traceback, plain or drawn by rich (indented): "pkg.SomeError: message".
EXCEPTION_LINE = re.compile(
    r"^[\s│]*((?:[A-Za-z_]\w*\.)*[A-Za-z_]\w*(?:Error|Exception|Timeout): [^\n│]{0,80}?)[\s│]*$",
    re.MULTILINE,
)
DRAIN_S = 60.0  # at most this long waiting, between cells, for the server to be idle again


# -- the load generator (a separate process: ``--load PLAN``) ----------------------------


def _cpu_seconds(pids: list[int]) -> float | None:
    """User + system CPU seconds of these processes and their children (Linux /proc)."""
    tick = os.sysconf("SC_CLK_TCK")
    total = 0.0
    try:
        for pid in _process_tree(pids):
            with open(f"/proc/{pid}/stat", encoding="ascii") as fh:
                fields = fh.read().rsplit(")", 1)[1].split()
            total += (int(fields[11]) + int(fields[12])) / tick
    except (OSError, IndexError, ValueError):
        return None
    return total


def _process_tree(roots: list[int]) -> list[int]:
    parents: dict[int, int] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat", encoding="ascii") as fh:
                    parents[int(entry)] = int(fh.read().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
    found = [p for p in roots if p in parents]
    queue = list(found)
    while queue:
        parent = queue.pop()
        children = [p for p, pp in parents.items() if pp == parent]
        found.extend(children)
        queue.extend(children)
    return found


class Cell:
    """One measured cell: what to send, how, and what came back."""

    def __init__(self, spec: dict[str, Any], plan: dict[str, Any]) -> None:
        self.spec = spec
        self.plan = plan
        self.rng = random.Random(spec["tag"])
        self.latencies: list[float] = []
        self.lags: list[float] = []
        self.errors: Counter[str] = Counter()
        self.samples: dict[str, str] = {}
        self.ok = 0
        self.events_sent = 0
        self.events_ok = 0
        self.accepted = 0
        self.acked: list[int] = []

    def request(self, i: int, tag: str) -> tuple[str, bytes | None, int]:
        """The i-th request of this cell: (path, body or None, events in it)."""
        ids = self.plan["ids"]
        scenario = self.spec["scenario"]
        if scenario == "events":
            session = f"{self.plan['prefix']}{tag}-{i}"
            at = datetime.now(UTC).isoformat(timespec="milliseconds")
            batch = []
            for k in range(self.spec["batch"]):
                kind = self.rng.choice(EVENT_KINDS)
                event = {
                    "event_id": f"{session}-{k}",
                    "at": at,
                    "event": kind,
                    "session_id": session,
                    "customer_id": self.rng.choice(ids["customers"]),
                    "product_id": self.rng.choice(ids["products"]),
                }
                if kind == "search":
                    event["query"] = "oat milk"
                batch.append(event)
            body = json.dumps({"events": batch}, separators=(",", ":")).encode()
            return f"{API}/events", body, len(batch)
        if scenario == "orders-list":
            return f"{API}/orders?limit=20", None, 0
        if scenario == "recommend-get":
            return f"{API}/recommend/{self.rng.choice(ids['buyers'])}?n=10", None, 0
        table = scenario.split("-")[0] + "s"  # product-get -> products
        return f"{API}/{table}/{self.rng.choice(ids[table])}", None, 0

    def record(self, i: int, events: int, outcome: tuple[str, Any], latency: float) -> None:
        label, payload = outcome
        self.latencies.append(latency)
        self.events_sent += events
        if label == "ok":
            self.ok += 1
            if events:
                self.events_ok += events
                self.accepted += int(payload.get("accepted", 0))
                self.acked.append(i)
        else:
            self.errors[label] += 1
            if payload and label not in self.samples:
                self.samples[label] = str(payload)[:300]


async def _send(client: Any, path: str, body: bytes | None, timeout: float) -> tuple[str, Any]:
    """("ok", JSON body or None) or (error label, what came back)."""
    try:
        async with asyncio.timeout(timeout):
            if body is None:
                response = await client.get(path)
            else:
                response = await client.post(path, content=body)
    except TimeoutError:
        return "timeout", None
    except Exception as exc:  # every failure is counted, none stops the cell
        return type(exc).__name__, str(exc)
    if not 200 <= response.status_code < 300:
        return str(response.status_code), response.text
    if body is None:
        return "ok", None
    try:
        return "ok", response.json()
    except ValueError:
        return "bad-body", response.text


async def _closed_loop(client: Any, cell: Cell, concurrency: int, duration: float, tag: str):
    timeout = cell.plan["timeout"]
    deadline = time.perf_counter() + duration
    numbers = itertools.count()

    async def worker() -> None:
        while time.perf_counter() < deadline:
            i = next(numbers)
            if i >= MAX_REQUESTS:
                return
            path, body, events = cell.request(i, tag)
            started = time.perf_counter()
            outcome = await _send(client, path, body, timeout)
            cell.record(i, events, outcome, time.perf_counter() - started)

    await asyncio.gather(*(worker() for _ in range(concurrency)))


async def _open_loop(client: Any, cell: Cell, rate: float, duration: float, tag: str):
    """Send on schedule (request i at start + i / rate); latency counts from the schedule."""
    timeout = cell.plan["timeout"]
    count = max(1, round(rate * duration))
    start = time.perf_counter() + 0.02
    tasks = []
    in_flight = [0]

    async def one(i: int, path: str, body: bytes | None, events: int, due: float) -> None:
        cell.lags.append(time.perf_counter() - due)
        try:
            outcome = await _send(client, path, body, timeout)
            cell.record(i, events, outcome, time.perf_counter() - due)
        finally:
            in_flight[0] -= 1

    for i in range(count):
        path, body, events = cell.request(i, tag)  # built before its time comes
        due = start + i / rate
        delay = due - time.perf_counter()
        await asyncio.sleep(max(delay, 0.0))
        if in_flight[0] >= OPEN_CONNECTIONS:
            # Not sent, so as not to bury the server: an error, with no latency.
            cell.events_sent += events
            cell.errors["overload"] += 1
            continue
        in_flight[0] += 1
        tasks.append(asyncio.create_task(one(i, path, body, events, due)))
    await asyncio.gather(*tasks)


async def _drain(base_url: str) -> float:
    """Wait until the server answers readiness quickly three times in a row; seconds waited.

    A cell that overloads the server leaves it working through requests whose
    clients gave up; the next cell must not pay for them. Each check opens a new
    connection, so with several workers it can land on any of them.
    """
    import httpx

    started = time.perf_counter()
    quick = 0
    async with httpx.AsyncClient(
        base_url=base_url,
        trust_env=False,
        timeout=2.0,
        limits=httpx.Limits(max_keepalive_connections=0),
    ) as client:
        while quick < 3 and time.perf_counter() - started < DRAIN_S:
            asked = time.perf_counter()
            try:
                answered = (await client.get(f"{API}/ready")).status_code == 200
            except httpx.HTTPError:
                answered = False
            fast = answered and time.perf_counter() - asked < 0.1
            quick = quick + 1 if fast else 0
            await asyncio.sleep(0.05 if fast else 0.25)
    return time.perf_counter() - started


async def _run_cell(spec: dict[str, Any], plan: dict[str, Any]) -> dict[str, Any]:
    import httpx
    import numpy as np

    cell = Cell(spec, plan)
    token = plan["tokens"]["operator" if spec["scenario"] == "events" else "reader"]
    closed = spec["mode"] == "closed"
    connections = spec["concurrency"] if closed else OPEN_CONNECTIONS
    client = httpx.AsyncClient(
        base_url=plan["base_url"],
        headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
        limits=httpx.Limits(max_connections=connections, max_keepalive_connections=connections),
        timeout=httpx.Timeout(plan["timeout"]),
        trust_env=False,  # no proxies: loopback only
    )
    async with client:
        # Warm up (connections, key caches, first queries); not measured.
        warm = Cell(spec, plan)
        warm_for = min(0.5, spec["duration"] / 4)
        await _closed_loop(client, warm, min(connections, 8), warm_for, spec["tag"] + "w")
        cpu_client = resource.getrusage(resource.RUSAGE_SELF)
        cpu_server = _cpu_seconds(plan["server_pids"])
        started = time.perf_counter()
        if closed:
            await _closed_loop(client, cell, spec["concurrency"], spec["duration"], spec["tag"])
        else:
            await _open_loop(client, cell, spec["rate"], spec["duration"], spec["tag"])
        elapsed = time.perf_counter() - started
        after = resource.getrusage(resource.RUSAGE_SELF)
        server_after = _cpu_seconds(plan["server_pids"])
    client_cpu = (after.ru_utime + after.ru_stime) - (cpu_client.ru_utime + cpu_client.ru_stime)
    server_cpu = None if cpu_server is None or server_after is None else server_after - cpu_server
    ms = np.asarray(cell.latencies, dtype=float) * 1000
    p50, p99 = (float(v) for v in np.percentile(ms, [50, 99])) if len(ms) else (None, None)
    lag99 = float(np.percentile(np.asarray(cell.lags) * 1000, 99)) if cell.lags else None
    return {
        **spec,
        "requests": len(cell.latencies),
        "ok": cell.ok,
        "errors": sum(cell.errors.values()),
        "error_kinds": dict(cell.errors),
        "error_samples": cell.samples,
        "seconds": elapsed,
        "rps": cell.ok / elapsed,
        "p50_ms": p50,
        "p99_ms": p99,
        "max_ms": float(ms.max()) if len(ms) else None,
        "send_lag_p99_ms": lag99,
        "client_cpu_pct": 100 * client_cpu / elapsed,
        "server_cpu_pct": None if server_cpu is None else 100 * server_cpu / elapsed,
        "events_sent": cell.events_sent,
        "events_ok": cell.events_ok,
        "events_accepted": cell.accepted,
        "events_per_s": cell.events_ok / elapsed,
        "acked": cell.acked,
        "drain_s": await _drain(plan["base_url"]),
    }


async def _run_plan(plan: dict[str, Any]) -> list[dict[str, Any]]:
    out = []
    for spec in plan["cells"]:
        result = await _run_cell(spec, plan)
        load = f"c={spec['concurrency']}" if spec["mode"] == "closed" else f"{spec['rate']:g}/s"
        batch = f" batch {spec['batch']}" if spec["scenario"] == "events" else ""
        print(
            f"  w{plan['workers']} {spec['scenario']}{batch} {spec['mode']} {load}: "
            f"{result['rps']:,.0f} req/s, p50 {result['p50_ms']:.1f} ms, "
            f"p99 {result['p99_ms']:.1f} ms, errors {result['errors']}",
            file=sys.stderr,
            flush=True,
        )
        out.append(result)
    return out


def load_main(plan_file: Path) -> None:
    plan = json.loads(plan_file.read_text(encoding="utf-8"))
    results = asyncio.run(_run_plan(plan))
    Path(plan["out"]).write_text(json.dumps(results), encoding="utf-8")


# -- the orchestrator ---------------------------------------------------------------------


def _bin(name: str) -> str:
    here = Path(sys.executable).parent / name
    return str(here) if here.exists() else name


def build_shop(size: str) -> tuple[Path, dict[str, Any]]:
    """A fresh workspace holding the demo shop of ``size``."""
    root = WORK / f"service-{size}"
    shutil.rmtree(root, ignore_errors=True)
    root.parent.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    done = subprocess.run(
        [_bin("shopkeeper"), "demo", "--no-serve", "--json", "--size", size, "-w", str(root)],
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        raise SystemExit(f"shopkeeper demo failed:\n{done.stdout[-2000:]}{done.stderr[-3000:]}")
    print(f"demo shop ({size}) built in {time.perf_counter() - started:.0f} s", flush=True)
    return root, json.loads(done.stdout)


def train_recommender(root: Path) -> None:
    """``shopkeeper train recommend`` in the bench workspace (what the route serves)."""
    started = time.perf_counter()
    done = subprocess.run(
        [_bin("shopkeeper"), "train", "recommend", "--json", "-w", str(root)],
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        raise SystemExit(f"train recommend failed:\n{done.stdout[-2000:]}{done.stderr[-3000:]}")
    print(f"recommender trained in {time.perf_counter() - started:.0f} s", flush=True)


def prepare(root: Path) -> tuple[dict[str, str], dict[str, list[str]], str]:
    """Keys (reader, operator), a sample of stored ids, and the database URL."""
    from sqlalchemy import text

    from shopkeeper.access import create_key
    from shopkeeper.store import Store
    from shopkeeper.workspace import Workspace

    ws = Workspace.resolve(root)
    store = Store.open(ws)
    tokens = {role: create_key(store, f"bench {role}", role)[1] for role in ("reader", "operator")}
    ids = {}
    with store.engine.connect() as conn:
        for table, column in (
            ("products", "product_id"),
            ("customers", "customer_id"),
            ("orders", "order_id"),
        ):
            query = text(f"SELECT {column} FROM {table} ORDER BY random() LIMIT 5000")
            ids[table] = [str(v) for v in conn.execute(query).scalars()]
            if not ids[table]:
                raise SystemExit(f"the demo shop has no {table}")
        buyers = text(
            "SELECT customer_id FROM (SELECT DISTINCT customer_id FROM orders "
            "WHERE customer_id IS NOT NULL) AS b ORDER BY random() LIMIT 5000"
        )
        ids["buyers"] = [str(v) for v in conn.execute(buyers).scalars()]
    store.engine.dispose()
    return tokens, ids, ws.database_url


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((HOST, 0))
        return int(sock.getsockname()[1])


def start_server(root: Path, workers: int, port: int, log: Path) -> subprocess.Popen[bytes]:
    import httpx

    with open(log, "wb") as fh:
        command = [_bin("shopkeeper"), "serve", "--host", HOST, "--port", str(port)]
        command += ["--workers", str(workers), "-w", str(root)]
        proc = subprocess.Popen(
            command,
            stdout=fh,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group, so that it can be stopped whole
        )
    deadline = time.monotonic() + 90
    url = f"http://{HOST}:{port}{API}/ready"
    with httpx.Client(trust_env=False, timeout=2) as client:
        while time.monotonic() < deadline:
            if proc.poll() is not None:
                raise SystemExit(f"the server exited ({proc.returncode}):\n{_tail(log)}")
            try:
                if client.get(url).status_code == 200:
                    return proc
            except httpx.HTTPError:
                pass
            time.sleep(0.2)
    stop_server(proc)
    raise SystemExit(f"the server was not ready within 90 s:\n{_tail(log)}")


def stop_server(proc: subprocess.Popen[bytes]) -> int | None:
    """Terminate, wait, kill (its process group) on timeout; the exit status."""
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=10)
    return proc.returncode


def _tail(path: Path, chars: int = 3000) -> str:
    return path.read_text(encoding="utf-8", errors="replace")[-chars:]


def plan_cells(args: argparse.Namespace, workers: int) -> list[dict[str, Any]]:
    cells = []
    d = args.duration
    for scenario in (s for s in READ_SCENARIOS if s in args.scenarios):
        for c in args.concurrency:
            cells.append({"scenario": scenario, "mode": "closed", "concurrency": c})
        cells.append({"scenario": scenario, "mode": "open", "rate": args.read_rate})
    for batch in args.batches if "events" in args.scenarios else []:
        for c in args.concurrency:
            cells.append({"scenario": "events", "mode": "closed", "concurrency": c, "batch": batch})
    for batch in args.open_batches if "events" in args.scenarios else []:
        rate = args.event_rate / batch
        cells.append({"scenario": "events", "mode": "open", "rate": rate, "batch": batch})
    for n, cell in enumerate(cells):
        cell.update(workers=workers, duration=d, tag=f"w{workers}c{n:02d}")
        cell.setdefault("batch", 0)
        cell.setdefault("concurrency", None)
        cell.setdefault("rate", None)
    return cells


def count_stored(url: str, prefix: str) -> dict[str, int]:
    """Stored events per bench session id (``prefix...``), counted in the store itself."""
    from sqlalchemy import text

    from shopkeeper.store import Store

    store = Store(url)
    query = text(
        "SELECT session_id, COUNT(*) FROM events WHERE session_id LIKE :p GROUP BY session_id"
    )
    with store.engine.connect() as conn:
        found = {str(s): int(n) for s, n in conn.execute(query, {"p": prefix + "%"})}
    store.engine.dispose()
    return found


def settle_events(results: list[dict[str, Any]], stored: dict[str, int], prefix: str) -> None:
    """Per event cell: stored, lost (acknowledged but not stored), extra (stored, not acked)."""
    per_cell: dict[str, dict[int, int]] = {}
    for session, n in stored.items():
        tag, _, number = session[len(prefix) :].rpartition("-")
        if number.isdigit():
            per_cell.setdefault(tag, {})[int(number)] = n
    for r in results:
        acked = r.pop("acked")
        if r["scenario"] != "events":
            continue
        mine = per_cell.get(r["tag"], {})
        landed_acked = sum(min(mine.get(i, 0), r["batch"]) for i in acked)
        r["events_stored"] = sum(mine.values())
        r["events_lost"] = r["events_ok"] - landed_acked
        r["events_extra"] = r["events_stored"] - landed_acked


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="smoke test: small shop, 2 s cells")
    parser.add_argument("--size", help="demo shop size (default: default; small with --quick)")
    parser.add_argument("--duration", type=float, help="seconds per cell (5; 2 with --quick)")
    parser.add_argument("--workers", default="1,2", help="server worker counts")
    parser.add_argument("--concurrency", default="1,8,32", help="closed-loop concurrencies")
    parser.add_argument("--read-rate", type=float, default=200.0, help="open-loop reads/s")
    parser.add_argument("--event-rate", type=float, default=1000.0, help="open-loop events/s")
    parser.add_argument("--batches", default="1,50,200", help="closed-loop event batch sizes")
    parser.add_argument("--open-batches", default="50,200", help="open-loop event batch sizes")
    parser.add_argument("--timeout", type=float, default=5.0, help="seconds before a request fails")
    parser.add_argument(
        "--scenarios",
        default=DEFAULT_SCENARIOS,
        help=f"comma-separated, of {', '.join(READ_SCENARIOS)}, events; recommend-get trains "
        "the recommender first",
    )
    parser.add_argument(
        "--name", default="service", help="results file name (bench/results/NAME.md, .json)"
    )
    parser.add_argument("--load", type=Path, help=argparse.SUPPRESS)  # the load process
    args = parser.parse_args()
    if args.load:
        load_main(args.load)
        return
    args.size = args.size or ("small" if args.quick else "default")
    args.duration = args.duration or (2.0 if args.quick else 5.0)
    args.scenarios = [v for v in args.scenarios.split(",") if v]
    ints = ("workers", "concurrency", "batches", "open_batches")
    for name in ints:
        setattr(args, name, [int(v) for v in str(getattr(args, name)).split(",") if v])

    started = time.perf_counter()
    root, demo = build_shop(args.size)
    if "recommend-get" in args.scenarios:
        train_recommender(root)
    tokens, ids, url = prepare(root)
    prefix = f"bench{secrets.token_hex(3)}-"
    results: list[dict[str, Any]] = []
    servers = []
    for workers in args.workers:
        port = free_port()
        log = WORK / f"service-server-w{workers}.log"
        proc = start_server(root, workers, port, log)
        print(f"server: {workers} worker(s) on {HOST}:{port} (pid {proc.pid})", flush=True)
        cells = plan_cells(args, workers)
        out = WORK / f"service-load-w{workers}.json"
        out.unlink(missing_ok=True)
        plan = {
            "workers": workers,
            "base_url": f"http://{HOST}:{port}",
            "tokens": tokens,
            "ids": ids,
            "prefix": prefix,
            "timeout": args.timeout,
            "server_pids": [proc.pid],
            "cells": cells,
            "out": str(out),
        }
        plan_file = WORK / f"service-plan-w{workers}.json"
        plan_file.write_text(json.dumps(plan), encoding="utf-8")
        budget = sum(c["duration"] + 2 * args.timeout + 5 + DRAIN_S for c in cells) + 60
        try:
            subprocess.run(
                [sys.executable, __file__, "--load", str(plan_file)],
                check=True,
                timeout=budget,
                env={**os.environ, "OPENBLAS_NUM_THREADS": "1"},
            )
        except (subprocess.CalledProcessError, subprocess.TimeoutExpired) as exc:
            stop_server(proc)
            raise SystemExit(f"the load process failed: {exc}") from exc
        finally:
            code = stop_server(proc)
        text = log.read_text(encoding="utf-8", errors="replace")
        servers.append(
            {
                "workers": workers,
                "exit_status": code,
                "tracebacks": text.count("Traceback (most recent call last)"),
                "exceptions": dict(Counter(EXCEPTION_LINE.findall(text))),
                "killed": code == -signal.SIGKILL,
                "log_tail": text[-1500:],
            }
        )
        results.extend(json.loads(out.read_text(encoding="utf-8")))
    settle_events(results, count_stored(url, prefix), prefix)
    meta = {
        "python": platform.python_version(),
        "machine": f"{os.cpu_count()} cores, {platform.machine()}",
        "date": time.strftime("%Y-%m-%d"),
        "size": args.size,
        "duration_s": args.duration,
        "timeout_s": args.timeout,
        "quick": args.quick,
        "command": "python bench/service_bench.py " + " ".join(sys.argv[1:]),
        "name": args.name,
        "shop": demo.get("store", {}).get("counts", {}),
        "database": url.split(":", 1)[0],
        "minutes": (time.perf_counter() - started) / 60,
    }
    write_results(meta, results, servers, verdicts(args, results))


# -- the report ---------------------------------------------------------------------------


def verdicts(args: argparse.Namespace, results: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Each target, per worker count, judged from the measured numbers."""
    out = []
    for workers in args.workers:
        mine = [r for r in results if r["workers"] == workers]
        reads = [r for r in mine if r["scenario"] != "events" and r["mode"] == "open"]
        for r in reads:
            sustained = r["rps"] >= RATE_SLACK * r["rate"]
            ok = sustained and r["errors"] == 0 and r["p99_ms"] < READ_TARGET_P99_MS
            out.append(
                {
                    "workers": workers,
                    "group": "reads",
                    "target": f"{r['scenario']} p99 < {READ_TARGET_P99_MS:g} ms "
                    f"at {r['rate']:g} req/s",
                    "measured": f"{r['rps']:,.0f} req/s, p99 {r['p99_ms']:.1f} ms, "
                    f"{r['errors']} errors",
                    "pass": ok,
                }
            )
        events = [r for r in mine if r["scenario"] == "events"]
        if not events:
            continue  # a run of read scenarios only
        for r in (e for e in events if e["mode"] == "open"):
            target = r["rate"] * r["batch"]
            ok = (
                r["events_per_s"] >= RATE_SLACK * target
                and r["errors"] == 0
                and r["p99_ms"] < EVENT_TARGET_P99_MS
                and r["events_lost"] == 0
            )
            out.append(
                {
                    "workers": workers,
                    "group": "events",
                    "batch": r["batch"],
                    "target": f"events >= {target:,.0f}/s, p99 < {EVENT_TARGET_P99_MS:g} ms, "
                    f"none lost (batch {r['batch']}, open loop)",
                    "measured": f"{r['events_per_s']:,.0f} events/s, p99 {r['p99_ms']:.1f} ms, "
                    f"{r['errors']} errors, {r['events_lost']} lost",
                    "pass": ok,
                }
            )
        within = [r for r in events if r["mode"] == "closed" and r["p99_ms"] < EVENT_TARGET_P99_MS]
        best = max(within, key=lambda r: r["events_per_s"], default=None)
        out.append(
            {
                "workers": workers,
                "group": "capacity",
                "target": f"closed-loop capacity >= {args.event_rate:,.0f} events/s "
                f"within p99 < {EVENT_TARGET_P99_MS:g} ms",
                "measured": "no closed-loop cell had p99 under the bound"
                if best is None
                else f"{best['events_per_s']:,.0f} events/s (batch {best['batch']}, "
                f"c={best['concurrency']}, p99 {best['p99_ms']:.1f} ms)",
                "pass": best is not None and best["events_per_s"] >= args.event_rate,
            }
        )
        lost = sum(r["events_lost"] for r in events)
        out.append(
            {
                "workers": workers,
                "group": "lost",
                "target": "zero lost events (every cell)",
                "measured": f"{lost} lost of {sum(r['events_ok'] for r in events):,} acknowledged",
                "pass": lost == 0,
            }
        )
    return out


def summary(judged: list[dict[str, Any]]) -> list[str]:
    """One plain sentence per worker count, from the verdicts."""
    out = []
    for workers in dict.fromkeys(v["workers"] for v in judged):
        mine = [v for v in judged if v["workers"] == workers]
        reads = [v for v in mine if v["group"] == "reads"]
        passed = [v for v in reads if v["pass"]]
        events = [v for v in mine if v["group"] == "events"]
        met = [str(v["batch"]) for v in events if v["pass"]]
        lost = all(v["pass"] for v in mine if v["group"] == "lost")
        read_text = (
            "met by every read endpoint"
            if reads and len(passed) == len(reads)
            else f"NOT met: {len(passed)} of {len(reads)} read endpoints pass"
        )
        event_text = (f"met with batches of {', '.join(met)}" if met and lost else "NOT met") + (
            "" if lost else " (events were lost)"
        )
        if not events and not any(v["group"] == "lost" for v in mine):
            out.append(f"- **{workers} worker(s)**: reads target {read_text} (no event cells).")
            continue
        out.append(
            f"- **{workers} worker(s)**: reads target {read_text}; events target {event_text}."
        )
    return out


def _load(r: dict[str, Any]) -> str:
    return f"closed, c={r['concurrency']}" if r["mode"] == "closed" else f"open, {r['rate']:g}/s"


def _ms(value: float | None) -> str:
    return "-" if value is None else f"{value:.1f}"


def _pct(value: float | None) -> str:
    return "-" if value is None else f"{value:.0f}"


def _errors(r: dict[str, Any]) -> str:
    if not r["errors"]:
        return "0"
    kinds = ", ".join(f"{k}: {n}" for k, n in sorted(r["error_kinds"].items()))
    return f"**{r['errors']}** ({kinds})"


def write_results(
    meta: dict[str, Any],
    results: list[dict[str, Any]],
    servers: list[dict[str, Any]],
    judged: list[dict[str, Any]],
) -> None:
    RESULTS.mkdir(exist_ok=True)
    payload = {"meta": meta, "results": results, "servers": servers, "targets": judged}
    name = meta.get("name", "service")
    (RESULTS / f"{name}.json").write_text(json.dumps(payload, indent=2) + "\n", encoding="utf-8")
    shop = meta["shop"]
    counts = ", ".join(f"{shop[t]:,} {t}" for t in ("products", "customers", "orders") if t in shop)
    lines = [
        "# Service benchmark",
        "",
        f"Written by `{meta['command'].strip()}`; do not edit by hand.",
        f"Measured {meta['date']} on {meta['machine']}, Python {meta['python']}, "
        f"{meta['database']} store; the whole run took {meta['minutes']:.1f} min.",
    ]
    if meta["quick"]:
        lines += ["", "**A `--quick` smoke test (small shop, short cells): not a measurement.**"]
    lines += [
        "",
        f"The demo shop (`{meta['size']}`: {counts}) in a fresh workspace, served by "
        "`shopkeeper serve --workers N` on 127.0.0.1; the load comes from a second Python",
        "process on the same machine (asyncio, `httpx.AsyncClient`, keep-alive) and shares "
        "its cores.",
        f"Each cell runs {meta['duration_s']:g} s after a short unmeasured warm-up. "
        "**closed, c=N**: N clients, each sending its next request when the last is answered.",
        "**open, R/s**: requests sent on a fixed schedule whatever the server does; latency "
        "counts from the scheduled time (no coordinated omission).",
        "Throughput counts successful requests (events in them) per second. p50/p99 are over "
        f"every request, failed ones included; an error is a non-2xx answer, a failure or over "
        f"{meta['timeout_s']:g} s.",
        "CPU % is CPU time over the cell's wall time (100 = one core): the load process's "
        "own, and the server's (all its processes).",
        "*send lag* (open loop) is how late the load process started requests against their "
        "schedule: when it is large, the client (or the machine) could not keep up.",
        f"An open-loop cell keeps at most {OPEN_CONNECTIONS} requests in flight; one due beyond "
        "that is not sent and counts as an `overload` error (with no latency).",
        "",
        "## Reads",
        "",
        "| workers | scenario | load | req/s | p50 ms | p99 ms | errors | send lag p99 ms "
        "| client CPU % | server CPU % |",
        "|---:|---|---|---:|---:|---:|---|---:|---:|---:|",
    ]
    for r in results:
        if r["scenario"] == "events":
            continue
        lines.append(
            f"| {r['workers']} | {r['scenario']} | {_load(r)} | {r['rps']:,.0f} "
            f"| {_ms(r['p50_ms'])} | {_ms(r['p99_ms'])} | {_errors(r)} "
            f"| {_ms(r['send_lag_p99_ms'])} | {_pct(r['client_cpu_pct'])} "
            f"| {_pct(r['server_cpu_pct'])} |"
        )
    if any(r["scenario"] == "events" for r in results):
        lines += [
            "",
            "## Event ingestion (`POST /api/v1/events`)",
            "",
            "Every event unique (its own event id, one session id per request). *stored* is "
            "counted in the store after the server stopped; *lost* = events in acknowledged "
            "requests that are not stored.",
            "",
            "| workers | batch | load | events/s | req/s | p50 ms | p99 ms | errors | sent "
            "| accepted | stored | lost | send lag p99 ms | client CPU % | server CPU % |",
            "|---:|---:|---|---:|---:|---:|---:|---|---:|---:|---:|---:|---:|---:|---:|",
        ]
        for r in results:
            if r["scenario"] != "events":
                continue
            load = (
                _load(r)
                if r["mode"] == "closed"
                else f"open, {r['rate'] * r['batch']:,.0f} events/s"
            )
            lines.append(
                f"| {r['workers']} | {r['batch']} | {load} | {r['events_per_s']:,.0f} "
                f"| {r['rps']:,.0f} | {_ms(r['p50_ms'])} | {_ms(r['p99_ms'])} | {_errors(r)} "
                f"| {r['events_sent']:,} | {r['events_accepted']:,} | {r['events_stored']:,} "
                f"| {r['events_lost']:,} | {_ms(r['send_lag_p99_ms'])} "
                f"| {_pct(r['client_cpu_pct'])} "
                f"| {_pct(r['server_cpu_pct'])} |"
            )
    extra = [r for r in results if r.get("events_extra")]
    if extra:
        lines += [
            "",
            "Stored although the client counted the request as failed (it timed out, or the "
            "connection broke, after the server had committed): "
            + "; ".join(
                f"{r['workers']} worker(s), batch {r['batch']}, {_load(r)}: "
                f"{r['events_extra']:,} events"
                for r in extra
            )
            + ".",
        ]
    lines += [
        "",
        "## Against the target",
        "",
        "The targets (for a 2-core machine): event ingestion of at least 1,000 "
        "events/s with p99 under 50 ms and zero lost events; read endpoints, a customer's "
        "recommendations included, p99 under 20 ms "
        f"at 200 requests/s. This machine has {meta['machine']}. An open-loop cell sustains "
        f"its rate when it achieved at least {RATE_SLACK:.0%} of it.",
        "",
        "| workers | target | measured | verdict |",
        "|---:|---|---|---|",
    ]
    for v in judged:
        verdict = "pass" if v["pass"] else "**FAIL**"
        lines.append(f"| {v['workers']} | {v['target']} | {v['measured']} | {verdict} |")
    lines += ["", *summary(judged)]
    notes = []
    for s in servers:
        if s["tracebacks"] or s["exit_status"] not in (0, -signal.SIGTERM, None):
            kinds = ", ".join(f"{k} x{n}" for k, n in sorted(s["exceptions"].items()))
            notes.append(
                f"- server with {s['workers']} worker(s): exit status {s['exit_status']}, "
                f"{s['tracebacks']} traceback(s) in its log ({kinds or 'see service.json'})"
                + (
                    "; it did not stop within 20 s of SIGTERM and was killed."
                    if s["killed"]
                    else "."
                )
            )
    for r in results:
        if r["drain_s"] > 2:
            what = r["scenario"] + (f" batch {r['batch']}" if r["scenario"] == "events" else "")
            notes.append(
                f"- after {r['workers']} worker(s), {what}, {_load(r)}, the server took "
                f"{r['drain_s']:.0f} s to answer readiness promptly again (still working "
                "through requests whose clients had given up)."
            )
    samples = {(r["workers"], k): v for r in results for k, v in r["error_samples"].items() if v}
    for (workers, kind), text in list(samples.items())[:6]:
        notes.append(f"- {workers} worker(s), `{kind}`: {text[:200]!r}")
    if notes:
        lines += ["", "## Notes", "", *notes]
    (RESULTS / f"{name}.md").write_text("\n".join(lines) + "\n", encoding="utf-8")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
