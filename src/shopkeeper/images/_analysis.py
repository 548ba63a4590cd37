"""The shop's photos in one pass, and the ``images`` job that saves the result.

:func:`analyse` reads every product photo, learns the shop's categories from
the labelled ones and checks each product's stated category against its
picture:

1. Products are split into ``folds`` groups, stratified by category (all the
   photos of a product in one group). A network is trained on all groups but
   one and predicts the one left out, so every labelled photo gets a
   prediction from a network that never saw it: the accuracy and the confusion
   matrix are held-out figures, and a wrongly labelled photo cannot have been
   learnt by heart, which is what lets the mismatch list find it.
2. One temperature, fitted on those held-out scores, calibrates the
   probabilities (the expected calibration error reported is cross-fitted:
   each group's temperature comes from the other groups).
3. A final network trained on every labelled photo suggests categories for the
   unlabelled products and gives every photo its embedding; a product's
   embedding is the normalised mean of its photos'.
4. Each product keeps its ``neighbours`` most similar products: exact search up
   to ``exact_limit`` products, an HNSW index above.

Categories with fewer than ``min_images`` photos cannot be learnt; their
products are listed under ``unknown category`` and get a suggestion too.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import scipy.sparse as sp

from shopkeeper.errors import ConfigError, NotFoundError
from shopkeeper.images._calibrate import (
    confusion_matrix,
    expected_calibration_error,
    fit_temperature,
    softmax,
)
from shopkeeper.images._classifier import (
    ImageClassifier,
    NetworkSettings,
    normalise,
    train_classifier,
)
from shopkeeper.images._neighbours import (
    EXACT_LIMIT,
    Neighbours,
    exact_neighbours,
    nearest_neighbours,
)
from shopkeeper.images._pixels import ImageSource, read_image, read_images, source_name
from shopkeeper.images._source import load_product_images
from shopkeeper.images._torch import require_torch
from shopkeeper.jobs import (
    JobContext,
    JobOutcome,
    current_artifact,
    load_artifact,
    register,
    save_artifact,
    settings_from_params,
)
from shopkeeper.workspace import Workspace

log = logging.getLogger(__name__)

FORMAT = 1
ARTIFACT = "images.pkl"
Progress = Callable[[float, str], None]

#: What a product's prediction says about its stated category (``predictions.status``).
AGREES = "agrees"
DISAGREES = "disagrees"  # another category is more probable, the stated one not ruled out
MISMATCH = "mismatch"  # another category, and the stated one at most 1 - mismatch_confidence
UNLABELLED = "unlabelled"
UNKNOWN = "unknown category"  # a category with too few photos to learn
STATUSES = (AGREES, DISAGREES, MISMATCH, UNLABELLED, UNKNOWN)


@dataclass(frozen=True)
class ImageSettings:
    """The knobs of the ``images`` job, with the defaults a shop starts from.

    Photos: ``size`` and ``channels`` of the arrays (28 and 1: grayscale
    28x28, as Fashion-MNIST), ``dark_background`` (see ``_pixels.py``),
    ``images_per_product`` (photos read per product, the primary first; 0:
    all). Network and training: ``width``, ``embedding``, ``dropout``,
    ``epochs``, ``batch_size``, ``learning_rate``, ``weight_decay``,
    ``augment``, ``min_steps``, ``threads`` (0: every core) and ``seed`` (see
    :class:`~shopkeeper.images.NetworkSettings`). Categories: ``category_depth``
    (levels of the ``>`` path kept; 0: the whole path), ``min_images`` (photos
    a category needs to be learnt), ``folds`` (held-out groups, at least 2),
    ``mismatch_confidence`` (how sure the picture must be that a product is
    not in its stated category, a calibrated probability, for a mismatch).
    Similarity: ``neighbours`` kept per
    product, ``exact_limit`` (products searched exactly; above, HNSW).
    """

    size: int = 28
    channels: int = 1
    dark_background: bool = True
    images_per_product: int = 4
    width: int = 32
    embedding: int = 128
    dropout: float = 0.3
    epochs: int = 12
    batch_size: int = 128
    learning_rate: float = 0.004
    weight_decay: float = 5e-4
    augment: bool = True
    min_steps: int = 300
    threads: int = 0
    seed: int = 0
    category_depth: int = 0
    min_images: int = 10
    folds: int = 3
    mismatch_confidence: float = 0.9
    neighbours: int = 20
    exact_limit: int = EXACT_LIMIT

    def __post_init__(self) -> None:
        self.network()  # checks the network's own settings
        for name, low, high in (
            ("images_per_product", 0, 1000),
            ("category_depth", 0, 20),
            ("min_images", 2, 1_000_000),
            ("folds", 2, 20),
            ("neighbours", 1, 1000),
            ("exact_limit", 0, 10_000_000),
        ):
            value = getattr(self, name)
            if not low <= value <= high:
                raise ConfigError(f"images parameter {name}={value} must lie in {low}..{high}")
        if not 0.0 < self.mismatch_confidence <= 1.0:
            raise ConfigError(
                f"images parameter mismatch_confidence={self.mismatch_confidence} "
                "must lie in (0, 1]"
            )

    @classmethod
    def from_params(cls, params: dict[str, Any]) -> ImageSettings:
        """Settings from job parameters: unknown names and wrong types are refused."""
        return settings_from_params(cls, params, "images")

    def network(self, *, seed_offset: int = 0) -> NetworkSettings:
        """The network's part of the settings."""
        return NetworkSettings(
            size=self.size,
            channels=self.channels,
            width=self.width,
            embedding=self.embedding,
            dropout=self.dropout,
            epochs=self.epochs,
            batch_size=self.batch_size,
            learning_rate=self.learning_rate,
            weight_decay=self.weight_decay,
            augment=self.augment,
            min_steps=self.min_steps,
            threads=self.threads,
            seed=self.seed + seed_offset,
        )


