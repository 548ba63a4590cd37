"""The dashboard's charts, built with plotly.graph_objects from the figures' dicts.

Each builder returns the figure as Plotly JSON (``fig.to_json()``), which the
page embeds and ``dashboard.js`` draws with ``Plotly.newPlot``; None when there
is nothing to draw, so the page shows a "no data" note instead of empty axes.
Labels come from the page's translator, so charts switch language with the page.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import plotly.graph_objects as go

Translate = Callable[[str], str]

BLUE = "#2563eb"
TEAL = "#0d9488"
AMBER = "#d97706"
ROSE = "#e11d48"
SLATE = "#64748b"
LIGHT_BLUE = "#93c5fd"
FONT = (
    'Inter, "Segoe UI", -apple-system, BlinkMacSystemFont, "Helvetica Neue", Arial, '
    '"Noto Sans CJK SC", "PingFang SC", "Microsoft YaHei", sans-serif'
)
GRID = "#e5e7eb"


def _style(
    fig: go.Figure,
    *,
    height: int = 300,
    legend: bool = True,
    left: int = 60,
    right: int = 24,
    top: int | None = None,
    grid: bool = True,
) -> str:
    """The shared look (no template, for smaller JSON; light grid; legend on top), as JSON."""
    fig.update_layout(
        template="none",
        height=height,
        margin={
            "l": left,
            "r": right,
            "t": top if top is not None else 28 if legend else 12,
            "b": 40,
        },
        font={"family": FONT, "size": 12, "color": "#1f2937"},
        paper_bgcolor="rgba(0,0,0,0)",
        plot_bgcolor="rgba(0,0,0,0)",
        showlegend=legend,
        legend={"orientation": "h", "x": 0, "y": 1.02, "yanchor": "bottom"},
        hoverlabel={"font": {"family": FONT}},
        bargap=0.25,
    )
    fig.update_xaxes(showgrid=False, linecolor=GRID, ticks="outside", tickcolor=GRID)
    fig.update_yaxes(gridcolor=GRID, zerolinecolor=GRID, linecolor=GRID)
    if not grid:
        fig.update_yaxes(showgrid=False)
    return str(fig.to_json())


def _dates(fig: go.Figure, t: Translate) -> None:
    """Date axis labels in the page's language."""
    ticks = t("chart.date_ticks")
    fig.update_xaxes(type="date", hoverformat=t("chart.date_hover"))
    if ticks:
        fig.update_xaxes(tickformat=ticks)


def _short(title: str | None, fallback: str, size: int = 34) -> str:
    text = title or fallback
    return text if len(text) <= size else text[: size - 1] + "…"


def _full_periods(series: Sequence[dict[str, Any]], grain: str) -> list[float]:
    """Bar opacity per period: cut weeks (fewer than 7 days counted) are drawn lighter."""
    full = 7 if grain == "week" else 1
    return [1.0 if p["days"] >= full else 0.45 for p in series]


def revenue_orders(series: Sequence[dict[str, Any]], grain: str, t: Translate) -> str | None:
    """Revenue as bars and orders as a line on a second axis, per period."""
    if not series:
        return None
    x = [p["period"] for p in series]
    fig = go.Figure()
    fig.add_trace(
        go.Bar(
            x=x,
            y=[p["revenue"] for p in series],
            name=t("metric.revenue"),
            marker={"color": BLUE, "opacity": _full_periods(series, grain)},
            hovertemplate="%{y:,.2f}<extra>" + t("metric.revenue") + "</extra>",
        )
    )
    fig.add_trace(
        go.Scatter(
            x=x,
            y=[p["orders"] for p in series],
            name=t("metric.orders"),
            yaxis="y2",
            mode="lines+markers" if len(series) <= 31 else "lines",
            line={"color": AMBER, "width": 2},
            hovertemplate="%{y:,}<extra>" + t("metric.orders") + "</extra>",
        )
    )
    fig.update_layout(
        yaxis={"title": {"text": t("metric.revenue")}, "tickformat": "~s"},
        yaxis2={
            "title": {"text": t("metric.orders")},
            "overlaying": "y",
            "side": "right",
            "showgrid": False,
            "rangemode": "tozero",
            "tickformat": ",.0f",
            # Own ticks (whole orders) rather than ones lined up with revenue's grid.
            "tickmode": "auto",
        },
        hovermode="x unified",
    )
    _dates(fig, t)
    return _style(fig, height=320, right=64)


