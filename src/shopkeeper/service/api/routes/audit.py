"""The audit log, for admins: key changes and reads of personal data (``shopkeeper.audit``)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Query

from shopkeeper.access import ApiKey
from shopkeeper.audit import read_audit
from shopkeeper.service.api._rows import MAX_LIMIT
from shopkeeper.service.deps import require, use_store
from shopkeeper.store import Store

router = APIRouter(prefix="/audit", tags=["keys"])


@router.get("", summary="The newest audit records: who did what with keys and personal data")
def audit_log(
    limit: int = Query(100, ge=1, le=MAX_LIMIT),
    action: str | None = Query(
        None, max_length=100, description="Only this action, e.g. keys.create."
    ),
    store: Store = Depends(use_store),
    _key: ApiKey = Depends(require("admin")),
) -> dict[str, Any]:
    return {"items": read_audit(store, limit=limit, action=action)}
