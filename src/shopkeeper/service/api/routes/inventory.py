"""Inventory: the reorder plan, stock-out risk and the replay behind them.

Every route needs a reader key and answers from the plan in service: the
artifact of the latest successful ``inventory`` job (make it with
``shopkeeper train inventory`` or ``POST /api/v1/jobs`` with kind
``inventory``). Without one the routes answer 409; with one that cannot be
loaded, 503. The plan is for the job's ``as_of`` day: stock moves every day,
so a shop runs the job daily (the CLI's ``reorder-plan`` reads the store now).

Numbers are plain JSON numbers; a figure that does not exist (no run-out date
for a product forecast to sell nothing, no days of cover) is ``null``.
"""

from __future__ import annotations

import logging
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, Literal

import pandas as pd
from fastapi import APIRouter, Depends, Query

from shopkeeper.access import ApiKey
from shopkeeper.service.api._artifacts import ArtifactCache
from shopkeeper.service.api.routes.customer_analytics import plain
from shopkeeper.service.deps import get_workspace, require
from shopkeeper.service.errors import ApiError
from shopkeeper.workspace import Workspace

if TYPE_CHECKING:  # the inventory package (scipy) loads on first use
    from shopkeeper.inventory import InventoryPlan

log = logging.getLogger("shopkeeper.service")

router = APIRouter(prefix="/inventory", tags=["inventory"])

KIND = "inventory"
MAX_LIST = 1_000
#: How the plan can be sorted: urgency (the plan's own order), or one figure.
SortBy = Literal[
    "urgency", "stockout_risk", "runout_date", "days_of_cover", "order_value", "stock_value"
]
#: Figures sorted lowest first (the soonest run-out, the fewest days of cover).
ASCENDING = {"runout_date", "days_of_cover"}
RISK_FIELDS = (
    "product_id",
    "location_id",
    "title",
    "stockout_risk",
    "runout_date",
    "on_hand",
    "on_order",
    "position",
    "demand_per_day",
    "lead_time_days",
    "reorder_point",
    "order_now",
    "order_units",
    "days_of_cover",
)

NO_PLAN = (
    "no reorder plan has been computed yet: run 'shopkeeper train inventory' "
    'or POST /api/v1/jobs with {"kind": "inventory"}, then try again'
)


def _artifact_name() -> str:
    from shopkeeper.inventory._analysis import ARTIFACT

    return ARTIFACT


@dataclass
class ServedPlan:
    """A loaded plan and the job that made it."""

    job_id: str
    path: Path
    result: InventoryPlan

    def facts(self) -> dict[str, Any]:
        r = self.result
        return {
            "job": self.job_id,
            "as_of": r.as_of,
            "timezone": r.timezone,
            "review": r.settings.review,
            "forecaster": r.forecaster,
        }


def _load(job_id: str, path: Path) -> ServedPlan:
    from shopkeeper.inventory import InventoryPlan

    try:
        served = ServedPlan(job_id=job_id, path=path, result=InventoryPlan.load(path))
    except Exception as exc:
        # An unreadable file or one written by another version: only a new run helps.
        log.error("the reorder plan %s cannot be served: %r", path, exc)
        raise ApiError(
            503,
            f"the reorder plan of job {job_id} cannot be loaded; "
            "compute it again with 'shopkeeper train inventory'",
        ) from exc
    log.info("reorder plan %s loaded", job_id)
    return served


PLANS: ArtifactCache[ServedPlan] = ArtifactCache(KIND, _artifact_name, _load)


def served_plan(workspace: Workspace) -> ServedPlan | None:
    """The workspace's plan in service (None before the first job)."""
    return PLANS.get(workspace)


def _served(workspace: Workspace) -> ServedPlan:
    found = served_plan(workspace)
    if found is None:
        raise ApiError(409, NO_PLAN)
    return found


def _rows(frame: pd.DataFrame) -> list[dict[str, Any]]:
    out = frame.copy()
    out["runout_date"] = [None if pd.isna(d) else str(d) for d in out["runout_date"]]
    return [plain(r) for r in out.to_dict(orient="records")]


