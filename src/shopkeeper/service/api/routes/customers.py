"""Customers: personal data (name, email, phone) only for admin keys, each read audited."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Query
from fastapi.responses import JSONResponse
from starlette.concurrency import run_in_threadpool

from shopkeeper import contract
from shopkeeper.access import ApiKey
from shopkeeper.audit import actor_of, audit
from shopkeeper.service.api._rows import MAX_LIMIT, MAX_OFFSET, one, page
from shopkeeper.service.deps import require, use_store
from shopkeeper.service.errors import ApiError
from shopkeeper.store import Store

router = APIRouter(prefix="/customers", tags=["customers"])
PII = contract.table("customers").pii_columns


def _hidden(key: ApiKey) -> tuple[str, ...]:
    return () if key.allows("admin") else PII


@router.get(
    "",
    summary="Customers, by customer id",
    description=f"Personal data ({', '.join(PII)}) is left out unless the key is an admin's.",
)
def list_customers(
    limit: int = Query(100, ge=1, le=MAX_LIMIT),
    offset: int = Query(0, ge=0, le=MAX_OFFSET),
    store: Store = Depends(use_store),
    key: ApiKey = Depends(require("reader")),
) -> dict[str, Any]:
    found = page(store, "customers", hide=_hidden(key), limit=limit, offset=offset)
    if key.allows("admin") and found["items"]:
        ids = [row["customer_id"] for row in found["items"]]
        target = ids[0] if len(ids) == 1 else f"{len(ids)} customers"
        audit(store, actor_of(key.key_id), "customers.read_personal", target, {"ids": ids})
    return found


@router.get("/{customer_id}", summary="One customer", response_class=JSONResponse)
async def get_customer(
    customer_id: str,
    store: Store = Depends(use_store),
    key: ApiKey = Depends(require("reader")),
) -> JSONResponse:
    # A point lookup: on the event loop, like products/{id}.
    found = one(store, "customers", "customer_id", customer_id, hide=_hidden(key))
    if found is None:
        raise ApiError(404, f"no customer {customer_id!r}")
    if key.allows("admin"):
        await run_in_threadpool(
            audit, store, actor_of(key.key_id), "customers.read_personal", customer_id
        )
    return JSONResponse(found)