def aov(series: Sequence[dict[str, Any]], t: Translate) -> str | None:
    """Average order value per period (gaps where a period had no orders)."""
    if not series:
        return None
    fig = go.Figure(
        go.Scatter(
            x=[p["period"] for p in series],
            y=[p["aov"] for p in series],
            name=t("metric.aov"),
            mode="lines+markers" if len(series) <= 31 else "lines",
            line={"color": TEAL, "width": 2},
            fill="tozeroy",
            fillcolor="rgba(13,148,136,0.08)",
            hovertemplate="%{y:,.2f}<extra>" + t("metric.aov") + "</extra>",
        )
    )
    _dates(fig, t)
    fig.update_layout(yaxis={"title": {"text": t("metric.aov")}, "rangemode": "tozero"})
    return _style(fig, height=280, legend=False)


def rates(series: Sequence[dict[str, Any]], t: Translate) -> str | None:
    """Conversion and repeat-purchase rate per period, as percentages."""
    if not series:
        return None
    x = [p["period"] for p in series]
    mode = "lines+markers" if len(series) <= 31 else "lines"
    fig = go.Figure()
    if any(p["conversion"] is not None for p in series):
        fig.add_trace(
            go.Scatter(
                x=x,
                y=[p["conversion"] for p in series],
                name=t("metric.conversion"),
                mode=mode,
                line={"color": BLUE, "width": 2},
                hovertemplate="%{y:.1%}<extra>" + t("metric.conversion") + "</extra>",
            )
        )
    fig.add_trace(
        go.Scatter(
            x=x,
            y=[p["repeat_rate"] for p in series],
            name=t("metric.repeat_rate"),
            mode=mode,
            line={"color": ROSE, "width": 2},
            hovertemplate="%{y:.1%}<extra>" + t("metric.repeat_rate") + "</extra>",
        )
    )
    _dates(fig, t)
    fig.update_layout(yaxis={"tickformat": ".0%", "rangemode": "tozero"}, hovermode="x unified")
    return _style(fig, height=280)


def new_returning(series: Sequence[dict[str, Any]], grain: str, t: Translate) -> str | None:
    """New and returning ordering customers per period, stacked."""
    if not series:
        return None
    x = [p["period"] for p in series]
    opacity = _full_periods(series, grain)
    fig = go.Figure()
    for key, colour in (("returning_customers", TEAL), ("new_customers", AMBER)):
        fig.add_trace(
            go.Bar(
                x=x,
                y=[p[key] for p in series],
                name=t(f"metric.{key}"),
                marker={"color": colour, "opacity": opacity},
                hovertemplate="%{y:,}<extra>" + t(f"metric.{key}") + "</extra>",
            )
        )
    _dates(fig, t)
    fig.update_layout(barmode="stack", hovermode="x unified")
    return _style(fig, height=280)


def _product_axis(rows: Sequence[dict[str, Any]]) -> dict[str, Any]:
    """A category axis keyed by product id (titles cut short can collide) showing titles."""
    return {
        "type": "category",
        "tickmode": "array",
        "tickvals": [p["product_id"] for p in rows],
        "ticktext": [_short(p["title"], p["product_id"]) for p in rows],
    }


def best_sellers(items: Sequence[dict[str, Any]], t: Translate) -> str | None:
    """The top ten products by revenue, as horizontal bars (best on top)."""
    top = list(items[:10])[::-1]
    if not top:
        return None
    fig = go.Figure(
        go.Bar(
            x=[p["revenue"] for p in top],
            y=[p["product_id"] for p in top],
            orientation="h",
            marker={"color": BLUE},
            customdata=[[p["title"] or p["product_id"], p["units"]] for p in top],
            hovertemplate=(
                "%{customdata[0]}<br>"
                + t("products.revenue")
                + " %{x:,.2f} · "
                + t("products.units")
                + " %{customdata[1]:,}<extra></extra>"
            ),
        )
    )
    fig.update_layout(xaxis={"tickformat": "~s"}, yaxis=_product_axis(top))
    return _style(fig, height=400, legend=False, left=260)


