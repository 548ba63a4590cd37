"""Recommendations: a customer's list, similar items, bought-together, a visitor's session.

Every route needs a reader key and answers from the recommend model in service:
the artifact of the latest successful ``recommend`` job (train one with
``shopkeeper train recommend`` or ``POST /api/v1/jobs`` with kind ``recommend``).
Without one the routes answer 409.

A customer's list reads their personalisation consent from the store at every
request, not from the model: a customer who declines gets the shop's list
(``personal: false``) from their next request, without a retrain.

The model is loaded once per process and kept while the kind's ``current.json``
names it; when a newer job is promoted, the next request loads that one and the
old one is let go. Loading is serialised by a lock, and the model's lazily built
matrices are filled before it serves, so concurrent requests only read it.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import numpy as np
import pandas as pd
from fastapi import APIRouter, Depends, Query
from fastapi import Path as PathParam
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field, StringConstraints

from shopkeeper.access import ApiKey
from shopkeeper.errors import ConfigError
from shopkeeper.service.api._artifacts import ArtifactCache
from shopkeeper.service.deps import get_workspace, require, store_of_artifact, use_store
from shopkeeper.service.errors import ApiError
from shopkeeper.store import Store
from shopkeeper.workspace import Workspace

if TYPE_CHECKING:  # the recommend package (scikit-learn, implicit) loads on first use
    from shopkeeper.recommend import Recommendations

log = logging.getLogger("shopkeeper.service")

router = APIRouter(prefix="/recommend", tags=["recommend"])

KIND = "recommend"
MAX_N = 100
MAX_RECENT = 50

NO_MODEL = (
    "no recommend model has been trained yet: run 'shopkeeper train recommend' "
    'or POST /api/v1/jobs with {"kind": "recommend"}, then try again'
)


def _artifact_name() -> str:
    from shopkeeper.recommend._train import ARTIFACT

    return ARTIFACT


# -- the model in service -------------------------------------------------------------


@dataclass
class ServedModel:
    """A loaded recommender, the job that trained it, and what serving it needs."""

    job_id: str
    path: Path
    recs: Recommendations
    _users: pd.Index = field(init=False, repr=False)
    _occasions: np.ndarray = field(init=False, repr=False)
    _sample: str | None = field(init=False, repr=False)

    def __post_init__(self) -> None:
        self._users = pd.Index(np.asarray(self.recs.data.users, dtype=object))
        self._occasions = np.asarray(self.recs.data.n_occasions())
        self._sample = self._pick_sample()

    def personal(self, customer_id: str) -> bool:
        """Whether the customer's list is their own, from what the model learned
        (consent as read at training; :meth:`answer` reads it from the store)."""
        return self.recs.is_personal(customer_id)

    def declined(self, store: Store | None, customer_id: str) -> bool:
        """Whether the customer declines personalisation: as the store holds it now
        (as read at training when there is no store)."""
        if store is None:
            return self.recs.declined(customer_id)
        from shopkeeper.recommend._source import personalisation_consent

        return personalisation_consent(store, customer_id) is False

    def answer(
        self,
        store: Store | None,
        customer_id: str,
        n: int,
        category: str | None = None,
        max_per_category: int | None = None,
    ) -> tuple[bool, list[dict[str, Any]]]:
        """Whether the list is personal, and the list: the customer's consent read
        from ``store`` now, and for a consenting one their orders and events since
        training folded in (no retraining, no cache: every answer is scored)."""
        personal, found = self.recs.answer(
            customer_id, n, store=store, category=category, max_per_category=max_per_category
        )
        return personal, [r.to_dict() for r in found]

    def sample_customer(self) -> str | None:
        """A customer to show first: the consenting one with the most history."""
        return self._sample

    def _pick_sample(self) -> str | None:
        occasions = self._occasions.astype(np.float64)
        if self.recs.no_consent:
            declined = np.asarray(self._users.isin(list(self.recs.no_consent)))
            occasions = np.where(declined, -1.0, occasions)
        if not len(occasions) or occasions.max() <= 0:
            return None
        return str(self._users[int(np.argmax(occasions))])

    def warm(self) -> None:
        """Answer once of each kind, so the model's lazily built matrices are filled
        before requests share it; raises when the model cannot answer at all."""
        sample = self.sample_customer()
        if sample is not None:
            self.recs.for_customer(sample, 10)
        self.recs.for_customer("", 10)
        items = self.recs.data.items
        if len(items):
            self.recs.similar_items(str(items[0]), 10)
            self.recs.bought_together(str(items[0]), 10)


def _load_model(job_id: str, path: Path) -> ServedModel:
    from shopkeeper.recommend import Recommendations

    try:
        recs = Recommendations.load(path, store_of_artifact(path))
        served = ServedModel(job_id=job_id, path=path, recs=recs)
        served.warm()
    except Exception as exc:
        # An unreadable file, or one pickled by another version of the code
        # that cannot answer with this one: only a new training run helps.
        log.error("the recommend model %s cannot be served: %r", path, exc)
        raise _unusable(job_id) from exc
    log.info("recommend model %s loaded", job_id)
    return served


def _unusable(job_id: str) -> ApiError:
    return ApiError(
        503,
        f"the recommend model of job {job_id} cannot be loaded; "
        "train a new one with 'shopkeeper train recommend'",
    )


MODELS: ArtifactCache[ServedModel] = ArtifactCache(KIND, _artifact_name, _load_model)


def served_model(workspace: Workspace) -> ServedModel | None:
    """The workspace's recommend model in service, loaded (or None before the first)."""
    return MODELS.get(workspace)


