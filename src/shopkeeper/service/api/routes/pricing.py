"""Pricing: elasticities, their variation by location, and recommended prices.

Every route needs a reader key and answers from the analysis in service: the
artifact of the latest successful ``pricing`` job (``shopkeeper train
pricing`` or ``POST /api/v1/jobs`` with kind ``pricing``). Without one the
routes answer 409; with one that cannot be loaded, 503. A figure that does
not exist (no interval for a product priced from its group's model, no
recommendation for a product without a cost) is ``null``.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import pandas as pd
from fastapi import APIRouter, Depends, Query

from shopkeeper.access import ApiKey
from shopkeeper.service.api._artifacts import ArtifactCache
from shopkeeper.service.api.routes.customer_analytics import plain
from shopkeeper.service.deps import get_workspace, require
from shopkeeper.service.errors import ApiError
from shopkeeper.workspace import Workspace

if TYPE_CHECKING:  # the pricing package (statsmodels-free, but LightGBM) loads on first use
    from shopkeeper.pricing import PricingAnalysis

log = logging.getLogger("shopkeeper.service")

router = APIRouter(prefix="/pricing", tags=["pricing"])

KIND = "pricing"
MAX_LIST = 1_000
NO_ANALYSIS = (
    "no pricing analysis has been computed yet: run 'shopkeeper train pricing' "
    'or POST /api/v1/jobs with {"kind": "pricing"}, then try again'
)
#: How recommendations can be sorted (largest first): the expected profit gain, or units.
RecSort = Literal["profit_gain", "profit_change", "units"]


def _artifact_name() -> str:
    from shopkeeper.pricing._analysis import ARTIFACT

    return ARTIFACT


@dataclass
class ServedPricing:
    """A loaded pricing analysis and the job that made it."""

    job_id: str
    path: Path
    result: PricingAnalysis

    def facts(self) -> dict[str, Any]:
        r = self.result
        return {
            "job": self.job_id,
            "frequency": r.frequency,
            "periods": r.periods,
            "locations": r.locations,
            "guardrails": r.guardrails,
            "notes": list(r.notes),
        }


def _load(job_id: str, path: Path) -> ServedPricing:
    from shopkeeper.pricing import PricingAnalysis

    try:
        served = ServedPricing(job_id=job_id, path=path, result=PricingAnalysis.load(path))
    except Exception as exc:
        log.error("the pricing analysis %s cannot be served: %r", path, exc)
        raise ApiError(
            503,
            f"the pricing analysis of job {job_id} cannot be loaded; "
            "compute it again with 'shopkeeper train pricing'",
        ) from exc
    log.info("pricing analysis %s loaded", job_id)
    return served


PRICING: ArtifactCache[ServedPricing] = ArtifactCache(KIND, _artifact_name, _load)


def served_pricing(workspace: Workspace) -> ServedPricing | None:
    """The workspace's pricing analysis in service (None before the first job)."""
    return PRICING.get(workspace)


def _served(workspace: Workspace) -> ServedPricing:
    found = served_pricing(workspace)
    if found is None:
        raise ApiError(409, NO_ANALYSIS)
    return found


def records(frame: pd.DataFrame) -> list[dict[str, Any]]:
    """A table as JSON-ready rows (NaN as null)."""
    rows: list[dict[str, Any]] = plain(frame.to_dict(orient="records"))
    return rows


def elasticity_view(served: ServedPricing) -> dict[str, Any]:
    """Own-price elasticity per product, the pooled models and the promotion effects."""
    e = served.result.elasticities
    return {
        **served.facts(),
        "level": e.level,
        "cluster_by": e.cluster_by,
        "products": records(e.own),
        "pooled": records(e.pooled),
        "promotions": records(e.promotions),
    }


def location_view(served: ServedPricing, limit: int = MAX_LIST) -> dict[str, Any] | None:
    """How own-price elasticity varies with the locations' attributes (None without any)."""
    h = served.result.by_location
    if h is None:
        return None
    by_location = h.by_location.sort_values("elasticity")
    return {
        "folds": h.folds,
        "learner": h.learner,
        "n": h.n,
        "r2_outcome": plain(h.r2_outcome),
        "r2_price": plain(h.r2_price),
        "coefficients": records(h.coefficients),
        "locations": records(by_location.head(limit)),
        "notes": list(h.notes),
    }


def recommendation_view(
    served: ServedPricing, *, sort_by: str = "profit_gain", limit: int = MAX_LIST
) -> dict[str, Any]:
    """Recommended prices, the largest expected gain first; products without one last."""
    recs = served.result.recommendations.copy()
    if "profit_new" in recs:
        recs["profit_gain"] = recs["profit_new"] - recs["profit_now"]
    key = sort_by if sort_by in recs else "units"
    recs = recs.sort_values(key, ascending=False, na_position="last")
    priced = recs.dropna(subset=["recommended_price"]) if "recommended_price" in recs else recs
    now = float(priced["profit_now"].sum()) if "profit_now" in priced else 0.0
    new = float(priced["profit_new"].sum()) if "profit_new" in priced else 0.0
    return {
        **served.facts(),
        "totals": {
            "products": len(recs),
            "recommended": len(priced),
            "raise": int((priced["recommended_price"] > priced["current_price"]).sum())
            if len(priced)
            else 0,
            "profit_now": plain(now),
            "profit_new": plain(new),
            "profit_change": plain(new / now - 1) if now > 0 else None,
        },
        "recommendations": records(recs.head(limit)),
    }


@router.get("/elasticities", summary="Own-price elasticity per product, with intervals")
def get_elasticities(
    workspace: Workspace = Depends(get_workspace),
    _key: ApiKey = Depends(require("reader")),
) -> dict[str, Any]:
    return elasticity_view(_served(workspace))


@router.get("/cross", summary="The cross-price elasticities (row: units, column: price)")
def get_cross(
    workspace: Workspace = Depends(get_workspace),
    _key: ApiKey = Depends(require("reader")),
) -> dict[str, Any]:
    e = _served(workspace).result.elasticities
    return {"products": list(map(str, e.cross.index)), "matrix": plain(e.cross.to_numpy())}


@router.get("/by-location", summary="How own-price elasticity varies with location attributes")
def get_by_location(
    limit: int = Query(MAX_LIST, ge=1, le=MAX_LIST),
    workspace: Workspace = Depends(get_workspace),
    _key: ApiKey = Depends(require("reader")),
) -> dict[str, Any]:
    view = location_view(_served(workspace), limit=limit)
    if view is None:
        raise ApiError(
            404,
            "the pricing analysis has no elasticity by location: the locations carry no "
            "numeric attributes (or the job ran without them)",
        )
    return view


@router.get("/recommendations", summary="Profit-maximising prices within the guardrails")
def get_recommendations(
    sort_by: RecSort = Query("profit_gain"),
    limit: int = Query(100, ge=1, le=MAX_LIST),
    workspace: Workspace = Depends(get_workspace),
    _key: ApiKey = Depends(require("reader")),
) -> dict[str, Any]:
    return recommendation_view(_served(workspace), sort_by=sort_by, limit=limit)
