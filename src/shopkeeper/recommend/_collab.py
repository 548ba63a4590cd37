"""Models learned from everybody's interactions: repeat buyers, item-kNN, ALS, EASE.

- :class:`RepeatBuyer` is written here: no library scores a customer's own
  recency-weighted purchases blended with those of similar customers (the idea
  of TIFU-kNN, Hu et al., SIGIR 2020), and in groceries and consumables it
  beats every general-purpose model.
- :class:`ItemKNN` and :class:`ALS` wrap the ``implicit`` library for the
  similarity and the factorisation; shopkeeper adds recency-weighted scoring
  and fold-in of new events.
- :class:`EASE` is the closed-form linear model (Steck, WWW 2019), a few lines
  of numpy; shopkeeper solves it in item space or, when there are fewer users
  than items, in user space via the Woodbury identity (same scores, far less
  work).
"""

from __future__ import annotations

import warnings

import numpy as np
import scipy.linalg as la
import scipy.sparse as sp

from shopkeeper.errors import ConfigError
from shopkeeper.recommend._base import BLOCK, Recommender
from shopkeeper.recommend._data import Interactions

_INPUTS = ("counts", "binary")
#: Blocks of at most this many users take the request path of RepeatBuyer.
SMALL_BLOCK = 8
#: Largest users x items matrix EASE densifies for BLAS products (float32: 256 MB).
DENSE_LIMIT = 64_000_000


def _input(data: Interactions, kind: str) -> sp.csr_matrix:
    _input_kind_ok(kind)
    return data.counts() if kind == "counts" else data.binary()


def _history(
    data: Interactions, users: np.ndarray, half_life: float | None, kind: str
) -> sp.csr_matrix:
    """The users' rows to score from: recency-weighted when a half-life is set."""
    if half_life is None:
        return _input(data, kind)[users]
    return data.recency(half_life)[users]


def _unit_rows(x: sp.csr_matrix) -> sp.csr_matrix:
    """Rows scaled to unit length (rows of zeros stay zero): cosine by dot product."""
    norms = np.sqrt(np.asarray(x.multiply(x).sum(axis=1)).ravel())
    norms[norms == 0] = 1.0
    return sp.csr_matrix(sp.diags(1.0 / norms) @ x, dtype=np.float32)


def _same_users(data: Interactions, users: np.ndarray) -> bool:
    return data.users is users or (
        len(data.users) == len(users) and np.array_equal(data.users, users)
    )


