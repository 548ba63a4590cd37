"""Ingest benchmark: shopkeeper's validated load against the naive pandas route.

For the demo shop at the default size and at ten times the order lines, and
for SQLite and PostgreSQL, it times in one run, each in a fresh process on
the same CSV files and a fresh database:

- shopkeeper: ``load_folder`` (read, validate every row, check references,
  upsert by key in one transaction);
- naive: ``pandas.read_csv`` then ``DataFrame.to_sql(if_exists="append",
  index=False)`` per table, with no validation at all.

It reports seconds, the ratio shopkeeper / naive (the issue asks for <= 1.0)
and each process's peak memory, and writes ``bench/results/ingest.md`` and
``ingest.json``. PostgreSQL runs when ``SHOPKEEPER_BENCH_DATABASE_URL`` (or
``SHOPKEEPER_TEST_DATABASE_URL``) is set.

    python bench/ingest_bench.py [--sizes default,large] [--repeat 1]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
WORK = HERE / ".work"
RESULTS = HERE / "results"

SHOPKEEPER_RUN = """
import json, resource, sys, time
from shopkeeper.store import Store
from shopkeeper.ingest import load_folder
url, schema, folder = sys.argv[1], sys.argv[2] or None, sys.argv[3]
store = Store(url, schema=schema)
store.drop_all()
store.create()
started = time.perf_counter()
result = load_folder(folder, store)
seconds = time.perf_counter() - started
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
print(json.dumps({"seconds": seconds, "rows": result.rows, "peak_mb": peak}))
"""

NAIVE_RUN = """
import json, resource, sys, time
from pathlib import Path
import pandas as pd
from sqlalchemy import create_engine, text
url, schema, folder = sys.argv[1], sys.argv[2] or None, sys.argv[3]
args = {"options": f"-csearch_path={schema}"} if schema else {}
engine = create_engine(url, connect_args=args)
if schema:
    with engine.begin() as conn:
        conn.execute(text(f"DROP SCHEMA IF EXISTS {schema} CASCADE"))
        conn.execute(text(f"CREATE SCHEMA {schema}"))
started = time.perf_counter()
rows = 0
for path in sorted(Path(folder).glob("*.csv")):
    frame = pd.read_csv(path)
    frame.to_sql(path.stem, engine, if_exists="append", index=False)
    rows += len(frame)
seconds = time.perf_counter() - started
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
print(json.dumps({"seconds": seconds, "rows": rows, "peak_mb": peak}))
"""


def make_shop(size: str) -> Path:
    """Generate the demo shop of ``size`` as contract CSV files (cached in bench/.work)."""
    from shopkeeper.demo import DemoConfig, generate, write_shop

    folder = WORK / f"demo-{size}"
    marker = folder / ".complete"
    if marker.exists():
        return folder
    shutil.rmtree(folder, ignore_errors=True)
    shop = generate(DemoConfig.preset(size))
    write_shop(shop, folder)
    # Only contract tables take part: both routes load exactly the same files.
    for extra in folder.iterdir():
        if extra.suffix != ".csv" or extra.stem not in _contract_tables():
            extra.rename(folder.parent / f"{size}-{extra.name}")
    marker.touch()
    return folder


def _contract_tables() -> set[str]:
    from shopkeeper.contract import table_names

    return set(table_names())


def run(script: str, url: str, schema: str, folder: Path) -> dict[str, float]:
    env = {**os.environ, "OPENBLAS_NUM_THREADS": "1"}
    done = subprocess.run(
        [sys.executable, "-c", script, url, schema, str(folder)],
        capture_output=True,
        text=True,
        env=env,
        check=False,
    )
    if done.returncode != 0:
        raise SystemExit(f"benchmark process failed:\n{done.stderr[-3000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="default,large")
    parser.add_argument("--repeat", type=int, default=1, help="runs per cell; the best is kept")
    args = parser.parse_args()
    pg_url = os.environ.get("SHOPKEEPER_BENCH_DATABASE_URL") or os.environ.get(
        "SHOPKEEPER_TEST_DATABASE_URL"
    )
    databases = [("sqlite", "")]
    if pg_url:
        databases.append(("postgresql", pg_url))
    rows = []
    for size in args.sizes.split(","):
        started = time.perf_counter()
        folder = make_shop(size)
        print(f"{size}: files ready in {time.perf_counter() - started:.1f} s", flush=True)
        file_mb = sum(p.stat().st_size for p in folder.glob("*.csv")) / 2**20
        with open(folder / "order_lines.csv", encoding="utf-8") as fh:
            lines = sum(1 for _ in fh) - 1
        for db, url in databases:
            cell = {"size": size, "database": db, "order_lines": lines, "csv_mb": file_mb}
            for route, script in (("shopkeeper", SHOPKEEPER_RUN), ("naive", NAIVE_RUN)):
                best: dict[str, float] | None = None
                for attempt in range(args.repeat):
                    if db == "sqlite":
                        target = WORK / f"{route}-{size}.db"
                        for leftover in WORK.glob(f"{route}-{size}.db*"):
                            leftover.unlink()
                        measured = run(script, f"sqlite:///{target}", "", folder)
                    else:
                        measured = run(script, url, f"bench_{route}", folder)
                    print(f"  {size} {db} {route} #{attempt + 1}: {measured}", flush=True)
                    if best is None or measured["seconds"] < best["seconds"]:
                        best = measured
                assert best is not None
                cell[route] = best
            cell["ratio"] = cell["shopkeeper"]["seconds"] / cell["naive"]["seconds"]
            rows.append(cell)
    write_results(rows)


def write_results(rows: list[dict]) -> None:
    RESULTS.mkdir(exist_ok=True)
    meta = {
        "python": platform.python_version(),
        "machine": f"{os.cpu_count()} cores, {platform.machine()}",
        "date": time.strftime("%Y-%m-%d"),
    }
    (RESULTS / "ingest.json").write_text(
        json.dumps({"meta": meta, "results": rows}, indent=2) + "\n", encoding="utf-8"
    )
    lines = [
        "# Ingest benchmark",
        "",
        "Written by `python bench/ingest_bench.py` (`make bench`); do not edit by hand.",
        f"Measured {meta['date']} on {meta['machine']}, Python {meta['python']}.",
        "",
        "Same CSV files (the demo shop), fresh database and fresh process per run.",
        "**shopkeeper**: `shopkeeper ingest` (read with pyarrow, every row validated,",
        "references checked, upsert by key, one transaction).",
        "**naive**: `pandas.read_csv` + `DataFrame.to_sql(if_exists='append', index=False)`",
        "per table, no validation. Ratio = shopkeeper seconds / naive seconds (target <= 1.0).",
        "Peak memory is the process's maximum resident set size.",
        "",
        "| size | database | order lines | CSV MB | shopkeeper s | naive s | ratio "
        "| shopkeeper peak MB | naive peak MB |",
        "|---|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in rows:
        lines.append(
            f"| {r['size']} | {r['database']} | {r['order_lines']:,} | {r['csv_mb']:.0f} "
            f"| {r['shopkeeper']['seconds']:.1f} | {r['naive']['seconds']:.1f} "
            f"| **{r['ratio']:.2f}** | {r['shopkeeper']['peak_mb']:.0f} "
            f"| {r['naive']['peak_mb']:.0f} |"
        )
    (RESULTS / "ingest.md").write_text("\n".join(lines) + "\n", encoding="utf-8")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
