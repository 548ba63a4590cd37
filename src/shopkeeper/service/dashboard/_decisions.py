"""The pricing and placement page: running policies, their values, elasticities, prices.

``/pricing`` shows:

- every policy (prices and slots) with what it served, its logged value per
  decision with a 95% interval, and what it has learned (its best action);
- one policy in detail (``?policy=ID``; default the newest running one):
  per action the estimate, the reward seen and the share it gets now;
- from the latest ``pricing`` job, when there is one: own-price elasticity
  by product with intervals, how it varies by store, and the recommended
  prices with the expected change in units, revenue and profit.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

import plotly.graph_objects as go
from fastapi import Request
from fastapi.responses import HTMLResponse

from shopkeeper.access import ApiKey
from shopkeeper.decide import get_policy, list_policies, policy_report
from shopkeeper.errors import NotFoundError
from shopkeeper.service.api.routes.pricing import (
    elasticity_view,
    location_view,
    recommendation_view,
    served_pricing,
)
from shopkeeper.service.dashboard import _charts as charts
from shopkeeper.service.dashboard._pages import PageResult, _page, _render, router
from shopkeeper.service.errors import ApiError

Translate = Callable[[str], str]

PATH = "/pricing"
POLICIES_LISTED = 50
PRODUCTS_CHARTED = 30
RECOMMENDATIONS_LISTED = 25


def actions_chart(report: Mapping[str, Any], t: Translate) -> str | None:
    """Per action: the policy's estimate (bars) and the share of decisions it gets now."""
    actions: Sequence[Mapping[str, Any]] = report["actions"]
    if not actions or all(a["estimate"] is None for a in actions):
        return None
    names = [a["action"] for a in actions]
    fig = go.Figure()
    fig.add_trace(
        go.Bar(
            x=names,
            y=[a["estimate"] for a in actions],
            name=t("pricing.estimate"),
            marker={"color": charts.BLUE},
        )
    )
    fig.add_trace(
        go.Bar(
            x=names,
            y=[a["mean_reward"] for a in actions],
            name=t("pricing.seen"),
            marker={"color": charts.SLATE},
        )
    )
    fig.add_trace(
        go.Scatter(
            x=names,
            y=[a["share"] for a in actions],
            name=t("pricing.share"),
            yaxis="y2",
            mode="lines+markers",
            line={"color": charts.AMBER},
        )
    )
    fig.update_layout(
        barmode="group",
        yaxis={"title": t("pricing.reward")},
        yaxis2={
            "title": t("pricing.share"),
            "overlaying": "y",
            "side": "right",
            "tickformat": ".0%",
            "rangemode": "tozero",
            "showgrid": False,
        },
    )
    title = t("pricing.price") if report["purpose"] == "price" else t("pricing.item")
    fig.update_xaxes(title=title, type="category")
    return charts._style(fig, height=320, right=60)


def _gap(row: Mapping[str, Any], end: str) -> float:
    """The distance from the estimate to one end of its interval (0 without one)."""
    if row.get(end) is None:
        return 0.0
    return float(abs(row[end] - row["elasticity"]))


def elasticity_chart(products: Sequence[Mapping[str, Any]], t: Translate) -> str | None:
    """Own-price elasticity per product with its 95% interval, most elastic first."""
    rows = [p for p in products if p.get("elasticity") is not None][:PRODUCTS_CHARTED]
    if not rows:
        return None
    rows = sorted(rows, key=lambda p: p["elasticity"])
    labels = [str(p.get("title") or p["product_id"])[:28] for p in rows]
    fig = go.Figure(
        go.Scatter(
            x=[p["elasticity"] for p in rows],
            y=labels,
            mode="markers",
            marker={"color": charts.BLUE, "size": 8},
            error_x={
                "type": "data",
                "symmetric": False,
                "array": [_gap(p, "hi") for p in rows],
                "arrayminus": [_gap(p, "lo") for p in rows],
                "color": charts.SLATE,
            },
            name=t("pricing.elasticity"),
            hovertemplate="%{y}: %{x:.2f}<extra></extra>",
        )
    )
    fig.add_vline(x=-1, line={"color": charts.AMBER, "dash": "dot"})
    fig.update_xaxes(title=t("pricing.elasticity"), zeroline=True)
    fig.update_yaxes(automargin=True, type="category")
    return charts._style(fig, height=max(260, 22 * len(rows) + 80), legend=False, left=140)


