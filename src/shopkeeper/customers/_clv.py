"""Lifetime value: repeat purchasing (BG/NBD, Pareto/NBD) and spend (Gamma-Gamma).

The models and their likelihoods are those of the marketing-science
literature: Fader, Hardie and Lee (2005), "Counting your customers the easy
way" (BG/NBD); Schmittlein, Morrison and Colombo (1987) in the form of Fader
and Hardie's note on the Pareto/NBD likelihood; Fader, Hardie and Lee's
Gamma-Gamma spend model (2005). Each is fitted by maximum likelihood with
scipy's L-BFGS-B over the logarithms of the parameters.

Written here rather than taken from ``lifetimes``: that package is no longer
maintained, breaks on current pandas and setuptools, and fits slower. The fit
works on the distinct (frequency, recency, T) triples with their counts, and
BG/NBD and Gamma-Gamma use the exact gradient, so a fit of the CDNOW sample
takes a few milliseconds. ``bench/clv_bench.py`` checks the parameters against
``lifetimes`` and the published ones.

Time is measured in *periods* (weeks by default): ``frequency`` is the number
of repeat purchase days, ``recency`` the time from the first to the last
purchase, ``T`` the time from the first purchase to the end of the
calibration period, as in the literature.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from scipy import optimize, special
from threadpoolctl import ThreadpoolController

from shopkeeper.errors import ConfigError


def rfm_summary(
    transactions: pd.DataFrame,
    calibration_end: pd.Timestamp | str,
    *,
    period_days: float = 7.0,
    customer: str = "customer_id",
    at: str = "at",
    value: str = "value",
) -> pd.DataFrame:
    """One row per customer who bought by ``calibration_end`` (a date, inclusive).

    Purchases on one calendar day are one transaction (their values add up),
    as in the literature. Columns: ``frequency`` (repeat transactions),
    ``recency`` and ``T`` (in periods of ``period_days``), ``monetary`` (the
    mean value of the repeat transactions; 0 without any), ``first_at``,
    ``last_at``, ``transactions`` and ``spend`` (all transactions), indexed by
    customer.
    """
    end = pd.Timestamp(calibration_end).normalize()
    days = _customer_days(transactions, customer=customer, at=at, value=value)
    days = days[days["day"] <= end]
    if days.empty:
        raise ConfigError(f"no purchases on or before the calibration end {end.date()}")
    grouped = days.groupby("customer", sort=True)
    first = grouped["day"].min()
    last = grouped["day"].max()
    count = grouped.size()
    spend = grouped["value"].sum()
    first_value = days.loc[grouped["day"].idxmin(), ["customer", "value"]].set_index("customer")
    repeat_spend = spend - first_value["value"]
    frequency = count - 1
    summary = pd.DataFrame(
        {
            "frequency": frequency.astype("int64"),
            "recency": (last - first).dt.days / period_days,
            "T": (end - first).dt.days / period_days,
            "monetary": np.where(frequency > 0, repeat_spend / frequency.clip(lower=1), 0.0),
            "first_at": first,
            "last_at": last,
            "transactions": count.astype("int64"),
            "spend": spend,
        }
    )
    summary.index.name = customer
    return summary


def _customer_days(
    transactions: pd.DataFrame, *, customer: str, at: str, value: str
) -> pd.DataFrame:
    missing = [c for c in (customer, at, value) if c not in transactions.columns]
    if missing:
        raise ConfigError(f"transactions need the columns {missing}")
    frame = pd.DataFrame(
        {
            "customer": transactions[customer].astype("str"),
            "day": pd.to_datetime(transactions[at]).dt.normalize(),
            "value": pd.to_numeric(transactions[value]).astype("float64").fillna(0.0),
        }
    )
    frame = frame[transactions[customer].notna().to_numpy()]
    return frame.groupby(["customer", "day"], as_index=False, sort=True)["value"].sum()


def _compress(*columns: np.ndarray) -> tuple[list[np.ndarray], np.ndarray]:
    """Distinct rows of the given columns, and how many customers share each."""
    cols = [np.asarray(c, dtype="float64") for c in columns]
    order = np.lexsort(cols[::-1])
    ordered = [c[order] for c in cols]
    starts = np.ones(len(order), dtype=bool)
    for c in ordered:
        starts[1:] &= c[1:] == c[:-1]
    first = np.flatnonzero(~starts | (np.arange(len(order)) == 0))
    counts = np.diff(np.append(first, len(order))).astype("float64")
    return [c[first] for c in ordered], counts


_THREADS: ThreadpoolController | None = None


def _one_thread() -> Any:
    """A context limiting BLAS to one thread (the controller is built once: it is slow)."""
    global _THREADS
    if _THREADS is None:
        _THREADS = ThreadpoolController()
    return _THREADS.limit(limits=1)


def _maximise(
    neg_ll: Callable[[np.ndarray], tuple[float, np.ndarray] | float],
    start: np.ndarray,
    *,
    gradient: bool,
    names: tuple[str, ...],
) -> tuple[np.ndarray, float, int]:
    """Minimise ``neg_ll`` over log-parameters; return parameters, log-likelihood, iterations."""
    # A four-parameter problem: BLAS threads only add hand-over costs (a
    # tenfold slowdown of L-BFGS-B's small matrix products on two cores).
    with _one_thread():
        result = optimize.minimize(
            neg_ll,
            np.log(start),
            jac=gradient,
            method="L-BFGS-B",
            bounds=[(-12.0, 12.0)] * len(start),
            options={"maxiter": 2_000, "ftol": 1e-15, "gtol": 1e-9},
        )
    value = float(np.asarray(result.fun).reshape(-1)[0])
    if not np.isfinite(value):
        raise ConfigError(f"the {'/'.join(names)} fit did not converge (log-likelihood {value})")
    return np.exp(result.x), -float(value), int(result.nit)


@dataclass
class FitInfo:
    """What a fit found: parameters, log-likelihood, customers, iterations and seconds."""

    params: dict[str, float]
    log_likelihood: float
    customers: int
    iterations: int
    seconds: float

    def to_dict(self) -> dict[str, Any]:
        return {
            "params": {k: round(v, 6) for k, v in self.params.items()},
            "log_likelihood": round(self.log_likelihood, 4),
            "customers": self.customers,
            "iterations": self.iterations,
            "seconds": round(self.seconds, 4),
        }


class RepeatModel:
    """A model of repeat purchasing: who is still active, and how often they will buy."""

    name = "repeat"
    param_names: tuple[str, ...] = ()

    def __init__(self) -> None:
        self.info: FitInfo | None = None

    @property
    def params(self) -> dict[str, float]:
        if self.info is None:
            raise ConfigError(f"the {self.name} model is not fitted yet")
        return self.info.params

    def fit_summary(self, summary: pd.DataFrame) -> RepeatModel:
        """Fit on an :func:`rfm_summary` frame (or any with frequency, recency, T)."""
        return self.fit(summary["frequency"], summary["recency"], summary["T"])

    def fit(self, frequency: Any, recency: Any, T: Any) -> RepeatModel:
        x, tx, big_t = _arrays(frequency, recency, T)
        _check_summary(x, tx, big_t)
        started = time.perf_counter()
        (ux, utx, ut), weights = _compress(x, tx, big_t)
        params, ll, iterations = self._fit(ux, utx, ut, weights)
        self.info = FitInfo(
            dict(zip(self.param_names, (float(p) for p in params), strict=True)),
            ll,
            len(x),
            iterations,
            time.perf_counter() - started,
        )
        return self

    def _fit(
        self, x: np.ndarray, tx: np.ndarray, T: np.ndarray, w: np.ndarray
    ) -> tuple[np.ndarray, float, int]:
        raise NotImplementedError

    def log_likelihood(self, frequency: Any, recency: Any, T: Any) -> np.ndarray:
        """Each customer's log-likelihood under the fitted parameters."""
        raise NotImplementedError

    def p_alive(self, frequency: Any, recency: Any, T: Any) -> np.ndarray:
        """Probability that each customer is still active at the end of their T."""
        raise NotImplementedError

    def expected_purchases(self, t: float, frequency: Any, recency: Any, T: Any) -> np.ndarray:
        """Expected repeat purchases of each customer in the next ``t`` periods."""
        raise NotImplementedError

    def expected_purchases_new(self, t: float) -> float:
        """Expected purchases in ``t`` periods by a customer who has just arrived."""
        raise NotImplementedError


