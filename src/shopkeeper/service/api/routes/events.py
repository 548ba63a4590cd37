"""The click-stream: post events as they happen, read them back."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from fastapi import APIRouter, Depends, Query
from pydantic import BaseModel, Field

from shopkeeper.access import ApiKey
from shopkeeper.service.api._rows import MAX_LIMIT, MAX_OFFSET, naive_utc, page
from shopkeeper.service.api._writes import frame_of, load_rows
from shopkeeper.service.deps import require, use_store
from shopkeeper.store import METADATA, Store

router = APIRouter(prefix="/events", tags=["events"])
_T = METADATA.tables["events"]
MAX_BATCH = 1_000


class EventsIn(BaseModel):
    """A batch of events, each with the columns of the contract's ``events`` table."""

    events: list[dict[str, Any]] = Field(
        min_length=1,
        max_length=MAX_BATCH,
        description="Each: at, event (view|cart|purchase|search), and optionally event_id, "
        "customer_id, session_id, product_id, query, plus any extra columns. Without "
        "event_id the key is a hash of the row, so posting the same event twice stores it once.",
        examples=[
            [
                {
                    "at": "2024-11-11T20:15:00+08:00",
                    "event": "view",
                    "customer_id": "C-000042",
                    "session_id": "S-1",
                    "product_id": "SKU-10023",
                }
            ]
        ],
    )


@router.post(
    "",
    status_code=202,
    summary="Record events (idempotent by key)",
    description="Validated by the same contract as ingest; one bad event and none are stored.",
)
def post_events(
    body: EventsIn,
    store: Store = Depends(use_store),
    key: ApiKey = Depends(require("operator")),
) -> dict[str, Any]:
    frame = frame_of(body.events, "events")
    result = load_rows(store, {"events": frame}, f"api:{key.key_id}")
    return {"accepted": result.rows}


@router.get("", summary="Events, newest first")
def list_events(
    customer_id: str | None = Query(None),
    session_id: str | None = Query(None),
    since: datetime | None = Query(None, description="ISO 8601; times are UTC unless offset."),
    limit: int = Query(100, ge=1, le=MAX_LIMIT),
    offset: int = Query(0, ge=0, le=MAX_OFFSET),
    store: Store = Depends(use_store),
    _key: ApiKey = Depends(require("reader")),
) -> dict[str, Any]:
    where = []
    if customer_id is not None:
        where.append(_T.c.customer_id == customer_id)
    if session_id is not None:
        where.append(_T.c.session_id == session_id)
    if since is not None:
        where.append(_T.c.at >= naive_utc(since))
    order = ["-at", "event_id"]
    return page(store, "events", where=where, limit=limit, offset=offset, order_by=order)