class RepeatBuyer(Recommender):
    """A customer's own recency-weighted purchases, blended with similar customers'.

    Each user's vector is ``sum over occasions of 0.5 ** (rank / half_life) *
    basket``, divided by the sum of those weights: the decayed share of the
    user's occasions holding each item. ``score = alpha * own + (1 - alpha) *
    mean of the k most similar users' vectors`` (cosine similarity of the
    vectors). ``neighbours=0`` or ``alpha=1`` leaves the user's own history
    (with ``half_life=None``, plain purchase counts, the strong baseline of
    next-basket work). Ties, including items never bought, are broken by
    global popularity.

    **Purchase cycles** (``cycle > 0``): the own part of an item is multiplied
    by ``exp(-cycle * |log(due)|)``, where ``due`` = days from the user's last
    purchase of the item to their expected next visit (last occasion plus
    their median gap between occasions), over the item's cycle (the user's
    own mean gap between purchases of it, else the median over all users).
    An item bought the day before is damped; one at its usual interval is not.
    """

    name = "repeat"

    def __init__(
        self,
        half_life: float | None = 4.0,
        neighbours: int = 300,
        alpha: float = 0.7,
        cycle: float = 0.0,
    ) -> None:
        if not 0.0 <= alpha <= 1.0:
            raise ConfigError(f"repeat: alpha must lie in [0, 1], not {alpha}")
        if neighbours < 0:
            raise ConfigError(f"repeat: neighbours must be >= 0, not {neighbours}")
        if cycle < 0:
            raise ConfigError(f"repeat: cycle must be >= 0, not {cycle}")
        self.half_life = half_life
        self.neighbours = neighbours
        self.alpha = alpha
        self.cycle = cycle

    def _due_factor(self, data: Interactions, users: np.ndarray) -> sp.csr_matrix:
        """Per (user in block, item bought): how due the item is, in (0, 1]."""
        rep = data.repurchases()
        rows = rep[np.isin(rep["user"].to_numpy(), users)]
        pos = np.full(data.n_users, -1, dtype=np.int64)
        pos[users] = np.arange(len(users))
        last_visit, user_gap, _ = data.visits()
        user = rows["user"].to_numpy()
        gap = np.where(np.isnan(user_gap[user]), self._median_gap, user_gap[user])
        expected = last_visit[user] + (gap * 86400.0).astype("timedelta64[s]")
        item = rows["item"].to_numpy()
        own = rows["gap"].to_numpy()
        cycle = np.where(np.isnan(own), self._item_cycle[item], own)
        since = (expected - rows["last"].to_numpy()) / np.timedelta64(1, "D")
        ratio = np.clip(since / np.maximum(cycle, 1.0), 1e-3, 1e3)
        factor = np.where(np.isnan(ratio), 1.0, np.exp(-self.cycle * np.abs(np.log(ratio))))
        return sp.csr_matrix((factor, (pos[user], item)), shape=(len(users), data.n_items))

    def _vectors(self, data: Interactions, users: np.ndarray) -> sp.csr_matrix:
        x = data.recency(self.half_life)[users]
        total = data.occasion_weight_totals(self.half_life)[users].copy()
        total[total == 0] = 1.0
        return sp.csr_matrix(sp.diags(1.0 / total) @ x, dtype=np.float32)

    def _fit(self, data: Interactions) -> None:
        # Neighbours found for serving belong to one fit: a refit forgets them.
        self._served_weights: sp.csr_matrix | None = None
        self._served_rows: sp.csr_matrix | None = None
        if self.cycle > 0:
            self._fit_cycles(data)
        pop = data.item_popularity().astype(np.float64)
        self._tiebreak = (1e-6 * pop / (pop.max() + 1.0)).astype(np.float32)
        if self.neighbours > 0 and self.alpha < 1.0:
            v = self._vectors(data, np.arange(data.n_users))
            # Kept transposed, in CSR (items x users): a customer's similarity to
            # everyone then reads only the rows of the items they have.
            self._unit_t: sp.csr_matrix | None = sp.csr_matrix(_unit_rows(v).T)
            self._train = v
            self._users = data.users
        else:
            self._unit_t = None

    def _fit_cycles(self, data: Interactions) -> None:
        # Item cycles and the usual gap between visits come from the fit; a
        # customer's own gaps come from the data scored.
        self._median_gap = data.visits()[2]
        self._item_cycle = data.item_cycle_days().copy()

    def _neighbour_part(self, v: sp.csr_matrix, selves: np.ndarray | None) -> np.ndarray:
        """Mean vector of each row's most similar training users (ties at the cut kept)."""
        assert self._unit_t is not None
        sim = self._similarities(v)
        if v.shape[0] <= SMALL_BLOCK:
            return self._few_neighbours(sim, selves)
        return np.asarray(self._neighbour_weights(sim, selves) @ self._train)

    def _similarities(self, v: sp.csr_matrix) -> sp.csr_matrix:
        assert self._unit_t is not None
        # Through the items the customer has: only users sharing one are touched.
        return sp.csr_matrix(_unit_rows(v) @ self._unit_t)

    def _neighbour_weights(self, sim: sp.csr_matrix, selves: np.ndarray | None) -> sp.csr_matrix:
        """Rows of 1/count over each user's neighbours: their mean is ``weights @ train``."""
        dense = sim.toarray()
        if selves is not None:
            # A training user is not their own neighbour.
            dense[np.arange(len(selves)), selves] = 0.0
        k = min(self.neighbours, dense.shape[1])
        if k < dense.shape[1]:
            cut = np.partition(dense, dense.shape[1] - k, axis=1)[:, dense.shape[1] - k][:, None]
            dense[dense < cut] = 0.0
        dense[dense > 0] = 1.0
        counts = dense.sum(axis=1, keepdims=True)
        counts[counts == 0] = 1.0
        return sp.csr_matrix(dense / counts, dtype=np.float32)

    def prepare_serving(self, data: Interactions) -> None:
        """Find every training user's neighbours once, for answering one customer at a time.

        Only answers from this very ``data`` (the model's own, unchanged) use
        them; a customer with newer activity is still searched afresh.
        """
        if self._unit_t is None:
            return
        blocks = []
        for start in range(0, data.n_users, BLOCK):
            block = np.arange(start, min(start + BLOCK, data.n_users))
            sim = self._similarities(self._vectors(data, block))
            blocks.append(self._neighbour_weights(sim, block))
        self._served_weights = sp.csr_matrix(sp.vstack(blocks))
        self._served_rows = data.recency(self.half_life)

    def _few_neighbours(self, sim: sp.csr_matrix, selves: np.ndarray | None) -> np.ndarray:
        # The request path: the same neighbours as the block path, found among the
        # stored (non-zero) similarities only, without densifying a row of all users.
        out = np.zeros((sim.shape[0], self._train.shape[1]), dtype=np.float32)
        for row in range(sim.shape[0]):
            cols = sim.indices[sim.indptr[row] : sim.indptr[row + 1]]
            vals = sim.data[sim.indptr[row] : sim.indptr[row + 1]].copy()
            if selves is not None:
                vals[cols == selves[row]] = 0.0
            keep = vals > 0
            cols, vals = cols[keep], vals[keep]
            if len(vals) > self.neighbours:
                cut = np.partition(vals, len(vals) - self.neighbours)[len(vals) - self.neighbours]
                cols = cols[vals >= cut]
            if len(cols):
                out[row] = np.asarray(self._train[cols].sum(axis=0)).ravel() / len(cols)
        return out

    def _score(self, data: Interactions, users: np.ndarray) -> np.ndarray:
        out = np.empty((len(users), data.n_items), dtype=np.float32)
        known = self._unit_t is not None and _same_users(data, self._users)
        served_weights = self._served_weights if known else None
        if served_weights is not None and data.recency(self.half_life) is not self._served_rows:
            served_weights = None  # other data than the one prepared for: search afresh
        for start in range(0, len(users), BLOCK):
            block = users[start : start + BLOCK]
            v = self._vectors(data, block)
            s = (v.multiply(self._due_factor(data, block)) if self.cycle > 0 else v).toarray()
            if self._unit_t is not None:
                if served_weights is not None:
                    nb = np.asarray(served_weights[block] @ self._train)
                else:
                    nb = self._neighbour_part(v, block if known else None)
                s = self.alpha * s + (1.0 - self.alpha) * nb
            out[start : start + BLOCK] = s + self._tiebreak
        return out

    def explain(self, data: Interactions, user: int, item: int) -> str:
        bought = data.purchase_counts()[user, item]
        if bought > 0:
            orders = "order" if bought == 1 else "orders"
            return f"you bought it in {bought:.0f} earlier {orders}"
        if data.counts()[user, item] > 0:
            return "you looked at it recently"
        return "customers who buy what you buy often buy it"