def _arrays(frequency: Any, recency: Any, T: Any) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    return (
        np.asarray(frequency, dtype="float64"),
        np.asarray(recency, dtype="float64"),
        np.asarray(T, dtype="float64"),
    )


def _check_summary(x: np.ndarray, tx: np.ndarray, T: np.ndarray) -> None:
    if len(x) == 0:
        raise ConfigError("no customers to fit")
    if not (len(x) == len(tx) == len(T)):
        raise ConfigError("frequency, recency and T must have one value per customer")
    if np.any(x < 0) or np.any(tx < 0) or np.any(tx > T + 1e-9):
        raise ConfigError("need 0 ≤ recency ≤ T and frequency ≥ 0 for every customer")
    if np.any((x == 0) & (tx > 0)):
        raise ConfigError("a customer without repeat purchases must have recency 0")
    if not np.any(x > 0):
        raise ConfigError("no customer bought twice: repeat purchasing cannot be fitted")


class BetaGeo(RepeatModel):
    """BG/NBD: Poisson purchases at a gamma-distributed rate while active; after each
    purchase a customer drops out with a beta-distributed probability.

    Parameters: ``r``, ``alpha`` (gamma of the purchase rate) and ``a``, ``b``
    (beta of the dropout probability).
    """

    name = "bgnbd"
    param_names = ("r", "alpha", "a", "b")

    def _fit(
        self, x: np.ndarray, tx: np.ndarray, T: np.ndarray, w: np.ndarray
    ) -> tuple[np.ndarray, float, int]:
        positive = x > 0
        total = w.sum()

        def neg_ll(theta: np.ndarray) -> tuple[float, np.ndarray]:
            r, alpha, a, b = np.exp(theta)
            ll, grad = _bgnbd_terms(r, alpha, a, b, x, tx, T, positive, gradient=True)
            # Scaled by the customer count so the tolerances mean the same at any size.
            g = (grad @ w) * np.exp(theta)
            return -float(ll @ w) / total, -g / total

        start = np.array([1.0, max(float(np.average(T, weights=w)), 1e-3), 1.0, 1.0])
        params, mean_ll, iterations = _maximise(
            neg_ll, start, gradient=True, names=self.param_names
        )
        return params, mean_ll * total, iterations

    def log_likelihood(self, frequency: Any, recency: Any, T: Any) -> np.ndarray:
        x, tx, big_t = _arrays(frequency, recency, T)
        p = self.params
        ll, _ = _bgnbd_terms(p["r"], p["alpha"], p["a"], p["b"], x, tx, big_t, x > 0)
        return ll

    def _odds_dropped(self, x: np.ndarray, tx: np.ndarray, T: np.ndarray) -> np.ndarray:
        """a/(b+x-1) ((alpha+T)/(alpha+t_x))^(r+x) for repeat buyers, else 0."""
        p = self.params
        r, alpha, a, b = p["r"], p["alpha"], p["a"], p["b"]
        out = np.zeros_like(x)
        m = x > 0
        log_odds = (
            np.log(a)
            - np.log(b + x[m] - 1)
            + (r + x[m]) * (np.log(alpha + T[m]) - np.log(alpha + tx[m]))
        )
        out[m] = np.exp(np.minimum(log_odds, 700.0))
        return out

    def p_alive(self, frequency: Any, recency: Any, T: Any) -> np.ndarray:
        x, tx, big_t = _arrays(frequency, recency, T)
        return 1.0 / (1.0 + self._odds_dropped(x, tx, big_t))

    def expected_purchases(self, t: float, frequency: Any, recency: Any, T: Any) -> np.ndarray:
        x, tx, big_t = _arrays(frequency, recency, T)
        p = self.params
        r, alpha, a, b = p["r"], p["alpha"], p["a"], p["b"]
        hyp = special.hyp2f1(r + x, b + x, a + b + x - 1, t / (alpha + big_t + t))
        ratio = ((alpha + big_t) / (alpha + big_t + t)) ** (r + x)
        numerator = (a + b + x - 1) / (a - 1) * (1.0 - ratio * hyp)
        return numerator / (1.0 + self._odds_dropped(x, tx, big_t))

    def expected_purchases_new(self, t: float) -> float:
        p = self.params
        r, alpha, a, b = p["r"], p["alpha"], p["a"], p["b"]
        hyp = special.hyp2f1(r, b, a + b - 1, t / (alpha + t))
        return float((a + b - 1) / (a - 1) * (1.0 - (alpha / (alpha + t)) ** r * hyp))


