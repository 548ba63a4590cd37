"""Visual similarity as a recommender: products that look like what a customer bought.

:class:`VisualSimilarity` is a :class:`~shopkeeper.recommend.Recommender`
built on a trained :class:`~shopkeeper.images.ImageModel`: fitting keeps the
model's item-item similarity over the interactions' item universe (each item's
``neighbours`` most similar items by photo), and a customer's scores are their
recency-weighted history times that matrix, as in the text-based
:class:`~shopkeeper.recommend.ContentBased`. It can join a
:class:`~shopkeeper.recommend.Hybrid` as one more component; items without a
photo score zero here, so the blend's other components carry them.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from shopkeeper.errors import ConfigError
from shopkeeper.images._analysis import ImageModel
from shopkeeper.recommend._base import Recommender
from shopkeeper.recommend._data import Interactions


class VisualSimilarity(Recommender):
    """``score = recency(half_life) @ S`` with ``S`` the visual item-item similarity.

    ``model``: a trained image model; ``half_life``: occasions (None: plain
    counts); ``neighbours``: similar items kept per item; ``min_similarity``:
    cosines at or below it are dropped.
    """

    name = "visual"

    def __init__(
        self,
        model: ImageModel | None = None,
        *,
        half_life: float | None = 4.0,
        neighbours: int = 50,
        min_similarity: float = 0.0,
    ) -> None:
        if half_life is not None and half_life <= 0:
            raise ConfigError(f"visual: half_life must be positive, not {half_life}")
        if neighbours < 1:
            raise ConfigError(f"visual: neighbours must be >= 1, not {neighbours}")
        # Private: params() and repr() would print the whole model otherwise.
        self._model = model
        self.half_life = half_life
        self.neighbours = neighbours
        self.min_similarity = min_similarity

    def __getstate__(self) -> dict[str, Any]:
        # A fitted model serves from its similarity matrix; the image model (network,
        # embeddings of every product) would only make the file large.
        state = self.__dict__.copy()
        state["_model"] = None
        return state

    def _fit(self, data: Interactions) -> None:
        if self._model is None:
            raise ConfigError(
                "visual: needs a trained image model; pass it as VisualSimilarity(model) "
                "(shopkeeper.images.load_image_model)"
            )
        self._sim = self._model.similarity_matrix(
            data.items, k=self.neighbours, min_similarity=self.min_similarity
        )

    def _score(self, data: Interactions, users: np.ndarray) -> np.ndarray:
        h = data.counts()[users] if self.half_life is None else data.recency(self.half_life)[users]
        return np.asarray((h @ self._sim).toarray())

    def similar(self, item: int, n: int) -> tuple[np.ndarray, np.ndarray]:
        """The ``n`` items that look most like ``item`` (codes) and their similarities."""
        if not hasattr(self, "_sim"):
            raise ConfigError("visual: fit the model before asking for similar items")
        if not 0 <= item < self._sim.shape[0]:
            raise ConfigError(f"visual: item codes lie in 0..{self._sim.shape[0] - 1}")
        row = self._sim.getrow(item)
        order = np.lexsort((row.indices, -row.data))[: max(n, 0)]
        return row.indices[order].astype(np.int64), row.data[order]

    def explain(self, data: Interactions, user: int, item: int) -> str:
        bought = data.counts()[user].indices
        bought = bought[bought != item]
        if len(bought):
            sims = np.asarray(self._sim[bought, item].toarray()).ravel()
            if sims.max() > 0:
                return f"looks like {data.items[bought[int(np.argmax(sims))]]}, which you bought"
        return "looks like products you bought"
