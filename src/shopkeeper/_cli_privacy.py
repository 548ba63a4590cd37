"""CLI commands of privacy: ``privacy status|new-key|rotate-key|export|erase``.

The key commands manage the key that seals the personal columns (see
``shopkeeper.privacy``); ``export`` and ``erase`` answer a customer's access
and erasure requests, each leaving an audit record.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table as RichTable

from shopkeeper.cli import JsonOpt, WorkspaceOpt, _errors, _print_json, app, console, err
from shopkeeper.store import Store
from shopkeeper.workspace import Workspace

privacy_app = typer.Typer(
    help="Customers' personal data: the key that seals it at rest (status, new-key, "
    "rotate-key), and a customer's access and erasure requests (export, erase). "
    "See docs/privacy.md.",
    no_args_is_help=True,
    rich_markup_mode="rich",
)
app.add_typer(privacy_app, name="privacy")

CustomerArg = Annotated[str, typer.Argument(help="The customer's id, as in customers.csv.")]


@privacy_app.command("status")
def status(workspace: WorkspaceOpt = None, as_json: JsonOpt = False) -> None:
    """Which key seals the personal data, where it was found, and what it seals.

    [bold]Examples[/bold]

      shopkeeper privacy status
      SHOPKEEPER_PII_KEY_FILE=/secrets/shop.key shopkeeper privacy status --json
    """
    from shopkeeper.privacy import sealed_counts

    with _errors(as_json):
        store = Store.open(Workspace.resolve(workspace))
        key = store.vault.key(create=False)
        counts = sealed_counts(store)
        payload: dict[str, Any] = {
            "ok": True,
            "key_id": key.key_id if key else None,
            "key_origin": key.origin if key else None,
            "store_key_id": store.meta("pii_key_id"),
            **counts,
        }
        if as_json:
            _print_json(payload)
            return
        if key is None:
            console.print("no key yet: one is created with the first personal value loaded")
        else:
            console.print(f"key {key.key_id} from {key.origin}")
        console.print(
            f"{counts['sealed']:,} personal values sealed, {counts['plain']:,} in clear"
            + (" (run 'shopkeeper privacy rotate-key' to seal them)" if counts["plain"] else "")
        )


@privacy_app.command("new-key")
def new_key(
    path: Annotated[Path, typer.Argument(help="The key file to create (never overwritten).")],
    as_json: JsonOpt = False,
) -> None:
    """Write a fresh random key to a new file, readable by its owner only.

    Point SHOPKEEPER_PII_KEY_FILE at it (or put its text in SHOPKEEPER_PII_KEY)
    before the first load to keep the key outside the workspace, e.g. on a
    secrets volume.

    [bold]Examples[/bold]

      shopkeeper privacy new-key /run/secrets/shop-pii.key
    """
    from shopkeeper.errors import ConfigError
    from shopkeeper.privacy import new_secret, write_key_file

    with _errors(as_json):
        try:
            key = write_key_file(path, new_secret())
        except FileExistsError as exc:
            raise ConfigError(f"{str(path)!r} exists; a key file is never overwritten") from exc
        if as_json:
            _print_json({"ok": True, "key_id": key.key_id, "path": str(path)})
        else:
            console.print(f"wrote key {key.key_id} to {path} (mode 600)")


@privacy_app.command("rotate-key")
def rotate_key(
    to: Annotated[
        Path | None,
        typer.Option(
            "--to",
            help="Write the new key to this new file. Needed when the key comes from "
            "$SHOPKEEPER_PII_KEY; otherwise the key file is replaced in place.",
        ),
    ] = None,
    workspace: WorkspaceOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Seal every personal value with a new key, in one transaction.

    Crash-safe: the new key is written next to the old one first; the store
    switches keys in one transaction; then the new key file takes the old
    one's place. A crash between the two is finished on the next start.
    Values stored in clear by older versions are sealed too. Backups made
    before the rotation still need the old key.

    [bold]Examples[/bold]

      shopkeeper privacy rotate-key
      shopkeeper privacy rotate-key --to /run/secrets/shop-pii-2.key
    """
    from shopkeeper.errors import ConfigError
    from shopkeeper.privacy import new_secret, pending_key_file, read_key_file, write_key_file

    with _errors(as_json):
        store = Store.open(Workspace.resolve(workspace))
        vault = store.vault
        old = vault.key(create=False)
        target: Path | None = None
        if to is None:
            if old is not None and old.path is None:
                raise ConfigError(
                    f"the key comes from {old.origin}: give --to FILE for the new key, then "
                    "point the variable at it"
                )
            target = old.path if old is not None else store.key_file
            if target is None:
                raise ConfigError("this store has no key file: give --to FILE")
            pending = pending_key_file(target)
            # A rotation that crashed before switching left its key here: reuse it.
            new = (
                read_key_file(pending)
                if pending.exists()
                else write_key_file(pending, new_secret())
            )
            done = vault.rotate(new)
            os.replace(pending, target)
            vault.forget_key()
        else:
            try:
                new = write_key_file(to, new_secret())
            except FileExistsError as exc:
                raise ConfigError(f"{str(to)!r} exists; a key file is never overwritten") from exc
            done = vault.rotate(new)
        in_place = target is not None
        payload = {"ok": True, **done.to_dict(), "key_file": str(target if in_place else to)}
        if as_json:
            _print_json(payload)
            return
        console.print(
            f"rotated {done.old_key_id or '(none)'} -> {done.new_key_id}: {done.resealed:,} "
            f"values re-sealed, {done.sealed_plain:,} sealed for the first time"
        )
        if not in_place:
            err.print(
                f"Now set SHOPKEEPER_PII_KEY_FILE={to} (or SHOPKEEPER_PII_KEY to its text) "
                "for every shopkeeper process, and restart the service."
            )


