"""Ranking metrics over full rankings: every item is a candidate, no sampled negatives.

Relevance is binary. For a user with ground truth ``T`` (distinct items) and a
ranked list ``L`` (item codes, -1 for padding):

- ``recall@K = |L[:K] & T| / |T|`` (the denominator is ``|T|``, not ``min(K, |T|)``);
- ``ndcg@K = DCG / IDCG`` with ``DCG = sum 1[L[r] in T] / log2(r + 1)`` over ranks
  ``r = 1..K`` and ``IDCG`` the same for a perfect list of ``min(K, |T|)`` hits;
- ``map@K``: mean over hits of the precision at each hit, divided by ``min(K, |T|)``;
- ``hit_rate@K``: share of users with at least one hit.

Users are averaged with equal weight; users with an empty ground truth are
not evaluated. List-level figures describe what the lists expose:
``coverage@K`` (share of candidate items shown to anyone), ``novelty@K``
(mean self-information ``-log2(share of users who interacted with the item)``
of shown items) and ``gini@K`` (concentration of exposure over candidate items:
0 when every item is shown equally often, near 1 when a few take all).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import scipy.sparse as sp


def truth_matrix(truth: Sequence[set[int]] | sp.spmatrix, n_items: int) -> sp.csr_matrix:
    """Ground truth as a binary users x items matrix."""
    if sp.issparse(truth):
        out = sp.csr_matrix(truth, dtype=np.float32)
        out.data[:] = 1.0
        return out
    rows = np.repeat(np.arange(len(truth)), [len(t) for t in truth])
    cols = np.fromiter((i for t in truth for i in t), dtype=np.int64, count=len(rows))
    m = sp.csr_matrix((np.ones(len(rows), np.float32), (rows, cols)), shape=(len(truth), n_items))
    m.sum_duplicates()
    m.data[:] = 1.0
    return m


def _hits(lists: np.ndarray, truth: sp.csr_matrix) -> np.ndarray:
    """hits[u, r] = 1 when the item at rank r of user u is relevant."""
    valid = lists >= 0
    rows = np.repeat(np.arange(lists.shape[0]), lists.shape[1]).reshape(lists.shape)
    safe = np.where(valid, lists, 0)
    got = np.asarray(truth[rows.ravel(), safe.ravel()]).reshape(lists.shape)
    return (got > 0) & valid


def ranking_metrics(
    lists: np.ndarray,
    truth: Sequence[set[int]] | sp.spmatrix,
    ks: Sequence[int],
    *,
    n_items: int,
) -> dict[str, float]:
    """Recall, NDCG, MAP and hit rate at each K, averaged over users with truth.

    ``lists`` is (users, >= max(ks)) item codes best first, rows aligned with
    ``truth``.
    """
    t = truth_matrix(truth, n_items)
    sizes = np.diff(t.indptr)
    users = sizes > 0
    kmax = max(ks)
    if lists.shape[1] < kmax:
        raise ValueError(f"lists have {lists.shape[1]} columns; K up to {kmax} needs as many")
    hits = _hits(lists[:, :kmax], t)[users].astype(np.float64)
    sizes = sizes[users].astype(np.float64)
    disc = 1.0 / np.log2(np.arange(2, kmax + 2))
    out: dict[str, float] = {}
    for k in ks:
        h = hits[:, :k]
        n_hit = h.sum(axis=1)
        ideal = np.minimum(sizes, k).astype(np.int64)
        idcg = np.cumsum(disc)[ideal - 1]
        prec_at_hit = np.cumsum(h, axis=1) / np.arange(1, k + 1) * h
        out[f"recall@{k}"] = float(np.mean(n_hit / sizes)) if len(sizes) else 0.0
        out[f"ndcg@{k}"] = float(np.mean((h * disc[:k]).sum(axis=1) / idcg)) if len(sizes) else 0.0
        out[f"map@{k}"] = (
            float(np.mean(prec_at_hit.sum(axis=1) / np.minimum(sizes, k))) if len(sizes) else 0.0
        )
        out[f"hit_rate@{k}"] = float(np.mean(n_hit > 0)) if len(sizes) else 0.0
    out["users"] = float(users.sum())
    return out


def per_user_ndcg(
    lists: np.ndarray, truth: Sequence[set[int]] | sp.spmatrix, k: int, *, n_items: int
) -> np.ndarray:
    """NDCG@k per user with truth (for paired comparisons and standard errors)."""
    t = truth_matrix(truth, n_items)
    sizes = np.diff(t.indptr)
    users = sizes > 0
    h = _hits(lists[:, :k], t)[users].astype(np.float64)
    disc = 1.0 / np.log2(np.arange(2, k + 2))
    idcg = np.cumsum(disc)[np.minimum(sizes[users], k) - 1]
    return np.asarray((h * disc).sum(axis=1) / idcg)


def exposure_metrics(
    lists: np.ndarray,
    k: int,
    *,
    candidates: np.ndarray,
    item_users: np.ndarray,
    n_users: int,
) -> dict[str, float]:
    """Coverage, novelty and Gini of the top-``k`` lists.

    ``candidates`` is a boolean mask of the items a model could show (seen in
    training); ``item_users`` the number of training users per item.
    """
    shown = lists[:, :k]
    shown = shown[shown >= 0]
    n_cand = int(np.count_nonzero(candidates))
    exposure = np.bincount(shown, minlength=len(candidates)).astype(np.float64)
    distinct = int(np.count_nonzero(exposure))
    share = np.clip(item_users[shown] / max(n_users, 1), 1.0 / max(n_users, 1), 1.0)
    novelty = float(np.mean(-np.log2(share))) if shown.size else 0.0
    cand_exposure = np.sort(exposure[candidates])
    gini = _gini(cand_exposure)
    return {
        f"coverage@{k}": distinct / n_cand if n_cand else 0.0,
        f"distinct@{k}": float(distinct),
        f"novelty@{k}": novelty,
        f"gini@{k}": gini,
    }


def _gini(sorted_values: np.ndarray) -> float:
    n = len(sorted_values)
    total = sorted_values.sum()
    if n == 0 or total == 0:
        return 0.0
    ranks = np.arange(1, n + 1)
    return float((2 * ranks - n - 1).dot(sorted_values) / (n * total))
