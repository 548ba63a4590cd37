"""The recommendations page: a customer's history and list, the model's figures, lookups.

``/recommendations?customer=C-1&product=SKU-1`` shows the customer's history
next to their recommendations, the recommend model's validation figures (NDCG@10
per model and of the hybrid, as a table and a chart, and the hybrid's weights),
and the similar and bought-together products of one product. Without
``customer`` it shows a sample customer with history; without ``product`` the
customer's latest purchase. Before any recommend model is trained it says how to
train one. It answers from the same loaded model as the API, with the customer's
personalisation consent read from the store at every view, as the API does.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

import plotly.graph_objects as go
from fastapi import Request
from fastapi.responses import HTMLResponse

from shopkeeper.access import ApiKey
from shopkeeper.errors import NotFoundError
from shopkeeper.service.api.routes.recommend import ServedModel, served_model
from shopkeeper.service.dashboard import _charts as charts
from shopkeeper.service.dashboard._pages import PageResult, _page, _render, router
from shopkeeper.service.errors import ApiError

Translate = Callable[[str], str]

VALIDATION_PREFIX = "validation_ndcg@10_"
HISTORY_ROWS = 20
LIST_LENGTH = 10
LOOKUP_LENGTH = 8
MAX_ID = 200
#: Headline figures of the training run shown beside the validation table.
FACTS = ("validation", "validation_customers", "customers", "products", "train_s")


def model_label(name: str, t: Translate) -> str:
    """A model's name in the page's language (its own name when there is no label)."""
    key = f"rec.model.{name}"
    found = t(key)
    return name if found == key else found


def validation_rows(metrics: Mapping[str, Any], t: Translate) -> list[dict[str, Any]]:
    """NDCG@10 on the validation period per model, the hybrid last."""
    rows: list[dict[str, Any]] = [
        {"name": key[len(VALIDATION_PREFIX) :], "value": value}
        for key, value in metrics.items()
        if key.startswith(VALIDATION_PREFIX) and isinstance(value, int | float)
    ]
    rows.sort(key=lambda r: (r["name"] == "hybrid", -float(r["value"])))
    best = max((float(r["value"]) for r in rows if r["name"] != "hybrid"), default=None)
    for row in rows:
        row["label"] = model_label(row["name"], t)
        row["hybrid"] = row["name"] == "hybrid"
        row["best_single"] = not row["hybrid"] and float(row["value"]) == best
    return rows


def validation_chart(rows: Sequence[dict[str, Any]], t: Translate) -> str | None:
    """NDCG@10 per model as bars, the hybrid in the strong colour."""
    if not rows:
        return None
    fig = go.Figure(
        go.Bar(
            x=[r["name"] for r in rows],
            y=[r["value"] for r in rows],
            marker={"color": [charts.BLUE if r["hybrid"] else charts.LIGHT_BLUE for r in rows]},
            text=[f"{float(r['value']):.3f}" for r in rows],
            textposition="outside",
            cliponaxis=False,
            hovertemplate="%{customdata}: %{y:.4f}<extra>NDCG@10</extra>",
            customdata=[r["label"] for r in rows],
        )
    )
    fig.update_layout(
        xaxis={
            "type": "category",
            "tickmode": "array",
            "tickvals": [r["name"] for r in rows],
            "ticktext": [r["label"] for r in rows],
        },
        yaxis={"title": {"text": t("rec.ndcg")}, "rangemode": "tozero"},
    )
    return charts._style(fig, height=300, legend=False, top=24)


EVALUATION_METRICS = (
    "ndcg@10",
    "recall@10",
    "map@10",
    "hit_rate@10",
    "coverage@10",
    "novelty@10",
    "gini@10",
)


def evaluation_rows(metrics: Mapping[str, Any], t: Translate) -> list[dict[str, Any]]:
    """The training run's evaluation table (validation period), one row per model."""
    rows = []
    for row in metrics.get("evaluation") or []:
        if not isinstance(row, Mapping) or "model" not in row:
            continue
        name = str(row["model"])
        rows.append(
            {
                "name": name,
                "label": model_label(name, t),
                "hybrid": name == "hybrid",
                "values": [row.get(k) for k in EVALUATION_METRICS],
            }
        )
    return rows


