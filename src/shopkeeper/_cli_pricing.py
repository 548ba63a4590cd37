"""CLI: ``shopkeeper pricing ...``, how demand answers to price and what to charge.

Without ``--data`` the commands read the analysis of the last ``pricing``
job (``shopkeeper train pricing``), the one the API and the dashboard show.
With ``--data DIR`` (any folder of contract files) they compute it there and
then, in a throw-away store. ``simulate`` runs the price bandit against a
fixed price and greedy on the demo shop's planted price response.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich import box
from rich.table import Table as RichTable

from shopkeeper.cli import JsonOpt, WorkspaceOpt, _errors, _print_json, app, console, scratch_store
from shopkeeper.errors import ConfigError
from shopkeeper.workspace import Workspace

if TYPE_CHECKING:
    from shopkeeper.pricing import PricingAnalysis

pricing_app = typer.Typer(
    help="Price elasticities, their variation by store, recommended prices, the price bandit.",
    no_args_is_help=True,
    rich_markup_mode="rich",
)
app.add_typer(pricing_app, name="pricing")

DataOpt = Annotated[
    Path | None,
    typer.Option(
        "--data",
        "-d",
        help="A folder of contract files to analyse instead of the trained analysis "
        "(it needs products, orders and order_lines; promotions and locations help).",
    ),
]
TopOpt = Annotated[int, typer.Option("--top", "-n", help="Rows to show.", min=1)]


def _analysis(data: Path | None, workspace: Path | None, dml: bool = True) -> PricingAnalysis:
    from shopkeeper.pricing import PricingSettings, analyse, load_analysis

    if data is not None:
        with scratch_store(data) as store:
            return analyse(store, PricingSettings(by_location_dml=dml))
    return load_analysis(Workspace.resolve(workspace))


def _records(frame: Any) -> list[dict[str, Any]]:
    return list(json.loads(frame.to_json(orient="records")))


def _num(value: Any, fmt: str = ".2f") -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ""
    return format(float(value), fmt)


NOTES_SHOWN = 5


def _notes(notes: list[str]) -> None:
    """The first few notes; a shop with many products has one per product left out."""
    for note in notes[:NOTES_SHOWN]:
        console.print(f"[dim]note: {note}[/dim]", highlight=False)
    if len(notes) > NOTES_SHOWN:
        console.print(
            f"[dim]... and {len(notes) - NOTES_SHOWN:,} more notes (--json lists them all)[/dim]",
            highlight=False,
        )


@pricing_app.command("elasticity")
def elasticity_command(
    data: DataOpt = None,
    top: TopOpt = 30,
    workspace: WorkspaceOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Own-price elasticity per product with 95% intervals, and the pooled models.

    A log-log model of units on the product's own price and (where the data
    allows) the other products' prices, with promotion flags and location
    and period fixed effects; standard errors clustered by location. An
    elasticity of -2 means 1% dearer sells about 2% fewer units.

    [bold]Examples[/bold]

      shopkeeper train pricing && shopkeeper pricing elasticity
      shopkeeper pricing elasticity --data ./oj-contract --json
    """
    with _errors(as_json):
        analysis = _analysis(data, workspace, dml=False)
        e = analysis.elasticities
        if as_json:
            _print_json(
                {
                    "ok": True,
                    "frequency": analysis.frequency,
                    "cluster_by": e.cluster_by,
                    "products": _records(e.own),
                    "pooled": _records(e.pooled),
                    "promotions": _records(e.promotions),
                    "notes": analysis.notes,
                }
            )
            return
        grid = RichTable(
            title=f"Own-price elasticity ({analysis.frequency}ly, clustered by {e.cluster_by})",
            title_justify="left",
            box=box.SIMPLE_HEAD,
            pad_edge=False,
        )
        for name in ("product", "elasticity", "95% interval", "n", "from"):
            grid.add_column(name, justify="left" if name in {"product", "from"} else "right")
        for r in e.own.head(top).itertuples(index=False):
            grid.add_row(
                str(r.product_id),
                _num(r.elasticity),
                f"{_num(r.lo)} to {_num(r.hi)}",
                f"{int(r.n):,}",
                str(r.source),
            )
        console.print(grid)
        for r in e.pooled.itertuples(index=False):
            console.print(
                f"pooled {r.group}: {_num(r.elasticity)} ({_num(r.lo)} to {_num(r.hi)})",
                highlight=False,
            )
        _notes(analysis.notes)


