"""Customers: personal data (name, email, phone, kept unknown columns) only for admin keys,
each read audited under the customer's pseudonym."""

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
from shopkeeper.store import EXTRA_COLUMN, Store

router = APIRouter(prefix="/customers", tags=["customers"])
PII = contract.table("customers").pii_columns
# A customer's kept unknown columns (an address, a birth date) are personal too.
PERSONAL = (*PII, EXTRA_COLUMN)


def _hidden(key: ApiKey) -> tuple[str, ...]:
    return () if key.allows("admin") else PERSONAL


@router.get(
    "",
    summary="Customers, by customer id",
    description=(
        f"Personal data ({', '.join(PERSONAL)}) is left out unless the key is an admin's."
    ),
)
def list_customers(
    limit: int = Query(100, ge=1, le=MAX_LIMIT),
    offset: int = Query(0, ge=0, le=MAX_OFFSET),
    store: Store = Depends(use_store),
    key: ApiKey = Depends(require("reader")),
) -> dict[str, Any]:
    found = page(store, "customers", hide=_hidden(key), limit=limit, offset=offset)
    if key.allows("admin") and found["items"]:
        # The audit log names customers by pseudonym (docs/privacy.md).
        names = store.vault.pseudonymizer().many(row["customer_id"] for row in found["items"])
        target = names[0] if len(names) == 1 else f"{len(names)} customers"
        audit(store, actor_of(key.key_id), "customers.read_personal", target, {"ids": names})
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
        name = store.vault.pseudonymizer()(customer_id)
        await run_in_threadpool(audit, store, actor_of(key.key_id), "customers.read_personal", name)
    return JSONResponse(found)