@dataclass
class ImageReport:
    """How well the network reads the shop's categories, on held-out photos.

    ``confusion[i, j]``: photos stated as ``classes[i]`` predicted as
    ``classes[j]`` by a network that did not see them. ``accuracy`` is its
    trace over its sum; ``baseline_accuracy`` what always naming the largest
    category would score. ``ece_raw`` and ``ece`` are the expected calibration
    errors before and after the temperature (cross-fitted).
    """

    classes: tuple[str, ...]
    confusion: np.ndarray
    accuracy: float
    baseline_accuracy: float
    ece_raw: float
    ece: float
    temperature: float
    folds: int
    labelled_images: int
    unlabelled_images: int
    products: int
    unreadable_images: int
    train_seconds: float

    def per_class(self) -> pd.DataFrame:
        """Per category: held-out photos, recall (found / stated) and precision (right /
        predicted)."""
        stated = self.confusion.sum(axis=1)
        predicted = self.confusion.sum(axis=0)
        right = np.diag(self.confusion)
        with np.errstate(invalid="ignore", divide="ignore"):
            return pd.DataFrame(
                {
                    "category": list(self.classes),
                    "images": stated,
                    "recall": np.where(stated > 0, right / stated, np.nan),
                    "precision": np.where(predicted > 0, right / predicted, np.nan),
                }
            )

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready copy (the confusion matrix as nested lists, per-class rows included)."""
        out = asdict(self)
        out["classes"] = list(self.classes)
        out["confusion"] = self.confusion.tolist()
        per = self.per_class().astype(object).where(self.per_class().notna(), None)
        out["per_class"] = per.to_dict(orient="records")
        return out


@dataclass
class ImageModel:
    """A shop's image model (the ``images`` artifact).

    ``classifier``: the network trained on every labelled photo; ``catalog``:
    one row per product with a readable photo (``product_id``, ``title``,
    ``category`` as stated, cut to ``category_depth``; ``images`` read;
    ``path`` of the first); ``embeddings``: one unit row per catalog row;
    ``neighbours``: each catalog row's most similar rows; ``predictions``: one
    row per catalog product (``product_id``, ``title``, ``stated``,
    ``predicted``, ``confidence``, ``p_stated``, ``status``, ``held_out``: the
    probability came from a network that never saw the product).
    """

    settings: ImageSettings
    classifier: ImageClassifier
    report: ImageReport
    catalog: pd.DataFrame
    embeddings: np.ndarray
    neighbours: Neighbours
    predictions: pd.DataFrame
    notes: list[str] = field(default_factory=list)
    format: int = FORMAT

    def save(self, path: Path) -> None:
        save_artifact(self, path)

    @classmethod
    def load(cls, path: Path) -> ImageModel:
        return load_artifact(cls, path, "images", FORMAT)

    # -- serving: no PyTorch needed ---------------------------------------

    def _row(self, product_id: str) -> int:
        rows = self._rows()
        if product_id not in rows:
            raise NotFoundError(f"product {product_id!r} has no photo in the image model")
        return rows[product_id]

    def _rows(self) -> dict[str, int]:
        cached: dict[str, int] | None = self.__dict__.get("_row_cache")
        if cached is None:
            cached = {str(p): i for i, p in enumerate(self.catalog["product_id"])}
            self.__dict__["_row_cache"] = cached
        return cached

    def __getstate__(self) -> dict[str, Any]:
        state = self.__dict__.copy()
        state.pop("_row_cache", None)
        return state

    def _listing(self, rows: np.ndarray, sims: np.ndarray) -> pd.DataFrame:
        keep = rows >= 0
        found = self.catalog.iloc[rows[keep]][["product_id", "title", "category"]]
        return found.assign(similarity=sims[keep].astype(float)).reset_index(drop=True)

    def similar(self, product_id: str, n: int = 10) -> pd.DataFrame:
        """The ``n`` products that look most like ``product_id`` (itself excluded), best
        first: ``product_id``, ``title``, ``category``, ``similarity`` (cosine of the
        embeddings, at most 1). Raises :class:`NotFoundError` for a product without photo."""
        row = self._row(product_id)
        if n <= self.neighbours.index.shape[1]:
            return self._listing(
                self.neighbours.index[row, :n], self.neighbours.similarity[row, :n]
            )
        found = exact_neighbours(
            self.embeddings, n, queries=self.embeddings[row : row + 1], exclude=np.array([row])
        )
        return self._listing(found.index[0], found.similarity[0])

    def prediction(self, product_id: str) -> dict[str, Any]:
        """The category check of one product (a row of ``predictions``) as a dict."""
        record = self.predictions.iloc[self._row(product_id)].to_dict()
        # Plain Python values (JSON-ready): numpy scalars become int, float, bool; NaN None.
        out: dict[str, Any] = {}
        for key, value in record.items():
            if isinstance(value, np.generic):
                value = value.item()
            out[str(key)] = None if isinstance(value, float) and np.isnan(value) else value
        return out

    def mismatches(self, n: int | None = None) -> pd.DataFrame:
        """Products whose picture says, with high confidence, that they are not in their
        stated category; best first: the least probable stated category, then the most
        confident prediction."""
        found = self.predictions[self.predictions["status"] == MISMATCH]
        found = found.sort_values(
            ["p_stated", "confidence", "product_id"],
            ascending=[True, False, True],
            kind="stable",
        )
        return (found if n is None else found.head(n)).reset_index(drop=True)

    def suggestions(
        self, n: int | None = None, *, include_mismatches: bool = False
    ) -> pd.DataFrame:
        """Suggested categories for products without a learnable one (unlabelled, or a
        category with too few photos), most confident first; with ``include_mismatches``
        the mismatches' predicted categories too."""
        wanted = {UNLABELLED, UNKNOWN} | ({MISMATCH} if include_mismatches else set())
        found = self.predictions[self.predictions["status"].isin(wanted)]
        found = found.sort_values(
            ["confidence", "product_id"], ascending=[False, True], kind="stable"
        )
        return (found if n is None else found.head(n)).reset_index(drop=True)

    def similarity_matrix(
        self,
        items: Sequence[str] | np.ndarray | None = None,
        *,
        k: int | None = None,
        min_similarity: float = 0.0,
    ) -> sp.csr_matrix:
        """Item-item visual similarity over ``items`` (product ids, in the order of the
        matrix's rows and columns; default the model's catalog): each row holds its
        ``k`` (default ``settings.neighbours``) most similar items among ``items``
        with a similarity above ``min_similarity``, no diagonal. Items without a
        photo have empty rows and columns. Exact search up to ``exact_limit`` items
        with photos, HNSW above."""
        k = self.settings.neighbours if k is None else k
        ids = self.catalog["product_id"].astype(str).to_numpy() if items is None else items
        ids = np.asarray(ids).astype(str)
        rows = self._rows()
        have = np.array([i for i, p in enumerate(ids) if p in rows], dtype=np.int64)
        vectors = self.embeddings[[rows[ids[i]] for i in have]] if len(have) else None
        if vectors is None or len(have) < 2:
            return sp.csr_matrix((len(ids), len(ids)), dtype=np.float32)
        found = nearest_neighbours(
            vectors, k, exact_limit=self.settings.exact_limit, threads=self.settings.threads
        )
        local = found.matrix(len(have), min_similarity=min_similarity).tocoo()
        return sp.csr_matrix(
            (local.data, (have[local.row], have[local.col])),
            shape=(len(ids), len(ids)),
            dtype=np.float32,
        )

    # -- new photos: needs PyTorch ----------------------------------------

    def _pixels(self, paths: Sequence[ImageSource]) -> np.ndarray:
        s = self.settings
        return read_images(
            paths, size=s.size, channels=s.channels, dark_background=s.dark_background
        ).pixels

    def classify(self, paths: Sequence[ImageSource], *, top: int = 3) -> pd.DataFrame:
        """Suggested categories for photo files (paths or open binary files): ``path``,
        ``predicted``, ``confidence`` (calibrated) and ``alternatives`` (the next
        ``top - 1`` as (category, probability) pairs). Needs PyTorch; an unreadable
        file raises :class:`~shopkeeper.errors.SourceError` naming it."""
        proba = self.classifier.predict_proba(self._pixels(paths))
        order = np.argsort(-proba, axis=1, kind="stable")
        classes = self.classifier.classes
        return pd.DataFrame(
            {
                "path": [source_name(p) for p in paths],
                "predicted": [classes[o[0]] for o in order],
                "confidence": proba[np.arange(len(proba)), order[:, 0]].astype(float),
                "alternatives": [
                    [(classes[j], float(p[j])) for j in o[1:top]]
                    for o, p in zip(order, proba, strict=True)
                ],
            }
        )

    def similar_to_image(self, path: ImageSource, n: int = 10) -> pd.DataFrame:
        """The catalog products that look most like the photo at ``path`` (or an open
        binary file), by exact search; the columns of :meth:`similar`. Needs PyTorch."""
        s = self.settings
        pixels = read_image(
            path, size=s.size, channels=s.channels, dark_background=s.dark_background
        )
        query = self.classifier.embed(pixels[None])
        found = exact_neighbours(self.embeddings, n, queries=query)
        return self._listing(found.index[0], found.similarity[0])

    def metrics(self) -> dict[str, Any]:
        counts = self.predictions["status"].value_counts()
        return {
            "products": len(self.catalog),
            "categories": len(self.report.classes),
            "accuracy": round(self.report.accuracy, 4),
            "baseline_accuracy": round(self.report.baseline_accuracy, 4),
            "ece": round(self.report.ece, 4),
            "temperature": round(self.report.temperature, 4),
            "labelled_images": self.report.labelled_images,
            "unlabelled_images": self.report.unlabelled_images,
            "unreadable_images": self.report.unreadable_images,
            "mismatches": int(counts.get(MISMATCH, 0)),
            "suggestions": int(counts.get(UNLABELLED, 0) + counts.get(UNKNOWN, 0)),
            "neighbour_search": self.neighbours.method,
            "train_seconds": round(self.report.train_seconds, 1),
        }


