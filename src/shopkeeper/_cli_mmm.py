"""CLI commands of the marketing mix: ``mmm simple|fit|budget|curves``.

Without ``--data`` every command reads the analysis the last ``mmm`` job
saved (``shopkeeper train mmm``), the same one the service and the
dashboard show. With ``--data DIR`` (any folder of contract files, loaded
into a throw-away store) the analysis is computed at the prompt, in seconds,
with the fitting options given (``--frequency``, ``--adstock``,
``--timezone``, ``--holdout``). Heavy imports happen inside the commands.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, cast

import typer
from rich.table import Table as RichTable

from shopkeeper.cli import (
    JsonOpt,
    WorkspaceOpt,
    _errors,
    _print_json,
    app,
    console,
    scratch_store,
)
from shopkeeper.errors import ConfigError
from shopkeeper.workspace import Workspace

if TYPE_CHECKING:
    from shopkeeper.mmm import MixAnalysis

mmm_app = typer.Typer(
    help="Marketing mix: what each ad channel sells, and how to split the budget.\n\n"
    "[bold]mmm simple[/bold] fits the straight line most people try first (sales against "
    "total ad spend); [bold]mmm fit[/bold] shows the mix model, which gives each channel "
    "carry-over (an ad sells on later days too) and saturation (each extra unit sells "
    "less), on top of the shop's own trend, season, festivals and promotions, and checks "
    "its forecast on the last weeks it did not see; [bold]mmm curves[/bold] shows each "
    "channel's sales against its spend; [bold]mmm budget[/bold] splits a budget where it "
    "sells the most.\n\n"
    "The commands read the analysis of [bold]shopkeeper train mmm[/bold], or compute one "
    "from --data DIR (a folder of contract files with orders and ad_spend).",
    no_args_is_help=True,
    rich_markup_mode="rich",
)
app.add_typer(mmm_app, name="mmm")

DataOpt = Annotated[
    Path | None,
    typer.Option(
        "--data",
        "-d",
        help="Compute from this folder of contract files (default: the trained analysis).",
    ),
]
FrequencyOpt = Annotated[
    str | None,
    typer.Option("--frequency", help="With --data: fit per day or per week (default day)."),
]
AdstockOpt = Annotated[
    str | None,
    typer.Option(
        "--adstock", help="With --data: carry-over as geometric or weibull (default geometric)."
    ),
]
TargetOpt = Annotated[
    str | None,
    typer.Option(
        "--target",
        help="With --data: fit the number of orders and value them (less noisy), or the "
        "sales themselves (default orders).",
    ),
]
TimezoneOpt = Annotated[
    str | None,
    typer.Option(
        "--timezone",
        help="With --data: the shop's day, e.g. Asia/Shanghai or +08:00 (default: the "
        "store's setting, else UTC).",
    ),
]
HoldoutOpt = Annotated[
    int | None,
    typer.Option(
        "--holdout",
        help="With --data: last periods kept back to check the forecast; 0: none (default 56).",
        min=0,
    ),
]


def _analysis(
    data: Path | None,
    workspace: Path | None,
    frequency: str | None,
    adstock: str | None,
    timezone: str | None,
    holdout: int | None,
    target: str | None = None,
) -> tuple[MixAnalysis, str]:
    """The analysis to show and where it came from: computed from --data, or trained."""
    from shopkeeper.mmm import MMMSettings, analyse_store, load_analysis

    if data is not None:
        settings = MMMSettings(
            frequency=frequency or "day",
            adstock=adstock or "geometric",
            target=target or "orders",
            timezone=timezone or "",
            holdout=56 if holdout is None else holdout,
        )
        with scratch_store(data) as store:
            return analyse_store(store, settings), f"--data {data}"
    analysis = load_analysis(Workspace.resolve(workspace))
    given = {
        name: value
        for name, value in (
            ("frequency", frequency),
            ("adstock", adstock),
            ("target", target),
            ("timezone", timezone),
            ("holdout", holdout),
        )
        if value is not None
    }
    if given:
        s = analysis.settings
        options = ", ".join(f"--{name}" for name in given)
        raise ConfigError(
            f"{options} {'chooses' if len(given) == 1 else 'choose'} how to fit from --data "
            f"DIR; the trained analysis keeps its own settings (frequency {s.frequency}, "
            f"adstock {s.adstock}, target {s.target}, timezone {analysis.data.timezone}, "
            f"holdout {s.holdout}). "
            f"To change them, run: shopkeeper train mmm --params '{json.dumps(given)}' "
            "(or compute from --data DIR)"
        )
    return analysis, "the trained analysis (shopkeeper train mmm)"


def _plain(value: Any) -> Any:
    """``value`` with numpy scalars as Python numbers and NaN or infinity as None (JSON)."""
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if type(value).__module__ == "numpy" and hasattr(value, "item"):
        value = value.item()  # a numpy scalar
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def _records(frame: Any) -> list[dict[str, Any]]:
    return cast(list[dict[str, Any]], _plain(frame.to_dict(orient="records")))


def _head(analysis: MixAnalysis, source: str) -> dict[str, Any]:
    """What every JSON answer starts with: the source, the window, the settings."""
    start, end = analysis.period()
    return {
        "ok": True,
        "source": source,
        "frequency": analysis.model.frequency,
        "periods": len(analysis.model.dates),
        "period": {"from": start, "to": end},
        "timezone": analysis.data.timezone,
        "adstock": analysis.settings.adstock,
        "target": analysis.settings.target,
    }


def _unit(analysis: MixAnalysis, n: int | None = None) -> str:
    word = "week" if analysis.model.frequency == "week" else "day"
    return word if n == 1 else f"{word}s"


def _intro(analysis: MixAnalysis, source: str) -> None:
    start, end = analysis.period()
    n = len(analysis.model.dates)
    console.print(
        f"[bold]Marketing mix[/] from {source}: {n:,} {_unit(analysis, n)}, {start} … {end} "
        f"({analysis.data.timezone})",
        highlight=False,
    )


def _money(value: float) -> str:
    if value == 0:
        return "0"
    return f"{value:,.0f}" if abs(value) >= 99.995 else f"{value:,.2f}"


def _ratio(value: float) -> str:
    if value != value:  # NaN
        return ""
    return f"{value:.2f}" if abs(value) < 10 else f"{value:,.1f}"


def _span(low: float, high: float) -> str:
    return f"{_ratio(low)}–{_ratio(high)}"


def _grid(title: str, columns: list[str], rows: list[list[str]]) -> RichTable:
    grid = RichTable(title=title, title_justify="left")
    for i, column in enumerate(columns):
        grid.add_column(column, justify="left" if i == 0 else "right")
    for row in rows:
        grid.add_row(*row)
    return grid


def _notes(analysis: MixAnalysis, extra: list[str] | None = None) -> None:
    for note in [*analysis.notes, *(extra or [])]:
        console.print(f"[yellow]note:[/] {note}", highlight=False)


@mmm_app.command("simple")
def simple_command(
    spend: Annotated[
        float | None,
        typer.Option(
            "--spend",
            help="Planned total ad spend per period (default: the mean of the last four weeks).",
            min=0,
        ),
    ] = None,
    level: Annotated[float, typer.Option("--level", help="Interval level (0 to 1).")] = 0.9,
    data: DataOpt = None,
    frequency: FrequencyOpt = None,
    adstock: AdstockOpt = None,
    target: TargetOpt = None,
    timezone: TimezoneOpt = None,
    holdout: HoldoutOpt = None,
    workspace: WorkspaceOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """The straight line: sales = a + b × total ad spend per period, and a prediction.

    Least squares over the periods, with R² and, for a planned spend per
    period, the expected sales with two intervals: where the line's mean lies,
    and where one period's sales fall. It is what most people try first; it
    ignores carry-over, saturation and season and lumps the channels together,
    so it reads correlation as effect. Compare it with [bold]mmm fit[/bold].

    [bold]Examples[/bold]

      shopkeeper mmm simple
      shopkeeper mmm simple --spend 2000 --level 0.95
      shopkeeper mmm simple --data exports/ --json
    """
    with _errors(as_json):
        analysis, source = _analysis(data, workspace, frequency, adstock, timezone, holdout, target)
        line = analysis.simple
        planned = float(analysis.model.current_spend().sum()) if spend is None else spend
        prediction = line.predict(planned, level)
        if as_json:
            _print_json(
                _plain(
                    {
                        **_head(analysis, source),
                        "intercept": line.intercept,
                        "slope": line.slope,
                        "intercept_se": line.intercept_se,
                        "slope_se": line.slope_se,
                        "r2": line.r2,
                        "n": line.n,
                        "residual_sd": line.residual_sd,
                        "mean_spend": line.mean_spend,
                        "prediction": prediction,
                    }
                )
            )
            return
        one = _unit(analysis, 1)
        _intro(analysis, source)
        console.print(
            f"sales per {one} = {line.intercept:,.2f} + {line.slope:.4f} × total ad spend per "
            f"{one}   (R² {line.r2:.3f}, {line.n:,} {_unit(analysis, line.n)}; slope std. "
            f"error {line.slope_se:.4f})",
            highlight=False,
        )
        rows = [
            ["expected sales", _money(prediction["sales"]), ""],
            [
                f"{level:.0%} interval of the mean",
                _money(prediction["mean_low"]),
                _money(prediction["mean_high"]),
            ],
            [
                f"{level:.0%} interval of one {one}",
                _money(prediction["low"]),
                _money(prediction["high"]),
            ],
        ]
        console.print(
            _grid(f"At {_money(planned)} of ad spend per {one}", ["estimate", "low", "high"], rows)
        )
        console.print(
            "[dim]The line ignores carry-over (ads selling on later days), saturation (each "
            "extra unit selling less) and season, and lumps every channel together: it reads "
            "correlation as effect. 'shopkeeper mmm fit' shows the mix model.[/]"
        )


@mmm_app.command("fit")
def fit_command(
    data: DataOpt = None,
    frequency: FrequencyOpt = None,
    adstock: AdstockOpt = None,
    target: TargetOpt = None,
    timezone: TimezoneOpt = None,
    holdout: HoldoutOpt = None,
    workspace: WorkspaceOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """The mix model per channel: its sales, ROAS, marginal ROAS, carry-over and saturation.

    ROAS is the channel's sales over its spend in the window; marginal ROAS
    is what the next unit of spend sells at the current spend (the last four
    weeks' mean): above 1 a channel still pays back more than it costs (before
    margins), below it the spend is past its best. The intervals are 90%. The
    holdout check fits again without the last periods and forecasts their
    sales from their actual spend: WAPE is the share of sales it missed, bias
    the share it over (+) or under (-) forecast.

    [bold]Examples[/bold]

      shopkeeper mmm fit
      shopkeeper mmm fit --data exports/ --frequency week --adstock weibull --holdout 8
      shopkeeper mmm fit --json | jq '.channels[] | {channel, roas, marginal_roas}'
    """
    with _errors(as_json):
        analysis, source = _analysis(data, workspace, frequency, adstock, timezone, holdout, target)
        summary = analysis.model.summary()
        base_share = float(analysis.model.base.sum() / analysis.model.sales.sum())
        if as_json:
            _print_json(
                _plain(
                    {
                        **_head(analysis, source),
                        "channels": _records(summary),
                        "base_share": base_share,
                        "holdout": analysis.holdout,
                        "metrics": analysis.metrics(),
                        "notes": analysis.notes,
                    }
                )
            )
            return
        one = _unit(analysis, 1)
        _intro(analysis, source)
        returns = [
            [
                r.channel,
                _money(r.sales),
                f"{r.share_of_sales:.1%}",
                _ratio(r.roas),
                _span(r.roas_low, r.roas_high),
                _ratio(r.marginal_roas),
                _span(r.marginal_low, r.marginal_high),
            ]
            for r in summary.itertuples()
        ]
        columns = ["channel", "sales", "share", "ROAS", "90%", "marginal ROAS", "90%"]
        title = "Sales and returns per channel (marginal: the next unit at the current spend)"
        console.print(_grid(title, columns, returns))
        shape = []
        for row in summary.to_dict(orient="records"):
            if "adstock_decay" in row:
                carry = f"decay {row['adstock_decay']:.2f}"
            else:
                carry = f"weibull {row['adstock_shape']:.2f}/{row['adstock_scale']:.1f}"
            shape.append(
                [
                    str(row["channel"]),
                    _money(row["spend"]),
                    _money(row["current_spend"]),
                    carry,
                    _money(row["half_saturation"]),
                    f"{row['hill_shape']:.2f}",
                ]
            )
        columns = ["channel", "spend", f"per {one} now", "carry-over", "half saturation", "shape"]
        console.print(_grid("Spend, carry-over and saturation (Hill curve)", columns, shape))
        console.print(f"organic base (sales without ads): {base_share:.1%} of sales")
        value = analysis.model.value
        if value is not None:
            console.print(
                f"fitted on order counts; an order that advertising brought is worth "
                f"{value.factor:.2f}× the usual one (--target sales fits the sales instead)",
                highlight=False,
            )
        check = analysis.holdout
        if check is not None:
            console.print(
                f"holdout check: the last {check['periods']} {_unit(analysis, check['periods'])} "
                f"({check['from']} … {check['to']}) forecast from their spend: WAPE "
                f"{check['wape']:.1%}, MAPE {check['mape']:.1%}, bias {check['bias']:+.1%}",
                highlight=False,
            )
        _notes(analysis)


def parse_bound(text: str) -> tuple[str, float | None, float | None]:
    """``CHANNEL=LO:HI`` (either side may be empty) as (channel, low, high)."""
    expected = (
        f"--bound {text!r}: expected CHANNEL=LO:HI, totals over the --periods, either side "
        "may be empty (e.g. search=1000:5000, video=:2000, email=500:)"
    )
    channel, equals, span = text.partition("=")
    low_text, colon, high_text = span.partition(":")
    if not equals or not colon or not channel.strip():
        raise ConfigError(expected)
    sides: list[float | None] = []
    for side in (low_text.strip(), high_text.strip()):
        if not side:
            sides.append(None)
            continue
        try:
            number = float(side)
        except ValueError:
            raise ConfigError(expected) from None
        if not math.isfinite(number) or number < 0:
            raise ConfigError(f"--bound {text!r}: the limits must be 0 or more")
        sides.append(number)
    low, high = sides
    if low is not None and high is not None and high < low:
        raise ConfigError(f"--bound {text!r}: the lower limit is above the upper one")
    return channel.strip(), low, high


def _bounds(
    given: list[str], channels: list[str], total: float
) -> dict[str, tuple[float | None, float | None]]:
    """The --bound options as totals per channel, checked against the channels and total."""
    bounds: dict[str, tuple[float | None, float | None]] = {}
    for text in given:
        channel, low, high = parse_bound(text)
        if channel in bounds:
            raise ConfigError(f"--bound: {channel} is bounded twice")
        bounds[channel] = (low, high)
    unknown = sorted(set(bounds) - set(channels))
    if unknown:
        raise ConfigError(
            f"--bound: no fitted channel {', '.join(unknown)}; the channels are "
            f"{', '.join(channels)}"
        )
    least = sum(bounds.get(c, (None, None))[0] or 0.0 for c in channels)
    most = 0.0
    for c in channels:
        high = bounds.get(c, (None, None))[1]
        most += total if high is None else high
    if least > total + 1e-9 or most < total - 1e-9:
        raise ConfigError(
            f"the bounds allow a total between {least:,.2f} and {most:,.2f}, not --total "
            f"{total:,.2f}"
        )
    return bounds


@mmm_app.command("budget")
def budget_command(
    total: Annotated[
        float, typer.Option("--total", "-t", help="The budget over all --periods.", min=0)
    ],
    periods: Annotated[
        int,
        typer.Option(
            "--periods",
            help="Periods the --total covers: days for a daily mix, weeks for a weekly one.",
            min=1,
        ),
    ] = 30,
    bound: Annotated[
        list[str] | None,
        typer.Option(
            "--bound",
            "-b",
            help="CHANNEL=LO:HI, the least and most a channel gets over the --periods; "
            "either side may be empty. Repeat for more channels.",
        ),
    ] = None,
    objective: Annotated[
        str,
        typer.Option("--objective", help="sales (most sales) or profit (needs --margin)."),
    ] = "sales",
    margin: Annotated[
        float | None,
        typer.Option("--margin", help="Share of a sale that is profit before advertising."),
    ] = None,
    data: DataOpt = None,
    frequency: FrequencyOpt = None,
    adstock: AdstockOpt = None,
    target: TargetOpt = None,
    timezone: TimezoneOpt = None,
    holdout: HoldoutOpt = None,
    workspace: WorkspaceOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Split a budget across channels where it sells the most, against the current split.

    --total is spent evenly over --periods periods (30 days by default; for a
    mix fitted per week, 30 weeks). Each channel's sales come from its
    response curve at that steady spend; the current split is the last four
    weeks' mix scaled to the same budget. Bounds are totals over the same
    periods. A split far beyond the spend seen in the data is an extrapolation
    of the curve: the output says so.

    [bold]Examples[/bold]

      shopkeeper mmm budget --total 40000
      shopkeeper mmm budget --total 40000 --bound search=10000: --bound video=:5000
      shopkeeper mmm budget --total 12000 --periods 8 --data exports/ --frequency week
      shopkeeper mmm budget --total 40000 --objective profit --margin 0.35 --json
    """
    from shopkeeper.mmm._budget import Objective

    with _errors(as_json):
        if total <= 0:
            raise ConfigError(f"--total must be positive, got {total:g}")
        analysis, source = _analysis(data, workspace, frequency, adstock, timezone, holdout, target)
        model = analysis.model
        limits = _bounds(bound or [], model.channel_names, total)
        per_period = {
            c: (None if lo is None else lo / periods, None if hi is None else hi / periods)
            for c, (lo, hi) in limits.items()
        }
        split = analysis.allocate(
            total / periods,
            bounds=per_period,
            objective=cast(Objective, objective),
            margin=margin,
        )
        plan = split.as_dict(periods)
        beyond = [
            f"{name}: {split.spend[i]:,.0f} per {_unit(analysis, 1)} is beyond the most it "
            f"spent in one {_unit(analysis, 1)} ({model.spend[i].max():,.0f}); its curve is "
            "extrapolated there"
            for i, name in enumerate(split.channels)
            if split.spend[i] > model.spend[i].max() * 1.0001
        ]
        expected = cast(float, plan["expected_sales"])
        current = cast(float, plan["current_sales"])
        profit = None
        if margin is not None:
            profit = {"expected": margin * expected - total, "current": margin * current - total}
        if as_json:
            _print_json(
                _plain(
                    {
                        **_head(analysis, source),
                        **plan,
                        "per_period": total / periods,
                        "bounds": {c: {"low": lo, "high": hi} for c, (lo, hi) in limits.items()},
                        "profit": profit,
                        "notes": [*analysis.notes, *beyond],
                    }
                )
            )
            return
        _intro(analysis, source)
        unit = _unit(analysis, periods)
        rows = []
        for item in cast(list[dict[str, Any]], plan["channels"]):
            lo, hi = limits.get(item["channel"], (None, None))
            rows.append(
                [
                    item["channel"],
                    _money(item["current_spend"]),
                    _money(item["spend"]),
                    _change(item["spend"] - item["current_spend"]),
                    _money(item["current_sales"]),
                    _money(item["sales"]),
                    "" if lo is None and hi is None else f"{_bound(lo)}:{_bound(hi)}",
                ]
            )
        rows.append(
            ["total", _money(total), _money(total), "", _money(current), _money(expected), ""]
        )
        columns = ["channel", "current", "recommended", "change", "sales now", "sales", "bound"]
        one = _unit(analysis, 1)
        title = f"{_money(total)} over {periods} {unit} ({_money(total / periods)} per {one})"
        console.print(_grid(title, columns, rows))
        gain = cast(float, plan["gain"])
        console.print(
            f"expected sales over {periods} {unit}: {_money(expected)} against "
            f"{_money(current)} with the current split: {gain:+,.0f} "
            f"({cast(float, plan['gain_share']):+.1%})",
            highlight=False,
        )
        if profit is not None:
            console.print(
                f"the ads' own profit at a {margin:.0%} margin (margin × the sales they bring "
                f"- their spend): {_money(profit['expected'])} against "
                f"{_money(profit['current'])}",
                highlight=False,
            )
        _notes(analysis, beyond)