@privacy_app.command("export")
def export(
    customer_id: CustomerArg,
    out: Annotated[
        Path | None,
        typer.Option("--out", "-o", help="Write the JSON here (mode 600) instead of stdout."),
    ] = None,
    workspace: WorkspaceOpt = None,
) -> None:
    """Everything the shop holds about one customer, as JSON (an access request).

    Their customer row with the personal columns opened, orders with lines and
    parcel scans, events, reviews, the decisions served to them, what the
    trained models hold about them, and the audit records naming them. The
    export itself is audited.

    [bold]Examples[/bold]

      shopkeeper privacy export C-000187 --out C-000187.json
    """
    from shopkeeper.audit import CLI
    from shopkeeper.privacy import export_customer

    with _errors(True):
        ws = Workspace.resolve(workspace)
        found = export_customer(Store.open(ws), ws, customer_id, actor=CLI)
        body = json.dumps(found, ensure_ascii=False, indent=2, default=str)
        if out is None:
            print(body)
            return
        fd = os.open(out, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(body + "\n")
        rows = sum(len(v) for v in found["tables"].values())
        err.print(f"wrote {rows:,} rows about {customer_id} to {out}")


@privacy_app.command("erase")
def erase(
    customer_id: CustomerArg,
    yes: Annotated[bool, typer.Option("--yes", "-y", help="Do not ask for confirmation.")] = False,
    retrain: Annotated[
        bool,
        typer.Option(
            "--retrain/--no-retrain",
            help="Train again the models that hold the customer (default), or only delete them.",
        ),
    ] = True,
    vacuum_full: Annotated[
        bool,
        typer.Option(
            "--vacuum-full",
            help="PostgreSQL: rewrite the touched tables, so old row versions leave the "
            "data files now (locks them meanwhile).",
        ),
    ] = False,
    workspace: WorkspaceOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Erase one customer everywhere: store, decision log, models, workspace files.

    Deletes the customer, their reviews and events; keeps their orders for the
    books without the link to them; trains again every model that holds them
    and deletes its older versions; then reads the raw bytes of the database,
    every model and every workspace file to check nothing of them is left, and
    says where anything is. Audited (under the customer's pseudonym). Cannot be
    undone.

    [bold]Examples[/bold]

      shopkeeper privacy erase C-000187
      shopkeeper privacy erase C-000187 --yes --json
    """
    from shopkeeper.audit import CLI
    from shopkeeper.privacy import erase_customer

    with _errors(as_json):
        if not yes:
            if as_json or not err.is_terminal:
                from shopkeeper.errors import ConfigError

                raise ConfigError("erasing cannot be undone: add --yes to confirm")
            typer.confirm(
                f"Erase customer {customer_id} everywhere? This cannot be undone", abort=True
            )
        ws = Workspace.resolve(workspace)
        store = Store.open(ws)
        with console.status("erasing", spinner="dots") if not as_json else _nothing() as status:

            def say(step: str) -> None:
                if status is not None:
                    status.update(f"erasing: {step}")

            done = erase_customer(
                store,
                ws,
                customer_id,
                actor=CLI,
                retrain=retrain,
                full_vacuum=vacuum_full,
                progress=say,
            )
        if as_json:
            _print_json({"ok": not done.traces, **done.to_dict()})
        else:
            _show_erasure(customer_id, done)
        if done.traces:
            raise typer.Exit(1)


class _nothing:
    def __enter__(self) -> None:
        return None

    def __exit__(self, *exc: object) -> None:
        return None


def _show_erasure(customer_id: str, done: Any) -> None:
    grid = RichTable(title=f"Erased {customer_id} (now {done.pseudonym})", title_justify="left")
    grid.add_column("what")
    grid.add_column("count", justify="right")
    for what, count in done.rows.items():
        grid.add_row(what, f"{count:,}")
    console.print(grid)
    for kind, job in done.models_retrained.items():
        console.print(f"model {kind}: trained again (job {job})")
    for kind, why in done.model_problems.items():
        err.print(f"[yellow]model {kind}:[/] {why}")
    if done.models_removed:
        console.print(f"artifact versions deleted: {', '.join(done.models_removed)}")
    if done.files_rewritten:
        console.print(f"workspace files rewritten: {', '.join(done.files_rewritten)}")
    took = done.to_dict()["seconds"]
    console.print(
        f"store {took['store']:.2f} s, models {took['models']:.1f} s, check {took['verify']:.2f} s"
    )
    if done.traces:
        err.print("[bold red]still found in:[/] " + "; ".join(done.traces))
    else:
        console.print("raw bytes checked: nothing of the customer is left")
