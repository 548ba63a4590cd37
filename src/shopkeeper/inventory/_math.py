"""The textbook pieces of an inventory policy, vectorised over product-locations.

Every function takes and returns numpy arrays (or floats) of the same shape,
one entry per product-location; units are units of stock and days.

- :func:`lead_time_demand_sigma`: the spread of demand over a lead time,
  fixed or variable (``sqrt(L·σ_d² + d²·σ_L²)``);
- :func:`safety_stock_normal`: ``z·σ_LTD`` for a cycle service level;
- :func:`normal_loss` and :func:`fill_rate_factor`: the safety factor that
  meets a fill-rate target (the standard normal loss function);
- :func:`count_quantile`: the Poisson or negative-binomial quantile for slow
  movers, where a normal with a few units of mean puts real mass below zero;
- :func:`economic_order_quantity`: ``sqrt(2·D·K / (h·c))``.
"""

from __future__ import annotations

import numpy as np
from scipy import stats

from shopkeeper.errors import ConfigError

DAYS_PER_YEAR = 365.0


def _array(x: np.ndarray | float) -> np.ndarray:
    return np.asarray(x, dtype=float)


def lead_time_demand_sigma(
    demand_per_day: np.ndarray | float,
    sigma_per_day: np.ndarray | float,
    lead_time: np.ndarray | float,
    lead_time_sigma: np.ndarray | float = 0.0,
) -> np.ndarray:
    """Standard deviation of demand over a lead time of ``lead_time`` days.

    With daily demand independent from day to day (mean ``d``, deviation
    ``σ_d``) and a lead time independent of demand (mean ``L``, deviation
    ``σ_L``): ``σ_LTD = sqrt(L·σ_d² + d²·σ_L²)``. A fixed lead time is
    ``σ_L = 0``, leaving ``σ_d·sqrt(L)``.
    """
    d, sd, lead, sl = (
        _array(v) for v in (demand_per_day, sigma_per_day, lead_time, lead_time_sigma)
    )
    return np.sqrt(lead * sd**2 + d**2 * sl**2)


def check_service_level(level: np.ndarray | float, name: str = "service level") -> np.ndarray:
    """``level`` as an array, refused unless every value lies strictly between 0 and 1."""
    out = _array(level)
    bad = ~((out > 0) & (out < 1))
    if bad.any():
        value = out[bad].flat[0] if out.ndim else float(out)
        raise ConfigError(f"the {name} must lie strictly between 0 and 1, got {value:g}")
    return out


def safety_factor(service_level: np.ndarray | float) -> np.ndarray:
    """The normal quantile ``z`` with ``P(Z ≤ z) = service_level`` (the cycle service level)."""
    return np.asarray(stats.norm.ppf(check_service_level(service_level)), dtype=float)


def safety_stock_normal(
    sigma_ltd: np.ndarray | float, service_level: np.ndarray | float
) -> np.ndarray:
    """``z·σ_LTD``: the stock that covers lead-time demand with probability ``service_level``.

    The cycle service level is the probability that a replenishment cycle
    ends without a stock-out, when lead-time demand is normal.
    """
    return safety_factor(service_level) * _array(sigma_ltd)


def normal_loss(k: np.ndarray | float) -> np.ndarray:
    """The standard normal loss function ``G(k) = φ(k) − k·(1 − Φ(k))``.

    ``σ·G(k)`` is the expected shortage per cycle when the reorder point sits
    ``k`` standard deviations above the mean lead-time demand.
    """
    z = _array(k)
    return np.asarray(stats.norm.pdf(z) - z * stats.norm.sf(z), dtype=float)


def fill_rate_factor(
    fill_rate: np.ndarray | float,
    sigma_ltd: np.ndarray | float,
    order_quantity: np.ndarray | float,
) -> np.ndarray:
    """The safety factor ``k`` that serves a share ``fill_rate`` of demand from the shelf.

    Each cycle sells about ``Q`` units and is short ``σ·G(k)`` of them, so the
    fill rate is ``1 − σ·G(k)/Q``: solve ``G(k) = (1 − β)·Q/σ`` for ``k``
    (bisection; ``G`` falls monotonically). ``k`` is held to [−4, 6]: below,
    the target is met with no stock at all; above, it cannot be met by the
    reorder point alone. Where ``σ`` is 0, ``k`` is 0 (no spread to cover).
    """
    beta = check_service_level(fill_rate, "fill rate")
    sigma = _array(sigma_ltd)
    q = np.maximum(_array(order_quantity), 0.0)
    target = np.divide(
        (1 - beta) * q,
        sigma,
        out=np.full(np.broadcast(beta, sigma, q).shape, np.inf),
        where=sigma > 0,
    )
    lo = np.full(target.shape, -4.0)
    hi = np.full(target.shape, 6.0)
    for _ in range(60):  # 2^-60 of a 10-wide interval: exact in floats
        mid = (lo + hi) / 2
        short = normal_loss(mid) > target  # too much shortage: raise k
        lo = np.where(short, mid, lo)
        hi = np.where(short, hi, mid)
    k = (lo + hi) / 2
    return np.where(sigma > 0, k, 0.0)


def count_quantile(
    mean: np.ndarray | float, sigma: np.ndarray | float, level: np.ndarray | float
) -> np.ndarray:
    """The smallest whole ``x`` with ``P(X ≤ x) ≥ level`` for counted demand ``X``.

    ``X`` is Poisson with the given mean when its variance does not exceed the
    mean, else negative binomial with that mean and variance (``n = μ²/(v−μ)``,
    ``p = μ/v``): the usual shape of a slow mover's lead-time demand, which is
    skewed, whole and never negative.
    """
    mu = np.maximum(_array(mean), 0.0)
    var = _array(sigma) ** 2
    q = check_service_level(level)
    mu, var, q = np.broadcast_arrays(mu, var, q)
    out = np.zeros(mu.shape)
    positive = mu > 0
    poisson = positive & (var <= mu * (1 + 1e-9))
    negbin = positive & ~poisson
    out[poisson] = stats.poisson.ppf(q[poisson], mu[poisson])
    n = mu[negbin] ** 2 / (var[negbin] - mu[negbin])
    out[negbin] = stats.nbinom.ppf(q[negbin], n, mu[negbin] / var[negbin])
    return out


def economic_order_quantity(
    annual_demand: np.ndarray | float,
    order_cost: np.ndarray | float,
    unit_cost: np.ndarray | float,
    holding_cost_rate: np.ndarray | float,
) -> np.ndarray:
    """``sqrt(2·D·K / (h·c))``: the order size with the least ordering plus holding cost.

    ``D`` units a year, ``K`` per order, ``c`` per unit and ``h`` the yearly
    holding cost as a share of ``c``. Where holding costs nothing (``h·c = 0``)
    the answer is infinite: bound it by the caller's cover limit.
    """
    d, k, c, h = (_array(v) for v in (annual_demand, order_cost, unit_cost, holding_cost_rate))
    if (d < 0).any() or (k < 0).any() or (c < 0).any() or (h < 0).any():
        raise ConfigError("EOQ inputs (demand, order cost, unit cost, holding rate) must be >= 0")
    per_unit = h * c
    with np.errstate(divide="ignore", invalid="ignore"):
        q = np.sqrt(2 * d * k / per_unit)
    return np.where(d * k == 0, 0.0, np.where(per_unit > 0, q, np.inf))