def _change(value: float) -> str:
    return "0" if abs(value) < 0.5 else f"{value:+,.0f}"


def _bound(value: float | None) -> str:
    return "" if value is None else _money(value)


@mmm_app.command("curves")
def curves_command(
    points: Annotated[int, typer.Option("--points", "-n", help="Points per channel.", min=2)] = 11,
    upto: Annotated[
        float,
        typer.Option("--upto", help="Spend up to this many times the current spend.", min=0.01),
    ] = 3.0,
    data: DataOpt = None,
    frequency: FrequencyOpt = None,
    adstock: AdstockOpt = None,
    target: TargetOpt = None,
    timezone: TimezoneOpt = None,
    holdout: HoldoutOpt = None,
    workspace: WorkspaceOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Response curves: each channel's sales per period at a steady spend per period.

    From no spend up to --upto times the current spend (the larger of the last
    four weeks' mean and the window's). ROAS is sales over spend at that
    point; marginal ROAS what the next unit there sells. The curves flatten
    where the channel saturates.

    [bold]Examples[/bold]

      shopkeeper mmm curves
      shopkeeper mmm curves --points 41 --upto 5 --json
    """
    with _errors(as_json):
        analysis, source = _analysis(data, workspace, frequency, adstock, timezone, holdout, target)
        frame = analysis.curves(points, upto)
        channels = {c.name: c for c in analysis.model.channels}
        current = dict(
            zip(analysis.model.channel_names, analysis.model.current_spend(), strict=True)
        )
        frame["roas"] = [
            s / x if x > 0 else math.nan
            for x, s in zip(frame["spend"], frame["sales"], strict=True)
        ]
        frame["marginal_roas"] = [
            channels[c].marginal(x) for c, x in zip(frame["channel"], frame["spend"], strict=True)
        ]
        if as_json:
            _print_json(
                _plain(
                    {
                        **_head(analysis, source),
                        "points": points,
                        "upto": upto,
                        "current_spend": current,
                        "curves": _records(frame),
                    }
                )
            )
            return
        one = _unit(analysis, 1)
        _intro(analysis, source)
        for name, group in frame.groupby("channel", sort=False):
            now = current[str(name)]
            rows = [
                [
                    _money(x),
                    f"{x / now:.2f}" if now > 0 else "",
                    _money(s),
                    _ratio(r),
                    _ratio(m),
                ]
                for x, s, r, m in zip(
                    group["spend"],
                    group["sales"],
                    group["roas"],
                    group["marginal_roas"],
                    strict=True,
                )
            ]
            columns = [f"spend/{one}", "× now", f"sales/{one}", "ROAS", "marginal"]
            title = f"{name} (now {_money(now)} per {one})"
            console.print(_grid(title, columns, rows))
