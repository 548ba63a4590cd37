"""CLI commands of market-basket analysis: ``basket itemsets|rules|bundles|together``.

Mining is fast enough to run at the prompt, so every command computes from
the orders directly, with the thresholds given: from ``--data DIR`` (any
folder of contract files, loaded into a throw-away store) or else from the
workspace's store. ``shopkeeper train basket`` saves an analysis for the
service and the dashboard.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any, Literal, cast

import typer
from rich.table import Table as RichTable

from shopkeeper.cli import (
    JsonOpt,
    WorkspaceOpt,
    _errors,
    _print_json,
    app,
    console,
    err,
    scratch_store,
)
from shopkeeper.errors import ConfigError
from shopkeeper.store import Store
from shopkeeper.workspace import Workspace

basket_app = typer.Typer(
    help="Which products sell together: frequent itemsets, association rules, bundles and "
    "'frequently bought together'. Works on the workspace's store or on --data DIR.",
    no_args_is_help=True,
)
app.add_typer(basket_app, name="basket")

DataOpt = Annotated[
    Path | None,
    typer.Option("--data", "-d", help="A folder of contract files (default: the workspace)."),
]
SupportOpt = Annotated[
    float,
    typer.Option("--min-support", "-s", help="Share of orders an itemset needs.", min=0, max=1),
]
LevelOpt = Annotated[
    str, typer.Option("--level", help="product, or category (baskets of categories).")
]
BasisOpt = Annotated[
    str,
    typer.Option("--basis", help="Count support over orders (baskets) or distinct customers."),
]
MaxSizeOpt = Annotated[
    int | None,
    typer.Option("--max-size", help="Most items in an itemset (default: no bound).", min=1),
]
TopOpt = Annotated[int, typer.Option("--top", "-n", help="Rows to show.", min=1)]
OutOpt = Annotated[Path | None, typer.Option("--out", "-o", help="Also write all rows as CSV.")]


def _shop(data: Path | None, workspace: Path | None, level: str) -> Any:
    from shopkeeper.basket._source import Level, load_baskets

    chosen = cast(Level, level)  # load_baskets refuses any other value
    if data is not None:
        with scratch_store(data) as store:
            return load_baskets(store, level=chosen)
    return load_baskets(Store.open(Workspace.resolve(workspace)), level=chosen)


def _mine(shop: Any, min_support: float, max_size: int | None, basis: str) -> Any:
    from shopkeeper.basket import frequent_itemsets
    from shopkeeper.basket._itemsets import Basis

    if basis not in ("baskets", "customers"):
        raise ConfigError(f"--basis must be baskets or customers, not {basis!r}")
    chosen = cast(Basis, basis)
    return frequent_itemsets(shop.baskets, min_support, max_size=max_size, basis=chosen)


def _grid(title: str, frame: Any, columns: list[str]) -> RichTable:
    grid = RichTable(title=title, title_justify="left")
    for i, c in enumerate(columns):
        grid.add_column(c, justify="left" if i < 2 else "right")
    for row in frame[columns].itertuples(index=False):
        grid.add_row(*[_cell(v) for v in row])
    return grid


def _cell(value: Any) -> str:
    if isinstance(value, tuple):
        return ", ".join(str(v) for v in value)
    if isinstance(value, float):
        if value != value:
            return ""
        return f"{value:,.2f}" if abs(value) >= 100 else f"{value:.4f}"
    return "" if value is None else str(value)


def _records(frame: Any) -> list[dict[str, Any]]:
    out = frame.copy()
    for column in out.columns:
        if len(out) and isinstance(out[column].iloc[0], tuple):
            out[column] = out[column].map(list)
    return list(json.loads(out.to_json(orient="records")))


def _write(frame: Any, path: Path | None) -> None:
    if path is None:
        return
    out = frame.copy()
    for column in out.columns:
        if len(out) and isinstance(out[column].iloc[0], tuple):
            out[column] = out[column].map(" + ".join)
    out.to_csv(path, index=False, float_format="%.6g")
    err.print(f"wrote {len(out):,} rows to {path}")


@basket_app.command("itemsets")
def itemsets_command(
    data: DataOpt = None,
    min_support: SupportOpt = 0.001,
    max_size: MaxSizeOpt = None,
    level: LevelOpt = "product",
    basis: BasisOpt = "baskets",
    top: TopOpt = 20,
    out: OutOpt = None,
    workspace: WorkspaceOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Frequent itemsets with their support over orders and over customers.

    [bold]Examples[/bold]

      shopkeeper basket itemsets --data exports/ --min-support 0.001 --json
      shopkeeper basket itemsets --basis customers --max-size 3 -o itemsets.csv
    """
    with _errors(as_json):
        shop = _shop(data, workspace, level)
        found = _mine(shop, min_support, max_size, basis)
        frame = found.frame().sort_values(["size", "baskets"], ascending=[False, False])
        _write(frame, out)
        head = {
            "ok": True,
            "baskets": shop.baskets.n_baskets,
            "customers": shop.baskets.n_customers,
            "skipped_baskets": shop.baskets.skipped,
            "basis": basis,
            "min_support": min_support,
            "itemsets": len(found),
            "by_size": {
                int(k): int(v) for k, v in frame["size"].value_counts().sort_index().items()
            },
        }
        if as_json:
            _print_json({**head, "top": _records(frame.head(top))})
            return
        console.print(
            f"{len(found):,} itemsets at support ≥ {min_support:g} of {head['basis']} "
            f"({shop.baskets.n_baskets:,} orders, {shop.baskets.n_customers:,} customers); "
            f"by size {head['by_size']}"
        )
        cols = ["itemset", "size", "baskets", "customers", "support", "customer_support"]
        console.print(_grid("Largest first", frame.head(top), cols))


