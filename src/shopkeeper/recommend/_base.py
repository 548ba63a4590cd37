"""The one interface every recommender implements, and the shared top-N step.

A model is fitted on :class:`~shopkeeper.recommend.Interactions` and then
scores users against its item universe::

    model = EASE(l2=250).fit(train)
    scores = model.score(train, users)          # (len(users), n_items), higher is better
    top = top_n(scores, 10, exclude=train.binary()[users])

``score`` takes the interactions to read the users' histories from, which may
be newer than the ones the model was fitted on (same item universe): that is
how a customer's events since the last training reach their list without
retraining (fold-in). Users with code -1 (unknown to the fit) are scored from
their history alone, or get the model's non-personal scores.
"""

from __future__ import annotations

import pickle
from abc import ABC, abstractmethod
from pathlib import Path
from typing import Any, ClassVar, Self

import numpy as np
import scipy.sparse as sp

from shopkeeper.errors import ConfigError
from shopkeeper.recommend._data import Interactions

#: Users scored per block in batch work: bounds memory at block x items floats.
BLOCK = 1024


class Recommender(ABC):
    """A fitted-then-scoring recommender over a fixed item universe."""

    #: Short name used in the CLI, the API and evaluation tables.
    name: ClassVar[str]
    #: Whether scores depend on the user (False: the same list for everyone).
    personal: ClassVar[bool] = True

    items: np.ndarray

    def fit(self, data: Interactions) -> Self:
        """Learn from ``data``; returns the fitted model."""
        self.items = data.items
        self._fit(data)
        return self

    @abstractmethod
    def _fit(self, data: Interactions) -> None: ...

    @abstractmethod
    def _score(self, data: Interactions, users: np.ndarray) -> np.ndarray:
        """Scores (len(users), n_items) for user codes of ``data`` (no -1 here)."""

    def score(self, data: Interactions, users: np.ndarray | None = None) -> np.ndarray:
        """Scores of ``users`` (codes in ``data``; default all) for every item."""
        if not hasattr(self, "items"):
            raise ConfigError(f"{self.name}: fit the model before scoring")
        if data.n_items != len(self.items):
            raise ConfigError(
                f"{self.name}: the interactions have {data.n_items} items, the model "
                f"{len(self.items)}; re-index them with Interactions.with_items"
            )
        codes = np.arange(data.n_users) if users is None else np.asarray(users, dtype=np.int64)
        if codes.size and (codes.min() < 0 or codes.max() >= data.n_users):
            raise ConfigError(f"{self.name}: user codes must lie in 0..{data.n_users - 1}")
        return np.asarray(self._score(data, codes), dtype=np.float32)

    def explain(self, data: Interactions, user: int, item: int) -> str:
        """One line on why ``item`` is in ``user``'s list."""
        return f"{self.name} scores it highly"

    def params(self) -> dict[str, Any]:
        """The hyperparameters, as given to the constructor."""
        return {k: v for k, v in vars(self).items() if not k.startswith("_") and k != "items"}

    def save(self, path: Path) -> None:
        path.write_bytes(pickle.dumps(self, protocol=pickle.HIGHEST_PROTOCOL))

    @staticmethod
    def load(path: Path) -> Recommender:
        model = pickle.loads(path.read_bytes())
        if not isinstance(model, Recommender):
            raise ConfigError(f"{path}: not a shopkeeper recommender")
        return model

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self.params().items())
        return f"{type(self).__name__}({args})"


def top_n(
    scores: np.ndarray,
    n: int,
    *,
    exclude: sp.spmatrix | np.ndarray | None = None,
    allowed: np.ndarray | None = None,
) -> np.ndarray:
    """Item codes of the ``n`` best scores per row, best first.

    ``exclude`` marks (user, item) pairs that may not be shown (non-zero
    entries); ``allowed`` is a boolean mask over items (False: never shown).
    Rows with fewer than ``n`` eligible items are padded with -1.
    """
    s = np.array(scores, dtype=np.float32, copy=True)
    if allowed is not None:
        s[:, ~np.asarray(allowed, dtype=bool)] = -np.inf
    if exclude is not None:
        if sp.issparse(exclude):
            rows, cols = sp.csr_matrix(exclude).nonzero()
            s[rows, cols] = -np.inf
        else:
            s[np.asarray(exclude, dtype=bool)] = -np.inf
    n = min(n, s.shape[1])
    if n <= 0:
        return np.empty((s.shape[0], 0), dtype=np.int64)
    part = (
        np.argpartition(-s, n - 1, axis=1)[:, :n]
        if n < s.shape[1]
        else np.tile(np.arange(s.shape[1]), (s.shape[0], 1))
    )
    vals = np.take_along_axis(s, part, axis=1)
    # Sort by score, then by item code, so ties rank the same way every run.
    order = np.lexsort((part, -vals), axis=1)
    top = np.take_along_axis(part, order, axis=1)
    top[np.take_along_axis(vals, order, axis=1) == -np.inf] = -1
    return top.astype(np.int64)


def normalise_rows(x: np.ndarray) -> np.ndarray:
    """Scale each row to max 1 (rows of zeros stay zero): blends compare like with like."""
    top = np.max(np.abs(x), axis=1, keepdims=True)
    top[top == 0] = 1.0
    return x / top