def _category(value: object, depth: int) -> str | None:
    """The stated category cut to ``depth`` levels, tidied ("A>B " -> "A > B"); None if
    empty."""
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return None
    levels = [p.strip() for p in str(value).split(">") if p.strip()]
    if not levels:
        return None
    return " > ".join(levels[:depth] if depth > 0 else levels)


def _photo_rows(images: pd.DataFrame, products: pd.DataFrame, cfg: ImageSettings) -> pd.DataFrame:
    """One row per photo to read, a product's primary photo first, joined to its product."""
    for column in ("product_id", "path"):
        if column not in images.columns:
            raise ConfigError(f"the photo table has no column {column}")
    primary = next((c for c in ("is_primary", "primary") if c in images.columns), None)
    photos = images.assign(
        product_id=images["product_id"].astype(str),
        path=images["path"].astype(str),
        _first=False if primary is None else images[primary].astype("boolean").fillna(False),
    )
    photos = photos.sort_values(
        ["product_id", "_first", "path"], ascending=[True, False, True], kind="stable"
    ).drop_duplicates(["product_id", "path"])
    if cfg.images_per_product > 0:
        photos = photos.groupby("product_id", sort=False).head(cfg.images_per_product)
    catalog = products.assign(product_id=products["product_id"].astype(str))
    catalog = catalog.drop_duplicates("product_id").set_index("product_id")
    photos = photos[photos["product_id"].isin(catalog.index)]
    titles = catalog["title"] if "title" in catalog.columns else pd.Series(dtype=object)
    stated = catalog["category"] if "category" in catalog.columns else pd.Series(dtype=object)
    return pd.DataFrame(
        {
            "product_id": photos["product_id"].to_numpy(),
            "path": photos["path"].to_numpy(),
            "title": titles.reindex(photos["product_id"]).to_numpy(),
            "category": [
                _category(v, cfg.category_depth)
                for v in stated.reindex(photos["product_id"]).to_numpy()
            ],
        }
    )


