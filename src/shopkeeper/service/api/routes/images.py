"""Product images: the category check of every photo and the visually similar products.

Every route needs a reader key and answers from the image model in service:
the artifact of the latest successful ``images`` job (``shopkeeper images
train``, ``shopkeeper train images`` or ``POST /api/v1/jobs`` with kind
``images``). Without one the routes answer 409; with one that cannot be
loaded, 503. The model is loaded once per process and kept while the kind's
``current.json`` names it.

Reading the model needs no PyTorch; ``POST /images/classify`` (a new photo
sent by the client) runs the network and answers 503 on a server installed
without the ``vision`` extra.
"""

from __future__ import annotations

import io
import logging
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import pandas as pd
from fastapi import APIRouter, Depends, File, Query, UploadFile
from fastapi import Path as PathParam
from fastapi.responses import FileResponse

from shopkeeper.access import ApiKey
from shopkeeper.errors import NotFoundError, ShopkeeperError
from shopkeeper.service.api._artifacts import ArtifactCache
from shopkeeper.service.api.routes.customer_analytics import plain
from shopkeeper.service.deps import get_workspace, require
from shopkeeper.service.errors import ApiError
from shopkeeper.workspace import Workspace

if TYPE_CHECKING:
    from shopkeeper.images import ImageModel

log = logging.getLogger("shopkeeper.service")

router = APIRouter(prefix="/images", tags=["images"])

KIND = "images"
MAX_LIST = 1_000
MAX_SIMILAR = 100
#: Largest photo ``POST /images/classify`` takes; the service's body limit applies too.
MAX_UPLOAD_BYTES = 10 * 1024 * 1024
NO_MODEL = (
    "no image model yet: run 'shopkeeper images train' or POST /api/v1/jobs with kind 'images'"
)
#: The columns of a product's category check, in the order answers list them.
CHECK_FIELDS = (
    "product_id",
    "title",
    "stated",
    "predicted",
    "confidence",
    "p_stated",
    "status",
    "held_out",
)


@dataclass
class ServedImages:
    """A loaded image model and the job that trained it."""

    job_id: str
    path: Path
    model: ImageModel

    def facts(self) -> dict[str, Any]:
        return {"job": self.job_id}

    def photo(self, product_id: str) -> Path:
        """The product's first photo on disk (the primary one when it has one)."""
        catalog = self.model.catalog
        found = catalog.loc[catalog["product_id"].astype(str) == product_id, "path"]
        if found.empty:
            raise ApiError(404, f"product {product_id!r} has no photo in job {self.job_id}")
        return Path(str(found.iloc[0]))


def _load(job_id: str, path: Path) -> ServedImages:
    from shopkeeper.images import ImageModel

    try:
        served = ServedImages(job_id=job_id, path=path, model=ImageModel.load(path))
    except Exception as exc:
        # An unreadable file or one written by another version: only a new run helps.
        log.error("the image model %s cannot be served: %r", path, exc)
        raise ApiError(
            503,
            f"the image model of job {job_id} cannot be loaded; "
            "train it again with 'shopkeeper images train'",
        ) from exc
    log.info("image model %s loaded", job_id)
    return served


def _artifact_name() -> str:
    from shopkeeper.images import ARTIFACT

    return ARTIFACT


MODELS: ArtifactCache[ServedImages] = ArtifactCache(KIND, _artifact_name, _load)


def served_images(workspace: Workspace) -> ServedImages | None:
    """The workspace's image model in service (None before the first job)."""
    return MODELS.get(workspace)


def _served(workspace: Workspace) -> ServedImages:
    found = served_images(workspace)
    if found is None:
        raise ApiError(409, NO_MODEL)
    return found


# -- views shared with the dashboard --------------------------------------------------------


def rows(frame: pd.DataFrame, columns: tuple[str, ...] | None = None) -> list[dict[str, Any]]:
    """A frame's rows as JSON-ready dicts (``columns`` only, in that order, when given)."""
    picked = frame if columns is None else frame[[c for c in columns if c in frame.columns]]
    return [plain(row) for row in picked.to_dict(orient="records")]


def summary_view(served: ServedImages) -> dict[str, Any]:
    """The model's figures and its held-out report (confusion matrix, per category)."""
    return {
        **served.facts(),
        "metrics": plain(served.model.metrics()),
        "report": plain(served.model.report.to_dict()),
        "notes": list(served.model.notes),
    }


def mismatches_view(served: ServedImages, limit: int) -> dict[str, Any]:
    found = served.model.mismatches()
    return {**served.facts(), "total": len(found), "items": rows(found.head(limit), CHECK_FIELDS)}


def similar_view(served: ServedImages, product_id: str, n: int) -> dict[str, Any]:
    try:
        found = served.model.similar(product_id, n)
        check = served.model.prediction(product_id)
    except NotFoundError as exc:
        raise ApiError(
            404,
            str(exc),
            details=[{"field": "product_id", "reason": "no photo", "value": product_id}],
        ) from exc
    return {
        **served.facts(),
        "product": {k: plain(check.get(k)) for k in CHECK_FIELDS},
        "items": rows(found),
    }