class ItemKNN(Recommender):
    """Item-to-item nearest neighbours (``implicit``), cosine or BM25-weighted.

    The similarity keeps each item's similarity to itself (as ``implicit``
    does), so an item a user bought scores itself: a repeat signal that is
    right for groceries and removed by ``exclude`` where repeats are not
    shown. Users are scored from their recency-weighted history when
    ``half_life`` is set.
    """

    name = "item_knn"

    def __init__(
        self,
        k: int = 100,
        weighting: str = "bm25",
        input: str = "counts",
        half_life: float | None = None,
        k1: float = 1.2,
        b: float = 0.75,
    ) -> None:
        if weighting not in ("cosine", "bm25"):
            raise ConfigError(f"item_knn: weighting must be cosine or bm25, not {weighting!r}")
        _input_kind_ok(input)
        self.k = k
        self.weighting = weighting
        self.input = input
        self.half_life = half_life
        self.k1 = k1
        self.b = b

    def _fit(self, data: Interactions) -> None:
        from implicit.nearest_neighbours import BM25Recommender, CosineRecommender

        x = _input(data, self.input)
        model = (
            CosineRecommender(K=self.k)
            if self.weighting == "cosine"
            else BM25Recommender(K=self.k, K1=self.k1, B=self.b)
        )
        with warnings.catch_warnings():
            # implicit converts its own transposed input and warns about it.
            warnings.simplefilter("ignore")
            model.fit(x, show_progress=False)
        self._sim = sp.csr_matrix(model.similarity, dtype=np.float32)

    def _score(self, data: Interactions, users: np.ndarray) -> np.ndarray:
        h = _history(data, users, self.half_life, self.input)
        return np.asarray((h @ self._sim).toarray())

    def similar(self, item: int, n: int) -> tuple[np.ndarray, np.ndarray]:
        """The ``n`` most similar items to ``item`` (itself excluded) and their scores."""
        row = self._sim[item].toarray().ravel()
        row[item] = -np.inf
        order = np.argsort(-row, kind="stable")[:n]
        keep = row[order] > 0
        return order[keep], row[order][keep]

    def explain(self, data: Interactions, user: int, item: int) -> str:
        hist = data.counts()[user].tocoo()
        if hist.nnz == 0:
            return "similar to what others bought"
        contrib = np.asarray(self._sim[hist.col, item].toarray()).ravel() * hist.data
        best = hist.col[int(np.argmax(contrib))]
        bought = data.purchase_counts()[user, best] > 0
        if best == item:
            return "you bought it before" if bought else "you looked at it recently"
        verb = "bought" if bought else "looked at"
        return f"similar to {data.items[best]}, which you {verb}"


