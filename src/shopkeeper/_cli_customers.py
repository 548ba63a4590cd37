"""CLI commands of customer analytics: ``customers ...`` and ``evaluate clv``.

The ``customers`` commands read the artifact of the last ``customers`` job
(``shopkeeper train customers``); ``evaluate clv`` fits on any folder of
contract files. Heavy imports happen inside the commands.
"""

from __future__ import annotations

import json
from functools import partial
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

customers_app = typer.Typer(
    help="Who your customers are and what they are worth: segments, lifetime value, "
    "propensity, churn risk, readable rules, fairness and campaign audiences. "
    "Run 'shopkeeper train customers' first.",
    no_args_is_help=True,
)
app.add_typer(customers_app, name="customers")

TopOpt = Annotated[int, typer.Option("--top", "-n", help="How many customers to list.", min=1)]


def _analytics(workspace: Path | None) -> tuple[Workspace, Any]:
    from shopkeeper.customers._train import load_analytics

    ws = Workspace.resolve(workspace)
    return ws, load_analytics(ws)


def _table(title: str, columns: list[str], rows: list[list[Any]]) -> RichTable:
    grid = RichTable(title=title, title_justify="left")
    for i, column in enumerate(columns):
        grid.add_column(column, justify="left" if i == 0 else "right")
    for row in rows:
        grid.add_row(*[_cell(v) for v in row])
    return grid


def _cell(value: Any) -> str:
    if isinstance(value, float):
        if value != value:  # NaN
            return ""
        return f"{value:,.2f}" if abs(value) >= 10 else f"{value:.3f}"
    return "" if value is None else str(value)


def _records(frame: Any) -> list[dict[str, Any]]:
    out = json.loads(frame.reset_index().to_json(orient="records", date_format="iso"))
    return list(out)