# -- routes --------------------------------------------------------------------------------


@router.get("/summary")
def summary(
    workspace: Workspace = Depends(get_workspace), _key: ApiKey = Depends(require("reader"))
) -> dict[str, Any]:
    """How well the network reads the shop's categories on photos it never saw: accuracy
    against always naming the largest category, calibration, the confusion matrix and
    recall and precision per category; how many mismatches and suggestions there are."""
    return summary_view(_served(workspace))


@router.get("/mismatches")
def mismatches(
    limit: Annotated[int, Query(ge=1, le=MAX_LIST, description="Rows to return.")] = 50,
    workspace: Workspace = Depends(get_workspace),
    _key: ApiKey = Depends(require("reader")),
) -> dict[str, Any]:
    """Products whose picture says, with high confidence, that they are not in their stated
    category, best first (the least probable stated category first): ``stated``,
    ``predicted``, ``confidence`` of the prediction, ``p_stated`` the probability of the
    stated category, both calibrated and held out."""
    return mismatches_view(_served(workspace), limit)


@router.get("/suggestions")
def suggestions(
    limit: Annotated[int, Query(ge=1, le=MAX_LIST, description="Rows to return.")] = 50,
    include_mismatches: Annotated[
        bool, Query(description="Also list the mismatches' predicted categories.")
    ] = False,
    workspace: Workspace = Depends(get_workspace),
    _key: ApiKey = Depends(require("reader")),
) -> dict[str, Any]:
    """Suggested categories for products without one the network could learn (no category,
    or one with too few photos), most confident first."""
    served = _served(workspace)
    found = served.model.suggestions(include_mismatches=include_mismatches)
    return {**served.facts(), "total": len(found), "items": rows(found.head(limit), CHECK_FIELDS)}


@router.get("/products/{product_id}")
def product(
    product_id: Annotated[str, PathParam(max_length=200)],
    n: Annotated[int, Query(ge=1, le=MAX_SIMILAR, description="Similar products.")] = 10,
    workspace: Workspace = Depends(get_workspace),
    _key: ApiKey = Depends(require("reader")),
) -> dict[str, Any]:
    """One product's category check and the ``n`` products that look most like it (cosine
    similarity of the network's embeddings, at most 1), best first. 404 for a product
    without a photo in the model."""
    return similar_view(_served(workspace), product_id, n)


@router.get(
    "/products/{product_id}/photo",
    response_class=FileResponse,
    responses={200: {"content": {"image/*": {}}, "description": "The photo file."}},
)
def photo(
    product_id: Annotated[str, PathParam(max_length=200)],
    workspace: Workspace = Depends(get_workspace),
    _key: ApiKey = Depends(require("reader")),
) -> FileResponse:
    """The product's photo the model read (its primary one when it has one), as stored.
    Only photos named by the model's catalog are served, never another path."""
    return photo_response(_served(workspace), product_id)


def photo_response(served: ServedImages, product_id: str) -> FileResponse:
    """The file of ``product_id``'s photo; 404 when the model has none or it left the disk."""
    path = served.photo(product_id)
    if not path.is_file():
        raise ApiError(404, f"the photo of product {product_id!r} is no longer at {path.name}")
    # Photos change rarely; the browser may keep one for an hour.
    return FileResponse(path, headers={"Cache-Control": "private, max-age=3600"})


@router.post("/classify")
async def classify(
    photo: Annotated[UploadFile, File(description="A product photo (PNG, JPEG, ...).")],
    n: Annotated[int, Query(ge=1, le=MAX_SIMILAR, description="Similar products.")] = 10,
    workspace: Workspace = Depends(get_workspace),
    _key: ApiKey = Depends(require("reader")),
) -> dict[str, Any]:
    """The category the network suggests for a new photo (calibrated confidence and the
    next two guesses) and the catalog products that look most like it. Needs PyTorch on
    the server (the ``vision`` extra): 503 without it; 422 for a file that is not a
    readable image."""
    from shopkeeper.images import torch_available

    served = _served(workspace)
    if not torch_available():
        raise ApiError(
            503, "this server has no PyTorch; install it with pip install 'shopkeeper[vision]'"
        )
    body = await photo.read(MAX_UPLOAD_BYTES + 1)
    if len(body) > MAX_UPLOAD_BYTES:
        raise ApiError(413, f"a photo may hold at most {MAX_UPLOAD_BYTES:,} bytes")
    name = photo.filename or "upload"
    try:
        guess = served.model.classify([io.BytesIO(body)]).iloc[0]
        similar = served.model.similar_to_image(io.BytesIO(body), n)
    except ShopkeeperError as exc:
        raise ApiError(
            422,
            f"{name}: not a readable image ({exc})",
            details=[{"field": "photo", "reason": "not a readable image", "value": name}],
        ) from exc
    return {
        **served.facts(),
        "photo": name,
        "predicted": guess["predicted"],
        "confidence": plain(guess["confidence"]),
        "alternatives": [
            {"category": c, "probability": plain(p)} for c, p in guess["alternatives"]
        ],
        "similar": rows(similar),
    }
