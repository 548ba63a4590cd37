"""CLI: ``shopkeeper evaluate forecast`` (a backtest on any folder) and ``shopkeeper forecast``."""

from __future__ import annotations

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
    parse_day,
    scratch_store,
)
from shopkeeper.workspace import Workspace


@evaluate_app.command("forecast")
def evaluate_forecast(
    data: Annotated[
        Path, typer.Option("--data", "-d", help="A folder of contract files (CSV/Parquet).")
    ],
    horizon: Annotated[
        int, typer.Option("--horizon", "-H", help="Periods to forecast ahead.", min=1)
    ],
    test_from: Annotated[
        str | None,
        typer.Option(
            "--test-from",
            help="First day of the test for every series (default: each series' last "
            "--horizon observations).",
        ),
    ] = None,
    windows: Annotated[
        int, typer.Option("--windows", help="Rolling origins, --horizon apart.", min=1)
    ] = 1,
    frequency: Annotated[
        str | None,
        typer.Option("--frequency", help="day or week (default: the data's natural one)."),
    ] = None,
    by_location: Annotated[
        bool | None,
        typer.Option(
            "--by-location/--no-by-location",
            help="A series per product and location (default: when several locations sell).",
        ),
    ] = None,
    season: Annotated[
        int | None,
        typer.Option("--season", help="Season length in periods (default 7 days, 4 weeks).", min=1),
    ] = None,
    timezone: Annotated[
        str | None, typer.Option("--timezone", help="The shop's day, e.g. +08:00 (default UTC).")
    ] = None,
    models: Annotated[
        str | None,
        typer.Option(
            "--models",
            "-m",
            help="Comma-separated short names: naive, snaive, ma, ets, ets-log, theta, "
            "theta-log, arima, arima-log, croston, tsb, adida, lgbm, auto "
            "(default: all but ets, theta and the slow arima).",
        ),
    ] = None,
    as_json: JsonOpt = False,
) -> None:
    """Backtest the demand forecasts on a folder of contract files.

    Units sold per product (and location) are summed from the order lines at
    the data's natural frequency (weekly when every order falls on one
    weekday, else daily). Each series' last --horizon observations are the
    test, or everything from --test-from on (fixed in the calendar, so others
    can reproduce the split exactly); every model is fitted on what came
    before and scored by WAPE, MASE, bias and the coverage of its 80% and 95%
    intervals. The models: the baselines (naive, seasonal naive, moving
    average); statsforecast's AutoETS, AutoTheta and AutoARIMA (on units, or
    -log: on log units) and, for products that sell rarely, Croston, TSB and
    ADIDA; one LightGBM model across all series with prices, promotions and
    the shop's festivals as known inputs (lgbm); and auto, which gives each
    series the model that forecast it best in a backtest on its training part.

    [bold]Examples[/bold]

      shopkeeper evaluate forecast --data dominicks/ --horizon 12
      shopkeeper evaluate forecast --data exports/ --horizon 28 --test-from 2024-11-01 --json
      shopkeeper evaluate forecast --data exports/ --horizon 7 --windows 4 --no-by-location
      shopkeeper evaluate forecast --data exports/ -H 12 --models naive,ets-log,lgbm
    """
    from shopkeeper.forecast import load_demand
    from shopkeeper.forecast._backtest import backtest, default_season
    from shopkeeper.forecast._models import DEFAULT_MODELS, models_by_name

    with _errors(as_json):
        start = None if test_from is None else parse_day(test_from, "--test-from").date()
        with scratch_store(data) as store:
            demand = load_demand(
                store,
                frequency=frequency,  # type: ignore[arg-type]
                by_location=by_location,
                timezone=timezone,
            )
        m = season or default_season(demand.frequency)
        names = [n.strip() for n in models.split(",") if n.strip()] if models else DEFAULT_MODELS
        # Weeks have no season short of a year: the statistical models go without one.
        chosen = models_by_name(names, m, season or (7 if demand.frequency == "day" else 1))
        frame = demand.frame.rename(columns={"units": "y"})
        result = backtest(frame, chosen, horizon, test_from=start, windows=windows, season=1)
        payload: dict[str, Any] = {
            "ok": True,
            "data": str(data),
            "frequency": demand.frequency,
            "by_location": demand.by_location,
            "timezone": demand.timezone,
            "horizon": horizon,
            "test_from": None if start is None else start.isoformat(),
            "windows": result.windows,
            "season": m,
            "series": result.series,
            "points": result.points,
            "skipped": result.skipped,
            "models": [
                {k: (round(v, 4) if isinstance(v, float) else v) for k, v in row.items()}
                for row in result.table.to_dict(orient="records")
            ],
        }
        if as_json:
            _print_json(payload)
            return
        split = f"from {payload['test_from']}" if start else f"each series' last {horizon}"
        console.print(
            f"{result.series:,} series ({demand.frequency}ly"
            f"{', per location' if demand.by_location else ''}), test: {split} "
            f"({result.points:,} points, {result.windows} window(s))",
            highlight=False,
        )
        grid = RichTable(title="Backtest (WAPE and MASE: lower is better)")
        columns = [c for c in result.table.columns if c != "model"]
        grid.add_column("model")
        for c in columns:
            grid.add_column(c.replace("_", " "), justify="right")
        for row in result.table.itertuples(index=False):
            values = row._asdict()
            grid.add_row(str(values["model"]), *(f"{values[c]:.3f}" for c in columns))
        console.print(grid)
        for name, why in result.skipped.items():
            console.print(f"[yellow]{name} left out:[/yellow] {why}", highlight=False)