def evaluation_chart(rows: Sequence[dict[str, Any]], t: Translate) -> str | None:
    """NDCG@10 against coverage@10 per model: accuracy and breadth in one picture."""
    points = [r for r in rows if r["values"][0] is not None and r["values"][4] is not None]
    if not points:
        return None
    fig = go.Figure(
        go.Scatter(
            x=[r["values"][4] for r in points],
            y=[r["values"][0] for r in points],
            mode="markers+text",
            text=[r["label"] for r in points],
            textposition="top center",
            marker={
                "size": 12,
                "color": [charts.BLUE if r["hybrid"] else charts.LIGHT_BLUE for r in points],
            },
            hovertemplate="%{text}<br>coverage %{x:.3f}<br>NDCG@10 %{y:.4f}<extra></extra>",
        )
    )
    fig.update_layout(
        xaxis={"title": {"text": t("rec.metric.coverage@10")}, "rangemode": "tozero"},
        yaxis={"title": {"text": t("rec.metric.ndcg@10")}, "rangemode": "tozero"},
    )
    return charts._style(fig, height=320, legend=False, top=24)


def _clean(value: str | None) -> str:
    return (value or "").strip()[:MAX_ID]


def _lookup(model: ServedModel, product: str) -> tuple[list[Any], list[Any], bool]:
    """Similar and bought-together products of ``product``; False when it is unknown."""
    try:
        similar = model.recs.similar_items(product, LOOKUP_LENGTH)
        together = model.recs.bought_together(product, LOOKUP_LENGTH)
    except NotFoundError:
        return [], [], False
    return [r.to_dict() for r in similar], [r.to_dict() for r in together], True


def _history(model: ServedModel, customer: str) -> list[dict[str, Any]]:
    rows = model.recs.history(customer, HISTORY_ROWS)
    for row in rows:
        row["when"] = str(row.get("at") or "").replace("T", " ")[:16]
    return rows


def page_context(request: Request, t: Translate) -> dict[str, Any]:
    """What the template shows; ``model`` is None before the first recommend job."""
    asked_customer = _clean(request.query_params.get("customer"))
    asked_product = _clean(request.query_params.get("product"))
    try:
        model = served_model(request.app.state.workspace)
    except ApiError as exc:  # a model that cannot be loaded: say so on the page
        return {"model": None, "error": exc.message, "customer": asked_customer}
    if model is None:
        return {"model": None, "error": None, "customer": asked_customer}
    customer = asked_customer or model.sample_customer() or ""
    history = _history(model, customer) if customer else []
    store = getattr(request.app.state, "store", None)
    personal, items = model.answer(store, customer, LIST_LENGTH)
    product = asked_product
    if not product:
        bought = [h for h in history if h["kind"] == "purchase"]
        first = bought[0] if bought else (history[0] if history else None)
        product = first["product_id"] if first else (items[0]["product_id"] if items else "")
    similar, together, known_product = _lookup(model, product) if product else ([], [], True)
    metrics = model.recs.metrics
    rows = validation_rows(metrics, t)
    weights = metrics.get("weights") or {}
    return {
        "model": model,
        "customer": customer,
        "product": product,
        "known_customer": model.recs.knows_customer(customer) if customer else False,
        "declined": bool(customer) and model.declined(store, customer),
        "personal": personal,
        "history": history,
        "items": items,
        "similar": similar,
        "together": together,
        "known_product": known_product,
        "validation": rows,
        "weights": [
            {"name": name, "label": model_label(name, t), "weight": weight}
            for name, weight in sorted(weights.items(), key=lambda kv: -float(kv[1]))
        ],
        "facts": [(name, metrics[name]) for name in FACTS if name in metrics],
        "chart": validation_chart(rows, t),
        "evaluation": evaluation_rows(metrics, t),
        "evaluation_metrics": EVALUATION_METRICS,
        "evaluation_chart": evaluation_chart(evaluation_rows(metrics, t), t),
    }


@router.get("/recommendations", response_class=HTMLResponse)
def recommendations_page(request: Request) -> PageResult:
    def build(key: ApiKey, t: Translate) -> PageResult:
        context = page_context(request, t)
        unknown_product = context["model"] is not None and not context["known_product"]
        return _render(
            request,
            "recommendations.html",
            key=key,
            page="recommendations",
            title_key="rec.title",
            status=404 if unknown_product else 200,
            has_charts=bool(context.get("chart") or context.get("evaluation_chart")),
            **context,
        )

    return _page(request, build)
