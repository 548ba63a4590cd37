"""Exact and approximate nearest neighbours agree; the sparse similarity they make."""

from __future__ import annotations

import numpy as np

from shopkeeper.images import (
    ApproximateIndex,
    approximate_neighbours,
    exact_neighbours,
    nearest_neighbours,
    normalise,
)


def _clustered(n: int, d: int = 32, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    centres = rng.normal(size=(40, d))
    return normalise(centres[rng.integers(0, 40, n)] + 0.6 * rng.normal(size=(n, d)))


def test_exact_search_is_the_brute_force_answer() -> None:
    x = _clustered(700)
    found = exact_neighbours(x, 5)
    sims = x @ x.T
    np.fill_diagonal(sims, -np.inf)
    expected = np.argsort(-sims, axis=1, kind="stable")[:, :5]
    assert found.method == "exact" and (found.index == expected).all()
    assert np.allclose(found.similarity, np.take_along_axis(sims, expected, axis=1), atol=1e-5)
    # Fewer vectors than asked for: the rest is padding.
    small = exact_neighbours(x[:3], 5)
    assert (small.index[:, 2:] == -1).all() and np.isneginf(small.similarity[:, 2:]).all()


def test_approximate_search_finds_nearly_every_true_neighbour() -> None:
    x = _clustered(3000)
    exact = exact_neighbours(x, 10)
    approx = approximate_neighbours(x, 10, threads=1)
    recall = np.mean(
        [len(set(a) & set(e)) / 10 for a, e in zip(approx.index, exact.index, strict=True)]
    )
    assert approx.method == "approximate" and recall > 0.95
    assert not (approx.index == np.arange(len(x))[:, None]).any()  # never itself
    # Queries from outside the index, and the switch between the two by catalog size.
    hits = ApproximateIndex(x, threads=1).search(x[:5] * 1.0, 1)
    assert list(hits.index[:, 0]) == [0, 1, 2, 3, 4]
    assert nearest_neighbours(x, 3, exact_limit=5000).method == "exact"
    assert nearest_neighbours(x, 3, exact_limit=100, threads=1).method == "approximate"


def test_the_neighbour_lists_as_a_sparse_matrix() -> None:
    x = normalise(np.array([[1.0, 0.0], [0.9, 0.1], [0.0, 1.0], [-1.0, 0.0]]))
    m = exact_neighbours(x, 2).matrix(4, min_similarity=0.0).toarray()
    assert m[0, 1] > 0.99 and m[0, 0] == 0 and m[0, 3] == 0  # no self, no negative cosine
    assert (m > 0).sum(axis=1).tolist() == [1, 2, 1, 0]
