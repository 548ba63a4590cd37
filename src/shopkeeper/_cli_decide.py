"""CLI: ``shopkeeper policies ...``, the learning policies and their decision log.

``start-price`` and ``start-slot`` create a policy in the workspace's store;
the service then serves it (``POST /api/v1/decide/price`` or ``/decide/slot``)
and learns from ``POST /api/v1/outcomes``. ``list`` and ``show`` tell what
each policy has served and learned; ``stop`` ends one; ``export`` writes its
settled decisions as the log ``shopkeeper ope --log`` reads.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import typer
from rich import box
from rich.table import Table as RichTable

from shopkeeper.cli import JsonOpt, WorkspaceOpt, _errors, _print_json, app, console
from shopkeeper.errors import ConfigError
from shopkeeper.store import Store
from shopkeeper.workspace import Workspace

policies_app = typer.Typer(
    help="Learning policies for prices and slots: start, list, show, stop, export the log.",
    no_args_is_help=True,
    rich_markup_mode="rich",
)
app.add_typer(policies_app, name="policies")

KindOpt = Annotated[
    str | None,
    typer.Option(
        "--kind",
        help="bernoulli-thompson, gaussian-thompson, ucb, epsilon-greedy, linucb, "
        "linear-thompson, logistic-thompson (default: bernoulli-thompson, a price's purchase "
        "weighed by its margin; linucb for a slot with --features).",
    ),
]
IdOpt = Annotated[
    str | None, typer.Option("--id", help="The policy's name (default: price:PRODUCT, slot:SLOT).")
]
ParamsOpt = Annotated[
    str | None,
    typer.Option("--params", help="The kind's settings as JSON, e.g. '{\"epsilon\": 0.1}'."),
]


def _store(workspace: Path | None) -> Store:
    return Store.open(Workspace.resolve(workspace))


def _params(text: str | None) -> dict[str, Any] | None:
    if text is None:
        return None
    try:
        value = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ConfigError(
            f"--params {text!r}: not JSON ({exc.msg} at column {exc.pos + 1})"
        ) from exc
    if not isinstance(value, dict):
        raise ConfigError(f"--params {text!r}: must be a JSON object")
    return value


def _show_summary(summary: dict[str, Any]) -> None:
    mean = summary["mean_reward"]
    console.print(
        f"[bold]{summary['policy_id']}[/bold] ({summary['purpose']}, {summary['kind']}, "
        f"{summary['status']}, version {summary['version']}): {summary['decisions']:,} "
        f"decisions, {summary['outcomes']:,} outcomes"
        + (f", mean reward {mean:.4g}" if mean is not None else ""),
        highlight=False,
    )


@policies_app.command("start-price")
def start_price(
    product_id: Annotated[str, typer.Argument(help="The product to price.")],
    kind: KindOpt = None,
    points: Annotated[int, typer.Option("--points", help="Prices in the grid.", min=2)] = 7,
    floor: Annotated[float, typer.Option(help="Lowest price, share of catalogue.")] = 0.8,
    ceiling: Annotated[float, typer.Option(help="Highest price, share of catalogue.")] = 1.2,
    margin_floor: Annotated[float, typer.Option(help="Least (price - cost) / price.")] = 0.05,
    max_change: Annotated[
        float, typer.Option("--max-change", help="Largest move of the day's price a day.")
    ] = 0.1,
    explore: Annotated[
        float, typer.Option("--explore", help="Share of visitors the policy may explore on.")
    ] = 0.2,
    reward: Annotated[str, typer.Option(help="margin, revenue or purchase.")] = "margin",
    policy_id: IdOpt = None,
    params: ParamsOpt = None,
    workspace: WorkspaceOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Start learning the price of one product within guardrails.

    The grid has --points prices between --floor and --ceiling times the
    catalogue price, none below the cost's --margin-floor. Each day's prices
    stay within --max-change of that day's anchor price, which starts at the
    catalogue price and moves at most that much a day towards the best price
    so far; 1 - --explore of the visitors see the best allowed price.

    [bold]Examples[/bold]

      shopkeeper policies start-price P0001
      shopkeeper policies start-price P0001 --points 9 --floor 0.7 --explore 0.3
      shopkeeper policies start-price P0001 --kind epsilon-greedy --params '{"epsilon": 0.1}'
    """
    from shopkeeper.decide import PriceGuardrails, start_price_policy

    with _errors(as_json):
        rails = PriceGuardrails(
            floor=floor,
            ceiling=ceiling,
            margin_floor=margin_floor,
            max_change_per_day=max_change,
            exploration_share=explore,
        )
        record = start_price_policy(
            _store(workspace),
            product_id,
            kind=kind or "bernoulli-thompson",
            points=points,
            guardrails=rails,
            reward=reward,
            policy_id=policy_id,
            params=_params(params),
        )
        if as_json:
            _print_json({"ok": True, "policy": record.summary()})
            return
        _show_summary(record.summary())
        console.print("prices: " + ", ".join(record.actions), highlight=False)


