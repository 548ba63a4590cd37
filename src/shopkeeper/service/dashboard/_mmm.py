"""The marketing-mix page: what advertising sells, per channel, and how to split a budget.

``/marketing`` shows the marketing-mix analysis in service (the latest ``mmm``
job, loaded once per process as for the API): headline figures; the simple
line of sales on total ad spend, as most people draw it first; the sales of
each period split into the organic base and each channel (stacked) against
actual sales; ROAS and marginal ROAS per channel with their 90% intervals;
the response curves with the current spend marked; the holdout check (the
forecast of the last weeks against what sold); and the budget optimiser.

The optimiser is a plain GET form back to the page (``total``, ``objective``,
``margin``, ``min_<channel>``, ``max_<channel>``): the page answers with the
same view as ``POST /api/v1/mmm/budget``, the recommended split against the
current one and the expected gain. Without ``total`` it splits the current
spend over the next 30 days (4 weeks for a weekly analysis). Before the first
``mmm`` job the page says how to run one.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

import plotly.graph_objects as go
from fastapi import Request
from fastapi.responses import HTMLResponse

from shopkeeper.access import ApiKey
from shopkeeper.service.api.routes.mmm import (
    OBJECTIVES,
    ServedMix,
    budget_view,
    contributions_view,
    curves_view,
    holdout_view,
    invalid,
    served_mix,
    summary_view,
)
from shopkeeper.service.dashboard import _charts as charts
from shopkeeper.service.dashboard._pages import PageResult, _page, _render, router
from shopkeeper.service.errors import ApiError

Translate = Callable[[str], str]

PATH = "/marketing"
#: The periods the page's budget covers: a month of days, or four weeks.
PAGE_PERIODS = {"day": 30, "week": 4}
CURVE_POINTS = 41
CURVE_UPTO = 3.0
MAX_INPUT = 40
PALETTE = (
    charts.BLUE,
    charts.TEAL,
    charts.AMBER,
    charts.ROSE,
    "#7c3aed",
    "#0891b2",
    "#65a30d",
    "#db2777",
    "#ea580c",
    charts.SLATE,
)
BASE_COLOUR = "#cbd5e1"


def _colour(i: int) -> str:
    return PALETTE[i % len(PALETTE)]


# -- the charts ------------------------------------------------------------------------------


def simple_chart(
    dates: Sequence[str],
    spend: Sequence[float],
    sales: Sequence[float],
    line: Mapping[str, Any],
    t: Translate,
) -> str | None:
    """Sales against total ad spend, a dot per period, and the fitted straight line."""
    if not spend:
        return None
    low, high = min(spend), max(spend)
    ends = [low, high]
    fig = go.Figure()
    fig.add_trace(
        go.Scatter(
            x=list(spend),
            y=list(sales),
            mode="markers",
            name=t("mmm.simple.periods"),
            marker={"size": 6, "color": charts.BLUE, "opacity": 0.55},
            customdata=list(dates),
            hovertemplate=(
                "%{customdata}<br>"
                + t("mmm.total_spend")
                + " %{x:,.0f} · "
                + t("mmm.sales")
                + " %{y:,.0f}<extra></extra>"
            ),
        )
    )
    fig.add_trace(
        go.Scatter(
            x=ends,
            y=[line["intercept"] + line["slope"] * x for x in ends],
            mode="lines",
            name=t("mmm.simple.line"),
            line={"color": charts.ROSE, "width": 3},
            hovertemplate="%{x:,.0f} → %{y:,.0f}<extra>" + t("mmm.simple.line") + "</extra>",
        )
    )
    fig.update_layout(
        xaxis={"title": {"text": t("mmm.total_spend")}, "tickformat": "~s"},
        yaxis={"title": {"text": t("mmm.sales")}, "tickformat": "~s", "rangemode": "tozero"},
    )
    return charts._style(fig, height=340)


def contributions_chart(view: Mapping[str, Any], t: Translate) -> str | None:
    """Each period's sales split into the organic base and each channel (stacked areas),
    with actual sales as a line over them."""
    rows = view["rows"]
    if not rows:
        return None
    x = [r["date"] for r in rows]
    fig = go.Figure()
    layers = [("base", t("mmm.base"), [r["base"] for r in rows], BASE_COLOUR)]
    for i, name in enumerate(view["channels"]):
        layers.append((name, name, [r["channels"][name] for r in rows], _colour(i)))
    for _, label, values, colour in layers:
        fig.add_trace(
            go.Scatter(
                x=x,
                y=values,
                name=label,
                mode="lines",
                stackgroup="sales",
                line={"width": 0.5, "color": colour},
                fillcolor=colour,
                hovertemplate="%{y:,.0f}<extra>" + label + "</extra>",
            )
        )
    fig.add_trace(
        go.Scatter(
            x=x,
            y=[r["sales"] for r in rows],
            name=t("mmm.actual"),
            mode="lines",
            line={"color": "#111827", "width": 1.5},
            hovertemplate="%{y:,.0f}<extra>" + t("mmm.actual") + "</extra>",
        )
    )
    charts._dates(fig, t)
    fig.update_layout(
        yaxis={"title": {"text": t("mmm.sales")}, "tickformat": "~s", "rangemode": "tozero"},
        hovermode="x unified",
    )
    return charts._style(fig, height=380)


def roas_chart(channels: Sequence[Mapping[str, Any]], t: Translate) -> str | None:
    """ROAS over the window and marginal ROAS at the current spend per channel, as bars
    with their 90% intervals; the dashed line is break-even (1 sale per unit spent)."""
    if not channels:
        return None
    names = [str(c["channel"]) for c in channels]
    fig = go.Figure()
    for key, label, colour in (
        ("roas", t("mmm.roas"), charts.BLUE),
        ("marginal", t("mmm.marginal_roas"), charts.AMBER),
    ):
        value = "roas" if key == "roas" else "marginal_roas"
        values = [float(c[value]) for c in channels]
        lows = [float(c[f"{key}_low"]) for c in channels]
        highs = [float(c[f"{key}_high"]) for c in channels]
        fig.add_trace(
            go.Bar(
                x=names,
                y=values,
                name=label,
                marker={"color": colour},
                error_y={
                    "type": "data",
                    "symmetric": False,
                    "array": [max(h - v, 0.0) for h, v in zip(highs, values, strict=True)],
                    "arrayminus": [max(v - lo, 0.0) for v, lo in zip(values, lows, strict=True)],
                    "color": "#374151",
                    "thickness": 1.2,
                    "width": 4,
                },
                customdata=list(zip(lows, highs, strict=True)),
                hovertemplate=(
                    "%{x}: %{y:,.2f}<br>"
                    + t("mmm.interval")
                    + " %{customdata[0]:,.2f} – %{customdata[1]:,.2f}<extra>"
                    + label
                    + "</extra>"
                ),
            )
        )
    fig.add_hline(
        y=1,
        line={"color": charts.SLATE, "width": 1, "dash": "dash"},
        annotation={"text": t("mmm.break_even"), "font": {"size": 11, "color": charts.SLATE}},
        annotation_position="top right",
    )
    fig.update_layout(
        barmode="group",
        xaxis={"type": "category"},
        yaxis={"title": {"text": t("mmm.sales_per_spend")}, "rangemode": "tozero"},
    )
    return charts._style(fig, height=340)


def curves_chart(view: Mapping[str, Any], t: Translate) -> str | None:
    """Each channel's sales per period against a steady spend per period, the current
    spend marked on each curve."""
    curves = view["curves"]
    if not curves:
        return None
    fig = go.Figure()
    for i, curve in enumerate(curves):
        name, colour = str(curve["channel"]), _colour(i)
        fig.add_trace(
            go.Scatter(
                x=curve["spend"],
                y=curve["sales"],
                mode="lines",
                name=name,
                legendgroup=name,
                line={"color": colour, "width": 2.5},
                hovertemplate=(
                    t("mmm.spend")
                    + " %{x:,.0f} → "
                    + t("mmm.sales")
                    + " %{y:,.0f}<extra>"
                    + name
                    + "</extra>"
                ),
            )
        )
        fig.add_trace(
            go.Scatter(
                x=[curve["current_spend"]],
                y=[curve["current_sales"]],
                mode="markers",
                name=f"{name} · {t('mmm.current')}",
                legendgroup=name,
                showlegend=False,
                marker={
                    "size": 11,
                    "color": colour,
                    "symbol": "diamond",
                    "line": {"color": "#ffffff", "width": 1.5},
                },
                hovertemplate=(
                    t("mmm.current_spend")
                    + " %{x:,.0f} → "
                    + t("mmm.sales")
                    + " %{y:,.0f}<extra>"
                    + name
                    + "</extra>"
                ),
            )
        )
    unit = t(f"mmm.one.{view['frequency']}")
    fig.update_layout(
        xaxis={"title": {"text": t("mmm.axis.spend").format(unit=unit)}, "rangemode": "tozero"},
        yaxis={"title": {"text": t("mmm.axis.sales").format(unit=unit)}, "rangemode": "tozero"},
        hovermode="closest",
    )
    return charts._style(fig, height=360)


def holdout_chart(holdout: Mapping[str, Any] | None, t: Translate) -> str | None:
    """Actual sales of the held-out periods against the mix's forecast of them."""
    if not holdout or not holdout.get("dates"):
        return None
    fig = go.Figure()
    for key, label, style in (
        ("actual", t("mmm.actual"), {"color": "#111827", "width": 2}),
        ("forecast", t("mmm.forecast"), {"color": charts.ROSE, "width": 2, "dash": "dash"}),
    ):
        fig.add_trace(
            go.Scatter(
                x=list(holdout["dates"]),
                y=list(holdout[key]),
                mode="lines",
                name=label,
                line=style,
                hovertemplate="%{y:,.0f}<extra>" + label + "</extra>",
            )
        )
    charts._dates(fig, t)
    fig.update_layout(
        yaxis={"title": {"text": t("mmm.sales")}, "tickformat": "~s", "rangemode": "tozero"},
        hovermode="x unified",
    )
    return charts._style(fig, height=320)