def stock_cover(items: Sequence[dict[str, Any]], t: Translate) -> str | None:
    """Days of cover of the products that run out first, with each one's lead time.

    Bars are red when out of stock (and marked, as a zero-length bar is invisible),
    amber when the cover is shorter than the lead time, teal otherwise.
    """
    rows = [p for p in items if p["days_of_cover"] is not None][:15][::-1]
    if not rows:
        return None
    ids = [p["product_id"] for p in rows]

    def colour(p: dict[str, Any]) -> str:
        if p["days_of_cover"] == 0:
            return ROSE
        lead = p["lead_time_days"]
        return AMBER if lead is not None and p["days_of_cover"] < lead else TEAL

    fig = go.Figure()
    fig.add_trace(
        go.Bar(
            x=[p["days_of_cover"] for p in rows],
            y=ids,
            orientation="h",
            name=t("products.days_of_cover"),
            marker={"color": [colour(p) for p in rows]},
            customdata=[[p["title"] or p["product_id"], p["on_hand"]] for p in rows],
            hovertemplate=(
                "%{customdata[0]}<br>"
                + t("products.days_of_cover")
                + " %{x:.1f} · "
                + t("products.on_hand")
                + " %{customdata[1]:,}<extra></extra>"
            ),
        )
    )
    out = [p for p in rows if p["days_of_cover"] == 0]
    if out:
        fig.add_trace(
            go.Scatter(
                x=[0] * len(out),
                y=[p["product_id"] for p in out],
                mode="markers",
                name=t("stock.out_of_stock"),
                marker={"symbol": "x", "size": 9, "color": ROSE},
                hovertemplate="%{y}<extra>" + t("stock.out_of_stock") + "</extra>",
            )
        )
    fig.add_trace(
        go.Scatter(
            x=[p["lead_time_days"] for p in rows],
            y=ids,
            mode="markers",
            name=t("products.lead_time"),
            marker={"symbol": "line-ns-open", "size": 16, "color": "#111827", "line": {"width": 2}},
            hovertemplate="%{x:.0f}<extra>" + t("products.lead_time") + "</extra>",
        )
    )
    fig.update_layout(xaxis={"rangemode": "tozero"}, yaxis=_product_axis(rows))
    # No legend: the plot area is narrow beside the product names, and the page
    # explains the colours and the lead-time tick under the chart.
    return _style(fig, height=400, legend=False, left=260)


def cohort_heatmap(cohorts: Sequence[dict[str, Any]], t: Translate) -> str | None:
    """Retention share per cohort (rows, oldest on top) and month offset (columns)."""
    if not cohorts:
        return None
    width = max(len(c["retention"]) for c in cohorts)
    z = [list(c["retention"]) + [None] * (width - len(c["retention"])) for c in cohorts]
    later = [v for row in z for v in row[1:] if v is not None]
    # Month 0 is 100% by definition; scaling to the later months keeps them readable.
    top = max(later) if later else 1.0
    fig = go.Figure(
        go.Heatmap(
            z=z,
            x=[t("customers.month_n").format(n=k) for k in range(width)],
            y=[c["cohort"] for c in cohorts],
            zmin=0,
            zmax=top,
            colorscale=[[0, "#eff6ff"], [0.5, "#60a5fa"], [1, "#1e3a8a"]],
            texttemplate="%{z:.0%}",
            textfont={"size": 11},
            hoverongaps=False,
            customdata=[[c["customers"]] * width for c in cohorts],
            hovertemplate=(
                t("customers.cohort")
                + " %{y}<br>%{x}: %{z:.1%}<br>"
                + t("customers.size")
                + " %{customdata:,}<extra></extra>"
            ),
            colorbar={"tickformat": ".0%", "thickness": 12},
            xgap=2,
            ygap=2,
        )
    )
    fig.update_layout(
        yaxis={
            "autorange": "reversed",
            "type": "category",
            "title": {"text": t("customers.cohort"), "standoff": 14},
        },
        xaxis={"side": "top", "title": t("customers.month_offset")},
    )
    height = max(260, 34 * len(cohorts) + 110)
    return _style(fig, height=height, legend=False, left=120, top=70, grid=False)


def cohort_sizes(cohorts: Sequence[dict[str, Any]], t: Translate) -> str | None:
    """New customers per acquisition month."""
    if not cohorts:
        return None
    fig = go.Figure(
        go.Bar(
            x=[c["cohort"] for c in cohorts],
            y=[c["customers"] for c in cohorts],
            marker={"color": TEAL},
            hovertemplate="%{x}: %{y:,}<extra>" + t("customers.size") + "</extra>",
        )
    )
    fig.update_layout(xaxis={"type": "category"})
    return _style(fig, height=260, legend=False)


# -- customer value -------------------------------------------------------------------------


def segment_sizes(segments: Sequence[dict[str, Any]], t: Translate) -> str | None:
    """Customers per RFM segment as horizontal bars, the segments' display order top down."""
    rows = [s for s in segments if s.get("customers")][::-1]
    if not rows:
        return None
    names = [str(s["segment"]) for s in rows]
    labels = [t(f"cvalue.segment.{n}") for n in names]
    fig = go.Figure(
        go.Bar(
            x=[s["customers"] for s in rows],
            y=names,
            orientation="h",
            marker={"color": BLUE},
            customdata=[
                [label, s.get("revenue_share") or 0.0]
                for label, s in zip(labels, rows, strict=True)
            ],
            hovertemplate=(
                "%{customdata[0]}: %{x:,}<br>"
                + t("cvalue.revenue_share")
                + " %{customdata[1]:.1%}<extra></extra>"
            ),
        )
    )
    fig.update_layout(
        # Keyed by segment name, labelled in the page's language.
        yaxis={"type": "category", "tickmode": "array", "tickvals": names, "ticktext": labels},
        xaxis={"title": {"text": t("cvalue.customers")}, "rangemode": "tozero"},
    )
    return _style(fig, height=340, legend=False, left=130)


