"""CLI commands of the inventory policy: ``reorder-plan`` and ``evaluate inventory``.

``reorder-plan`` computes the plan from the store as it is now (stock changes
every day; the ``inventory`` job's artifact serves the API), or from any folder
of contract files with ``--data``. ``evaluate inventory`` replays the policy
next to the naive rule over a holdout. Heavy imports happen inside the commands.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich import box
from rich.table import Table as RichTable

from shopkeeper.cli import (
    JsonOpt,
    WorkspaceOpt,
    _errors,
    _print_json,
    _progress,
    app,
    console,
    evaluate_app,
    scratch_store,
)
from shopkeeper.errors import ConfigError
from shopkeeper.store import Store
from shopkeeper.workspace import Workspace

if TYPE_CHECKING:
    from shopkeeper.inventory import PolicySettings, Stock

DataOpt = Annotated[
    Path | None,
    typer.Option(
        "--data",
        "-d",
        help="A folder of contract files (CSV/Parquet) to plan for instead of the workspace's "
        "store; it needs inventory, products, orders and order_lines.",
    ),
]
LevelOpt = Annotated[
    float | None,
    typer.Option(
        "--service-level",
        help="One target for every product, e.g. 0.95 (default: each inventory row's "
        "service_level, else 0.95).",
    ),
]
ReviewOpt = Annotated[
    str,
    typer.Option(
        "--policy",
        help="continuous: reorder Q (the economic order quantity) when the position falls to "
        "the reorder point; periodic: every --review-period days, order up to a level.",
    ),
]
PeriodOpt = Annotated[
    int,
    typer.Option(
        "--review-period",
        help="Days between reviews (periodic) and between recomputations of the policy.",
        min=1,
    ),
]
TargetOpt = Annotated[
    str,
    typer.Option(
        "--target",
        help="cycle: the level is the chance a cycle ends without a stock-out; fill_rate: "
        "the share of demand served from the shelf.",
    ),
]
TimezoneOpt = Annotated[
    str | None,
    typer.Option("--timezone", help="The shop's day, e.g. +08:00 (default: the store's setting)."),
]


def _settings(level: float | None, policy: str, period: int, target: str) -> PolicySettings:
    from shopkeeper.inventory import PolicySettings

    if level is not None and not 0 < level < 1:
        raise ConfigError(f"--service-level must lie strictly between 0 and 1, got {level:g}")
    return PolicySettings(
        review=policy, review_days=period, override_level=level or 0.0, target=target
    )


@contextmanager
def _stock(data: Path | None, workspace: Path | None, timezone: str | None) -> Iterator[Stock]:
    from shopkeeper.inventory import load_stock

    if data is not None:
        with scratch_store(data) as store:
            yield load_stock(store, timezone=timezone)
        return
    yield load_stock(Store.open(Workspace.resolve(workspace)), timezone=timezone)


def _cell(value: Any, digits: int = 1) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ""
    if isinstance(value, bool):
        return "yes" if value else ""
    if isinstance(value, float):
        return f"{value:,.{digits}f}"
    return str(value)


def _records(frame: Any) -> list[dict[str, Any]]:
    return list(json.loads(frame.to_json(orient="records", date_format="iso")))


@app.command("reorder-plan")
def reorder_plan_command(
    data: DataOpt = None,
    service_level: LevelOpt = None,
    policy: ReviewOpt = "continuous",
    review_period: PeriodOpt = 7,
    target: TargetOpt = "cycle",
    top: Annotated[
        int, typer.Option("--top", "-n", help="Rows to show (all with --csv).", min=1)
    ] = 20,
    due: Annotated[bool, typer.Option("--due", help="Only rows with an order due now.")] = False,
    csv: Annotated[
        Path | None, typer.Option("--csv", help="Write the whole plan to this CSV file.")
    ] = None,
    timezone: TimezoneOpt = None,
    workspace: WorkspaceOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """What to reorder today: per product and location, order now or not, and how much.

    Demand per day is forecast (a 28-day moving average by default) and the
    safety stock covers the forecast's own measured error over the lead time
    at each row's service level; the reorder point is the lead time's demand
    plus that safety stock, the order quantity the economic order quantity
    (from order_cost, unit_cost and holding_cost_rate; missing ones take the
    defaults in docs/inventory.md). Each row also shows the day its stock on
    hand would run out with no order arriving, its days of cover, the chance
    of running out before an order placed now arrives, and the money tied up.
    Rows are sorted by urgency: orders due first, then the highest risk.

    [bold]Examples[/bold]

      shopkeeper reorder-plan
      shopkeeper reorder-plan --due --top 50
      shopkeeper reorder-plan --service-level 0.98 --policy periodic --review-period 14
      shopkeeper reorder-plan --data exports/ --csv plan.csv
      shopkeeper reorder-plan --json | jq '.plan[] | select(.order_now) | .product_id'
    """
    from shopkeeper.inventory import reorder_plan

    with _errors(as_json):
        cfg = _settings(service_level, policy, review_period, target)
        with _stock(data, workspace, timezone) as stock:
            plan = reorder_plan(stock, cfg)
        if csv is not None:
            plan.to_csv(csv, index=False, float_format="%.6g")
        shown = plan[plan["order_now"]] if due else plan
        totals = {
            "items": len(plan),
            "orders_due": int(plan["order_now"].sum()),
            "order_units": float(plan["order_units"].sum()),
            "order_value": round(float(plan["order_value"].sum()), 2),
            "stock_value": round(float(plan["stock_value"].sum()), 2),
        }
        if as_json:
            _print_json(
                {
                    "ok": True,
                    "as_of": str(stock.as_of.date()),
                    "timezone": stock.timezone,
                    "review": cfg.review,
                    "totals": totals,
                    "notes": stock.notes,
                    "plan": _records(shown.head(top)),
                }
            )
            return
        console.print(
            f"Reorder plan for {stock.as_of.date()} ({stock.timezone}): "
            f"{totals['orders_due']:,} of {totals['items']:,} rows to order now, "
            f"{totals['order_value']:,.2f} in orders; {totals['stock_value']:,.2f} on the shelves",
            highlight=False,
        )
        grid = RichTable(title_justify="left", box=box.SIMPLE_HEAD, pad_edge=False)
        rows = shown.head(top)
        # Ids must stay readable on a narrow terminal; the numbers give way first.
        wide = int(rows["product_id"].astype(str).str.len().max()) if len(rows) else 7
        grid.add_column("product", no_wrap=True, min_width=min(max(wide, 7), 24))
        grid.add_column("location", no_wrap=True)
        for head in ("hand", "/day", "lead", "s", "order", "risk"):
            grid.add_column(head, justify="right", no_wrap=True, min_width=4)
        grid.add_column("runs out", no_wrap=True)
        grid.add_column("cover", justify="right", no_wrap=True, min_width=5)
        for r in rows.itertuples(index=False):
            runout = r.runout_date
            grid.add_row(
                str(r.product_id),
                str(r.location_id),
                _cell(r.on_hand, 0),
                _cell(r.demand_per_day, 2),
                _cell(r.lead_time_days, 0),
                _cell(r.reorder_point, 0),
                _cell(r.order_units, 0) if r.order_now else "",
                f"{r.stockout_risk:.0%}",
                "" if runout is None or runout != runout else str(runout),
                _cell(r.days_of_cover, 0),
            )
        console.print(grid)
        console.print(
            "hand: on hand; /day: forecast demand; lead, cover: days; s: the "
            "reorder point (S when periodic); risk: of running out before an order placed now "
            "arrives; runs out: with no order arriving. --json or --csv for every column.",
            style="dim",
        )
        if csv is not None:
            console.print(f"The whole plan ({len(plan):,} rows) is in {csv}")
        for note in stock.notes:
            console.print(f"note: {note}")


@evaluate_app.command("inventory")
def evaluate_inventory(
    data: Annotated[
        Path, typer.Option("--data", "-d", help="A folder of contract files (CSV/Parquet).")
    ],
    holdout_days: Annotated[
        int, typer.Option("--holdout-days", help="The last days of the data to replay.", min=1)
    ] = 90,
    warmup_days: Annotated[
        int,
        typer.Option(
            "--warmup-days", help="Days simulated before the holdout, not counted.", min=0
        ),
    ] = 56,
    service_level: LevelOpt = None,
    policy: ReviewOpt = "continuous",
    review_period: PeriodOpt = 7,
    target: TargetOpt = "cycle",
    timezone: TimezoneOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Replay the stock policy over the data's last days, next to a naive rule.

    Day by day, the recorded sales hit the shelf (what it cannot serve is a
    lost sale), orders arrive after their lead time, and the policy is
    recomputed every --review-period days from the days before only. The
    naive rule reorders 30 days of average demand when the position falls to
    lead time + 7 days of it. Reported: fill rate (units served / demanded),
    cycle service level, stock-out days, average stock in units and money,
    orders and their costs; then each rule at other settings (the curves) and
    the naive rule's stock at the policy's fill rate.

    [bold]Examples[/bold]

      shopkeeper evaluate inventory --data demo-shop/ --holdout-days 90
      shopkeeper evaluate inventory --data exports/ --holdout-days 56 --policy periodic --json
    """
    from shopkeeper.inventory import load_stock, simulate

    with _errors(as_json):
        cfg = _settings(service_level, policy, review_period, target)
        with scratch_store(data) as store:
            stock = load_stock(store, timezone=timezone)
        with _progress(not as_json) as bar:

            def step(name: str, done: int, total: int) -> None:
                if bar is not None:
                    bar(name, "", done, total)

            sim = simulate(
                stock, cfg, holdout_days=holdout_days, warmup_days=warmup_days, progress=step
            )
        payload = {"ok": True, "data": str(data), **sim.to_dict()}
        if as_json:
            _print_json(payload)
            return
        console.print(
            f"{sim.items:,} product-locations replayed {sim.holdout[0]} … {sim.holdout[1]} "
            f"after {sim.warmup_days} warm-up days; forecast: {sim.forecaster}, "
            f"{cfg.review} review",
            highlight=False,
        )
        console.print(_sim_table("Policy against the naive rule", sim.headline()))
        console.print(_sim_table("Curves: stock against fill rate", sim.curves()))
        for name, m in sim.matched.items():
            if m["naive_average_units"] is None:
                console.print(f"{name}: fill rate {m['fill_rate']:.3f} is outside the naive curve")
                continue
            console.print(
                f"{name}: fill rate {m['fill_rate']:.3f} with {m['average_units']:,.0f} units "
                f"({m['average_value']:,.0f} at cost); the naive rule at that fill rate: "
                f"{m['naive_average_units']:,.0f} units ({m['naive_average_value']:,.0f}), so "
                f"the policy holds {_less(m['average_units_saved'], 'fewer')} units, "
                f"{_less(m['average_value_saved'])} value; hold+order cost "
                f"{_less(m['total_cost_saved'])}",
                highlight=False,
            )


def _less(saved: float | None, word: str = "less") -> str:
    if saved is None:
        return "(no comparison)"
    return f"{abs(saved):.1%} {word if saved >= 0 else 'more'}"


def _sim_table(title: str, rows: Any) -> RichTable:
    grid = RichTable(title=title, title_justify="left")
    columns = [
        ("policy", "policy"),
        ("fill_rate", "fill rate"),
        ("cycle_service_level", "cycle SL"),
        ("stockout_days", "stock-out d"),
        ("average_units", "avg units"),
        ("average_value", "avg value"),
        ("orders", "orders"),
        ("total_cost", "hold+order cost"),
    ]
    for i, (_, head) in enumerate(columns):
        grid.add_column(head, justify="left" if i == 0 else "right")
    for row in rows.to_dict(orient="records"):
        grid.add_row(
            str(row["policy"]),
            f"{row['fill_rate']:.3f}",
            f"{row['cycle_service_level']:.3f}",
            f"{row['stockout_days']:,}",
            f"{row['average_units']:,.0f}",
            f"{row['average_value']:,.0f}",
            f"{row['orders']:,}",
            f"{row['total_cost']:,.0f}",
        )
    return grid
