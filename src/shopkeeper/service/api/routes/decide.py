"""Decisions that learn: serve a price or a slot, post outcomes, manage the policies.

``POST /decide/price`` and ``POST /decide/slot`` draw a decision from the
running policy, log it with its probability and return its id; the shop posts
what happened to ``POST /outcomes`` (click, purchase, revenue, margin) and
the policy learns from it at once, as a new version. Deciding and posting
outcomes need an operator key (they write the log); reading needs a reader
key; starting and stopping policies needs an operator key too.

A decision naming a customer who declined personalisation (as the store says
at that moment) does not use or keep the context sent with it: a contextual
slot decides on the policy's neutral context, and the log marks the decision
``"_withheld": true`` (``docs/decisions.md``, "Consent"). Prices never read a
customer or a context.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Query
from fastapi.concurrency import run_in_threadpool
from pydantic import BaseModel, Field

from shopkeeper.access import ApiKey
from shopkeeper.decide import (
    PriceGuardrails,
    decide_price,
    decide_slot,
    get_policy,
    list_policies,
    ope_log,
    policy_report,
    record_outcomes,
    start_price_policy,
    start_slot_policy,
    stop_policy,
)
from shopkeeper.service.api._rows import MAX_LIMIT, MAX_OFFSET
from shopkeeper.service.deps import require, use_store
from shopkeeper.store import Store

router = APIRouter(tags=["decisions"])
MAX_BATCH = 1_000


class PriceRequest(BaseModel):
    product_id: str = Field(description="The product whose price to show.")
    customer_id: str | None = Field(
        None,
        description="The visitor, when known. The price never depends on it; for a customer "
        "who declined personalisation the context is not kept.",
    )
    context: dict[str, Any] | None = Field(
        None, description="Anything worth keeping with the decision (device, page, ...)."
    )


class SlotRequest(BaseModel):
    slot: str = Field(description="The placement, as the slot policy was started with.")
    customer_id: str | None = Field(
        None,
        description="The visitor, when known. For a customer who declined personalisation "
        "the context is neither used nor kept: the policy's neutral context is.",
    )
    positions: int | None = Field(None, ge=1, description="Default: every position.")
    context: dict[str, Any] | None = Field(
        None, description="Named numeric features; a contextual policy needs its features."
    )


class OutcomesIn(BaseModel):
    outcomes: list[dict[str, Any]] = Field(
        min_length=1,
        max_length=MAX_BATCH,
        description="Each: decision_id and any of click, purchase (true/false), quantity, "
        "revenue, margin. The policy's reward must be there (or, for a price, purchase). "
        "One bad outcome and none is stored.",
        examples=[[{"decision_id": "d_0123456789abcdef", "purchase": True, "quantity": 1}]],
    )


class PricePolicyIn(BaseModel):
    product_id: str
    kind: str = "bernoulli-thompson"
    points: int = Field(7, ge=2, le=25)
    reward: str = "margin"
    policy_id: str | None = None
    guardrails: dict[str, Any] | None = Field(
        None,
        description="floor, ceiling (shares of the catalogue price), margin_floor, "
        "max_change_per_day, exploration_share.",
    )
    params: dict[str, Any] | None = Field(None, description="The policy kind's settings.")


class SlotPolicyIn(BaseModel):
    slot: str
    items: list[str] = Field(min_length=2, max_length=500)
    kind: str = "bernoulli-thompson"
    positions: int = Field(1, ge=1)
    reward: str = "click"
    features: list[str] | None = None
    policy_id: str | None = None
    params: dict[str, Any] | None = None


@router.post("/decide/price", summary="The price to show one visitor (logged)")
async def post_decide_price(
    body: PriceRequest,
    store: Store = Depends(use_store),
    _key: ApiKey = Depends(require("operator")),
) -> dict[str, Any]:
    return await run_in_threadpool(
        decide_price,
        store,
        body.product_id,
        customer_id=body.customer_id,
        context=body.context,
    )


@router.post("/decide/slot", summary="The items to show in a slot's positions (logged)")
async def post_decide_slot(
    body: SlotRequest,
    store: Store = Depends(use_store),
    _key: ApiKey = Depends(require("operator")),
) -> dict[str, Any]:
    return await run_in_threadpool(
        decide_slot,
        store,
        body.slot,
        customer_id=body.customer_id,
        context=body.context,
        positions=body.positions,
    )


@router.post("/outcomes", status_code=202, summary="What happened after decisions")
async def post_outcomes(
    body: OutcomesIn,
    store: Store = Depends(use_store),
    _key: ApiKey = Depends(require("operator")),
) -> dict[str, Any]:
    return await run_in_threadpool(record_outcomes, store, body.outcomes)


@router.get("/policies", summary="Every policy, newest first")
def get_policies(
    purpose: str | None = Query(None, description="price or slot"),
    status: str | None = Query(None, description="running or stopped"),
    store: Store = Depends(use_store),
    _key: ApiKey = Depends(require("reader")),
) -> dict[str, Any]:
    records = list_policies(store, purpose=purpose, status=status)
    return {"policies": [r.summary() for r in records]}


@router.post("/policies/price", status_code=201, summary="Start a price policy")
def post_price_policy(
    body: PricePolicyIn,
    store: Store = Depends(use_store),
    _key: ApiKey = Depends(require("operator")),
) -> dict[str, Any]:
    rails = PriceGuardrails.from_dict(body.guardrails or {})
    record = start_price_policy(
        store,
        body.product_id,
        kind=body.kind,
        points=body.points,
        guardrails=rails,
        reward=body.reward,
        policy_id=body.policy_id,
        params=body.params,
    )
    return record.summary()


@router.post("/policies/slot", status_code=201, summary="Start a slot policy")
def post_slot_policy(
    body: SlotPolicyIn,
    store: Store = Depends(use_store),
    _key: ApiKey = Depends(require("operator")),
) -> dict[str, Any]:
    record = start_slot_policy(
        store,
        body.slot,
        body.items,
        kind=body.kind,
        positions=body.positions,
        reward=body.reward,
        features=body.features,
        policy_id=body.policy_id,
        params=body.params,
    )
    return record.summary()


@router.get("/policies/{policy_id}", summary="One policy, with what it has learned")
def get_one_policy(
    policy_id: str,
    store: Store = Depends(use_store),
    _key: ApiKey = Depends(require("reader")),
) -> dict[str, Any]:
    return policy_report(store, get_policy(store, policy_id), learned=True)


@router.post("/policies/{policy_id}/stop", summary="Stop serving a policy (its log stays)")
def post_stop_policy(
    policy_id: str,
    store: Store = Depends(use_store),
    _key: ApiKey = Depends(require("operator")),
) -> dict[str, Any]:
    return stop_policy(store, policy_id).summary()


@router.get("/policies/{policy_id}/log", summary="The settled decisions, as OPE reads them")
def get_policy_log(
    policy_id: str,
    limit: int = Query(1_000, ge=1, le=MAX_LIMIT),
    offset: int = Query(0, ge=0, le=MAX_OFFSET),
    store: Store = Depends(use_store),
    _key: ApiKey = Depends(require("reader")),
) -> dict[str, Any]:
    frame = ope_log(store, policy_id)
    part = frame.iloc[offset : offset + limit].copy()
    part["decided_at"] = part["decided_at"].map(lambda t: t.isoformat())
    return {"total": len(frame), "rows": part.to_dict(orient="records")}