def budget_chart(budget: Mapping[str, Any] | None, t: Translate) -> str | None:
    """Current and recommended spend per channel, side by side."""
    if not budget or not budget.get("channels"):
        return None
    rows = budget["channels"]
    names = [str(r["channel"]) for r in rows]
    fig = go.Figure()
    for key, label, colour in (
        ("current_spend", t("mmm.budget.current"), charts.LIGHT_BLUE),
        ("spend", t("mmm.budget.recommended"), charts.BLUE),
    ):
        fig.add_trace(
            go.Bar(
                x=names,
                y=[float(r[key]) for r in rows],
                name=label,
                marker={"color": colour},
                hovertemplate="%{x}: %{y:,.0f}<extra>" + label + "</extra>",
            )
        )
    fig.update_layout(
        barmode="group",
        xaxis={"type": "category"},
        yaxis={"title": {"text": t("mmm.spend")}, "tickformat": "~s", "rangemode": "tozero"},
    )
    return charts._style(fig, height=300)


# -- the budget form -------------------------------------------------------------------------


def _number(query: Mapping[str, str], name: str) -> float | None:
    """A number from the form; None when the field is empty; a 422 naming it otherwise."""
    text = (query.get(name) or "").strip().replace(",", "")[:MAX_INPUT]
    if not text:
        return None
    try:
        return float(text)
    except ValueError:
        raise invalid(name, text, f"{name} must be a number, got {text!r}") from None


