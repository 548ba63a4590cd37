"""Orders and delivery: late-delivery risk of open orders, the carrier scorecard, order flags.

Every route needs a reader key and answers from the analysis in service: the
artifact of the latest successful ``orders`` job (compute it with
``shopkeeper train orders`` or ``POST /api/v1/jobs`` with kind ``orders``).
Without one the routes answer 409; with one that cannot be loaded, 503.
The raw orders stay under ``/api/v1/orders``; this router is ``/delivery``.

Times are ISO 8601 in UTC, as the store keeps them. ``risk`` is a
probability (0 to 1); numbers that do not exist (a carrier without a trend)
are ``null``. The analysis is loaded once per process and kept while the
kind's ``current.json`` names it, as for the other capabilities.
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
from shopkeeper.service.deps import get_workspace, require, store_of_artifact
from shopkeeper.service.errors import ApiError
from shopkeeper.workspace import Workspace

if TYPE_CHECKING:  # the orders package (LightGBM, scikit-learn) loads on first use
    from shopkeeper.orders import DeliveryAnalysis

log = logging.getLogger("shopkeeper.service")

router = APIRouter(prefix="/delivery", tags=["delivery"])

KIND = "orders"
MAX_LIST = 1_000
#: The flag kinds (``shopkeeper.orders.FLAG_KINDS``, which loads LightGBM).
FlagKind = Literal["quantity", "amount", "burst", "new_account", "overdue", "exception"]

NO_ANALYSIS = (
    "no orders analysis has been computed yet: run 'shopkeeper train orders' "
    'or POST /api/v1/jobs with {"kind": "orders"}, then try again'
)


def _artifact_name() -> str:
    from shopkeeper.orders._train import ARTIFACT

    return ARTIFACT


@dataclass(frozen=True)
class ServedDelivery:
    """A loaded orders analysis and the job that computed it."""

    job_id: str
    path: Path
    analysis: DeliveryAnalysis

    def facts(self) -> dict[str, Any]:
        """Which run answers: its job, the moment its data ends and the period it spans."""
        first, last = self.analysis.period
        return {
            "job": self.job_id,
            "as_of": self.analysis.as_of.isoformat(),
            "period": {"first": first, "last": last},
        }


def _load(job_id: str, path: Path) -> ServedDelivery:
    from shopkeeper.orders import DeliveryAnalysis

    try:
        analysis = DeliveryAnalysis.load(path, store_of_artifact(path))
    except Exception as exc:
        # An unreadable file or one written by another version: only a new run helps.
        log.error("the orders analysis %s cannot be served: %r", path, exc)
        raise ApiError(
            503,
            f"the orders analysis of job {job_id} cannot be loaded; "
            "compute it again with 'shopkeeper train orders'",
        ) from exc
    log.info("orders analysis %s loaded", job_id)
    return ServedDelivery(job_id=job_id, path=path, analysis=analysis)


ANALYSES: ArtifactCache[ServedDelivery] = ArtifactCache(KIND, _artifact_name, _load)


def served_delivery(workspace: Workspace) -> ServedDelivery | None:
    """The workspace's orders analysis in service (None before the first job)."""
    return ANALYSES.get(workspace)


def _served(workspace: Workspace) -> ServedDelivery:
    found = served_delivery(workspace)
    if found is None:
        raise ApiError(409, NO_ANALYSIS)
    return found


def _rows(frame: pd.DataFrame) -> list[dict[str, Any]]:
    return [plain(row) for row in frame.to_dict(orient="records")]


Limit = Annotated[int, Query(ge=1, le=MAX_LIST, description=f"How many, 1 to {MAX_LIST}.")]


@router.get("/at-risk", summary="Open orders by their risk of arriving late, with reasons")
def at_risk(
    limit: Limit = 50,
    carrier: Annotated[
        str | None, Query(min_length=1, max_length=100, description="Only this carrier.")
    ] = None,
    min_risk: Annotated[
        float, Query(ge=0, le=1, allow_inf_nan=False, description="Keep risk at least this.")
    ] = 0.0,
    workspace: Workspace = Depends(get_workspace),
    _key: ApiKey = Depends(require("reader")),
) -> dict[str, Any]:
    """Every open order (not delivered, cancelled or lost, with a promise), the riskiest
    first: ``risk`` is the calibrated chance it misses its promise (1 when the promise
    has passed), ``model_risk`` the model's part, ``reasons`` why in words. ``total``
    counts the orders passing the filters before ``limit``."""
    served = _served(workspace)
    rows = served.analysis.at_risk
    if carrier is not None:
        rows = rows[rows["carrier"] == carrier]
    rows = rows[rows["risk"] >= min_risk]
    return {**served.facts(), "total": len(rows), "orders": _rows(rows.head(limit))}


@router.get("/carriers", summary="The carrier scorecard: on time, delays, lost, trend")
def carriers(
    weekly: Annotated[bool, Query(description="Also the weekly on-time series.")] = False,
    workspace: Workspace = Depends(get_workspace),
    _key: ApiKey = Depends(require("reader")),
) -> dict[str, Any]:
    """Per carrier: orders, settled, delivered, late and lost counts, on-time rate, mean
    and 90th-percentile delay in days past the promise, transit days, and the last 4
    weeks against the 12 before with ``worsening`` when the drop is real."""
    served = _served(workspace)
    out = {**served.facts(), "carriers": _rows(served.analysis.carriers)}
    if weekly:
        out["weekly"] = _rows(served.analysis.weekly)
    return out


@router.get("/flags", summary="Recent orders a person should look at, with the reason")
def flags(
    limit: Limit = 100,
    kind: Annotated[FlagKind | None, Query(description="Only this kind of flag.")] = None,
    open_only: Annotated[bool, Query(description="Only orders still on their way.")] = False,
    workspace: Workspace = Depends(get_workspace),
    _key: ApiKey = Depends(require("reader")),
) -> dict[str, Any]:
    """Unusual quantity or amount for the customer, bursts of orders, big orders from new
    accounts, and open parcels overdue or with an exception scan; one row per order and
    kind, with ``reason`` in words."""
    served = _served(workspace)
    rows = served.analysis.flags
    if kind is not None:
        rows = rows[rows["kind"] == kind]
    if open_only:
        rows = rows[rows["open"]]
    return {
        **served.facts(),
        "days": served.analysis.settings.flag_days,
        "total": len(rows),
        "flags": _rows(rows.head(limit)),
    }


@router.get("/evaluation", summary="The late-delivery model against its baselines, held out")
def evaluation(
    workspace: Workspace = Depends(get_workspace),
    _key: ApiKey = Depends(require("reader")),
) -> dict[str, Any]:
    """ROC-AUC, PR-AUC, Brier score and log-loss on the later orders held out, for the
    carrier rule, a logistic regression, a default LightGBM and shopkeeper's model;
    ``null`` when the job ran with ``evaluate=false``. Also the features by gain."""
    served = _served(workspace)
    a = served.analysis
    return plain(
        {
            **served.facts(),
            "evaluation": None if a.evaluation is None else a.evaluation.to_dict(),
            "importance": _rows(a.importance),
            "exception_late_rate": a.exception_late_rate,
            "counts": a.counts,
            "settings": asdict(a.settings),
            "notes": list(a.notes),
        }
    )