def _input_kind_ok(kind: str) -> None:
    if kind not in _INPUTS:
        raise ConfigError(f"input must be one of {', '.join(_INPUTS)}, not {kind!r}")


class ALS(Recommender):
    """Implicit matrix factorisation by alternating least squares (``implicit``).

    Confidence on observed entries is ``alpha * X[u, i]``. Users are scored
    from their factors; a user whose history changed since the fit (or who is
    new) is folded in: their factors are recomputed from the new history
    against the fixed item factors, without retraining.
    """

    name = "als"

    def __init__(
        self,
        factors: int = 64,
        regularization: float = 0.1,
        alpha: float = 10.0,
        iterations: int = 15,
        input: str = "counts",
        seed: int = 42,
    ) -> None:
        _input_kind_ok(input)
        self.factors = factors
        self.regularization = regularization
        self.alpha = alpha
        self.iterations = iterations
        self.input = input
        self.seed = seed

    def _fit(self, data: Interactions) -> None:
        from implicit.cpu.als import AlternatingLeastSquares

        x = _input(data, self.input)
        from threadpoolctl import threadpool_limits

        # ALS solves many tiny systems; a BLAS thread pool only adds overhead.
        with threadpool_limits(1, "blas"), warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            model = AlternatingLeastSquares(
                factors=self.factors,
                regularization=self.regularization,
                alpha=self.alpha,
                iterations=self.iterations,
                random_state=self.seed,
            )
            model.fit(x, show_progress=False)
        self._model = model
        self._fitted_rows = x
        self._users = data.users

    def _score(self, data: Interactions, users: np.ndarray) -> np.ndarray:
        full = _input(data, self.input)
        if full is self._fitted_rows:
            # The very matrix of the fit (a served model scoring its own data).
            return np.asarray(self._model.user_factors[users] @ self._model.item_factors.T)
        x = full[users]
        same = _same_users(data, self._users)
        factors = np.empty((len(users), self._model.factors), dtype=np.float32)
        if same:
            old = self._fitted_rows[users]
            changed = np.asarray((abs(old - x)).sum(axis=1)).ravel() > 0
            factors[~changed] = self._model.user_factors[users[~changed]]
        else:
            changed = np.ones(len(users), dtype=bool)
        if changed.any():
            rows = np.flatnonzero(changed)
            factors[rows] = self._model.recalculate_user(rows, x[rows])
        return np.asarray(factors @ self._model.item_factors.T)

    def explain(self, data: Interactions, user: int, item: int) -> str:
        return "customers with tastes like yours buy it (matrix factorisation)"


