"""A hybrid: a weighted sum of other models' scores, weights learned on validation.

Each component's scores are scaled per user to a maximum of 1 before they are
weighted, so that a weight means the same whatever the component's scale.
:func:`learn_weights` searches the weights by coordinate ascent on a
validation fold (train on the past, score what came later): starting from the
best single component, it tries each component at each weight of a grid and
keeps a change only when validation NDCG@K improves, until a full pass changes
nothing.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np

from shopkeeper.errors import ConfigError
from shopkeeper.recommend._base import BLOCK, Recommender, normalise_rows, top_n
from shopkeeper.recommend._data import Interactions
from shopkeeper.recommend._metrics import ranking_metrics

WEIGHT_GRID = (0.0, 0.05, 0.1, 0.2, 0.35, 0.5, 0.75, 1.0)


class Hybrid(Recommender):
    """``score = sum_m weight_m * scores_m / max_items(scores_m)`` per user."""

    name = "hybrid"

    def __init__(self, components: Sequence[Recommender], weights: Sequence[float]) -> None:
        if len(components) != len(weights) or not components:
            raise ConfigError("hybrid: give one weight per component, and at least one")
        if any(w < 0 for w in weights):
            raise ConfigError("hybrid: weights must be non-negative")
        self.components = list(components)
        self.weights = [float(w) for w in weights]

    def params(self) -> dict[str, object]:
        return {
            "weights": {m.name: w for m, w in zip(self.components, self.weights, strict=True)},
            "components": {m.name: m.params() for m in self.components},
        }

    def _fit(self, data: Interactions) -> None:
        for model, weight in zip(self.components, self.weights, strict=True):
            if weight > 0:
                model.fit(data)

    def _score(self, data: Interactions, users: np.ndarray) -> np.ndarray:
        out = np.zeros((len(users), data.n_items), dtype=np.float32)
        for model, weight in zip(self.components, self.weights, strict=True):
            if weight > 0:
                for start in range(0, len(users), BLOCK):
                    block = users[start : start + BLOCK]
                    out[start : start + BLOCK] += weight * normalise_rows(model.score(data, block))
        return out

    def explain(self, data: Interactions, user: int, item: int) -> str:
        best, best_part = None, -np.inf
        for model, weight in zip(self.components, self.weights, strict=True):
            if weight > 0:
                part = weight * float(normalise_rows(model.score(data, np.array([user])))[0, item])
                if part > best_part:
                    best, best_part = model, part
        return best.explain(data, user, item) if best is not None else "blended score"


def learn_weights(
    components: Sequence[Recommender],
    train: Interactions,
    truth: Sequence[set[int]],
    *,
    k: int = 10,
    exclude_seen: bool = False,
    allowed: np.ndarray | None = None,
    grid: Sequence[float] = WEIGHT_GRID,
    log: Callable[[str], None] | None = None,
) -> tuple[list[float], float]:
    """Weights for ``components`` that maximise NDCG@k on a validation fold.

    The components are fitted on ``train`` here; ``truth`` is what each user
    (code of ``train``) did next. Returns the weights and their validation
    NDCG@k.
    """
    users = np.flatnonzero([len(t) > 0 for t in truth])
    sub_truth = [truth[int(u)] for u in users]
    exclude = train.binary()[users] if exclude_seen else None
    parts = []
    for model in components:
        model.fit(train)
        parts.append(normalise_rows(model.score(train, users)))

    def value(weights: Sequence[float]) -> float:
        if not any(weights):
            return -1.0
        scores = sum(w * p for w, p in zip(weights, parts, strict=True) if w > 0)
        lists = top_n(np.asarray(scores), k, exclude=exclude, allowed=allowed)
        return ranking_metrics(lists, sub_truth, [k], n_items=train.n_items)[f"ndcg@{k}"]

    singles = [
        value([1.0 if j == i else 0.0 for j in range(len(parts))]) for i in range(len(parts))
    ]
    weights = [0.0] * len(parts)
    weights[int(np.argmax(singles))] = 1.0
    best = max(singles)
    if log:
        for model, v in zip(components, singles, strict=True):
            log(f"hybrid: {model.name} alone: validation ndcg@{k} {v:.4f}")
    changed = True
    while changed:
        changed = False
        for i in range(len(parts)):
            for w in grid:
                if w == weights[i]:
                    continue
                trial = list(weights)
                trial[i] = w
                v = value(trial)
                if v > best + 1e-9:
                    best, weights, changed = v, trial, True
    if log:
        names = ", ".join(f"{m.name} {w:g}" for m, w in zip(components, weights, strict=True))
        log(f"hybrid: weights {names}: validation ndcg@{k} {best:.4f}")
    return weights, best
