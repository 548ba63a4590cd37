"""Orders: list and look up (with their lines), and record new ones as they happen."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from fastapi import APIRouter, Depends, Query
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field

from shopkeeper.access import ApiKey
from shopkeeper.service.api._rows import MAX_LIMIT, MAX_OFFSET, naive_utc, one, page
from shopkeeper.service.api._writes import frame_of, load_rows
from shopkeeper.service.deps import require, use_store
from shopkeeper.service.errors import ApiError
from shopkeeper.store import METADATA, Store

router = APIRouter(prefix="/orders", tags=["orders"])
_ORDERS = METADATA.tables["orders"]
_LINES = METADATA.tables["order_lines"]


class OrderIn(BaseModel):
    """An order and its lines, with the columns of ``orders`` and ``order_lines``."""

    order: dict[str, Any] = Field(
        description="order_id, ordered_at, and optionally customer_id, location_id, status, "
        "promised_at, shipped_at, delivered_at, carrier, ship_city.",
        examples=[
            {
                "order_id": "SO-2024-000981",
                "customer_id": "C-000042",
                "ordered_at": "2024-11-11T00:03:12+08:00",
                "status": "paid",
            }
        ],
    )
    lines: list[dict[str, Any]] = Field(
        default_factory=list,
        max_length=1_000,
        description="Each: product_id, quantity, unit_price, optionally discount; the "
        "order_id may be left out (it is the order's).",
        examples=[[{"product_id": "SKU-10023", "quantity": 2, "unit_price": 39.9}]],
    )


@router.post(
    "",
    status_code=201,
    summary="Record an order with its lines (idempotent by order id)",
    description="Validated by the same contract as ingest, in one transaction. Posting the "
    "same order again updates it: its lines are upserted by (order_id, product_id).",
)
def post_order(
    body: OrderIn,
    store: Store = Depends(use_store),
    key: ApiKey = Depends(require("operator")),
) -> dict[str, Any]:
    order_id = body.order.get("order_id")
    lines = []
    for i, line in enumerate(body.lines):
        given = line.get("order_id", order_id)
        if given != order_id:
            reason = "must be the order's order_id or left out"
            raise ApiError(
                422,
                f"lines item {i + 1}: order_id {given!r} {reason}",
                details=[{"field": f"lines[{i}].order_id", "reason": reason, "value": given}],
            )
        lines.append({**line, "order_id": order_id})
    tables = {"orders": frame_of([body.order], "order")}
    if lines:
        tables["order_lines"] = frame_of(lines, "lines")
    result = load_rows(
        store, tables, f"api:{key.key_id}", fields={"orders": "order", "order_lines": "lines"}
    )
    return {"order_id": order_id, "lines": len(lines), "rows": result.rows}


@router.get("", summary="Orders, newest first")
def list_orders(
    customer_id: str | None = Query(None),
    status: str | None = Query(None),
    since: datetime | None = Query(None, description="Ordered at or after (ISO 8601)."),
    until: datetime | None = Query(None, description="Ordered before (ISO 8601)."),
    limit: int = Query(100, ge=1, le=MAX_LIMIT),
    offset: int = Query(0, ge=0, le=MAX_OFFSET),
    store: Store = Depends(use_store),
    _key: ApiKey = Depends(require("reader")),
) -> dict[str, Any]:
    where = []
    if customer_id is not None:
        where.append(_ORDERS.c.customer_id == customer_id)
    if status is not None:
        where.append(_ORDERS.c.status == status.lower())
    if since is not None:
        where.append(_ORDERS.c.ordered_at >= naive_utc(since))
    if until is not None:
        where.append(_ORDERS.c.ordered_at < naive_utc(until))
    order = ["-ordered_at", "order_id"]
    return page(store, "orders", where=where, limit=limit, offset=offset, order_by=order)


@router.get("/{order_id}", summary="One order with its lines", response_class=JSONResponse)
async def get_order(
    order_id: str,
    store: Store = Depends(use_store),
    _key: ApiKey = Depends(require("reader")),
) -> JSONResponse:
    # Two indexed lookups: on the event loop, like products/{id}.
    found = one(store, "orders", "order_id", order_id)
    if found is None:
        raise ApiError(404, f"no order {order_id!r}")
    where = [_LINES.c.order_id == order_id]
    lines = page(store, "order_lines", where=where, limit=MAX_LIMIT, total=False)
    found["lines"] = lines["items"]
    return JSONResponse(found)