@basket_app.command("rules")
def rules_command(
    data: DataOpt = None,
    min_support: SupportOpt = 0.001,
    min_confidence: Annotated[
        float, typer.Option("--min-confidence", "-c", help="Smallest confidence kept.")
    ] = 0.5,
    min_lift: Annotated[
        float | None, typer.Option("--min-lift", help="Smallest lift kept.")
    ] = None,
    consequents: Annotated[
        str, typer.Option("--consequents", help="single (one item on the right) or any.")
    ] = "single",
    sort_by: Annotated[
        str, typer.Option("--sort-by", help="support, confidence, lift, leverage or conviction.")
    ] = "lift",
    max_size: MaxSizeOpt = None,
    level: LevelOpt = "product",
    basis: BasisOpt = "baskets",
    top: TopOpt = 20,
    out: OutOpt = None,
    workspace: WorkspaceOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Association rules A → C with support, confidence, lift, leverage and conviction.

    [bold]Examples[/bold]

      shopkeeper basket rules --data groceries/ --min-support 0.001 -c 0.8 --json
      shopkeeper basket rules --level category --sort-by confidence
      shopkeeper basket rules --min-lift 2 --consequents any -o rules.csv
    """
    from shopkeeper.basket import association_rules

    with _errors(as_json):
        shop = _shop(data, workspace, level)
        found = _mine(shop, min_support, max_size, basis)
        rules = association_rules(
            found,
            min_confidence=min_confidence,
            min_lift=min_lift,
            consequents=cast(Literal["single", "any"], consequents),
            sort_by=sort_by,
        )
        _write(rules, out)
        if as_json:
            _print_json(
                {
                    "ok": True,
                    "baskets": shop.baskets.n_baskets,
                    "itemsets": len(found),
                    "rules": len(rules),
                    "top": _records(rules.head(top).replace([float("inf")], None)),
                }
            )
            return
        console.print(
            f"{len(rules):,} rules from {len(found):,} itemsets (support ≥ {min_support:g}, "
            f"confidence ≥ {min_confidence:g}), by {sort_by}"
        )
        cols = ["antecedent", "consequent", "support", "confidence", "lift", "baskets"]
        console.print(_grid(f"Top {top}", rules.head(top), cols))


@basket_app.command("bundles")
def bundles_command(
    data: DataOpt = None,
    min_support: SupportOpt = 0.0005,
    margin_floor: Annotated[
        float, typer.Option("--margin-floor", help="Margin rate a bundle keeps after discount.")
    ] = 0.25,
    max_discount: Annotated[
        float, typer.Option("--max-discount", help="Largest discount suggested.")
    ] = 0.2,
    max_items: Annotated[int, typer.Option("--max-items", help="Largest bundle.", min=2)] = 3,
    top: TopOpt = 20,
    out: OutOpt = None,
    workspace: WorkspaceOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Candidate bundles: products many customers buy together, with margin and discount.

    Support is counted over distinct customers, so one shopper re-ordering the
    same basket does not make a bundle. The discount is the largest (up to
    --max-discount) that keeps the bundle's margin rate at --margin-floor.

    [bold]Examples[/bold]

      shopkeeper basket bundles --top 10
      shopkeeper basket bundles --data exports/ --min-support 0.001 --margin-floor 0.3 --json
    """
    from shopkeeper.basket._bundles import bundles

    with _errors(as_json):
        shop = _shop(data, workspace, "product")
        found = _mine(shop, min_support, max_items, "customers")
        offer = bundles(
            found,
            shop.catalog,
            days=shop.days,
            max_items=max_items,
            margin_floor=margin_floor,
            max_discount=max_discount,
            limit=None,
        )
        _write(offer, out)
        if as_json:
            _print_json({"ok": True, "bundles": len(offer), "top": _records(offer.head(top))})
            return
        console.print(
            f"{len(offer):,} candidate bundles (customer support ≥ {min_support:g}, margin "
            f"floor {margin_floor:.0%})"
        )
        cols = ["titles", "buyers", "price", "margin_rate", "discount", "bundle_price"]
        console.print(_grid(f"Top {top} by buyers", offer.head(top), cols))


@basket_app.command("together")
def together_command(
    product: Annotated[str, typer.Argument(help="The product id.")],
    data: DataOpt = None,
    min_support: SupportOpt = 0.0005,
    top: TopOpt = 10,
    workspace: WorkspaceOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Frequently bought together: the products that share this product's orders.

    [bold]Examples[/bold]

      shopkeeper basket together SKU-10023
      shopkeeper basket together SKU-10023 --min-support 0.0002 --json
    """
    from shopkeeper.basket._bundles import bought_together

    with _errors(as_json):
        shop = _shop(data, workspace, "product")
        if product not in set(shop.catalog["product_id"]):
            raise ConfigError(f"product {product!r} is not in the catalog")
        found = _mine(shop, min_support, 2, "baskets")
        table = bought_together(found, per_product=top)
        rows = table[table["product_id"] == product]
        titles = dict(zip(shop.catalog["product_id"], shop.catalog["title"], strict=True))
        rows = rows.assign(title=rows["partner_id"].map(titles))
        if as_json:
            _print_json({"ok": True, "product_id": product, "partners": _records(rows)})
            return
        if rows.empty:
            console.print(
                f"no product shares enough of {product}'s orders at support ≥ {min_support:g}"
            )
            return
        cols = ["partner_id", "title", "confidence", "lift", "orders"]
        console.print(_grid(f"Bought with {product}: {titles.get(product, '')}", rows, cols))