def _model(workspace: Workspace) -> ServedModel:
    found = served_model(workspace)
    if found is None:
        raise ApiError(409, NO_MODEL)
    return found


def _items(found: list[Any]) -> list[dict[str, Any]]:
    return [r.to_dict() for r in found]


def _product_answer(product_id: str, found: list[Any], model: ServedModel) -> dict[str, Any]:
    return {"product_id": product_id, "items": _items(found), "model_job": model.job_id}


# -- routes (the fixed paths before /{customer_id}, which would take any segment) -----

N = Annotated[int, Query(ge=1, le=MAX_N, description=f"How many products, 1 to {MAX_N}.")]
ProductId = Annotated[str, PathParam(min_length=1, max_length=200)]


@router.get("/similar/{product_id}", summary="Products like this one")
def similar(
    product_id: ProductId,
    n: N = 10,
    workspace: Workspace = Depends(get_workspace),
    _key: ApiKey = Depends(require("reader")),
) -> dict[str, Any]:
    """Bought by the same customers, or close in title, category or brand when new."""
    model = _model(workspace)  # an unknown product raises NotFoundError: a 404
    return _product_answer(product_id, model.recs.similar_items(product_id, n), model)


@router.get("/bought-together/{product_id}", summary="Products bought in the same orders")
def bought_together(
    product_id: ProductId,
    n: N = 10,
    workspace: Workspace = Depends(get_workspace),
    _key: ApiKey = Depends(require("reader")),
) -> dict[str, Any]:
    """Ranked by the share of this product's orders that hold the other one."""
    model = _model(workspace)  # an unknown product raises NotFoundError: a 404
    return _product_answer(product_id, model.recs.bought_together(product_id, n), model)


RecentId = Annotated[str, StringConstraints(min_length=1, max_length=200)]


class SessionIn(BaseModel):
    recent: list[RecentId] = Field(
        min_length=1,
        max_length=MAX_RECENT,
        description=f"Product ids the visitor viewed, most recent last (1 to {MAX_RECENT}).",
        examples=[["SKU-10001", "SKU-10042"]],
    )
    n: int = Field(10, ge=1, le=MAX_N, description=f"How many products, 1 to {MAX_N}.")


@router.post("/session", summary="What an anonymous visitor may view next")
def session(
    body: SessionIn,
    workspace: Workspace = Depends(get_workspace),
    _key: ApiKey = Depends(require("reader")),
) -> dict[str, Any]:
    """From the products viewed so far (unknown ids are ignored); popular ones fill up."""
    model = _model(workspace)
    try:
        found = model.recs.for_session(body.recent, body.n)
    except ConfigError as exc:  # a model trained on a shop without browse sessions
        raise ApiError(409, f"{exc}; send browse events and train again") from None
    return {"recent": body.recent, "items": _items(found), "model_job": model.job_id}


@router.get("/{customer_id}", summary="A customer's recommendations", response_class=JSONResponse)
async def for_customer(
    customer_id: Annotated[str, PathParam(min_length=1, max_length=200)],
    n: N = 10,
    category: Annotated[
        str | None,
        Query(max_length=200, description="Only this category (prefix, e.g. 'Grocery')."),
    ] = None,
    max_per_category: Annotated[
        int | None,
        Query(ge=1, le=MAX_N, description="At most this many products of one category."),
    ] = None,
    workspace: Workspace = Depends(get_workspace),
    store: Store = Depends(use_store),
    _key: ApiKey = Depends(require("reader")),
) -> JSONResponse:
    """Personal when the customer has history and has not declined personalisation
    as the store holds it now (``personal`` says which); otherwise what is popular
    in the shop now, the same list an anonymous visitor gets."""
    # Scoring one customer takes about 2 ms of CPU (the consent and recent-activity
    # lookups are indexed reads well under that): on the event loop it costs
    # less than the round trip through the thread pool, and under load a thread
    # would only queue for the same interpreter lock. Loading a model (a second
    # or more) goes to the thread pool, so that it never stalls the loop.
    model = MODELS.ready(workspace)
    if model is None:
        model = await run_in_threadpool(_model, workspace)
    personal, items = model.answer(store, customer_id, n, category or None, max_per_category)
    return JSONResponse(
        {
            "customer_id": customer_id,
            "personal": personal,
            "items": items,
            "model_job": model.job_id,
        }
    )