def plan_view(
    served: ServedPlan,
    *,
    sort_by: str = "urgency",
    limit: int = 50,
    due: bool = False,
    product: str | None = None,
) -> dict[str, Any]:
    """The plan's rows by ``sort_by`` (urgency: the plan's order), filtered, at most ``limit``."""
    plan = served.result.plan
    if due:
        plan = plan[plan["order_now"]]
    if product is not None:
        plan = plan[plan["product_id"] == product]
    if sort_by != "urgency":
        key = pd.to_datetime(plan["runout_date"]) if sort_by == "runout_date" else plan[sort_by]
        order = key.sort_values(ascending=sort_by in ASCENDING, kind="stable", na_position="last")
        plan = plan.loc[order.index]
    whole = served.result.plan
    return {
        **served.facts(),
        "sort_by": sort_by,
        "total": len(plan),
        "totals": {
            "items": len(whole),
            "orders_due": int(whole["order_now"].sum()),
            "order_value": float(whole["order_value"].sum()),
            "stock_value": float(whole["stock_value"].sum()),
        },
        "plan": _rows(plan.head(limit)),
    }


def risk_view(served: ServedPlan, *, limit: int = 20, min_risk: float = 0.0) -> dict[str, Any]:
    """Rows most likely to run out before an order placed now arrives, highest risk first."""
    plan = served.result.plan
    risky = plan[plan["stockout_risk"] >= min_risk]
    risky = risky.sort_values(["stockout_risk", "days_of_cover"], ascending=[False, True])
    return {
        **served.facts(),
        "min_risk": min_risk,
        "total": len(risky),
        "items": _rows(risky.head(limit)[list(RISK_FIELDS)]),
    }


# -- routes ---------------------------------------------------------------------------------

Limit = Annotated[int, Query(ge=1, le=MAX_LIST, description=f"How many, 1 to {MAX_LIST}.")]


@router.get("/reorder-plan", summary="What to reorder: per product and location, sortable")
def reorder_plan(
    sort_by: Annotated[
        SortBy,
        Query(
            description="urgency (orders due, then risk, then cover), or a figure: highest "
            "first, except runout_date and days_of_cover (soonest first)."
        ),
    ] = "urgency",
    limit: Limit = 50,
    due: Annotated[bool, Query(description="Only rows with an order due now.")] = False,
    product: Annotated[
        str | None, Query(min_length=1, max_length=200, description="Only this product.")
    ] = None,
    workspace: Workspace = Depends(get_workspace),
    _key: ApiKey = Depends(require("reader")),
) -> dict[str, Any]:
    """Per inventory row: on hand, on order, demand per day, lead time, safety stock, reorder
    point, order now or not and how much, the run-out date with no order, days of cover,
    stock-out risk and the money tied up. ``total`` counts the rows after the filters."""
    return plan_view(_served(workspace), sort_by=sort_by, limit=limit, due=due, product=product)


@router.get("/stockout-risk", summary="Products most likely to run out before stock arrives")
def stockout_risk(
    limit: Limit = 20,
    min_risk: Annotated[
        float,
        Query(ge=0, le=1, allow_inf_nan=False, description="Keep rows at least this likely."),
    ] = 0.0,
    workspace: Workspace = Depends(get_workspace),
    _key: ApiKey = Depends(require("reader")),
) -> dict[str, Any]:
    """The probability that demand over the lead time (plus the review period, when periodic)
    exceeds on hand plus on order: the chance of running out before an order placed now
    arrives. Highest first, ties by fewest days of cover."""
    return risk_view(_served(workspace), limit=limit, min_risk=min_risk)


@router.get("/summary", summary="The plan's totals, settings and the replay behind it")
def summary(
    workspace: Workspace = Depends(get_workspace),
    _key: ApiKey = Depends(require("reader")),
) -> dict[str, Any]:
    """Headline figures, the settings the job ran with, its notes, and the replay of the
    policy next to the naive rule (null when the job ran without one)."""
    served = _served(workspace)
    r = served.result
    return plain(
        {
            **served.facts(),
            "metrics": r.metrics(),
            "settings": asdict(r.settings),
            "notes": list(r.notes),
            "simulation": r.simulation,
        }
    )
