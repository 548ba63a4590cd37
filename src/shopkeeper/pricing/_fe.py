"""Least squares with fixed effects and cluster-robust standard errors, written here.

:func:`fe_ols` fits ``y = X b + a[absorb] + g[dummies] + u``: the ``absorb``
effects (many levels: stores, product x store) are swept out by demeaning
within their groups, the ``dummies`` effects (few levels: weeks) enter as
indicator columns that are themselves demeaned and then partialled out of
``y`` and ``X`` (Frisch-Waugh-Lovell). The coefficients on ``X`` are exactly
those of the regression with both sets of dummies written out, and so is the
cluster-robust covariance: with the residualised regressors the sandwich's
block for ``b`` is the full model's block. The small-sample factor is the
one statsmodels and Stata's ``regress, vce(cluster)`` use,
``G / (G - 1) * (N - 1) / (N - K)``, with ``K`` counting every effect level
(the intercept, ``levels(absorb) - 1`` and ``levels(dummies) - 1``), so the
standard errors equal a dummy-variable OLS fit's to rounding.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import stats

LEVEL = 0.95


@dataclass
class FEFit:
    """One fit: coefficients on the named regressors and their clustered covariance."""

    names: list[str]
    coef: np.ndarray
    cov: np.ndarray
    n: int
    clusters: int
    k: int  # every estimated parameter, fixed-effect levels included
    residual: np.ndarray
    # The regressors' variation left after the fixed effects, as a share of
    # their raw variation: near 0 means the effects explain the regressor.
    kept_variation: np.ndarray

    @property
    def se(self) -> np.ndarray:
        return np.sqrt(np.clip(np.diag(self.cov), 0.0, None))

    def interval(self, level: float = LEVEL) -> tuple[np.ndarray, np.ndarray]:
        """Two-sided intervals from Student's t with ``clusters - 1`` degrees of freedom."""
        t = stats.t.ppf(0.5 + level / 2, max(self.clusters - 1, 1))
        return self.coef - t * self.se, self.coef + t * self.se


def codes_of(values: object) -> tuple[np.ndarray, int]:
    """Integer codes 0..n-1 for any array of labels, and n."""
    _, codes = np.unique(np.asarray(values), return_inverse=True)
    codes = codes.ravel().astype(np.int64)
    return codes, int(codes.max()) + 1 if len(codes) else 0


def demean(a: np.ndarray, codes: np.ndarray, groups: int) -> np.ndarray:
    """Each column of ``a`` less its mean within the groups of ``codes``."""
    counts = np.bincount(codes, minlength=groups).astype(np.float64)
    counts[counts == 0] = 1.0
    if a.ndim == 1:
        return a - (np.bincount(codes, weights=a, minlength=groups) / counts)[codes]
    out = np.empty_like(a, dtype=np.float64)
    for j in range(a.shape[1]):
        means = np.bincount(codes, weights=a[:, j], minlength=groups) / counts
        out[:, j] = a[:, j] - means[codes]
    return out


def cluster_cov(
    x: np.ndarray, u: np.ndarray, clusters: np.ndarray, n_clusters: int, k: int
) -> np.ndarray:
    """The cluster-robust sandwich for OLS of ``u``'s regression on ``x``, with the CR1 factor."""
    n = len(u)
    bread = np.linalg.pinv(x.T @ x)
    scores = np.zeros((n_clusters, x.shape[1]))
    np.add.at(scores, clusters, x * u[:, None])
    meat = scores.T @ scores
    factor = n_clusters / max(n_clusters - 1, 1) * (n - 1) / max(n - k, 1)
    return np.asarray(factor * bread @ meat @ bread)


def fe_ols(
    y: np.ndarray,
    x: np.ndarray,
    names: list[str],
    *,
    absorb: np.ndarray | None,
    dummies: np.ndarray | None,
    cluster: np.ndarray,
) -> FEFit:
    """OLS of ``y`` on ``x`` with absorbed and dummy fixed effects (see the module doc).

    ``absorb``, ``dummies`` and ``cluster`` are labels per row (``None``: no
    such effect; without ``absorb`` an intercept is fitted instead).
    """
    y = np.asarray(y, dtype=np.float64)
    x = np.asarray(x, dtype=np.float64).reshape(len(y), -1)
    raw_var = x.var(axis=0)
    k = 1
    if absorb is not None:
        a_codes, a_n = codes_of(absorb)
        yt, xt = demean(y, a_codes, a_n), demean(x, a_codes, a_n)
        k += a_n - 1
    else:
        yt, xt = y - y.mean(), x - x.mean(axis=0)
    if dummies is not None:
        d_codes, d_n = codes_of(dummies)
        if d_n > 1:
            d = np.zeros((len(y), d_n - 1))
            rows = np.flatnonzero(d_codes > 0)
            d[rows, d_codes[rows] - 1] = 1.0
            d = demean(d, a_codes, a_n) if absorb is not None else d - d.mean(axis=0)
            # Partial the dummies out of y and x (normal equations with a
            # pseudo-inverse, so a level the absorbed effects explain does no harm).
            both = np.column_stack([yt, xt])
            proj = np.linalg.pinv(d.T @ d) @ (d.T @ both)
            both = both - d @ proj
            yt, xt = both[:, 0], both[:, 1:]
            k += d_n - 1
    k += x.shape[1]
    kept = np.where(raw_var > 0, xt.var(axis=0) / np.where(raw_var > 0, raw_var, 1.0), 0.0)
    coef = np.linalg.pinv(xt.T @ xt) @ (xt.T @ yt)
    u = yt - xt @ coef
    c_codes, c_n = codes_of(cluster)
    cov = cluster_cov(xt, u, c_codes, c_n, k)
    return FEFit(
        names=list(names),
        coef=coef,
        cov=cov,
        n=len(y),
        clusters=c_n,
        k=k,
        residual=u,
        kept_variation=kept,
    )
