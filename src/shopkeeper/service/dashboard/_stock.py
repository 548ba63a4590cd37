"""The stock page: demand forecasts against actuals, the reorder plan, stock-out risk, carriers.

``/stock`` reads three analyses in service, each from its latest job and each
optional (a section without its job says which one to run):

- ``forecast``: one product's units sold, the backtest forecasts with their
  80% band against what then sold, and the forecast ahead with its band
  (``?product=ID``; default the product with the most units forecast), and
  the backtest table that chose the model;
- ``inventory``: the reorder plan as a table sortable by any figure
  (``?sort=...``, as the API's ``sort_by``), and the products most likely
  to run out before new stock arrives;
- ``orders``: the carrier scorecard (on-time rate, delays, trend).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import plotly.graph_objects as go
from fastapi import Request
from fastapi.responses import HTMLResponse

from shopkeeper.access import ApiKey
from shopkeeper.service.api.routes.customer_analytics import plain
from shopkeeper.service.api.routes.delivery import served_delivery
from shopkeeper.service.api.routes.forecast import product_view, served_forecast, summary_view
from shopkeeper.service.api.routes.inventory import plan_view, risk_view, served_plan
from shopkeeper.service.dashboard import _charts as charts
from shopkeeper.service.dashboard._pages import PageResult, _page, _render, router
from shopkeeper.service.errors import ApiError

Translate = Callable[[str], str]

PATH = "/stock"
PLAN_ROWS = 25
RISK_ROWS = 10
PRODUCTS_LISTED = 30
SORTS = ("urgency", "stockout_risk", "runout_date", "days_of_cover", "order_value", "stock_value")


def _band(fig: go.Figure, rows: list[Mapping[str, Any]], name: str, colour: str) -> None:
    """A line with its 80% band (lo-80 .. hi-80) shaded beneath it."""
    if not rows:
        return
    x = [r["period"] for r in rows]
    fig.add_trace(
        go.Scatter(
            x=x + x[::-1],
            y=[r.get("hi-80") for r in rows] + [r.get("lo-80") for r in rows][::-1],
            fill="toself",
            fillcolor=colour,
            opacity=0.18,
            line={"width": 0},
            hoverinfo="skip",
            showlegend=False,
        )
    )
    fig.add_trace(
        go.Scatter(
            x=x, y=[r["yhat"] for r in rows], name=name, line={"color": colour, "dash": "dot"}
        )
    )


def forecast_chart(view: Mapping[str, Any], t: Translate) -> str | None:
    """Units sold, the backtest forecasts over them and the forecast ahead, per location."""
    if not view.get("series"):
        return None
    fig = go.Figure()
    for s in view["series"][:3]:  # a product in many locations: the first three
        where = s["location_id"] or t("stock.online")
        history = s["history"]
        fig.add_trace(
            go.Scatter(
                x=[r["period"] for r in history],
                y=[r["units"] for r in history],
                name=f"{t('stock.sold')} · {where}",
                line={"color": charts.SLATE},
            )
        )
        _band(fig, s["backtest"], f"{t('stock.backtest')} · {where}", charts.AMBER)
        _band(fig, s["forecast"], f"{t('stock.ahead')} · {where}", charts.BLUE)
    fig.update_yaxes(title=t("stock.units"))
    return charts._style(fig, height=340)


def _section(load: Callable[[], Any]) -> tuple[Any, str | None]:
    """An analysis in service, or None with the reason it cannot be loaded."""
    try:
        return load(), None
    except ApiError as exc:
        return None, exc.message


def page_context(request: Request, t: Translate) -> dict[str, Any]:
    """What the template shows; each section is None before its first job."""
    workspace = request.app.state.workspace
    query = request.query_params
    context: dict[str, Any] = {"sorts": SORTS, "errors": {"product": None}}

    forecast, error = _section(lambda: served_forecast(workspace))
    context["errors"]["forecast"] = error
    context["forecast"] = None
    chart = None
    if forecast is not None:
        summary = summary_view(forecast, limit=PRODUCTS_LISTED)
        products = [p["product_id"] for p in summary["products"]]
        chosen = query.get("product") or (products[0] if products else None)
        product = None
        if chosen is not None:
            try:
                product = product_view(forecast, chosen)
            except ApiError as exc:
                context["errors"]["product"] = exc.message
        chart = None if product is None else forecast_chart(product, t)
        context["forecast"] = {
            **summary,
            "chosen": chosen,
            "product_ids": list(dict.fromkeys(products)),
            "product": product,
        }

    plan, error = _section(lambda: served_plan(workspace))
    context["errors"]["plan"] = error
    context["plan"] = context["risk"] = None
    sort = query.get("sort", "urgency")
    if sort not in SORTS:
        sort = "urgency"
    context["sort"] = sort
    if plan is not None:
        context["plan"] = plan_view(plan, sort_by=sort, limit=PLAN_ROWS)
        context["risk"] = risk_view(plan, limit=RISK_ROWS, min_risk=0.0)

    delivery, error = _section(lambda: served_delivery(workspace))
    context["errors"]["carriers"] = error
    context["carriers"] = None
    if delivery is not None:
        context["carriers"] = [
            plain(r) for r in delivery.analysis.carriers.to_dict(orient="records")
        ]
    context["charts"] = {"forecast": chart}
    return context


@router.get(PATH, response_class=HTMLResponse)
def stock_page(request: Request) -> PageResult:
    def build(key: ApiKey, t: Translate) -> PageResult:
        context = page_context(request, t)
        return _render(
            request,
            "stock.html",
            key=key,
            page="stock",
            title_key="stock.title",
            has_charts=context["charts"]["forecast"] is not None,
            **context,
        )

    return _page(request, build)