@app.command("forecast")
def forecast_command(
    product: Annotated[
        str | None, typer.Argument(help="A product id: its forecast per period (default: all).")
    ] = None,
    data: Annotated[
        Path | None,
        typer.Option(
            "--data",
            "-d",
            help="Forecast a folder of contract files now (default: the workspace's trained "
            "forecast, from 'shopkeeper train forecast').",
        ),
    ] = None,
    horizon: Annotated[
        int,
        typer.Option("--horizon", "-H", help="Periods ahead with --data (0: 28 days, 8 weeks)."),
    ] = 0,
    models: Annotated[
        str,
        typer.Option("--models", "-m", help="Candidates with --data, comma-separated short names."),
    ] = "naive,ma,lgbm",
    top: Annotated[int, typer.Option("--top", "-n", help="Products to list.", min=1)] = 20,
    workspace: WorkspaceOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Demand forecasts per product (and location): units ahead with 80% intervals.

    Without a product: the products with the most units forecast over the
    horizon, next to what they sold over the same number of past periods.
    With one: its forecast per period and location. The forecasts come from
    the model with the lowest WAPE in a backtest on the shop's own history
    (the table is shown first).

    [bold]Examples[/bold]

      shopkeeper train forecast && shopkeeper forecast --top 10
      shopkeeper forecast SKU-10097 --json
      shopkeeper forecast --data exports/ --horizon 14 --models naive,ma,lgbm,auto
    """
    from shopkeeper.forecast._analysis import ForecastSettings, analyse, load_analysis

    with _errors(as_json):
        if data is not None:
            settings = ForecastSettings(horizon=horizon, models=models)
            settings.names()  # refuse unknown names before reading anything
            with scratch_store(data) as store:
                analysis = analyse(store, settings)
        else:
            analysis = load_analysis(Workspace.resolve(workspace))
        backtest = [
            {k: (round(v, 4) if isinstance(v, float) else v) for k, v in row.items()}
            for row in analysis.backtest.to_dict(orient="records")
        ]
        head: dict[str, Any] = {
            "ok": True,
            "frequency": analysis.frequency,
            "horizon": analysis.horizon,
            "model": analysis.model,
            "last_period": analysis.last_period,
            "backtest": backtest,
            "notes": analysis.notes,
        }
        if product is not None:
            names = analysis.series_of(product)
            rows = analysis.forecasts[analysis.forecasts["series"].isin(names)].copy()
            rows["period"] = rows["period"].dt.strftime("%Y-%m-%d")
            payload = {**head, "product_id": product, "forecast": _records(rows)}
            if as_json:
                _print_json(payload)
                return
            grid = RichTable(title=f"{product}: units per {analysis.frequency} ({analysis.model})")
            for c in ("location", "period", "forecast", "80% low", "80% high"):
                grid.add_column(c, justify="left" if c in ("location", "period") else "right")
            for r in rows.to_dict(orient="records"):
                grid.add_row(
                    str(r["location_id"] or "online"),
                    str(r["period"]),
                    f"{r['yhat']:.1f}",
                    f"{r.get('lo-80', float('nan')):.1f}",
                    f"{r.get('hi-80', float('nan')):.1f}",
                )
            console.print(grid)
            return
        summary = analysis.summary().head(top)
        payload = {**head, "products": _records(summary)}
        if as_json:
            _print_json(payload)
            return
        console.print(
            f"{analysis.frequency}ly forecasts, {analysis.horizon} periods after "
            f"{analysis.last_period}, from {analysis.model}",
            highlight=False,
        )
        table = RichTable(title="Backtest (lower WAPE is better)")
        for c in ("model", "wape", "mase", "bias", "coverage 80", "seconds"):
            table.add_column(c, justify="left" if c == "model" else "right")
        for row in backtest:
            table.add_row(
                str(row["model"]),
                *(f"{row.get(k, float('nan')):.3f}" for k in ("wape", "mase", "bias")),
                f"{row.get('coverage_80', float('nan')):.3f}",
                f"{row['seconds']:.1f}",
            )
        console.print(table)
        grid = RichTable(title=f"Top {len(summary)} by units forecast")
        for c in ("series", "title", "forecast", "80% low", "80% high", "last periods"):
            grid.add_column(c, justify="left" if c in ("series", "title") else "right")
        for r in summary.itertuples(index=False):
            grid.add_row(
                str(r.series),
                str(r.title),
                f"{r.forecast:,.0f}",
                f"{r.low:,.0f}",
                f"{r.high:,.0f}",
                f"{r.last_units:,.0f}",
            )
        console.print(grid)


def _records(frame: Any) -> list[dict[str, Any]]:
    import json

    return list(json.loads(frame.to_json(orient="records", double_precision=4)))
