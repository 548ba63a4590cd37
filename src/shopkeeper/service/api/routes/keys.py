"""API keys, for admins: list, create and revoke."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends
from pydantic import BaseModel, Field

from shopkeeper.access import ROLES, ApiKey, create_key, get_key, list_keys, revoke_key
from shopkeeper.audit import actor_of
from shopkeeper.service.deps import require, use_store
from shopkeeper.service.errors import ApiError
from shopkeeper.store import Store

router = APIRouter(prefix="/keys", tags=["keys"])


class KeyIn(BaseModel):
    name: str = Field(min_length=1, max_length=200, description="Who or what uses the key.")
    role: str = Field(description=f"One of {', '.join(ROLES)}.", examples=["reader"])


@router.get("", summary="Every key, without secrets")
def keys(
    store: Store = Depends(use_store), _key: ApiKey = Depends(require("admin"))
) -> dict[str, Any]:
    return {"items": [k.to_dict() for k in list_keys(store)]}


@router.post("", status_code=201, summary="Create a key; its token is shown only now")
def new_key(
    body: KeyIn, store: Store = Depends(use_store), me: ApiKey = Depends(require("admin"))
) -> dict[str, Any]:
    if body.role not in ROLES:
        reason = f"must be one of {', '.join(ROLES)}"
        raise ApiError(
            422,
            f"role {body.role!r} {reason}",
            details=[{"field": "role", "reason": reason, "value": body.role}],
        )
    key, token = create_key(store, body.name, body.role, actor=actor_of(me.key_id))
    return {**key.to_dict(), "token": token}


@router.delete("/{key_id}", summary="Revoke a key for good")
def delete_key(
    key_id: str, store: Store = Depends(use_store), me: ApiKey = Depends(require("admin"))
) -> dict[str, Any]:
    if get_key(store, key_id) is None:
        raise ApiError(404, f"no API key {key_id!r}")
    if key_id == me.key_id:
        raise ApiError(409, "a key cannot revoke itself; use another admin key")
    return revoke_key(store, key_id, actor=actor_of(me.key_id)).to_dict()
