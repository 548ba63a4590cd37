"""The ``shopkeeper`` command line.

Results go to standard output (a table, or JSON with ``--json``); progress
bars and logs go to standard error, so scripts can pipe the results.
Exit codes: 0 success, 1 an unexpected failure, 2 bad input or settings.
"""

from __future__ import annotations

import json
import logging
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.logging import RichHandler
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table as RichTable

from shopkeeper import __version__, contract
from shopkeeper.errors import ConfigError, ContractError, ShopkeeperError
from shopkeeper.info import StoreInfo, describe
from shopkeeper.ingest import LoadResult, load_folder
from shopkeeper.store import Store
from shopkeeper.workspace import Workspace

log = logging.getLogger("shopkeeper.cli")

console = Console()
err = Console(stderr=True)

app = typer.Typer(
    name="shopkeeper",
    help=(
        "An AI operations engine for online stores.\n\n"
        "Start with [bold]shopkeeper demo[/bold] to build a demo shop, or load your own "
        "exports with [bold]shopkeeper ingest ./exports[/bold] (see "
        "[bold]shopkeeper contract[/bold] for the tables and columns it expects)."
    ),
    rich_markup_mode="rich",
    pretty_exceptions_enable=False,
    no_args_is_help=True,
    add_completion=False,
    context_settings={"help_option_names": ["-h", "--help"]},
)

WorkspaceOpt = Annotated[
    Path | None,
    typer.Option(
        "--workspace",
        "-w",
        help="Workspace folder (store, models, reports). Default: $SHOPKEEPER_WORKSPACE "
        "or ./shopkeeper-workspace. $SHOPKEEPER_DATABASE_URL selects another database.",
        show_default=False,
    ),
]
JsonOpt = Annotated[bool, typer.Option("--json", help="Print machine-readable JSON only.")]


def _version(value: bool) -> None:
    if value:
        console.print(f"shopkeeper {__version__}")
        raise typer.Exit()


@app.callback()
def main_options(
    verbose: Annotated[
        int, typer.Option("--verbose", "-v", count=True, help="More log output (-vv: debug).")
    ] = 0,
    version: Annotated[
        bool, typer.Option("--version", callback=_version, is_eager=True, help="Show version.")
    ] = False,
) -> None:
    """Set up logging for every command."""
    level = logging.WARNING - 10 * min(verbose, 2)
    logging.basicConfig(
        level=level,
        format="%(message)s",
        handlers=[RichHandler(console=err, show_path=False, rich_tracebacks=False)],
        force=True,
    )


@contextmanager
def _errors(as_json: bool, listing: bool = False) -> Iterator[None]:
    """Turn shopkeeper's deliberate errors into a clear message and exit code 2."""
    try:
        yield
    except ContractError as exc:
        if as_json:
            print(
                json.dumps(
                    {
                        "ok": False,
                        "error": str(exc),
                        "total": exc.total,
                        "problems": [p.to_dict() for p in exc.problems],
                    },
                    ensure_ascii=False,
                    indent=2,
                )
            )
        else:
            err.print(f"[bold red]error:[/] {exc}", highlight=False, soft_wrap=True)
            if listing and exc.total > 1:
                shown = len(exc.problems)
                head = f"{exc.total:,} problems" + (
                    f", {shown:,} shown:" if shown < exc.total else ":"
                )
                err.print(head)
                for problem in exc.problems:
                    err.print(f"  {problem}", highlight=False, soft_wrap=True)
            elif exc.total > 1:
                err.print("Run again with --report to list every problem.")
            err.print("Nothing was written; the store is unchanged.")
        raise typer.Exit(2) from None
    except ShopkeeperError as exc:
        if as_json:
            print(json.dumps({"ok": False, "error": str(exc)}, ensure_ascii=False))
        else:
            err.print(f"[bold red]error:[/] {exc}", highlight=False, soft_wrap=True)
        raise typer.Exit(2) from None
    except (typer.Exit, typer.Abort):
        raise
    except Exception as exc:
        # A bug or an environment failure: say what, keep the traceback for -vv.
        log.debug("unexpected failure", exc_info=True)
        message = f"unexpected {type(exc).__name__}: {exc}"
        if as_json:
            print(json.dumps({"ok": False, "error": message}, ensure_ascii=False))
        else:
            err.print(
                f"[bold red]error:[/] {message} (run with -vv for the traceback)",
                highlight=False,
                soft_wrap=True,
            )
        raise typer.Exit(1) from None


