"""CLI commands of product images: ``images train|report|mismatches|categorise|similar``.

``images train`` runs the ``images`` job (the same as ``shopkeeper train
images``); the other commands read the image model it saved. Reading the
model needs no PyTorch; training, and categorising or matching photo files
that are not in the model, do (``pip install 'shopkeeper[vision]'``). Heavy
imports happen inside the commands.
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
    train,
)
from shopkeeper.workspace import Workspace

images_app = typer.Typer(
    help="Product photos: a network learns the shop's categories from its own pictures, "
    "lists products whose picture disagrees with their stated category, suggests a "
    "category for unlabelled ones and finds visually similar products. Train first with "
    "'shopkeeper images train' (needs the vision extra).",
    no_args_is_help=True,
)
app.add_typer(images_app, name="images")

TopOpt = Annotated[int, typer.Option("--top", "-n", help="Rows to show.", min=1)]
OutOpt = Annotated[Path | None, typer.Option("--out", "-o", help="Also write all rows as CSV.")]
#: The columns of a product's category check, as the tables print them.
CHECK = ["product_id", "title", "stated", "predicted", "confidence", "p_stated"]


def _model(workspace: Path | None) -> Any:
    from shopkeeper.images import load_image_model

    return load_image_model(Workspace.resolve(workspace))


def _records(frame: Any) -> list[dict[str, Any]]:
    return list(json.loads(frame.to_json(orient="records", force_ascii=False)))


def _cell(value: Any) -> str:
    if value is None or (isinstance(value, float) and value != value):
        return ""
    if isinstance(value, float):
        return f"{value:.3f}"
    return str(value)


def _grid(title: str, frame: Any, columns: list[str]) -> RichTable:
    grid = RichTable(title=title, title_justify="left")
    for c in columns:
        grid.add_column(c, justify="right" if frame[c].dtype.kind == "f" else "left")
    for row in frame[columns].itertuples(index=False):
        grid.add_row(*[_cell(v) for v in row])
    return grid


def _write(frame: Any, path: Path | None) -> None:
    if path is not None:
        frame.to_csv(path, index=False, float_format="%.6g")
        err.print(f"wrote {len(frame):,} rows to {path}")


@images_app.command("train")
def train_images(
    params: Annotated[
        str | None,
        typer.Option(
            "--params",
            help="Job parameters as a JSON object, e.g. '{\"epochs\": 8}' or "
            '\'{"category_depth": 2, "mismatch_confidence": 0.95}\'.',
        ),
    ] = None,
    workspace: WorkspaceOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Train the image model on the store's product photos (a recorded job).

    Reads the product_images table and each product's category, trains a small
    convolutional network on the labelled photos (held-out folds give the
    accuracy and the mismatch list), and keeps every product's nearest
    lookalikes. Needs PyTorch: pip install 'shopkeeper[vision]'.

    [bold]Examples[/bold]

      shopkeeper images train
      shopkeeper images train --params '{"epochs": 20, "threads": 2}' --json
    """
    train("images", params, workspace, as_json)


@images_app.command("report")
def report(workspace: WorkspaceOpt = None, as_json: JsonOpt = False) -> None:
    """How well the network reads the shop's categories on photos it never saw.

    Accuracy against always naming the largest category, calibration, recall
    and precision per category, and the confusion matrix (rows: stated,
    columns: predicted).

    [bold]Examples[/bold]

      shopkeeper images report
      shopkeeper images report --json | jq .report.per_class
    """
    with _errors(as_json):
        model = _model(workspace)
        if as_json:
            from shopkeeper.service.api.routes.customer_analytics import plain

            _print_json(
                {
                    "ok": True,
                    "metrics": model.metrics(),
                    "report": plain(model.report.to_dict()),
                    "notes": model.notes,
                }
            )
            return
        m = model.metrics()
        console.print(
            f"{m['products']:,} products with photos, {m['categories']} categories; "
            f"held-out accuracy {m['accuracy']:.1%} (always the largest category: "
            f"{m['baseline_accuracy']:.1%}); {m['mismatches']} mismatches, "
            f"{m['suggestions']} suggestions; neighbours by {m['neighbour_search']} search"
        )
        console.print(
            _grid(
                "Per category",
                model.report.per_class(),
                ["category", "images", "recall", "precision"],
            )
        )
        classes = list(model.report.classes)
        grid = RichTable(title="Confusion (rows stated, columns predicted)", title_justify="left")
        grid.add_column("stated")
        for i, _ in enumerate(classes):
            grid.add_column(str(i + 1), justify="right")
        for i, row in enumerate(model.report.confusion):
            grid.add_row(f"{i + 1} {classes[i]}", *[f"{int(v):,}" for v in row])
        console.print(grid)
        for note in model.notes:
            console.print(f"note: {note}")


