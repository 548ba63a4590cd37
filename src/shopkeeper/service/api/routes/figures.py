"""The shop's key figures: overview over time, products and stock, cohorts, data quality.

Every route needs a reader key. The figures are computed from the store on each
call (see ``shopkeeper.figures`` for what each one means); days are UTC days.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from fastapi import APIRouter, Depends, Query

from shopkeeper import figures
from shopkeeper.access import ApiKey
from shopkeeper.errors import ConfigError
from shopkeeper.service.deps import get_store, require
from shopkeeper.service.errors import ApiError
from shopkeeper.store import Store

router = APIRouter(prefix="/figures", tags=["figures"])

MAX_PRODUCTS = 200
MAX_COHORT_MONTHS = 60


def _invalid(field: str, reason: str, value: object) -> ApiError:
    return ApiError(
        422, f"{field}: {reason}", details=[{"field": field, "reason": reason, "value": value}]
    )


def _day(field: str, value: str | None) -> date | None:
    if value is None or value == "":
        return None
    try:
        return date.fromisoformat(value.strip())
    except ValueError:
        raise _invalid(field, "must be a date as YYYY-MM-DD", value) from None


def _whole(field: str, value: str | None, default: int, low: int, high: int) -> int:
    """``value`` as a whole number in ``low``..``high`` (the default when absent)."""
    if value is None or value == "":
        return default
    try:
        number = int(value)
    except ValueError:
        raise _invalid(field, f"must be a whole number from {low} to {high}", value) from None
    if not low <= number <= high:
        raise _invalid(field, f"must be from {low} to {high}", value)
    return number


def check_overview_query(grain: str, start: str | None, end: str | None) -> tuple[date | None, ...]:
    """The parsed ``start`` and ``end``; an ApiError (422) naming the first bad field."""
    if grain not in figures.GRAINS:
        raise _invalid("grain", f"must be one of {', '.join(figures.GRAINS)}", grain)
    first, last = _day("start", start), _day("end", end)
    if first is not None and last is not None:
        if first > last:
            raise _invalid("end", f"must not be before start {first}", end)
        if (last - first).days + 1 > figures.MAX_WINDOW_DAYS:
            raise _invalid(
                "start", f"the window may be at most {figures.MAX_WINDOW_DAYS} days long", start
            )
    return first, last


@router.get("/overview", summary="Revenue, orders, AOV, conversion and repeat purchases")
def overview(
    grain: str = Query(
        "day", description="Period of the series: day or week (weeks start Monday)."
    ),
    start: str | None = Query(
        None, description="First day, YYYY-MM-DD (default: 89 days before end)."
    ),
    end: str | None = Query(
        None, description="Last day, YYYY-MM-DD (default: latest order's day)."
    ),
    store: Store = Depends(get_store),
    _key: ApiKey = Depends(require("reader")),
) -> dict[str, Any]:
    """The window's series and totals, the previous window of equal length and the change."""
    first, last = check_overview_query(grain, start, end)
    try:
        return figures.cached(store, "overview", grain, first, last)
    except ConfigError as exc:
        # Only a window placed by the data can still be wrong here (start after it).
        raise _invalid("start", str(exc), start) from None


@router.get("/products", summary="Best sellers, slow movers and stock cover")
def products(
    limit: str | None = Query(None, description=f"Products per list, 1 to {MAX_PRODUCTS}."),
    store: Store = Depends(get_store),
    _key: ApiKey = Depends(require("reader")),
) -> dict[str, Any]:
    """Over the last 90 days of data; stock cover from the last 28 days' sales."""
    return figures.cached(store, "products", _whole("limit", limit, 20, 1, MAX_PRODUCTS))


@router.get("/cohorts", summary="Monthly acquisition cohorts and their retention")
def cohorts(
    months: str | None = Query(None, description=f"Cohorts to show, 1 to {MAX_COHORT_MONTHS}."),
    store: Store = Depends(get_store),
    _key: ApiKey = Depends(require("reader")),
) -> dict[str, Any]:
    """Customers by the month of their first order, and the share back in each later month."""
    months_n = _whole("months", months, 12, 1, MAX_COHORT_MONTHS)
    return figures.cached(store, "cohorts", months_n)


@router.get("/data-quality", summary="Counts, periods, revenue and data quality warnings")
def data_quality(
    store: Store = Depends(get_store),
    key: ApiKey = Depends(require("reader")),
) -> dict[str, Any]:
    """What ``shopkeeper info`` reports; the database URL only for admin keys."""
    found = figures.data_quality(store)
    if not key.allows("admin"):
        # Where the store lives (host, user, file path) is the operator's business.
        found.pop("database", None)
    return found