def _folds(products: np.ndarray, labels: np.ndarray, folds: int, seed: int) -> np.ndarray:
    """A fold per photo: products dealt round-robin into folds within each class, shuffled."""
    rng = np.random.default_rng(seed)
    first = pd.Series(labels).groupby(products, sort=True).first()
    fold_of: dict[str, int] = {}
    offset = 0
    for label in np.unique(first.to_numpy()):
        members = first.index[first.to_numpy() == label].to_numpy()
        rng.shuffle(members)
        for rank, product in enumerate(members):
            # The offset carries on across classes, so small classes do not all start in fold 0.
            fold_of[product] = (rank + offset) % folds
        offset += len(members)
    return np.array([fold_of[p] for p in products], dtype=np.int64)


def _by_product(values: np.ndarray, products: np.ndarray, order: np.ndarray) -> np.ndarray:
    """Mean of ``values`` rows per product, rows in the order of ``order`` (product ids)."""
    codes = pd.Index(order).get_indexer(products)
    sums = np.zeros((len(order), values.shape[1]), dtype=np.float64)
    np.add.at(sums, codes, values)
    counts = np.bincount(codes, minlength=len(order))[:, None]
    return (sums / np.maximum(counts, 1)).astype(np.float32)


def analyse(
    images: pd.DataFrame,
    products: pd.DataFrame,
    settings: ImageSettings | None = None,
    *,
    progress: Progress | None = None,
) -> ImageModel:
    """The shop's image model from its photo table and catalog; see the module doc.

    ``images``: ``product_id``, ``path`` and optionally ``is_primary``;
    ``products``: ``product_id``, ``title``, ``category``. Unreadable photos are
    left out (counted in the report, named in the notes). Raises
    :class:`ConfigError` when fewer than two categories have ``min_images``
    readable photos. Needs PyTorch.
    """
    cfg = settings or ImageSettings()
    report = progress or (lambda share, message: None)
    require_torch("the images job")
    started = time.perf_counter()
    notes: list[str] = []

    # Read every photo once; a broken file costs that photo, not the run.
    report(0.0, "reading photos")
    photos = _photo_rows(images, products, cfg)
    batch = read_images(
        photos["path"].tolist(),
        size=cfg.size,
        channels=cfg.channels,
        dark_background=cfg.dark_background,
        skip_unreadable=True,
        as_bytes=True,
    )
    if batch.problems:
        shown = "; ".join(str(p) for p in batch.problems[:5])
        more = len(batch.problems) - 5
        notes.append(
            f"{len(batch.problems)} photos could not be read and were left out: {shown}"
            + (f" (and {more} more)" if more > 0 else "")
        )
    photos = photos[batch.ok].reset_index(drop=True)
    pixels = batch.pixels

    # The categories a network can learn: enough photos each.
    counts = photos["category"].value_counts()
    classes = tuple(sorted(counts.index[counts >= cfg.min_images]))
    rare = sorted(counts.index[counts < cfg.min_images])
    if len(classes) < 2:
        raise ConfigError(
            f"the images job needs at least two categories with {cfg.min_images} readable "
            f"photos each; found {len(classes)} among {len(photos)} photos "
            f"(lower min_images, or label more products)"
        )
    if rare:
        notes.append(
            f"{len(rare)} categories have fewer than {cfg.min_images} photos and were not "
            f"learnt; their products get suggestions: {', '.join(map(str, rare[:10]))}"
            + (" ..." if len(rare) > 10 else "")
        )
    class_of = {c: i for i, c in enumerate(classes)}
    label = np.array([class_of.get(c, -1) if c else -1 for c in photos["category"]])
    labelled = label >= 0
    ids = photos["product_id"].to_numpy()

    # Held-out scores for every labelled photo, one network per fold.
    fold = np.full(len(photos), -1, dtype=np.int64)
    fold[labelled] = _folds(ids[labelled], label[labelled], cfg.folds, cfg.seed)
    oof = np.zeros((len(photos), len(classes)), dtype=np.float32)
    scored = np.zeros(len(photos), dtype=bool)  # got a held-out score
    runs = cfg.folds + 1
    train_seconds = 0.0
    for f in range(cfg.folds):
        fit_rows = labelled & (fold != f)
        held = fold == f
        if not held.any() or len(np.unique(label[fit_rows])) < 2:
            continue
        share = f / runs

        def step(part: float, message: str, share: float = share, f: int = f) -> None:
            report(0.05 + 0.85 * (share + part / runs), f"held-out fold {f + 1}: {message}")

        clf = train_classifier(
            pixels[fit_rows],
            label[fit_rows],
            classes,
            cfg.network(seed_offset=f + 1),
            progress=step,
        )
        train_seconds += clf.train_seconds
        oof[held] = clf.forward(pixels[held])[0]
        scored |= held

    # Calibration: one temperature for serving; the ECE reported is cross-fitted.
    if not scored.any():
        raise ConfigError(
            f"no held-out group of the {cfg.folds} could be predicted (each needs two "
            "categories left to train on); label more products or use fewer folds"
        )
    truth = label[scored]
    held_scores = oof[scored]
    temperature = fit_temperature(held_scores, truth)
    crossfit = np.zeros_like(held_scores)
    for f in range(cfg.folds):
        inside = fold[scored] == f
        if not inside.any():
            continue
        t = fit_temperature(held_scores[~inside], truth[~inside])
        crossfit[inside] = softmax(held_scores[inside], t)
    predicted = held_scores.argmax(axis=1)
    confusion = confusion_matrix(truth, predicted, len(classes))

    # The final network: every labelled photo; it serves suggestions and embeddings.
    def final_step(part: float, message: str) -> None:
        report(0.05 + 0.85 * (cfg.folds + part) / runs, f"final network: {message}")

    classifier = train_classifier(
        pixels[labelled], label[labelled], classes, cfg.network(), progress=final_step
    )
    classifier.temperature = temperature
    train_seconds += classifier.train_seconds
    report(0.92, "embedding photos")
    final_scores, photo_embeddings = classifier.forward(pixels)

    # Per product: held-out probabilities where there are any, the final network's otherwise.
    proba = softmax(final_scores, temperature)
    proba[scored] = softmax(oof[scored], temperature)
    order = pd.unique(ids)
    product_proba = _by_product(proba, ids, order)
    embeddings = normalise(_by_product(photo_embeddings, ids, order))
    first = photos.drop_duplicates("product_id").set_index("product_id").loc[order]
    catalog = pd.DataFrame(
        {
            "product_id": order,
            "title": first["title"].to_numpy(),
            "category": first["category"].to_numpy(),
            "images": pd.Series(ids).value_counts().reindex(order).to_numpy(),
            "path": first["path"].to_numpy(),
        }
    )
    held_products = set(ids[scored])
    predictions = _predictions(catalog, product_proba, classes, held_products, cfg)

    report(0.95, "finding similar products")
    neighbours = nearest_neighbours(
        embeddings, cfg.neighbours, exact_limit=cfg.exact_limit, threads=cfg.threads
    )
    result = ImageReport(
        classes=classes,
        confusion=confusion,
        accuracy=float(np.trace(confusion) / max(confusion.sum(), 1)),
        baseline_accuracy=float(np.bincount(truth).max() / max(len(truth), 1)),
        ece_raw=expected_calibration_error(softmax(held_scores), truth),
        ece=expected_calibration_error(crossfit, truth),
        temperature=temperature,
        folds=cfg.folds,
        labelled_images=int(labelled.sum()),
        unlabelled_images=int((~labelled).sum()),
        products=len(catalog),
        unreadable_images=len(batch.problems),
        train_seconds=train_seconds,
    )
    log.info(
        "image model: %d products, %d categories, held-out accuracy %.3f, %.1f s",
        len(catalog),
        len(classes),
        result.accuracy,
        time.perf_counter() - started,
    )
    report(1.0, "done")
    return ImageModel(
        settings=cfg,
        classifier=classifier,
        report=result,
        catalog=catalog,
        embeddings=embeddings,
        neighbours=neighbours,
        predictions=predictions,
        notes=notes,
    )