@policies_app.command("start-slot")
def start_slot(
    slot: Annotated[str, typer.Argument(help="The placement's name, e.g. home-hero.")],
    items: Annotated[str, typer.Option("--items", help="Comma-separated item ids to choose from.")],
    positions: Annotated[int, typer.Option(help="Places in the slot.", min=1)] = 1,
    kind: KindOpt = None,
    reward: Annotated[str, typer.Option(help="click, purchase or revenue.")] = "click",
    features: Annotated[
        str | None,
        typer.Option(help="Comma-separated context features (contextual kinds need them)."),
    ] = None,
    policy_id: IdOpt = None,
    params: ParamsOpt = None,
    workspace: WorkspaceOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Start learning which items to show in a slot (an ad or product placement).

    [bold]Examples[/bold]

      shopkeeper policies start-slot home-hero --items P0001,P0002,P0003 --positions 2
      shopkeeper policies start-slot cart-upsell --items P7,P8,P9 --kind linucb \\
          --features is_mobile,cart_value
    """
    from shopkeeper.decide import start_slot_policy

    with _errors(as_json):
        names = [f.strip() for f in features.split(",") if f.strip()] if features else None
        record = start_slot_policy(
            _store(workspace),
            slot,
            [i.strip() for i in items.split(",") if i.strip()],
            kind=kind or ("linucb" if names else "bernoulli-thompson"),
            positions=positions,
            reward=reward,
            features=names,
            policy_id=policy_id,
            params=_params(params),
        )
        if as_json:
            _print_json({"ok": True, "policy": record.summary()})
            return
        _show_summary(record.summary())


@policies_app.command("list")
def list_command(
    purpose: Annotated[str | None, typer.Option(help="price or slot.")] = None,
    running: Annotated[bool, typer.Option("--running", help="Only running ones.")] = False,
    workspace: WorkspaceOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Every policy, newest first: what it decides, how much it served and earned."""
    from shopkeeper.decide import list_policies

    with _errors(as_json):
        records = list_policies(
            _store(workspace), purpose=purpose, status="running" if running else None
        )
        if as_json:
            _print_json({"ok": True, "policies": [r.summary() for r in records]})
            return
        if not records:
            console.print("No policies yet: start one with `shopkeeper policies start-price`.")
            return
        grid = RichTable(box=box.SIMPLE_HEAD, pad_edge=False)
        for name in ("policy", "purpose", "kind", "status", "version", "decisions", "outcomes"):
            grid.add_column(name, justify="right" if name in {"version", "decisions"} else "left")
        grid.add_column("mean reward", justify="right")
        for r in records:
            grid.add_row(
                r.policy_id,
                r.purpose,
                r.kind,
                r.status,
                str(r.version),
                f"{r.decisions:,}",
                f"{r.outcomes:,}",
                f"{r.mean_reward:.4g}" if r.mean_reward is not None else "",
            )
        console.print(grid)


@policies_app.command("show")
def show_command(
    policy_id: Annotated[str, typer.Argument(help="The policy's name.")],
    workspace: WorkspaceOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """One policy: per action what was served, the reward seen and the estimate now."""
    from shopkeeper.decide import get_policy, policy_report

    with _errors(as_json):
        store = _store(workspace)
        report = policy_report(store, get_policy(store, policy_id), learned=True)
        if as_json:
            _print_json({"ok": True, **report})
            return
        _show_summary(report)
        value = report["logged_value"]
        if value["value"] is not None:
            console.print(
                f"logged value {value['value']:.4g} per decision "
                f"(95% interval {value['low']:.4g} to {value['high']:.4g}, n={value['n']:,})",
                highlight=False,
            )
        learned = report["learned_value"]
        if learned["value"] is not None:
            console.print(
                (
                    f"showing {learned['action']} to everyone"
                    if learned["target"] == "best"
                    else "the policy as it is now"
                )
                + f": {learned['value']:.4g} per decision off-policy "
                f"({learned['estimator']}, 95% interval {learned['low']:.4g} to "
                f"{learned['high']:.4g})",
                highlight=False,
            )
        grid = RichTable(box=box.SIMPLE_HEAD, pad_edge=False)
        for name in ("action", "decisions", "outcomes", "mean reward", "estimate", "share now"):
            grid.add_column(name, justify="left" if name == "action" else "right")

        def num(v: float | None, fmt: str = ".4g") -> str:
            return "" if v is None else format(v, fmt)

        for a in report["actions"]:
            grid.add_row(
                a["action"],
                f"{a['decisions']:,}",
                f"{a['outcomes']:,}",
                num(a["mean_reward"]),
                num(a["estimate"]),
                num(a["share"], ".1%"),
            )
        console.print(grid)


@policies_app.command("stop")
def stop_command(
    policy_id: Annotated[str, typer.Argument(help="The policy's name.")],
    workspace: WorkspaceOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Stop serving a policy; its log and every version of its state stay."""
    from shopkeeper.decide import stop_policy

    with _errors(as_json):
        record = stop_policy(_store(workspace), policy_id)
        if as_json:
            _print_json({"ok": True, "policy": record.summary()})
            return
        _show_summary(record.summary())


@policies_app.command("export")
def export_command(
    policy_id: Annotated[str, typer.Argument(help="The policy's name.")],
    out: Annotated[Path, typer.Option("--out", "-o", help="The CSV file to write.")],
    workspace: WorkspaceOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Write the policy's settled decisions as the log `shopkeeper ope --log` reads.

    [bold]Example[/bold]

      shopkeeper policies export slot:home-hero --out hero.csv
      shopkeeper ope --log hero.csv --policy uniform
    """
    from shopkeeper.decide import export_log

    with _errors(as_json):
        rows = export_log(_store(workspace), policy_id, out)
        if as_json:
            _print_json({"ok": True, "rows": rows, "path": str(out)})
            return
        console.print(f"Wrote {rows:,} settled decisions of {policy_id} to {out}")