def _bgnbd_terms(
    r: float,
    alpha: float,
    a: float,
    b: float,
    x: np.ndarray,
    tx: np.ndarray,
    T: np.ndarray,
    positive: np.ndarray,
    *,
    gradient: bool = False,
) -> tuple[np.ndarray, np.ndarray]:
    """Per-customer log-likelihood of FHL (2005) eq. 6 and, if asked, its gradient."""
    lg = special.gammaln
    a1 = lg(r + x) - lg(r) + r * np.log(alpha)
    a2 = lg(a + b) + lg(b + x) - lg(b) - lg(a + b + x)
    a3 = -(r + x) * np.log(alpha + T)
    a4 = np.full_like(x, -np.inf)
    xp = x[positive]
    a4[positive] = np.log(a) - np.log(b + xp - 1) - (r + xp) * np.log(alpha + tx[positive])
    tail = np.logaddexp(a3, a4)
    ll = a1 + a2 + tail
    if not gradient:
        return ll, np.empty(0)
    share4 = np.exp(a4 - tail)  # weight of the "dropped after the last purchase" term
    share3 = 1.0 - share4
    dg = special.digamma
    inv_b = np.zeros_like(x)
    inv_b[positive] = 1.0 / (b + xp - 1)
    d_r = dg(r + x) - dg(r) + np.log(alpha)
    d_r += share3 * -np.log(alpha + T) + share4 * -np.log(alpha + tx)
    d_alpha = r / alpha + share3 * -(r + x) / (alpha + T) + share4 * -(r + x) / (alpha + tx)
    d_a = dg(a + b) - dg(a + b + x) + share4 / a
    d_b = dg(a + b) + dg(b + x) - dg(b) - dg(a + b + x) - share4 * inv_b
    return ll, np.vstack([d_r, d_alpha, d_a, d_b])