def location_chart(locations: Sequence[Mapping[str, Any]], t: Translate) -> str | None:
    """Each location's own-price elasticity with its interval, sorted."""
    rows = [r for r in locations if r.get("elasticity") is not None]
    if not rows:
        return None
    rows = sorted(rows, key=lambda r: r["elasticity"])
    fig = go.Figure(
        go.Bar(
            x=[str(r["location_id"]) for r in rows],
            y=[r["elasticity"] for r in rows],
            marker={"color": charts.TEAL},
            error_y={
                "type": "data",
                "symmetric": False,
                "array": [_gap(r, "hi") for r in rows],
                "arrayminus": [_gap(r, "lo") for r in rows],
                "color": charts.SLATE,
                "thickness": 1,
            },
            name=t("pricing.elasticity"),
        )
    )
    fig.update_xaxes(title=t("pricing.location"), type="category", showticklabels=len(rows) <= 40)
    fig.update_yaxes(title=t("pricing.elasticity"))
    return charts._style(fig, height=300, legend=False)


def _pricing_context(request: Request, t: Translate) -> dict[str, Any]:
    """The pricing analysis in service, or why there is none."""
    try:
        served = served_pricing(request.app.state.workspace)
    except ApiError as exc:
        return {"pricing": None, "error": exc.message, "charts": {}}
    if served is None:
        return {"pricing": None, "error": None, "charts": {}}
    elasticities = elasticity_view(served)
    locations = location_view(served)
    recs = recommendation_view(served, limit=RECOMMENDATIONS_LISTED)
    return {
        "pricing": {
            "elasticities": elasticities,
            "locations": locations,
            "recommendations": recs,
        },
        "error": None,
        "charts": {
            "elasticity": elasticity_chart(elasticities["products"], t),
            "locations": location_chart(locations["locations"], t) if locations else None,
        },
    }


def _best(report: Mapping[str, Any]) -> str | None:
    # Among actions with outcomes: an untried action's estimate is only its prior.
    known = [a for a in report["actions"] if a["estimate"] is not None and a["outcomes"]]
    return max(known, key=lambda a: a["estimate"])["action"] if known else None


def page_context(request: Request, t: Translate) -> dict[str, Any]:
    """What the template shows: the policies, the chosen one, the pricing analysis."""
    store = request.app.state.store
    records = list_policies(store)[:POLICIES_LISTED]
    reports = [policy_report(store, r) for r in records]
    for report in reports:
        report["best"] = _best(report)
    wanted = request.query_params.get("policy")
    chosen = None
    error = None
    if wanted:
        try:
            chosen = policy_report(store, get_policy(store, wanted), learned=True)
            chosen["best"] = _best(chosen)
        except NotFoundError as exc:
            error = str(exc)
    if chosen is None and reports:
        running = [r for r in reports if r["status"] == "running"]
        first = (running or reports)[0]
        chosen = policy_report(store, get_policy(store, first["policy_id"]), learned=True)
        chosen["best"] = _best(chosen)
    pricing = _pricing_context(request, t)
    return {
        "policies": reports,
        "chosen": chosen,
        "pricing": pricing["pricing"],
        "errors": {"policy": error, "pricing": pricing["error"]},
        "charts": {"actions": actions_chart(chosen, t) if chosen else None, **pricing["charts"]},
    }


@router.get(PATH, response_class=HTMLResponse)
def pricing_page(request: Request) -> PageResult:
    def build(key: ApiKey, t: Translate) -> PageResult:
        context = page_context(request, t)
        return _render(
            request,
            "pricing.html",
            key=key,
            page="pricing",
            title_key="pricing.title",
            has_charts=any(context["charts"].values()),
            **context,
        )

    return _page(request, build)
