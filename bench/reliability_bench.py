"""Reliability benchmark: SIGKILL at random moments, concurrent writers, damaged artifacts.

The checks of ``tests/reliability`` (same harness: ``tests/reliability/harness.py``),
run many more times, with real processes only:

- ingest kills: ``shopkeeper ingest`` of a demo shop's files (about 52,000
  rows) into a SQLite store already holding a smaller shop; half the kills
  on a plain load (upserts on top), half on ``--replace``; in each, half at
  a random moment of the run (30% to 105% of a whole run's time) and half
  aimed at the load's transaction (a random moment after it takes SQLite's
  write lock). Afterwards the store must equal the state before the load
  (``Store.checksums``, byte for byte) or the complete load (the tables as
  read back) with ``ingest_runs`` agreeing, and pass SQLite's
  ``integrity_check``; anything else counts as *other*. Just before each
  kill the bench notes whether the load held the write lock.
- server kills: ``shopkeeper serve`` on SQLite, two client threads posting
  batches of 50 events, SIGKILL after 0.2 to 1.5 s, restart, repeat. Lost =
  events of acknowledged (2xx) batches that the store does not hold; partial
  = batches stored in part.
- concurrent writers: client processes posting at once to one server with
  ``--workers 2`` and to two servers, on SQLite (WAL) and, when
  ``SHOPKEEPER_BENCH_DATABASE_URL`` or ``SHOPKEEPER_TEST_DATABASE_URL`` is
  set, on PostgreSQL.
- damaged artifacts: each way of damaging a run's artifact, with and without
  an earlier run to fall back on, asked of the service (in process) and of
  the CLI (``shopkeeper pricing elasticity`` in its own process).

Writes ``bench/results/reliability.md``.

    python bench/reliability_bench.py [--ingest-kills 100] [--server-kills 100] [--quick]
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import platform
import random
import subprocess
import sys
import tempfile
import time
import uuid
from collections import Counter
from datetime import date
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))  # the harness lives with the tests it serves

from tests.reliability import harness as h  # noqa: E402

OUT = REPO / "bench" / "results" / "reliability.md"
# Unaimed ingest kills: a random moment in this share of a whole run's time.
LOW, HIGH = 0.3, 1.05
STATES = ("before", "complete", "other")


# -- ingest kills -------------------------------------------------------------------------


def ingest_kills(work: Path, kills: int, rng: random.Random) -> list[dict[str, Any]]:
    base = h.write_demo_files(work / "base", customers=150, products=120, days=60, seed=11)
    load = h.write_demo_files(work / "load", customers=600, products=150, days=120, seed=3)
    template = h.sqlite_place(work / "template")
    h.load_in_process(template, base)
    rows = []
    cells = [(replace, aimed) for replace in (False, True) for aimed in (False, True)]
    for i, (replace, aimed) in enumerate(cells):
        count = kills // len(cells) + (1 if i < kills % len(cells) else 0)
        if count == 0:
            continue
        mode = "replacing load" if replace else "load on top"
        slot = work / ("replace" if replace else "plain")

        def fresh(name: str, slot: Path = slot) -> h.Place:
            return h.copy_sqlite_place(template, slot / "copy")

        rig = h.IngestRig(load, fresh, replace=replace)
        rig.prepare()
        window = rig.write_window or (0.0, 0.0)
        print(
            f"{mode}: a whole run takes {rig.seconds:.2f} s, "
            f"its transaction {window[0]:.2f} to {window[1]:.2f} s",
            flush=True,
        )
        results = []
        for n in range(count):
            found = (
                rig.kill_once(rng, in_transaction=True)
                if aimed
                else rig.kill_once(rng, low=LOW, high=HIGH)
            )
            results.append(found)
            print(f"  {mode} kill {n + 1}/{count} at {found.at:.2f} s: {found.state}", flush=True)
        recovered = results[-1].place is not None and rig.finish(results[-1].place)
        rows.append(
            {
                "mode": mode,
                "aim": "the transaction" if aimed else f"{LOW:.0%} to {HIGH:.0%} of the run",
                "seconds": rig.seconds,
                "window": window,
                "kills": len(results),
                "states": Counter(k.state for k in results),
                "writing": sum(bool(k.writing) for k in results),
                "exited_first": sum(k.exited_first for k in results),
                "integrity_ok": sum(k.integrity == "ok" for k in results),
                "recovered": recovered,
            }
        )
    return rows


# -- server kills -------------------------------------------------------------------------


def server_kills(work: Path, kills: int, rng: random.Random) -> dict[str, Any]:
    place = h.sqlite_place(work / "ws")
    token = h.operator_token(place)
    log = work / "server.log"
    totals: Counter[str] = Counter()
    statuses: Counter[int] = Counter()
    unsound = 0
    for n in range(kills):
        found = h.kill_server_once(place, token, log, rng, f"r{n}", low=0.2, high=1.5)
        a = found.audit
        unsound += not a.sound
        statuses.update(found.statuses)
        totals.update(
            {
                "batches": a.batches,
                "acked_batches": a.acked_batches,
                "acked_events": a.acked_events,
                "lost_events": a.lost_events,
                "partial_batches": a.partial_batches,
                "unacked": a.batches - a.acked_batches,
                "unacked_stored": a.unacked_stored,
                "strangers": a.strangers,
                "integrity_ok": a.integrity == "ok",
            }
        )
        print(
            f"  server kill {n + 1}/{kills} at {found.at:.2f} s: {a.acked_events} acked, "
            f"{a.lost_events} lost, {a.partial_batches} partial",
            flush=True,
        )
    # After every kill, one more start: the store still takes and keeps events.
    ledger = h.Ledger()
    server = h.Server(place, log)
    server.start()
    try:
        batch = h.event_batch("afterb0", 10, rng)
        ledger.record("afterb0", 10, h.post(server.base, token, batch))
    finally:
        server.stop()
    after = h.audit(place, ledger, "afterb%")
    return {
        "kills": kills,
        "totals": totals,
        "statuses": statuses,
        "unsound": unsound,
        "after_ok": after.sound and after.acked_events == 10,
    }


# -- concurrent writers -----------------------------------------------------------------


def concurrent(work: Path, rounds: int, pg_url: str | None) -> list[dict[str, Any]]:
    backends = ["sqlite"] + (["postgresql"] if pg_url else [])
    shapes = [(1, 2), (2, 1)]  # (servers, workers each)
    rows = []
    for backend, (servers, workers), start in itertools.product(
        backends, shapes, ("empty", "holding events")
    ):
        for n in range(rounds):
            root = work / f"{backend}-{servers}x{workers}-{start[:5]}-{n}"
            schema = None
            if backend == "sqlite":
                place = h.sqlite_place(root)
            else:
                assert pg_url is not None
                schema = f"rel_{uuid.uuid4().hex[:12]}"
                place = h.pg_place(root, pg_url, schema)
            try:
                token = h.operator_token(place)
                if start != "empty":
                    h.seed_events(place, root / "seed")
                found = h.concurrent_writers(
                    place,
                    token,
                    root / "server.log",
                    "w",
                    servers=servers,
                    workers=workers,
                    clients=4,
                    batches=25,
                    size=50,
                )
            finally:
                if schema is not None and pg_url is not None:
                    h.drop_pg_schema(pg_url, schema)
            a = found.audit
            rows.append(
                {
                    "backend": backend,
                    "start": start,
                    "servers": servers,
                    "workers": workers,
                    "clients": found.clients,
                    "requests": sum(found.statuses.values()),
                    "acked_events": a.acked_events,
                    "lost": a.lost_events,
                    "partial": a.partial_batches,
                    "busy": found.statuses.get(503, 0),
                    "failed": sum(
                        v for k, v in found.statuses.items() if not 200 <= k < 300 and k != 503
                    ),
                    "events_per_s": a.acked_events / found.seconds if found.seconds else 0.0,
                    "integrity": a.integrity,
                }
            )
            print(f"  concurrent {backend} {servers}x{workers} #{n + 1}: {rows[-1]}", flush=True)
    return rows


# -- damaged artifacts ------------------------------------------------------------------


def artifact_cases(work: Path) -> list[dict[str, Any]]:
    """Every damage, with and without an earlier run, through the service and the CLI."""
    from fastapi.testclient import TestClient
    from tests.pricing import synthetic

    from shopkeeper import jobs
    from shopkeeper.access import create_key
    from shopkeeper.errors import ArtifactError
    from shopkeeper.pricing import PricingSettings, analyse
    from shopkeeper.pricing._analysis import ARTIFACT
    from shopkeeper.service import create_app
    from shopkeeper.store import Store
    from shopkeeper.workspace import Workspace

    analysis = analyse(None, PricingSettings(folds=2), panel=synthetic.panel(stores=12, weeks=16))

    def run(ctx: jobs.JobContext) -> jobs.JobOutcome:
        analysis.save(ctx.artifact_dir / ARTIFACT)
        (ctx.artifact_dir / h.NOTES).write_text("a second file, checked as well\n")
        return jobs.JobOutcome({})

    real = jobs.job_kind("pricing")
    jobs._KINDS["pricing"] = jobs.JobKind("pricing", real.description, run)
    rows = []
    try:
        for damage, hurt in h.DAMAGE.items():
            for earlier in (True, False):
                root = work / f"case-{len(rows)}"
                ws = Workspace(root, f"sqlite:///{root / 'shop.db'}")
                ws.models_dir.mkdir(parents=True)
                store = Store(ws.database_url)
                store.create()
                first = jobs.run_job(store, ws, "pricing").job_id if earlier else None
                second = jobs.run_job(store, ws, "pricing").job_id
                path = ws.models_dir / "pricing" / second / ARTIFACT
                hurt(path)
                try:
                    jobs.current_artifact(ws, "pricing")
                    detected = False
                except ArtifactError:
                    detected = True
                token = create_key(store, "bench", "reader")[1]
                with TestClient(create_app(ws, store=store)) as client:
                    answer = client.get(
                        "/api/v1/pricing/elasticities",
                        headers={"Authorization": f"Bearer {token}"},
                    )
                served = answer.json().get("job") if answer.status_code == 200 else None
                env = {k: v for k, v in os.environ.items() if k != "SHOPKEEPER_DATABASE_URL"}
                cli = subprocess.run(
                    h.shopkeeper("pricing", "elasticity", "--json", "-w", str(root)),
                    capture_output=True,
                    env=env,
                    timeout=300,
                )
                said = json.loads(cli.stdout or b"{}")
                named = str(path) in str(said.get("error", "")) or str(path.parent) in str(
                    said.get("error", "")
                )
                if earlier:
                    right = answer.status_code == 200 and served == first and cli.returncode == 0
                else:
                    right = detected and answer.status_code == 503 and cli.returncode == 2 and named
                rows.append(
                    {
                        "damage": damage,
                        "earlier": earlier,
                        "api": answer.status_code,
                        "served": "the earlier run" if served and served == first else "-",
                        "cli": cli.returncode,
                        "cli_names_file": named,
                        "right": right,
                    }
                )
                store.close()
                print(f"  artifact {damage}, earlier run: {earlier}: {rows[-1]}", flush=True)
    finally:
        jobs._KINDS["pricing"] = real
    return rows


# -- the report ---------------------------------------------------------------------------


def report(
    args: argparse.Namespace,
    ingest: list[dict[str, Any]],
    server: dict[str, Any] | None,
    writers: list[dict[str, Any]],
    artifacts: list[dict[str, Any]],
    seconds: float,
    pg: bool,
) -> str:
    out = [
        "# Reliability benchmark",
        "",
        "Written by `python bench/reliability_bench.py`; do not edit by hand.",
        f"Measured {date.today().isoformat()} on {os.cpu_count()} cores, {platform.machine()}, "
        f"Python {platform.python_version()}; seed {args.seed}; "
        f"the whole run took {seconds / 60:.1f} min.",
        "",
        "Every process is real (`shopkeeper ingest`, `shopkeeper serve`, client processes) "
        "and every kill is SIGKILL: no handler runs, nothing is flushed, no transaction is "
        "closed. The checks are those of `tests/reliability` (`harness.py`).",
        "",
    ]
    if ingest:
        total = sum(r["kills"] for r in ingest)
        other = sum(r["states"]["other"] for r in ingest)
        out += [
            "## Ingest killed mid-load",
            "",
            "`shopkeeper ingest` of the demo shop's files (about 52,000 rows) into a SQLite "
            "store holding a smaller shop, SIGKILLed either at a random moment of the run "
            f"({LOW:.0%} to {HIGH:.0%} of a whole run's time: reading, validating, writing or "
            "already done) or aimed at the transaction (from the moment the load takes "
            "SQLite's write lock to 20% past the time a whole load holds it). *before*: every "
            "contract table byte for byte as before the load and no `ingest_runs` row added; "
            "*complete*: every table as after a whole load, one row added; *other*: anything "
            "else, or a failed `integrity_check`. *inside the transaction*: the load held the "
            "write lock at the kill. *reloads*: the same load run again on the store the last "
            "kill left ends complete.",
            "",
            "| load | kill | whole run s | its transaction s | kills | before | complete | other "
            "| inside the transaction | finished before the kill | integrity ok | reloads |",
            "|---|---|---:|---|---:|---:|---:|---:|---:|---:|---:|---|",
        ]
        for r in ingest:
            s = r["states"]
            w = r["window"]
            out.append(
                f"| {r['mode']} | {r['aim']} | {r['seconds']:.2f} | {w[0]:.2f} to {w[1]:.2f} | "
                f"{r['kills']} | {s['before']} | {s['complete']} | {s['other']} | "
                f"{r['writing']} | {r['exited_first']} | {r['integrity_ok']} | "
                f"{'yes' if r['recovered'] else 'NO'} |"
            )
        out += ["", f"**{total} kills, {other} left the store in another state.**", ""]
    if server is not None:
        t = server["totals"]
        out += [
            "## Service killed mid-burst",
            "",
            "`shopkeeper serve` (one process, SQLite) with two client threads posting batches "
            "of 50 events one after another, killed 0.2 to 1.5 s after it is ready, then "
            "started again for the next round. *acknowledged*: answered 202. *cut off*: sent "
            "but not answered (the kill came first); some of those were committed before the "
            "kill, which a client's retry makes harmless (an event's key makes posting it "
            "twice store it once).",
            "",
            "| kills | batches sent | acknowledged | acknowledged events | lost events "
            "| partial batches | cut off | cut off but stored | integrity ok | statuses |",
            "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|",
            f"| {server['kills']} | {t['batches']:,} | {t['acked_batches']:,} | "
            f"{t['acked_events']:,} | {t['lost_events']} | {t['partial_batches']} | "
            f"{t['unacked']} | {t['unacked_stored']} | {t['integrity_ok']} | "
            + ", ".join(
                f"{'no answer' if k == 0 else k}: {v:,}"
                for k, v in sorted(server["statuses"].items())
            )
            + " |",
            "",
            f"**{server['kills']} kills, {t['lost_events']} acknowledged events lost, "
            f"{t['partial_batches']} batches stored in part.** After the last kill the server "
            f"started again and stored a new batch: {'yes' if server['after_ok'] else 'NO'}.",
            "",
        ]
    if writers:
        out += [
            "## Concurrent writers",
            "",
            "Four client processes posting 25 batches of 50 events each, all at once, to "
            "server processes sharing one store: one `shopkeeper serve --workers 2`, or two "
            "single-worker servers. Every process writes through the same `load_frames` "
            "transaction; SQLite serialises them on its write lock (busy timeout 30 s), "
            "PostgreSQL runs them side by side."
            + ("" if pg else " PostgreSQL was not configured for this run."),
            "",
            "| store | events table | servers x workers | client processes | requests "
            "| acknowledged events | lost | partial batches | 503 busy | other non-2xx "
            "| events/s | integrity |",
            "|---|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---|",
        ]
        for r in writers:
            out.append(
                f"| {r['backend']} | {r['start']} | {r['servers']} x {r['workers']} | "
                f"{r['clients']} | {r['requests']} | {r['acked_events']:,} | {r['lost']} | "
                f"{r['partial']} | {r['busy']} | {r['failed']} | {r['events_per_s']:,.0f} | "
                f"{r['integrity']} |"
            )
        busy = sum(r["busy"] for r in writers)
        lost = sum(r["lost"] for r in writers)
        out += [
            "",
            f"**{sum(r['acked_events'] for r in writers):,} acknowledged events, {lost} lost; "
            f'{busy} requests answered 503 (nothing written, "try again").**',
        ]
        if busy:
            out += [
                "",
                "The 503s come from PostgreSQL's deadlock detector when writers start on an "
                "empty table: each sees the table empty and takes the first-load route of "
                "`store/_writer.py` (drop the indexes, insert, rebuild them), and two "
                "`DROP INDEX` in concurrent transactions deadlock. One transaction is rolled "
                "back and its request refused, so nothing acknowledged is lost, but a client "
                "must retry (see docs/reliability.md).",
            ]
        out.append("")
    if artifacts:
        right = sum(r["right"] for r in artifacts)
        out += [
            "## Damaged artifacts",
            "",
            "Two `pricing` runs through the job runner (each writes its artifact and a second "
            "file, then its SHA-256 manifest, then is promoted); the second run's artifact is "
            "damaged; the service (`GET /api/v1/pricing/elasticities`) and the CLI "
            "(`shopkeeper pricing elasticity --json`, its own process) are asked. With an "
            "earlier run the right answer is that run's analysis (200, exit 0); without one, "
            "503 from the service and exit 2 from the CLI with a message naming the file.",
            "",
            "| damage | earlier run | API | served | CLI exit | CLI names the file | right |",
            "|---|---|---:|---|---:|---|---|",
        ]
        for r in artifacts:
            out.append(
                f"| {r['damage']} | {'yes' if r['earlier'] else 'no'} | {r['api']} | "
                f"{r['served']} | {r['cli']} | {named(r)} | "
                f"{'yes' if r['right'] else 'NO'} |"
            )
        out += ["", f"**{right} of {len(artifacts)} cases answered rightly.**", ""]
    return "\n".join(out)


def named(row: dict[str, Any]) -> str:
    if row["earlier"]:
        return "-"  # it served the earlier run: nothing to name
    return "yes" if row["cli_names_file"] else "no"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--ingest-kills", type=int, default=100, help="half plain, half replace")
    parser.add_argument("--server-kills", type=int, default=100)
    parser.add_argument("--concurrent-rounds", type=int, default=2, help="per store and shape")
    parser.add_argument("--no-artifacts", action="store_true", help="skip the damaged artifacts")
    parser.add_argument("--seed", type=int, default=20261204)
    parser.add_argument("--quick", action="store_true", help="4 kills of each kind, 1 round")
    parser.add_argument("--out", type=Path, default=OUT)
    args = parser.parse_args()
    if args.quick:
        args.ingest_kills, args.server_kills, args.concurrent_rounds = 4, 4, 1
    pg_url = os.environ.get("SHOPKEEPER_BENCH_DATABASE_URL") or os.environ.get(
        "SHOPKEEPER_TEST_DATABASE_URL"
    )
    rng = random.Random(args.seed)
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="shopkeeper-reliability-") as tmp:
        work = Path(tmp)
        ingest = ingest_kills(work / "ingest", args.ingest_kills, rng) if args.ingest_kills else []
        server = (
            server_kills(work / "server", args.server_kills, rng) if args.server_kills else None
        )
        writers = (
            concurrent(work / "writers", args.concurrent_rounds, pg_url)
            if args.concurrent_rounds
            else []
        )
        artifacts = [] if args.no_artifacts else artifact_cases(work / "artifacts")
    text = report(
        args, ingest, server, writers, artifacts, time.perf_counter() - started, bool(pg_url)
    )
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(text + "\n", encoding="utf-8")
    print(text)


if __name__ == "__main__":
    main()
