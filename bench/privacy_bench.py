"""Privacy and security benchmark: sealing, rotation, erasure, and fuzzing, in one run.

On the demo shop (``--size``, default ``default``), loaded the way
``shopkeeper demo`` loads it:

- **sealing**: every personal value of the shop is sealed and opened with
  shopkeeper's AES-256-GCM tokens and, side by side, with what a Python
  developer would reach for instead, ``cryptography``'s Fernet (AES-128-CBC
  with HMAC-SHA-256); throughput of both and the ratio;
- **rotation**: ``Vault.rotate`` re-sealing every value with a new key;
- **erasure**: the recommendation and customer models are trained with their
  default settings, then one customer (the one with most events) is erased
  with ``erase_customer``: store, models trained again, workspace files, and
  the raw-bytes check; each part timed, and what the check found;
- **API fuzzing**: schemathesis sends ``--fuzz-examples`` generated requests
  to every operation of the OpenAPI schema (an admin key, the tiny test
  shop); every answer's status is counted, 5xx must be 0, and the store must
  pass SQLite's integrity check and read whole afterwards;
- **ingest fuzzing**: hypothesis writes ``--ingest-examples`` files of
  arbitrary bytes (after the right header or alone) into a contract folder;
  each load must succeed or raise shopkeeper's own error with the store
  unchanged.

    python bench/privacy_bench.py [--size default] [--fuzz-examples 30]
                                   [--ingest-examples 300] [--skip-erase]

Writes ``bench/results/privacy.md`` and ``privacy.json``.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from sqlalchemy import func, select, text  # noqa: E402

from shopkeeper.demo import DemoConfig, build_demo  # noqa: E402
from shopkeeper.jobs import run_job  # noqa: E402
from shopkeeper.privacy import (  # noqa: E402
    SEALED,
    erase_customer,
    new_secret,
    pending_key_file,
    seal,
    unseal,
    write_key_file,
)
from shopkeeper.store import METADATA, Store  # noqa: E402
from shopkeeper.workspace import Workspace  # noqa: E402

RESULTS = REPO / "bench" / "results"


def _personal_values(store: Store) -> list[tuple[str, str]]:
    """(place, value) of every personal value of the shop, opened."""
    frame = store.read("customers", ["customer_id", *SEALED["customers"][:-1]], extra=False)
    out = []
    for column in SEALED["customers"][:-1]:
        for customer_id, value in zip(frame["customer_id"], frame[column], strict=True):
            if isinstance(value, str):
                out.append((f"customers.{column}/{customer_id}", value))
    return out


def bench_sealing(store: Store) -> dict[str, Any]:
    from cryptography.fernet import Fernet

    values = _personal_values(store)
    key = store.vault.key()
    assert key is not None
    started = time.perf_counter()
    tokens = [seal(key, v, p) for p, v in values]
    sealed_s = time.perf_counter() - started
    started = time.perf_counter()
    opened = [unseal(key, t, p) for t, (p, _) in zip(tokens, values, strict=True)]
    opened_s = time.perf_counter() - started
    assert opened == [v for _, v in values]
    fernet = Fernet(Fernet.generate_key())
    started = time.perf_counter()
    f_tokens = [fernet.encrypt(v.encode()) for _, v in values]
    f_sealed_s = time.perf_counter() - started
    started = time.perf_counter()
    f_opened = [fernet.decrypt(t).decode() for t in f_tokens]
    f_opened_s = time.perf_counter() - started
    assert f_opened == [v for _, v in values]
    mean = sum(len(v.encode()) for _, v in values) / max(len(values), 1)
    return {
        "values": len(values),
        "mean_value_bytes": round(mean, 1),
        "shopkeeper": {
            "seal_per_s": round(len(values) / sealed_s),
            "open_per_s": round(len(values) / opened_s),
            "token_bytes": round(sum(len(t) for t in tokens) / len(tokens), 1),
        },
        "fernet": {
            "seal_per_s": round(len(values) / f_sealed_s),
            "open_per_s": round(len(values) / f_opened_s),
            "token_bytes": round(sum(len(t) for t in f_tokens) / len(f_tokens), 1),
        },
        "seal_time_ratio": round(sealed_s / f_sealed_s, 2),
        "open_time_ratio": round(opened_s / f_opened_s, 2),
    }


def bench_rotation(store: Store, ws: Workspace) -> dict[str, Any]:
    target = ws.root / "pii.key"
    pending = write_key_file(pending_key_file(target), new_secret())
    started = time.perf_counter()
    done = store.vault.rotate(pending)
    seconds = time.perf_counter() - started
    os.replace(pending_key_file(target), target)
    store.vault.forget_key()
    return {"seconds": round(seconds, 2), **done.to_dict()}


def _busiest_customer(store: Store) -> tuple[str, int]:
    events = METADATA.tables["events"]
    query = (
        select(events.c.customer_id, func.count().label("n"))
        .where(events.c.customer_id.is_not(None))
        .group_by(events.c.customer_id)
        .order_by(text("n DESC"))
        .limit(1)
    )
    with store.engine.connect() as conn:
        found = conn.execute(query).one()
    return str(found[0]), int(found[1])


def bench_erase(store: Store, ws: Workspace) -> dict[str, Any]:
    trained = {}
    for kind in ("recommend", "customers"):
        started = time.perf_counter()
        job = run_job(store, ws, kind, {})
        assert job.state == "done", job.error
        trained[kind] = round(time.perf_counter() - started, 1)
    customer_id, events = _busiest_customer(store)
    started = time.perf_counter()
    done = erase_customer(store, ws, customer_id, actor="bench")
    total = time.perf_counter() - started
    report = done.to_dict()
    return {
        "customer_events": events,
        "training_seconds_before": trained,
        "rows": report["rows"],
        "models_retrained": sorted(report["models_retrained"]),
        "files_rewritten": report["files_rewritten"],
        "traces": report["traces"],
        "seconds": {**report["seconds"], "total": round(total, 2)},
    }


def bench_api_fuzz(examples: int, root: Path) -> dict[str, Any]:
    import schemathesis
    from tests.ingest.shop_files import write_shop

    from shopkeeper.access import create_key
    from shopkeeper.ingest import load_folder
    from shopkeeper.service import create_app

    root.mkdir(parents=True, exist_ok=True)
    store = Store(f"sqlite:///{root / 'fuzz.db'}")
    store.create()
    load_folder(write_shop(root / "shop"), store)
    token = create_key(store, "fuzz", "admin")[1]
    app = create_app(Workspace.resolve(root / "ws"), store=store)
    schema = schemathesis.openapi.from_asgi("/openapi.json", app)
    statuses: Counter[str] = Counter()
    server_errors: list[str] = []
    operations = [r.ok() for r in schema.get_all_operations()]
    started = time.perf_counter()
    for operation in operations:
        _fuzz_operation(operation, examples, token, statuses, server_errors)
    seconds = time.perf_counter() - started
    with store.engine.connect() as conn:
        integrity = str(conn.exec_driver_sql("PRAGMA integrity_check").scalar())
    readable = all(len(store.read(t)) >= 0 for t in ("customers", "orders", "events"))
    return {
        "operations": len(operations),
        "requests": sum(statuses.values()),
        "by_status": dict(sorted(statuses.items())),
        "server_errors": len(server_errors),
        "examples": server_errors[:10],
        "integrity_check": integrity,
        "store_reads_whole": readable,
        "seconds": round(seconds, 1),
    }


def _fuzz_operation(
    operation: Any, examples: int, token: str, statuses: Counter[str], errors: list[str]
) -> None:
    from hypothesis import HealthCheck, given, settings

    label = f"{operation.method.upper()} {operation.path}"

    @settings(
        max_examples=examples,
        deadline=None,
        database=None,
        derandomize=True,
        suppress_health_check=list(HealthCheck),
    )
    @given(operation.as_strategy())
    def send(case: Any) -> None:
        response = case.call(headers={"Authorization": f"Bearer {token}"})
        statuses[f"{response.status_code // 100}xx"] += 1
        if response.status_code >= 500:
            errors.append(f"{label} -> {response.status_code}")

    send()


def bench_ingest_fuzz(examples: int, root: Path) -> dict[str, Any]:
    from hypothesis import HealthCheck, given, settings
    from hypothesis import strategies as st
    from tests.ingest.shop_files import TABLES, write_shop

    from shopkeeper.errors import ShopkeeperError
    from shopkeeper.ingest import load_folder

    root.mkdir(parents=True, exist_ok=True)
    store = Store(f"sqlite:///{root / 'ingest-fuzz.db'}")
    store.create()
    load_folder(write_shop(root / "good"), store)
    outcomes: Counter[str] = Counter()
    count = [0]

    @settings(
        max_examples=examples,
        deadline=None,
        database=None,
        derandomize=True,
        suppress_health_check=list(HealthCheck),
    )
    @given(
        table=st.sampled_from(sorted(TABLES)),
        keep_header=st.booleans(),
        blob=st.binary(max_size=400),
    )
    def load(table: str, keep_header: bool, blob: bytes) -> None:
        count[0] += 1
        before = store.checksums()
        folder = write_shop(root / f"bytes-{count[0]}")
        header = TABLES[table].splitlines()[0].encode() + b"\n" if keep_header else b""
        (folder / f"{table}.csv").write_bytes(header + blob)
        try:
            load_folder(folder, store, replace=True)
        except ShopkeeperError:
            outcomes["refused, store unchanged" if store.checksums() == before else "BAD"] += 1
        except Exception as exc:  # the figure counts them
            outcomes[f"unexpected {type(exc).__name__}"] += 1
        else:
            outcomes["loaded"] += 1
            # Put the good shop back for the next file.
            load_folder(write_shop(root / f"good-{count[0]}"), store, replace=True)

    started = time.perf_counter()
    load()
    return {
        "files": count[0],
        "outcomes": dict(outcomes),
        "seconds": round(time.perf_counter() - started, 1),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--size", default="default", help="demo size: small, default, large")
    parser.add_argument("--fuzz-examples", type=int, default=30, help="requests per operation")
    parser.add_argument("--ingest-examples", type=int, default=300, help="fuzzed files")
    parser.add_argument("--skip-erase", action="store_true", help="no training and erasure")
    args = parser.parse_args()
    for name in ("SHOPKEEPER_PII_KEY", "SHOPKEEPER_PII_KEY_FILE", "SHOPKEEPER_DATABASE_URL"):
        os.environ.pop(name, None)
    out: dict[str, Any] = {
        "machine": (
            f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}"
        ),
        "date": time.strftime("%Y-%m-%d"),
        "size": args.size,
    }
    with tempfile.TemporaryDirectory(prefix="privacy-bench-") as tmp:
        root = Path(tmp)
        ws = Workspace.resolve(root / "ws")
        store = Store.open(ws)
        started = time.perf_counter()
        built = build_demo(store, ws.root / "demo-shop", DemoConfig.preset(args.size))
        out["demo"] = {
            "customers": built.config.customers,
            "rows": built.load.rows,
            "load_seconds": round(built.seconds["load"], 1),
            "build_seconds": round(time.perf_counter() - started, 1),
        }
        print("demo built", out["demo"], flush=True)
        out["sealing"] = bench_sealing(store)
        print("sealing", out["sealing"], flush=True)
        out["rotation"] = bench_rotation(store, ws)
        print("rotation", out["rotation"], flush=True)
        if not args.skip_erase:
            out["erase"] = bench_erase(store, ws)
            print("erase", out["erase"], flush=True)
        store.close()
        out["api_fuzz"] = bench_api_fuzz(args.fuzz_examples, root / "api")
        print("api fuzz", out["api_fuzz"], flush=True)
        out["ingest_fuzz"] = bench_ingest_fuzz(args.ingest_examples, root / "ingest")
        print("ingest fuzz", out["ingest_fuzz"], flush=True)
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "privacy.json").write_text(json.dumps(out, indent=2, ensure_ascii=False) + "\n")
    (RESULTS / "privacy.md").write_text(render(out), encoding="utf-8")
    print(render(out))


def render(out: dict[str, Any]) -> str:
    s, d = out["sealing"], out["demo"]
    lines = [
        "# Privacy and security benchmark",
        "",
        f"{out['date']}, {out['machine']}. `python bench/privacy_bench.py --size {out['size']}`.",
        "",
        f"Demo shop: {d['customers']:,} customers, {d['rows']:,} rows loaded in "
        f"{d['load_seconds']} s (personal columns sealed during the load).",
        "",
        "## Sealing: shopkeeper (AES-256-GCM) against Fernet, the same values in one run",
        "",
        f"{s['values']:,} personal values (mean {s['mean_value_bytes']} bytes).",
        "",
        "| | seal / s | open / s | token bytes |",
        "|---|---:|---:|---:|",
    ]
    for name in ("shopkeeper", "fernet"):
        r = s[name]
        lines.append(f"| {name} | {r['seal_per_s']:,} | {r['open_per_s']:,} | {r['token_bytes']} |")
    lines += [
        "",
        f"Time ratio shopkeeper / Fernet: seal {s['seal_time_ratio']}, open "
        f"{s['open_time_ratio']} (below 1: faster). Fernet is not bound to a place (a token "
        "copied to another row opens there) and its tokens are random, so a re-load rewrites "
        "every row.",
        "",
        "## Key rotation",
        "",
        f"Every value re-sealed with a new key in one transaction: {out['rotation']['resealed']:,}"
        f" values in {out['rotation']['seconds']} s.",
        "",
    ]
    if "erase" in out:
        e = out["erase"]
        sec = e["seconds"]
        lines += [
            f"## Erasing one customer (the one with most events: {e['customer_events']:,})",
            "",
            "| part | seconds |",
            "|---|---:|",
            f"| store (one transaction, WAL checkpoint) | {sec['store']} |",
            f"| models trained again ({', '.join(e['models_retrained'])}) and workspace "
            f"files | {sec['models']} |",
            f"| raw-bytes check of database, artifacts, files | {sec['verify']} |",
            f"| **total** | **{sec['total']}** |",
            "",
            "Rows: " + ", ".join(f"{k} {v:,}" for k, v in e["rows"].items()) + ".",
            f"Files rewritten: {', '.join(e['files_rewritten']) or 'none'}.",
            "Raw bytes after the erase (the customer's id in UTF-8/16/32, their e-mail and "
            f"phone): {'nothing found' if not e['traces'] else '; '.join(e['traces'])}.",
            f"Training before the erase (default settings): {e['training_seconds_before']} s.",
            "",
        ]
    a, i = out["api_fuzz"], out["ingest_fuzz"]
    lines += [
        "## Fuzzing",
        "",
        f"- API (schemathesis, every operation of the OpenAPI schema, admin key): "
        f"{a['requests']:,} requests over {a['operations']} operations, by status "
        f"{a['by_status']}; **{a['server_errors']} answers 5xx**. Afterwards SQLite's "
        f"integrity check says `{a['integrity_check']}` and every table reads whole: "
        f"{a['store_reads_whole']}.",
        f"- Ingest (hypothesis, arbitrary bytes after the right header or alone): "
        f"{i['files']:,} files, outcomes {i['outcomes']}.",
        "",
    ]
    return "\n".join(lines)


if __name__ == "__main__":
    main()