@images_app.command("mismatches")
def mismatches(
    top: TopOpt = 20, out: OutOpt = None, workspace: WorkspaceOpt = None, as_json: JsonOpt = False
) -> None:
    """Products whose picture says they are not in their stated category, best first.

    confidence: the calibrated probability of the predicted category; p_stated:
    that of the stated one, from a network that never saw the product.

    [bold]Examples[/bold]

      shopkeeper images mismatches -n 50
      shopkeeper images mismatches --out mismatches.csv
    """
    with _errors(as_json):
        found = _model(workspace).mismatches()
        _write(found, out)
        shown = found.head(top)
        if as_json:
            _print_json({"ok": True, "total": len(found), "items": _records(shown[CHECK])})
        elif found.empty:
            console.print("no product's picture disagrees with its stated category")
        else:
            title = f"Pictures that disagree with the stated category ({len(found):,})"
            console.print(_grid(title, shown, CHECK))


@images_app.command("categorise")
def categorise(
    photos: Annotated[
        list[Path] | None,
        typer.Argument(help="Photo files to categorise (default: the unlabelled products)."),
    ] = None,
    top: TopOpt = 20,
    workspace: WorkspaceOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Suggest categories: for photo files given, or for the shop's unlabelled products.

    Without files, lists the model's suggestions for products without a category
    (or with one too rare to learn). With files, runs the network on each (needs
    PyTorch) and prints the best category, its confidence and the next guesses.

    [bold]Examples[/bold]

      shopkeeper images categorise
      shopkeeper images categorise new-arrivals/*.jpg --json
    """
    with _errors(as_json):
        model = _model(workspace)
        if not photos:
            found = model.suggestions()
            shown = found.head(top)
            if as_json:
                _print_json({"ok": True, "total": len(found), "items": _records(shown[CHECK])})
            elif found.empty:
                console.print("every product with a photo has a category the model knows")
            else:
                columns = ["product_id", "title", "predicted", "confidence"]
                console.print(_grid(f"Suggested categories ({len(found):,})", shown, columns))
            return
        found = model.classify(list(photos))
        if as_json:
            _print_json({"ok": True, "items": _records(found)})
            return
        grid = RichTable(title="Suggested categories", title_justify="left")
        for c in ("photo", "predicted", "confidence", "next"):
            grid.add_column(c, justify="right" if c == "confidence" else "left")
        for row in found.itertuples(index=False):
            after = ", ".join(f"{c} {p:.2f}" for c, p in row.alternatives)
            grid.add_row(str(row.path), row.predicted, f"{row.confidence:.3f}", after)
        console.print(grid)


@images_app.command("similar")
def similar(
    product_id: Annotated[
        str | None, typer.Argument(help="A product with a photo in the model.")
    ] = None,
    image: Annotated[
        Path | None,
        typer.Option("--image", help="Match this photo file instead (needs PyTorch)."),
    ] = None,
    top: TopOpt = 10,
    workspace: WorkspaceOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Products that look most like a product (or like a photo file), best first.

    similarity: the cosine of the network's embeddings, at most 1.

    [bold]Examples[/bold]

      shopkeeper images similar SKU-10023
      shopkeeper images similar --image street-shot.jpg -n 5 --json
    """
    from shopkeeper.errors import ConfigError

    with _errors(as_json):
        if (product_id is None) == (image is None):
            raise ConfigError("give a product id or --image PATH (one of them)")
        model = _model(workspace)
        found = (
            model.similar(product_id, top) if image is None else model.similar_to_image(image, top)
        )
        if as_json:
            _print_json({"ok": True, "items": _records(found)})
            return
        title = f"Looks like {product_id or image}"
        console.print(_grid(title, found, ["product_id", "title", "category", "similarity"]))