class EASE(Recommender):
    """Embarrassingly shallow autoencoder: ``B = I - P diag(P)^-1``, ``P = (XᵀX + l2 I)^-1``.

    Fitted on binary input. Users are scored as ``h B`` from their history
    ``h`` (recency-weighted when ``half_life`` is set). When the shop has fewer
    users than items, ``P`` is never formed: with ``K = X Xᵀ + l2 I``,
    ``h P = (h - (h Xᵀ) K^-1 X) / l2`` (Woodbury), exact for any history.
    """

    name = "ease"

    def __init__(self, l2: float = 250.0, half_life: float | None = None) -> None:
        if l2 <= 0:
            raise ConfigError(f"ease: l2 must be positive, not {l2}")
        self.l2 = l2
        self.half_life = half_life

    def _fit(self, data: Interactions) -> None:
        x = sp.csr_matrix(data.binary(), dtype=np.float32)
        n_users, n_items = x.shape
        self._dual = n_users < n_items
        # Gram products in float32 BLAS on a dense copy when it is small and not
        # too sparse (as the reference implementation does); sparse ones otherwise.
        size = n_users * n_items
        dense = x.toarray() if size <= DENSE_LIMIT and x.nnz > 0.01 * size else None
        if not self._dual:
            g = dense.T @ dense if dense is not None else (x.T @ x).toarray()
            g = g.astype(np.float64)
            g[np.diag_indices_from(g)] += self.l2
            p = _spd_inverse(g)
            b = -p / np.diag(p)
            np.fill_diagonal(b, 0.0)
            self._b = b.astype(np.float32)
        else:
            k = dense @ dense.T if dense is not None else (x @ x.T).toarray()
            k = k.astype(np.float64)
            k[np.diag_indices_from(k)] += self.l2
            kinv = _spd_inverse(k).astype(np.float32)
            # K^-1 X: a dense product, or through Xᵀ when X is too big to densify
            # (then its sparsity makes (Xᵀ K^-1)ᵀ cost nnz(X) x users).
            kinv_x = kinv @ dense if dense is not None else np.asarray((x.T @ kinv).T)
            diag_p = (1.0 - np.asarray(x.multiply(kinv_x).sum(axis=0)).ravel()) / self.l2
            self._x = x
            self._kinv_x = np.asarray(kinv_x, dtype=np.float32)
            self._inv_diag_p = (1.0 / diag_p).astype(np.float32)

    def _score(self, data: Interactions, users: np.ndarray) -> np.ndarray:
        h = _history(data, users, self.half_life, "binary")
        if not self._dual:
            return np.asarray(h @ self._b)
        hd = h.toarray()
        # (h Xᵀ) is small and dense (users x training users): a BLAS product from here.
        hp = (hd - (h @ self._x.T).toarray() @ self._kinv_x) / self.l2  # h P
        return np.asarray(hd - hp * self._inv_diag_p)

    def explain(self, data: Interactions, user: int, item: int) -> str:
        return "goes with what you chose (item-to-item linear model)"


def _spd_inverse(g: np.ndarray) -> np.ndarray:
    """Inverse of a symmetric positive definite matrix via Cholesky (LAPACK potri)."""
    c, info = la.lapack.dpotrf(g, lower=True)
    if info != 0:
        raise ConfigError("ease: the Gram matrix is not positive definite; raise l2")
    inv, info = la.lapack.dpotri(c, lower=True)
    if info != 0:
        raise ConfigError("ease: could not invert the Gram matrix")
    inv = np.tril(inv) + np.tril(inv, -1).T
    return inv