def clv_histogram(bins: Sequence[dict[str, Any]], t: Translate) -> str | None:
    """Buyers per lifetime-value band; the last band holds everyone above it."""
    if not bins:
        return None
    fig = go.Figure(
        go.Bar(
            x=[(b["low"] + b["high"]) / 2 for b in bins],
            y=[b["customers"] for b in bins],
            width=[(b["high"] - b["low"]) * 0.95 for b in bins],
            marker={"color": [AMBER if b.get("open") else TEAL for b in bins]},
            customdata=[[b["label"]] for b in bins],
            hovertemplate="%{customdata[0]}: %{y:,}<extra>" + t("cvalue.buyers") + "</extra>",
        )
    )
    fig.update_layout(
        xaxis={"title": {"text": t("cvalue.clv")}, "tickformat": "~s", "rangemode": "tozero"},
        yaxis={"title": {"text": t("cvalue.buyers")}, "rangemode": "tozero"},
        bargap=0,
    )
    return _style(fig, height=300, legend=False)


def propensity_deciles(deciles: Sequence[dict[str, Any]], t: Translate) -> str | None:
    """Observed purchase rate per score decile (bars) and the mean score (markers)."""
    if not deciles:
        return None
    x = [str(d["decile"]) for d in deciles]
    fig = go.Figure()
    fig.add_trace(
        go.Bar(
            x=x,
            y=[d["observed_rate"] for d in deciles],
            name=t("cvalue.observed_rate"),
            marker={"color": BLUE},
            hovertemplate="%{y:.1%}<extra>" + t("cvalue.observed_rate") + "</extra>",
        )
    )
    fig.add_trace(
        go.Scatter(
            x=x,
            y=[d["mean_score"] for d in deciles],
            name=t("cvalue.mean_score"),
            mode="lines+markers",
            line={"color": AMBER, "width": 2},
            hovertemplate="%{y:.1%}<extra>" + t("cvalue.mean_score") + "</extra>",
        )
    )
    fig.update_layout(
        xaxis={"type": "category", "title": {"text": t("cvalue.decile")}},
        yaxis={"tickformat": ".0%", "rangemode": "tozero"},
        hovermode="x unified",
    )
    return _style(fig, height=300)


def calibration(evaluation: dict[str, dict[str, Any]], chosen: str, t: Translate) -> str | None:
    """Observed rate against mean predicted probability per bin, per model kind.

    The kind in use is drawn strong, the others light; the dashed diagonal is
    perfect calibration.
    """
    kinds = [k for k, ev in evaluation.items() if ev.get("calibration")]
    if not kinds:
        return None
    fig = go.Figure()
    fig.add_trace(
        go.Scatter(
            x=[0, 1],
            y=[0, 1],
            mode="lines",
            name=t("cvalue.perfect"),
            line={"color": SLATE, "width": 1, "dash": "dash"},
            hoverinfo="skip",
        )
    )
    colours = {"logistic": TEAL, "boosting": BLUE, "blend": ROSE}
    for kind in sorted(kinds, key=lambda k: k == chosen):  # the chosen one on top
        bins = evaluation[kind]["calibration"]
        strong = kind == chosen
        fig.add_trace(
            go.Scatter(
                x=[b["mean_predicted"] for b in bins],
                y=[b["observed_rate"] for b in bins],
                mode="lines+markers",
                name=t(f"cvalue.kind.{kind}"),
                opacity=1.0 if strong else 0.45,
                line={"color": colours.get(kind, SLATE), "width": 3 if strong else 1.5},
                customdata=[[b["count"]] for b in bins],
                hovertemplate=(
                    t("cvalue.predicted")
                    + " %{x:.1%} · "
                    + t("cvalue.observed_rate")
                    + " %{y:.1%} · %{customdata[0]:,}<extra>"
                    + t(f"cvalue.kind.{kind}")
                    + "</extra>"
                ),
            )
        )
    fig.update_layout(
        xaxis={"title": {"text": t("cvalue.predicted")}, "tickformat": ".0%", "range": [0, 1]},
        yaxis={"title": {"text": t("cvalue.observed_rate")}, "tickformat": ".0%", "range": [0, 1]},
    )
    return _style(fig, height=320)
