"""CLI commands of orders and delivery: ``orders at-risk|carriers|flags``, ``evaluate delivery``.

The ``orders`` commands read the analysis of the last ``orders`` job
(``shopkeeper train orders``), or compute it on the spot from ``--data DIR``
(any folder of contract files, loaded into a throw-away store).
``evaluate delivery`` scores the late-delivery model against its baselines
on the later orders of any contract folder. Heavy imports happen inside the
commands.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table as RichTable

from shopkeeper.cli import (
    JsonOpt,
    WorkspaceOpt,
    _errors,
    _print_json,
    app,
    console,
    evaluate_app,
    scratch_store,
)
from shopkeeper.workspace import Workspace

orders_app = typer.Typer(
    help="Orders that need attention: late-delivery risk of every open order with its "
    "reasons, the carrier scorecard, and orders a person should look at (unusual quantity "
    "or amount for the customer, bursts, new accounts, overdue parcels). Reads the last "
    "'shopkeeper train orders', or computes from --data DIR.",
    no_args_is_help=True,
)
app.add_typer(orders_app, name="orders")

DataOpt = Annotated[
    Path | None,
    typer.Option(
        "--data",
        "-d",
        help="A folder of contract files to analyse now (default: the trained analysis).",
    ),
]
TopOpt = Annotated[int, typer.Option("--top", "-n", help="Rows to show.", min=1)]
TimezoneOpt = Annotated[
    str | None,
    typer.Option("--timezone", help="The shop's day with --data, e.g. +08:00 (default UTC)."),
]


def _analysis(data: Path | None, workspace: Path | None, timezone: str | None) -> Any:
    from shopkeeper.orders import OrderSettings, analyse, load_analysis, load_order_book

    if data is None:
        return load_analysis(Workspace.resolve(workspace))
    with scratch_store(data) as store:
        book = load_order_book(store, timezone=timezone)
    return analyse(book, OrderSettings(evaluate=False))


def _cell(value: Any) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ""
    if isinstance(value, bool):
        return "yes" if value else ""
    if isinstance(value, float):
        return f"{value:,.2f}" if abs(value) >= 10 else f"{value:.3f}"
    if hasattr(value, "strftime"):
        return f"{value:%Y-%m-%d %H:%M}"
    return str(value)


def _records(frame: Any) -> list[dict[str, Any]]:
    return list(json.loads(frame.to_json(orient="records", date_format="iso")))


def _grid(title: str, frame: Any, columns: list[str]) -> RichTable:
    grid = RichTable(title=title, title_justify="left")
    for i, column in enumerate(columns):
        grid.add_column(column.replace("_", " "), justify="left" if i < 2 else "right")
    for row in frame[columns].itertuples(index=False):
        grid.add_row(*[_cell(v) for v in row])
    return grid


@orders_app.command("at-risk")
def at_risk_command(
    data: DataOpt = None,
    top: TopOpt = 20,
    carrier: Annotated[
        str | None, typer.Option("--carrier", help="Only this carrier's orders.")
    ] = None,
    timezone: TimezoneOpt = None,
    workspace: WorkspaceOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Open orders by their risk of arriving late, with the reasons.

    Risk is the calibrated chance that the order misses its promised_at,
    from what was known when it was placed (carrier and its recent late
    rate, destination, promise, basket, weekday and hour, festival peaks).
    An order already past its promise has risk 1; one with an exception
    scan at least the share of such parcels that arrived late.

    [bold]Examples[/bold]

      shopkeeper orders at-risk --top 20
      shopkeeper orders at-risk --carrier "YTO Express" --json
      shopkeeper orders at-risk --data exports/ --timezone +08:00
    """
    with _errors(as_json):
        an = _analysis(data, workspace, timezone)
        rows = an.at_risk
        if carrier is not None:
            rows = rows[rows["carrier"] == carrier]
        shown = rows.head(top)
        if as_json:
            _print_json(
                {
                    "ok": True,
                    "as_of": str(an.as_of),
                    "open_orders": len(an.at_risk),
                    "orders": _records(shown),
                }
            )
            return
        console.print(
            f"{len(an.at_risk):,} open orders as of {an.as_of:%Y-%m-%d %H:%M} UTC; "
            f"{int((an.at_risk['risk'] >= 0.5).sum()):,} at risk 50% or more",
            highlight=False,
        )
        grid = RichTable(title=f"Top {len(shown)} by risk", title_justify="left")
        for column in ("order", "carrier", "to", "promised by (UTC)", "risk", "why"):
            grid.add_column(column, justify="right" if column == "risk" else "left")
        for row in shown.itertuples(index=False):
            grid.add_row(
                str(row.order_id),
                _cell(row.carrier),
                _cell(row.ship_city),
                _cell(row.deadline),
                f"{row.risk:.0%}",
                "; ".join(row.reasons[:3]),
            )
        console.print(grid)