@pricing_app.command("by-location")
def by_location_command(
    data: DataOpt = None,
    top: TopOpt = 10,
    workspace: WorkspaceOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """How own-price elasticity varies with the locations' attributes.

    Double machine learning with cross-fitting: units and price are each
    predicted from everything else out of fold, and the residual of units is
    regressed on the residual of price times the (standardised) attributes.
    A coefficient is the change of the elasticity per standard deviation.

    [bold]Example[/bold]

      shopkeeper pricing by-location --data ./oj-contract
    """
    with _errors(as_json):
        h = _analysis(data, workspace).by_location
        if h is None:
            raise ConfigError(
                "the analysis has no elasticity by location: the locations carry no numeric "
                "attributes"
            )
        if as_json:
            _print_json(
                {
                    "ok": True,
                    "coefficients": _records(h.coefficients),
                    "locations": _records(h.by_location),
                    "r2_outcome": h.r2_outcome,
                    "r2_price": h.r2_price,
                }
            )
            return
        grid = RichTable(box=box.SIMPLE_HEAD, pad_edge=False, title="Per standard deviation")
        for name in ("term", "coefficient", "95% interval", "p"):
            grid.add_column(name, justify="left" if name == "term" else "right")
        for r in h.coefficients.itertuples(index=False):
            grid.add_row(
                str(r.term),
                _num(r.coef, ".3f"),
                f"{_num(r.lo, '.3f')} to {_num(r.hi, '.3f')}",
                _num(r.p_value, ".3f"),
            )
        console.print(grid)
        ranked = h.by_location.sort_values("elasticity")
        for label, part in (("most", ranked.head(top)), ("least", ranked.tail(top)[::-1])):
            console.print(
                f"{label} price-sensitive: "
                + ", ".join(f"{r.location_id} {r.elasticity:.2f}" for r in part.itertuples()),
                highlight=False,
            )


@pricing_app.command("recommend")
def recommend_command(
    data: DataOpt = None,
    top: TopOpt = 20,
    workspace: WorkspaceOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """The profit-maximising price per product within the guardrails, and what it would do.

    Under constant elasticity e < -1 the best price is cost × e / (1 + e);
    for |e| <= 1 a higher price always earns more, so the price rests at the
    ceiling. The guardrails (those of the job's settings) bound it; the
    expected change in units, revenue and profit carries the elasticity's
    interval. first_step is the price after one day's largest move.

    [bold]Examples[/bold]

      shopkeeper pricing recommend --top 10
      shopkeeper train pricing --params '{"ceiling": 1.1, "margin_floor": 0.2}'
    """
    with _errors(as_json):
        analysis = _analysis(data, workspace, dml=False)
        recs = analysis.recommendations
        if "profit_new" in recs:
            recs = recs.assign(profit_gain=recs["profit_new"] - recs["profit_now"])
            recs = recs.sort_values("profit_gain", ascending=False, na_position="last")
        if as_json:
            _print_json(
                {"ok": True, "guardrails": analysis.guardrails, "recommendations": _records(recs)}
            )
            return
        grid = RichTable(box=box.SIMPLE_HEAD, pad_edge=False)
        for name in ("product", "elasticity", "now", "recommended", "bound", "units", "profit"):
            grid.add_column(name, justify="left" if name in {"product", "bound"} else "right")
        for r in recs.head(top).to_dict(orient="records"):
            grid.add_row(
                str(r["product_id"]),
                _num(r.get("elasticity")),
                _num(r.get("current_price")),
                _num(r.get("recommended_price")),
                str(r.get("bound") or ""),
                _num(r.get("units_change"), "+.1%"),
                _num(r.get("profit_change"), "+.1%"),
            )
        console.print(grid)


@pricing_app.command("simulate")
def simulate_command(
    days: Annotated[int, typer.Option(help="Simulated days.", min=1)] = 90,
    seeds: Annotated[int, typer.Option(help="Runs with different visitors.", min=1)] = 3,
    products: Annotated[int, typer.Option(help="Best sellers simulated.", min=1)] = 6,
    preset: Annotated[str, typer.Option(help="Demo shop size: small or default.")] = "small",
    as_json: JsonOpt = False,
) -> None:
    """The price bandit on the demo shop's planted price response: regret per policy.

    Visitors of the demo's best sellers arrive each day and buy with the
    demo's planted chance at the price shown; each policy learns from what
    it sees. Regret is the margin lost against the best price of the grid,
    summed over the days: the capped Thompson policy (the default of
    `shopkeeper policies start-price`) against the fixed list price, greedy
    and the others.

    [bold]Example[/bold]

      shopkeeper pricing simulate --days 60 --seeds 5
    """
    from shopkeeper.decide._pricing_sim import demo_products, simulate_price_bandit
    from shopkeeper.demo import DemoConfig, generate

    with _errors(as_json):
        shop = generate(DemoConfig.preset(preset))
        result = simulate_price_bandit(
            demo_products(shop, count=products), days=days, seeds=tuple(range(seeds))
        )
        summary = result.summary
        table = summary.final.reset_index()
        if as_json:
            _print_json(
                {
                    "ok": True,
                    "days": summary.days,
                    "seeds": list(summary.seeds),
                    "products": list(summary.products),
                    "optimal": summary.optimal,
                    "best": summary.best(),
                    "policies": _records(table),
                }
            )
            return
        console.print(
            f"{len(summary.products)} products, {summary.days} days, {len(summary.seeds)} seeds; "
            f"the best grid price earns {summary.optimal:,.0f} in expectation",
            highlight=False,
        )
        grid = RichTable(box=box.SIMPLE_HEAD, pad_edge=False)
        for name in ("policy", "regret", "sd", "share of best"):
            grid.add_column(name, justify="left" if name == "policy" else "right")
        for r in table.sort_values("regret").itertuples(index=False):
            grid.add_row(str(r.policy), f"{r.regret:,.0f}", f"{r.sd:,.0f}", f"{r.share:.1%}")
        console.print(grid)
