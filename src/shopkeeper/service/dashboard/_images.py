"""The product-images page: how well photos match their categories, and what looks alike.

``/images`` shows the image model in service (the latest ``images`` job, loaded
once per process as for the API): headline figures, one product's photo with
its stated and predicted category and the products that look most like it
(``?product=ID``; by default the first mismatch, else the first product), the
mismatched categories, the suggestions for products without a learnable
category, the held-out confusion matrix and recall and precision per category.
Before the first ``images`` job the page says how to train one.

``/images/photo/{product_id}`` serves the page's photos to a logged-in user,
the same files as the API's photo route (only those the model's catalog
names), so that no key has to travel in an ``<img>`` address.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

import plotly.graph_objects as go
from fastapi import Request
from fastapi.responses import HTMLResponse

from shopkeeper.access import ApiKey
from shopkeeper.service.api.routes.images import (
    CHECK_FIELDS,
    NO_MODEL,
    ServedImages,
    mismatches_view,
    photo_response,
    rows,
    served_images,
    similar_view,
    summary_view,
)
from shopkeeper.service.dashboard import _charts as charts
from shopkeeper.service.dashboard._pages import PageResult, _page, _render, router
from shopkeeper.service.errors import ApiError

Translate = Callable[[str], str]

PATH = "/images"
PHOTO_PATH = f"{PATH}/photo"
MISMATCH_ROWS = 50
SUGGESTION_ROWS = 50
#: Lookalikes shown; never more than the model keeps per product (see ``_similar_count``).
SIMILAR_ITEMS = 12
#: Longest product id the page looks up (the API's limit).
MAX_ID = 200
#: Photos no larger than this (in pixels, either side) are drawn with square pixels when
#: scaled up: smoothing a 28 × 28 picture blurs it into a smudge.
SMALL_PHOTO = 64
#: Above this many categories the confusion matrix shows its counts on hover only.
LABELLED_CELLS = 20


# -- views -----------------------------------------------------------------------------------


def suggestions_view(served: ServedImages, limit: int) -> dict[str, Any]:
    """The suggested categories for products without a learnable one, as the API lists
    them (``GET /images/suggestions``), most confident first."""
    found = served.model.suggestions()
    return {**served.facts(), "total": len(found), "items": rows(found.head(limit), CHECK_FIELDS)}


def _similar_count(served: ServedImages) -> int:
    # The model keeps ``neighbours`` lookalikes per product; asking for more would search
    # the whole catalog on every page view.
    return max(1, min(SIMILAR_ITEMS, served.model.settings.neighbours))


def _small_photos(served: ServedImages) -> bool:
    """Whether the catalog's photos are tiny (judged on the first one's header)."""
    from PIL import Image

    catalog = served.model.catalog
    if catalog.empty:
        return False
    try:
        with Image.open(str(catalog["path"].iloc[0])) as image:
            return max(image.size) <= SMALL_PHOTO
    except OSError:  # the file left the disk: the photo route says so, not the page
        return False


def _default_product(served: ServedImages) -> str | None:
    """The first mismatch, the most striking product to look at; else the first product."""
    found = served.model.mismatches(1)
    if len(found):
        return str(found["product_id"].iloc[0])
    catalog = served.model.catalog
    return str(catalog["product_id"].iloc[0]) if len(catalog) else None


def _product_view(served: ServedImages, asked: str | None) -> tuple[dict[str, Any] | None, str]:
    """The product view of ``asked`` (else the default product) and the id looked up;
    None when that product has no photo in the model."""
    product_id = asked if asked else _default_product(served)
    if product_id is None:
        return None, ""
    if len(product_id) > MAX_ID:
        return None, product_id[:MAX_ID] + "…"
    try:
        return similar_view(served, product_id, _similar_count(served)), product_id
    except ApiError as exc:
        if exc.status != 404:
            raise
        return None, product_id


# -- the chart -------------------------------------------------------------------------------


def confusion_chart(report: Mapping[str, Any], t: Translate) -> str | None:
    """The held-out confusion matrix: stated category (rows) against predicted (columns),
    each cell coloured by its share of the row, so a small category reads as clearly as
    a large one; the counts written in the cells (on hover only when there are many)."""
    classes: Sequence[str] = report["classes"]
    counts: Sequence[Sequence[int]] = report["confusion"]
    if not classes or not any(any(row) for row in counts):
        return None
    shares = [[c / (sum(row) or 1) for c in row] for row in counts]
    # Full names on the axes (two long ones may share a shortened form), short ones shown.
    ticks = {"tickmode": "array", "tickvals": list(classes)}
    ticks["ticktext"] = [charts._short(c, "", 28) for c in classes]
    many = len(classes) > LABELLED_CELLS
    fig = go.Figure(
        go.Heatmap(
            z=shares,
            x=list(classes),
            y=list(classes),
            zmin=0,
            zmax=1,
            colorscale=[[0, "#f8fafc"], [0.25, "#bfdbfe"], [0.6, charts.BLUE], [1, "#1e3a8a"]],
            text=[[str(c) for c in row] for row in counts],
            texttemplate="" if many else "%{text}",
            textfont={"size": 11},
            customdata=[
                [[c, s] for c, s in zip(row, share, strict=True)]
                for row, share in zip(counts, shares, strict=True)
            ],
            hovertemplate=(
                t("images.stated")
                + " %{y}<br>"
                + t("images.predicted")
                + " %{x}<br>"
                + t("images.chart.photos")
                + " %{customdata[0]:,} (%{customdata[1]:.0%})<extra></extra>"
            ),
            colorbar={"tickformat": ".0%", "thickness": 12, "title": {"text": t("images.share")}},
            xgap=2,
            ygap=2,
        )
    )
    # Category names are long and slanted: the axes make room for them themselves.
    fig.update_layout(
        xaxis={
            "type": "category",
            "title": {"text": t("images.predicted"), "standoff": 10},
            "tickangle": -30,
            "automargin": True,
            **ticks,
        },
        yaxis={
            "type": "category",
            "autorange": "reversed",
            "title": {"text": t("images.stated"), "standoff": 10},
            "automargin": True,
            **ticks,
        },
    )
    height = min(900, max(360, 34 * len(classes) + 200))
    return charts._style(fig, height=height, legend=False, left=20, top=16, grid=False)


# -- the page ------------------------------------------------------------------------------------


def _cards(metrics: Mapping[str, Any]) -> list[dict[str, Any]]:
    """The headline figures: name, value, its format and a hint (the baseline)."""
    return [
        {"name": "products", "value": metrics["products"], "format": "num", "hint": None},
        {"name": "categories", "value": metrics["categories"], "format": "num", "hint": None},
        {
            "name": "accuracy",
            "value": metrics["accuracy"],
            "format": "pct",
            "hint": metrics["baseline_accuracy"],
        },
        {"name": "mismatches", "value": metrics["mismatches"], "format": "num", "hint": None},
        {"name": "suggestions", "value": metrics["suggestions"], "format": "num", "hint": None},
    ]


def page_context(request: Request, t: Translate) -> dict[str, Any]:
    """What the template shows; ``served`` is None before the first images job.
    ``missing`` names a product asked for that has no photo in the model."""
    try:
        served = served_images(request.app.state.workspace)
    except ApiError as exc:  # a model that cannot be loaded: say so on the page
        return {"served": None, "error": exc.message}
    if served is None:
        return {"served": None, "error": None}
    summary = summary_view(served)
    asked = request.query_params.get("product") or None
    product, product_id = _product_view(served, asked)
    return {
        "served": served,
        "error": None,
        "metrics": summary["metrics"],
        "cards": _cards(summary["metrics"]),
        "report": summary["report"],
        "per_class": summary["report"]["per_class"],
        "notes": summary["notes"],
        "settings": served.model.settings,
        "product": product,
        "missing": None if product is not None else product_id or None,
        "mismatches": mismatches_view(served, MISMATCH_ROWS),
        "suggestions": suggestions_view(served, SUGGESTION_ROWS),
        "pixelated": _small_photos(served),
        "charts": {"confusion": confusion_chart(summary["report"], t)},
    }


@router.get(PATH, response_class=HTMLResponse)
def images_page(request: Request) -> PageResult:
    def build(key: ApiKey, t: Translate) -> PageResult:
        context = page_context(request, t)
        return _render(
            request,
            "images.html",
            key=key,
            page="images",
            title_key="images.title",
            # A product without a photo is a wrong address: the page says so, with a 404.
            status=404 if context.get("missing") else 200,
            has_charts=any((context.get("charts") or {}).values()),
            **context,
        )

    return _page(request, build)


@router.get(PHOTO_PATH + "/{product_id:path}")
def images_photo(request: Request, product_id: str) -> PageResult:
    """A product's photo for the page's ``<img>`` tags; a visitor who is not logged in is
    sent to the login form, as for every dashboard address."""

    def build(key: ApiKey, t: Translate) -> PageResult:
        served = served_images(request.app.state.workspace)
        if served is None:
            raise ApiError(409, NO_MODEL)
        if len(product_id) > MAX_ID:
            raise ApiError(404, f"product ids are at most {MAX_ID} characters")
        answer = photo_response(served, product_id)
        answer.headers["X-Content-Type-Options"] = "nosniff"
        return answer

    return _page(request, build)