def budget_form(
    served: ServedMix, query: Mapping[str, str]
) -> tuple[dict[str, Any], dict[str, Any] | None, str | None]:
    """The form's values, the split they ask for and an error (then no split)."""
    a = served.analysis
    periods = PAGE_PERIODS.get(a.model.frequency, 30)
    current = served.current_spend()
    default_total = round(sum(current.values()) * periods, 2)
    objective = (query.get("objective") or "sales").strip()[:MAX_INPUT]
    form: dict[str, Any] = {
        "periods": periods,
        "default_total": default_total,
        "total": (query.get("total") or "").strip()[:MAX_INPUT] or f"{default_total:.2f}",
        "objective": objective,
        "margin": (query.get("margin") or "").strip()[:MAX_INPUT],
        "channels": [
            {
                "channel": name,
                "current": current[name] * periods,
                "min": (query.get(f"min_{name}") or "").strip()[:MAX_INPUT],
                "max": (query.get(f"max_{name}") or "").strip()[:MAX_INPUT],
            }
            for name in served.channels
        ],
        "submitted": "total" in query,
    }
    try:
        total = _number(query, "total")
        margin = _number(query, "margin")
        bounds = {}
        for name in served.channels:
            least, most = _number(query, f"min_{name}"), _number(query, f"max_{name}")
            if least is not None or most is not None:
                bounds[name] = (least, most)
        answer = budget_view(
            served,
            total=default_total if total is None else total,
            periods=periods,
            bounds=bounds,
            objective=objective,
            margin=margin,
        )
    except ApiError as exc:
        return form, None, exc.message
    return form, answer, None


