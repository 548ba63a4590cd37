"""Demand forecasts: per product (and location), with the backtest that chose the model.

Every route needs a reader key and answers from the forecast in service: the
artifact of the latest successful ``forecast`` job (make it with
``shopkeeper train forecast`` or ``POST /api/v1/jobs`` with kind
``forecast``). Without one the routes answer 409; with one that cannot be
loaded, 503. Periods are ISO dates (a period's first day); a missing figure
(no interval for a model that gives none) is ``null``.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import pandas as pd
from fastapi import APIRouter, Depends, Query
from fastapi import Path as PathParam

from shopkeeper.access import ApiKey
from shopkeeper.service.api._artifacts import ArtifactCache
from shopkeeper.service.api.routes.customer_analytics import plain
from shopkeeper.service.deps import get_workspace, require
from shopkeeper.service.errors import ApiError
from shopkeeper.workspace import Workspace

if TYPE_CHECKING:  # the forecasting models (LightGBM, statsforecast) load on first use
    from shopkeeper.forecast._analysis import ForecastAnalysis

log = logging.getLogger("shopkeeper.service")

router = APIRouter(prefix="/forecast", tags=["forecast"])

KIND = "forecast"
MAX_LIST = 1_000
NO_FORECAST = (
    "no forecast has been computed yet: run 'shopkeeper train forecast' "
    'or POST /api/v1/jobs with {"kind": "forecast"}, then try again'
)


def _artifact_name() -> str:
    from shopkeeper.forecast._analysis import ARTIFACT

    return ARTIFACT


@dataclass
class ServedForecast:
    """A loaded forecast and the job that made it."""

    job_id: str
    path: Path
    result: ForecastAnalysis

    def facts(self) -> dict[str, Any]:
        r = self.result
        return {
            "job": self.job_id,
            "frequency": r.frequency,
            "horizon": r.horizon,
            "model": r.model,
            "last_period": r.last_period,
            "by_location": r.by_location,
            "timezone": r.timezone,
        }


def _load(job_id: str, path: Path) -> ServedForecast:
    from shopkeeper.forecast._analysis import ForecastAnalysis

    try:
        served = ServedForecast(job_id=job_id, path=path, result=ForecastAnalysis.load(path))
    except Exception as exc:
        log.error("the forecast %s cannot be served: %r", path, exc)
        raise ApiError(
            503,
            f"the forecast of job {job_id} cannot be loaded; "
            "compute it again with 'shopkeeper train forecast'",
        ) from exc
    log.info("forecast %s loaded", job_id)
    return served


FORECASTS: ArtifactCache[ServedForecast] = ArtifactCache(KIND, _artifact_name, _load)


def served_forecast(workspace: Workspace) -> ServedForecast | None:
    """The workspace's forecast in service (None before the first job)."""
    return FORECASTS.get(workspace)


def _served(workspace: Workspace) -> ServedForecast:
    found = served_forecast(workspace)
    if found is None:
        raise ApiError(409, NO_FORECAST)
    return found


def _rows(frame: pd.DataFrame) -> list[dict[str, Any]]:
    out = frame.copy()
    if "period" in out:
        out["period"] = [str(pd.Timestamp(p).date()) for p in out["period"]]
    return [plain(r) for r in out.to_dict(orient="records")]


def summary_view(served: ServedForecast, *, limit: int = 50) -> dict[str, Any]:
    """The backtest table and the series with the most units forecast."""
    summary = served.result.summary()
    return {
        **served.facts(),
        "backtest": [plain(r) for r in served.result.backtest.to_dict(orient="records")],
        "total": len(summary),
        "products": _rows(summary.head(limit)),
        "notes": served.result.notes,
    }


def product_view(served: ServedForecast, product_id: str) -> dict[str, Any]:
    """One product's series: recent actuals, backtest forecasts against them, the forecast."""
    from shopkeeper.errors import ConfigError

    r = served.result
    try:
        names = r.series_of(product_id)
    except ConfigError as exc:
        raise ApiError(404, str(exc)) from exc
    series = []
    for name in names:
        history = r.history[r.history["series"] == name]
        holdout = r.holdout[r.holdout["series"] == name]
        ahead = r.forecasts[r.forecasts["series"] == name]
        series.append(
            {
                "series": name,
                "location_id": str(ahead["location_id"].iloc[0]),
                "history": _rows(history[["period", "units"]]),
                "backtest": _rows(holdout.drop(columns=["series", "window"], errors="ignore")),
                "forecast": _rows(ahead.drop(columns=["series", "product_id", "location_id"])),
            }
        )
    return {**served.facts(), "product_id": product_id, "series": series}


# -- routes ---------------------------------------------------------------------------------


@router.get("", summary="The backtest and the products with the most demand forecast")
def forecast_summary(
    limit: Annotated[int, Query(ge=1, le=MAX_LIST, description="How many series.")] = 50,
    workspace: Workspace = Depends(get_workspace),
    _key: ApiKey = Depends(require("reader")),
) -> dict[str, Any]:
    """Every candidate model's backtest (WAPE, MASE, bias, interval coverage, seconds), the
    model the forecasts come from, and per series the units forecast over the horizon with
    the sum of the 80% bounds, next to the units sold over as many past periods."""
    return summary_view(_served(workspace), limit=limit)


@router.get("/{product_id}", summary="One product's forecast against its actuals")
def forecast_product(
    product_id: Annotated[str, PathParam(min_length=1, max_length=200)],
    workspace: Workspace = Depends(get_workspace),
    _key: ApiKey = Depends(require("reader")),
) -> dict[str, Any]:
    """Per location series of the product: recent units sold, the backtest forecasts with
    their intervals against what sold, and the forecast per period ahead (80%/95% bounds)."""
    return product_view(_served(workspace), product_id)
