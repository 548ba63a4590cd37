"""The catalog: list and look up products."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Query
from fastapi.responses import JSONResponse

from shopkeeper.access import ApiKey
from shopkeeper.service.api._rows import MAX_LIMIT, MAX_OFFSET, one, page
from shopkeeper.service.deps import require, use_store
from shopkeeper.service.errors import ApiError
from shopkeeper.store import METADATA, Store

router = APIRouter(prefix="/products", tags=["products"])
_T = METADATA.tables["products"]


@router.get("", summary="Products, by product id")
def list_products(
    limit: int = Query(100, ge=1, le=MAX_LIMIT),
    offset: int = Query(0, ge=0, le=MAX_OFFSET),
    category: str | None = Query(None, description="Only this category (exact)."),
    active: bool | None = Query(None, description="Only active (true) or inactive (false)."),
    q: str | None = Query(None, max_length=200, description="Text in the title."),
    store: Store = Depends(use_store),
    _key: ApiKey = Depends(require("reader")),
) -> dict[str, Any]:
    where = []
    if category is not None:
        where.append(_T.c.category == category)
    if active is not None:
        where.append(_T.c.active.is_(active))
    if q:
        where.append(_T.c.title.contains(q, autoescape=True))
    return page(store, "products", where=where, limit=limit, offset=offset)


@router.get("/{product_id}", summary="One product", response_class=JSONResponse)
async def get_product(
    product_id: str,
    store: Store = Depends(use_store),
    _key: ApiKey = Depends(require("reader")),
) -> JSONResponse:
    # A point lookup by key takes well under a millisecond: it runs on the
    # event loop, sparing the thread-pool round trip that would cost more.
    found = one(store, "products", "product_id", product_id)
    if found is None:
        raise ApiError(404, f"no product {product_id!r}")
    return JSONResponse(found)