class ParetoNBD(RepeatModel):
    """Pareto/NBD: Poisson purchases at a gamma rate, an exponential lifetime with a
    gamma-distributed dropout rate.

    Parameters: ``r``, ``alpha`` (purchase rate) and ``s``, ``beta`` (dropout
    rate). The likelihood needs the Gauss hypergeometric function; its
    gradient is taken numerically, so this fit is slower than BG/NBD's.
    """

    name = "paretonbd"
    param_names = ("r", "alpha", "s", "beta")

    def _fit(
        self, x: np.ndarray, tx: np.ndarray, T: np.ndarray, w: np.ndarray
    ) -> tuple[np.ndarray, float, int]:
        total = w.sum()

        def neg_ll(theta: np.ndarray) -> float:
            r, alpha, s, beta = np.exp(theta)
            ll = _pnbd_ll(r, alpha, s, beta, x, tx, T)
            value = -float(ll @ w) / total
            return value if np.isfinite(value) else 1e12

        start = np.array([0.5, max(float(np.average(T, weights=w)), 1e-3), 0.5, 10.0])
        params, mean_ll, iterations = _maximise(
            neg_ll, start, gradient=False, names=self.param_names
        )
        return params, mean_ll * total, iterations

    def log_likelihood(self, frequency: Any, recency: Any, T: Any) -> np.ndarray:
        x, tx, big_t = _arrays(frequency, recency, T)
        p = self.params
        return _pnbd_ll(p["r"], p["alpha"], p["s"], p["beta"], x, tx, big_t)

    def _log_a0_terms(
        self, x: np.ndarray, tx: np.ndarray, T: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray]:
        p = self.params
        return _pnbd_log_parts(p["r"], p["alpha"], p["s"], p["beta"], x, tx, T)

    def p_alive(self, frequency: Any, recency: Any, T: Any) -> np.ndarray:
        x, tx, big_t = _arrays(frequency, recency, T)
        log_alive, log_rest = self._log_a0_terms(x, tx, big_t)
        # P(alive) = alive term / (alive term + dropped-before-T term)
        return np.exp(log_alive - np.logaddexp(log_alive, log_rest))

    def expected_purchases(self, t: float, frequency: Any, recency: Any, T: Any) -> np.ndarray:
        x, tx, big_t = _arrays(frequency, recency, T)
        p = self.params
        r, alpha, s, beta = p["r"], p["alpha"], p["s"], p["beta"]
        alive = self.p_alive(x, tx, big_t)
        if abs(s - 1.0) < 1e-9:
            growth = np.log((beta + big_t + t) / (beta + big_t))
        else:
            growth = (1.0 - ((beta + big_t) / (beta + big_t + t)) ** (s - 1)) / (s - 1)
        return alive * (r + x) * (beta + big_t) / (alpha + big_t) * growth

    def expected_purchases_new(self, t: float) -> float:
        p = self.params
        r, alpha, s, beta = p["r"], p["alpha"], p["s"], p["beta"]
        if abs(s - 1.0) < 1e-9:
            return float(r * beta / alpha * math.log((beta + t) / beta))
        return float(r * beta / (alpha * (s - 1)) * (1.0 - (beta / (beta + t)) ** (s - 1)))


