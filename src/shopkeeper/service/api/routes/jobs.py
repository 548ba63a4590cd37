"""Background jobs: start a training run, follow its state and progress."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Query
from pydantic import BaseModel, Field

from shopkeeper.access import ApiKey
from shopkeeper.jobs import STATES, JobRunner, get_job, job_kind, job_kinds, list_jobs
from shopkeeper.service.deps import get_jobs, require, use_store
from shopkeeper.service.errors import ApiError
from shopkeeper.store import Store

router = APIRouter(prefix="/jobs", tags=["jobs"])


class JobIn(BaseModel):
    kind: str = Field(description="A job kind from GET /jobs/kinds.", examples=["figures"])
    params: dict[str, Any] = Field(default_factory=dict)


@router.get("/kinds", summary="The job kinds that can be started")
def kinds(_key: ApiKey = Depends(require("reader"))) -> list[dict[str, str]]:
    return [{"kind": k.name, "description": k.description} for k in job_kinds().values()]


@router.get("", summary="Recent jobs, newest first")
def jobs(
    kind: str | None = Query(None),
    state: str | None = Query(None, description=f"One of {', '.join(STATES)}."),
    limit: int = Query(50, ge=1, le=500),
    store: Store = Depends(use_store),
    _key: ApiKey = Depends(require("reader")),
) -> dict[str, Any]:
    if state is not None and state not in STATES:
        reason = f"must be one of {', '.join(STATES)}"
        raise ApiError(
            422, f"state {state!r} {reason}", details=[{"field": "state", "reason": reason}]
        )
    found = list_jobs(store, kind=kind, limit=limit)
    if state is not None:
        found = [j for j in found if j.state == state]
    return {"items": [j.to_dict() for j in found]}


@router.post("", status_code=202, summary="Start a job; it runs in the background")
def start_job(
    body: JobIn,
    runner: JobRunner = Depends(get_jobs),
    _key: ApiKey = Depends(require("operator")),
) -> dict[str, Any]:
    try:
        job_kind(body.kind)
    except Exception as exc:
        raise ApiError(
            422, str(exc), details=[{"field": "kind", "reason": str(exc), "value": body.kind}]
        ) from exc
    return runner.submit(body.kind, body.params).to_dict()


@router.get("/{job_id}", summary="One job: state, progress, metrics or error")
def job(
    job_id: str,
    store: Store = Depends(use_store),
    _key: ApiKey = Depends(require("reader")),
) -> dict[str, Any]:
    found = get_job(store, job_id)
    if found is None:
        raise ApiError(404, f"no job {job_id!r}")
    return found.to_dict()