# -- the page ------------------------------------------------------------------------------------


def _cards(summary: Mapping[str, Any]) -> list[dict[str, Any]]:
    """The headline figures: (name, value, format)."""
    rows = summary["channels"]
    spend = sum(float(r["spend"]) for r in rows)
    ad_sales = sum(float(r["sales"]) for r in rows)
    holdout = summary["holdout"]
    return [
        {"name": "spend", "value": spend, "format": "num"},
        {"name": "ad_sales", "value": ad_sales, "format": "num"},
        {
            "name": "ad_share",
            "value": sum(float(r["share_of_sales"]) for r in rows),
            "format": "pct",
        },
        {"name": "roas", "value": ad_sales / spend if spend > 0 else None, "format": "num2"},
        {"name": "wape", "value": None if holdout is None else holdout["wape"], "format": "pct"},
    ]


def page_context(request: Request, t: Translate) -> dict[str, Any]:
    """What the template shows; ``served`` is None before the first mmm job."""
    try:
        served = served_mix(request.app.state.workspace)
    except ApiError as exc:  # an analysis that cannot be loaded: say so on the page
        return {"served": None, "error": exc.message}
    if served is None:
        return {"served": None, "error": None}
    a = served.analysis
    summary = summary_view(served)
    holdout = holdout_view(served)["holdout"]
    form, budget, budget_error = budget_form(served, request.query_params)
    data = a.data
    dates = [f"{d:%Y-%m-%d}" for d in data.dates]
    chart_set = {
        "simple": simple_chart(
            dates,
            [float(x) for x in data.spend.sum(axis=0)],
            [float(x) for x in data.sales],
            summary["simple"],
            t,
        ),
        "contributions": contributions_chart(contributions_view(served), t),
        "roas": roas_chart(summary["channels"], t),
        "curves": curves_chart(curves_view(served, CURVE_POINTS, CURVE_UPTO), t),
        "holdout": holdout_chart(holdout, t),
        "budget": budget_chart(budget, t),
    }
    return {
        "served": served,
        "error": None,
        "summary": summary,
        "unit": t(f"mmm.unit.{a.model.frequency}"),
        "one": t(f"mmm.one.{a.model.frequency}"),
        "cards": _cards(summary),
        "channels": summary["channels"],
        "simple": summary["simple"],
        "holdout": summary["holdout"],
        "notes": list(a.notes),
        "form": form,
        "objectives": OBJECTIVES,
        "budget": budget,
        "budget_error": budget_error,
        "charts": chart_set,
    }


@router.get(PATH, response_class=HTMLResponse)
def marketing_page(request: Request) -> PageResult:
    def build(key: ApiKey, t: Translate) -> PageResult:
        context = page_context(request, t)
        return _render(
            request,
            "marketing.html",
            key=key,
            page="marketing",
            title_key="mmm.title",
            status=422 if context.get("budget_error") else 200,
            has_charts=any((context.get("charts") or {}).values()),
            **context,
        )

    return _page(request, build)