def _pnbd_log_parts(
    r: float, alpha: float, s: float, beta: float, x: np.ndarray, tx: np.ndarray, T: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """log of the "alive at T" term and of the "dropped out in (t_x, T]" term."""
    log_alive = -(r + x) * np.log(alpha + T) - s * np.log(beta + T)
    rsx = r + s + x
    big: float
    other: float | np.ndarray
    if alpha >= beta:
        big, other = alpha, s + 1.0
    else:
        big, other = beta, r + x
    diff = abs(alpha - beta)
    with np.errstate(divide="ignore", invalid="ignore"):
        l1 = np.log(special.hyp2f1(rsx, other, rsx + 1, diff / (big + tx))) - rsx * np.log(big + tx)
        l2 = np.log(special.hyp2f1(rsx, other, rsx + 1, diff / (big + T))) - rsx * np.log(big + T)
        log_a0 = l1 + np.log1p(-np.exp(np.minimum(l2 - l1, 0.0)))
    log_rest = np.log(s) - np.log(rsx) + log_a0
    return log_alive, log_rest


def _pnbd_ll(
    r: float, alpha: float, s: float, beta: float, x: np.ndarray, tx: np.ndarray, T: np.ndarray
) -> np.ndarray:
    lg = special.gammaln
    log_alive, log_rest = _pnbd_log_parts(r, alpha, s, beta, x, tx, T)
    head = lg(r + x) - lg(r) + r * np.log(alpha) + s * np.log(beta)
    return head + np.logaddexp(log_alive, log_rest)


class GammaGamma:
    """Gamma-Gamma spend model: each customer's mean transaction value is gamma
    distributed around a personal mean, itself inverse-gamma across customers.

    Parameters ``p``, ``q``, ``v``; fitted on repeat buyers (frequency > 0)
    with ``monetary`` the mean value of their repeat transactions.
    """

    name = "gamma_gamma"
    param_names = ("p", "q", "v")

    def __init__(self) -> None:
        self.info: FitInfo | None = None

    @property
    def params(self) -> dict[str, float]:
        if self.info is None:
            raise ConfigError("the Gamma-Gamma model is not fitted yet")
        return self.info.params

    def fit_summary(self, summary: pd.DataFrame) -> GammaGamma:
        return self.fit(summary["frequency"], summary["monetary"])

    def fit(self, frequency: Any, monetary: Any) -> GammaGamma:
        x = np.asarray(frequency, dtype="float64")
        m = np.asarray(monetary, dtype="float64")
        keep = (x > 0) & (m > 0)
        if keep.sum() < 3:
            raise ConfigError(
                "the spend model needs at least 3 repeat buyers with a positive spend"
            )
        started = time.perf_counter()
        (ux, um), w = _compress(x[keep], m[keep])
        total = w.sum()
        log_x, log_m = np.log(ux), np.log(um)

        def neg_ll(theta: np.ndarray) -> tuple[float, np.ndarray]:
            p, q, v = np.exp(theta)
            px = p * ux
            lv = np.log(v + ux * um)
            ll = (
                special.gammaln(px + q)
                - special.gammaln(px)
                - special.gammaln(q)
                + q * np.log(v)
                + (px - 1) * log_m
                + px * log_x
                - (px + q) * lv
            )
            dg = special.digamma
            d_p = ux * (dg(px + q) - dg(px) + log_m + log_x - lv)
            d_q = dg(px + q) - dg(q) + np.log(v) - lv
            d_v = q / v - (px + q) / (v + ux * um)
            grad = np.array([d_p @ w, d_q @ w, d_v @ w]) * np.exp(theta)
            return -float(ll @ w) / total, -grad / total

        start = np.array([1.0, 2.0, max(float(np.average(um, weights=w)), 1e-3)])
        params, mean_ll, iterations = _maximise(
            neg_ll, start, gradient=True, names=self.param_names
        )
        self.info = FitInfo(
            dict(zip(self.param_names, (float(p) for p in params), strict=True)),
            mean_ll * total,
            int(keep.sum()),
            iterations,
            time.perf_counter() - started,
        )
        return self

    @property
    def population_mean(self) -> float:
        """Expected mean transaction value of a customer with no history: p v / (q - 1)."""
        p = self.params
        if p["q"] <= 1:
            raise ConfigError("the spend model's q ≤ 1: the population mean spend is infinite")
        return p["p"] * p["v"] / (p["q"] - 1)

    def expected_spend(self, frequency: Any, monetary: Any) -> np.ndarray:
        """Each customer's expected mean transaction value; the population mean without
        repeat purchases."""
        x = np.asarray(frequency, dtype="float64")
        m = np.asarray(monetary, dtype="float64")
        p = self.params
        pp, q, v = p["p"], p["q"], p["v"]
        return np.where(x > 0, pp * (v + x * m) / (pp * x + q - 1), self.population_mean)


def repeat_model(name: str) -> RepeatModel:
    """A new, unfitted repeat-purchase model by name: ``bgnbd`` or ``paretonbd``."""
    if name == "bgnbd":
        return BetaGeo()
    if name == "paretonbd":
        return ParetoNBD()
    raise ConfigError(f"unknown lifetime model {name!r}; use bgnbd or paretonbd")


def lifetime_value(
    model: RepeatModel,
    spend: GammaGamma,
    summary: pd.DataFrame,
    *,
    months: int = 12,
    annual_discount: float = 0.10,
    period_days: float = 7.0,
    margin: float = 1.0,
) -> np.ndarray:
    """Discounted expected value of each customer over the next ``months``.

    Month by month (30 days), the expected purchases of that month times the
    expected transaction value times ``margin``, discounted at the monthly
    equivalent of ``annual_discount``.
    """
    if months < 1:
        raise ConfigError(f"months must be at least 1, got {months}")
    if not 0 <= annual_discount < 1:
        raise ConfigError(f"annual_discount must be in [0, 1), got {annual_discount}")
    x, tx, big_t = _arrays(summary["frequency"], summary["recency"], summary["T"])
    value = spend.expected_spend(x, summary["monetary"]) * margin
    monthly = (1.0 + annual_discount) ** (1.0 / 12.0) - 1.0
    total = np.zeros_like(x)
    before = np.zeros_like(x)
    for month in range(1, months + 1):
        upto = model.expected_purchases(month * 30.0 / period_days, x, tx, big_t)
        total += (upto - before) / (1.0 + monthly) ** month
        before = upto
    return total * value


@dataclass
class HoldoutCheck:
    """A calibration/holdout check: per customer and in total."""

    model: str
    calibration_end: pd.Timestamp
    holdout_end: pd.Timestamp
    holdout_periods: float
    fit: FitInfo
    customers: pd.DataFrame  # frequency, recency, T, p_alive, actual, predicted
    totals: dict[str, float] = field(default_factory=dict)
    by_frequency: list[dict[str, Any]] = field(default_factory=list)

    def to_dict(self, *, per_customer: bool = False) -> dict[str, Any]:
        out: dict[str, Any] = {
            "model": self.model,
            "calibration_end": str(self.calibration_end.date()),
            "holdout_end": str(self.holdout_end.date()),
            "holdout_periods": round(self.holdout_periods, 4),
            "fit": self.fit.to_dict(),
            "totals": {k: _round(v) for k, v in self.totals.items()},
            "by_frequency": self.by_frequency,
        }
        if per_customer:
            frame = self.customers.reset_index()
            frame.columns = [str(c) for c in frame.columns]
            out["customers"] = frame.round(4).to_dict(orient="records")
        return out


def _round(v: float) -> float | int:
    return v if isinstance(v, int) else round(float(v), 4)


def holdout_check(
    transactions: pd.DataFrame,
    calibration_end: pd.Timestamp | str,
    holdout_end: pd.Timestamp | str | None = None,
    *,
    model: str = "bgnbd",
    period_days: float = 7.0,
    customer: str = "customer_id",
    at: str = "at",
    value: str = "value",
) -> HoldoutCheck:
    """Fit on purchases up to ``calibration_end``, predict each customer's repeat
    purchases up to ``holdout_end`` (default: the last purchase day) and compare.

    Only customers who bought by the calibration end are scored (the model
    says nothing of customers it has not met). Baselines: predicting zero
    for everyone, and each customer's calibration rate of repeat purchases
    carried on through the holdout.
    """
    cal_end = pd.Timestamp(calibration_end).normalize()
    days = _customer_days(transactions, customer=customer, at=at, value=value)
    last_day = days["day"].max()
    end = last_day if holdout_end is None else pd.Timestamp(holdout_end).normalize()
    if end <= cal_end:
        raise ConfigError(
            f"the holdout end {end.date()} must come after the calibration end {cal_end.date()}"
            + (" (the data ends there)" if holdout_end is None else "")
        )
    summary = rfm_summary(
        transactions, cal_end, period_days=period_days, customer=customer, at=at, value=value
    )
    fitted = repeat_model(model).fit_summary(summary)
    assert fitted.info is not None
    horizon = (end - cal_end).days / period_days
    window = days[(days["day"] > cal_end) & (days["day"] <= end)]
    actual = window.groupby("customer").size().reindex(summary.index, fill_value=0)
    x, tx, big_t = _arrays(summary["frequency"], summary["recency"], summary["T"])
    predicted = fitted.expected_purchases(horizon, x, tx, big_t)
    per = summary[["frequency", "recency", "T"]].copy()
    per["p_alive"] = fitted.p_alive(x, tx, big_t)
    per["actual"] = actual.to_numpy()
    per["predicted"] = predicted
    err = per["predicted"] - per["actual"]
    rate = per["frequency"] / per["T"].where(per["T"] > 0)
    naive = (rate.fillna(0.0) * horizon - per["actual"]).abs()
    act_total = float(per["actual"].sum())
    pred_total = float(per["predicted"].sum())
    totals: dict[str, float] = {
        "customers": len(per),
        "actual": act_total,
        "predicted": pred_total,
        "relative_error": (pred_total - act_total) / act_total if act_total else float("nan"),
        "mae": float(err.abs().mean()),
        "rmse": float(np.sqrt((err**2).mean())),
        "pearson_r": float(np.corrcoef(per["actual"], per["predicted"])[0, 1]),
        "mae_zero": float(per["actual"].abs().mean()),
        "rmse_zero": float(np.sqrt((per["actual"] ** 2).mean())),
        "mae_rate": float(naive.mean()),
    }
    bucket = per["frequency"].clip(upper=7)
    by_frequency = []
    for k, group in per.groupby(bucket):
        by_frequency.append(
            {
                "frequency": f"{int(k)}+" if k == 7 else str(int(k)),
                "customers": len(group),
                "actual_mean": round(float(group["actual"].mean()), 4),
                "predicted_mean": round(float(group["predicted"].mean()), 4),
            }
        )
    return HoldoutCheck(model, cal_end, end, horizon, fitted.info, per, totals, by_frequency)
