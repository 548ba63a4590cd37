"""Liveness and readiness: the only routes that need no key."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends
from sqlalchemy import text

from shopkeeper import __version__
from shopkeeper.service.deps import use_store
from shopkeeper.service.errors import ApiError
from shopkeeper.store import Store

router = APIRouter(tags=["health"])


@router.get("/health", summary="Liveness: the process answers")
def health() -> dict[str, Any]:
    return {"status": "ok", "version": __version__}


@router.get("/ready", summary="Readiness: the store answers and has its schema")
def ready(store: Store = Depends(use_store)) -> dict[str, Any]:
    try:
        with store.engine.connect() as conn:
            conn.execute(text("SELECT 1 FROM shopkeeper_meta LIMIT 1"))
    except Exception as exc:
        raise ApiError(503, "the store is not ready", code="unavailable") from exc
    return {"status": "ready", "database": store.dialect}