def _predictions(
    catalog: pd.DataFrame,
    proba: np.ndarray,
    classes: tuple[str, ...],
    held_out: set[str],
    cfg: ImageSettings,
) -> pd.DataFrame:
    """One row per product: its stated and predicted category and what they say together."""
    class_of = {c: i for i, c in enumerate(classes)}
    best = proba.argmax(axis=1)
    confidence = proba[np.arange(len(proba)), best]
    stated = catalog["category"].to_numpy()
    p_stated = np.array(
        [proba[i, class_of[s]] if s in class_of else np.nan for i, s in enumerate(stated)],
        dtype=np.float64,
    )
    status = []
    for i, s in enumerate(stated):
        if s is None:
            status.append(UNLABELLED)
        elif s not in class_of:
            status.append(UNKNOWN)
        elif class_of[s] == best[i]:
            status.append(AGREES)
        elif p_stated[i] <= 1.0 - cfg.mismatch_confidence + 1e-9:
            status.append(MISMATCH)
        else:
            status.append(DISAGREES)
    return pd.DataFrame(
        {
            "product_id": catalog["product_id"].to_numpy(),
            "title": catalog["title"].to_numpy(),
            "stated": stated,
            "predicted": [classes[b] for b in best],
            "confidence": confidence.astype(float),
            "p_stated": p_stated,
            "status": status,
            "held_out": catalog["product_id"].isin(held_out).to_numpy(),
        }
    )


@register("images", "Categorise product photos and find visually similar products")
def train_job(ctx: JobContext) -> JobOutcome:
    """Job: read the store's photos and catalog, analyse them, save the image model."""
    settings = ImageSettings.from_params(dict(ctx.params))
    require_torch("the images job")
    ctx.progress(0.01, "reading the photo table")
    images, products = load_product_images(ctx.store)
    model = analyse(images, products, settings, progress=lambda s, m: ctx.progress(s * 0.98, m))
    model.save(ctx.artifact_dir / ARTIFACT)
    return JobOutcome(
        metrics={**model.metrics(), "notes": model.notes, "settings": asdict(settings)}
    )


def load_image_model(ws: Workspace) -> ImageModel:
    """The image model of the last successful ``images`` job."""
    folder = current_artifact(ws, "images")
    if folder is None or not (folder / ARTIFACT).exists():
        raise ConfigError("no image model yet; run 'shopkeeper images train' first")
    return ImageModel.load(folder / ARTIFACT)