@customers_app.command("segments")
def segments(
    since: Annotated[
        str | None,
        typer.Option(
            "--from",
            help="Compare with this date (reads the store; default: the "
            "job's, 90 days before its last day).",
        ),
    ] = None,
    until: Annotated[
        str | None,
        typer.Option("--to", help="The later date (with --from; default: the data's end)."),
    ] = None,
    workspace: WorkspaceOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """RFM segments: size, revenue and how customers moved since an earlier date.

    Scores R, F and M run 1-5 within the shop's own customers; the segment
    follows from R and the average of F and M by the rules in
    docs/customers.md (champions, loyal, ..., lost). Each date is scored on
    the customers who had ordered by then.

    [bold]Examples[/bold]

      shopkeeper customers segments
      shopkeeper customers segments --from 2024-06-30 --to 2024-12-31
      shopkeeper customers segments --json | jq '.segments[] | {segment, customers}'
    """
    with _errors(as_json):
        if since is not None or until is not None:
            from shopkeeper.customers import load_history
            from shopkeeper.customers._analytics import segments_between

            if since is None:
                raise ConfigError("--to needs --from: the earlier date to compare with")
            ws = Workspace.resolve(workspace)
            history = load_history(Store.open(ws))
            end = history.end if until is None else parse_day(until, "--to")
            sizes, movement = segments_between(history, parse_day(since, "--from"), end)
            as_of = str(end.date())
        else:
            _, an = _analytics(workspace)
            sizes, movement, as_of = an.segments, an.movement, str(an.as_of.date())
        if as_json:
            _print_json({"ok": True, "as_of": as_of, "segments": sizes, "movement": movement})
            return
        rows = [
            [
                s["segment"],
                s["customers"],
                f"{s['share']:.1%}",
                s["revenue"],
                f"{s['revenue_share']:.1%}",
                s["mean_recency_days"],
            ]
            for s in sizes
        ]
        console.print(
            _table(
                f"Segments on {as_of}",
                ["segment", "customers", "share", "revenue", "revenue share", "mean recency d"],
                rows,
            )
        )
        mv = movement
        if "summary" in mv:
            rows = [
                [
                    m["segment"],
                    m["before"],
                    m["stayed"],
                    m["moved_up"],
                    m["moved_down"],
                    m["left"],
                    m["new"],
                    m["after"],
                ]
                for m in mv["summary"]
            ]
            console.print(
                _table(
                    f"Movement {mv['from']} → {mv['to']}",
                    ["segment", "before", "stayed", "up", "down", "left", "new", "after"],
                    rows,
                )
            )


@customers_app.command("clv")
def clv(
    customer: Annotated[
        str | None, typer.Option("--customer", "-c", help="Show one customer's scores.")
    ] = None,
    top: TopOpt = 10,
    workspace: WorkspaceOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Lifetime value: the fitted models, the holdout check and the most valuable customers.

    Per customer: the probability of still being active, expected orders over
    the horizon, expected order value and the discounted value over the
    lifetime-value horizon (12 months by default).

    [bold]Examples[/bold]

      shopkeeper customers clv --top 20
      shopkeeper customers clv --customer C-000187 --json
    """
    with _errors(as_json):
        _, an = _analytics(workspace)
        cols = ["orders", "spend", "p_alive", "expected_orders", "expected_spend", "clv"]
        if customer is not None:
            if customer not in an.scores.index:
                raise ConfigError(f"customer {customer!r} was not scored (unknown, or newer)")
            row = an.scores.loc[[customer]]
            if as_json:
                _print_json({"ok": True, "customer": _records(row)[0]})
            else:
                for name, value in row.iloc[0].items():
                    console.print(f"{name:>24}: {_cell(value)}")
            return
        best = an.scores.sort_values("clv", ascending=False, kind="stable").head(top)
        fits = {"repeat": an.repeat_fit.to_dict(), "spend": an.spend_fit.to_dict()}
        if as_json:
            _print_json(
                {
                    "ok": True,
                    "as_of": str(an.as_of.date()),
                    "model": an.settings.model,
                    "months": an.settings.months,
                    "fits": fits,
                    "holdout": an.holdout,
                    "top": _records(best[cols]),
                }
            )
            return
        console.print(
            f"{an.settings.model}: {fits['repeat']['params']}  "
            f"Gamma-Gamma: {fits['spend']['params']}"
        )
        totals = an.holdout.get("totals")
        if totals:
            console.print(
                f"holdout {an.holdout['calibration_end']} → {an.holdout['holdout_end']}: "
                f"predicted {totals['predicted']:.0f} repeat orders, actual "
                f"{totals['actual']:.0f} ({totals['relative_error']:+.1%}), "
                f"MAE {totals['mae']:.3f} per customer"
            )
        rows = [[i, *[r[c] for c in cols]] for i, r in best.iterrows()]
        console.print(
            _table(f"Top {top} by {an.settings.months}-month value", ["customer", *cols], rows)
        )


@customers_app.command("propensity")
def propensity(top: TopOpt = 10, workspace: WorkspaceOpt = None, as_json: JsonOpt = False) -> None:
    """Who will buy in the next N days: the out-of-time check, deciles and drivers.

    Also the session model: the probability that a browsing session ends in a
    purchase, checked on the latest fifth of the shop's sessions.

    [bold]Examples[/bold]

      shopkeeper customers propensity
      shopkeeper customers propensity --json | jq .evaluation.boosting.roc_auc
    """
    with _errors(as_json):
        _, an = _analytics(workspace)
        p = an.propensity
        best = an.scores.sort_values("propensity", ascending=False, kind="stable").head(top)
        if as_json:
            _print_json(
                {
                    "ok": True,
                    **p.summary(),
                    "top": _records(best[["propensity", "orders", "recency_days"]]),
                    "sessions": None if an.sessions is None else an.sessions.summary(),
                }
            )
            return
        console.print(
            f"P(order within {p.horizon_days} days); tested on {p.test_date}, chosen: {p.kind}"
        )
        rows = [
            [kind, r["roc_auc"], r["pr_auc"], r["brier"], r["log_loss"], r["fit_s"]]
            for kind, r in p.evaluation.items()
        ]
        console.print(
            _table(
                "Out-of-time check",
                ["model", "ROC-AUC", "PR-AUC", "Brier", "log-loss", "fit s"],
                rows,
            )
        )
        deciles = p.evaluation[p.kind].get("deciles", [])
        rows = [
            [d["decile"], d["customers"], d["mean_score"], d["observed_rate"], d["lift"]]
            for d in deciles
        ]
        console.print(
            _table(
                "Deciles (1 = highest)",
                ["decile", "customers", "mean score", "bought", "lift"],
                rows,
            )
        )
        rows = [[d["feature"], d["importance_mean"]] for d in p.drivers[:10]]
        console.print(_table("What drives the score", ["feature", "AUC drop"], rows))
        if an.sessions is not None:
            ses = an.sessions
            rows = [
                [kind, r["roc_auc"], r["pr_auc"], r["brier"], r["log_loss"], r["fit_s"]]
                for kind, r in ses.evaluation.items()
            ]
            title = f"Sessions ending in a purchase: {ses.sessions:,}, tested from {ses.test_from}"
            console.print(
                _table(title, ["model", "ROC-AUC", "PR-AUC", "Brier", "log-loss", "fit s"], rows)
            )


@customers_app.command("rules")
def rules(
    out: Annotated[
        Path | None, typer.Option("--out", "-o", help="Also write the rules as text here.")
    ] = None,
    workspace: WorkspaceOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """High-value customers in rules a marketer can read, and what readability costs.

    A depth-3 decision tree predicts who is in the top fifth by lifetime
    value; its cross-validated accuracy is shown next to gradient boosting's.
    """
    with _errors(as_json):
        _, an = _analytics(workspace)
        if an.rules is None:
            raise ConfigError("; ".join(an.notes) or "no high-value rules were fitted")
        if out is not None:
            out.write_text(an.rules.text() + "\n", encoding="utf-8")
        if as_json:
            _print_json({"ok": True, **an.rules.to_dict(), "notes": an.notes})
            return
        console.print(an.rules.text())
        cv = an.rules.cv
        console.print(
            f"\ncross-validated accuracy: tree {cv['tree']['accuracy']:.3f}, gradient boosting "
            f"{cv['boosting']['accuracy']:.3f} ({cv['folds']} folds)"
        )
        for note in an.notes:
            err.print(f"[dim]{note}[/]")


@customers_app.command("churn")
def churn(top: TopOpt = 20, workspace: WorkspaceOpt = None, as_json: JsonOpt = False) -> None:
    """Valuable customers slipping away, ranked by the value at risk.

    Valuable: the top 30% by past spend. Slipping: a probability of having
    left between 0.3 and 0.95 (not yet lost). Value at risk: that
    probability times the lifetime value they would bring if still active.
    """
    with _errors(as_json):
        _, an = _analytics(workspace)
        cols = ["segment", "orders", "spend", "recency_days", "churn_risk", "value_at_risk"]
        risky = an.churn_risk(top)[cols]
        total = int(an.scores["at_risk"].sum())
        if as_json:
            _print_json({"ok": True, "at_risk": total, "customers": _records(risky)})
            return
        rows = [[i, *[r[c] for c in cols]] for i, r in risky.iterrows()]
        console.print(
            _table(f"{total} valuable customers at risk (top {top})", ["customer", *cols], rows)
        )


@customers_app.command("fairness")
def fairness(workspace: WorkspaceOpt = None, as_json: JsonOpt = False) -> None:
    """How propensity and selection differ across gender and age bands.

    Measured on the propensity check's test date, where who bought is known:
    the demographic parity difference (selection rates of a top-20% audience)
    and the equal opportunity difference (how many actual buyers each group
    has selected). Gaps over 10 points are flagged.
    """
    with _errors(as_json):
        _, an = _analytics(workspace)
        if as_json:
            _print_json({"ok": True, **an.fairness})
            return
        if "skipped" in an.fairness:
            console.print(an.fairness["skipped"])
            return
        for column, info in an.fairness["groups"].items():
            rows = [
                [v["group"], v["count"], v["mean_score"], v["selection_rate"], v["tpr"]]
                for v in info["values"]
            ]
            console.print(
                _table(column, ["group", "customers", "mean score", "selected", "TPR"], rows)
            )
            console.print(
                f"demographic parity difference {_cell(info['demographic_parity_difference'])}, "
                f"equal opportunity difference {_cell(info['equal_opportunity_difference'])}"
            )
        for flag in an.fairness.get("flags", []):
            console.print(f"[bold yellow]flag:[/] {flag}")


@customers_app.command("audience")
def audience(
    where: Annotated[
        list[str] | None,
        typer.Option(
            "--where",
            "-w",
            help="A condition FIELD OP VALUE; repeat for more (all must hold).",
        ),
    ] = None,
    out: Annotated[
        Path | None, typer.Option("--out", "-o", help="Write the members to this CSV file.")
    ] = None,
    preview: Annotated[int, typer.Option("--preview", help="Members to show.", min=0)] = 10,
    workspace: WorkspaceOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Build a campaign audience from conditions over the scores; preview or export it.

    Only customers whose marketing consent the store holds *now* are members:
    consent is checked when the audience is built, not when scores were made.
    Fields: segment, orders, spend, recency_days, p_alive, expected_orders,
    clv, propensity, propensity_decile, churn_risk, value_at_risk, at_risk,
    high_value, gender, age, age_band. Operators: = != < <= > >= in top bottom.

    [bold]Examples[/bold]

      shopkeeper customers audience -w "propensity top 20%" -w "recency_days >= 30"
      shopkeeper customers audience -w "segment in at risk, cannot lose" -o winback.csv
      shopkeeper customers audience -w "high_value = true" --json
    """
    from shopkeeper.customers._train import marketing_consent

    with _errors(as_json):
        ws, an = _analytics(workspace)
        result = an.audience(where or [], marketing_consent(Store.open(ws)))
        if out is not None:
            out.write_text(result.to_csv(), encoding="utf-8")
        if as_json:
            _print_json(
                {
                    "ok": True,
                    **result.to_dict(limit=preview),
                    "file": None if out is None else str(out),
                }
            )
            return
        console.print(
            f"{result.size:,} members of {result.scored:,} customers; "
            f"{result.matched:,} met the conditions, {result.without_consent:,} left out "
            "without marketing consent"
        )
        for name, value in result.summary.items():
            console.print(f"  {name.replace('_', ' ')}: {value:,.2f}")
        cols = ["segment", "clv", "propensity", "recency_days"]
        rows = [[i, *[r[c] for c in cols]] for i, r in result.members.head(preview).iterrows()]
        if rows:
            console.print(_table("Members (highest value first)", ["customer", *cols], rows))
        if out is not None:
            err.print(f"wrote {result.size:,} members to {out}")


@evaluate_app.command("clv")
def evaluate_clv(
    data: Annotated[
        Path, typer.Option("--data", "-d", help="A folder of contract files (CSV/Parquet).")
    ],
    calibration_end: Annotated[
        str, typer.Option("--calibration-end", help="Last day of the calibration period.")
    ],
    holdout_end: Annotated[
        str | None,
        typer.Option("--holdout-end", help="Last day of the holdout (default: the data's end)."),
    ] = None,
    model: Annotated[str, typer.Option("--model", "-m", help="bgnbd or paretonbd.")] = "bgnbd",
    period_days: Annotated[
        float, typer.Option("--period-days", help="Length of a time unit in days.", min=0.01)
    ] = 7.0,
    per_customer: Annotated[
        bool, typer.Option("--per-customer", help="Include every customer in the output.")
    ] = False,
    out: Annotated[
        Path | None, typer.Option("--out", "-o", help="Also write the JSON result here.")
    ] = None,
    as_json: JsonOpt = False,
) -> None:
    """Calibration/holdout check of lifetime value on any folder of contract files.

    Fits the repeat-purchase model (and Gamma-Gamma for spend) on orders up
    to --calibration-end, predicts each customer's repeat purchases up to
    --holdout-end and compares with what they did: total, MAE, RMSE and the
    mean by calibration frequency, beside two baselines. One calendar day is
    one transaction; time is counted in weeks (--period-days 7).

    [bold]Examples[/bold]

      shopkeeper evaluate clv --data cdnow/ --calibration-end 1997-09-30
      shopkeeper evaluate clv --data exports/ --calibration-end 2024-06-30 --json
      shopkeeper evaluate clv --data exports/ --calibration-end 2024-06-30 --model paretonbd
    """
    from shopkeeper.customers import GammaGamma, holdout_check, load_history, rfm_summary

    with _errors(as_json):
        cal = parse_day(calibration_end, "--calibration-end")
        end = None if holdout_end is None else parse_day(holdout_end, "--holdout-end")
        with scratch_store(data) as store:
            history = load_history(store)
        check = holdout_check(history.orders, cal, end, model=model, period_days=period_days)
        summary = rfm_summary(history.orders, cal, period_days=period_days)
        payload: dict[str, Any] = {
            "ok": True,
            "data": str(data),
            **check.to_dict(per_customer=per_customer),
        }
        try:
            spend = GammaGamma().fit_summary(summary)
            assert spend.info is not None
            payload["spend"] = spend.info.to_dict()
            repeat = summary[summary["frequency"] > 0]
            # Gamma-Gamma assumes spend per order does not depend on how often one buys.
            payload["spend"]["frequency_monetary_correlation"] = round(
                float(repeat["frequency"].corr(repeat["monetary"])), 4
            )
        except ConfigError as exc:
            payload["spend"] = {"skipped": str(exc)}
        if out is not None:
            out.write_text(json.dumps(payload, indent=2, default=str), encoding="utf-8")
        if as_json:
            _print_json(payload)
            return
        fit = check.fit
        console.print(
            f"{model} on {fit.customers:,} customers, calibration to {check.calibration_end.date()}"
            f": "
            + ", ".join(f"{k} {v:.4f}" for k, v in fit.params.items())
            + f"; log-likelihood {fit.log_likelihood:.2f}"
        )
        if "params" in payload["spend"]:
            console.print(
                "Gamma-Gamma: "
                + ", ".join(f"{k} {v:.4f}" for k, v in payload["spend"]["params"].items())
            )
        t = check.totals
        console.print(
            f"holdout to {check.holdout_end.date()} ({check.holdout_periods:.1f} periods): "
            f"actual {t['actual']:.0f}, predicted {t['predicted']:.1f} "
            f"({t['relative_error']:+.1%}); MAE {t['mae']:.4f} (all-zero {t['mae_zero']:.4f}, "
            f"rate carried on {t['mae_rate']:.4f}); RMSE {t['rmse']:.4f}"
        )
        rows = [
            [b["frequency"], b["customers"], b["actual_mean"], b["predicted_mean"]]
            for b in check.by_frequency
        ]
        console.print(
            _table(
                "By calibration frequency",
                ["repeat purchases", "customers", "actual mean", "predicted mean"],
                rows,
            )
        )


@evaluate_app.command("sessions")
def evaluate_sessions(
    file: Annotated[Path, typer.Option("--file", "-f", help="A CSV of session features.")],
    target: Annotated[
        str, typer.Option("--target", "-t", help="The yes/no column: did it end in a purchase?")
    ] = "Revenue",
    categorical: Annotated[
        str | None,
        typer.Option("--categorical", help="Comma-separated columns to treat as categories."),
    ] = None,
    folds: Annotated[int, typer.Option("--folds", help="Cross-validation folds.", min=2)] = 5,
    seed: Annotated[int, typer.Option("--seed", help="Seed of the folds.")] = 42,
    as_json: JsonOpt = False,
) -> None:
    """Session purchase propensity on any table of sessions, by stratified cross-validation.

    Every shopkeeper model kind (logistic, boosting, blend) is fitted on the
    same folds and scored by ROC-AUC, PR-AUC, Brier score and log-loss. The
    UCI Online Shoppers layout is recognised as it is.

    [bold]Examples[/bold]

      shopkeeper evaluate sessions --file online_shoppers_intention.csv
      shopkeeper evaluate sessions --file sessions.csv --target converted --json
    """
    from shopkeeper.customers import PropensityModel, cross_validate
    from shopkeeper.customers._sessions import read_session_table

    with _errors(as_json):
        cats = [c.strip() for c in (categorical or "").split(",") if c.strip()]
        X, y = read_session_table(file, target, cats)
        rows = []
        for kind in ("logistic", "boosting", "blend"):
            result = cross_validate(
                partial(PropensityModel, kind=kind, seed=0), X, y, folds=folds, seed=seed
            )
            rows.append(
                {
                    "model": kind,
                    **{k: round(v, 4) for k, v in result["mean"].items()},
                    "fit_s": round(result["fit_seconds"], 2),
                }
            )
        payload = {
            "ok": True,
            "file": str(file),
            "sessions": len(y),
            "positive_rate": round(float(y.mean()), 4),
            "folds": folds,
            "models": rows,
        }
        if as_json:
            _print_json(payload)
            return
        console.print(f"{len(y):,} sessions, {y.mean():.1%} ended in a purchase; {folds} folds")
        cols = ["roc_auc", "pr_auc", "brier", "log_loss", "fit_s"]
        console.print(
            _table(
                "Mean over folds",
                ["model", *cols],
                [[r["model"], *[r[c] for c in cols]] for r in rows],
            )
        )
