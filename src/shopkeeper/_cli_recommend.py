"""CLI commands of the recommendations capability: ``recommend`` and ``evaluate recommend``.

Kept apart from :mod:`shopkeeper.cli` so that the other commands start
without importing the numerical stack; heavy imports happen inside commands.
"""

from __future__ import annotations

import json
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
    err,
    evaluate_app,
    parse_day,
    scratch_store,
)
from shopkeeper.errors import ConfigError
from shopkeeper.store import Store
from shopkeeper.workspace import Workspace


def _load_recommender(ws: Workspace) -> Any:
    from shopkeeper.jobs import current_artifact
    from shopkeeper.recommend import Recommendations
    from shopkeeper.recommend._train import ARTIFACT

    folder = current_artifact(ws, "recommend")
    if folder is None or not (folder / ARTIFACT).exists():
        raise ConfigError("no recommender is trained yet; run 'shopkeeper train recommend' first")
    return Recommendations.load(folder / ARTIFACT, Store.open(ws))


@app.command()
def recommend(
    customer: Annotated[
        str | None, typer.Option("--customer", "-c", help="Customer id: their personal list.")
    ] = None,
    similar: Annotated[
        str | None, typer.Option("--similar", help="Product id: products similar to it.")
    ] = None,
    together: Annotated[
        str | None,
        typer.Option("--bought-together", help="Product id: what is bought with it."),
    ] = None,
    session: Annotated[
        str | None,
        typer.Option(
            "--session", help="Comma-separated product ids a visitor viewed, latest last."
        ),
    ] = None,
    n: Annotated[int, typer.Option("-n", help="How many products.", min=1, max=100)] = 10,
    category: Annotated[
        str | None, typer.Option(help="Only this category (prefix), for --customer.")
    ] = None,
    workspace: WorkspaceOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Recommendations from the trained model, after the shop's serving rules.

    Give exactly one of --customer, --similar, --bought-together or --session.
    Train the model first with 'shopkeeper train recommend'.

    [bold]Examples[/bold]

      shopkeeper recommend --customer C-000187 -n 10
      shopkeeper recommend --similar SKU-10023 --json
      shopkeeper recommend --bought-together SKU-10023
      shopkeeper recommend --session SKU-10023,SKU-10057
    """
    with _errors(as_json):
        asked = [x for x in (customer, similar, together, session) if x is not None]
        if len(asked) != 1:
            raise ConfigError(
                "give exactly one of --customer, --similar, --bought-together or --session"
            )
        ws = Workspace.resolve(workspace)
        recs = _load_recommender(ws)
        if customer is not None:
            # As the API answers: with the customer's activity since training.
            personal, items = recs.answer(customer, n, store=Store.open(ws), category=category)
            title = f"for customer {customer}"
            if not personal:
                title += " (not personal: popular products)"
        elif similar is not None:
            items, title = recs.similar_items(similar, n), f"similar to {similar}"
        elif together is not None:
            items, title = recs.bought_together(together, n), f"bought with {together}"
        else:
            recent = [p.strip() for p in (session or "").split(",") if p.strip()]
            if not recent:
                raise ConfigError("--session needs at least one product id")
            items, title = recs.for_session(recent, n), f"after viewing {', '.join(recent)}"
        if as_json:
            _print_json({"ok": True, "query": title, "items": [r.to_dict() for r in items]})
            return
        grid = RichTable(title=title, title_justify="left")
        for head in ("#", "product", "title", "category", "score", "why"):
            grid.add_column(head)
        for rank, r in enumerate(items, 1):
            grid.add_row(
                str(rank), r.product_id, r.title or "", r.category or "", f"{r.score:.3f}", r.reason
            )
        console.print(grid)


def _parse_ks(text: str) -> tuple[int, ...]:
    try:
        ks = tuple(sorted({int(k) for k in text.split(",") if k.strip()}))
    except ValueError as exc:
        raise ConfigError(f"--k must be comma-separated whole numbers, not {text!r}") from exc
    if not ks or ks[0] < 1 or ks[-1] > 1000:
        raise ConfigError(f"--k values must lie between 1 and 1000, not {text!r}")
    return ks


@evaluate_app.command("recommend")
def evaluate_recommend(
    data: Annotated[
        Path,
        typer.Option(
            "--data", "-d", help="A folder of contract files (CSV/Parquet).", exists=False
        ),
    ],
    k: Annotated[str, typer.Option("--k", help="Cut-offs, comma-separated.")] = "10,20",
    test_from: Annotated[
        str | None,
        typer.Option(
            "--test-from",
            help="Train on everything before this date; test on purchases from it on.",
        ),
    ] = None,
    test_last: Annotated[
        float | None,
        typer.Option(
            "--test-last",
            help="Instead: hold out each customer's last FRACTION of orders (e.g. 0.2).",
        ),
    ] = None,
    repeats: Annotated[
        str,
        typer.Option(
            help="allow: bought products may be recommended and hit; exclude: they may not; "
            "rules: only durables are excluded (the serving default)."
        ),
    ] = "rules",
    quick: Annotated[bool, typer.Option(help="One configuration per model, no grid.")] = False,
    out: Annotated[
        Path | None, typer.Option(help="Also write the table as JSON to this file.")
    ] = None,
    as_json: JsonOpt = False,
) -> None:
    """Compare every recommender and baseline on a folder, split by time.

    The folder is validated and loaded into a throw-away store, exactly as
    'shopkeeper ingest' would load it. By default the last tenth of the
    orders by time is the test; every model is tuned on the period just
    before it, ranks every product (no sampled negatives) and is scored with
    Recall, NDCG, MAP and hit rate at each K, catalog coverage, novelty and
    the Gini concentration of exposure.

    [bold]Examples[/bold]

      shopkeeper evaluate recommend --data exports/ --k 10,20
      shopkeeper evaluate recommend --data exports/ --test-from 2024-11-01 --json
      shopkeeper evaluate recommend --data exports/ --test-last 0.2 --repeats exclude
    """
    from shopkeeper.recommend import load_shop
    from shopkeeper.recommend._evaluate import (
        default_test_from,
        split_by_time,
        split_last_fraction,
        validation_fold,
    )
    from shopkeeper.recommend._train import run_evaluation

    with _errors(as_json):
        ks = _parse_ks(k)
        if test_from is not None and test_last is not None:
            raise ConfigError("give --test-from or --test-last, not both")
        if repeats not in ("allow", "exclude", "rules"):
            raise ConfigError(f"--repeats must be allow, exclude or rules, not {repeats!r}")
        with scratch_store(data) as store:
            shop = load_shop(store)
        inter = shop.interactions
        if test_last is not None:
            fold = split_last_fraction(inter, test_last)
            val = validation_fold(fold, "last", test_last)
        else:
            cut = (
                default_test_from(inter)
                if test_from is None
                else parse_day(test_from, "--test-from")
            )
            fold = split_by_time(inter, cut)
            span = inter.log["at"].max() - cut
            val = validation_fold(fold, "time", cut, span)
        lines: list[str] = []
        say = lines.append if as_json else (lambda line: err.print(f"[dim]{line}[/]"))
        say(f"test: {fold.description} ({fold.n_truth_users} customers)")
        say(f"validation: {val.description} ({val.n_truth_users} customers)")
        rows = run_evaluation(shop, fold, val, ks=ks, repeats=repeats, quick=quick, log_fn=say)
        payload = {
            "ok": True,
            "data": str(data),
            "split": fold.description,
            "validation": val.description,
            "customers_tested": fold.n_truth_users,
            "repeats": repeats,
            "k": list(ks),
            "models": rows,
        }
        if out is not None:
            out.write_text(json.dumps(payload, indent=2, default=str), encoding="utf-8")
        if as_json:
            _print_json(payload)
            return
        grid = RichTable(title=f"{fold.description}, repeats {repeats}", title_justify="left")
        cols = ["model"] + [f"{m}@{kk}" for kk in ks for m in ("recall", "ndcg", "map")]
        cols += [f"coverage@{ks[0]}", f"gini@{ks[0]}", "train s"]
        for c in cols:
            grid.add_column(c, justify="left" if c == "model" else "right")
        for row in rows:
            grid.add_row(
                row["model"],
                *[f"{row[c]:.4f}" for c in cols[1:-1]],
                f"{row['train_s']:.2f}",
            )
        console.print(grid)