@orders_app.command("carriers")
def carriers_command(
    data: DataOpt = None,
    timezone: TimezoneOpt = None,
    workspace: WorkspaceOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """The carrier scorecard: on-time rate, delays, lost parcels and the trend.

    On time = delivered_at at or before promised_at (a date-only promise
    covers its whole day); late includes parcels never delivered. Delays are
    days after the promise per delivered parcel (0 when on time). The trend
    compares the last 4 weeks of due orders with the 12 before and says
    "worse" only when the drop is at least 2 points and 2 standard errors.

    [bold]Examples[/bold]

      shopkeeper orders carriers
      shopkeeper orders carriers --data exports/ --json
    """
    with _errors(as_json):
        an = _analysis(data, workspace, timezone)
        table = an.carriers
        if as_json:
            _print_json({"ok": True, "as_of": str(an.as_of), "carriers": _records(table)})
            return
        cols = [
            "carrier",
            "orders",
            "settled",
            "on_time_rate",
            "late",
            "lost",
            "mean_delay_days",
            "p90_delay_days",
            "mean_transit_days",
            "worsening",
        ]
        console.print(_grid(f"Carriers as of {an.as_of:%Y-%m-%d}", table, cols))
        for row in table.itertuples(index=False):
            console.print(f"  {row.carrier}: {row.trend}", highlight=False)


@orders_app.command("flags")
def flags_command(
    data: DataOpt = None,
    kind: Annotated[
        str | None,
        typer.Option(
            "--kind",
            help="Only one kind: quantity, amount, burst, new_account, overdue or exception.",
        ),
    ] = None,
    top: TopOpt = 50,
    timezone: TimezoneOpt = None,
    workspace: WorkspaceOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Recent orders a person should look at, each with the reason in words.

    Quantity and amount are compared with the customer's own earlier orders
    (a robust z on the log scale; guests and customers with fewer than 5
    orders with the shop's), bursts are many orders of one customer to one
    city within 24 hours, new accounts are big first orders; overdue and
    exception flags point at parcels to chase. See docs/orders.md.

    [bold]Examples[/bold]

      shopkeeper orders flags
      shopkeeper orders flags --kind burst --json
    """
    from shopkeeper.errors import ConfigError
    from shopkeeper.orders import FLAG_KINDS

    with _errors(as_json):
        if kind is not None and kind not in FLAG_KINDS:
            raise ConfigError(f"--kind {kind!r} is not one of {', '.join(FLAG_KINDS)}")
        an = _analysis(data, workspace, timezone)
        flags = an.flags
        if kind is not None:
            flags = flags[flags["kind"] == kind]
        shown = flags.head(top)
        if as_json:
            by_kind = {str(k): int(v) for k, v in flags["kind"].value_counts().items()}
            _print_json(
                {"ok": True, "total": len(flags), "by_kind": by_kind, "flags": _records(shown)}
            )
            return
        days = an.settings.flag_days
        console.print(
            f"{len(flags):,} flags on {flags['order_id'].nunique():,} orders placed in the "
            f"last {days} days",
            highlight=False,
        )
        console.print(_grid("Orders to look at", shown, ["order_id", "kind", "open", "reason"]))


@evaluate_app.command("delivery")
def evaluate_delivery(
    data: Annotated[
        Path, typer.Option("--data", "-d", help="A folder of contract files (CSV/Parquet).")
    ],
    holdout: Annotated[
        float,
        typer.Option("--holdout", help="The later share of settled orders held out.", min=0.05),
    ] = 0.2,
    timezone: TimezoneOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Score the late-delivery model on the later orders of a folder of contract files.

    Orders whose promise has passed are sorted by when they were placed; the
    last --holdout share is the test. On the earlier ones four models are
    fitted (the carrier's historic late rate, a logistic regression, LightGBM
    with default settings, and shopkeeper's calibrated model) and scored by
    ROC-AUC, PR-AUC, Brier score and log-loss on the test orders. Needs
    orders with promised_at and delivered_at (and carrier).

    [bold]Examples[/bold]

      shopkeeper evaluate delivery --data exports/ --json
      shopkeeper evaluate delivery --data exports/ --holdout 0.3 --timezone +08:00
    """
    from shopkeeper.errors import ConfigError
    from shopkeeper.orders import (
        evaluate_risk,
        load_order_book,
        order_features,
        require_delivery_facts,
    )

    with _errors(as_json):
        if holdout >= 0.9:
            raise ConfigError(f"--holdout {holdout} must be below 0.9")
        with scratch_store(data) as store:
            book = load_order_book(store, timezone=timezone)
        require_delivery_facts(book)
        labelled = book.labelled
        features = order_features(book).loc[labelled["order_id"]]
        result = evaluate_risk(
            features, labelled["late"].to_numpy(), labelled["ordered_at"], holdout=holdout
        )
        if as_json:
            _print_json({"ok": True, "data": str(data), **result.to_dict()})
            return
        console.print(
            f"trained on {result.train_orders:,} orders ({result.train_late_rate:.1%} late), "
            f"tested on the {result.test_orders:,} placed from {result.test_from} "
            f"({result.test_late_rate:.1%} late)",
            highlight=False,
        )
        grid = RichTable(title="Late delivery on held-out orders (AUC: higher is better)")
        grid.add_column("model")
        for column in ("ROC-AUC", "PR-AUC", "Brier", "log-loss", "fit s"):
            grid.add_column(column, justify="right")
        for row in result.table.itertuples(index=False):
            grid.add_row(
                str(row.model),
                f"{row.roc_auc:.3f}",
                f"{row.pr_auc:.3f}",
                f"{row.brier:.4f}",
                f"{row.log_loss:.4f}",
                f"{row.fit_seconds:.1f}",
            )
        console.print(grid)