@contextmanager
def _progress(enabled: bool) -> Iterator[Callable[[str, str, int, int], None] | None]:
    """A progress callback drawing one bar per step, or None when quiet."""
    if not enabled or not err.is_terminal:
        yield None
        return
    bars = Progress(
        TextColumn("{task.description:<24}"),
        BarColumn(),
        TextColumn("{task.completed}/{task.total}"),
        TimeElapsedColumn(),
        console=err,
        transient=True,
    )
    tasks: dict[str, Any] = {}

    def update(step: str, item: str, done: int, total: int) -> None:
        if step not in tasks:
            tasks[step] = bars.add_task(step, total=total)
        bars.update(tasks[step], completed=done, total=total, description=f"{step} {item}")

    with bars:
        yield update


def _print_json(payload: object) -> None:
    print(json.dumps(payload, ensure_ascii=False, indent=2, default=str))


@app.command()
def ingest(
    path: Annotated[Path, typer.Argument(help="A folder of table files, or one file.")],
    report: Annotated[
        bool, typer.Option("--report", help="List every problem found, not only the first.")
    ] = False,
    replace: Annotated[
        bool,
        typer.Option(
            "--replace",
            help="Empty the store first (in the same transaction): afterwards it holds "
            "exactly these files.",
        ),
    ] = False,
    workspace: WorkspaceOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Validate a shop's CSV/Parquet files and load them into the store.

    Files are named after the tables: products.csv, orders.csv, order_lines.parquet, ...
    Every row is checked first; one bad row and nothing is written. Loading rows
    that are already stored replaces them by key, so re-running is safe, and a
    folder of new orders and events adds to what is stored.

    [bold]Examples[/bold]

      shopkeeper ingest ./exports
      shopkeeper ingest ./exports/orders.csv --report
      shopkeeper ingest ./full-export --replace
      SHOPKEEPER_DATABASE_URL=postgresql://shop@db/shop shopkeeper ingest ./exports --json
    """
    with _errors(as_json, listing=report):
        store = Store.open(Workspace.resolve(workspace))
        with _progress(not as_json) as progress:
            result = load_folder(path, store, progress=progress, report=report, replace=replace)
        if as_json:
            _print_json({"ok": True, **result.to_dict()})
        else:
            _show_load(result)


def _show_load(result: LoadResult) -> None:
    table = RichTable(title=f"Loaded {result.source}", title_justify="left")
    table.add_column("table")
    table.add_column("file")
    table.add_column("rows", justify="right")
    table.add_column("kept extra columns")
    for item in result.tables:
        note = ", ".join(item.extra_columns)
        if item.duplicates_dropped:
            note += f" ({item.duplicates_dropped:,} repeated rows dropped)"
        table.add_row(item.table, item.source, f"{item.rows:,}", note)
    console.print(table)
    console.print(f"{result.rows:,} rows in {result.seconds:.1f} s")
    if result.ignored_files:
        console.print(f"[dim]ignored (not a contract table): {', '.join(result.ignored_files)}[/]")


@app.command()
def demo(
    size: Annotated[
        str,
        typer.Option(
            "--size",
            "-s",
            help="small (2k customers, half a year: seconds), default (20k customers, "
            "2k products, 548 days: under a minute) or large (ten times the orders).",
        ),
    ] = "default",
    seed: Annotated[
        int | None, typer.Option(help="Random seed; the same seed, the same shop.")
    ] = None,
    customers: Annotated[
        int | None, typer.Option(help="Number of customers (overrides --size).", min=1)
    ] = None,
    products: Annotated[
        int | None, typer.Option(help="Number of products (overrides --size).", min=1)
    ] = None,
    days: Annotated[
        int | None, typer.Option(help="Days of history (overrides --size).", min=1)
    ] = None,
    start: Annotated[
        str | None, typer.Option(help="First day of the history, YYYY-MM-DD.", show_default=False)
    ] = None,
    replace: Annotated[
        bool,
        typer.Option("--replace", help="Replace a store that holds other data with the demo shop."),
    ] = False,
    serve_after: Annotated[
        bool,
        typer.Option(
            "--serve/--no-serve", help="Serve the API and dashboard afterwards (until Ctrl-C)."
        ),
    ] = True,
    port: Annotated[int, typer.Option(help="Port to serve on (127.0.0.1).")] = 8000,
    workspace: WorkspaceOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Build a realistic demo shop, load it through ingest, summarise it, then serve it.

    The shop is simulated: a bilingual catalog, customers with lasting tastes,
    repeat purchases of consumables, weekly and yearly rhythm with 618, Double 11
    and Black Friday peaks, price-sensitive demand, ad spend with carry-over,
    stock-outs, carriers that run late, reviews and questions in Chinese and
    English, and photos of the fashion products (with Debian's
    dataset-fashion-mnist installed). Its CSV files go to WORKSPACE/demo-shop
    (with ground_truth.json, the effects that were planted) and are loaded
    exactly like a shop's own exports. A store holding an earlier demo shop is
    replaced; one holding other data is left alone unless --replace is given.
    Then the key figures are computed and the dashboard is served on 127.0.0.1
    with an admin key made for you (with --json, or --no-serve, it stops after
    the summary).

    [bold]Examples[/bold]

      shopkeeper demo
      shopkeeper demo --size small -w ./try-it --port 8080
      shopkeeper demo --customers 50000 --days 730 --seed 11 --no-serve
      shopkeeper demo --size small --json
    """
    from shopkeeper.demo import DEMO_FOLDER, DemoConfig, build_demo

    with _errors(as_json):
        overrides: dict[str, Any] = {
            k: v
            for k, v in (
                ("seed", seed),
                ("customers", customers),
                ("products", products),
                ("days", days),
                ("start", start),
            )
            if v is not None
        }
        config = DemoConfig.preset(size, **overrides)
        ws = Workspace.resolve(workspace)
        store = Store.open(ws)
        with _progress(not as_json) as progress:
            built = build_demo(
                store, ws.root / DEMO_FOLDER, config, replace=replace, progress=progress
            )
        summary = describe(store)
        if as_json:
            _print_json({"ok": True, "demo": built.to_dict(), "store": summary.to_dict()})
            return
        c = built.config
        console.print(
            f"[bold]Demo shop[/] seed {c.seed}: {c.customers:,} customers, {c.products:,} "
            f"products, {c.days} days from {c.start}"
        )
        took = built.seconds
        console.print(
            f"generated in {took['generate']:.1f} s, written in {took['write']:.1f} s, "
            f"loaded ({built.load.rows:,} rows, every one validated) in {took['load']:.1f} s"
        )
        console.print(f"files: {built.folder}  (planted effects: {built.truth_file.name})")
        _show_info(summary)
        console.print(
            "\nNext: [bold]shopkeeper info[/] shows this again; "
            "[bold]shopkeeper ingest DIR --replace[/] loads your own shop instead."
        )
        if not serve_after:
            return
        _serve_demo(ws, store, port)


DEMO_KEY_NAME = "demo dashboard"


def _serve_demo(ws: Workspace, store: Store, port: int) -> None:
    """Compute the figures, make a key to log in with, and serve until Ctrl-C."""
    from shopkeeper.access import create_key, list_keys, revoke_key
    from shopkeeper.jobs import run_job
    from shopkeeper.service import serve

    job = run_job(store, ws, "figures")
    if job.state != "done":
        err.print(f"[yellow]the figures job failed:[/] {job.error}")
    # One demo login at a time: earlier demo keys would otherwise pile up.
    for old in list_keys(store):
        if old.name == DEMO_KEY_NAME and old.active:
            revoke_key(store, old.key_id)
    _key, token = create_key(store, DEMO_KEY_NAME, "admin")
    console.print(
        f"\n[bold]Dashboard[/] http://127.0.0.1:{port}/  (log in with this admin key, shown "
        f"once)\n  {token}\n[bold]API docs[/]  http://127.0.0.1:{port}/docs   Ctrl-C stops."
    )
    serve(ws, port=port)


@app.command()
def info(workspace: WorkspaceOpt = None, as_json: JsonOpt = False) -> None:
    """What is in the store: rows per table, periods covered, data quality warnings.

    [bold]Example[/bold]

      shopkeeper info --json | jq .counts
    """
    with _errors(as_json):
        summary = describe(Store.open(Workspace.resolve(workspace)))
        if as_json:
            _print_json(summary.to_dict())
        else:
            _show_info(summary)


def _show_info(summary: StoreInfo) -> None:
    console.print(f"[bold]Store[/] {summary.database}")
    table = RichTable(title_justify="left")
    table.add_column("table")
    table.add_column("rows", justify="right")
    table.add_column("period (UTC)")
    periods = {k.split(".")[0]: v for k, v in summary.periods.items()}
    for name, count in summary.counts.items():
        span = periods.get(name)
        table.add_row(name, f"{count:,}", f"{span[0][:10]} … {span[1][:10]}" if span else "")
    console.print(table)
    if summary.revenue is not None:
        console.print(f"Revenue in the store: {summary.revenue:,.2f}")
    if summary.warnings:
        console.print("[bold yellow]Data quality[/]")
        for w in summary.warnings:
            share = f" ({w.share:.1%})" if w.share is not None else ""
            console.print(f"  • {w.count:,} {w.message}{share}")
    elif not any(summary.counts.values()):
        console.print(
            "The store is empty: run [bold]shopkeeper demo[/] or [bold]shopkeeper ingest DIR[/]."
        )


@app.command("timezone")
def timezone_command(
    zone: Annotated[
        str | None,
        typer.Argument(help="UTC, an offset such as +08:00, or a zone name such as Asia/Shanghai."),
    ] = None,
    clear: Annotated[
        bool, typer.Option("--clear", help="Forget the setting (days are UTC days again).")
    ] = False,
    workspace: WorkspaceOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Show or set the shop's time zone: where its days begin and end.

    The store keeps moments in UTC. The marketing mix counts sales per day
    in this zone (a shop at +08:00 counted in UTC days would see a third of
    each evening's orders on the next day). The demo shop sets +08:00.

    [bold]Examples[/bold]

      shopkeeper timezone                  # show it
      shopkeeper timezone Asia/Shanghai    # set it
    """
    from shopkeeper.store import TIMEZONE_META
    from shopkeeper.timezone import parse_timezone

    with _errors(as_json):
        if zone is not None and clear:
            raise ConfigError("give a zone or --clear, not both")
        store = Store.open(Workspace.resolve(workspace))
        if zone is not None:
            parse_timezone(zone)  # refuses what it cannot read, with the rule
        if zone is not None or clear:
            value = None if zone is None else zone.strip()
            with store.engine.begin() as conn:
                store.set_meta(conn, {TIMEZONE_META: value})
        current = store.meta(TIMEZONE_META)
        if as_json:
            _print_json({"timezone": current or "UTC", "set": current is not None})
        elif current:
            console.print(f"The shop's time zone: [bold]{current}[/]")
        else:
            console.print("No time zone is set: days are UTC days (shopkeeper timezone ZONE)")


@app.command("contract")
def contract_command(
    table: Annotated[str | None, typer.Argument(help="One table; all when omitted.")] = None,
    as_json: JsonOpt = False,
) -> None:
    """Show the data contract: the tables, their columns, keys and rules.

    [bold]Examples[/bold]

      shopkeeper contract
      shopkeeper contract order_lines
    """
    with _errors(as_json):
        specs = [contract.table(table)] if table else list(contract.TABLES)
        if as_json:
            _print_json([_spec_dict(s) for s in specs])
            return
        for spec in specs:
            grid = RichTable(title=f"{spec.name} — {spec.doc}", title_justify="left")
            for head in ("column", "type", "required", "rule", "example"):
                grid.add_column(head)
            for col in spec.columns:
                required = "key" if col.name in spec.key else ("yes" if col.required else "")
                if col.name == spec.derived_key:
                    required = "key (computed if absent)"
                grid.add_row(
                    col.name + (" (PII)" if col.pii else ""),
                    col.kind.value,
                    required,
                    col.rule_text(),
                    col.example,
                )
            console.print(grid)
            if spec.references:
                refs = ", ".join(f"{r.column} → {r.table}.{r.target}" for r in spec.references)
                console.print(f"  references: {refs}")


def _spec_dict(spec: contract.Table) -> dict[str, object]:
    return {
        "name": spec.name,
        "doc": spec.doc,
        "key": list(spec.key),
        "derived_key": spec.derived_key,
        "references": [r.__dict__ for r in spec.references],
        "row_rules": [{"columns": list(r.columns), "rule": r.text} for r in spec.row_rules],
        "columns": [
            {
                "name": c.name,
                "kind": c.kind.value,
                "required": c.required,
                "doc": c.doc,
                "example": c.example,
                "rule": c.rule_text(),
                "pii": c.pii,
            }
            for c in spec.columns
        ],
    }


@app.command("convert")
def convert_command(
    name: Annotated[
        str,
        typer.Argument(
            help="Data set: instacart, cdnow, cdnow_sample, groceries, dominicks, movielens."
        ),
    ],
    out: Annotated[Path, typer.Argument(help="Folder to write the contract CSV files into.")],
    source: Annotated[
        Path | None,
        typer.Option(
            help="The data set's folder. Default: $SHOPKEEPER_SHARED_DATA or ../shared/data."
        ),
    ] = None,
    load: Annotated[
        bool, typer.Option("--ingest", help="Also load the converted files into the store.")
    ] = False,
    workspace: WorkspaceOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Turn a real public data set into contract files (and optionally load them).

    Each adapter documents its mapping and every approximation it makes (for
    example, Instacart has no dates, so order dates are rebuilt from day gaps).

    [bold]Examples[/bold]

      shopkeeper convert instacart ./instacart
      shopkeeper convert cdnow ./cdnow --ingest -w ./cdnow-workspace
      shopkeeper convert dominicks ./oj --source /data/dominicks_oj --json
    """
    from shopkeeper.adapters import convert

    with _errors(as_json):
        tables = convert(name, source=source, out=out)
        payload: dict[str, object] = {
            "ok": True,
            "data_set": name,
            "out": str(out),
            "tables": {t: len(frame) for t, frame in tables.items()},
        }
        if load:
            store = Store.open(Workspace.resolve(workspace))
            with _progress(not as_json) as progress:
                result = load_folder(out, store, progress=progress)
            payload["loaded_rows"] = result.rows
        if as_json:
            _print_json(payload)
            return
        grid = RichTable(title=f"{name} → {out}", title_justify="left")
        grid.add_column("table")
        grid.add_column("rows", justify="right")
        for table, frame in tables.items():
            grid.add_row(table, f"{len(frame):,}")
        console.print(grid)
        if load:
            console.print(f"loaded {payload['loaded_rows']:,} rows into the store")


@app.command("serve")
def serve_command(
    host: Annotated[
        str, typer.Option(help="Address to listen on; keep 127.0.0.1 behind a proxy.")
    ] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.", min=1, max=65535)] = 8000,
    workers: Annotated[int, typer.Option(help="Worker processes.", min=1, max=64)] = 1,
    rate_limit: Annotated[
        float,
        typer.Option(
            "--rate-limit",
            help="Requests a second one key may send, per worker (bursts of twice that); "
            "0: no limit.",
            min=0,
        ),
    ] = 500.0,
    workspace: WorkspaceOpt = None,
) -> None:
    """Serve the REST API (/api/v1, docs at /docs) and the dashboard until Ctrl-C.

    Every API route but /api/v1/health and /api/v1/ready needs a key (see
    [bold]shopkeeper keys create[/bold]); the dashboard asks for one at login.
    A key past --rate-limit, and an address that sent 20 wrong keys within a
    minute, get 429 with Retry-After.
    One JSON log line per request goes to the shopkeeper.service.access logger (-v).

    [bold]Examples[/bold]

      shopkeeper keys create --name website --role operator
      shopkeeper serve --port 8080
      shopkeeper -v serve --workers 2
    """
    from shopkeeper.service import ServiceSettings, serve

    with _errors(False):
        ws = Workspace.resolve(workspace)
        Store.open(ws).close()  # fail here, clearly, if the store cannot be opened
        console.print(f"serving http://{host}:{port}/  (API docs: /docs)  Ctrl-C stops")
        burst = max(int(rate_limit * 2), 1)
        settings = ServiceSettings(rate_per_key=rate_limit, burst_per_key=burst)
        serve(ws, host=host, port=port, workers=workers, settings=settings)


keys_app = typer.Typer(
    help="API keys for the service: create (shown once), list, revoke.",
    no_args_is_help=True,
    rich_markup_mode="rich",
)
app.add_typer(keys_app, name="keys")


@keys_app.command("create")
def keys_create(
    name: Annotated[str, typer.Option(help="Who or what uses the key (a person, a website).")],
    role: Annotated[
        str, typer.Option(help="reader (read), operator (+ write events/orders, jobs), admin.")
    ] = "reader",
    workspace: WorkspaceOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Create an API key. Its token is printed once and cannot be shown again.

    [bold]Examples[/bold]

      shopkeeper keys create --name website --role operator
      shopkeeper keys create --name analyst --json | jq -r .token
    """
    from shopkeeper.access import create_key

    with _errors(as_json):
        key, token = create_key(Store.open(Workspace.resolve(workspace)), name, role)
        if as_json:
            _print_json({"ok": True, **key.to_dict(), "token": token})
            return
        console.print(f"created {key.role} key {key.key_id} for {key.name!r}; its token:")
        print(token)
        err.print("[dim]Store it now: only its hash is kept.[/]")


@keys_app.command("list")
def keys_list(workspace: WorkspaceOpt = None, as_json: JsonOpt = False) -> None:
    """List every API key (never the secrets), revoked ones included."""
    from shopkeeper.access import list_keys

    with _errors(as_json):
        found = list_keys(Store.open(Workspace.resolve(workspace)))
        if as_json:
            _print_json([k.to_dict() for k in found])
            return
        grid = RichTable(title_justify="left")
        for head in ("key id", "name", "role", "created", "last used", "revoked"):
            grid.add_column(head)
        for k in found:
            d = k.to_dict()
            grid.add_row(
                k.key_id,
                k.name,
                k.role,
                str(d["created_at"]),
                str(d["last_used_at"] or ""),
                str(d["revoked_at"] or ""),
            )
        console.print(grid)


@keys_app.command("revoke")
def keys_revoke(
    key_id: Annotated[str, typer.Argument(help="The key id (see 'shopkeeper keys list').")],
    workspace: WorkspaceOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Revoke an API key for good."""
    from shopkeeper.access import revoke_key

    with _errors(as_json):
        key = revoke_key(Store.open(Workspace.resolve(workspace)), key_id)
        if as_json:
            _print_json({"ok": True, **key.to_dict()})
        else:
            console.print(f"revoked key {key.key_id} ({key.name})")


@keys_app.command("audit")
def keys_audit(
    limit: Annotated[int, typer.Option("--limit", "-n", help="Newest records.", min=1)] = 50,
    action: Annotated[
        str | None,
        typer.Option(
            "--action", help="Only this action: keys.create, keys.revoke, customers.read_personal."
        ),
    ] = None,
    workspace: WorkspaceOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """The audit log: who created or revoked keys and who read personal data, newest first.

    The actor is key:<key_id> for the API, cli for this command line.

    [bold]Examples[/bold]

      shopkeeper keys audit
      shopkeeper keys audit --action customers.read_personal --json
    """
    from shopkeeper.audit import read_audit

    with _errors(as_json):
        rows = read_audit(Store.open(Workspace.resolve(workspace)), limit=limit, action=action)
        if as_json:
            _print_json({"ok": True, "items": rows})
            return
        grid = RichTable(title="Audit log, newest first", title_justify="left")
        for col in ("at", "actor", "action", "target"):
            grid.add_column(col)
        for row in rows:
            grid.add_row(row["at"], row["actor"], row["action"], row["target"])
        console.print(grid if rows else "no audit records yet")


@app.command()
def train(
    kind: Annotated[str, typer.Argument(help="The job kind, e.g. figures (see 'jobs --kinds').")],
    params: Annotated[
        str | None,
        typer.Option(
            "--params",
            help="Job parameters as a JSON object, e.g. '{\"quick\": true}' or "
            '\'{"rules": {"durable_categories": ["Electronics"]}}\'.',
        ),
    ] = None,
    workspace: WorkspaceOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Run a training job now, as a recorded job with its metrics.

    The new artifact goes into service only if the job succeeds; a failed job
    leaves the previous one in place.

    [bold]Examples[/bold]

      shopkeeper train figures
      shopkeeper train figures --json | jq .metrics
      shopkeeper train recommend --params '{"rules": {"max_per_category": 2}}'
    """
    from shopkeeper.jobs import job_kind, run_job

    with _errors(as_json):
        job_kind(kind)
        try:
            given = json.loads(params) if params else {}
        except json.JSONDecodeError as exc:
            raise ConfigError(
                f"--params is not valid JSON: {exc.msg} at column {exc.colno}"
            ) from exc
        if not isinstance(given, dict):
            raise ConfigError("--params must be a JSON object, like '{\"quick\": true}'")
        ws = Workspace.resolve(workspace)
        if as_json or not err.is_terminal:
            job = run_job(Store.open(ws), ws, kind, given)
        else:
            with Progress(
                TextColumn("[bold]{task.description}"),
                BarColumn(),
                TextColumn("{task.percentage:>3.0f}%"),
                TimeElapsedColumn(),
                TextColumn("{task.fields[note]}"),
                console=err,
                transient=True,
            ) as bar:
                task = bar.add_task(kind, total=1.0, note="")

                def show(share: float, message: str) -> None:
                    bar.update(task, completed=share, note=message)

                job = run_job(Store.open(ws), ws, kind, given, on_progress=show)
        if as_json:
            _print_json({"ok": job.state == "done", **job.to_dict()})
        elif job.state == "done":
            console.print(f"{kind}: done in {job.seconds:.1f} s (job {job.job_id})")
            for name, value in (job.metrics or {}).items():
                console.print(f"  {name}: {value}")
        else:
            err.print(f"[bold red]error:[/] job {job.job_id} failed: {job.error}")
        if job.state != "done":
            raise typer.Exit(1)


@app.command()
def jobs(
    kinds: Annotated[bool, typer.Option("--kinds", help="List the job kinds instead.")] = False,
    limit: Annotated[int, typer.Option(help="How many recent jobs.", min=1)] = 20,
    workspace: WorkspaceOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Recent jobs (training runs) with state, progress and metrics.

    [bold]Examples[/bold]

      shopkeeper jobs
      shopkeeper jobs --kinds
    """
    from shopkeeper.jobs import job_kinds, list_jobs

    with _errors(as_json):
        if kinds:
            listing = [{"kind": k.name, "description": k.description} for k in job_kinds().values()]
            if as_json:
                _print_json(listing)
            else:
                for item in listing:
                    console.print(f"[bold]{item['kind']}[/]  {item['description']}")
            return
        found = list_jobs(Store.open(Workspace.resolve(workspace)), limit=limit)
        if as_json:
            _print_json([j.to_dict() for j in found])
            return
        grid = RichTable(title_justify="left")
        for head in ("job", "kind", "state", "progress", "seconds", "error"):
            grid.add_column(head)
        for j in found:
            grid.add_row(
                j.job_id,
                j.kind,
                j.state,
                f"{j.progress:.0%}",
                "" if j.seconds is None else f"{j.seconds:.1f}",
                j.error or "",
            )
        console.print(grid)


def parse_day(text: str, option: str) -> Any:
    """A command-line date as a pandas Timestamp at midnight; a clear error otherwise."""
    import pandas as pd

    from shopkeeper.errors import ConfigError

    try:
        return pd.Timestamp(text).normalize()
    except ValueError as exc:
        raise ConfigError(f"{option} must be a date like 2024-11-01, not {text!r}") from exc


@contextmanager
def scratch_store(data: Path) -> Iterator[Store]:
    """Load a folder of contract files into a throw-away SQLite store, as ingest would."""
    import tempfile

    from shopkeeper.errors import ConfigError

    if not data.is_dir():
        raise ConfigError(f"--data {str(data)!r} is not a folder")
    with tempfile.TemporaryDirectory(prefix="shopkeeper-eval-") as tmp:
        store = Store(f"sqlite:///{Path(tmp) / 'eval.db'}")
        store.create()
        try:
            load_folder(data, store)
            yield store
        finally:
            store.engine.dispose()


evaluate_app = typer.Typer(
    help="Measure a capability offline on any folder in the data contract.",
    no_args_is_help=True,
)
app.add_typer(evaluate_app, name="evaluate")

# Capabilities' commands live in their own modules; importing them registers them.
from shopkeeper import (  # noqa: E402, F401
    _cli_basket,
    _cli_customers,
    _cli_decide,
    _cli_forecast,
    _cli_images,
    _cli_inventory,
    _cli_mmm,
    _cli_ope,
    _cli_orders,
    _cli_pricing,
    _cli_privacy,
    _cli_recommend,
)


def main() -> None:
    """Entry point of the ``shopkeeper`` script."""
    try:
        app()
    except KeyboardInterrupt:
        err.print("interrupted")
        sys.exit(130)
